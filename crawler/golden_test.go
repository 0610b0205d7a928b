package crawler

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"gopkg.in/yaml.v3"

	"github.com/patrol-dev/patrol/listing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// exampleConfig mirrors the marketplace part of patrol.yaml (config.Marketplace)
// so that the shipped examples are decoded with unknown keys refused,
// without the crawler importing config.
type exampleConfig struct {
	Marketplaces []struct {
		Name           string   `yaml:"name"`
		SearchURL      string   `yaml:"search_url"`
		AllowedDomains []string `yaml:"allowed_domains"`
		Rate           struct {
			RequestsPerSecond float64 `yaml:"requests_per_second"`
			Burst             int     `yaml:"burst"`
		} `yaml:"rate"`
		Concurrency   int    `yaml:"concurrency"`
		MaxPages      int    `yaml:"max_pages"`
		RespectRobots bool   `yaml:"respect_robots"`
		UserAgent     string `yaml:"user_agent"`
		Timeout       string `yaml:"timeout"`
		MaxBodyBytes  int64  `yaml:"max_body_bytes"`
		RemovedMarker string `yaml:"removed_marker"`
		Selectors     struct {
			ResultLink  string `yaml:"result_link"`
			NextPage    string `yaml:"next_page"`
			Title       string `yaml:"title"`
			Price       string `yaml:"price"`
			Currency    string `yaml:"currency"`
			Seller      string `yaml:"seller"`
			Images      string `yaml:"images"`
			Description string `yaml:"description"`
		} `yaml:"selectors"`
	} `yaml:"marketplaces"`
}

// exampleSelectors loads examples/marketplaces/NAME.yaml.
func exampleSelectors(t *testing.T, name string) Selectors {
	t.Helper()
	path := filepath.Join("..", "examples", "marketplaces", name+".yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var cfg exampleConfig
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(cfg.Marketplaces) != 1 {
		t.Fatalf("%s: %d marketplaces, want 1", path, len(cfg.Marketplaces))
	}
	m := cfg.Marketplaces[0]
	if !strings.Contains(m.SearchURL, "{query}") {
		t.Errorf("%s: search_url without {query}", path)
	}
	s := m.Selectors
	return Selectors{ResultLink: s.ResultLink, NextPage: s.NextPage, Title: s.Title, Price: s.Price,
		Currency: s.Currency, Seller: s.Seller, Images: s.Images, Description: s.Description}
}

// fixture is one entry of testdata/marketplaces/index.json.
type fixture struct {
	PageType     string `json:"page_type"`
	URL          string `json:"url"`
	File         string `json:"file"`
	Marketplace  string `json:"marketplace"`
	ExpectedFile string `json:"expected_file"`
}

func fixtures(t testing.TB) []fixture {
	var fs []fixture
	readJSON(t, "marketplaces/index.json", &fs)
	return fs
}

// expected is the union of the ground-truth formats in the fixtures.
type expected struct {
	GroundTruth struct {
		Price    []string `json:"price"`
		Currency []string `json:"currency"`
	} `json:"ground_truth"`
	Price  *float64 `json:"price"`
	Parsed struct {
		Results []struct {
			URL   string `json:"url"`
			Title string `json:"title"`
		} `json:"results"`
	} `json:"parsed"`
	ProductsCount int               `json:"products_count"`
	Selectors     map[string]string `json:"selectors"`
}

// rowSelectors translates the XPath row selectors ground truths publish
// with a products_count into CSS.
var rowSelectors = map[string]string{
	`//ul[contains(@class, "srp-results")]/li`: "ul.srp-results > li",
}

// currencyMatches accepts an ISO code for the symbol a ground truth uses.
func currencyMatches(symbol, iso string) bool {
	switch symbol {
	case "$":
		return strings.HasSuffix(iso, "D") // USD, CAD, AUD, …
	case "Rs":
		return iso == "PKR" || iso == "INR"
	}
	return currencyOf(symbol) == iso
}

type score struct{ right, published int }

// TestExtractionGolden extracts every saved marketplace page with its
// site's shipped example config, compares the fields its ground truth
// publishes, prints the score per site and checks the golden output.
func TestExtractionGolden(t *testing.T) {
	scores := map[string]*score{}
	for _, fx := range fixtures(t) {
		if fx.ExpectedFile == "" {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(fx.File), ".html")
		t.Run(name, func(t *testing.T) {
			sel := exampleSelectors(t, fx.Marketplace)
			body, err := os.ReadFile(filepath.Join("testdata", "marketplaces", fx.File))
			if err != nil {
				t.Fatal(err)
			}
			var exp expected
			readJSON(t, filepath.Join("marketplaces", fx.ExpectedFile), &exp)
			sc := scores[fx.Marketplace+" "+fx.PageType]
			if sc == nil {
				sc = &score{}
				scores[fx.Marketplace+" "+fx.PageType] = sc
			}
			var got any
			if fx.PageType == "search" {
				got = checkSearchPage(t, fx, body, sel, exp, sc)
			} else {
				got = checkItemPage(t, fx, body, sel, exp, sc)
			}
			compareGolden(t, name, got)
		})
	}
	keys := make([]string, 0, len(scores))
	for k := range scores {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s := scores[k]
		t.Logf("extraction score %-24s %4d/%-4d = %5.1f%%", k, s.right, s.published, 100*float64(s.right)/float64(max(s.published, 1)))
	}
}

func checkItemPage(t *testing.T, fx fixture, body []byte, sel Selectors, exp expected, sc *score) listing.Listing {
	l, err := Extract(fx.URL, body, "text/html", sel)
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	var wantPrice float64
	havePrice := false
	if exp.Price != nil {
		wantPrice, havePrice = *exp.Price, true
	} else if len(exp.GroundTruth.Price) > 0 {
		v, err := parseAmount(exp.GroundTruth.Price[0])
		if err != nil {
			t.Fatalf("ground truth price %q: %v", exp.GroundTruth.Price[0], err)
		}
		wantPrice, havePrice = v, true
	}
	if havePrice {
		sc.published++
		if math.Abs(l.Price-wantPrice) < 0.005 {
			sc.right++
		} else {
			t.Errorf("price = %v (%q from %s), want %v", l.Price, l.PriceText, l.Sources["price"], wantPrice)
		}
	}
	if len(exp.GroundTruth.Currency) > 0 {
		sc.published++
		if currencyMatches(exp.GroundTruth.Currency[0], l.Currency) {
			sc.right++
		} else {
			t.Errorf("currency = %q (from %s), want %q", l.Currency, l.Sources["currency"], exp.GroundTruth.Currency[0])
		}
	}
	if l.Title == "" {
		t.Errorf("no title")
	}
	if len(l.Description) > 200 {
		l.Description = l.Description[:200]
	}
	return l
}

func checkSearchPage(t *testing.T, fx fixture, body []byte, sel Selectors, exp expected, sc *score) []string {
	doc, _, err := parseHTML(body, "text/html")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(fx.URL)
	links := resultLinks(doc, base, sel.ResultLink)
	have := map[string]bool{}
	for _, l := range links {
		have[l] = true
	}
	if exp.ProductsCount > 0 {
		// The ground truth counts result rows; a row is right when a
		// link we found is in it. Rows that hold no listing (pagination,
		// messages) cannot be right.
		css, ok := rowSelectors[exp.Selectors["products"]]
		if !ok {
			t.Fatalf("no CSS for row selector %q", exp.Selectors["products"])
		}
		rows := doc.Find(css)
		if rows.Length() != exp.ProductsCount {
			t.Errorf("%d rows, ground truth counts %d", rows.Length(), exp.ProductsCount)
		}
		right := 0
		rows.Each(func(_ int, row *goquery.Selection) {
			hit := false
			row.Find("a[href]").Each(func(_ int, a *goquery.Selection) {
				if cu, err := listing.CanonicalURL(resolve(base, a.AttrOr("href", ""))); err == nil && have[cu] {
					hit = true
				}
			})
			if hit {
				right++
			}
		})
		sc.published += exp.ProductsCount
		sc.right += right
		t.Logf("%d links found in %d of %d published rows", len(links), right, exp.ProductsCount)
		if float64(right) < 0.95*float64(exp.ProductsCount) {
			t.Errorf("links found in %d of %d rows, want >= 95%%", right, exp.ProductsCount)
		}
	}
	var missing []string
	for _, r := range exp.Parsed.Results {
		sc.published++
		cu, err := listing.CanonicalURL(r.URL)
		if err != nil {
			t.Fatalf("expected url %q: %v", r.URL, err)
		}
		if have[cu] {
			sc.right++
		} else {
			missing = append(missing, cu)
		}
	}
	if n := len(exp.Parsed.Results); n > 0 && float64(n-len(missing)) < 0.95*float64(n) {
		t.Errorf("%d of %d expected result links found, want >= 95%%", n-len(missing), n)
	}
	if len(missing) > 0 {
		t.Logf("%d of %d expected result links missing, first: %.200s", len(missing), len(exp.Parsed.Results), missing[0])
	}
	return links
}

func compareGolden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./crawler -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("extraction of %s differs from %s:\n%s", name, golden, firstDiff(got, want))
	}
}

