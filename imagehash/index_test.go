package imagehash

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
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
		name string
		n    int
		bulk bool
	}{
		{"small", 50, false},
		{"medium", 5000, false},
		{"bulk", 60000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tt.n)))
			ref := make(map[string]uint64)
			ix := NewIndex()
			var entries []Entry
			// Random hashes plus clusters of near copies, so that queries
			// have answers at every distance.
			for i := 0; i < tt.n; i++ {
				h := rng.Uint64()
				if i > 0 && i%10 == 0 {
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
			// Remove and replace some, to exercise slot moves.
			for i := 0; i < tt.n/10; i++ {
				id := "id" + strconv.Itoa(rng.IntN(tt.n))
				if i%2 == 0 {
					ix.Remove(id)
					delete(ref, id)
				} else {
					h := rng.Uint64()
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
				for _, r := range []int{0, 1, 3, 4, 7, 10, 13, 20, 31} {
					got, want := ix.Query(h, r), linear(flat, h, r)
					if !slices.Equal(got, want) {
						t.Fatalf("Query(%016x, %d) = %d hits %v, want %d hits %v", h, r, len(got), got, len(want), want)
					}
				}
			}
		})
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
