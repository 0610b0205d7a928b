package store_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/store"
)

// BenchmarkSaveFetchedBatch measures the store's write rate for listings
// with their evidence snapshots (a ~5 KB page each), 500 per transaction
// with one fsync each, the way a sweep writes them. Beside it, in the same
// run and alternating batch by batch, it measures the baseline the issue
// quotes: raw bbolt puts of the same 5 KB pages under time-ordered keys,
// 500 per transaction, into a second file. It reports both rates (medians
// of the per-batch rates; the machine is shared and noisy) and their ratio.
func BenchmarkSaveFetchedBatch(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	s, err := store.Open(filepath.Join(dir, "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	raw, err := bolt.Open(filepath.Join(dir, "baseline.db"), 0o600, &bolt.Options{Timeout: 5 * time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	rawBucket := []byte("pages")
	if err := raw.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(rawBucket)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	page := []byte("<html><body>" + strings.Repeat("<p>genuine leather strap, water resistant, sapphire glass</p>\n", 80) + "</body></html>")
	const batch = 500
	t0 := time.Now()
	var ours, base time.Duration
	var oursRates, baseRates []float64
	seq := uint64(0)
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(batch, b.N-done)
		b.StopTimer()
		fs := make([]store.Fetched, n)
		for i := range fs {
			l := sample(done + i)
			l.URL = fmt.Sprintf("http://shop.example/item/%09d", done+i)
			l.ID = listing.NewID("shop", l.URL)
			html := append([]byte(fmt.Sprintf("<!-- %d -->", done+i)), page...)
			fs[i] = store.Fetched{Listing: l, Snapshot: &listing.Snapshot{ListingID: l.ID, URL: l.URL, Status: 200, FetchedAt: t0, HTML: html}}
		}
		b.StartTimer()
		start := time.Now()
		if err := s.SaveFetchedBatch(ctx, fs); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		b.StopTimer()
		err := raw.Update(func(tx *bolt.Tx) error {
			bk := tx.Bucket(rawBucket)
			bk.FillPercent = 1
			for _, f := range fs {
				seq++
				var k [8]byte
				binary.BigEndian.PutUint64(k[:], seq)
				if err := bk.Put(k[:], f.Snapshot.HTML); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		end := time.Now()
		b.StartTimer()
		ours += mid.Sub(start)
		base += end.Sub(mid)
		oursRates = append(oursRates, float64(n)/mid.Sub(start).Seconds())
		baseRates = append(baseRates, float64(n)/end.Sub(mid).Seconds())
		done += n
	}
	b.StopTimer()
	b.ReportMetric(median(oursRates), "listings/s")
	b.ReportMetric(median(baseRates), "bbolt-puts/s")
	b.ReportMetric(ours.Seconds()/max(base.Seconds(), 1e-9), "store/bbolt-time-ratio")
}

// median returns the middle value of xs (which it sorts).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	return xs[len(xs)/2]
}
