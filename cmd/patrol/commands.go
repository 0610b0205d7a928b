package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/patrol-dev/patrol/index"
	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/store"
	"github.com/patrol-dev/patrol/sweep"
)

func newConfigCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "config", Short: "Inspect the config"}
	c.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Validate the config and print what was understood",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			if err := cfg.Describe(g.stdout); err != nil {
				return fmt.Errorf("print config: %w", err)
			}
			fmt.Fprintf(g.stdout, "config %s is valid\n", cfg.Path)
			return nil
		},
	})
	return c
}

func newSweepCmd(g *globals) *cobra.Command {
	var marketplaces, brands []string
	var noProgress bool
	c := &cobra.Command{
		Use:   "sweep",
		Short: "Sweep every marketplace × brand once (resumes an interrupted sweep)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withApp(cmd, true, func(ctx context.Context, a *app) error {
				sw, err := a.runSweep(ctx, marketplaces, brands, !noProgress)
				printSweepSummary(g.stdout, sw)
				return err
			})
		},
	}
	c.Flags().StringSliceVar(&marketplaces, "marketplace", nil, "only these marketplaces (repeatable)")
	c.Flags().StringSliceVar(&brands, "brand", nil, "only these brands (repeatable)")
	c.Flags().BoolVar(&noProgress, "no-progress", false, "no progress bar even on a terminal")
	return c
}

// runSweep runs one sweep with a progress bar on a terminal and plain log
// lines otherwise.
func (a *app) runSweep(ctx context.Context, marketplaces, brands []string, progress bool) (listing.Sweep, error) {
	opts, err := a.sweepOptions(marketplaces, brands)
	if err != nil {
		return listing.Sweep{}, err
	}
	if progress {
		opts.Progress = newProgress(a.g.stderr)
	}
	sw, err := sweep.New(opts).Run(ctx)
	if err != nil {
		return sw, fmt.Errorf("sweep: %w", err)
	}
	return sw, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newProgress draws a bar on a terminal; elsewhere it logs a line every
// few seconds so a log file shows the sweep moving.
func newProgress(w io.Writer) func(sweep.Progress) {
	if isTerminal(w) {
		bar := progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("sweeping"),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(100*time.Millisecond),
		)
		return func(p sweep.Progress) {
			c := p.Counters
			rate := 0.0
			if p.Elapsed > 0 {
				rate = float64(c.SearchPages+c.ListingPages) / p.Elapsed.Seconds()
			}
			bar.Describe(fmt.Sprintf("pages %d (%.1f/s) · listings %d · pending %d · flagged %d · errors %d",
				c.SearchPages+c.ListingPages, rate, c.New+c.Changed+c.Unchanged, p.Pending, c.Flagged, c.Errors))
			bar.Add(1)
		}
	}
	var last time.Time
	return func(p sweep.Progress) {
		if time.Since(last) < 5*time.Second {
			return
		}
		last = time.Now()
		c := p.Counters
		fmt.Fprintf(w, "sweep %s: pages %d, listings %d, pending %d, flagged %d, errors %d\n",
			p.SweepID, c.SearchPages+c.ListingPages, c.New+c.Changed+c.Unchanged, p.Pending, c.Flagged, c.Errors)
	}
}

func printSweepSummary(w io.Writer, sw listing.Sweep) {
	if sw.ID == "" {
		return
	}
	c := sw.Counters
	dur := ""
	if !sw.Ended.IsZero() {
		dur = sw.Ended.Sub(sw.Started).Round(time.Millisecond).String()
	}
	fmt.Fprintf(w, "sweep %s %s in %s: %d search pages, %d listing pages, %d images; listings %d new, %d changed, %d unchanged; %d flagged; %d errors (%d blocked)\n",
		sw.ID, sw.State, dur, c.SearchPages, c.ListingPages, c.Images, c.New, c.Changed, c.Unchanged, c.Flagged, c.Errors, c.Blocked)
	for i, f := range sw.Failures {
		if i == 5 {
			fmt.Fprintf(w, "  … %d more failures (patrol report, or the sweep page in the UI)\n", c.Errors-5)
			break
		}
		fmt.Fprintf(w, "  failed %s %s: %s\n", f.Kind, f.URL, strings.TrimPrefix(f.Error, f.URL+": "))
	}
}

// record is the stable export shape (the CLI contract): one listing as
// export, review list --json and check print it.
type record struct {
	ID          listing.ID       `json:"id"`
	URL         string           `json:"url"`
	Marketplace string           `json:"marketplace"`
	Title       string           `json:"title"`
	Price       float64          `json:"price"`
	Currency    string           `json:"currency"`
	Seller      string           `json:"seller"`
	Brand       string           `json:"brand"`
	Score       float64          `json:"score"`
	Flagged     bool             `json:"flagged"`
	Signals     []listing.Signal `json:"signals"`
	Status      listing.Status   `json:"status"`
	Images      []string         `json:"images"`
	Snapshot    string           `json:"snapshot_sha256,omitempty"`
	FetchedAt   time.Time        `json:"fetched_at"`
	FirstSeen   time.Time        `json:"first_seen"`
	LastSeen    time.Time        `json:"last_seen"`
}

