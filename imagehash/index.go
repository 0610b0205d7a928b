package imagehash

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sync"
)

// The Index uses multi-index hashing (Norouzi, Punjani and Fleet, "Fast
// search in Hamming space with multi-index hashing", CVPR 2012). The 64 bits
// are cut into indexTables substrings of 16 bits, each with its own table.
// If two hashes are within r, then for any split of r+1 into per-table
// budgets k_t (Σ k_t = r+1) some substring t differs in fewer than k_t bits
// (else the distance would be at least r+1), so probing every bucket within
// k_t-1 bits of the query's substring in every table finds every match. With
// 16-bit substrings a budget of 3 probes 137 buckets of n/65536 hashes each:
// at r = 10 and a million random hashes about 430 buckets and 6,500
// candidates, against a million hashes for a scan.
//
// Each table is laid out flat, sorted by bucket (compressed sparse rows):
// start[b] to start[b+1] index the bucket's hashes, stored inline so that a
// candidate is verified with one XOR and popcount on contiguous memory, and
// the slots of their IDs, touched only by the few that match. A query's
// time goes mostly to cache misses, one or two per bucket and one per cache
// line of hashes, so probe issues them a chunk of buckets at a time. Five
// tables of 13 bits (150 buckets, 19,000 candidates at r = 10) and six of
// 11 (60 buckets, 40,000 candidates) measured slower than four of 16.
//
// The tables are rebuilt from scratch, which takes about 100 ms per million
// hashes (under the write lock, so queries wait); hashes added or changed
// since are kept in a short list that every query scans, and the tables are
// rebuilt when that list outgrows 256 + 1/256 of the index, so that its scan
// stays small beside the probes. That makes an Add cost about 40 µs
// amortised at a million hashes (BenchmarkIndexAdd1M).
const (
	indexTables = 4
	// maxTables bounds the table count of any layout (tests try others).
	maxTables = 8
	// minIndexed is the size below which no tables are built: scanning a
	// few thousand hashes costs about as much as probing the tables.
	minIndexed = 2048
	// probeCost is the cost of visiting one bucket, in hashes scanned: the
	// cache misses on its bounds and its hashes, overlapped by probe, and
	// the loop; measured at about 50 on a million random hashes.
	probeCost = 48
)

// Slot states: a slot's hash is either in the tables, or in the recent list
// (added or changed since the tables were built), or the slot is a hole
// left by Remove, reclaimed by the next rebuild.
const (
	slotIndexed uint8 = iota
	slotRecent
	slotRemoved
)

// Index answers "which stored hashes are within Hamming distance r of this
// one", exactly, over every reference and listing image. It holds one hash
// per ID; use one Index per hash kind (PHash, CropPHash, …). It is safe for
// concurrent use: queries share a read lock, writes take the write lock.
type Index struct {
	mu     sync.RWMutex
	ids    []string // by slot; holes (state slotRemoved) keep ""
	hashes []uint64 // by slot
	state  []uint8  // by slot
	slot   map[string]uint32
	holes  int      // slots in state slotRemoved
	recent []uint32 // slots in state slotRecent, in no order
	parts  int      // number of tables
	tables []table  // nil while the index is small
}

// table is one substring's multi-index table over the hashes that were
// stored when it was built.
type table struct {
	shift uint // the substring is h>>shift masked to width bits
	width int
	// start[b] to start[b+1] index bucket b in hashes and slots.
	start  []uint32
	hashes []uint64
	slots  []uint32
}

func (tb *table) key(h uint64) uint32 {
	return uint32(h>>tb.shift) & (1<<tb.width - 1)
}

// Hit is one stored hash within the queried distance.
type Hit struct {
	ID       string
	Hash     uint64
	Distance int
}

// Entry is one (ID, hash) pair, the unit of bulk loading and persistence.
type Entry struct {
	ID   string
	Hash uint64
}

// NewIndex returns an empty Index.
func NewIndex() *Index {
	return newIndex(indexTables)
}

