package matcher

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/patrol-dev/patrol/listing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestTypo1(t *testing.T) {
	tests := []struct {
		text, term, op string
		ok             bool
	}{
		{"lumra", "lumora", typoOmission, true},
		{"lmuora", "lumora", typoTransposition, true},
		{"lumoora", "lumora", typoRepetition, true},
		{"lumira", "lumora", typoVowelSwap, true},
		{"lumpra", "lumora", typoReplacement, true}, // p is next to o
		{"lumorsa", "lumora", typoInsertion, true},  // s is next to a
		{"lum0ra", "lumora", typoLookalike, true},
		{"lumoxa", "lumora", "", false}, // x is nowhere near r
		{"lumen", "lumora", "", false},
		{"lumora", "lumora", "", false},
		{"lumorqz", "lumora", "", false},
	}
	for _, tt := range tests {
		op, ok := typo1([]byte(tt.text), []byte(tt.term))
		if op != tt.op || ok != tt.ok {
			t.Errorf("typo1(%q, %q) = %q, %v, want %q, %v", tt.text, tt.term, op, ok, tt.op, tt.ok)
		}
	}
}

func TestOSA(t *testing.T) {
	tests := []struct {
		a, b string
		max  int
		want int
	}{
		{"brackenridge", "brackenridge", 2, 0},
		{"brakenrigde", "brackenridge", 2, 2},
		{"brackenrdige", "brackenridge", 2, 1},
		{"bracknrdge", "brackenridge", 2, 2},
		{"bricklayer", "brackenridge", 2, 3},
	}
	for _, tt := range tests {
		if got := osa([]byte(tt.a), []byte(tt.b), tt.max); got != tt.want {
			t.Errorf("osa(%q, %q, %d) = %d, want %d", tt.a, tt.b, tt.max, got, tt.want)
		}
	}
}

func TestVariants(t *testing.T) {
	m := newTestMatcher(t)
	got := m.Variants("lumora", 12)
	if len(got) != 12 {
		t.Fatalf("Variants(lumora, 12) = %d variants, want 12: %q", len(got), got)
	}
	seen := map[string]bool{}
	for _, v := range got {
		if seen[v] || v == "lumora" {
			t.Errorf("Variants(lumora, 12) = %q: duplicate or the term itself %q", got, v)
		}
		seen[v] = true
	}
	// Every variant must be read back as the brand by the matcher, or the
	// sweep would search for listings the matcher then ignores.
	for _, v := range m.Variants("Lumora", 200) {
		l := listing.Listing{Title: v + " watch"}
		m.Score(&l, nil)
		if l.Brand != "Lumora" {
			t.Errorf("Score(%q) brand = %q, want Lumora (a variant the sweep searches for)", l.Title, l.Brand)
		}
	}
	if got := m.Variants("nope", 5); got != nil {
		t.Errorf("Variants(nope, 5) = %q, want nil", got)
	}
	for _, fam := range []string{"lum0ra", "l.u.m.o.r.a", "lumоra", "lumra"} {
		if !slicesContains(m.Variants("Lumora", 400), fam) {
			t.Errorf("Variants(Lumora, 400) lacks %q", fam)
		}
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// fakeHistory is what a store would answer.
type fakeHistory struct {
	confirmed map[string]int
	flagged   map[uint64][]string
}

func (h fakeHistory) ConfirmedBySeller(_, seller string) int { return h.confirmed[seller] }
func (h fakeHistory) FlaggedWithPhoto(img listing.Image, except string) []string {
	return h.flagged[img.PHash]
}

func TestHistorySignals(t *testing.T) {
	m := newTestMatcher(t)
	h := fakeHistory{
		confirmed: map[string]int{"shady": 3},
		flagged:   map[uint64][]string{0xABCDEF: {"a1", "b2"}},
	}
	tests := []struct {
		name    string
		l       listing.Listing
		flagged bool
		signal  string
	}{
		{"repeat infringer with brand", listing.Listing{Title: "Lumora Halo 3", Seller: "shady", Price: 190, Currency: "USD"}, false, SignalRepeatInfringer},
		{"repeat infringer and typo", listing.Listing{Title: "Lumoar Halo 3", Seller: "shady", Price: 190, Currency: "USD"}, false, SignalRepeatInfringer},
		{"repeat infringer cheap", listing.Listing{Title: "Lumora Halo 3", Seller: "shady", Price: 80, Currency: "USD"}, true, SignalRepeatInfringer},
		{"shared photo", listing.Listing{Title: "Lumora Halo 3", Seller: "x", Price: 190, Currency: "USD", Images: []listing.Image{{PHash: 0xABCDEF, DHash: 1}}}, true, SignalSharedPhoto},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.l
			m.Score(&l, h)
			if l.Flagged != tt.flagged || !strings.Contains(signalNames(&l), tt.signal) {
				t.Errorf("Score(%q) = flagged %v %.2f %v, want flagged %v with %s", l.Title, l.Flagged, l.Score, l.Signals, tt.flagged, tt.signal)
			}
		})
	}
}

