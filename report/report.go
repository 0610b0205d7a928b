// Package report computes the trends `patrol report` prints and the UI's
// dashboard shows: suspects per sweep and per week, figures per marketplace
// and brand, and repeat-infringing sellers. Enforcement figures come from
// the notice package and are carried as they are.
package report

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/patrol-dev/patrol/listing"
)

// Formats Write accepts.
const (
	FormatText = "text"
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// RepeatThreshold is how many confirmed listings make a seller a repeat
// infringer.
const RepeatThreshold = 2

// SweepRow is one sweep in the trend.
type SweepRow struct {
	ID           string             `json:"id"`
	Started      time.Time          `json:"started"`
	Duration     time.Duration      `json:"duration"`
	State        listing.SweepState `json:"state"`
	Marketplaces []string           `json:"marketplaces,omitempty"`
	Found        int                `json:"found"`
	New          int                `json:"new"`
	Changed      int                `json:"changed"`
	Flagged      int                `json:"flagged"`
	Errors       int                `json:"errors"`
}

// WeekRow counts suspects first seen in one ISO week.
type WeekRow struct {
	Week        string `json:"week"` // "2026-W09"
	NewSuspects int    `json:"new_suspects"`
	Confirmed   int    `json:"confirmed"`
	Dismissed   int    `json:"dismissed"`
}

// Group are the figures of one marketplace × brand ("" brand: listings no
// brand matched).
type Group struct {
	Marketplace string `json:"marketplace"`
	Brand       string `json:"brand"`
	Listings    int    `json:"listings"`
	Flagged     int    `json:"flagged"`
	// Pending are flagged listings awaiting an analyst.
	Pending   int `json:"pending"`
	Confirmed int `json:"confirmed"` // confirmed, noticed, removed or still up
	Dismissed int `json:"dismissed"`
	Noticed   int `json:"noticed"` // noticed, removed or still up
	Removed   int `json:"removed"`
	StillUp   int `json:"still_up"`
	// RemovalRate is Removed / (Removed + StillUp): of the verified
	// listings, the share taken down (0 when none was verified).
	RemovalRate float64 `json:"removal_rate"`
	// DismissRate is Dismissed / (Confirmed + Dismissed): how often the
	// matcher's suspects were wrong.
	DismissRate float64 `json:"dismiss_rate"`
}

// Seller is a seller with RepeatThreshold or more confirmed listings.
type Seller struct {
	Marketplace string    `json:"marketplace"`
	Seller      string    `json:"seller"`
	Confirmed   int       `json:"confirmed"`
	Listings    int       `json:"listings"`
	Removed     int       `json:"removed"`
	Brands      []string  `json:"brands"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
}

// Report is the trend report.
type Report struct {
	Generated        time.Time  `json:"generated"`
	Sweeps           []SweepRow `json:"sweeps"`
	Weeks            []WeekRow  `json:"weeks"`
	Groups           []Group    `json:"groups"`
	Total            Group      `json:"total"`
	RepeatInfringers []Seller   `json:"repeat_infringers"`
	// Enforcement is filled by the caller with the notice package's
	// figures (notice.Stats); Write prints it with its WriteText method
	// when it has one, as JSON otherwise.
	Enforcement any `json:"enforcement,omitempty"`
	// WriteEnforcement, when set, prints the enforcement figures in the
	// text and CSV formats (e.g. a closure over notice.WriteReport); JSON
	// always carries Enforcement as a value.
	WriteEnforcement func(w io.Writer, format string) error `json:"-"`
}

// TextWriter is implemented by an Enforcement value that can print itself.
type TextWriter interface {
	WriteText(w io.Writer) error
}

// Build computes the report from stored sweeps (any order) and listings.
func Build(sweeps []listing.Sweep, listings []listing.Listing, now time.Time) Report {
	r := Report{Generated: now, Sweeps: []SweepRow{}, Weeks: []WeekRow{}, Groups: []Group{}, RepeatInfringers: []Seller{}}
	for _, sw := range sweeps {
		row := SweepRow{
			ID: sw.ID, Started: sw.Started, State: sw.State, Marketplaces: sw.Marketplaces,
			Found: sw.Counters.Found, New: sw.Counters.New, Changed: sw.Counters.Changed,
			Flagged: sw.Counters.Flagged, Errors: sw.Counters.Errors,
		}
		if !sw.Ended.IsZero() {
			row.Duration = sw.Ended.Sub(sw.Started)
		}
		r.Sweeps = append(r.Sweeps, row)
	}
	slices.SortFunc(r.Sweeps, func(a, b SweepRow) int { return cmp.Or(a.Started.Compare(b.Started), cmp.Compare(a.ID, b.ID)) })

	type gk struct{ m, b string }
	groups := map[gk]*Group{}
	weeks := map[string]*WeekRow{}
	type sk struct{ m, s string }
	sellers := map[sk]*Seller{}
	for _, l := range listings {
		g := groups[gk{l.Marketplace, l.Brand}]
		if g == nil {
			g = &Group{Marketplace: l.Marketplace, Brand: l.Brand}
			groups[gk{l.Marketplace, l.Brand}] = g
		}
		count(g, l)
		count(&r.Total, l)
		if l.Flagged || confirmed(l.Status) || l.Status == listing.StatusDismissed {
			if !l.FirstSeen.IsZero() {
				y, w := l.FirstSeen.ISOWeek()
				key := fmt.Sprintf("%04d-W%02d", y, w)
				wr := weeks[key]
				if wr == nil {
					wr = &WeekRow{Week: key}
					weeks[key] = wr
				}
				wr.NewSuspects++
				if confirmed(l.Status) {
					wr.Confirmed++
				} else if l.Status == listing.StatusDismissed {
					wr.Dismissed++
				}
			}
		}
		if l.Seller == "" {
			continue
		}
		s := sellers[sk{l.Marketplace, l.Seller}]
		if s == nil {
			s = &Seller{Marketplace: l.Marketplace, Seller: l.Seller, Brands: []string{}}
			sellers[sk{l.Marketplace, l.Seller}] = s
		}
		s.Listings++
		if !confirmed(l.Status) {
			continue
		}
		s.Confirmed++
		if l.Status == listing.StatusRemoved {
			s.Removed++
		}
		if l.Brand != "" && !slices.Contains(s.Brands, l.Brand) {
			s.Brands = append(s.Brands, l.Brand)
		}
		if !l.FirstSeen.IsZero() && (s.FirstSeen.IsZero() || l.FirstSeen.Before(s.FirstSeen)) {
			s.FirstSeen = l.FirstSeen
		}
		if l.LastSeen.After(s.LastSeen) {
			s.LastSeen = l.LastSeen
		}
	}
	for _, g := range groups {
		rates(g)
		r.Groups = append(r.Groups, *g)
	}
	rates(&r.Total)
	slices.SortFunc(r.Groups, func(a, b Group) int {
		return cmp.Or(cmp.Compare(a.Marketplace, b.Marketplace), cmp.Compare(a.Brand, b.Brand))
	})
	for _, w := range weeks {
		r.Weeks = append(r.Weeks, *w)
	}
	slices.SortFunc(r.Weeks, func(a, b WeekRow) int { return cmp.Compare(a.Week, b.Week) })
	for _, s := range sellers {
		if s.Confirmed >= RepeatThreshold {
			slices.Sort(s.Brands)
			r.RepeatInfringers = append(r.RepeatInfringers, *s)
		}
	}
	slices.SortFunc(r.RepeatInfringers, func(a, b Seller) int {
		return cmp.Or(cmp.Compare(b.Confirmed, a.Confirmed), cmp.Compare(a.Marketplace, b.Marketplace), cmp.Compare(a.Seller, b.Seller))
	})
	return r
}

func confirmed(st listing.Status) bool {
	switch st {
	case listing.StatusConfirmed, listing.StatusNoticed, listing.StatusRemoved, listing.StatusStillUp:
		return true
	}
	return false
}

func count(g *Group, l listing.Listing) {
	g.Listings++
	if l.Flagged {
		g.Flagged++
		if l.Status == listing.StatusNew || l.Status == "" {
			g.Pending++
		}
	}
	switch l.Status {
	case listing.StatusDismissed:
		g.Dismissed++
	case listing.StatusNoticed:
		g.Noticed++
	case listing.StatusRemoved:
		g.Noticed++
		g.Removed++
	case listing.StatusStillUp:
		g.Noticed++
		g.StillUp++
	}
	if confirmed(l.Status) {
		g.Confirmed++
	}
}

func rates(g *Group) {
	g.RemovalRate = ratio(g.Removed, g.Removed+g.StillUp)
	g.DismissRate = ratio(g.Dismissed, g.Confirmed+g.Dismissed)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Write prints r in format (FormatText, FormatCSV or FormatJSON).
func (r Report) Write(w io.Writer, format string) error {
	switch format {
	case FormatText, "":
		return r.writeText(w)
	case FormatCSV:
		return r.writeCSV(w)
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		return nil
	}
	return fmt.Errorf("write report: unknown format %q (want text, csv or json)", format)
}

// table is one section of the report as rows of cells, shared by the
// text and CSV writers.
type table struct {
	name   string
	header []string
	rows   [][]string
}

func pct(r float64) string { return strconv.FormatFloat(r*100, 'f', 1, 64) + "%" }

func (r Report) tables() []table {
	ts := []table{{name: "sweeps", header: []string{"sweep", "started", "duration", "state", "marketplaces", "found", "new", "changed", "flagged", "errors"}}}
	for _, s := range r.Sweeps {
		ts[0].rows = append(ts[0].rows, []string{
			s.ID, s.Started.UTC().Format(time.RFC3339), duration(s.Duration), string(s.State),
			strings.Join(s.Marketplaces, " "), itoa(s.Found), itoa(s.New), itoa(s.Changed), itoa(s.Flagged), itoa(s.Errors),
		})
	}
	weeks := table{name: "weeks", header: []string{"week", "new_suspects", "confirmed", "dismissed"}}
	for _, w := range r.Weeks {
		weeks.rows = append(weeks.rows, []string{w.Week, itoa(w.NewSuspects), itoa(w.Confirmed), itoa(w.Dismissed)})
	}
	groups := table{name: "marketplaces", header: []string{"marketplace", "brand", "listings", "flagged", "pending", "confirmed", "dismissed", "noticed", "removed", "still_up", "removal_rate", "dismiss_rate"}}
	total := r.Total
	total.Marketplace, total.Brand = "TOTAL", ""
	for _, g := range append(slices.Clone(r.Groups), total) {
		m := g.Marketplace
		groups.rows = append(groups.rows, []string{
			m, g.Brand, itoa(g.Listings), itoa(g.Flagged), itoa(g.Pending), itoa(g.Confirmed), itoa(g.Dismissed),
			itoa(g.Noticed), itoa(g.Removed), itoa(g.StillUp), pct(g.RemovalRate), pct(g.DismissRate),
		})
	}
	sellers := table{name: "repeat_infringers", header: []string{"marketplace", "seller", "confirmed", "listings", "removed", "brands", "first_seen", "last_seen"}}
	for _, s := range r.RepeatInfringers {
		sellers.rows = append(sellers.rows, []string{
			s.Marketplace, s.Seller, itoa(s.Confirmed), itoa(s.Listings), itoa(s.Removed), strings.Join(s.Brands, " "),
			date(s.FirstSeen), date(s.LastSeen),
		})
	}
	return append(ts, weeks, groups, sellers)
}

func duration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return d.Round(time.Second).String()
}

func itoa(n int) string { return strconv.Itoa(n) }

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

var titles = map[string]string{
	"sweeps":            "Suspects per sweep",
	"weeks":             "New suspects per week (first seen)",
	"marketplaces":      "By marketplace and brand",
	"repeat_infringers": "Repeat infringers (≥" + strconv.Itoa(RepeatThreshold) + " confirmed listings)",
}

func (r Report) writeText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "patrol report, %s\n", r.Generated.UTC().Format(time.RFC3339))
	for _, t := range r.tables() {
		fmt.Fprintf(ew, "\n%s\n", titles[t.name])
		if len(t.rows) == 0 {
			fmt.Fprintln(ew, "  (none)")
			continue
		}
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  %s\n", strings.Join(t.header, "\t"))
		for _, row := range t.rows {
			fmt.Fprintf(tw, "  %s\n", strings.Join(row, "\t"))
		}
		tw.Flush()
	}
	if r.Enforcement != nil || r.WriteEnforcement != nil {
		fmt.Fprintf(ew, "\nEnforcement\n")
		if r.WriteEnforcement != nil {
			if err := r.WriteEnforcement(ew, FormatText); err != nil {
				return fmt.Errorf("write report: %w", err)
			}
		} else if tw, ok := r.Enforcement.(TextWriter); ok {
			if err := tw.WriteText(ew); err != nil {
				return fmt.Errorf("write report: %w", err)
			}
		} else {
			enc := json.NewEncoder(ew)
			enc.SetIndent("  ", "  ")
			if err := enc.Encode(r.Enforcement); err != nil {
				return fmt.Errorf("write report: %w", err)
			}
		}
	}
	if ew.err != nil {
		return fmt.Errorf("write report: %w", ew.err)
	}
	return nil
}

// writeCSV writes every section as rows whose first cell names the
// section; each section starts with its header row. WriteEnforcement, if
// set, appends the enforcement figures in its own CSV layout.
func (r Report) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	for _, t := range r.tables() {
		cw.Write(append([]string{"section"}, t.header...))
		for _, row := range t.rows {
			cw.Write(append([]string{t.name}, row...))
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if r.WriteEnforcement != nil {
		if err := r.WriteEnforcement(w, FormatCSV); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	return nil
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