// newIndex returns an empty Index with the given number of tables, between
// 3 and maxTables (fewer would make tables of 2^32 buckets), for trying
// other layouts in tests and benchmarks.
func newIndex(parts int) *Index {
	return &Index{slot: make(map[string]uint32), parts: parts}
}

// NewIndexFrom builds an Index from stored pairs, for rebuilding it from the
// store on start.
func NewIndexFrom(entries []Entry) *Index {
	ix := NewIndex()
	ix.AddAll(entries)
	return ix
}

// Add stores h under id, replacing the hash id had.
func (ix *Index) Add(id string, h uint64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.add(id, h)
	ix.settle()
}

// AddAll stores every pair under one lock; a later pair with the same ID
// replaces an earlier one. The tables are rebuilt at most once.
func (ix *Index) AddAll(entries []Entry) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.ids = slices.Grow(ix.ids, len(entries))
	ix.hashes = slices.Grow(ix.hashes, len(entries))
	ix.state = slices.Grow(ix.state, len(entries))
	for _, e := range entries {
		ix.add(e.ID, e.Hash)
	}
	ix.settle()
}

func (ix *Index) add(id string, h uint64) {
	if ix.slot == nil {
		// The zero Index is usable, as UnmarshalBinary's doc implies.
		ix.slot = make(map[string]uint32)
	}
	if s, ok := ix.slot[id]; ok {
		ix.hashes[s] = h
		if ix.state[s] == slotIndexed {
			// The tables hold the old hash: hide it there and scan the
			// new one until the next rebuild.
			ix.state[s] = slotRecent
			ix.recent = append(ix.recent, s)
		}
		return
	}
	s := uint32(len(ix.ids))
	ix.ids = append(ix.ids, id)
	ix.hashes = append(ix.hashes, h)
	ix.state = append(ix.state, slotRecent)
	ix.recent = append(ix.recent, s)
	ix.slot[id] = s
}

// Remove deletes id; it does nothing when id is not stored.
func (ix *Index) Remove(id string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	s, ok := ix.slot[id]
	if !ok {
		return
	}
	delete(ix.slot, id)
	ix.ids[s] = ""
	ix.state[s] = slotRemoved
	ix.holes++
	ix.settle()
}

// settle rebuilds the tables when the recent list or the holes have grown
// enough that queries or memory suffer; it keeps writes amortised O(1).
func (ix *Index) settle() {
	live := len(ix.ids) - ix.holes
	switch {
	case ix.tables == nil && live >= minIndexed,
		ix.tables != nil && len(ix.recent) > 256+len(ix.ids)/256,
		ix.holes > 1024 && ix.holes > len(ix.ids)/4:
		ix.rebuild()
	}
}

// rebuild closes the holes, empties the recent list and builds the tables
// afresh over every stored hash (none while the index is small).
func (ix *Index) rebuild() {
	if ix.holes > 0 {
		n := 0
		for s, st := range ix.state {
			if st == slotRemoved {
				continue
			}
			if n != s {
				ix.ids[n], ix.hashes[n] = ix.ids[s], ix.hashes[s]
				ix.slot[ix.ids[n]] = uint32(n)
			}
			n++
		}
		clear(ix.ids[n:])
		ix.ids, ix.hashes, ix.state = ix.ids[:n], ix.hashes[:n], ix.state[:n]
		ix.holes = 0
	}
	ix.recent = ix.recent[:0]
	if len(ix.ids) < minIndexed {
		// Too small to index: queries scan, so every slot is "recent".
		ix.tables = nil
		for s := range ix.state {
			ix.state[s] = slotRecent
			ix.recent = append(ix.recent, uint32(s))
		}
		return
	}
	clear(ix.state)
	if ix.parts == 0 {
		ix.parts = indexTables
	}
	ix.tables = buildTables(ix.hashes, ix.parts, ix.tables)
}