// TestScoreIdempotent checks what `patrol rescore` relies on: scoring a
// listing again resets every result field, and a changed configuration
// gives the same result as scoring the listing fresh.
func TestScoreIdempotent(t *testing.T) {
	m := newTestMatcher(t)
	l := listing.Listing{Title: "Lumora Halo 3 replica", Price: 150, Currency: "USD", Seller: "x"}
	m.Score(&l, nil)
	first := l
	first.Signals = append([]listing.Signal(nil), l.Signals...)
	m.Score(&l, nil)
	if !reflect.DeepEqual(first, l) {
		t.Errorf("Score twice = %+v, want %+v", l, first)
	}
	// The brand now authorizes the seller: rescoring must drop the flag
	// and every old signal.
	brands := testBrands()
	brands[0].AuthorizedSellers = append(brands[0].AuthorizedSellers, "x")
	m2, err := New(Options{Brands: brands})
	if err != nil {
		t.Fatal(err)
	}
	m2.Score(&l, nil)
	if l.Flagged || l.Score != 0 || len(l.Signals) != 1 || l.Signals[0].Name != SignalAuthorizedSeller {
		t.Errorf("rescore after authorizing = flagged %v score %v %v, want unflagged, only authorized_seller", l.Flagged, l.Score, l.Signals)
	}
	// An unrelated listing carries no brand and an empty, non-nil list.
	l = listing.Listing{Title: "garden hose", Brand: "Old", Score: 0.9, Flagged: true, Signals: []listing.Signal{{Name: "x"}}}
	m.Score(&l, nil)
	if l.Brand != "" || l.Score != 0 || l.Flagged || l.Signals == nil || len(l.Signals) != 0 {
		t.Errorf("Score(unrelated) = %q %v %v %v, want all reset", l.Brand, l.Score, l.Flagged, l.Signals)
	}
}

func TestTriageAllocs(t *testing.T) {
	m := newTestMatcher(t)
	titles := []string{"Lumora Halo 3 replica 1:1", "LUMОRA Halo 3", "Brakenrigde field watch", "garden hose", "ＬＵＭＯＲＡ 高仿"}
	for _, title := range titles {
		m.Triage(title, 10, "USD", "x") // warm the pool
		if n := testing.AllocsPerRun(100, func() { m.Triage(title, 10, "USD", "x") }); n != 0 {
			t.Errorf("Triage(%q) allocates %v times, want 0", title, n)
		}
	}
}

func TestTriageAgreesWithScore(t *testing.T) {
	m := newTestMatcher(t)
	for _, title := range []string{"Lumora Halo 3 replica", "Lum0ra", "Lumora Halo 3", "case for Lumora", "garden hose", "Brackenridge Field Watch"} {
		l := listing.Listing{Title: title, Price: 100, Currency: "USD", Seller: "s"}
		m.Score(&l, nil)
		v := m.Triage(title, 100, "USD", "s")
		if v.Brand != l.Brand || v.Flagged != l.Flagged || v.Score != l.Score {
			t.Errorf("Triage(%q) = %+v, want Score's %q %v %v", title, v, l.Brand, l.Score, l.Flagged)
		}
	}
}

func TestNew(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New(no brands) = nil error, want ErrNoBrands")
	}
	if _, err := New(Options{Brands: []Brand{{Name: " "}}}); err == nil {
		t.Error("New(empty name) = nil error, want an error")
	}
	if _, err := New(Options{Brands: []Brand{{Name: "X", Terms: []string{"!!!"}}}}); err == nil {
		t.Error("New(term without letters) = nil error, want an error")
	}
	m, err := New(Options{Brands: []Brand{{Name: "Nestlé"}}})
	if err != nil {
		t.Fatal(err)
	}
	l := listing.Listing{Title: "Nestlé chocolate"}
	m.Score(&l, nil)
	if names := signalNames(&l); names != SignalBrandTerm {
		t.Errorf("Score(%q) signals = %s, want brand_term only (the accent is the brand's own)", l.Title, names)
	}
}

// TestSignalsGolden pins the exact signals and details a set of listings
// gets, the text analysts and notices read.
func TestSignalsGolden(t *testing.T) {
	m := newTestMatcher(t)
	ls := []listing.Listing{
		{Title: "Lumora Halo 3 replica 1:1 AAA", Price: 45, Currency: "USD", Seller: "bestdeals"},
		{Title: "N3w LUMОRA H4lo", Description: "mirror grade, not fake", Price: 150, Currency: "USD", Seller: "x"},
		{Title: "L-u-m-o-r-a Pulse", Price: 50, Currency: "USD"},
		{Title: "Strap for Lumora Halo 3", Price: 15, Currency: "USD"},
		{Title: "Headphones", Price: 20, Currency: "USD", Images: []listing.Image{{URL: "a.jpg", PHash: 0xF0F0F0F0F0F0F0F0, DHash: 1, AHash: 1}}},
		{Title: "Lumora Pulse", Price: 100, Currency: "USD", Seller: "Lumora Official Store"},
	}
	var buf bytes.Buffer
	for _, l := range ls {
		m.Score(&l, nil)
		out, err := json.Marshal(struct {
			Title   string
			Brand   string
			Score   float64
			Flagged bool
			Signals []listing.Signal
		}{l.Title, l.Brand, float64(int(l.Score*1000)) / 1000, l.Flagged, l.Signals})
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(out)
		buf.WriteByte('\n')
	}
	golden := filepath.Join("testdata", "signals.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("signals =\n%s\nwant\n%s", buf.Bytes(), want)
	}
}
