// Package sweep runs one pass over marketplaces × brands: search pages →
// listing URLs (kept in the store's frontier so a crash resumes) → listing
// pages → images hashed → scored → stored with evidence → indexed. It owns the
// order of those steps and nothing else: fetching is the crawler's, judging
// the matcher's, keeping the store's.
package sweep

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/patrol-dev/patrol/crawler"
	"github.com/patrol-dev/patrol/imagehash"
	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/matcher"
	"github.com/patrol-dev/patrol/store"
)

// Fetcher is what a sweep needs from one marketplace's crawler.
type Fetcher interface {
	Search(ctx context.Context, query string, found func(url string) error) (crawler.SearchResult, error)
	Fetch(ctx context.Context, rawURL string) (*crawler.Page, error)
	FetchImage(ctx context.Context, rawURL string) ([]byte, error)
}

// Scorer judges listings; *matcher.Matcher is one.
type Scorer interface {
	Score(l *listing.Listing, h matcher.History)
	Variants(brand string, n int) []string
}

// Indexer keeps the search index in step with the store; nil means no
// index.
type Indexer interface {
	Put(ctx context.Context, ls []listing.Listing) error
}

// Marketplace is one site to sweep.
type Marketplace struct {
	Name        string
	Fetcher     Fetcher
	Concurrency int
}

// Brand names the search queries of one brand.
type Brand struct {
	Name  string
	Terms []string
	// Variants adds up to this many disguised spellings (from the
	// matcher's variant generator) as extra search queries: marketplaces
	// index what sellers type, so "n0rdvik" finds listings "nordvik" does
	// not.
	Variants int
}

// Progress is reported after every page so a terminal can draw a bar.
type Progress struct {
	SweepID  string
	Counters listing.SweepCounters
	// Pending is how many listing URLs are known but not yet processed.
	Pending int
	Elapsed time.Duration
}

// Options wires a Runner.
type Options struct {
	Store        *store.Store
	Index        Indexer
	Matcher      Scorer
	Marketplaces []Marketplace
	Brands       []Brand
	// MaxImages bounds the photos fetched per listing (default 8).
	MaxImages   int
	ImageLimits imagehash.Limits
	Log         *slog.Logger
	Progress    func(Progress)
	Now         func() time.Time
	// Lease is how long a frontier entry stays with a worker before it is
	// handed out again (default 10 minutes).
	Lease time.Duration
	// Grace is how long pages already being processed may finish after the
	// context ends (a SIGTERM) before they are abandoned to the next sweep
	// (default 10s).
	Grace time.Duration
	// Observe, when set, hears every listing's outcome ("new", "changed",
	// "unchanged") for metrics.
	Observe func(l listing.Listing, outcome string)
}

// Runner runs sweeps.
type Runner struct {
	opts Options
	log  *slog.Logger
}

// New returns a Runner.
func New(opts Options) *Runner {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxImages <= 0 {
		opts.MaxImages = 8
	}
	if opts.Lease <= 0 {
		opts.Lease = 10 * time.Minute
	}
	if opts.Grace <= 0 {
		opts.Grace = 10 * time.Second
	}
	return &Runner{opts: opts, log: opts.Log}
}

// ErrInterrupted is returned when the context ended mid-sweep; the sweep is
// recorded as interrupted and the next Run resumes it.
var ErrInterrupted = errors.New("sweep interrupted")

// sweepState is the mutable state of one running sweep.
type sweepState struct {
	r       *Runner
	id      string
	started time.Time
	hist    *history

	mu       sync.Mutex
	counters listing.SweepCounters
	pending  int
	toIndex  []listing.Listing

	imgMu    sync.Mutex
	imgCache map[string]cachedImage
}

type cachedImage struct {
	img  listing.Image
	data []byte
}

