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

// Multi-index hashing (Norouzi, Punjani and Fleet, "Fast search in Hamming
// space with multi-index hashing", CVPR 2012): the 64 bits are cut into
// mihTables substrings of 16 bits, each with its own table of 65536 buckets.
// If two hashes are within r, then for any split of r+1 into per-table
// budgets k_i (Σ k_i = r+1) some substring differs in fewer than k_i bits, so
// probing every bucket within k_i-1 of the query's substring in each table
// finds every match. Candidates are verified with one XOR and popcount: the
// hashes are stored inline in the buckets, so no pointer is chased.
const (
	mihTables  = 4
	mihBits    = 64 / mihTables
	mihBuckets = 1 << mihBits
)

// Index answers "which stored hashes are within Hamming distance r of this
// one", exactly, over every reference and listing image. It holds one hash
// per ID; use one Index per hash kind (PHash, CropPHash, …). It is safe for
// concurrent use.
type Index struct {
	mu     sync.RWMutex
	ids    []string // dense: ids[i] has hashes[i]
	hashes []uint64
	slot   map[string]uint32
	// tables[t][b] lists the entries whose substring t is b; nil until the
	// first Add so that an empty Index is cheap.
	tables *[mihTables][mihBuckets][]entry
}

// entry is a bucket element: the full hash inline, for verification without
// an indirection, and the dense slot of its ID.
type entry struct {
	hash uint64
	slot uint32
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
	return &Index{slot: make(map[string]uint32)}
}

// NewIndexFrom builds an Index from stored pairs, for rebuilding it from the
// store on start.
func NewIndexFrom(entries []Entry) *Index {
	ix := NewIndex()
	ix.AddAll(entries)
	return ix
}

func substr(h uint64, t int) uint16 {
	return uint16(h >> (t * mihBits))
}

// Add stores h under id, replacing the hash id had.
func (ix *Index) Add(id string, h uint64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.add(id, h)
}

// AddAll stores every pair under one lock; a later pair with the same ID
// replaces an earlier one.
func (ix *Index) AddAll(entries []Entry) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.tables == nil && len(entries) > 0 {
		ix.presize(entries)
	}
	ix.ids = slices.Grow(ix.ids, len(entries))
	ix.hashes = slices.Grow(ix.hashes, len(entries))
	for _, e := range entries {
		ix.add(e.ID, e.Hash)
	}
}

// presize allocates each bucket at its final size for a bulk load into an
// empty index, instead of growing 262144 slices by appending.
func (ix *Index) presize(entries []Entry) {
	ix.tables = new([mihTables][mihBuckets][]entry)
	var counts [mihBuckets]uint32
	for t := range mihTables {
		clear(counts[:])
		for _, e := range entries {
			counts[substr(e.Hash, t)]++
		}
		backing := make([]entry, len(entries))
		off := 0
		for b, n := range counts {
			ix.tables[t][b] = backing[off : off : off+int(n)]
			off += int(n)
		}
	}
}

func (ix *Index) add(id string, h uint64) {
	if ix.tables == nil {
		ix.tables = new([mihTables][mihBuckets][]entry)
	}
	if s, ok := ix.slot[id]; ok {
		if ix.hashes[s] == h {
			return
		}
		ix.unlink(s)
		ix.hashes[s] = h
		ix.link(s)
		return
	}
	s := uint32(len(ix.ids))
	ix.ids = append(ix.ids, id)
	ix.hashes = append(ix.hashes, h)
	ix.slot[id] = s
	ix.link(s)
}

// link puts slot s into its bucket of every table.
func (ix *Index) link(s uint32) {
	h := ix.hashes[s]
	for t := range mihTables {
		b := &ix.tables[t][substr(h, t)]
		*b = append(*b, entry{hash: h, slot: s})
	}
}

// unlink removes slot s from its bucket of every table.
func (ix *Index) unlink(s uint32) {
	h := ix.hashes[s]
	for t := range mihTables {
		b := &ix.tables[t][substr(h, t)]
		for i, e := range *b {
			if e.slot == s {
				last := len(*b) - 1
				(*b)[i] = (*b)[last]
				*b = (*b)[:last]
				break
			}
		}
	}
}

// relink points the bucket entries of slot from at slot to.
func (ix *Index) relink(from, to uint32) {
	h := ix.hashes[from]
	for t := range mihTables {
		b := ix.tables[t][substr(h, t)]
		for i := range b {
			if b[i].slot == from {
				b[i].slot = to
				break
			}
		}
	}
}

