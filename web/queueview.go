package web

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/patrol-dev/patrol/listing"
)

// ListingScanner walks every stored listing. *store.Store satisfies it.
type ListingScanner interface {
	EachListing(ctx context.Context, fn func(listing.Listing) error) error
}

// queueView is the review queue held in memory: the filterable fields of
// every flagged listing, highest score first. A search index answers a
// "flagged, status new, by score" query by sorting every match, which at
// 100,000 listings costs more than the page's whole budget; scanning a
// slice of a few hundred thousand small structs costs well under a
// millisecond. The view is built from the store, updated by verdicts and
// by (*Server).Updated, and rebuilt in full every refresh period as a
// safety net.
type queueView struct {
	scan    ListingScanner
	refresh time.Duration
	now     func() time.Time

	buildMu sync.Mutex // one full build at a time

	mu       sync.RWMutex
	built    time.Time
	byID     map[listing.ID]int // index into entries
	entries  []queueEntry       // sorted by score, highest first, then ID
	dirty    bool               // entries need sorting
	building bool
	// cached holds the last counts until the view changes.
	cached *flaggedCounts
	// During a full build, changes are also kept in pending and applied
	// again to the new view, which may have read the store before them.
	inBuild bool
	pending []listing.Listing
	pendSt  []listing.Verdict
}

type queueEntry struct {
	ID          listing.ID
	Brand       string
	Marketplace string
	Seller      string
	Status      listing.Status
	Score       float64
	gone        bool // no longer flagged (or deleted); skipped until rebuilt
}

func newQueueView(scan ListingScanner, refresh time.Duration, now func() time.Time) *queueView {
	return &queueView{scan: scan, refresh: refresh, now: now}
}

func entryOf(l listing.Listing) queueEntry {
	return queueEntry{ID: l.ID, Brand: l.Brand, Marketplace: l.Marketplace, Seller: l.Seller, Status: l.Status, Score: l.Score}
}

func compareEntries(a, b queueEntry) int {
	if c := cmp.Compare(b.Score, a.Score); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// build reads every listing and replaces the view.
func (v *queueView) build(ctx context.Context) error {
	v.buildMu.Lock()
	defer v.buildMu.Unlock()
	v.mu.Lock()
	v.inBuild, v.pending, v.pendSt = true, nil, nil
	v.mu.Unlock()
	defer func() {
		v.mu.Lock()
		v.inBuild, v.pending, v.pendSt = false, nil, nil
		v.mu.Unlock()
	}()
	var entries []queueEntry
	err := v.scan.EachListing(ctx, func(l listing.Listing) error {
		if l.Flagged {
			entries = append(entries, entryOf(l))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("build queue: %w", err)
	}
	slices.SortFunc(entries, compareEntries)
	byID := make(map[listing.ID]int, len(entries))
	for i, e := range entries {
		byID[e.ID] = i
	}
	v.mu.Lock()
	v.entries, v.byID, v.built, v.dirty, v.cached = entries, byID, v.now(), false, nil
	pending, pendSt := v.pending, v.pendSt
	v.mu.Unlock()
	v.update(pending...)
	for _, vd := range pendSt {
		v.setStatus(vd.ListingID, vd.Status)
	}
	return nil
}

// ensure builds the view on first use and starts a background rebuild
// when it is older than the refresh period.
func (v *queueView) ensure(ctx context.Context) error {
	v.mu.RLock()
	built, building := v.built, v.building
	v.mu.RUnlock()
	if built.IsZero() {
		v.buildMu.Lock()
		v.mu.RLock()
		built = v.built
		v.mu.RUnlock()
		v.buildMu.Unlock()
		if built.IsZero() { // nobody built it while we waited
			return v.build(ctx)
		}
		return nil
	}
	if v.refresh > 0 && v.now().Sub(built) > v.refresh && !building {
		v.mu.Lock()
		if !v.building {
			v.building = true
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				defer cancel()
				v.build(ctx) // on failure the old view stays and the next request retries
				v.mu.Lock()
				v.building = false
				v.mu.Unlock()
			}()
		}
		v.mu.Unlock()
	}
	return nil
}

// update applies changed listings to the view.
func (v *queueView) update(ls ...listing.Listing) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.inBuild {
		v.pending = append(v.pending, ls...)
	}
	if v.built.IsZero() {
		return // the first build will read them
	}
	v.cached = nil
	for _, l := range ls {
		i, ok := v.byID[l.ID]
		switch {
		case ok && l.Flagged:
			old := v.entries[i]
			v.entries[i] = entryOf(l)
			v.dirty = v.dirty || old.Score != l.Score
		case ok:
			v.entries[i].gone = true
		case l.Flagged:
			v.byID[l.ID] = len(v.entries)
			v.entries = append(v.entries, entryOf(l))
			v.dirty = true
		}
	}
}

// setStatus records a verdict in the view.
func (v *queueView) setStatus(id listing.ID, st listing.Status) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.inBuild {
		v.pendSt = append(v.pendSt, listing.Verdict{ListingID: id, Status: st})
	}
	if i, ok := v.byID[id]; ok {
		v.entries[i].Status = st
		v.cached = nil
	}
}

// query returns the IDs of one page of entries matching q, and how many
// match in all.
func (v *queueView) query(q SearchQuery) ([]listing.ID, uint64) {
	v.mu.RLock()
	if v.dirty {
		v.mu.RUnlock()
		v.mu.Lock()
		if v.dirty {
			slices.SortFunc(v.entries, compareEntries)
			for i, e := range v.entries {
				v.byID[e.ID] = i
			}
			v.dirty = false
		}
		v.mu.Unlock()
		v.mu.RLock()
	}
	defer v.mu.RUnlock()
	var total uint64
	ids := make([]listing.ID, 0, q.Limit)
	for _, e := range v.entries {
		if e.gone ||
			q.Brand != "" && e.Brand != q.Brand ||
			q.Marketplace != "" && e.Marketplace != q.Marketplace ||
			q.Seller != "" && e.Seller != q.Seller ||
			q.Status != "" && string(e.Status) != q.Status ||
			q.MinScore > 0 && e.Score < q.MinScore ||
			q.MaxScore > 0 && e.Score > q.MaxScore {
			continue
		}
		if total >= uint64(q.Offset) && len(ids) < q.Limit {
			ids = append(ids, e.ID)
		}
		total++
	}
	return ids, total
}

// counts returns the flagged listings by status, and by brand and
// marketplace for each status: the dashboard's figures. They are computed
// once per change of the view; callers must not modify them.
func (v *queueView) counts() flaggedCounts {
	v.mu.RLock()
	if c := v.cached; c != nil {
		v.mu.RUnlock()
		return *c
	}
	v.mu.RUnlock()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cached != nil {
		return *v.cached
	}
	c := flaggedCounts{ByStatus: map[string]int{}, ByField: map[string]map[string]map[string]int{"brand": {}, "marketplace": {}}}
	add := func(field, term, status string) {
		m := c.ByField[field][term]
		if m == nil {
			m = map[string]int{}
			c.ByField[field][term] = m
		}
		m[status]++
	}
	for _, e := range v.entries {
		if e.gone {
			continue
		}
		c.Total++
		c.ByStatus[string(e.Status)]++
		add("brand", e.Brand, string(e.Status))
		add("marketplace", e.Marketplace, string(e.Status))
	}
	v.cached = &c
	return c
}