func toRecord(l listing.Listing) record {
	r := record{
		ID: l.ID, URL: l.URL, Marketplace: l.Marketplace, Title: l.Title, Price: l.Price, Currency: l.Currency,
		Seller: l.Seller, Brand: l.Brand, Score: round3(l.Score), Flagged: l.Flagged, Signals: l.Signals, Status: l.Status,
		Snapshot: l.SnapshotSHA256, FetchedAt: l.FetchedAt, FirstSeen: l.FirstSeen, LastSeen: l.LastSeen, Images: []string{},
	}
	if r.Signals == nil {
		r.Signals = []listing.Signal{}
	}
	for _, img := range l.Images {
		r.Images = append(r.Images, img.URL)
	}
	return r
}

func round3(f float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', 3, 64), 64)
	return v
}

func writeJSONL(w io.Writer, ls []listing.Listing) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, l := range ls {
		if err := enc.Encode(toRecord(l)); err != nil {
			return fmt.Errorf("write listing %s: %w", l.ID, err)
		}
	}
	return nil
}

// csvSafe neutralises spreadsheet formulas in scraped text: a cell that
// starts with = + - @ or a control character is prefixed with a quote.
func csvSafe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

func writeCSV(w io.Writer, ls []listing.Listing) error {
	cw := csv.NewWriter(w)
	header := []string{"id", "url", "marketplace", "title", "price", "currency", "seller", "brand", "score", "flagged", "status", "signals"}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	for _, l := range ls {
		var sig []string
		for _, s := range l.Signals {
			sig = append(sig, fmt.Sprintf("%s(%+.2f): %s", s.Name, s.Weight, s.Detail))
		}
		row := []string{string(l.ID), csvSafe(l.URL), l.Marketplace, csvSafe(l.Title), strconv.FormatFloat(l.Price, 'f', 2, 64), l.Currency,
			csvSafe(l.Seller), csvSafe(l.Brand), strconv.FormatFloat(l.Score, 'f', 3, 64), strconv.FormatBool(l.Flagged), string(l.Status), csvSafe(strings.Join(sig, "; "))}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}

// allListings reads every listing, highest score first, then by ID so the
// order is stable.
func allListings(ctx context.Context, st *store.Store, keep func(listing.Listing) bool) ([]listing.Listing, error) {
	var out []listing.Listing
	err := st.EachListing(ctx, func(l listing.Listing) error {
		if keep == nil || keep(l) {
			out = append(out, l)
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}

func newExportCmd(g *globals) *cobra.Command {
	var format string
	var flaggedOnly bool
	c := &cobra.Command{
		Use:   "export",
		Short: "Print every listing (jsonl or csv) to stdout",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "jsonl" && format != "csv" {
				return usagef("--format must be jsonl or csv, not %q", format)
			}
			return g.withApp(cmd, false, func(_ context.Context, a *app) error {
				ls, err := allListings(cmd.Context(), a.store, func(l listing.Listing) bool { return !flaggedOnly || l.Flagged })
				if err != nil {
					return fmt.Errorf("read listings: %w", err)
				}
				if format == "csv" {
					return writeCSV(g.stdout, ls)
				}
				return writeJSONL(g.stdout, ls)
			})
		},
	}
	c.Flags().StringVar(&format, "format", "jsonl", "jsonl or csv")
	c.Flags().BoolVar(&flaggedOnly, "flagged", false, "only flagged listings")
	return c
}

// truncate shortens s to n runes for a table cell.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// why summarises the strongest signals for a table.
func why(l listing.Listing, n int) string {
	sig := append([]listing.Signal(nil), l.Signals...)
	sort.SliceStable(sig, func(i, j int) bool { return abs(sig[i].Weight) > abs(sig[j].Weight) })
	var parts []string
	for _, s := range sig {
		if len(parts) == n {
			break
		}
		if s.Weight <= 0 {
			continue
		}
		parts = append(parts, s.Name+": "+s.Detail)
	}
	return strings.Join(parts, "; ")
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// printSuspects writes the suspects table: score, title, seller, price,
// why.
func printSuspects(w io.Writer, ls []listing.Listing) {
	fmt.Fprintf(w, "%-16s %5s  %-44s %-22s %10s  %s\n", "ID", "SCORE", "TITLE", "SELLER", "PRICE", "WHY")
	for _, l := range ls {
		price := fmt.Sprintf("%.2f %s", l.Price, l.Currency)
		fmt.Fprintf(w, "%-16s %5.2f  %-44s %-22s %10s  %s\n", l.ID, l.Score, truncate(l.Title, 44), truncate(l.Seller, 22), price, truncate(why(l, 3), 110))
	}
}

func newSearchCmd(g *globals) *cobra.Command {
	var q index.Query
	var flagged string
	var since string
	var asJSON bool
	c := &cobra.Command{
		Use:   "search QUERY",
		Short: "Search the index with Bleve's query-string syntax",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				q.Text = args[0]
			}
			switch flagged {
			case "":
			case "true", "yes":
				t := true
				q.Flagged = &t
			case "false", "no":
				f := false
				q.Flagged = &f
			default:
				return usagef("--flagged must be true or false")
			}
			if since != "" {
				t, err := parseSince(since, time.Now())
				if err != nil {
					return usageError{err}
				}
				q.Since = t
			}
			// Fragments are marked in reverse video on a terminal and as
			// <mark> in JSON (for a UI); piped text gets none.
			q.Highlight = asJSON || isTerminal(g.stdout)
			if !asJSON {
				q.HighlightStyle = index.HighlightANSI
			}
			return g.withApp(cmd, true, func(_ context.Context, a *app) error {
				res, err := a.index.Search(cmd.Context(), q)
				if err != nil {
					return usagef("search: %v", err)
				}
				return printSearch(cmd.Context(), g.stdout, a.store, res, asJSON)
			})
		},
	}
	c.Flags().StringVar(&q.Brand, "brand", "", "only this brand")
	c.Flags().StringVar(&q.Marketplace, "marketplace", "", "only this marketplace")
	c.Flags().StringVar(&q.Seller, "seller", "", "only this seller")
	c.Flags().StringVar(&q.Status, "status", "", "only this status (new, confirmed, dismissed, noticed, removed, still_up)")
	c.Flags().StringVar(&flagged, "flagged", "", "true: only flagged; false: only not flagged")
	c.Flags().Float64Var(&q.MinScore, "min-score", 0, "only listings scoring at least this")
	c.Flags().StringVar(&since, "since", "", "only listings fetched since a date (2006-01-02) or a duration ago (72h)")
	c.Flags().StringVar(&q.Sort, "sort", "score", "score, date, price or relevance")
	c.Flags().IntVar(&q.Limit, "limit", 20, "results per page")
	c.Flags().IntVar(&q.Offset, "offset", 0, "results to skip")
	c.Flags().BoolVar(&asJSON, "json", false, "JSON output")
	c.Flags().BoolVar(&q.Facets, "facets", true, "count matches by marketplace, brand, seller and status (visits every match; --facets=false for a fast page and a total exact up to 1000)")
	return c
}

func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: want a date (2006-01-02), RFC 3339 time or duration (72h)", s)
}

type searchHitJSON struct {
	record
	Relevance float64             `json:"relevance"`
	Fragments map[string][]string `json:"fragments,omitempty"`
}

func printSearch(ctx context.Context, w io.Writer, st *store.Store, res index.Result, asJSON bool) error {
	var hits []searchHitJSON
	for _, h := range res.Hits {
		l, err := st.Listing(ctx, h.ID)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			return err
		}
		hits = append(hits, searchHitJSON{record: toRecord(l), Relevance: h.Relevance, Fragments: h.Fragments})
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		out := map[string]any{"total": res.Total, "hits": hitsOrEmpty(hits), "facets": res.Facets}
		if res.TotalAtLeast {
			out["total_at_least"] = true
		}
		return enc.Encode(out)
	}
	plus := ""
	if res.TotalAtLeast {
		plus = "+"
	}
	fmt.Fprintf(w, "%d%s matches\n", res.Total, plus)
	for _, h := range hits {
		fmt.Fprintf(w, "%-16s %5.2f  %-10s %-44s %-20s %8.2f %s  [%s]\n", h.ID, h.Score, h.Marketplace, truncate(h.Title, 44), truncate(h.Seller, 20), h.Price, h.Currency, h.Status)
		for field, frs := range h.Fragments {
			for _, f := range frs {
				fmt.Fprintf(w, "    %s: %s\n", field, truncate(f, 140))
			}
		}
	}
	names := make([]string, 0, len(res.Facets))
	for k := range res.Facets {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		var parts []string
		for _, fc := range res.Facets[k] {
			parts = append(parts, fmt.Sprintf("%s (%d)", fc.Term, fc.Count))
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "%s: %s\n", k, strings.Join(parts, ", "))
		}
	}
	return nil
}

