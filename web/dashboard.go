package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"

	"github.com/patrol-dev/patrol/listing"
)

// stats are the dashboard's figures, also served by /api/v1/stats.
type stats struct {
	Suspects    int                      `json:"suspects"`
	ByStatus    map[string]int           `json:"by_status"`
	Marketplace []breakdown              `json:"by_marketplace"`
	Brand       []breakdown              `json:"by_brand"`
	Sweeps      []sweepPoint             `json:"sweeps"`
	Confirmed   int                      `json:"confirmed"`
	Dismissed   int                      `json:"dismissed"`
	Pending     int                      `json:"pending"`
	Noticed     int                      `json:"noticed"`
	Removed     int                      `json:"removed"`
	StillUp     int                      `json:"still_up"`
	Takedown    float64                  `json:"takedown_rate"`
	Charts      map[string]template.HTML `json:"-"`
}

// breakdown is one marketplace's or brand's suspects by outcome.
type breakdown struct {
	Name      string `json:"name"`
	Suspects  int    `json:"suspects"`
	Confirmed int    `json:"confirmed"`
	Dismissed int    `json:"dismissed"`
}

type sweepPoint struct {
	ID       string `json:"id"`
	Started  string `json:"started"`
	Found    int    `json:"found"`
	Suspects int    `json:"suspects"`
	State    string `json:"state"`
}

func facetMap(fc []FacetCount) map[string]int {
	m := make(map[string]int, len(fc))
	for _, f := range fc {
		m[f.Term] = f.Count
	}
	return m
}

// flaggedCounts are the flagged listings counted by status, and by brand
// and marketplace for each status.
type flaggedCounts struct {
	Total    int
	ByStatus map[string]int
	// ByField maps "brand" and "marketplace" to term to status to count.
	ByField map[string]map[string]map[string]int
}

// statsCounter counts the flagged listings.
type statsCounter func(ctx context.Context) (flaggedCounts, error)

// searchCounter counts with the index's facets: one search for all
// suspects, one per status for the breakdowns.
func searchCounter(search Searcher) statsCounter {
	return func(ctx context.Context) (flaggedCounts, error) {
		flagged := true
		count := func(status string) (SearchResult, error) {
			res, err := search.Search(ctx, SearchQuery{Flagged: &flagged, Status: status, Limit: 1, Facets: true})
			if err != nil {
				return res, fmt.Errorf("dashboard: %w", err)
			}
			return res, nil
		}
		all, err := count("")
		if err != nil {
			return flaggedCounts{}, err
		}
		c := flaggedCounts{Total: int(all.Total), ByStatus: facetMap(all.Facets["status"]),
			ByField: map[string]map[string]map[string]int{"brand": {}, "marketplace": {}}}
		for status, n := range c.ByStatus {
			if n == 0 {
				continue
			}
			res, err := count(status)
			if err != nil {
				return c, err
			}
			for field, terms := range c.ByField {
				for _, f := range res.Facets[field] {
					if terms[f.Term] == nil {
						terms[f.Term] = map[string]int{}
					}
					terms[f.Term][status] += f.Count
				}
			}
		}
		return c, nil
	}
}

func (s *Server) statsSource() statsCounter {
	if s.queue == nil {
		return searchCounter(s.opts.Search)
	}
	return func(ctx context.Context) (flaggedCounts, error) {
		if err := s.queue.ensure(ctx); err != nil {
			return flaggedCounts{}, err
		}
		return s.queue.counts(), nil
	}
}

// loadStats gathers the dashboard: suspects by status, brand and
// marketplace, and the sweep records.
func loadStats(ctx context.Context, counter statsCounter, sweeps SweepStore) (stats, error) {
	c, err := counter(ctx)
	if err != nil {
		return stats{}, err
	}
	st := stats{Suspects: c.Total, ByStatus: c.ByStatus}
	st.Pending = st.ByStatus[string(listing.StatusNew)]
	st.Dismissed = st.ByStatus[string(listing.StatusDismissed)]
	st.Noticed = st.ByStatus[string(listing.StatusNoticed)]
	st.Removed = st.ByStatus[string(listing.StatusRemoved)]
	st.StillUp = st.ByStatus[string(listing.StatusStillUp)]
	st.Confirmed = st.ByStatus[string(listing.StatusConfirmed)] + st.Noticed + st.Removed + st.StillUp
	if n := st.Noticed + st.Removed + st.StillUp; n > 0 {
		st.Takedown = float64(st.Removed) / float64(n)
	}
	rows := map[string]map[string]*breakdown{"marketplace": {}, "brand": {}}
	for field, terms := range c.ByField {
		for term, byStatus := range terms {
			b := &breakdown{Name: term}
			for status, n := range byStatus {
				b.Suspects += n
				switch {
				case status == string(listing.StatusDismissed):
					b.Dismissed += n
				case status != string(listing.StatusNew):
					b.Confirmed += n
				}
			}
			rows[field][term] = b
		}
	}
	flatten := func(m map[string]*breakdown) []breakdown {
		out := make([]breakdown, 0, len(m))
		for _, b := range m {
			out = append(out, *b)
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Suspects != out[j].Suspects {
				return out[i].Suspects > out[j].Suspects
			}
			return out[i].Name < out[j].Name
		})
		return out
	}
	st.Marketplace, st.Brand = flatten(rows["marketplace"]), flatten(rows["brand"])
	st.Sweeps = []sweepPoint{}
	if sweeps != nil {
		sw, err := sweeps.Sweeps(ctx, 30)
		if err != nil {
			return st, fmt.Errorf("dashboard: %w", err)
		}
		for i := len(sw) - 1; i >= 0; i-- { // oldest first
			s := sw[i]
			st.Sweeps = append(st.Sweeps, sweepPoint{ID: s.ID, Started: s.Started.UTC().Format("01-02 15:04"), Found: s.Counters.Found, Suspects: s.Counters.Flagged, State: string(s.State)})
		}
	}
	return st, nil
}