func firstDiff(got, want []byte) string {
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			return fmt.Sprintf("line %d:\n got  %.200s\n want %.200s", i+1, g, w)
		}
	}
	return ""
}

// TestCharsetGBK checks that the GBK JD.com search page (charset only in a
// meta tag, past the first 1024 bytes) is decoded: the result titles match
// the ground truth's.
func TestCharsetGBK(t *testing.T) {
	body, err := os.ReadFile("testdata/marketplaces/jd/search-jd-com-1368578723.html")
	if err != nil {
		t.Fatal(err)
	}
	var exp expected
	readJSON(t, "marketplaces/jd/search-jd-com-1368578723.expected.json", &exp)
	doc, _, err := parseHTML(body, "text/html")
	if err != nil {
		t.Fatal(err)
	}
	titles := map[string]bool{}
	doc.Find("li[sku] .p-name a").Each(func(_ int, s *goquery.Selection) {
		titles[cleanText(s.Text())] = true
	})
	right := 0
	for _, r := range exp.Parsed.Results {
		want := cleanText(strings.NewReplacer("<em>", "", "</em>", "").Replace(r.Title))
		if titles[want] {
			right++
		}
	}
	if len(exp.Parsed.Results) == 0 || right < len(exp.Parsed.Results)*95/100 {
		t.Errorf("%d of %d GBK result titles decoded right", right, len(exp.Parsed.Results))
	}
	t.Logf("GBK titles right: %d/%d", right, len(exp.Parsed.Results))
}

// TestBlockDetection: the Amazon robot-check page is a block page; no real
// item or search page in the fixtures is taken for one.
func TestBlockDetection(t *testing.T) {
	for _, fx := range fixtures(t) {
		body, err := os.ReadFile(filepath.Join("testdata", "marketplaces", fx.File))
		if err != nil {
			t.Fatal(err)
		}
		doc, _, err := parseHTML(body, "text/html")
		if err != nil {
			t.Fatal(err)
		}
		want := fx.PageType == "blocked"
		if got := isBlockPage(doc); got != want {
			t.Errorf("isBlockPage(%s) = %v, want %v", fx.File, got, want)
		}
	}
}
