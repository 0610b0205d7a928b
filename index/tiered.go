package index

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/collector"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	bleveindex "github.com/blevesearch/bleve_index_api"
)

// ExactTotalUpTo is how many matches a search sorted by score or date
// counts exactly. Past it Result.Total is a lower bound and
// Result.TotalAtLeast is set, as Bleve's own bounded scans and
// Elasticsearch's track_total_hits do: counting every match of a word in
// a quarter of a large index costs more than finding the page itself.
// Facets count every match, so a search with facets is always exact, and
// the CLI and the web search page ask for them.
const ExactTotalUpTo = 1000

// oneSort is how many gathered matches are sorted at once rather than
// window by window.
func oneSort(need int) int {
	return max(2*need, 100)
}

// smallTotal is how many matches a search gathers (or, with word
// positions, sorts as they come) before it goes on counting and runs the
// query again window by window.
func smallTotal(need int) uint64 {
	return uint64(max(4*need, ExactTotalUpTo))
}

// tieredResult is one page of a tiered search, hits already sliced to the
// page.
type tieredResult struct {
	hits    []*search.DocumentMatch
	total   uint64
	atLeast bool
}

// searchTiered runs bq sorted by order, whose first key is the listing
// score (byDate false) or the fetch time (byDate true), without scoring
// relevance and without reading the sort keys of every match.
//
// Reading a match's two sort keys costs about a microsecond (doc values
// are scattered over the index file), and a common word matches a quarter
// of the index. The score window and the fetch day partition the index in
// the order of those first keys, so the search reads the partitions from
// the top (each window twice as wide as the one before) and stops as soon
// as it has offset+limit hits: they are the same hits, in the same order,
// as one sort over everything. Up to ExactTotalUpTo matches are first
// gathered by internal ID alone (tens of nanoseconds each) and the windows
// intersect that list; past it the windows run the query again, and the
// total is a lower bound.
func (ix *Index) searchTiered(ctx context.Context, bq query.Query, order search.SortOrder, byDate bool, limit, offset int, locations bool) (tieredResult, error) {
	adv, err := ix.bi.Advanced()
	if err != nil {
		return tieredResult{}, err
	}
	r, err := adv.Reader()
	if err != nil {
		return tieredResult{}, err
	}
	defer r.Close()
	m := ix.bi.Mapping()
	need := offset + limit
	again := func() (search.Searcher, error) {
		return bq.Searcher(ctx, r, m, search.SearcherOptions{Score: "none", IncludeTermVectors: locations})
	}
	s, err := again()
	if err != nil {
		return tieredResult{}, err
	}
	defer s.Close()
	page := func(hits []*search.DocumentMatch) []*search.DocumentMatch {
		return hits[min(offset, len(hits)):min(need, len(hits))]
	}
	// sortFirst sorts what base yields and keeps the first need.
	sortFirst := func(base search.Searcher) (*collector.TopNCollector, error) {
		c := collector.NewTopNCollector(need, 0, order)
		return c, c.Collect(ctx, base, r)
	}
	// windowList reads the windows only for the searches that use them:
	// the day windows read the fetch days' dictionary.
	windowList := func() ([]query.Query, error) {
		if byDate {
			return dayWindows(r)
		}
		return scoreWindows(), nil
	}
	// run collects the first matches of each window in turn, each window
	// narrowing the searcher that from returns (nil: every listing), until
	// it has need hits.
	run := func(windows []query.Query, from func() (search.Searcher, error)) ([]*search.DocumentMatch, error) {
		var hits []*search.DocumentMatch
		for _, w := range windows {
			ws, err := w.Searcher(ctx, r, m, search.SearcherOptions{Score: "none"})
			if err != nil {
				return nil, err
			}
			cs := ws
			if from != nil {
				base, err := from()
				if err != nil {
					ws.Close()
					return nil, err
				}
				cs, err = searcher.NewConjunctionSearcher(ctx, r, []search.Searcher{base, ws}, search.SearcherOptions{Score: "none", IncludeTermVectors: locations})
				if err != nil {
					base.Close()
					ws.Close()
					return nil, err
				}
			}
			c := collector.NewTopNCollector(need-len(hits), 0, order)
			err = c.Collect(ctx, cs, r)
			cs.Close()
			if err != nil {
				return nil, err
			}
			hits = append(hits, c.Results()...)
			if len(hits) >= need {
				break
			}
		}
		return hits, nil
	}
	var total uint64
	if locations {
		// Matches carry their word positions, which a list of IDs would
		// lose: sort the first ones as they come.
		first := &limitedSearcher{Searcher: s, left: smallTotal(need)}
		c, err := sortFirst(first)
		if err != nil {
			return tieredResult{}, err
		}
		if !first.stopped {
			return tieredResult{hits: page(c.Results()), total: c.Total()}, nil
		}
		total = c.Total()
	} else {
		ids, all, err := gather(ctx, s, smallTotal(need))
		if err != nil {
			return tieredResult{}, err
		}
		if all {
			replay := func() (search.Searcher, error) { return &replaySearcher{Searcher: s, ids: ids}, nil }
			var hits []*search.DocumentMatch
			if len(ids) > oneSort(need) {
				windows, err := windowList()
				if err != nil {
					return tieredResult{}, err
				}
				if !byDate {
					// Each window is a pass over the gathered matches: start
					// with as many top windows as should hold the page.
					if windows, err = mergeTop(r, windows, len(ids), need); err != nil {
						return tieredResult{}, err
					}
				}
				if hits, err = run(windows, replay); err != nil {
					return tieredResult{}, err
				}
			}
			if len(hits) < min(need, len(ids)) {
				// Few enough to sort at once, or listings the windows
				// miss (indexed before there were windows): one sort.
				c, err := sortFirst(&replaySearcher{Searcher: s, ids: ids})
				if err != nil {
					return tieredResult{}, err
				}
				hits = c.Results()
			}
			return tieredResult{hits: page(hits), total: uint64(len(ids))}, nil
		}
		total = uint64(len(ids))
	}
	total, exact, err := countRest(ctx, s, total, ix.exactTotalUpTo)
	if err != nil {
		return tieredResult{}, err
	}
	from := again
	if _, every := bq.(*query.MatchAllQuery); every {
		// Every listing: the windows alone, and the count is known.
		if total, err = r.DocCount(); err != nil {
			return tieredResult{}, err
		}
		exact = true
		from = nil
	}
	windows, err := windowList()
	if err != nil {
		return tieredResult{}, err
	}
	hits, err := run(windows, from)
	if err != nil {
		return tieredResult{}, err
	}
	if len(hits) < need && uint64(len(hits)) < total {
		// Listings the windows miss (indexed before there were windows).
		base, err := again()
		if err != nil {
			return tieredResult{}, err
		}
		c, err := sortFirst(base)
		base.Close()
		if err != nil {
			return tieredResult{}, err
		}
		hits = c.Results()
	}
	return tieredResult{hits: page(hits), total: total, atLeast: !exact}, nil
}

