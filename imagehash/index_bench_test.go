package imagehash

import (
	"cmp"
	"flag"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

var benchParts = flag.Int("index.parts", indexTables, "number of tables of the benchmarked Index")

// indexBenchSize is the number of stored hashes the index benchmark asks
// about.
const indexBenchSize = 1_000_000

// indexSet is an Index over indexBenchSize hashes, the same hashes as a
// flat slice for the scan baseline, and the queries to ask.
type indexSet struct {
	ix      *Index
	ids     []string
	hashes  []uint64
	queries []uint64
}

// lazySet builds its indexSet once per benchmark process.
type lazySet struct {
	once sync.Once
	set  *indexSet
}

func (l *lazySet) get(b *testing.B, build func(*rand.Rand) []Entry) *indexSet {
	l.once.Do(func() {
		rng := rand.New(rand.NewPCG(7, 7))
		entries := build(rng)
		set := &indexSet{ids: make([]string, len(entries)), hashes: make([]uint64, len(entries))}
		for i, e := range entries {
			set.ids[i], set.hashes[i] = e.ID, e.Hash
		}
		start := time.Now()
		set.ix = newIndex(*benchParts)
		set.ix.AddAll(entries)
		b.Logf("built a %d-hash index with %d tables in %v", set.ix.Len(), *benchParts, time.Since(start).Round(time.Millisecond))
		// Half the queries are near a stored hash (0–9 bits away), half
		// random.
		set.queries = make([]uint64, 2000)
		for i := range set.queries {
			set.queries[i] = rng.Uint64()
			if i%2 == 0 {
				set.queries[i] = flip(rng, entries[rng.IntN(len(entries))].Hash, rng.IntN(10))
			}
		}
		l.set = set
	})
	return l.set
}

// The benchmark's data sets, built on first use.
var (
	randomSet    lazySet
	clusteredSet lazySet
)

// randomEntries is the worst case for the index: uniform hashes, no two
// alike.
func randomEntries(rng *rand.Rand) []Entry {
	entries := make([]Entry, indexBenchSize)
	for i := range entries {
		entries[i] = Entry{ID: "img" + strconv.Itoa(i), Hash: rng.Uint64()}
	}
	return entries
}

// clusteredEntries is closer to a marketplace: groups of 1–19 (10 on
// average) near-duplicates of one photo, each 0–6 bits from it, as
// resizing and recompression leave them.
func clusteredEntries(rng *rand.Rand) []Entry {
	entries := make([]Entry, 0, indexBenchSize)
	for len(entries) < indexBenchSize {
		photo := rng.Uint64()
		for range min(1+rng.IntN(19), indexBenchSize-len(entries)) {
			id := "img" + strconv.Itoa(len(entries))
			entries = append(entries, Entry{ID: id, Hash: flip(rng, photo, rng.IntN(7))})
		}
	}
	rng.Shuffle(len(entries), func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })
	return entries
}

// linearScan is the baseline: a popcount over every stored hash, with hits
// sorted as Query sorts them.
func linearScan(ids []string, hashes []uint64, h uint64, r int) []Hit {
	var hits []Hit
	for i, x := range hashes {
		if d := bits.OnesCount64(x ^ h); d <= r {
			hits = append(hits, Hit{ID: ids[i], Hash: x, Distance: d})
		}
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(a.ID, b.ID))
	})
	return hits
}

func medianDuration(xs []time.Duration) time.Duration {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[len(xs)/2]
}

func percentile(xs []time.Duration, p int) time.Duration {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[min(len(xs)-1, len(xs)*p/100)]
}

