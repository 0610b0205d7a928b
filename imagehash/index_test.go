package imagehash

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// linear is the reference answer: every stored pair within r.
func linear(entries []Entry, h uint64, r int) []Hit {
	var out []Hit
	for _, e := range entries {
		if d := Distance(e.Hash, h); d <= r {
			out = append(out, Hit{ID: e.ID, Hash: e.Hash, Distance: d})
		}
	}
	slices.SortFunc(out, func(a, b Hit) int {
		if a.Distance != b.Distance {
			return a.Distance - b.Distance
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}

// flip returns h with n distinct random bits flipped.
func flip(rng *rand.Rand, h uint64, n int) uint64 {
	for _, b := range rng.Perm(64)[:n] {
		h ^= 1 << b
	}
	return h
}

func TestIndexMatchesLinearScan(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		parts     int
		bulk      bool
		clustered bool
	}{
		{"small", 50, indexTables, false, false},
		{"medium", 5000, indexTables, false, false},
		{"bulk", 60000, indexTables, true, false},
		{"clustered", 30000, indexTables, true, true},
		{"clustered-incremental", 8000, indexTables, false, true},
		{"5-tables", 20000, 5, true, false},
		{"6-tables", 20000, 6, false, true},
		{"8-tables", 20000, 8, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tt.n)))
			ref := make(map[string]uint64)
			ix := newIndex(tt.parts)
			var entries []Entry
			// Random hashes plus near copies, so that queries have answers
			// at every distance; clustered data is mostly groups of near
			// duplicates, which crowd a few buckets.
			for i := 0; i < tt.n; i++ {
				h := rng.Uint64()
				if i > 0 && (i%10 == 0 || tt.clustered && i%10 != 1) {
					h = flip(rng, entries[rng.IntN(len(entries))].Hash, rng.IntN(16))
				}
				e := Entry{ID: "id" + strconv.Itoa(i), Hash: h}
				entries = append(entries, e)
				ref[e.ID] = h
				if !tt.bulk {
					ix.Add(e.ID, h)
				}
			}
			if tt.bulk {
				ix.AddAll(entries)
			}
			// Remove and replace some, to exercise the recent list, holes
			// and rebuilds.
			for i := 0; i < tt.n/10; i++ {
				id := "id" + strconv.Itoa(rng.IntN(tt.n))
				if i%2 == 0 {
					ix.Remove(id)
					delete(ref, id)
				} else {
					h := flip(rng, entries[rng.IntN(len(entries))].Hash, rng.IntN(8))
					ix.Add(id, h)
					ref[id] = h
				}
			}
			if ix.Len() != len(ref) {
				t.Fatalf("Len() = %d, want %d", ix.Len(), len(ref))
			}
			var flat []Entry
			for id, h := range ref {
				flat = append(flat, Entry{ID: id, Hash: h})
			}
			for q := 0; q < 100; q++ {
				h := flip(rng, entries[rng.IntN(len(entries))].Hash, rng.IntN(12))
				if q%5 == 0 {
					h = rng.Uint64()
				}
				radii := []int{0, 1, 3, 4, 7, 8, 10, 13, 20}
				if q%10 == 0 {
					// Half or all of the index: a scan, and a slow check.
					radii = append(radii, 31, 64)
				}
				for _, r := range radii {
					got, want := ix.Query(h, r), linear(flat, h, r)
					if !slices.Equal(got, want) {
						t.Fatalf("Query(%016x, %d) = %d hits %v, want %d hits %v", h, r, len(got), got, len(want), want)
					}
				}
			}
		})
	}
}

