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
	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/store"
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

	// The seller puts the listing back up and the next sweep finds it: the
	// notice no longer counts it as taken down.
	market.Restore(labelID)
	runPatrol(t, "sweep", "--config", cfg, "--no-progress")
	if st, outcome := noticeState(t, cfg, noticeID); st != "still_up" || outcome != "relisted" {
		t.Errorf("notice after the relisting = %s with outcome %s, want still_up with relisted", st, outcome)
	}
	if got := rate(); got != 0 {
		t.Errorf("takedown rate after the relisting = %v, want 0", got)
	}
	if audit := runPatrol(t, "audit", "--config", cfg); !strings.Contains(audit, `"action":"notice.relisted","target":"`+noticeID+`","from":"removed","to":"still_up"`) {
		t.Errorf("audit has no relisting of notice %s:\n%s", noticeID, audit)
	}
	// Verification checks a relisted listing again, and records the second
	// takedown.
	out = runPatrol(t, "verify", "--config", cfg)
	if !strings.Contains(out, "0 removed, 1 still up") {
		t.Errorf("verify after the relisting: %s", out)
	}
	market.Remove(labelID)
	out = runPatrol(t, "verify", "--config", cfg)
	if !strings.Contains(out, "1 removed, 0 still up") {
		t.Errorf("verify after the second removal: %s", out)
	}
	if st, outcome := noticeState(t, cfg, noticeID); st != "removed" || outcome != "removed" {
		t.Errorf("notice after the second removal = %s with outcome %s, want removed", st, outcome)
	}
	if got := rate(); got != 1 {
		t.Errorf("takedown rate after the second removal = %v, want 1", got)
	}

	// A store where a sweep moved the listing to still_up but left the
	// notice saying removed (as sweeps did before they corrected notices):
	// verify corrects the notice without fetching.
	st, err := store.Open(filepath.Join(filepath.Dir(cfg), "data", "patrol.db"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.SetStatus(ctx, listing.Verdict{ListingID: listing.ID(id), Status: listing.StatusStillUp, Analyst: "patrol"})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	out = runPatrol(t, "verify", "--config", cfg)
	if !strings.Contains(out, "0 removed, 0 still up, 0 could not be checked; 1 relisted after removal") {
		t.Errorf("verify of a notice left removed after a relisting: %s", out)
	}
	if st, outcome := noticeState(t, cfg, noticeID); st != "still_up" || outcome != "relisted" {
		t.Errorf("notice after verify corrected it = %s with outcome %s, want still_up with relisted", st, outcome)
	}

	// The seller answers with a counter-notice, and a test buy is recorded:
	// both are audited too.
	runPatrol(t, "notices", "mark", "--config", cfg, noticeID, "--counter-notice", "--note", "seller claims genuine")
	runPatrol(t, "notices", "test-buy", "--config", cfg, id, "--order", "ORD-1", "--outcome", "counterfeit")

	// Every action is in the audit log once, with what it did; each was
	// written in the transaction of its change.
	me := actor()
	want := []string{
		me + " | confirm | LISTING | new | confirmed | ",
		me + " | notice.draft | NOTICE |  | drafted | dmca, 1 listings",
		me + " | notice.sent | NOTICE | drafted | sent | ",
		me + " | notice.verify | NOTICE | sent | still_up | LISTING: listing still up",
		me + " | notice.verify | NOTICE | still_up | removed | LISTING: http Not Found",
		"patrol | notice.relisted | NOTICE | removed | still_up | listing LISTING relisted: live again after it was verified removed",
		me + " | notice.verify | NOTICE | still_up | still_up | LISTING: listing still up",
		me + " | notice.verify | NOTICE | still_up | removed | LISTING: http Not Found",
		"patrol | notice.relisted | NOTICE | removed | still_up | listing LISTING relisted: found live by a sweep after it was verified removed",
		me + " | notice.counter_notice | NOTICE |  | counter_notice | seller claims genuine",
		me + " | testbuy.add | LISTING |  | counterfeit | ORD-1",
	}
	got := auditTrail(t, cfg, map[string]string{id: "LISTING", noticeID: "NOTICE"})
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("patrol audit =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// auditTrail returns `patrol audit` as one line an entry (actor, action,
// target, from, to, detail), with the IDs in names replaced by their
// placeholders, since listing and notice IDs depend on the demo's port.
func auditTrail(t *testing.T, cfg string, names map[string]string) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(strings.NewReader(runPatrol(t, "audit", "--config", cfg)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e store.AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		line := strings.Join([]string{e.Actor, e.Action, e.Target, e.From, e.To, e.Detail}, " | ")
		for id, name := range names {
			line = strings.ReplaceAll(line, id, name)
		}
		out = append(out, line)
	}
	return out
}

// noticeState returns the state of notice id and the outcome of its first
// listing, as `patrol notices list --json` prints them.
func noticeState(t *testing.T, cfg, id string) (state, outcome string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(runPatrol(t, "notices", "list", "--config", cfg, "--json")))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var n listing.Notice
		if err := json.Unmarshal(sc.Bytes(), &n); err != nil {
			t.Fatal(err)
		}
		if n.ID == id && len(n.Listings) > 0 {
			return string(n.State), string(n.Listings[0].Outcome)
		}
	}
	t.Fatalf("notice %s not listed", id)
	return "", ""
}