// buildTables cuts 64 bits into parts substrings (the first 64%parts one
// bit wider) and sorts the hashes into one table per substring with a
// counting sort. It reuses the memory of old when the sizes allow.
func buildTables(hashes []uint64, parts int, old []table) []table {
	tables := make([]table, parts)
	shift := 0
	for t := range tables {
		tb := &tables[t]
		tb.width = 64 / parts
		if t < 64%parts {
			tb.width++
		}
		tb.shift = uint(shift)
		shift += tb.width
		if t < len(old) && old[t].width == tb.width && cap(old[t].hashes) >= len(hashes) {
			tb.start = old[t].start
			clear(tb.start)
			tb.hashes, tb.slots = old[t].hashes[:len(hashes)], old[t].slots[:len(hashes)]
		} else {
			tb.start = make([]uint32, 1<<tb.width+1)
			tb.hashes, tb.slots = make([]uint64, len(hashes)), make([]uint32, len(hashes))
		}
		// start[b+1] counts bucket b; the prefix sum makes start[b+1]
		// the end of bucket b, then each placement moves start[b] up to
		// it, so the sum is shifted by one bucket once all are placed.
		for _, h := range hashes {
			tb.start[tb.key(h)+1]++
		}
		for b := 1; b < len(tb.start); b++ {
			tb.start[b] += tb.start[b-1]
		}
		for s, h := range hashes {
			b := tb.key(h)
			i := tb.start[b]
			tb.hashes[i], tb.slots[i] = h, uint32(s)
			tb.start[b] = i + 1
		}
		copy(tb.start[1:], tb.start[:len(tb.start)-1])
		tb.start[0] = 0
	}
	return tables
}

// Len is the number of stored hashes.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.ids) - ix.holes
}

// Get returns the hash stored under id.
func (ix *Index) Get(id string) (uint64, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	s, ok := ix.slot[id]
	if !ok {
		return 0, false
	}
	return ix.hashes[s], true
}

// Entries returns every stored pair, in the order they were first added
// (an ID keeps its place when its hash is replaced), for persisting the
// index.
func (ix *Index) Entries() []Entry {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make([]Entry, 0, len(ix.ids)-ix.holes)
	for s, id := range ix.ids {
		if ix.state[s] != slotRemoved {
			out = append(out, Entry{ID: id, Hash: ix.hashes[s]})
		}
	}
	return out
}

// budgets is a split of r+1 over the tables: table t is probed within
// budgets[t]-1 bits of the query's substring, and not at all when its budget
// is 0.
type budgets [maxTables]int

// ball is the number of width-bit values within radius d of a value.
func ball(width, d int) float64 {
	n, c := 0.0, 1.0
	for i := 0; i <= d && i <= width; i++ {
		n += c
		c = c * float64(width-i) / float64(i+1)
	}
	return n
}

// plan splits r+1 over the tables to minimise the expected cost of a probe
// on uniform hashes (buckets visited times probeCost, plus candidates
// verified) and returns the split and that cost in hashes scanned. Adding
// one unit of budget where it costs least is optimal, as each table's cost
// is convex in its budget.
func (ix *Index) plan(r int) (k budgets, cost float64) {
	var unit [maxTables]float64
	for t, tb := range ix.tables {
		unit[t] = probeCost + float64(len(tb.hashes))/float64(int(1)<<tb.width)
	}
	for range r + 1 {
		best, bestCost := 0, 0.0
		for t, tb := range ix.tables {
			c := (ball(tb.width, k[t]) - ball(tb.width, k[t]-1)) * unit[t]
			if t == 0 || c < bestCost {
				best, bestCost = t, c
			}
		}
		k[best]++
		cost += bestCost
	}
	return k, cost + float64(len(ix.recent))
}

// Query returns every stored hash within Hamming distance r of h, nearest
// first (ties by ID). It is exact: it probes the tables when the plan says
// that is cheaper and scans every hash otherwise (small indexes, large r).
func (ix *Index) Query(h uint64, r int) []Hit {
	if r < 0 {
		return nil
	}
	r = min(r, 64)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var hits []Hit
	if ix.tables == nil {
		hits = ix.scan(h, r, hits)
	} else if k, cost := ix.plan(r); cost >= float64(len(ix.hashes)) {
		hits = ix.scan(h, r, hits)
	} else {
		for t := range ix.tables {
			if k[t] > 0 {
				hits = ix.probe(h, r, t, &k, hits)
			}
		}
		hits = ix.scanRecent(h, r, hits)
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(a.ID, b.ID))
	})
	return hits
}