// TestIndexChurn interleaves queries with every kind of write, including a
// hash replaced and then restored, and an ID removed and added again, and
// checks every answer, Len, Get and Entries against a plain map.
func TestIndexChurn(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	ix := NewIndex()
	ref := make(map[string]uint64)
	var order []string // IDs in the order Entries should list them
	var pool, gone []uint64
	for i := range 3000 {
		h := rng.Uint64()
		if i%3 != 0 && len(pool) > 0 {
			h = flip(rng, pool[rng.IntN(len(pool))], rng.IntN(6))
		}
		pool = append(pool, h)
	}
	check := func(step int) {
		t.Helper()
		if ix.Len() != len(ref) {
			t.Fatalf("step %d: Len() = %d, want %d", step, ix.Len(), len(ref))
		}
		var flat []Entry
		for _, id := range order {
			flat = append(flat, Entry{ID: id, Hash: ref[id]})
		}
		if got := ix.Entries(); !slices.Equal(got, flat) {
			t.Fatalf("step %d: Entries() differ from the %d stored pairs", step, len(flat))
		}
		// Near stored hashes, and near the last ones removed or replaced,
		// which the tables or the recent list may still hold.
		queries := gone[max(0, len(gone)-20):]
		for range 10 {
			queries = append(queries, flip(rng, pool[rng.IntN(len(pool))], rng.IntN(10)))
		}
		for _, h := range queries {
			for _, r := range []int{0, 2, 5, 10, 12} {
				if got, want := ix.Query(h, r), linear(flat, h, r); !slices.Equal(got, want) {
					t.Fatalf("step %d: Query(%016x, %d) = %v, want %v", step, h, r, got, want)
				}
			}
		}
	}
	next := 0
	for step := range 12000 {
		switch op := rng.IntN(10); {
		case op < 5 || len(order) == 0: // add a new ID
			id := "id" + strconv.Itoa(next)
			next++
			h := pool[rng.IntN(len(pool))]
			ix.Add(id, h)
			ref[id] = h
			order = append(order, id)
		case op < 7: // replace, sometimes back and forth
			id := order[rng.IntN(len(order))]
			old, h := ref[id], pool[rng.IntN(len(pool))]
			ix.Add(id, h)
			gone = append(gone, old)
			if op == 6 {
				ix.Add(id, old)
				h = old
			}
			ref[id] = h
		case op < 9: // remove
			i := rng.IntN(len(order))
			ix.Remove(order[i])
			gone = append(gone, ref[order[i]])
			delete(ref, order[i])
			order = slices.Delete(order, i, i+1)
		default: // remove and add again: the ID goes to the end
			i := rng.IntN(len(order))
			id := order[i]
			ix.Remove(id)
			gone = append(gone, ref[id])
			order = slices.Delete(order, i, i+1)
			h := pool[rng.IntN(len(pool))]
			ix.Add(id, h)
			ref[id] = h
			order = append(order, id)
		}
		if step%500 == 0 {
			check(step)
		}
	}
	check(12000)
	for id, want := range ref {
		if got, ok := ix.Get(id); !ok || got != want {
			t.Fatalf("Get(%s) = %016x, %v, want %016x, true", id, got, ok, want)
		}
	}
}

// TestIndexConcurrent runs queries beside writes; run it with -race.
func TestIndexConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	entries := make([]Entry, 5000)
	for i := range entries {
		entries[i] = Entry{ID: "id" + strconv.Itoa(i), Hash: rng.Uint64()}
	}
	ix := NewIndexFrom(entries)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(5, uint64(g)))
			for i := range 2000 {
				e := entries[rng.IntN(len(entries))]
				switch {
				case g == 0 && i%2 == 0:
					ix.Add("new"+strconv.Itoa(i), rng.Uint64())
				case g == 0:
					ix.Remove("id" + strconv.Itoa(i))
				default:
					for _, hit := range ix.Query(e.Hash, 6) {
						if Distance(hit.Hash, e.Hash) > 6 {
							t.Errorf("Query(%016x, 6) returned %v", e.Hash, hit)
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if got, want := ix.Len(), 5000; got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
}

func TestIndexZeroValue(t *testing.T) {
	var ix Index
	if got := ix.Query(0, 64); len(got) != 0 {
		t.Errorf("Query on an empty Index = %v, want none", got)
	}
	for i := range 3000 {
		ix.Add("id"+strconv.Itoa(i), uint64(i)<<40)
	}
	if got := ix.Query(0, 0); len(got) != 1 || got[0].ID != "id0" {
		t.Errorf("Query(0, 0) = %v, want id0", got)
	}
	if got := ix.Query(0, -1); got != nil {
		t.Errorf("Query(0, -1) = %v, want nil", got)
	}
}

func TestIndexBinaryRoundTrip(t *testing.T) {
	ix := NewIndex()
	rng := rand.New(rand.NewPCG(2, 2))
	for i := 0; i < 1000; i++ {
		ix.Add("listing/"+strconv.Itoa(i), rng.Uint64())
	}
	data, err := ix.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back Index
	if err := back.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Entries(), ix.Entries()) {
		t.Fatal("UnmarshalBinary(MarshalBinary()) lost or reordered entries")
	}
	h, _ := ix.Get("listing/7")
	if got := back.Query(h, 0); len(got) != 1 || got[0].ID != "listing/7" {
		t.Errorf("Query after round trip = %v, want listing/7", got)
	}
	for _, bad := range [][]byte{nil, []byte("pix"), data[:len(data)-1], append(slices.Clone(data), 0)} {
		if err := back.UnmarshalBinary(bad); !errors.Is(err, ErrCorruptIndex) {
			t.Errorf("UnmarshalBinary(%d bytes) = %v, want ErrCorruptIndex", len(bad), err)
		}
	}
}
