package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/patrol-dev/patrol/config"
	"github.com/patrol-dev/patrol/crawler"
	"github.com/patrol-dev/patrol/fold"
	"github.com/patrol-dev/patrol/imagehash"
	"github.com/patrol-dev/patrol/index"
	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/matcher"
	"github.com/patrol-dev/patrol/metrics"
	"github.com/patrol-dev/patrol/store"
	"github.com/patrol-dev/patrol/sweep"
	"github.com/patrol-dev/patrol/web"
)

// globals are the flags every command shares.
type globals struct {
	configPath string
	logLevel   string
	logFormat  string
	stdin      io.Reader
	stdout     io.Writer
	stderr     io.Writer
}

func isConfigError(err error) bool {
	return errors.Is(err, config.ErrInvalid)
}

func newRootCmd(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "patrol",
		Short:         "Find counterfeit listings on online marketplaces and get them taken down",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().StringVar(&g.configPath, "config", "patrol.yaml", "config file")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.AddCommand(
		newVersionCmd(g),
		newConfigCmd(g),
		newSweepCmd(g),
		newExportCmd(g),
		newDemoCmd(g),
		newSearchCmd(g),
		newCheckCmd(g),
		newRescoreCmd(g),
		newReviewCmd(g),
		newReindexCmd(g),
	)
	for _, c := range extraCommands(g) {
		root.AddCommand(c)
	}
	return root
}

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print patrol's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(g.stdout, "patrol %s\n", version)
			return nil
		},
	}
}

func (g *globals) logger() *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
		lvl = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if g.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(g.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(g.stderr, opts))
}

func (g *globals) loadConfig() (*config.Config, error) {
	cfg, err := config.Load(g.configPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usagef("config %s not found (use --config FILE; `patrol demo` needs none)", g.configPath)
		}
		return nil, err
	}
	return cfg, nil
}

// app is everything a command may need, opened lazily and closed once.
type app struct {
	g     *globals
	cfg   *config.Config
	log   *slog.Logger
	store *store.Store
	index *index.Index
	// closers run in reverse order on close.
	closers []func() error
	// insecureCookies drops Secure/__Host- from UI cookies (serve flag).
	insecureCookies bool
	// metrics, under serve, hears every fetch and rate-limit wait.
	metrics *metrics.Metrics
	// ui, under serve, keeps its queue view in step with changes made
	// outside the UI.
	ui *web.Server
	// mu guards refs, the reference photos loaded on first use.
	mu   sync.Mutex
	refs []reference
}

func (g *globals) open(ctx context.Context, withIndex bool) (*app, error) {
	cfg, err := g.loadConfig()
	if err != nil {
		return nil, err
	}
	return openApp(ctx, g, cfg, withIndex)
}

func openApp(ctx context.Context, g *globals, cfg *config.Config, withIndex bool) (*app, error) {
	a := &app{g: g, cfg: cfg, log: g.logger()}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	st, err := store.Open(filepath.Join(cfg.DataDir, "patrol.db"))
	if err != nil {
		return nil, err
	}
	a.store = st
	a.closers = append(a.closers, st.Close)
	if withIndex {
		if err := a.openIndex(ctx); err != nil {
			a.close()
			return nil, err
		}
	}
	return a, nil
}

// openIndex opens the Bleve index and repairs any mismatch with the store,
// which is the source of truth (a crash between the two writes leaves the
// index behind).
func (a *app) openIndex(ctx context.Context) error {
	ix, err := index.Open(filepath.Join(a.cfg.DataDir, "index.bleve"), index.Options{Fold: fold.Fold, Lookup: a.store.Listing})
	if err != nil {
		return fmt.Errorf("open index: %w", err)
	}
	a.index = ix
	a.closers = append(a.closers, ix.Close)
	added, updated, deleted, err := ix.Reconcile(ctx, a.eachListing(ctx))
	if err != nil {
		return fmt.Errorf("reconcile index with store: %w", err)
	}
	if added+updated+deleted > 0 {
		a.log.Info("index repaired from store", "added", added, "updated", updated, "deleted", deleted)
	}
	return nil
}

func (a *app) eachListing(ctx context.Context) func(yield func(listing.Listing) bool) {
	return func(yield func(listing.Listing) bool) {
		stop := errors.New("stop")
		err := a.store.EachListing(ctx, func(l listing.Listing) error {
			if !yield(l) {
				return stop
			}
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			a.log.Error("read listings", "err", err)
		}
	}
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			a.log.Error("close", "err", err)
		}
	}
	a.closers = nil
}

// reference is one of a brand's reference photos, read and hashed once
// per process: every sweep's matcher and the UI use the same.
type reference struct {
	brand string
	name  string
	data  []byte
	hash  imagehash.Hashes
	// hashErr says why the photo could not be hashed: the matcher refuses
	// to run without it, the UI still shows the photo.
	hashErr error
}

// references reads and hashes the config's reference photos the first
// time it is called.
func (a *app) references() ([]reference, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.refs != nil {
		return a.refs, nil
	}
	refs := []reference{}
	for _, b := range a.cfg.Brands {
		for _, path := range b.ReferenceImages {
			data, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("read reference image of %s: %w", b.Name, err)
			}
			r := reference{brand: b.Name, name: filepath.Base(path), data: data}
			if r.hash, err = imagehash.Compute(data, imagehash.Limits{}); err != nil {
				r.hashErr = fmt.Errorf("hash reference image %s of %s: %w", path, b.Name, err)
			}
			refs = append(refs, r)
		}
	}
	a.refs = refs
	return refs, nil
}