// scan is the linear popcount scan over every slot, for small indexes and
// large radii.
func (ix *Index) scan(h uint64, r int, hits []Hit) []Hit {
	for s, x := range ix.hashes {
		if d := bits.OnesCount64(x ^ h); d <= r && ix.state[s] != slotRemoved {
			hits = append(hits, Hit{ID: ix.ids[s], Hash: x, Distance: d})
		}
	}
	return hits
}

// scanRecent scans the hashes added or changed since the tables were built.
func (ix *Index) scanRecent(h uint64, r int, hits []Hit) []Hit {
	for _, s := range ix.recent {
		x := ix.hashes[s]
		if d := bits.OnesCount64(x ^ h); d <= r && ix.state[s] == slotRecent {
			hits = append(hits, Hit{ID: ix.ids[s], Hash: x, Distance: d})
		}
	}
	return hits
}

// probeChunk is the number of buckets whose bounds and hashes are loaded
// before any is verified.
const probeChunk = 64

// probe verifies the hashes of every bucket of table t within k[t]-1 bits
// of the query's substring. It works in chunks of buckets: first it loads
// each bucket's bounds and touches the cache lines of its first 32 hashes,
// loads that miss the cache but do not depend on one another, so the
// processor keeps many in flight; then it verifies the chunk's buckets, by
// then in cache. At r = 10 on a million random hashes this cut a query
// from about 120 µs to under 40 µs, by then as much as verifying the 6,500
// candidates. A match found
// in table t is reported only if no earlier table would have found it, so
// each match is reported once without a set of those seen.
func (ix *Index) probe(h uint64, r, t int, k *budgets, hits []Hit) []Hit {
	tb := &ix.tables[t]
	q := tb.key(h)
	limit := uint32(1) << tb.width
	var (
		lo, hi  [probeChunk]uint32
		n       int
		touched uint64
	)
	for d := 0; d < k[t] && d <= tb.width; d++ {
		// Gosper's hack enumerates the masks with d bits set in
		// increasing order; c is a power of two, so the division is a
		// shift.
		for m := uint32(1)<<d - 1; m < limit; {
			key := q ^ m
			if a, b := tb.start[key], tb.start[key+1]; a < b {
				// One hash per cache line, for buckets of up to 17 (the
				// mean is 15 at a million); no branch on a and b, whose
				// misprediction would discard the loads in flight.
				touched ^= tb.hashes[a] ^ tb.hashes[min(a+8, b-1)] ^ tb.hashes[b-1]
				lo[n], hi[n] = a, b
				n++
				if n == probeChunk {
					hits = ix.verify(h, r, t, k, lo[:n], hi[:n], hits)
					n = 0
				}
			}
			if m == 0 {
				break
			}
			c := m & -m
			nx := m + c
			m = ((nx^m)>>2)>>bits.TrailingZeros32(c) | nx
		}
	}
	if touched == h {
		// A use of the touched hashes, lest the compiler drop the loads;
		// clipping changes nothing a caller sees.
		hits = slices.Clip(hits)
	}
	return ix.verify(h, r, t, k, lo[:n], hi[:n], hits)
}

// verify checks the buckets lo[j] to hi[j] of table t against the query.
func (ix *Index) verify(h uint64, r, t int, k *budgets, lo, hi []uint32, hits []Hit) []Hit {
	tb := &ix.tables[t]
	for j, a := range lo {
		bucket := tb.hashes[a:hi[j]]
		i := 0
		// Four at a time, with one branch for the four: nearly all
		// candidates are far.
		for ; i+4 <= len(bucket); i += 4 {
			d := min(bits.OnesCount64(bucket[i]^h), bits.OnesCount64(bucket[i+1]^h),
				bits.OnesCount64(bucket[i+2]^h), bits.OnesCount64(bucket[i+3]^h))
			if d > r {
				continue
			}
			for n, x := range bucket[i : i+4] {
				if bits.OnesCount64(x^h) <= r {
					hits = ix.hit(h, r, t, k, x, tb.slots[a+uint32(i+n)], hits)
				}
			}
		}
		for ; i < len(bucket); i++ {
			if x := bucket[i]; bits.OnesCount64(x^h) <= r {
				hits = ix.hit(h, r, t, k, x, tb.slots[a+uint32(i)], hits)
			}
		}
	}
	return hits
}