// Run sweeps every marketplace × brand. An unfinished sweep left by a crash
// or a signal is resumed (its frontier is kept in the store) instead of
// starting over.
func (r *Runner) Run(ctx context.Context) (listing.Sweep, error) {
	st := r.opts.Store
	sw, resumed, err := st.Unfinished(ctx)
	if err != nil {
		return sw, fmt.Errorf("look for an unfinished sweep: %w", err)
	}
	now := r.opts.Now().UTC()
	if resumed && !sameSet(sw.Marketplaces, r.marketplaceNames()) {
		// A narrower or different sweep was asked for: it starts afresh and
		// supersedes the unfinished one (whose listings are stored; only its
		// unvisited frontier is dropped, and the next full sweep finds it).
		r.log.Info("unfinished sweep covers other marketplaces; starting a new one", "sweep", sw.ID)
		if sw.State == listing.SweepRunning {
			if _, err := st.UpdateSweep(ctx, sw.ID, func(old *listing.Sweep) {
				old.State, old.Ended = listing.SweepInterrupted, r.opts.Now().UTC()
			}); err != nil {
				return sw, fmt.Errorf("close superseded sweep %s: %w", sw.ID, err)
			}
		}
		resumed = false
	}
	if resumed {
		n, err := st.FrontierRelease(ctx, sw.ID)
		if err != nil {
			return sw, fmt.Errorf("release frontier of %s: %w", sw.ID, err)
		}
		r.log.Info("resuming unfinished sweep", "sweep", sw.ID, "released", n)
		sw.State = listing.SweepRunning
	} else {
		sw = listing.Sweep{ID: store.NewSweepID(now), Started: now, State: listing.SweepRunning, Marketplaces: r.marketplaceNames()}
		for _, b := range r.opts.Brands {
			sw.Brands = append(sw.Brands, b.Name)
		}
	}
	if err := st.PutSweep(ctx, sw); err != nil {
		return sw, fmt.Errorf("record sweep start: %w", err)
	}
	hist, err := newHistory(ctx, st)
	if err != nil {
		return sw, err
	}
	s := &sweepState{r: r, id: sw.ID, started: now, hist: hist, counters: sw.Counters, imgCache: map[string]cachedImage{}}

	var wg sync.WaitGroup
	for _, m := range r.opts.Marketplaces {
		wg.Add(1)
		go func(m Marketplace) {
			defer wg.Done()
			s.marketplace(ctx, m)
		}(m)
	}
	wg.Wait()
	flushErr := s.flushIndex(context.WithoutCancel(ctx))
	if ctx.Err() == nil && r.opts.Matcher != nil {
		// A listing judged early in the sweep could not know that its photo
		// turns up on listings flagged later; judge this sweep's listings
		// once more now that the sweep has seen everything.
		_, changed, delta, err := r.rescore(ctx, hist, func(l listing.Listing) bool { return l.SweepID == sw.ID })
		if err != nil {
			r.log.Warn("re-judge sweep listings", "err", err)
		}
		s.mu.Lock()
		s.counters.Flagged += delta
		s.mu.Unlock()
		r.log.Debug("re-judged sweep listings", "changed", changed, "newly_flagged", delta)
	}

	end := listing.SweepDone
	if ctx.Err() != nil {
		end = listing.SweepInterrupted
	}
	final, err := st.UpdateSweep(context.WithoutCancel(ctx), sw.ID, func(sw *listing.Sweep) {
		s.mu.Lock()
		sw.Counters = s.counters
		s.mu.Unlock()
		sw.State = end
		sw.Ended = r.opts.Now().UTC()
	})
	if err != nil {
		return final, fmt.Errorf("record sweep end: %w", err)
	}
	if end == listing.SweepDone {
		if err := st.DropFrontier(context.WithoutCancel(ctx), sw.ID); err != nil {
			r.log.Warn("drop frontier", "sweep", sw.ID, "err", err)
		}
	}
	if flushErr != nil {
		// The store is the source of truth; the index is repaired from it
		// on the next start.
		r.log.Warn("index update failed; it is repaired from the store on next start", "err", flushErr)
	}
	if end == listing.SweepInterrupted {
		return final, fmt.Errorf("%w: %s (resumes on the next sweep)", ErrInterrupted, context.Cause(ctx))
	}
	return final, nil
}