func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// BenchmarkIndexQuery1M times Query(h, r) over 1,000,000 stored hashes,
// random and clustered, beside a linear popcount scan over the same hashes
// (target: 20× faster, p99 at most 100 µs), for r = 4, 8 and 10.
//
// The box is shared, so ours and the scan alternate over several rounds,
// and each wall-clock figure (mean-µs, p99-µs, scan-mean-µs and their
// ratio x-faster-than-scan) is the median over the rounds. Being
// descheduled costs a query milliseconds, which on a loaded box swamps the
// p99 of a 50 µs query; the -best figures take each query's fastest round
// instead, which leaves that out: p99-best-µs, and x-faster-best, the
// ratio of the scan's and ours' mean fastest times.
func BenchmarkIndexQuery1M(b *testing.B) {
	sets := []struct {
		name  string
		lazy  *lazySet
		build func(*rand.Rand) []Entry
	}{
		{"random", &randomSet, randomEntries},
		{"clustered", &clusteredSet, clusteredEntries},
	}
	for _, ds := range sets {
		for _, r := range []int{4, 8, 10} {
			b.Run(ds.name+"/r="+strconv.Itoa(r), func(b *testing.B) {
				set := ds.lazy.get(b, ds.build)
				benchIndexQuery(b, set, r)
			})
		}
	}
}

func benchIndexQuery(b *testing.B, set *indexSet, r int) {
	const rounds, scanEvery = 5, 25
	runtime.GC()
	nq := len(set.queries)
	best := make([]time.Duration, nq)
	scanBest := make([]time.Duration, nq/scanEvery)
	var means, p99s, scanMeans []time.Duration
	hits := 0
	for round := range rounds {
		lat := make([]time.Duration, nq)
		var sum time.Duration
		for i, q := range set.queries {
			t0 := time.Now()
			got := set.ix.Query(q, r)
			lat[i] = time.Since(t0)
			sum += lat[i]
			if round == 0 {
				hits += len(got)
				best[i] = lat[i]
			}
			best[i] = min(best[i], lat[i])
		}
		means = append(means, sum/time.Duration(nq))
		p99s = append(p99s, percentile(lat, 99))
		sum = 0
		for j := range scanBest {
			q := set.queries[j*scanEvery]
			t0 := time.Now()
			want := linearScan(set.ids, set.hashes, q, r)
			d := time.Since(t0)
			sum += d
			if round == 0 {
				scanBest[j] = d
				if got := set.ix.Query(q, r); !slices.Equal(got, want) {
					b.Fatalf("Query(%016x, %d) = %d hits, scan finds %d", q, r, len(got), len(want))
				}
			}
			scanBest[j] = min(scanBest[j], d)
		}
		scanMeans = append(scanMeans, sum/time.Duration(len(scanBest)))
	}
	i := 0
	for b.Loop() {
		set.ix.Query(set.queries[i%nq], r)
		i++
	}
	mean, scan := medianDuration(means), medianDuration(scanMeans)
	b.ReportMetric(micros(mean), "mean-µs")
	b.ReportMetric(micros(medianDuration(p99s)), "p99-µs")
	b.ReportMetric(micros(scan), "scan-mean-µs")
	b.ReportMetric(float64(scan)/float64(mean), "x-faster-than-scan")
	b.ReportMetric(micros(percentile(best, 99)), "p99-best-µs")
	b.ReportMetric(float64(meanDuration(scanBest))/float64(meanDuration(best)), "x-faster-best")
	b.ReportMetric(float64(hits)/float64(nq), "hits/query")
}

func meanDuration(xs []time.Duration) time.Duration {
	var sum time.Duration
	for _, x := range xs {
		sum += x
	}
	return sum / time.Duration(len(xs))
}

// BenchmarkIndexAdd1M times Add of new IDs into an index of 1,000,000
// random hashes, which includes the rebuilds of the tables it triggers
// every 4,000 or so, and reports how long one rebuild holds the write lock.
func BenchmarkIndexAdd1M(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 9))
	ix := NewIndexFrom(randomEntries(rng))
	ix.mu.Lock()
	start := time.Now()
	ix.rebuild()
	rebuild := time.Since(start)
	ix.mu.Unlock()
	i := 0
	for b.Loop() {
		ix.Add("new"+strconv.Itoa(i), rng.Uint64())
		i++
	}
	b.ReportMetric(float64(rebuild.Microseconds())/1e3, "rebuild-ms")
}
