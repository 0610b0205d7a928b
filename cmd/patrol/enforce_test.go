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

// TestEnforcementEndToEnd walks the whole enforcement path through the CLI:
// demo sweep → confirm → draft → mark sent → the marketplace removes the
// listing → verify records it removed and the takedown rate moves.
func TestEnforcementEndToEnd(t *testing.T) {
	ctx := context.Background()
	market := demomarket.New(demomarket.Options{Seed: 1})
	srv, err := demomarket.Start(ctx, market, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg, err := demomarket.WriteConfig(filepath.Join(t.TempDir(), "demo"), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	runPatrol(t, "sweep", "--config", cfg, "--no-progress")

	// Pick a flagged counterfeit whose grounds are more than its price.
	labels := map[string]demomarket.Label{}
	for _, lb := range market.Labels() {
		labels[lb.Path] = lb
	}
	var id, labelID string
	sc := bufio.NewScanner(strings.NewReader(runPatrol(t, "review", "list", "--config", cfg, "--json")))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && id == "" {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(r.URL)
		lb, ok := labels[u.Path]
		if !ok || lb.Class != demomarket.ClassCounterfeit {
			continue
		}
		for _, s := range r.Signals {
			if s.Name == "suspicious_term" || s.Name == "brand_disguised" {
				id, labelID = string(r.ID), lb.ID
			}
		}
	}
	if id == "" {
		t.Fatal("no flagged counterfeit with non-price grounds in the review queue")
	}
	out := runPatrol(t, "review", "confirm", "--config", cfg, id)
	if !strings.Contains(out, "confirmed "+id) {
		t.Fatalf("confirm: %s", out)
	}
	// The verdict is audited (in the same store transaction).
	if audit := runPatrol(t, "audit", "--config", cfg); !strings.Contains(audit, `"action":"confirm","target":"`+id+`","from":"new","to":"confirmed"`) {
		t.Errorf("audit has no confirm of %s:\n%s", id, audit)
	}
	dir := t.TempDir()
	files := runPatrol(t, "notices", "draft", "--config", cfg, "--platform", "dmca", "--out", dir)
	if !strings.Contains(files, dir) {
		t.Fatalf("draft wrote no file: %q", files)
	}
	var noticeID string
	sc = bufio.NewScanner(strings.NewReader(runPatrol(t, "notices", "list", "--config", cfg, "--json")))
	for sc.Scan() {
		var n struct {
			ID    string `json:"id"`
			State string `json:"state"`
		}
		if err := json.Unmarshal(sc.Bytes(), &n); err != nil {
			t.Fatal(err)
		}
		if n.State == "drafted" {
			noticeID = n.ID
		}
	}
	if noticeID == "" {
		t.Fatal("no drafted notice on record")
	}
	runPatrol(t, "notices", "mark-sent", "--config", cfg, noticeID)

	rate := func() float64 {
		var full struct {
			Enforcement struct {
				Platforms []struct {
					Platform     string  `json:"platform"`
					TakedownRate float64 `json:"takedown_rate"`
					Removed      int     `json:"removed"`
				} `json:"platforms"`
			} `json:"enforcement"`
		}
		if err := json.Unmarshal([]byte(runPatrol(t, "report", "--config", cfg, "--format", "json")), &full); err != nil {
			t.Fatal(err)
		}
		for _, p := range full.Enforcement.Platforms {
			if p.Platform == "dmca" {
				return p.TakedownRate
			}
		}
		return -1
	}
	if got := rate(); got != 0 {
		t.Errorf("takedown rate before verify = %v, want 0", got)
	}
	// Before the takedown the listing is still up.
	out = runPatrol(t, "verify", "--config", cfg)
	if !strings.Contains(out, "0 removed, 1 still up") {
		t.Errorf("verify before removal: %s", out)
	}
	market.Remove(labelID)
	out = runPatrol(t, "verify", "--config", cfg)
	if !strings.Contains(out, "1 removed, 0 still up") {
		t.Errorf("verify after removal: %s", out)
	}
	if got := rate(); got != 1 {
		t.Errorf("takedown rate after verify = %v, want 1", got)
	}
	exp := runPatrol(t, "export", "--config", cfg)
	if !strings.Contains(exp, `"id":"`+id+`"`) || !strings.Contains(exp, `"status":"removed"`) {
		t.Errorf("export does not show %s as removed", id)
	}
}