func (r *Runner) marketplaceNames() []string {
	var out []string
	for _, m := range r.opts.Marketplaces {
		out = append(out, m.Name)
	}
	return out
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		if seen[x] == 0 {
			return false
		}
		seen[x]--
	}
	return true
}

func (s *sweepState) queries() []string {
	seen := map[string]bool{}
	var qs []string
	add := func(q string) {
		q = strings.TrimSpace(q)
		k := strings.ToLower(q)
		if q == "" || seen[k] {
			return
		}
		seen[k] = true
		qs = append(qs, q)
	}
	for _, b := range s.r.opts.Brands {
		for _, t := range b.Terms {
			add(t)
		}
		if b.Variants > 0 && s.r.opts.Matcher != nil {
			for _, v := range s.r.opts.Matcher.Variants(b.Name, b.Variants) {
				add(v)
			}
		}
	}
	return qs
}

func (s *sweepState) fail(ctx context.Context, f listing.Failure) {
	s.mu.Lock()
	s.counters.Errors++
	if f.Kind == "blocked" {
		s.counters.Blocked++
	}
	s.mu.Unlock()
	if f.At.IsZero() {
		f.At = s.r.opts.Now().UTC()
	}
	if err := s.r.opts.Store.AddFailure(context.WithoutCancel(ctx), s.id, f); err != nil {
		s.r.log.Error("record failure", "url", f.URL, "err", err)
	}
	s.r.log.Debug("page failed", "url", f.URL, "kind", f.Kind, "err", f.Error)
}

func (s *sweepState) progress() {
	if s.r.opts.Progress == nil {
		return
	}
	s.mu.Lock()
	p := Progress{SweepID: s.id, Counters: s.counters, Pending: s.pending, Elapsed: s.r.opts.Now().Sub(s.started)}
	s.mu.Unlock()
	s.r.opts.Progress(p)
}

func (s *sweepState) marketplace(ctx context.Context, m Marketplace) {
	st := s.r.opts.Store
	// Search phase: every query's result pages feed the frontier.
	for _, q := range s.queries() {
		if ctx.Err() != nil {
			return
		}
		done, err := st.QueryDone(ctx, s.id, m.Name, q)
		if err != nil {
			s.fail(ctx, listing.Failure{URL: m.Name + ":" + q, Kind: "store", Error: err.Error()})
			continue
		}
		if done {
			continue
		}
		var batch []string
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			n, err := st.FrontierAdd(ctx, s.id, m.Name, q, batch)
			batch = batch[:0]
			s.mu.Lock()
			s.counters.Found += n
			s.pending += n
			s.mu.Unlock()
			return err
		}
		res, err := m.Fetcher.Search(ctx, q, func(u string) error {
			batch = append(batch, u)
			if len(batch) >= 50 {
				return flush()
			}
			return nil
		})
		ferr := flush()
		s.mu.Lock()
		s.counters.SearchPages += res.Pages
		s.mu.Unlock()
		for _, f := range res.Failures {
			s.fail(ctx, f)
		}
		if err == nil {
			err = ferr
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.fail(ctx, listing.Failure{URL: m.Name + ":" + q, Kind: "search", Error: err.Error()})
			continue
		}
		if err := st.MarkQueryDone(ctx, s.id, m.Name, q); err != nil {
			s.fail(ctx, listing.Failure{URL: m.Name + ":" + q, Kind: "store", Error: err.Error()})
		}
		s.progress()
	}
	// Fetch phase: workers drain the frontier. Pages in flight when ctx
	// ends get Grace to finish (a SIGTERM should not waste fetched work);
	// no new page is started.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-ctx.Done():
		case <-finished:
			return
		}
		select {
		case <-time.After(s.r.opts.Grace):
			cancelWork()
		case <-finished:
		}
	}()
	workers := max(m.Concurrency, 1)
	for ctx.Err() == nil {
		entries, err := st.FrontierLease(ctx, s.id, m.Name, workers*4, s.r.opts.Now(), s.r.opts.Lease)
		if err != nil {
			if ctx.Err() == nil {
				s.fail(ctx, listing.Failure{URL: m.Name, Kind: "store", Error: err.Error()})
			}
			return
		}
		if len(entries) == 0 {
			return
		}
		jobs := make(chan store.FrontierEntry)
		var wg sync.WaitGroup
		for range min(workers, len(entries)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for e := range jobs {
					s.process(workCtx, m, e)
				}
			}()
		}
	feed:
		for _, e := range entries {
			select {
			case jobs <- e:
			case <-ctx.Done():
				break feed
			}
		}
		close(jobs)
		wg.Wait()
	}
}

