package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patrol-dev/patrol/demomarket"
)

// TestDemoSweepAgainstLabels sweeps the demo marketplace through the CLI
// and checks the exported verdicts against the demo's ground truth: the
// floor under patrol's accuracy, per class.
func TestDemoSweepAgainstLabels(t *testing.T) {
	market := demomarket.New(demomarket.Options{Seed: 1})
	srv, err := demomarket.Start(context.Background(), market, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg, err := demomarket.WriteConfig(filepath.Join(t.TempDir(), "demo"), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	runPatrol(t, "sweep", "--config", cfg, "--no-progress")

	labels := map[string]demomarket.Label{}
	for _, lb := range market.Labels() {
		labels[lb.Path] = lb
	}
	type counts struct{ flagged, total int }
	byClass := map[demomarket.Class]*counts{}
	seen := 0
	sc := bufio.NewScanner(strings.NewReader(runPatrol(t, "export", "--config", cfg)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(r.URL)
		lb, ok := labels[u.Path]
		if !ok {
			t.Errorf("exported %s, which the demo does not list", r.URL)
			continue
		}
		seen++
		c := byClass[lb.Class]
		if c == nil {
			c = &counts{}
			byClass[lb.Class] = c
		}
		c.total++
		if r.Flagged {
			c.flagged++
			if len(r.Signals) == 0 {
				t.Errorf("%s flagged without signals", r.ID)
			}
		}
		if lb.Class != demomarket.ClassCounterfeit && r.Flagged {
			t.Errorf("%s %q (%s) flagged: %+v", r.ID, r.Title, lb.Class, r.Signals)
		}
	}
	if seen != len(labels) {
		t.Errorf("sweep found %d of the demo's %d listings", seen, len(labels))
	}
	fake := byClass[demomarket.ClassCounterfeit]
	if fake == nil || float64(fake.flagged) < 0.95*float64(fake.total) {
		t.Errorf("counterfeits flagged = %+v, want at least 95%%", fake)
	}
	for class, c := range byClass {
		t.Logf("%-12s %3d/%3d flagged", class, c.flagged, c.total)
	}
}
