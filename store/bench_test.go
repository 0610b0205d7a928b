package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/store"
)

// BenchmarkSaveFetchedBatch measures the store's write rate for listings
// with their evidence snapshots (a ~5 KB page each), 500 per transaction
// with one fsync each, the way a sweep writes them.
func BenchmarkSaveFetchedBatch(b *testing.B) {
	ctx := context.Background()
	s, err := store.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	page := []byte("<html><body>" + strings.Repeat("<p>genuine leather strap, water resistant, sapphire glass</p>\n", 80) + "</body></html>")
	const batch = 500
	t0 := time.Now()
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(batch, b.N-done)
		fs := make([]store.Fetched, n)
		for i := range fs {
			l := sample(done + i)
			l.URL = fmt.Sprintf("http://shop.example/item/%09d", done+i)
			l.ID = listing.NewID("shop", l.URL)
			html := append([]byte(fmt.Sprintf("<!-- %d -->", done+i)), page...)
			fs[i] = store.Fetched{Listing: l, Snapshot: &listing.Snapshot{ListingID: l.ID, URL: l.URL, Status: 200, FetchedAt: t0, HTML: html}}
		}
		if err := s.SaveFetchedBatch(ctx, fs); err != nil {
			b.Fatal(err)
		}
		done += n
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "listings/s")
}