// process handles one listing URL from the frontier.
func (s *sweepState) process(ctx context.Context, m Marketplace, e store.FrontierEntry) {
	defer func() {
		s.mu.Lock()
		s.pending--
		s.mu.Unlock()
		s.progress()
	}()
	l, err := s.r.fetchListing(ctx, m, e.URL, e.Queries, s, s.hist)
	st := s.r.opts.Store
	if errors.Is(err, ErrRemoved) {
		// Gone since the search listed it: nothing to judge, nothing failed.
		return
	}
	if err != nil {
		if ctx.Err() != nil {
			// Left leased: released and retried when the sweep resumes.
			return
		}
		kind := "fetch"
		switch {
		case errors.Is(err, crawler.ErrBlocked):
			kind = "blocked"
		case errors.Is(err, crawler.ErrDisallowed):
			kind = "robots"
		case errors.Is(err, crawler.ErrOffsite):
			kind = "offsite"
		case errors.Is(err, errStore):
			kind = "store"
		}
		s.fail(ctx, listing.Failure{URL: e.URL, Kind: kind, Error: err.Error()})
		if ferr := st.FrontierFinish(context.WithoutCancel(ctx), s.id, m.Name, e.URL, false, err.Error()); ferr != nil {
			s.r.log.Error("finish frontier entry", "url", e.URL, "err", ferr)
		}
		return
	}
	s.r.log.Debug("listing processed", "id", l.ID, "score", l.Score, "flagged", l.Flagged)
}

var errStore = errors.New("store")

// ErrRemoved is returned by fetchListing for a listing page that is gone
// (404/410 or the marketplace's removed marker).
var ErrRemoved = errors.New("listing removed from the marketplace")

// outcome of fetching and judging one listing page.
type outcome int

const (
	outcomeNew outcome = iota
	outcomeChanged
	outcomeUnchanged
	outcomeRemoved
)

