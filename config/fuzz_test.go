package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patrol-dev/patrol/config"
)

// FuzzParse checks that no input makes Parse panic, and that what it
// returns is either a config that passed validation or config errors that
// name the file.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("testdata", "example.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(example),
		base,
		"",
		"brands: [",
		"a: &a [*a]",
		"x: &x {<<: *x}",
		"marketplaces: [{<<: [{name: a}, {name: b}]}]",
		"schedule: TZ=UTC",
		"schedule: CRON_TZ=Nowhere/Else 0 0 * * *",
		"brands: [{name: a, terms: [a], products: [{msrp: .nan}]}]",
		"marketplaces: [{search_url: 'http://[::1]:80/?q={query}', timeout: -1s}]",
		"---\n---\n",
		"? [a]\n: b\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		path := filepath.Join("testdata", "fuzz.yaml")
		c, err := config.Parse(path, []byte(text))
		if err != nil {
			if c != nil {
				t.Errorf("Parse(%q) = %+v, %v, want no config with an error", text, c, err)
			}
			if !errors.Is(err, config.ErrInvalid) {
				t.Errorf("Parse(%q) = %v, want an error wrapping ErrInvalid", text, err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, path+":") {
					t.Errorf("Parse(%q) error line %q, want it to start with %q", text, line, path+":")
				}
			}
			return
		}
		if len(c.Brands) == 0 || len(c.Marketplaces) == 0 {
			t.Errorf("Parse(%q) = %+v, want brands and marketplaces in a valid config", text, c)
		}
		for _, m := range c.Marketplaces {
			if m.Rate.RequestsPerSecond <= 0 || m.Concurrency < 1 || m.MaxPages < 1 || m.Timeout <= 0 {
				t.Errorf("Parse(%q) marketplace %+v, want positive limits", text, m)
			}
		}
	})
}