// Remove deletes id; it does nothing when id is not stored.
func (ix *Index) Remove(id string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	s, ok := ix.slot[id]
	if !ok {
		return
	}
	ix.unlink(s)
	delete(ix.slot, id)
	last := uint32(len(ix.ids) - 1)
	if s != last {
		// Keep the slots dense: move the last one into the hole.
		ix.relink(last, s)
		ix.ids[s], ix.hashes[s] = ix.ids[last], ix.hashes[last]
		ix.slot[ix.ids[s]] = s
	}
	ix.ids[last] = ""
	ix.ids, ix.hashes = ix.ids[:last], ix.hashes[:last]
}

// Len is the number of stored hashes.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.ids)
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

// Entries returns every stored pair, for persisting the index.
func (ix *Index) Entries() []Entry {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make([]Entry, len(ix.ids))
	for i, id := range ix.ids {
		out[i] = Entry{ID: id, Hash: ix.hashes[i]}
	}
	return out
}

// budgets splits r+1 over the tables; table t is probed within budget-1
// bits (not at all when its budget is 0).
func budgets(r int) (k [mihTables]int) {
	for t := range mihTables {
		k[t] = (r + 1) / mihTables
		if t < (r+1)%mihTables {
			k[t]++
		}
	}
	return k
}

// ball is the number of 16-bit values within radius k-1 of a value.
func ball(k int) int {
	n, c := 0, 1
	for i := 0; i < k && i <= mihBits; i++ {
		n += c
		c = c * (mihBits - i) / (i + 1)
	}
	return n
}

// Query returns every stored hash within Hamming distance r of h, nearest
// first (ties by ID). It is exact: it probes the multi-index when that is
// cheaper and scans every hash otherwise (small indexes, large r).
func (ix *Index) Query(h uint64, r int) []Hit {
	if r < 0 {
		return nil
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var hits []Hit
	k := budgets(r)
	probes := 0
	for _, kt := range k {
		probes += ball(kt)
	}
	n := len(ix.hashes)
	// A probe costs about as much as scanning a few hashes, and each
	// probed bucket holds n/65536 hashes on uniform data.
	if r >= 64 || ix.tables == nil || 4*probes+probes*n/mihBuckets >= n {
		hits = ix.scan(h, r, hits)
	} else {
		hits = ix.probe(h, r, k, hits)
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(a.ID, b.ID))
	})
	return hits
}

// scan is the linear popcount scan: the baseline, and the plan for small
// indexes.
func (ix *Index) scan(h uint64, r int, hits []Hit) []Hit {
	for i, x := range ix.hashes {
		if d := bits.OnesCount64(x ^ h); d <= r {
			hits = append(hits, Hit{ID: ix.ids[i], Hash: x, Distance: d})
		}
	}
	return hits
}

// probe looks up every bucket within k[t]-1 bits of the query's substring t
// in every table. A candidate found in table t is reported only if no
// earlier table would have found it, so each match is reported once.
func (ix *Index) probe(h uint64, r int, k [mihTables]int, hits []Hit) []Hit {
	for t := range mihTables {
		if k[t] == 0 {
			continue
		}
		q := substr(h, t)
		table := &ix.tables[t]
		for d := 0; d < k[t]; d++ {
			// Gosper's hack enumerates the 16-bit masks with d bits set.
			for m := uint32(1)<<d - 1; m < mihBuckets; {
				for _, e := range table[q^uint16(m)] {
					dist := bits.OnesCount64(e.hash ^ h)
					if dist > r || foundEarlier(e.hash^h, t, k) {
						continue
					}
					hits = append(hits, Hit{ID: ix.ids[e.slot], Hash: e.hash, Distance: dist})
				}
				if m == 0 {
					break
				}
				c := m & -m
				nx := m + c
				m = (((nx ^ m) >> 2) / c) | nx
			}
		}
	}
	return hits
}

// foundEarlier reports whether a hash differing from the query by x would
// already have been found in a table before t.
func foundEarlier(x uint64, t int, k [mihTables]int) bool {
	for j := 0; j < t; j++ {
		if bits.OnesCount16(uint16(x>>(j*mihBits))) < k[j] {
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
// tables are rebuilt on load, which takes about a second for a million
// hashes.
func (ix *Index) MarshalBinary() ([]byte, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	buf := make([]byte, 0, 16+len(ix.ids)*24)
	buf = append(buf, indexMagic[:]...)
	buf = binary.AppendUvarint(buf, uint64(len(ix.ids)))
	for i, id := range ix.ids {
		buf = binary.LittleEndian.AppendUint64(buf, ix.hashes[i])
		buf = binary.AppendUvarint(buf, uint64(len(id)))
		buf = append(buf, id...)
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
	ix.ids, ix.hashes, ix.slot, ix.tables = fresh.ids, fresh.hashes, fresh.slot, fresh.tables
	return nil
}