// fetchListing fetches, judges and stores one listing page. With a sweep
// state it also counts, marks the frontier and queues the index update;
// without one (patrol check) it indexes at once.
func (r *Runner) fetchListing(ctx context.Context, m Marketplace, rawURL string, queries []string, s *sweepState, hist *history) (listing.Listing, error) {
	st := r.opts.Store
	page, err := m.Fetcher.Fetch(ctx, rawURL)
	if s != nil {
		s.mu.Lock()
		s.counters.ListingPages++
		s.mu.Unlock()
	}
	if err != nil {
		return listing.Listing{}, fmt.Errorf("fetch %s: %w", rawURL, err)
	}
	l := page.Listing
	if l.Marketplace == "" {
		l.Marketplace = m.Name
	}
	if l.URL == "" {
		if l.URL, err = listing.CanonicalURL(rawURL); err != nil {
			return l, err
		}
	}
	if l.ID == "" {
		l.ID = listing.NewID(l.Marketplace, l.URL)
	}
	sweepID := ""
	if s != nil {
		sweepID = s.id
	}
	old, oerr := st.Listing(ctx, l.ID)
	had := oerr == nil
	if oerr != nil && !errors.Is(oerr, store.ErrNotFound) {
		return l, fmt.Errorf("%w: read %s: %w", errStore, l.ID, oerr)
	}
	now := r.opts.Now().UTC()
	if page.Removed {
		if had {
			l = old
		}
		if s != nil {
			if err := st.FrontierFinish(ctx, s.id, m.Name, rawURL, true, "removed"); err != nil {
				return l, fmt.Errorf("%w: %w", errStore, err)
			}
		}
		return l, ErrRemoved
	}
	if l.FetchedAt.IsZero() {
		l.FetchedAt = now
	}
	l.Queries = mergeQueries(old.Queries, queries)
	l.ContentHash = contentHash(l)
	if had && old.ContentHash == l.ContentHash {
		// Unchanged: only the sighting is recorded; no new snapshot, no
		// image fetches, no re-scoring.
		old.LastSeen = now
		old.SweepID = sweepID
		old.Queries = l.Queries
		f := store.Fetched{Listing: old}
		if s != nil {
			f.SweepID, f.FrontierURL = s.id, rawURL
		}
		if err := st.SaveFetched(ctx, f); err != nil {
			return old, fmt.Errorf("%w: %w", errStore, err)
		}
		if s != nil {
			s.mu.Lock()
			s.counters.Unchanged++
			s.mu.Unlock()
		}
		r.observe(old, "unchanged")
		return r.relisted(ctx, old)
	}
	images := map[string][]byte{}
	l.Images = r.fetchImages(ctx, m, l.Images, images, s)
	l.FirstSeen, l.Status = now, listing.StatusNew
	if had {
		l.FirstSeen, l.Status = old.FirstSeen, old.Status
	}
	l.LastSeen = now
	l.SweepID = sweepID
	if r.opts.Matcher != nil {
		var h matcher.History
		if hist != nil {
			h = hist
		}
		r.opts.Matcher.Score(&l, h)
	}
	snap := page.Snapshot
	snap.ListingID = l.ID
	if snap.FetchedAt.IsZero() {
		snap.FetchedAt = l.FetchedAt
	}
	if snap.SHA256 == "" {
		sum := sha256.Sum256(snap.HTML)
		snap.SHA256 = hex.EncodeToString(sum[:])
	}
	l.SnapshotSHA256 = snap.SHA256
	f := store.Fetched{Listing: l, Snapshot: &snap, Images: images}
	if s != nil {
		f.SweepID, f.FrontierURL = s.id, rawURL
	}
	if err := st.SaveFetched(ctx, f); err != nil {
		return l, fmt.Errorf("%w: save %s: %w", errStore, l.ID, err)
	}
	if had {
		r.observe(l, "changed")
	} else {
		r.observe(l, "new")
	}
	if s != nil {
		s.mu.Lock()
		if had {
			s.counters.Changed++
		} else {
			s.counters.New++
		}
		if l.Flagged {
			s.counters.Flagged++
		}
		s.toIndex = append(s.toIndex, l)
		flush := len(s.toIndex) >= 200
		s.mu.Unlock()
		if l.Flagged {
			s.hist.addFlagged(l)
		}
		if flush {
			if err := s.flushIndex(ctx); err != nil {
				r.log.Warn("index update failed; repaired from the store on next start", "err", err)
			}
		}
	} else if r.opts.Index != nil {
		if err := r.opts.Index.Put(ctx, []listing.Listing{l}); err != nil {
			r.log.Warn("index update failed; repaired from the store on next start", "err", err)
		}
	}
	return r.relisted(ctx, l)
}