// hit appends the hash x of slot s, found within r in table t, unless the
// tables no longer hold it or an earlier table would have found it.
func (ix *Index) hit(h uint64, r, t int, k *budgets, x uint64, s uint32, hits []Hit) []Hit {
	if ix.state[s] != slotIndexed || ix.foundEarlier(x^h, t, k) {
		return hits
	}
	return append(hits, Hit{ID: ix.ids[s], Hash: x, Distance: bits.OnesCount64(x ^ h)})
}

// foundEarlier reports whether a hash differing from the query by x would
// already have been found in a table before t.
func (ix *Index) foundEarlier(x uint64, t int, k *budgets) bool {
	for j := range t {
		if bits.OnesCount32(ix.tables[j].key(x)) < k[j] {
			return true
		}
	}
	return false
}

// indexMagic starts the binary form of an Index, with its version.
var indexMagic = [4]byte{'p', 'i', 'x', 1}

// ErrCorruptIndex reports binary index data that cannot be decoded.
var ErrCorruptIndex = errors.New("corrupt index data")

// MarshalBinary encodes the stored pairs: magic, count, then per pair the
// hash (8 bytes, little endian), the ID length (uvarint) and the ID. The
// tables are rebuilt on load.
func (ix *Index) MarshalBinary() ([]byte, error) {
	entries := ix.Entries()
	buf := make([]byte, 0, 16+len(entries)*24)
	buf = append(buf, indexMagic[:]...)
	buf = binary.AppendUvarint(buf, uint64(len(entries)))
	for _, e := range entries {
		buf = binary.LittleEndian.AppendUint64(buf, e.Hash)
		buf = binary.AppendUvarint(buf, uint64(len(e.ID)))
		buf = append(buf, e.ID...)
	}
	return buf, nil
}

// UnmarshalBinary replaces the contents of ix with data from MarshalBinary.
func (ix *Index) UnmarshalBinary(data []byte) error {
	if len(data) < len(indexMagic) || [4]byte(data[:4]) != indexMagic {
		return fmt.Errorf("unmarshal index: bad magic: %w", ErrCorruptIndex)
	}
	data = data[4:]
	n, k := binary.Uvarint(data)
	if k <= 0 || n > uint64(len(data))/9 {
		return fmt.Errorf("unmarshal index: bad count: %w", ErrCorruptIndex)
	}
	data = data[k:]
	entries := make([]Entry, 0, n)
	for i := uint64(0); i < n; i++ {
		if len(data) < 8 {
			return fmt.Errorf("unmarshal index: entry %d truncated: %w", i, ErrCorruptIndex)
		}
		h := binary.LittleEndian.Uint64(data)
		l, k := binary.Uvarint(data[8:])
		if k <= 0 || l > uint64(len(data)-8-k) {
			return fmt.Errorf("unmarshal index: entry %d truncated: %w", i, ErrCorruptIndex)
		}
		data = data[8+k:]
		entries = append(entries, Entry{ID: string(data[:l]), Hash: h})
		data = data[l:]
	}
	if len(data) != 0 {
		return fmt.Errorf("unmarshal index: %d trailing bytes: %w", len(data), ErrCorruptIndex)
	}
	fresh := NewIndexFrom(entries)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.ids, ix.hashes, ix.state, ix.slot = fresh.ids, fresh.hashes, fresh.state, fresh.slot
	ix.holes, ix.recent, ix.parts, ix.tables = fresh.holes, fresh.recent, fresh.parts, fresh.tables
	return nil
}
