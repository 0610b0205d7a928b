package matcher

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTermAutomaton checks the automaton against bytes.Index over the
// skeleton of random texts, with terms that overlap, nest, share prefixes
// and suffixes, hold 'l' and 'i' or are not ASCII.
func TestTermAutomaton(t *testing.T) {
	keys := [][]string{
		{"iumora", "iumora haio"},
		{"nordvik", "ora", "or"},
		{"aaa", "aa"},
		{"耐克", "mora"},
	}
	var brands []brand
	for _, ks := range keys {
		var b brand
		for _, k := range ks {
			b.terms = append(b.terms, term{key: skeleton(nil, []byte(k))})
		}
		brands = append(brands, b)
	}
	a := newTermAutomaton(brands)
	type occ struct{ brand, term, p int }
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"l", "i", "u", "m", "o", "r", "a", "n", "d", "v", "k", "h", " ", "耐", "克", "x"}
	for range 2000 {
		var text []byte
		for range r.IntN(40) {
			text = append(text, alphabet[r.IntN(len(alphabet))]...)
		}
		var want []occ
		skel := skeleton(nil, text)
		for bi, b := range brands {
			for ti, tm := range b.terms {
				for from := 0; ; {
					j := bytes.Index(skel[from:], tm.key)
					if j < 0 {
						break
					}
					want = append(want, occ{bi, ti, from + j})
					from += j + 1
				}
			}
		}
		var got []occ
		for _, o := range a.find(text, nil) {
			ref := a.out[o.ref]
			got = append(got, occ{int(ref.brand), int(ref.term), int(o.p)})
		}
		if !slices.Equal(got, want) {
			t.Fatalf("find(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestMayBeAuthorized(t *testing.T) {
	keys := []string{"lumoraofficialstore", "acme2"}
	tests := []struct {
		seller string
		want   bool
	}{
		{"Lumora Official Store", true},
		{"LUMORA-official store!", true},
		{"lumora officialstores", false},
		{"Acme 2", true},
		{"Acme", false},
		{"L@mora Official Store", true}, // symbols need the fold
		{"Lumоra Official Store", true}, // so does another script
		{"bestdeals", false},
	}
	for _, tt := range tests {
		var sc scratch
		if got := sc.mayBeAuthorized(tt.seller, keys); got != tt.want {
			t.Errorf("mayBeAuthorized(%q) = %v, want %v", tt.seller, got, tt.want)
		}
	}
}