// matcher builds the matcher from the config's brands and their reference
// photos.
func (a *app) matcher() (*matcher.Matcher, error) {
	refs, err := a.references()
	if err != nil {
		return nil, err
	}
	var brands []matcher.Brand
	for _, b := range a.cfg.Brands {
		mb := matcher.Brand{
			Name: b.Name, Terms: b.Terms, MinPriceRatio: b.MinPriceRatio, Threshold: b.Threshold,
			AuthorizedSellers: b.AuthorizedSellers, NegativeTerms: b.NegativeTerms, SuspiciousTerms: b.SuspiciousTerms,
		}
		for _, p := range b.Products {
			mb.Products = append(mb.Products, matcher.Product{Name: p.Name, MSRP: p.MSRP, Currency: p.Currency})
		}
		for _, r := range refs {
			if r.brand == b.Name && r.hashErr != nil {
				return nil, r.hashErr
			}
			if r.brand == b.Name {
				mb.RefImages = append(mb.RefImages, matcher.RefImage{Name: r.name, Hash: r.hash.Image()})
			}
		}
		brands = append(brands, mb)
	}
	m, err := matcher.New(matcher.Options{Brands: brands})
	if err != nil {
		return nil, fmt.Errorf("build matcher: %w", err)
	}
	return m, nil
}

// crawlerOptions maps one marketplace of the config to the crawler's own
// options.
func (a *app) crawlerOptions(m config.Marketplace) crawler.Options {
	ua := m.UserAgent
	if ua == "" {
		ua = a.cfg.UserAgent
	}
	if ua == "" {
		ua = fmt.Sprintf("patrol/%s (+https://github.com/patrol-dev/patrol)", version)
	}
	opts := crawler.Options{
		Name:              m.Name,
		SearchURL:         m.SearchURL,
		AllowedDomains:    m.AllowedDomains,
		RequestsPerSecond: m.Rate.RequestsPerSecond,
		Burst:             m.Rate.Burst,
		Concurrency:       m.Concurrency,
		MaxPages:          m.MaxPages,
		RespectRobots:     m.RespectRobots,
		UserAgent:         ua,
		Selectors: crawler.Selectors{
			ResultLink: m.Selectors.ResultLink, NextPage: m.Selectors.NextPage, Title: m.Selectors.Title,
			Price: m.Selectors.Price, Currency: m.Selectors.Currency, Seller: m.Selectors.Seller,
			Images: m.Selectors.Images, Description: m.Selectors.Description,
		},
		Timeout:       m.Timeout,
		MaxBodyBytes:  m.MaxBodyBytes,
		MaxRedirects:  m.MaxRedirects,
		MaxImageBytes: m.MaxImageBytes,
		RemovedMarker: m.RemovedMarker,
		AllowPrivate:  namesPrivateHost(m.AllowedDomains),
		Log:           a.log.With("marketplace", m.Name),
	}
	if mt := a.metrics; mt != nil {
		name := m.Name
		opts.OnFetch = func(status int, d time.Duration) { mt.ObserveFetch(name, status, d) }
		opts.OnRateLimitWait = func(d time.Duration) { mt.ObserveRateLimitWait(name, d) }
	}
	return opts
}

// namesPrivateHost reports whether the config deliberately points at a
// loopback or private host: only then may the crawler connect to one.
func namesPrivateHost(domains []string) bool {
	for _, d := range domains {
		if d == "localhost" || strings.HasSuffix(d, ".localhost") {
			return true
		}
		if ip := net.ParseIP(d); ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast()) {
			return true
		}
	}
	return false
}

// sweepOptions narrows the config to the chosen marketplaces and brands
// and builds the crawlers.
func (a *app) sweepOptions(marketplaces, brands []string) (sweep.Options, error) {
	m, err := a.matcher()
	if err != nil {
		return sweep.Options{}, err
	}
	opts := sweep.Options{Store: a.store, Matcher: m, Log: a.log}
	if a.index != nil {
		opts.Index = a.index
	}
	pick := func(name string, want []string) bool {
		if len(want) == 0 {
			return true
		}
		for _, w := range want {
			if strings.EqualFold(w, name) {
				return true
			}
		}
		return false
	}
	for _, mk := range a.cfg.Marketplaces {
		if !pick(mk.Name, marketplaces) {
			continue
		}
		c, err := crawler.New(a.crawlerOptions(mk))
		if err != nil {
			return opts, fmt.Errorf("set up crawler for %s: %w", mk.Name, err)
		}
		opts.Marketplaces = append(opts.Marketplaces, sweep.Marketplace{Name: mk.Name, Fetcher: c, Concurrency: mk.Concurrency})
	}
	for _, b := range a.cfg.Brands {
		if pick(b.Name, brands) {
			opts.Brands = append(opts.Brands, sweep.Brand{Name: b.Name, Terms: b.Terms, Variants: b.VariantQueries})
		}
	}
	if len(opts.Marketplaces) == 0 {
		return opts, usagef("no marketplace in the config matches %s", strings.Join(marketplaces, ", "))
	}
	if len(opts.Brands) == 0 {
		return opts, usagef("no brand in the config matches %s", strings.Join(brands, ", "))
	}
	return opts, nil
}

// marketplaceForHost finds the configured marketplace whose allowed
// domains admit host (a domain admits its subdomains).
func (a *app) marketplaceForHost(host string) (string, bool) {
	for _, m := range a.cfg.Marketplaces {
		for _, d := range m.AllowedDomains {
			if host == d || strings.HasSuffix(host, "."+d) {
				return m.Name, true
			}
		}
	}
	return "", false
}

// withApp runs fn with the config, store (and index) opened for cmd, and
// closes them after.
func (g *globals) withApp(cmd *cobra.Command, withIndex bool, fn func(ctx context.Context, a *app) error) error {
	ctx := cmd.Context()
	a, err := g.open(ctx, withIndex)
	if err != nil {
		return err
	}
	defer a.close()
	return fn(ctx, a)
}
