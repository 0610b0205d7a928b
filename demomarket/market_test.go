package demomarket

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/corona10/goimagehash"
	"golang.org/x/net/html"
)

// shared is the seed-1 market of the tests that do not change it; building
// a market costs a second or two.
var shared = sync.OnceValue(func() *Market { return New(Options{Seed: 1}) })

func get(t *testing.T, h http.Handler, path string) (int, string, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String(), rec.Header()
}

func TestDeterministic(t *testing.T) {
	a, b := shared(), New(Options{Seed: 1})
	ha, hb := a.Handler(), b.Handler()
	paths := []string{"/robots.txt", "/", "/search?q=nordvik&page=1", "/search?q=lumora&page=3"}
	for i, it := range a.Items() {
		paths = append(paths, it.Path)
		if i%8 == 0 {
			paths = append(paths, "/img/"+it.Images[0])
		}
	}
	for _, p := range paths {
		ca, ba, _ := get(t, ha, p)
		cb, bb, _ := get(t, hb, p)
		if ca != cb || ba != bb {
			t.Fatalf("GET %s differs between two markets of seed 1 (%d vs %d)", p, ca, cb)
		}
	}
	if a.Stats() != b.Stats() {
		t.Errorf("Stats differ")
	}
	c := New(Options{Seed: 2})
	if fmt.Sprint(c.Labels()) == fmt.Sprint(a.Labels()) {
		t.Errorf("seeds 1 and 2 give the same catalogue")
	}
	if strings.Split(c.Stats(), "\n")[1] != strings.Split(a.Stats(), "\n")[1] {
		t.Errorf("seeds 1 and 2 differ in class counts:\n%s\n%s", a.Stats(), c.Stats())
	}
}

func TestLabels(t *testing.T) {
	m := shared()
	labels := m.Labels()
	if n := len(labels); n < 150 || n > 250 {
		t.Errorf("len(Labels()) = %d, want 150..250", n)
	}
	classes := map[Class]int{}
	tricks := map[string]int{}
	ids := map[string]bool{}
	for _, l := range labels {
		classes[l.Class]++
		if ids[l.ID] {
			t.Errorf("duplicate ID %s", l.ID)
		}
		ids[l.ID] = true
		if l.Path != "/item/"+l.ID {
			t.Errorf("Label %s Path = %q", l.ID, l.Path)
		}
		if l.Class == ClassCounterfeit && len(l.Tricks) == 0 {
			t.Errorf("counterfeit %s has no tricks", l.ID)
		}
		if l.Class != ClassCounterfeit && len(l.Tricks) != 0 {
			t.Errorf("%s %s has tricks %v", l.Class, l.ID, l.Tricks)
		}
		for _, tr := range l.Tricks {
			tricks[tr]++
		}
	}
	for _, tt := range []struct {
		class Class
		min   int
	}{{ClassCounterfeit, 60}, {ClassGenuine, 10}, {ClassResale, 20}, {ClassAccessory, 15}, {ClassUnrelated, 25}} {
		if classes[tt.class] < tt.min {
			t.Errorf("%s listings = %d, want >= %d", tt.class, classes[tt.class], tt.min)
		}
	}
	for _, tr := range Tricks() {
		if tricks[tr] < 3 {
			t.Errorf("trick %s used %d times, want >= 3", tr, tricks[tr])
		}
	}
}

// The image test checks with goimagehash, the library patrol's imagehash
// package builds on, that no base photo is within 20 bits of a brand photo
// (pHash and dHash) and that brand photos are apart from each other.
func TestPhotosDistinctFromBrandPhotos(t *testing.T) {
	m := shared()
	type hashes struct{ p, d *goimagehash.ImageHash }
	hash := func(name string) hashes {
		b, ok := m.ImageBytes(name)
		if !ok {
			t.Fatalf("ImageBytes(%q) missing", name)
		}
		img, _, err := image.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("decode %s: %v", name, err)
		}
		if w := img.Bounds().Dx(); w < 400 || w > 800 {
			t.Errorf("%s is %d px wide", name, w)
		}
		p, err := goimagehash.PerceptionHash(img)
		if err != nil {
			t.Fatal(err)
		}
		d, err := goimagehash.DifferenceHash(img)
		if err != nil {
			t.Fatal(err)
		}
		return hashes{p, d}
	}
	var brand, other []string
	for _, n := range m.ImageNames() {
		e := m.images[n]
		switch {
		case e.pic == nil:
		case e.brand:
			brand = append(brand, n)
		default:
			other = append(other, n)
		}
	}
	if len(brand) != 16 {
		t.Fatalf("brand photos = %d, want 16", len(brand))
	}
	hs := map[string]hashes{}
	for _, n := range append(append([]string(nil), brand...), other...) {
		hs[n] = hash(n)
	}
	check := func(a, b string) {
		dp, _ := hs[a].p.Distance(hs[b].p)
		dd, _ := hs[a].d.Distance(hs[b].d)
		if dp <= 20 || dd <= 20 {
			t.Errorf("photos %s and %s: pHash distance %d, dHash distance %d, want > 20", a, b, dp, dd)
		}
	}
	for i, a := range brand {
		for _, b := range brand[i+1:] {
			check(a, b)
		}
		for _, b := range other {
			check(a, b)
		}
	}
}