func hitsOrEmpty(h []searchHitJSON) []searchHitJSON {
	if h == nil {
		return []searchHitJSON{}
	}
	return h
}

func newCheckCmd(g *globals) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "check URL...",
		Short: "Fetch, score and store the given listing pages (same politeness and evidence as a sweep)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withApp(cmd, true, func(ctx context.Context, a *app) error {
				opts, err := a.sweepOptions(nil, nil)
				if err != nil {
					return err
				}
				results := sweep.New(opts).Check(ctx, args, a.marketplaceForHost)
				var ok []listing.Listing
				failed := 0
				for _, r := range results {
					switch {
					case r.Err != nil:
						failed++
						fmt.Fprintf(g.stderr, "check %s: %v\n", r.URL, r.Err)
					case r.Removed:
						fmt.Fprintf(g.stderr, "check %s: listing is gone (removed)\n", r.URL)
					default:
						ok = append(ok, r.Listing)
					}
				}
				if asJSON {
					if err := writeJSONL(g.stdout, ok); err != nil {
						return err
					}
				} else {
					printSuspects(g.stdout, ok)
				}
				if failed == len(results) {
					return fmt.Errorf("no URL could be checked")
				}
				return nil
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "one JSON object per line, as export")
	return c
}

func newRescoreCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rescore",
		Short: "Re-run the matcher over stored listings after the config changed (no crawling)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withApp(cmd, true, func(ctx context.Context, a *app) error {
				m, err := a.matcher()
				if err != nil {
					return err
				}
				opts := sweep.Options{Store: a.store, Index: a.index, Matcher: m, Log: a.log}
				scored, changed, err := sweep.New(opts).Rescore(ctx)
				if err != nil {
					return fmt.Errorf("rescore: %w", err)
				}
				fmt.Fprintf(g.stdout, "rescored %d listings, %d changed\n", scored, changed)
				return nil
			})
		},
	}
}

func newReindexCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the search index from the store",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			path := cfg.DataDir + "/index.bleve"
			if err := os.RemoveAll(path); err != nil {
				return fmt.Errorf("remove old index: %w", err)
			}
			a, err := openApp(ctx, g, cfg, true)
			if err != nil {
				return err
			}
			defer a.close()
			n, err := a.index.Count()
			if err != nil {
				return fmt.Errorf("count index: %w", err)
			}
			fmt.Fprintf(g.stdout, "reindexed %d listings\n", n)
			return nil
		},
	}
}

func newReviewCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "review", Short: "The analyst's queue from a terminal"}
	var asJSON, all bool
	var brand string
	list := &cobra.Command{
		Use:   "list",
		Short: "Flagged listings awaiting review, highest score first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withApp(cmd, false, func(_ context.Context, a *app) error {
				ls, err := allListings(cmd.Context(), a.store, func(l listing.Listing) bool {
					if brand != "" && !strings.EqualFold(l.Brand, brand) {
						return false
					}
					return l.Flagged && (all || l.Status == listing.StatusNew)
				})
				if err != nil {
					return fmt.Errorf("read queue: %w", err)
				}
				if asJSON {
					return writeJSONL(g.stdout, ls)
				}
				printSuspects(g.stdout, ls)
				return nil
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "one JSON object per line, as export")
	list.Flags().BoolVar(&all, "all", false, "include reviewed listings")
	list.Flags().StringVar(&brand, "brand", "", "only this brand")
	c.AddCommand(list, verdictCmd(g, "confirm", listing.StatusConfirmed), verdictCmd(g, "dismiss", listing.StatusDismissed))
	return c
}

func verdictCmd(g *globals, verb string, status listing.Status) *cobra.Command {
	var analyst, note string
	c := &cobra.Command{
		Use:   verb + " ID...",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " listings by ID (as in export)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withApp(cmd, true, func(ctx context.Context, a *app) error {
				if analyst == "" {
					analyst = os.Getenv("USER")
				}
				if analyst == "" {
					analyst = "cli"
				}
				var changed []listing.Listing
				for _, id := range args {
					// The verdict and its audit entry commit together.
					v, err := a.store.RecordVerdict(ctx, listing.Verdict{ListingID: listing.ID(id), Status: status, Analyst: analyst, Note: note}, verb)
					if err != nil {
						if errors.Is(err, store.ErrNotFound) {
							return usagef("%s %s: no such listing", verb, id)
						}
						return fmt.Errorf("%s: %w", verb, err)
					}
					l, err := a.store.Listing(ctx, listing.ID(id))
					if err != nil {
						return err
					}
					changed = append(changed, l)
					fmt.Fprintf(g.stdout, "%s %s (was %s)\n", verb+"ed", id, v.Previous)
				}
				if err := a.index.Put(ctx, changed); err != nil {
					a.log.Warn("index update failed; repaired on next start", "err", err)
				}
				return nil
			})
		},
	}
	c.Flags().StringVar(&analyst, "analyst", "", "who decides (default $USER)")
	c.Flags().StringVar(&note, "note", "", "a note kept with the verdict")
	return c
}