// relisted notices a listing that was verified removed after a takedown
// and is live again: it goes back to still_up, with a verdict saying why,
// and the notices that recorded it removed record it relisted, so the
// brand sees the relisting instead of counting it as a success. A page
// that no longer matches any brand is not a relisting: verification would
// call it removed too.
func (r *Runner) relisted(ctx context.Context, l listing.Listing) (listing.Listing, error) {
	if l.Status != listing.StatusRemoved || l.Brand == "" {
		return l, nil
	}
	ns, err := r.opts.Store.MarkRelisted(ctx, l.ID, "live again after it was verified removed", r.opts.Now().UTC())
	if err != nil {
		return l, fmt.Errorf("%w: %w", errStore, err)
	}
	r.log.Warn("a removed listing is live again", "id", l.ID, "url", l.URL, "notices", len(ns))
	l.Status = listing.StatusStillUp
	if r.opts.Index != nil {
		if err := r.opts.Index.Put(ctx, []listing.Listing{l}); err != nil {
			r.log.Warn("index update failed; repaired from the store on next start", "err", err)
		}
	}
	return l, nil
}

func (r *Runner) observe(l listing.Listing, outcome string) {
	if r.opts.Observe != nil {
		r.opts.Observe(l, outcome)
	}
}

// contentHash covers what the page says, not what patrol derived from it,
// so that images are only fetched when the page changed.
func contentHash(l listing.Listing) string {
	c := listing.Listing{Title: l.Title, Description: l.Description, Seller: l.Seller, Price: l.Price, Currency: l.Currency}
	for _, img := range l.Images {
		c.Images = append(c.Images, listing.Image{URL: img.URL})
	}
	return c.ComputeContentHash()
}

func mergeQueries(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, q := range append(append([]string(nil), a...), b...) {
		if !seen[q] {
			seen[q] = true
			out = append(out, q)
		}
	}
	sort.Strings(out)
	return out
}

// fetchImages downloads and hashes a listing's photos. A photo that fails
// keeps its URL with HashErr set: the listing is still judged on the rest.
func (r *Runner) fetchImages(ctx context.Context, m Marketplace, imgs []listing.Image, data map[string][]byte, s *sweepState) []listing.Image {
	var out []listing.Image
	seen := map[string]bool{}
	for _, img := range imgs {
		if len(out) >= r.opts.MaxImages {
			break
		}
		if img.URL == "" || seen[img.URL] {
			continue
		}
		seen[img.URL] = true
		if s != nil {
			s.imgMu.Lock()
			c, ok := s.imgCache[img.URL]
			s.imgMu.Unlock()
			if ok {
				out = append(out, c.img)
				if c.data != nil {
					data[c.img.SHA256] = c.data
				}
				continue
			}
		}
		got := listing.Image{URL: img.URL}
		b, err := m.Fetcher.FetchImage(ctx, img.URL)
		var raw []byte
		if err != nil {
			got.HashErr = err.Error()
		} else {
			raw = b
			sum := sha256.Sum256(b)
			got.SHA256 = hex.EncodeToString(sum[:])
			h, err := imagehash.Compute(b, r.opts.ImageLimits)
			if err != nil {
				got.HashErr = err.Error()
				raw = nil // not a usable image: do not keep the bytes
			} else {
				hi := h.Image()
				hi.URL, hi.SHA256 = got.URL, got.SHA256
				got = hi
				data[got.SHA256] = b
			}
		}
		if s != nil {
			s.mu.Lock()
			s.counters.Images++
			s.mu.Unlock()
			if ctx.Err() == nil {
				s.imgMu.Lock()
				s.imgCache[img.URL] = cachedImage{img: got, data: raw}
				s.imgMu.Unlock()
			}
		}
		out = append(out, got)
	}
	return out
}

func (s *sweepState) flushIndex(ctx context.Context) error {
	idx := s.r.opts.Index
	s.mu.Lock()
	batch := s.toIndex
	s.toIndex = nil
	s.mu.Unlock()
	if idx == nil || len(batch) == 0 {
		return nil
	}
	if err := idx.Put(ctx, batch); err != nil {
		return fmt.Errorf("index %d listings: %w", len(batch), err)
	}
	return nil
}