func TestReusedPhotosStayClose(t *testing.T) {
	m := shared()
	for _, n := range m.ImageNames() {
		e := m.images[n]
		// mirrors, crops and padding move pHash a lot by design: the
		// matcher needs its mirror and crop hashes for them.
		if e.base == "" || e.tf == tfMirror || e.tf == tfPad || e.tf == tfCrop {
			continue
		}
		dec := func(name string) *goimagehash.ImageHash {
			b, _ := m.ImageBytes(name)
			img, _, err := image.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("decode %s: %v", name, err)
			}
			h, _ := goimagehash.PerceptionHash(img)
			return h
		}
		d, _ := dec(n).Distance(dec(e.base))
		if d > 16 {
			t.Errorf("reused photo %s (%s of %s): pHash distance %d, want <= 16", n, e.tf, e.base, d)
		}
	}
}

func TestSearch(t *testing.T) {
	m := shared()
	h := m.Handler()
	link := regexp.MustCompile(`<a class="item-link" href="(/item/[0-9a-f]+)">`)
	next := regexp.MustCompile(`<a class="next" href="([^"]+)">`)
	for _, tt := range []struct {
		query string
		min   int
	}{{"nordvik", 60}, {"lumora", 60}, {"NORD", 60}, {"fjell", 10}, {"zzzz", 0}} {
		t.Run(tt.query, func(t *testing.T) {
			seen := map[string]bool{}
			path := "/search?q=" + tt.query + "&page=1"
			pages := 0
			for path != "" {
				code, body, _ := get(t, h, strings.ReplaceAll(path, "&amp;", "&"))
				if code != 200 {
					t.Fatalf("GET %s = %d", path, code)
				}
				pages++
				found := link.FindAllStringSubmatch(body, -1)
				if len(found) > PageSize {
					t.Errorf("GET %s: %d results, want <= %d", path, len(found), PageSize)
				}
				for _, f := range found {
					if seen[f[1]] {
						t.Errorf("%s listed twice", f[1])
					}
					seen[f[1]] = true
				}
				path = ""
				if n := next.FindStringSubmatch(body); n != nil {
					path = n[1]
				}
			}
			if want := len(m.Search(tt.query)); len(seen) != want || want < tt.min {
				t.Errorf("crawl of %q found %d listings, Search %d, want >= %d", tt.query, len(seen), want, tt.min)
			}
			// past the end
			_, body, _ := get(t, h, "/search?q="+tt.query+"&page="+strconv.Itoa(pages+1))
			if !strings.Contains(body, "No results") || link.MatchString(body) || next.MatchString(body) {
				t.Errorf("page %d of %q: want No results and no links", pages+1, tt.query)
			}
		})
	}
	// every listing is reachable by its brand's query or its own words
	all := map[string]bool{}
	for _, q := range []string{"nordvik", "lumora"} {
		for _, it := range m.Search(q) {
			all[it.ID] = true
		}
	}
	if len(all) != len(m.Items()) {
		t.Errorf("brand queries reach %d of %d listings", len(all), len(m.Items()))
	}
}

func TestMatches(t *testing.T) {
	it := &Item{Title: "N.O.R.D.V.I.K Storm Parka - 高仿", Keywords: []string{"nordvik", "storm"}}
	for _, tt := range []struct {
		q    string
		want bool
	}{{"nordvik", true}, {"Nord", true}, {"parka", true}, {"STO", true}, {"vik", false}, {"arka", false}, {"高仿", true}, {"", false}} {
		if got := matches(tokens(tt.q), it); got != tt.want {
			t.Errorf("matches(%q) = %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestRobots(t *testing.T) {
	code, body, hdr := get(t, shared().Handler(), "/robots.txt")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /robots.txt = %d %s", code, hdr.Get("Content-Type"))
	}
	for _, want := range []string{"User-agent: *", "Disallow: /account/", "Disallow: /cart/", "Allow: /"} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("robots.txt lacks %q", want)
		}
	}
}

