package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/spf13/cobra"

	"github.com/patrol-dev/patrol/alert"
	"github.com/patrol-dev/patrol/index"
	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/metrics"
	"github.com/patrol-dev/patrol/schedule"
	"github.com/patrol-dev/patrol/store"
	"github.com/patrol-dev/patrol/sweep"
	"github.com/patrol-dev/patrol/web"
)

func newServeCmd(g *globals) *cobra.Command {
	var addr string
	var insecure bool
	c := &cobra.Command{
		Use:   "serve",
		Short: "Web UI, JSON API, scheduled sweeps and /metrics",
		Long: `serve runs until SIGINT or SIGTERM: the analysts' UI and JSON API, the
sweep schedule from the config (a missed run runs once at start-up), alerts,
retention, /metrics, /healthz and /readyz. On the first signal it stops
taking work, lets pages in flight finish, records the sweep as interrupted
(the next run resumes it) and exits; a second signal exits at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withApp(cmd, true, func(_ context.Context, a *app) error {
				a.insecureCookies = insecure
				return a.serve(cmd.Context(), addr)
			})
		},
	}
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen address (loopback by default)")
	c.Flags().BoolVar(&insecure, "insecure-cookies", false, "plain cookies without Secure/__Host- (only behind a TLS-terminating proxy that rewrites them)")
	return c
}

// server is everything `patrol serve` runs.
type server struct {
	a        *app
	metrics  *metrics.Metrics
	notifier *alert.Notifier
	sched    *schedule.Scheduler
	sweepMu  sync.Mutex // one sweep of the store at a time
}

// serve runs the UI, the API, the schedule and the metrics until ctx ends.
func (a *app) serve(ctx context.Context, addr string) error {
	s := &server{a: a, metrics: metrics.New()}
	a.metrics = s.metrics
	cfg := a.cfg
	var err error
	s.notifier, err = a.newNotifier(s.metrics)
	if err != nil {
		return err
	}
	var names []string
	overrides := map[string]string{}
	for _, m := range cfg.Marketplaces {
		names = append(names, m.Name)
		if m.Schedule != "" {
			overrides[m.Name] = m.Schedule
		}
	}
	sweeps, err := a.store.Sweeps(ctx, 0)
	if err != nil {
		return fmt.Errorf("read sweeps: %w", err)
	}
	s.sched, err = schedule.New(schedule.Options{
		Spec: cfg.Schedule, Overrides: overrides, Marketplaces: names,
		Run:       s.runSweep,
		LastRun:   schedule.LastRunFromSweeps(sweeps),
		Exclusive: true, // the store resumes one unfinished sweep at a time
		Log:       a.log.With("component", "schedule"),
	})
	if err != nil {
		return fmt.Errorf("set up schedule: %w", err)
	}
	if n, err := a.index.Count(); err == nil {
		s.metrics.SetIndexDocs(n)
	}
	s.updateNoticeGauge(ctx)

	ui, err := a.newWeb(s)
	if err != nil {
		return err
	}
	a.ui = ui
	go func() {
		// Build the queue view now rather than on the first request.
		if err := ui.Warm(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("warm queue view", "err", err)
		}
	}()
	healthz, readyz := metrics.Health(map[string]metrics.Check{
		"store": func(ctx context.Context) error { _, err := a.store.CountListings(ctx); return err },
		"index": func(ctx context.Context) error { _, err := a.index.Count(); return err },
	})
	mux := http.NewServeMux()
	mux.Handle("/metrics", s.metrics.Handler(cfg.Metrics.Token))
	mux.Handle("/healthz", healthz)
	mux.Handle("/readyz", readyz)
	mux.Handle("/", ui.Handler())

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	fmt.Fprintf(a.g.stdout, "patrol serving on http://%s (UI, /api, /metrics)\n", ln.Addr())

	var retention *cron.Cron
	if cfg.Retention.DismissedAfter > 0 || cfg.Retention.UnchangedAfter > 0 {
		retention = cron.New()
		spec := cfg.Retention.Schedule
		if spec == "" {
			spec = "@daily"
		}
		if _, err := retention.AddFunc(spec, func() { s.purge(ctx) }); err != nil {
			return fmt.Errorf("set up retention schedule: %w", err)
		}
		retention.Start()
	}
	s.sched.Start(ctx)
	// A sweep interrupted by the last shutdown (or a crash) resumes now,
	// whatever the schedule says.
	if sw, ok, err := a.store.Unfinished(ctx); err == nil && ok {
		a.log.Info("resuming interrupted sweep", "sweep", sw.ID)
		if err := s.sched.TriggerNow(ctx, sw.Marketplaces); err != nil && !errors.Is(err, schedule.ErrBusy) {
			a.log.Warn("resume interrupted sweep", "err", err)
		}
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		s.sched.Stop()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(a.g.stderr, "patrol: stopping (again to exit at once)")
	if retention != nil {
		retention.Stop()
	}
	s.sched.Stop() // cancels running sweeps: they record themselves interrupted
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		a.log.Warn("http shutdown", "err", err)
	}
	s.notifier.Wait()
	return nil
}

func (a *app) newNotifier(m *metrics.Metrics) (*alert.Notifier, error) {
	ac := a.cfg.Alerts
	opts := alert.Options{
		MinScore: ac.MinScore, MaxListed: ac.MaxListed, BaseURL: ac.BaseURL,
		Retry:      alert.Retry{Attempts: ac.Retry.Attempts, Base: ac.Retry.Base, Max: ac.Retry.Max},
		Log:        a.log.With("component", "alert"),
		OnDelivery: func(d alert.Delivery) { m.ObserveAlert(d.Receiver, d.OK) },
	}
	for _, w := range ac.Webhooks {
		opts.Webhooks = append(opts.Webhooks, alert.Webhook{Name: w.Name, URL: w.URL, Format: w.Format, Secret: w.Secret})
	}
	if ac.Email.Host != "" {
		e := ac.Email
		opts.Email = &alert.Email{Host: e.Host, Port: e.Port, From: e.From, To: e.To, Username: e.Username, Password: e.Password}
	}
	n, err := alert.New(opts)
	if err != nil {
		return nil, fmt.Errorf("set up alerts: %w", err)
	}
	return n, nil
}

// runSweep is the scheduler's RunFunc: one sweep of the given marketplaces,
// then metrics and alerts for it.
func (s *server) runSweep(ctx context.Context, marketplaces []string, reason string) error {
	s.sweepMu.Lock()
	defer s.sweepMu.Unlock()
	a := s.a
	opts, err := a.sweepOptions(marketplaces, nil)
	if err != nil {
		return err
	}
	opts.Observe = func(l listing.Listing, outcome string) {
		s.metrics.ObserveListing(l, outcome)
		if a.ui != nil {
			a.ui.Updated(l)
		}
	}
	a.log.Info("sweep starting", "marketplaces", strings.Join(marketplaces, ","), "reason", reason)
	sw, runErr := sweep.New(opts).Run(ctx)
	if sw.ID != "" {
		s.metrics.ObserveSweep(sw, 0)
	}
	if n, err := a.index.Count(); err == nil {
		s.metrics.SetIndexDocs(n)
	}
	// A sweep that finds a removed listing live again moves its notices
	// back to still_up.
	s.updateNoticeGauge(context.WithoutCancel(ctx))
	if runErr == nil && sw.State == listing.SweepDone {
		var all []listing.Listing
		err := a.store.EachListing(context.WithoutCancel(ctx), func(l listing.Listing) error {
			if l.SweepID == sw.ID {
				all = append(all, l)
			}
			return nil
		})
		if err != nil {
			a.log.Error("collect new suspects", "err", err)
		} else {
			if a.ui != nil {
				a.ui.Updated(all...) // the end-of-sweep re-judgement included
			}
			s.notifier.SweepFinished(context.WithoutCancel(ctx), sw, alert.NewSuspects(sw, all))
		}
	}
	a.log.Info("sweep finished", "sweep", sw.ID, "state", sw.State, "flagged", sw.Counters.Flagged, "err", runErr)
	return runErr
}

func (s *server) updateNoticeGauge(ctx context.Context) {
	ns, err := s.a.store.Notices(ctx, store.NoticeFilter{})
	if err != nil {
		s.a.log.Warn("count notices", "err", err)
		return
	}
	by := map[string]int{}
	for _, n := range ns {
		by[string(n.State)]++
	}
	s.metrics.SetNotices(by)
}

// purge applies the retention policy and drops purged listings from the
// index.
func (s *server) purge(ctx context.Context) {
	a := s.a
	s.sweepMu.Lock()
	defer s.sweepMu.Unlock()
	st, err := a.store.Purge(ctx, store.RetentionPolicy{
		DismissedOlderThan: a.cfg.Retention.DismissedAfter,
		UnchangedOlderThan: a.cfg.Retention.UnchangedAfter,
		Now:                time.Now().UTC(),
	})
	if err != nil {
		a.log.Error("retention purge", "err", err)
		return
	}
	s.metrics.ObservePurge(st.Listings, st.Snapshots, st.Images)
	if err := a.index.Delete(ctx, st.Purged); err != nil {
		a.log.Warn("drop purged listings from index; repaired on next start", "err", err)
	}
	a.log.Info("retention purge", "listings", st.Listings, "snapshots", st.Snapshots, "images", st.Images)
}

// newWeb wires the UI to the store and index.
func (a *app) newWeb(s *server) (*web.Server, error) {
	loaded, err := a.references()
	if err != nil {
		return nil, err
	}
	var refs []web.Reference
	for _, r := range loaded {
		refs = append(refs, web.Reference{Name: r.name, Brand: r.brand, Data: r.data, PHash: r.hash.PHash})
	}
	var brands []web.Brand
	for _, b := range a.cfg.Brands {
		wb := web.Brand{Name: b.Name}
		for _, p := range b.Products {
			wb.Products = append(wb.Products, web.Product{Name: p.Name, MSRP: p.MSRP, Currency: p.Currency})
		}
		brands = append(brands, wb)
	}
	opts := web.Options{
		Listings: a.store, Verdicts: verdictIndexer{a}, Search: searchAdapter{a.index},
		Snapshots: a.store, Images: a.store, Sweeps: a.store, Notices: noticeIndexer{a, s},
		Users: a.store, Sessions: a.store, Audit: a.store,
		References: refs, Brands: brands,
		Log:           a.log.With("component", "web"),
		SecureCookies: !a.insecureCookies,
	}
	if s != nil {
		opts.StartSweep = func() error {
			err := s.sched.TriggerNow(context.Background(), nil)
			if errors.Is(err, schedule.ErrBusy) {
				return fmt.Errorf("a sweep is already running: %w", err)
			}
			return err
		}
	}
	ui, err := web.New(opts)
	if err != nil {
		return nil, fmt.Errorf("set up web UI: %w", err)
	}
	return ui, nil
}

// verdictIndexer records a verdict with its audit entry and re-indexes
// the listing, so the queue (served from the index) sees the new status at
// once.
type verdictIndexer struct{ a *app }

func (v verdictIndexer) RecordVerdict(ctx context.Context, vd listing.Verdict, action string) (listing.Verdict, error) {
	out, err := v.a.store.RecordVerdict(ctx, vd, action)
	if err != nil {
		return out, err
	}
	v.a.reindexListings(ctx, []listing.ID{vd.ListingID})
	return out, nil
}

// noticeIndexer marks notices sent from the UI and brings the index and
// the notices gauge in step: sending moves the cited listings to noticed.
type noticeIndexer struct {
	a *app
	s *server
}

func (n noticeIndexer) Notices(ctx context.Context, f store.NoticeFilter) ([]listing.Notice, error) {
	return n.a.store.Notices(ctx, f)
}

func (n noticeIndexer) ApproveNotice(ctx context.Context, id, by string, at time.Time, audit store.AuditFunc[listing.Notice]) (listing.Notice, error) {
	rec, err := n.a.store.ApproveNotice(ctx, id, by, at, audit)
	if err == nil && n.s != nil {
		n.s.updateNoticeGauge(ctx)
	}
	return rec, err
}

func (n noticeIndexer) MarkSent(ctx context.Context, id, by string, at time.Time, audit store.AuditFunc[listing.Notice]) (listing.Notice, error) {
	rec, err := n.a.store.MarkSent(ctx, id, by, at, audit)
	if err != nil {
		return rec, err
	}
	n.a.reindexListings(ctx, rec.ListingIDs())
	if n.s != nil {
		n.s.updateNoticeGauge(ctx)
	}
	return rec, nil
}

// searchAdapter lets the UI query the index without importing it.
type searchAdapter struct{ ix *index.Index }

func (s searchAdapter) Search(ctx context.Context, q web.SearchQuery) (web.SearchResult, error) {
	iq := index.Query{
		Text: q.Text, Brand: q.Brand, Marketplace: q.Marketplace, Seller: q.Seller, Status: q.Status,
		Flagged: q.Flagged, MinScore: q.MinScore, MaxScore: q.MaxScore, MinPrice: q.MinPrice, MaxPrice: q.MaxPrice,
		Since: q.Since, Limit: q.Limit, Offset: q.Offset, Facets: q.Facets, Highlight: q.Highlight,
	}
	switch q.Sort {
	case "-score", "score":
		iq.Sort = index.SortScore
	case "-last_seen", "last_seen", "-date":
		iq.Sort = index.SortDate
	case "price", "-price":
		iq.Sort = index.SortPrice
	default:
		iq.Sort = index.SortRelevance
	}
	res, err := s.ix.Search(ctx, iq)
	if err != nil {
		return web.SearchResult{}, err
	}
	out := web.SearchResult{Total: res.Total, TotalAtLeast: res.TotalAtLeast, Facets: map[string][]web.FacetCount{}}
	for _, h := range res.Hits {
		out.Hits = append(out.Hits, web.SearchHit{ID: h.ID, Score: h.Score, Relevance: h.Relevance, Fragments: h.Fragments})
	}
	for k, fcs := range res.Facets {
		for _, fc := range fcs {
			out.Facets[k] = append(out.Facets[k], web.FacetCount{Term: fc.Term, Count: fc.Count})
		}
	}
	return out, nil
}