// limitedSearcher passes on the first left matches of its searcher and
// then reports no more, noting that it stopped.
type limitedSearcher struct {
	search.Searcher
	left    uint64
	stopped bool
}

// Next is the searcher's Next until left matches have gone by.
func (l *limitedSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	if l.left == 0 {
		l.stopped = true
		return nil, nil
	}
	l.left--
	return l.Searcher.Next(ctx)
}

// gather returns the internal IDs of up to n matches of s, unsorted, and
// whether they are all of them. Only the IDs are kept, so the searcher
// reuses its few match structures.
func gather(ctx context.Context, s search.Searcher, n uint64) ([]bleveindex.IndexInternalID, bool, error) {
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0)}
	var out []bleveindex.IndexInternalID
	var arena []byte
	for uint64(len(out)) < n {
		if len(out)%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, false, err
			}
		}
		dm, err := s.Next(sctx)
		if err != nil {
			return nil, false, err
		}
		if dm == nil {
			return out, true, nil
		}
		if cap(arena)-len(arena) < len(dm.IndexInternalID) {
			arena = make([]byte, 0, max(4096, len(dm.IndexInternalID)))
		}
		start := len(arena)
		arena = append(arena, dm.IndexInternalID...)
		out = append(out, arena[start:len(arena):len(arena)])
		sctx.DocumentMatchPool.Put(dm)
	}
	return out, false, nil
}

// replaySearcher hands on the matches gather took from its searcher, as
// a searcher of their own that a conjunction can advance; the searcher's
// other methods are passed on, except Close: it stays the caller's.
type replaySearcher struct {
	search.Searcher
	ids []bleveindex.IndexInternalID // ascending, as gathered
}

// Next returns the next gathered match.
func (r *replaySearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	if len(r.ids) == 0 {
		return nil, nil
	}
	dm := ctx.DocumentMatchPool.Get()
	dm.IndexInternalID = append(dm.IndexInternalID[:0], r.ids[0]...)
	r.ids = r.ids[1:]
	return dm, nil
}

// Advance returns the first gathered match at or after id.
func (r *replaySearcher) Advance(ctx *search.SearchContext, id bleveindex.IndexInternalID) (*search.DocumentMatch, error) {
	i, _ := slices.BinarySearchFunc(r.ids, id, func(a, b bleveindex.IndexInternalID) int { return a.Compare(b) })
	r.ids = r.ids[i:]
	return r.Next(ctx)
}

// Count is how many gathered matches are left, which a conjunction uses
// to pick the searcher that leads.
func (r *replaySearcher) Count() uint64 { return uint64(len(r.ids)) }

// Close leaves the gathering searcher to its owner.
func (r *replaySearcher) Close() error { return nil }

