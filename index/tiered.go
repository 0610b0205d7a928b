package index

import (
	"context"
	"fmt"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/collector"
	"github.com/blevesearch/bleve/v2/search/query"
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

// smallTotal is how many matches a search sorts in one pass before it
// reads them tier by tier instead: below it one pass costs less than the
// few searches the tiers take, each of which builds its query again.
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
// relevance and without visiting every match.
//
// Sorting by a field makes Bleve read the sort keys of every match, and a
// common word matches a quarter of the index. The score band and the
// fetch day partition the index in the order of those first keys, so the
// search reads the partitions from the top, a few bands or days at a time
// (each window twice as wide as the one before), and stops as soon as it
// has offset+limit hits: they are the same hits, in the same order, as one
// sort over everything. The total is counted separately, exactly up to
// ExactTotalUpTo.
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
	// One pass sorts the matches if there are few; the searcher it stops
	// goes on to count the rest.
	s, err := bq.Searcher(ctx, r, m, search.SearcherOptions{Score: "none", IncludeTermVectors: locations})
	if err != nil {
		return tieredResult{}, err
	}
	defer s.Close()
	first := &limitedSearcher{Searcher: s, left: smallTotal(need)}
	c := collector.NewTopNCollector(need, 0, order)
	if err := c.Collect(ctx, first, r); err != nil {
		return tieredResult{}, err
	}
	hits := c.Results()
	total := c.Total()
	if !first.stopped {
		hits = hits[min(offset, len(hits)):]
		return tieredResult{hits: hits, total: total}, nil
	}
	total, exact, err := countRest(ctx, s, total, ix.exactTotalUpTo)
	if err != nil {
		return tieredResult{}, err
	}
	var windows []query.Query
	if byDate {
		windows, err = dayWindows(r)
	} else {
		windows = bandWindows()
	}
	if err != nil {
		return tieredResult{}, err
	}
	hits = hits[:0]
	for _, w := range windows {
		hs, err := collect(ctx, r, m, query.NewConjunctionQuery([]query.Query{bq, w}), need-len(hits), order, locations)
		if err != nil {
			return tieredResult{}, err
		}
		hits = append(hits, hs...)
		if len(hits) >= need {
			break
		}
	}
	hits = hits[min(offset, len(hits)):min(need, len(hits))]
	return tieredResult{hits: hits, total: total, atLeast: !exact}, nil
}

// collect returns the first n matches of q in order, unscored.
func collect(ctx context.Context, r bleveindex.IndexReader, m mapping.IndexMapping, q query.Query, n int, order search.SortOrder, locations bool) ([]*search.DocumentMatch, error) {
	s, err := q.Searcher(ctx, r, m, search.SearcherOptions{Score: "none", IncludeTermVectors: locations})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	c := collector.NewTopNCollector(n, 0, order)
	if err := c.Collect(ctx, s, r); err != nil {
		return nil, err
	}
	return c.Results(), nil
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

// bandWindows are the score bands from the top, each window twice as wide
// as the one before; the last one takes the rest, including any listing
// indexed before there were bands (Reconcile re-indexes those anyway).
func bandWindows() []query.Query {
	var out []query.Query
	hi, width := scoreBands-1, 1
	for {
		lo := hi - width + 1
		if lo <= scoreBands/4 {
			higher := keyRange(scoreBand, bandKey(hi+1), "")
			return append(out, query.NewBooleanQuery(nil, nil, []query.Query{higher}))
		}
		out = append(out, keyRange(scoreBand, bandKey(lo), bandKey(hi)))
		hi, width = lo-1, width*2
	}
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
	d, err := r.FieldDict(fieldFetched)
	if err != nil {
		return first, last, fmt.Errorf("read fetch days: %w", err)
	}
	defer d.Close()
	var lo, hi string
	for {
		e, err := d.Next()
		if err != nil {
			return first, last, fmt.Errorf("read fetch days: %w", err)
		}
		if e == nil {
			break
		}
		if lo == "" {
			lo = e.Term
		}
		hi = e.Term
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

// keyRange is the inclusive term range [lo, hi] over field; "" is open.
func keyRange(field, lo, hi string) query.Query {
	yes := true
	q := bleve.NewTermRangeInclusiveQuery(lo, hi, &yes, &yes)
	q.SetField(field)
	return q
}
