package report_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/report"
)

var update = flag.Bool("update", false, "rewrite golden files")

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func fixture() ([]listing.Sweep, []listing.Listing) {
	sweeps := []listing.Sweep{
		{ID: "s2", Started: t0.Add(24 * time.Hour), Ended: t0.Add(24*time.Hour + 3*time.Minute), State: listing.SweepDone,
			Counters: listing.SweepCounters{Found: 12, New: 2, Changed: 1, Unchanged: 9, Flagged: 2, Errors: 1}},
		{ID: "s1", Started: t0, Ended: t0.Add(5 * time.Minute), State: listing.SweepDone, Marketplaces: []string{"demo", "shop"},
			Counters: listing.SweepCounters{Found: 10, New: 10, Flagged: 4}},
		{ID: "s3", Started: t0.Add(48 * time.Hour), State: listing.SweepInterrupted},
	}
	l := func(id, m, brand, seller string, flagged bool, st listing.Status, first time.Time) listing.Listing {
		return listing.Listing{ID: listing.ID(id), Marketplace: m, Brand: brand, Seller: seller, Flagged: flagged, Status: st, FirstSeen: first, LastSeen: first.Add(48 * time.Hour)}
	}
	week2 := t0.Add(7 * 24 * time.Hour)
	listings := []listing.Listing{
		l("a", "demo", "Acme", "fakes-r-us", true, listing.StatusConfirmed, t0),
		l("b", "demo", "Acme", "fakes-r-us", true, listing.StatusRemoved, t0),
		l("c", "demo", "Acme", "fakes-r-us", true, listing.StatusStillUp, week2),
		l("d", "demo", "Acme", "honest", true, listing.StatusDismissed, t0),
		l("e", "demo", "Acme", "honest", false, listing.StatusNew, t0),
		l("f", "demo", "Zeta", "mixed", true, listing.StatusNoticed, week2),
		l("g", "shop", "Zeta", "mixed", true, listing.StatusConfirmed, week2),
		l("h", "shop", "Zeta", "cheap, \"quoted\"", true, listing.StatusNew, week2),
		l("i", "shop", "", "", false, listing.StatusNew, week2),
	}
	return sweeps, listings
}

type enforcement struct {
	Notices int `json:"notices"`
}

func (e enforcement) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "  %d notices\n", e.Notices)
	return err
}

func TestBuild(t *testing.T) {
	sweeps, listings := fixture()
	r := report.Build(sweeps, listings, t0.Add(72*time.Hour))
	if got := []string{r.Sweeps[0].ID, r.Sweeps[1].ID, r.Sweeps[2].ID}; fmt.Sprint(got) != "[s1 s2 s3]" {
		t.Errorf("sweeps order = %v, want [s1 s2 s3]", got)
	}
	if r.Sweeps[0].Flagged != 4 || r.Sweeps[0].Duration != 5*time.Minute {
		t.Errorf("sweep s1 = %+v", r.Sweeps[0])
	}
	if len(r.RepeatInfringers) != 1 || r.RepeatInfringers[0].Seller != "fakes-r-us" || r.RepeatInfringers[0].Confirmed != 3 || r.RepeatInfringers[0].Removed != 1 {
		t.Errorf("RepeatInfringers = %+v, want fakes-r-us with 3 confirmed (mixed has 2 on different marketplaces)", r.RepeatInfringers)
	}
	tot := r.Total
	if tot.Listings != 9 || tot.Flagged != 7 || tot.Pending != 1 || tot.Confirmed != 5 || tot.Dismissed != 1 || tot.Noticed != 3 || tot.Removed != 1 || tot.StillUp != 1 {
		t.Errorf("Total = %+v", tot)
	}
	if tot.RemovalRate != 0.5 {
		t.Errorf("Total.RemovalRate = %v, want 0.5", tot.RemovalRate)
	}
	if len(r.Weeks) != 2 || r.Weeks[0].Week != "2026-W10" || r.Weeks[0].NewSuspects != 3 || r.Weeks[1].NewSuspects != 4 {
		t.Errorf("Weeks = %+v", r.Weeks)
	}
}

func TestWrite(t *testing.T) {
	sweeps, listings := fixture()
	r := report.Build(sweeps, listings, t0.Add(72*time.Hour))
	r.Enforcement = enforcement{Notices: 4}
	for _, format := range []string{"text", "csv", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := r.Write(&buf, format); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "report."+format+".golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("Write(%s) =\n%s\nwant\n%s", format, buf.Bytes(), want)
			}
		})
	}
	var back report.Report
	var buf bytes.Buffer
	r.Write(&buf, "json")
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || len(back.Groups) != len(r.Groups) {
		t.Errorf("json round trip: %v, %d groups", err, len(back.Groups))
	}
	r.WriteEnforcement = func(w io.Writer, format string) error {
		_, err := fmt.Fprintf(w, "enforcement as %s\n", format)
		return err
	}
	for _, format := range []string{"text", "csv"} {
		buf.Reset()
		if err := r.Write(&buf, format); err != nil || !bytes.HasSuffix(buf.Bytes(), []byte("enforcement as "+format+"\n")) {
			t.Errorf("Write(%s) with WriteEnforcement = %v, ends %q", format, err, buf.Bytes()[max(0, buf.Len()-40):])
		}
	}
	if err := r.Write(io.Discard, "xml"); err == nil {
		t.Error("Write(xml) = nil error, want one")
	}
}