// DocumentMatchPoolSize is one match at a time.
func (r *replaySearcher) DocumentMatchPoolSize() int { return 1 }

// countRest goes on counting the matches of s, n seen so far, stopping at
// limit; exact is false when it stopped. Unscored, a query over terms is
// one merged bitmap, so each match costs a few tens of nanoseconds.
func countRest(ctx context.Context, s search.Searcher, n, limit uint64) (uint64, bool, error) {
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0)}
	for {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return n, false, err
			}
		}
		if n >= limit {
			return n, false, nil
		}
		dm, err := s.Next(sctx)
		if err != nil {
			return n, false, err
		}
		if dm == nil {
			return n, true, nil
		}
		n++
		sctx.DocumentMatchPool.Put(dm)
	}
}

// scoreWindows are the score windows from the top, one term each.
func scoreWindows() []query.Query {
	out := make([]query.Query, len(scoreWindowTops()))
	for i := range out {
		t := query.NewTermQuery(windowKey(i))
		t.SetField(scoreWindow)
		out[i] = t
	}
	return out
}

// mergeTop merges the top score windows into one, as many as should hold
// twice the page (need) among n matches if the matches' scores were spread
// like the whole index's, so that a page usually takes one pass over the
// gathered matches instead of one a window. The merged window is a union
// of a few terms' postings, costing little beside those passes.
func mergeTop(r bleveindex.IndexReader, windows []query.Query, n, need int) ([]query.Query, error) {
	counts := make(map[string]uint64, len(windows))
	var all uint64
	err := eachTerm(r, scoreWindow, func(term string, count uint64) {
		counts[term] = count
		all += count
	})
	if err != nil {
		return nil, fmt.Errorf("read score windows: %w", err)
	}
	if all == 0 {
		return windows, nil
	}
	var seen uint64
	top := 0
	for top < len(windows)-1 {
		seen += counts[windowKey(top)]
		if float64(seen)/float64(all)*float64(n) >= float64(2*need) {
			break
		}
		top++
	}
	if top == 0 {
		return windows, nil
	}
	merged := make([]query.Query, 0, top+1)
	merged = append(merged, windows[:top+1]...)
	return append([]query.Query{query.NewDisjunctionQuery(merged)}, windows[top+1:]...), nil
}

// dayWindows are the fetch days from the newest in the index, each
// window twice as long as the one before; the last one takes everything
// older and every listing without a fetch day.
func dayWindows(r bleveindex.IndexReader) ([]query.Query, error) {
	first, last, err := dayBounds(r)
	if err != nil {
		return nil, err
	}
	if last.IsZero() {
		return []query.Query{query.NewMatchAllQuery()}, nil
	}
	var out []query.Query
	hi, days := last, 1
	for {
		lo := hi.AddDate(0, 0, -(days - 1))
		if !lo.After(first) {
			// Everything from hi down, as "not newer than hi".
			newer := keyRange(fieldFetched, hi.AddDate(0, 0, 1).Format(dayLayout), "")
			rest := query.NewBooleanQuery(nil, nil, []query.Query{newer})
			out = append(out, rest)
			return out, nil
		}
		out = append(out, keyRange(fieldFetched, lo.Format(dayLayout), hi.Format(dayLayout)))
		hi, days = lo.AddDate(0, 0, -1), days*2
	}
}

// dayBounds are the oldest and newest fetch days in the index; zero when
// it has none.
func dayBounds(r bleveindex.IndexReader) (first, last time.Time, err error) {
	var lo, hi string
	err = eachTerm(r, fieldFetched, func(term string, _ uint64) {
		if lo == "" {
			lo = term
		}
		hi = term
	})
	if err != nil {
		return first, last, fmt.Errorf("read fetch days: %w", err)
	}
	if hi == "" {
		return first, last, nil
	}
	if first, err = time.Parse(dayLayout, lo); err != nil {
		return first, last, fmt.Errorf("read fetch days: %w", err)
	}
	if last, err = time.Parse(dayLayout, hi); err != nil {
		return first, last, fmt.Errorf("read fetch days: %w", err)
	}
	return first, last, nil
}

// eachTerm calls fn with every term of field in the index, in order, and
// how many listings hold it.
func eachTerm(r bleveindex.IndexReader, field string, fn func(term string, count uint64)) error {
	d, err := r.FieldDict(field)
	if err != nil {
		return err
	}
	defer d.Close()
	for {
		e, err := d.Next()
		if err != nil || e == nil {
			return err
		}
		fn(e.Term, e.Count)
	}
}

// keyRange is the inclusive term range [lo, hi] over field; "" is open.
func keyRange(field, lo, hi string) query.Query {
	yes := true
	q := bleve.NewTermRangeInclusiveQuery(lo, hi, &yes, &yes)
	q.SetField(field)
	return q
}
