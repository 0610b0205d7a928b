package index

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/patrol-dev/patrol/listing"
)

// TestTieredSearchMatchesFullSort checks the tiered search, with and
// without facets, against Bleve sorting every match: the same hits in
// the same order on every page, and a total that is exact below the
// counting limit and a true lower bound above it. The corpus is the
// benchmark's, small enough that common words match more than the
// one-pass limit, plus listings on the edges of the score bands and
// listings fetched on the same second.
func TestTieredSearchMatchesFullSort(t *testing.T) {
	ctx := context.Background()
	c := newCorpus(3000)
	edge := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, score := range []float64{1, 0.99996, 0.99, 0.98999, 0.25, 0.249996, 0.24999, 0, 0, 0.5, 0.5, 0.5} {
		l := c.listings[i]
		l.ID = listing.ID(fmt.Sprintf("edge%02d", i))
		l.Title = "Nordvik edgecase " + l.Title
		l.Score, l.Flagged = score, score >= 0.6
		l.FetchedAt = edge.Add(time.Duration(i%3) * 24 * time.Hour)
		c.listings = append(c.listings, l)
	}
	c.listings[5].FetchedAt = time.Time{} // never fetched: sorts last by date
	ix, err := Open(t.TempDir()+"/ix", Options{Fold: newBenchFold()})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ix.exactTotalUpTo = 500
	if err := ix.Put(ctx, c.listings); err != nil {
		t.Fatal(err)
	}
	flagged := true
	queries := map[string]Query{
		"every listing":        {},
		"common word":          {Text: c.vocab[0]},
		"two common words":     {Text: c.vocab[1] + " " + c.vocab[2]},
		"rarer word":           {Text: c.vocab[60]},
		"fuzzy":                {Text: c.vocab[3] + "~1"},
		"phrase":               {Text: `"` + c.vocab[0] + " " + c.vocab[1] + `"`},
		"brand and price":      {Brand: c.brands[0], MinPrice: 20, MaxPrice: 300},
		"flagged":              {Flagged: &flagged},
		"band edges":           {Text: "edgecase"},
		"nothing":              {Text: "zzzzqqqq"},
		"score range and word": {Text: c.vocab[0], MinScore: 0.3, MaxScore: 0.7},
	}
	for name, q := range queries {
		for _, sort := range []string{SortScore, SortDate} {
			for _, page := range []struct{ limit, offset int }{{20, 0}, {20, 13}, {7, 400}, {50, 1100}} {
				q := q
				q.Sort, q.Limit, q.Offset = sort, page.limit, page.offset
				t.Run(fmt.Sprintf("%s/%s/%d+%d", name, sort, page.offset, page.limit), func(t *testing.T) {
					got, err := ix.Search(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					want := fullSort(t, ix, q)
					withFacets := q
					withFacets.Facets = true
					wf, err := ix.Search(ctx, withFacets)
					if err != nil {
						t.Fatal(err)
					}
					if wf.TotalAtLeast || wf.Total != want.Total || !slices.Equal(ids(wf.Hits), ids(want.Hits)) {
						t.Errorf("with facets: total %d (at least: %v), hits %v\nwant total %d, hits %v", wf.Total, wf.TotalAtLeast, ids(wf.Hits), want.Total, ids(want.Hits))
					}
					if !slices.Equal(ids(got.Hits), ids(want.Hits)) {
						t.Errorf("hits\n got %v\nwant %v", ids(got.Hits), ids(want.Hits))
					}
					for i := range min(len(got.Hits), len(want.Hits)) {
						if got.Hits[i].Score != want.Hits[i].Score {
							t.Errorf("hit %d score %v, want %v", i, got.Hits[i].Score, want.Hits[i].Score)
						}
					}
					switch {
					case got.TotalAtLeast && (got.Total < ix.exactTotalUpTo || got.Total > want.Total):
						t.Errorf("total at least %d; the true total is %d and counting stops at %d", got.Total, want.Total, ix.exactTotalUpTo)
					case !got.TotalAtLeast && got.Total != want.Total:
						t.Errorf("total %d, want %d", got.Total, want.Total)
					}
				})
			}
		}
	}
}

// fullSort is q run the plain way: Bleve scores and sorts every match.
func fullSort(t *testing.T, ix *Index, q Query) Result {
	t.Helper()
	bq, err := ix.buildQuery(q, true)
	if err != nil {
		t.Fatal(err)
	}
	order, err := sortKeys(q.Sort)
	if err != nil {
		t.Fatal(err)
	}
	req := bleve.NewSearchRequestOptions(bq, q.Limit, q.Offset, false)
	req.SortByCustom(sortOrder(order))
	res, err := ix.bi.SearchInContext(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	out := Result{Total: res.Total}
	for _, dm := range res.Hits {
		v, err := strconv.ParseFloat(dm.Sort[slices.Index(order, "-"+sortScore)], 64)
		if err != nil {
			t.Fatal(err)
		}
		out.Hits = append(out.Hits, Hit{ID: listing.ID(dm.ID), Score: v})
	}
	return out
}

// ids are the listing IDs of hits, in order.
func ids(hs []Hit) []listing.ID {
	out := make([]listing.ID, len(hs))
	for i, h := range hs {
		out[i] = h.ID
	}
	return out
}

// TestScoreWindowOf checks that the windows follow the bands and cover
// every score, highest window first.
func TestScoreWindowOf(t *testing.T) {
	for _, tc := range []struct {
		score float64
		want  int
	}{
		{1, 0}, {0.99, 0}, {0.98996, 0}, {0.9899, 1}, {0.97, 1}, {0.9699, 2}, {0.93, 2},
		{0.85, 3}, {0.69, 4}, {0.6899, 5}, {0.37, 5}, {0.3699, 6}, {0, 6}, {-1, 6},
	} {
		if got := scoreWindowOf(tc.score); got != tc.want {
			t.Errorf("scoreWindowOf(%v) = %d, want %d", tc.score, got, tc.want)
		}
	}
}

// TestBandOf checks that bands follow the score's sort key, so that a
// score that rounds up into the next hundredth sorts with that band.
func TestBandOf(t *testing.T) {
	for _, tc := range []struct {
		score float64
		want  int
	}{
		{0, 0}, {-1, 0}, {0.0099, 0}, {0.01, 1}, {0.249996, 25}, {0.24999, 25}, {0.24994, 24},
		{0.99, 99}, {0.99996, 99}, {1, 99}, {7, 99},
	} {
		if got := bandOf(tc.score); got != tc.want {
			t.Errorf("bandOf(%v) = %d, want %d", tc.score, got, tc.want)
		}
		if k := scoreKey(max(tc.score, 0)); k < "1" && k[2:4] != fmt.Sprintf("%02d", tc.want) {
			t.Errorf("scoreKey(%v) = %s, not in band %d", tc.score, k, tc.want)
		}
	}
}
