package config_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/patrol-dev/patrol/config"
)

// base is a small valid config; the error cases below each change one line
// of it, so the line numbers in them refer to this text.
const base = `brands:
  - name: Acme
    terms: [acme]
    products:
      - {name: Trailblazer, msrp: 180}
    reference_images: [logo.png]
    owner: {name: Acme Inc., email: legal@acme.example}
marketplaces:
  - name: shop
    search_url: "https://shop.example/search?q={query}&p={page}"
    selectors:
      result_link: a.item
schedule: "@daily"
`

// writeConfig writes text as patrol.yaml in a fresh directory holding the
// reference image base names, and returns the file's path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "logo.png"), []byte("\x89PNG\r\n\x1a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "refs"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "patrol.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// edit replaces the one occurrence of old in base by new, failing the test
// when old is not there so that a changed base cannot silently void a case.
func edit(t *testing.T, old, new string) string {
	t.Helper()
	if strings.Count(base, old) != 1 {
		t.Fatalf("base does not contain %q exactly once", old)
	}
	return strings.Replace(base, old, new, 1)
}

func TestLoadBase(t *testing.T) {
	path := writeConfig(t, base)
	c, err := config.Load(path)
	if err != nil {
		t.Fatalf("Load(base) = %v, want no error", err)
	}
	if c.Path != path {
		t.Errorf("Load(base).Path = %q, want %q", c.Path, path)
	}
	if want := filepath.Dir(path); c.Dir != want {
		t.Errorf("Load(base).Dir = %q, want %q", c.Dir, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "absent.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(absent) = %v, want fs.ErrNotExist", err)
	}
	if errors.Is(err, config.ErrInvalid) {
		t.Errorf("Load(absent) = %v, want an I/O error, not ErrInvalid", err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		line int
		key  string
		msg  string // a part of the message
	}{
		// Unknown keys, at every level.
		{"unknown top-level key", base + "dta_dir: x\n", 14, "dta_dir", `did you mean "data_dir"?`},
		{"unknown brand key", edit(t, "    terms: [acme]", "    terms: [acme]\n    termz: [x]"), 4, "brands[0].termz", `unknown key (did you mean "terms"?)`},
		{"unknown product key", edit(t, "msrp: 180}", "msrp: 180, price: 3}"), 5, "brands[0].products[0].price", "unknown key"},
		{"unknown owner key", edit(t, "email: legal@acme.example}", "email: legal@acme.example, fax: 1}"), 7, "brands[0].owner.fax", "unknown key"},
		{"unknown selector key", edit(t, "      result_link: a.item", "      result_link: a.item\n      sku: .sku"), 13, "marketplaces[0].selectors.sku", "known keys: currency, description"},
		{"unknown rate key", edit(t, "  - name: shop", "  - name: shop\n    rate: {rps: 3}"), 10, "marketplaces[0].rate.rps", "unknown key"},
		{"duplicate key", edit(t, "  - name: shop", "  - name: shop\n    name: shop2"), 10, "marketplaces[0].name", "duplicate key (first at line 9)"},

		// Wrong types.
		{"string for number", edit(t, "msrp: 180", `msrp: "a lot"`), 5, "brands[0].products[0].msrp", `want a number, got the string "a lot"`},
		{"string for integer", edit(t, "  - name: shop", "  - name: shop\n    concurrency: four"), 10, "marketplaces[0].concurrency", "want an integer"},
		{"float for integer", edit(t, "  - name: shop", "  - name: shop\n    max_pages: 2.5"), 10, "marketplaces[0].max_pages", "want an integer"},
		{"string for bool", edit(t, "  - name: shop", "  - name: shop\n    respect_robots: \"no\""), 10, "marketplaces[0].respect_robots", "want true or false"},
		{"number for duration", edit(t, "  - name: shop", "  - name: shop\n    timeout: 30"), 10, "marketplaces[0].timeout", `want a duration such as "30s"`},
		{"bad duration", edit(t, "  - name: shop", "  - name: shop\n    timeout: 30 seconds"), 10, "marketplaces[0].timeout", `got "30 seconds"`},
		{"scalar for list", edit(t, "terms: [acme]", "terms: acme"), 3, "brands[0].terms", `want a list, got the string "acme"`},
		{"list for string", edit(t, "  - name: Acme", "  - name: [Acme]"), 2, "brands[0].name", "want a string, got a list"},
		{"list for mapping", edit(t, "    owner: {name: Acme Inc., email: legal@acme.example}", "    owner: [Acme Inc.]"), 7, "brands[0].owner", "want a mapping"},
		{"mapping for list", "brands: {name: Acme}\n" + base[strings.Index(base, "marketplaces:"):], 1, "brands", "want a list, got a mapping"},
		{"infinite number", edit(t, "msrp: 180", "msrp: .inf"), 5, "brands[0].products[0].msrp", "want a finite number"},

		// Missing required fields.
		{"no brands", base[strings.Index(base, "marketplaces:"):], 1, "brands", "at least one brand is required"},
		{"no brand name", edit(t, "  - name: Acme\n", "  - owner: {name: X}\n"), 2, "brands[0].name", "required"},
		{"no terms", edit(t, "    terms: [acme]\n", ""), 2, "brands[0].terms", "at least one search term is required"},
		{"empty terms", edit(t, "terms: [acme]", "terms: []"), 3, "brands[0].terms", "at least one search term is required"},
		{"blank term", edit(t, "terms: [acme]", `terms: [acme, " "]`), 3, "brands[0].terms[1]", "must not be empty"},
		{"no marketplaces", base[:strings.Index(base, "marketplaces:")], 1, "marketplaces", "at least one marketplace is required"},
		{"no marketplace name", edit(t, "  - name: shop\n    search_url", "  - search_url"), 9, "marketplaces[0].name", "required"},
		{"no search url", edit(t, "    search_url: \"https://shop.example/search?q={query}&p={page}\"\n", ""), 9, "marketplaces[0].search_url", "required"},
		{"no result link", edit(t, "      result_link: a.item", "      title: h1"), 11, "marketplaces[0].selectors.result_link", "required"},
		{"no msrp", edit(t, "{name: Trailblazer, msrp: 180}", "{name: Trailblazer}"), 5, "brands[0].products[0].msrp", "required"},
		{"no product name", edit(t, "{name: Trailblazer, msrp: 180}", "{msrp: 180}"), 5, "brands[0].products[0].name", "required"},
		{"no trademark mark", edit(t, "  - name: Acme", "  - name: Acme\n    trademarks: [{registration: US 1}]"), 3, "brands[0].trademarks[0].mark", "required"},

		// Duplicates.
		{"duplicate brand", edit(t, "marketplaces:\n", "  - name: ACME\n    terms: [x]\nmarketplaces:\n"), 8, "brands[1].name", `duplicate brand name "ACME" (first at line 2)`},
		{"duplicate marketplace", edit(t, "schedule:", "  - name: shop\n    search_url: \"https://b.example/?q={query}\"\n    selectors: {result_link: a}\nschedule:"), 13, "marketplaces[1].name", `duplicate marketplace name "shop" (first at line 9)`},

		// URL templates.
		{"no query placeholder", edit(t, "q={query}", "q=shoes"), 10, "marketplaces[0].search_url", "must contain {query}"},
		{"unknown placeholder", edit(t, "p={page}", "p={pg}"), 10, "marketplaces[0].search_url", "unknown placeholder {pg}"},
		{"relative url", edit(t, "https://shop.example/search", "/search"), 10, "marketplaces[0].search_url", "absolute http or https URL"},
		{"ftp url", edit(t, "https://shop.example/search", "ftp://shop.example/search"), 10, "marketplaces[0].search_url", "absolute http or https URL"},
		{"placeholder in host", edit(t, "https://shop.example/search?q={query}", "https://{query}.example/search?q=x"), 10, "marketplaces[0].search_url", "placeholder in the host"},

		// Ranges.
		{"negative rate", edit(t, "  - name: shop", "  - name: shop\n    rate: {requests_per_second: -1}"), 10, "marketplaces[0].rate.requests_per_second", "must be greater than 0, got -1"},
		{"zero rate", edit(t, "  - name: shop", "  - name: shop\n    rate:\n      requests_per_second: 0"), 11, "marketplaces[0].rate.requests_per_second", "must be greater than 0, got 0"},
		{"zero burst", edit(t, "  - name: shop", "  - name: shop\n    rate: {burst: 0}"), 10, "marketplaces[0].rate.burst", "must be at least 1"},
		{"zero concurrency", edit(t, "  - name: shop", "  - name: shop\n    concurrency: 0"), 10, "marketplaces[0].concurrency", "must be at least 1"},
		{"zero max pages", edit(t, "  - name: shop", "  - name: shop\n    max_pages: 0"), 10, "marketplaces[0].max_pages", "must be at least 1"},
		{"zero timeout", edit(t, "  - name: shop", "  - name: shop\n    timeout: 0s"), 10, "marketplaces[0].timeout", "must be greater than 0"},
		{"zero max body", edit(t, "  - name: shop", "  - name: shop\n    max_body_bytes: 0"), 10, "marketplaces[0].max_body_bytes", "must be greater than 0"},
		{"ratio above one", edit(t, "  - name: Acme", "  - name: Acme\n    min_price_ratio: 1.5"), 3, "brands[0].min_price_ratio", "greater than 0 and at most 1, got 1.5"},
		{"zero ratio", edit(t, "  - name: Acme", "  - name: Acme\n    min_price_ratio: 0"), 3, "brands[0].min_price_ratio", "greater than 0 and at most 1, got 0"},
		{"zero threshold", edit(t, "  - name: Acme", "  - name: Acme\n    threshold: 0"), 3, "brands[0].threshold", "greater than 0 and at most 1"},
		{"threshold above one", edit(t, "  - name: Acme", "  - name: Acme\n    threshold: 60"), 3, "brands[0].threshold", "got 60"},
		{"zero msrp", edit(t, "msrp: 180", "msrp: 0"), 5, "brands[0].products[0].msrp", "must be greater than 0, got 0"},
		{"negative msrp", edit(t, "msrp: 180", "msrp: -1"), 5, "brands[0].products[0].msrp", "must be greater than 0, got -1"},
		{"bad currency", edit(t, "msrp: 180}", "msrp: 180, currency: dollars}"), 5, "brands[0].products[0].currency", "3-letter ISO 4217 code"},
		{"numeric currency", edit(t, "msrp: 180}", "msrp: 180, currency: 840}"), 5, "brands[0].products[0].currency", "3-letter ISO 4217 code"},

		// Reference images.
		{"missing image", edit(t, "[logo.png]", "[logo.png, refs/gone.png]"), 6, "brands[0].reference_images[1]", "no such file"},
		{"image is a directory", edit(t, "    reference_images: [logo.png]", "    reference_images:\n      - logo.png\n      - refs"), 8, "brands[0].reference_images[1]", "not a regular file"},

		// Selectors.
		{"bad selector", edit(t, "result_link: a.item", `result_link: "a[["`), 12, "marketplaces[0].selectors.result_link", "invalid CSS selector"},
		{"bad selector before attr", edit(t, "      result_link: a.item", "      result_link: a.item\n      images: \"img[@src\""), 13, "marketplaces[0].selectors.images", "invalid CSS selector"},
		{"attr without selector", edit(t, "      result_link: a.item", "      result_link: a.item\n      images: \"@src\""), 13, "marketplaces[0].selectors.images", "empty selector"},

		// Schedule, owner, slug, domains.
		{"bad schedule", edit(t, `schedule: "@daily"`, `schedule: "every day"`), 13, "schedule", `invalid schedule "every day"`},
		{"bad every", edit(t, `schedule: "@daily"`, `schedule: "@every six hours"`), 13, "schedule", "invalid schedule"},
		{"six-field cron", edit(t, `schedule: "@daily"`, `schedule: "0 0 */6 * * *"`), 13, "schedule", "invalid schedule"},
		{"time zone only", edit(t, `schedule: "@daily"`, `schedule: "TZ=UTC"`), 13, "schedule", "time zone without a schedule"},
		{"bad marketplace schedule", edit(t, "      result_link: a.item", "      result_link: a.item\n    schedule: sometimes"), 13, "marketplaces[0].schedule", "invalid schedule"},
		{"bad retention schedule", edit(t, `schedule: "@daily"`, "schedule: \"@daily\"\nretention:\n  schedule: nightly"), 15, "retention.schedule", "invalid schedule"},
		{"webhook without url", edit(t, `schedule: "@daily"`, "schedule: \"@daily\"\nalerts:\n  webhooks:\n    - format: slack"), 16, "alerts.webhooks[0].url", "absolute http(s) URL"},
		{"webhook bad format", edit(t, `schedule: "@daily"`, "schedule: \"@daily\"\nalerts:\n  webhooks:\n    - {url: \"https://hooks.example/x\", format: xml}"), 16, "alerts.webhooks[0].format", "must be json or slack"},
		{"email without recipients", edit(t, `schedule: "@daily"`, "schedule: \"@daily\"\nalerts:\n  email: {host: smtp.example, from: patrol@acme.example}"), 15, "alerts.email.to", "at least one recipient"},
		{"bad email", edit(t, "email: legal@acme.example", "email: legal at acme"), 7, "brands[0].owner.email", `"legal at acme" is not an email address`},
		{"email with name", edit(t, "email: legal@acme.example", `email: "Legal <legal@acme.example>"`), 7, "brands[0].owner.email", "is not an email address"},
		{"upper-case slug", edit(t, "  - name: shop", "  - name: Shop"), 9, "marketplaces[0].name", "must be a slug"},
		{"slug with space", edit(t, "  - name: shop", "  - name: my shop"), 9, "marketplaces[0].name", "must be a slug"},
		{"domain with scheme", edit(t, "  - name: shop", "  - name: shop\n    allowed_domains: [shop.example, \"https://shop.example\"]"), 10, "marketplaces[0].allowed_domains[1]", "is not a hostname"},
		{"domain with port", edit(t, "  - name: shop", "  - name: shop\n    allowed_domains: [\"shop.example:80\"]"), 10, "marketplaces[0].allowed_domains[0]", "is not a hostname"},
		{"domains without search host", edit(t, "  - name: shop", "  - name: shop\n    allowed_domains: [cdn.example]"), 10, "marketplaces[0].allowed_domains", `does not include "shop.example"`},

		// The YAML itself.
		{"syntax error", edit(t, "terms: [acme]", "terms: [acme"), 2, "", "did not find expected ',' or ']'"},
		{"tab indentation", edit(t, "    terms: [acme]", "\tterms: [acme]"), 2, "", "found a tab character"},
		{"second document", base + "---\nbrands: []\n", 14, "", "a second YAML document is not allowed"},
		{"empty file", "", 1, "brands", "at least one brand is required"},
		{"top level list", "- a\n- b\n", 1, "", "want a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.text)
			c, err := config.Load(path)
			if err == nil {
				t.Fatalf("Load(%s) = %+v, want an error at line %d key %q", tt.name, c, tt.line, tt.key)
			}
			if !errors.Is(err, config.ErrInvalid) {
				t.Errorf("Load(%s) = %v, want an error wrapping ErrInvalid", tt.name, err)
			}
			prefix := fmt.Sprintf("%s:%d: ", path, tt.line)
			if tt.key != "" {
				prefix += tt.key + ": "
			}
			var found bool
			for _, line := range strings.Split(err.Error(), "\n") {
				if strings.HasPrefix(line, prefix) && strings.Contains(line, tt.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("Load(%s) =\n%v\nwant a line starting %q containing %q", tt.name, err, prefix, tt.msg)
			}
			var cerr *config.Error
			if !errors.As(err, &cerr) || cerr.File != path || cerr.Line < 1 {
				t.Errorf("Load(%s) = %v, want a *config.Error naming %s and a line", tt.name, err, path)
			}
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	text := edit(t, "terms: [acme]", "termz: [acme]")
	text = strings.Replace(text, "msrp: 180", "msrp: -1", 1)
	text = strings.Replace(text, "name: shop", "name: Shop", 1)
	path := writeConfig(t, text)
	_, err := config.Load(path)
	want := []string{
		path + ":2: brands[0].terms: at least one search term is required",
		path + `:3: brands[0].termz: unknown key (did you mean "terms"?)`,
		path + ":5: brands[0].products[0].msrp: must be greater than 0, got -1",
		path + `:9: marketplaces[0].name: "Shop" must be a slug of a-z, 0-9, _ and - (it becomes part of listing IDs and URLs)`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("Load(three mistakes) =\n%v\nwant\n%s", err, strings.Join(want, "\n"))
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		in   config.Error
		want string
	}{
		{config.Error{File: "patrol.yaml", Line: 12, Key: "brands[0].termz", Msg: "unknown key"}, "patrol.yaml:12: brands[0].termz: unknown key"},
		{config.Error{File: "patrol.yaml", Line: 3, Msg: "did not find expected key"}, "patrol.yaml:3: did not find expected key"},
		{config.Error{File: "patrol.yaml", Key: "schedule", Msg: "bad"}, "patrol.yaml: schedule: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.in.Error(); got != tt.want {
				t.Errorf("Error(%+v) = %q, want %q", tt.in, got, tt.want)
			}
			if !errors.Is(&tt.in, config.ErrInvalid) {
				t.Errorf("errors.Is(%+v, ErrInvalid) = false, want true", tt.in)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	path := writeConfig(t, base)
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(path)
	b, m := c.Brands[0], c.Marketplaces[0]
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"data_dir", c.DataDir, filepath.Join(dir, "patrol-data")},
		{"schedule", c.Schedule, "@daily"},
		{"min_price_ratio", b.MinPriceRatio, 0.5},
		{"threshold", b.Threshold, 0.6},
		{"currency", b.Products[0].Currency, "USD"},
		{"reference_images", b.ReferenceImages, []string{filepath.Join(dir, "logo.png")}},
		{"allowed_domains", m.AllowedDomains, []string{"shop.example"}},
		{"rate", m.Rate, config.Rate{RequestsPerSecond: 1, Burst: 1}},
		{"concurrency", m.Concurrency, 2},
		{"max_pages", m.MaxPages, 10},
		{"respect_robots", m.RespectRobots, true},
		{"timeout", m.Timeout, 30 * time.Second},
		{"max_body_bytes", m.MaxBodyBytes, int64(8 << 20)},
		{"user_agent", m.UserAgent, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("Load(base) %s = %#v, want %#v", tt.name, tt.got, tt.want)
			}
		})
	}
}

func TestExplicitValuesKept(t *testing.T) {
	text := edit(t, "  - name: shop\n", `  - name: shop
    allowed_domains: [Shop.Example, img.shop.example]
    rate: {requests_per_second: 0.25, burst: 3}
    concurrency: 1
    max_pages: 1
    timeout: 1m30s
    max_body_bytes: 1024
    user_agent: "shopbot/1"
`)
	text = strings.Replace(text, "msrp: 180}", "msrp: 180, currency: eur}", 1)
	text = strings.Replace(text, "    terms: [acme]\n", "    terms: [acme]\n    threshold: 1\n    min_price_ratio: 0.3\n", 1)
	text = "data_dir: /var/lib/patrol\nuser_agent: patrol-test\n" + text
	c, err := config.Load(writeConfig(t, text))
	if err != nil {
		t.Fatal(err)
	}
	b, m := c.Brands[0], c.Marketplaces[0]
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"data_dir", c.DataDir, filepath.Clean("/var/lib/patrol")},
		{"threshold", b.Threshold, 1.0},
		{"min_price_ratio", b.MinPriceRatio, 0.3},
		{"currency", b.Products[0].Currency, "EUR"},
		{"allowed_domains", m.AllowedDomains, []string{"shop.example", "img.shop.example"}},
		{"rate", m.Rate, config.Rate{RequestsPerSecond: 0.25, Burst: 3}},
		{"concurrency", m.Concurrency, 1},
		{"max_pages", m.MaxPages, 1},
		{"timeout", m.Timeout, 90 * time.Second},
		{"max_body_bytes", m.MaxBodyBytes, int64(1024)},
		{"user_agent", m.UserAgent, "shopbot/1"},
		{"top user_agent", c.UserAgent, "patrol-test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("Load(explicit) %s = %#v, want %#v", tt.name, tt.got, tt.want)
			}
		})
	}
}