func handleDashboard(rs *responder, counter statsCounter, sweeps SweepStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := loadStats(r.Context(), counter, sweeps)
		if err != nil {
			rs.fail(w, r, err)
			return
		}
		if isAPI(r) {
			rs.json(w, http.StatusOK, st)
			return
		}
		st.Charts = map[string]template.HTML{
			"sweeps":      sweepChart(st.Sweeps),
			"outcomes":    stackedBars([]barRow{{"All suspects", []int{st.Confirmed, st.Dismissed, st.Pending}}}),
			"marketplace": stackedBars(breakdownRows(st.Marketplace)),
			"brand":       stackedBars(breakdownRows(st.Brand)),
		}
		rs.html(w, r, http.StatusOK, "dashboard", "Dashboard", st)
	})
}

// ---- server-side SVG charts ----

type barRow struct {
	Label  string
	Values []int // confirmed, dismissed, pending
}

func breakdownRows(bs []breakdown) []barRow {
	rows := make([]barRow, 0, len(bs))
	for _, b := range bs {
		pending := b.Suspects - b.Confirmed - b.Dismissed
		if pending < 0 {
			pending = 0
		}
		rows = append(rows, barRow{b.Name, []int{b.Confirmed, b.Dismissed, pending}})
	}
	if len(rows) > 12 {
		rows = rows[:12]
	}
	return rows
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// stackedBars draws one horizontal bar per row, split into the series
// confirmed / dismissed / pending (CSS classes s0, s1, s2).
func stackedBars(rows []barRow) template.HTML {
	if len(rows) == 0 {
		return template.HTML(`<p class="muted">No suspects yet.</p>`)
	}
	const width, labelW, rowH = 640, 150, 26
	max := 1
	for _, r := range rows {
		t := 0
		for _, v := range r.Values {
			t += v
		}
		if t > max {
			max = t
		}
	}
	h := len(rows)*rowH + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="suspects by outcome">`, width, h)
	scale := float64(width-labelW-60) / float64(max)
	names := []string{"confirmed", "dismissed", "pending"}
	for i, r := range rows {
		y := i*rowH + 4
		fmt.Fprintf(&b, `<text class="label" x="%d" y="%d" text-anchor="end">%s</text>`, labelW-8, y+16, esc(truncate(r.Label, 22)))
		x := float64(labelW)
		total := 0
		for s, v := range r.Values {
			if v == 0 {
				continue
			}
			w := float64(v) * scale
			fmt.Fprintf(&b, `<rect class="s%d" x="%.1f" y="%d" width="%.1f" height="18"><title>%s: %d %s</title></rect>`, s, x, y+2, w, esc(r.Label), v, names[s])
			x += w
			total += v
		}
		fmt.Fprintf(&b, `<text class="value" x="%.1f" y="%d">%d</text>`, x+6, y+16, total)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// sweepChart draws suspects (and listings found) per sweep, oldest left.
func sweepChart(points []sweepPoint) template.HTML {
	if len(points) == 0 {
		return template.HTML(`<p class="muted">No sweeps yet.</p>`)
	}
	const width, height, left, bottom, top = 640, 220, 40, 36, 12
	max := 1
	for _, p := range points {
		if p.Suspects > max {
			max = p.Suspects
		}
	}
	plotH := float64(height - bottom - top)
	slot := float64(width-left-8) / float64(len(points))
	bw := min(slot*0.6, 44)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="suspects per sweep">`, width, height)
	for i := 0; i <= 4; i++ {
		v := max * i / 4
		y := float64(top) + plotH - plotH*float64(v)/float64(max)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/><text class="axis" x="%d" y="%.1f" text-anchor="end">%d</text>`, left, width-4, y, y, left-6, y+4, v)
	}
	every := (len(points) + 7) / 8
	for i, p := range points {
		x := float64(left) + slot*float64(i) + (slot-bw)/2
		hgt := plotH * float64(p.Suspects) / float64(max)
		fmt.Fprintf(&b, `<rect class="sweep" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d suspects of %d found</title></rect>`,
			x, float64(top)+plotH-hgt, bw, hgt, esc(p.Started), p.Suspects, p.Found)
		if i%every == 0 {
			fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x+bw/2, height-bottom+16, esc(p.Started))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