func TestRemove(t *testing.T) {
	m := New(Options{Seed: 1})
	for _, tt := range []struct {
		style RemovedStyle
		code  int
	}{{RemovedNotFound, 404}, {RemovedGone, 410}, {RemovedNotice, 200}} {
		t.Run(strconv.Itoa(int(tt.style)), func(t *testing.T) {
			m.SetRemovedStyle(tt.style)
			h := m.Handler()
			it := m.Items()[0]
			if code, _, _ := get(t, h, it.Path); code != 200 {
				t.Fatalf("GET %s = %d before removal", it.Path, code)
			}
			m.Remove(it.ID)
			code, body, _ := get(t, h, it.Path)
			if code != tt.code {
				t.Errorf("GET %s after Remove = %d, want %d", it.Path, code, tt.code)
			}
			if tt.style == RemovedNotice && !strings.Contains(body, RemovedMarker) {
				t.Errorf("removed page lacks %q", RemovedMarker)
			}
			if strings.Contains(body, `class="title"`) {
				t.Errorf("removed page still shows the title")
			}
			for _, q := range it.Keywords {
				for _, r := range m.Search(q) {
					if r.ID == it.ID {
						t.Errorf("Search(%q) still finds removed %s", q, it.ID)
					}
				}
			}
			m.Restore(it.ID)
			if code, _, _ := get(t, h, it.Path); code != 200 {
				t.Errorf("GET %s after Restore = %d", it.Path, code)
			}
		})
	}
}

var voidElements = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true,
	"img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// checkHTML reports unbalanced tags, a missing doctype or attribute
// errors; it is a structural check, not a full validator.
func checkHTML(body string) error {
	if !strings.HasPrefix(body, "<!DOCTYPE html>") {
		return fmt.Errorf("no doctype")
	}
	z := html.NewTokenizer(strings.NewReader(body))
	var stack []string
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				return z.Err()
			}
			if len(stack) != 0 {
				return fmt.Errorf("unclosed %v", stack)
			}
			return nil
		case html.StartTagToken:
			name, _ := z.TagName()
			if !voidElements[string(name)] {
				stack = append(stack, string(name))
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(stack) == 0 || stack[len(stack)-1] != string(name) {
				return fmt.Errorf("unexpected </%s>, open %v", name, stack)
			}
			stack = stack[:len(stack)-1]
		}
	}
}

func TestItemPages(t *testing.T) {
	m := shared()
	h := m.Handler()
	ld := regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`)
	hidden := 0
	for _, it := range m.Items() {
		code, body, hdr := get(t, h, it.Path)
		if code != 200 || hdr.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("GET %s = %d %s", it.Path, code, hdr.Get("Content-Type"))
		}
		if err := checkHTML(body); err != nil {
			t.Errorf("GET %s: invalid HTML: %v", it.Path, err)
		}
		mm := ld.FindStringSubmatch(body)
		if mm == nil {
			t.Fatalf("GET %s: no JSON-LD", it.Path)
		}
		var p struct {
			Type   string `json:"@type"`
			Name   string `json:"name"`
			Offers struct {
				Price         json.Number `json:"price"`
				PriceCurrency string      `json:"priceCurrency"`
			} `json:"offers"`
		}
		if err := json.Unmarshal([]byte(mm[1]), &p); err != nil {
			t.Fatalf("GET %s: JSON-LD: %v", it.Path, err)
		}
		if price, _ := p.Offers.Price.Float64(); p.Type != "Product" || p.Name != it.Title || price != it.Price || p.Offers.PriceCurrency != "USD" {
			t.Errorf("GET %s: JSON-LD %+v, want %q at %.2f USD", it.Path, p, it.Title, it.Price)
		}
		if !strings.Contains(body, `<span class="price">`) {
			hidden++
		} else if !strings.Contains(body, `<span class="price">`+it.PriceText+`</span>`) {
			t.Errorf("GET %s: price element lacks %s", it.Path, it.PriceText)
		}
		if !strings.Contains(body, `<h1 class="title">`) || !strings.Contains(body, `<div id="desc">`) || !strings.Contains(body, `<div class="seller">Sold by <a href="/seller/`) {
			t.Errorf("GET %s: missing title, description or seller", it.Path)
		}
	}
	if hidden == 0 {
		t.Errorf("no page hides the price element")
	}
}

func TestImages(t *testing.T) {
	m := shared()
	h := m.Handler()
	for _, tt := range []struct{ name, ctype string }{
		{"nordvik-fjell-1.jpg", "image/jpeg"}, {"placeholder.gif", "image/gif"},
	} {
		code, _, hdr := get(t, h, "/img/"+tt.name)
		if code != 200 || hdr.Get("Content-Type") != tt.ctype {
			t.Errorf("GET /img/%s = %d %s, want 200 %s", tt.name, code, hdr.Get("Content-Type"), tt.ctype)
		}
	}
	for _, n := range m.ImageNames() {
		if strings.HasSuffix(n, ".png") {
			code, body, hdr := get(t, h, "/img/"+n)
			if code != 200 || hdr.Get("Content-Type") != "image/png" || !strings.HasPrefix(body, "\x89PNG") {
				t.Errorf("GET /img/%s = %d %s", n, code, hdr.Get("Content-Type"))
			}
			break
		}
	}
	if code, _, _ := get(t, h, "/img/nope.jpg"); code != 404 {
		t.Errorf("GET /img/nope.jpg = %d, want 404", code)
	}
}

func TestStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := Start(ctx, shared(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(s.URL() + "/robots.txt")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET robots.txt = %d", resp.StatusCode)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
}