func TestMarketplaceInheritsUserAgent(t *testing.T) {
	c, err := config.Load(writeConfig(t, "user_agent: patrol-test\n"+base))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Marketplaces[0].UserAgent; got != "patrol-test" {
		t.Errorf("Load(top-level user_agent) marketplace UserAgent = %q, want %q", got, "patrol-test")
	}
}

func TestRespectRobots(t *testing.T) {
	tests := []struct {
		name string
		line string
		want bool
	}{
		{"absent", "", true},
		{"null", "    respect_robots:\n", true},
		{"true", "    respect_robots: true\n", true},
		{"false", "    respect_robots: false\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := edit(t, "  - name: shop\n", "  - name: shop\n"+tt.line)
			c, err := config.Load(writeConfig(t, text))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Marketplaces[0].RespectRobots; got != tt.want {
				t.Errorf("Load(respect_robots %s) RespectRobots = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestPathsResolved(t *testing.T) {
	tests := []struct {
		name    string
		dataDir string
		want    func(dir string) string
	}{
		{"relative", "data", func(dir string) string { return filepath.Join(dir, "data") }},
		{"dot relative", "./x/../data", func(dir string) string { return filepath.Join(dir, "data") }},
		{"parent", "../data", func(dir string) string { return filepath.Join(filepath.Dir(dir), "data") }},
		{"absolute", "/srv/patrol", func(string) string { return filepath.Clean("/srv/patrol") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, "data_dir: "+tt.dataDir+"\n"+strings.Replace(base, "[logo.png]", "[./refs/../logo.png]", 1))
			c, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Dir(path)
			if want := tt.want(dir); c.DataDir != want {
				t.Errorf("Load(data_dir: %s).DataDir = %q, want %q", tt.dataDir, c.DataDir, want)
			}
			if want := filepath.Join(dir, "logo.png"); c.Brands[0].ReferenceImages[0] != want {
				t.Errorf("Load(data_dir: %s) reference image = %q, want %q", tt.dataDir, c.Brands[0].ReferenceImages[0], want)
			}
		})
	}
}

// TestParseRelativePath checks that a path given relative to the working
// directory still resolves the file's paths against the file's directory.
func TestParseRelativePath(t *testing.T) {
	c, err := config.Parse(filepath.Join("testdata", "example.yaml"), mustRead(t, filepath.Join("testdata", "example.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(wd, "testdata"); c.Dir != want {
		t.Errorf("Parse(testdata/example.yaml).Dir = %q, want %q", c.Dir, want)
	}
	if want := filepath.Join(wd, "testdata", "patrol-data"); c.DataDir != want {
		t.Errorf("Parse(testdata/example.yaml).DataDir = %q, want %q", c.DataDir, want)
	}
}

func TestAliasesAndMerge(t *testing.T) {
	text := `brands:
  - name: Acme
    terms: &terms [acme, acme trailblazer]
marketplaces:
  - &shop
    name: shop
    search_url: "https://shop.example/?q={query}"
    concurrency: 3
    selectors: {result_link: a.item}
  - <<: *shop
    name: shop2
    max_pages: 4
`
	c, err := config.Load(writeConfig(t, text))
	if err != nil {
		t.Fatal(err)
	}
	m, ok := c.Marketplace("shop2")
	if !ok {
		t.Fatalf("Marketplace(shop2) not found in %+v", c.Marketplaces)
	}
	if m.Concurrency != 3 || m.MaxPages != 4 || m.Selectors.ResultLink != "a.item" || !m.RespectRobots {
		t.Errorf("Marketplace(shop2) = %+v, want concurrency 3, max pages 4, result link a.item, robots respected", m)
	}
}

func TestExample(t *testing.T) {
	path := filepath.Join("testdata", "example.yaml")
	c, err := config.Load(path)
	if err != nil {
		t.Fatalf("Load(%s) = %v", path, err)
	}
	dir := c.Dir
	want := &config.Config{
		Path:    path,
		Dir:     dir,
		DataDir: filepath.Join(dir, "patrol-data"),
		Brands: []config.Brand{{
			Name:              "Acme",
			Terms:             []string{"acme", "acme trailblazer"},
			Products:          []config.Product{{Name: "Acme Trailblazer 3", MSRP: 180, Currency: "USD"}},
			MinPriceRatio:     0.5,
			ReferenceImages:   []string{filepath.Join(dir, "refs", "acme", "logo.png"), filepath.Join(dir, "refs", "acme", "trailblazer.jpg")},
			AuthorizedSellers: []string{"Acme Official Store"},
			NegativeTerms:     []string{"compatible with", "case for"},
			SuspiciousTerms:   []string{"mirror grade"},
			Threshold:         0.6,
			VariantQueries:    config.DefaultVariantQueries,
			Owner:             config.Owner{Name: "Acme Inc.", Email: "legal@acme.example", Address: "1 Main St, Springfield"},
			Trademarks:        []config.Trademark{{Mark: "ACME", Registration: "US 1234567", Jurisdiction: "US"}},
		}},
		Marketplaces: []config.Marketplace{{
			Name:           "demo",
			SearchURL:      "http://127.0.0.1:8088/search?q={query}&page={page}",
			AllowedDomains: []string{"127.0.0.1"},
			Rate:           config.Rate{RequestsPerSecond: 5, Burst: 2},
			Concurrency:    4,
			MaxPages:       20,
			RespectRobots:  true,
			Selectors: config.Selectors{
				ResultLink:  "a.item-link",
				NextPage:    "a.next",
				Title:       "h1.title",
				Price:       ".price",
				Seller:      ".seller a",
				Images:      "img.gallery@src",
				Description: "#desc",
			},
			Timeout:      30 * time.Second,
			MaxBodyBytes: 8 << 20,
		}},
		Schedule: "@every 6h",
		Notices:  config.Notices{MaxSnapshotAge: config.DefaultMaxSnapshotAge},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load(%s) =\n%+v\nwant\n%+v", path, c, want)
	}
}

func TestSearchURLFor(t *testing.T) {
	tests := []struct {
		tmpl  string
		query string
		page  int
		want  string
	}{
		{"http://127.0.0.1:8088/search?q={query}&page={page}", "acme", 1, "http://127.0.0.1:8088/search?q=acme&page=1"},
		{"https://shop.example/s?q={query}&p={page}", "acme trailblazer & co", 12, "https://shop.example/s?q=acme+trailblazer+%26+co&p=12"},
		{"https://shop.example/s?q={query}", "ácme/3?", 2, "https://shop.example/s?q=%C3%A1cme%2F3%3F"},
		{"https://shop.example/s?q={query}&again={query}", "a b", 0, "https://shop.example/s?q=a+b&again=a+b"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			m := config.Marketplace{SearchURL: tt.tmpl}
			if got := m.SearchURLFor(tt.query, tt.page); got != tt.want {
				t.Errorf("SearchURLFor(%q, %d) with %q = %q, want %q", tt.query, tt.page, tt.tmpl, got, tt.want)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	c := &config.Config{
		Brands:       []config.Brand{{Name: "Acme"}, {Name: "Globex"}},
		Marketplaces: []config.Marketplace{{Name: "demo"}, {Name: "shop"}},
	}
	brands := []struct {
		name string
		want string
		ok   bool
	}{
		{"Acme", "Acme", true},
		{"globex", "Globex", true},
		{"Initech", "", false},
	}
	for _, tt := range brands {
		t.Run("brand "+tt.name, func(t *testing.T) {
			b, ok := c.Brand(tt.name)
			if b.Name != tt.want || ok != tt.ok {
				t.Errorf("Brand(%q) = %q, %v, want %q, %v", tt.name, b.Name, ok, tt.want, tt.ok)
			}
		})
	}
	markets := []struct {
		name string
		ok   bool
	}{
		{"demo", true},
		{"shop", true},
		{"Shop", false},
		{"", false},
	}
	for _, tt := range markets {
		t.Run("marketplace "+tt.name, func(t *testing.T) {
			m, ok := c.Marketplace(tt.name)
			if ok != tt.ok || (ok && m.Name != tt.name) {
				t.Errorf("Marketplace(%q) = %q, %v, want ok %v", tt.name, m.Name, ok, tt.ok)
			}
		})
	}
}

func TestSplitSelector(t *testing.T) {
	tests := []struct {
		in, css, attr string
	}{
		{"img.gallery@src", "img.gallery", "src"},
		{"h1.title", "h1.title", ""},
		{`a[href*="@"]`, `a[href*="@"]`, ""},
		{`meta[itemprop=price]@content`, `meta[itemprop=price]`, "content"},
		{"img@data-src", "img", "data-src"},
		{"a@", "a@", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			css, attr := config.SplitSelector(tt.in)
			if css != tt.css || attr != tt.attr {
				t.Errorf("SplitSelector(%q) = %q, %q, want %q, %q", tt.in, css, attr, tt.css, tt.attr)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
