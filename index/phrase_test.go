package index

import (
	"context"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	unicodetokenizer "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	bleveindex "github.com/blevesearch/bleve_index_api"
)

// The test index's fields and analyzer: a folded text field with
// positions, the pairs keyword field derived from it, and a status
// keyword to filter on, as the real mapping has them.
const (
	phraseFolded   = "folded"
	phrasePairs    = "pairs"
	phraseStatus   = "status"
	phraseAnalyzer = "phrase_test_folded"
)

// phraseDoc is one test document: the values of its folded field (more
// than one makes it multi-valued) and its status.
type phraseDoc struct {
	id     string
	values []string
	status string
}

// phraseIndex is a real on-disk Bleve index of phraseDocs with the
// analyzer that built it and the documents it still holds.
type phraseIndex struct {
	idx  bleve.Index
	an   analysis.Analyzer
	docs map[string]phraseDoc
}

// newPhraseMapping returns the test mapping: the folded field as the
// real mapping declares it (unicode tokenizer, lower case, term vectors)
// and the pairs field indexed only, without frequencies, norms, doc
// values or term vectors.
func newPhraseMapping() (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	err := im.AddCustomAnalyzer(phraseAnalyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicodetokenizer.Name,
		"token_filters": []string{lowercase.Name},
	})
	if err != nil {
		return nil, err
	}
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	im.DefaultAnalyzer = phraseAnalyzer
	im.DefaultField = phraseFolded

	folded := bleve.NewTextFieldMapping()
	folded.Analyzer = phraseAnalyzer
	folded.Store = false
	folded.IncludeInAll = false
	folded.IncludeTermVectors = true
	folded.DocValues = false

	pairs := bleve.NewKeywordFieldMapping()
	pairs.Store = false
	pairs.IncludeInAll = false
	pairs.IncludeTermVectors = false
	pairs.DocValues = false
	pairs.SkipFreqNorm = true

	status := bleve.NewKeywordFieldMapping()
	status.Store = false
	status.IncludeInAll = false
	status.IncludeTermVectors = false

	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt(phraseFolded, folded)
	dm.AddFieldMappingsAt(phrasePairs, pairs)
	dm.AddFieldMappingsAt(phraseStatus, status)
	dm.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	im.DefaultMapping = dm
	if err := im.Validate(); err != nil {
		return nil, err
	}
	return im, nil
}

// phraseTokens returns the analyser's terms of text in position order.
func phraseTokens(an analysis.Analyzer, text string) []string {
	var terms []string
	for _, tok := range an.Analyze([]byte(text)) {
		terms = append(terms, string(tok.Term))
	}
	return terms
}

// openPhraseIndex indexes docs in batches of batch (each batch a segment
// until scorch merges them), then deletes the documents named in deleted,
// so that queries cross segments and skip deleted documents.
func openPhraseIndex(tb testing.TB, docs []phraseDoc, deleted []string, batch int) *phraseIndex {
	tb.Helper()
	im, err := newPhraseMapping()
	if err != nil {
		tb.Fatal(err)
	}
	idx, err := bleve.New(filepath.Join(tb.TempDir(), "phrase.bleve"), im)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = idx.Close() })
	pi := &phraseIndex{idx: idx, an: im.AnalyzerNamed(phraseAnalyzer), docs: make(map[string]phraseDoc, len(docs))}
	for start := 0; start < len(docs); start += batch {
		b := idx.NewBatch()
		for _, d := range docs[start:min(start+batch, len(docs))] {
			var pairs []string
			for _, v := range d.values {
				pairs = append(pairs, pairTerms(phraseTokens(pi.an, v))...)
			}
			var folded any = d.values
			if len(d.values) == 1 {
				folded = d.values[0]
			}
			if err := b.Index(d.id, map[string]any{phraseFolded: folded, phrasePairs: pairs, phraseStatus: d.status}); err != nil {
				tb.Fatal(err)
			}
			pi.docs[d.id] = d
		}
		if err := idx.Batch(b); err != nil {
			tb.Fatal(err)
		}
	}
	for _, id := range deleted {
		if err := idx.Delete(id); err != nil {
			tb.Fatal(err)
		}
		delete(pi.docs, id)
	}
	return pi
}

// bruteForce returns, sorted, the documents that hold terms at
// consecutive positions of one value ("" matching any word), and whose
// status is status unless that is empty: the expectation every query is
// checked against.
func (pi *phraseIndex) bruteForce(terms []string, status string) []string {
	var ids []string
	for id, d := range pi.docs {
		if status != "" && d.status != status {
			continue
		}
		if slices.ContainsFunc(d.values, func(v string) bool { return phraseIn(phraseTokens(pi.an, v), terms) }) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// phraseIn reports whether tokens hold terms at consecutive positions.
func phraseIn(tokens, terms []string) bool {
	for p := 0; p+len(terms) <= len(tokens); p++ {
		ok := true
		for k, t := range terms {
			if t != "" && tokens[p+k] != t {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// search runs q with the given score mode (locations on or off) and
// returns the hits' IDs sorted, failing on a NaN or, when scoring, a
// non-positive score.
func (pi *phraseIndex) search(tb testing.TB, q query.Query, score string, locations bool) ([]string, *bleve.SearchResult) {
	tb.Helper()
	req := bleve.NewSearchRequestOptions(q, 10_000, 0, false)
	req.Score = score
	req.IncludeLocations = locations
	res, err := pi.idx.Search(req)
	if err != nil {
		tb.Fatalf("Search(%v) error: %v", q, err)
	}
	ids := make([]string, 0, len(res.Hits))
	for _, h := range res.Hits {
		if math.IsNaN(h.Score) || math.IsInf(h.Score, 0) || (score != "none" && h.Score <= 0) {
			tb.Errorf("Search(%v) scores %s %v, want a finite positive score", q, h.ID, h.Score)
		}
		ids = append(ids, h.ID)
	}
	slices.Sort(ids)
	return ids, res
}

// phraseHandmade are documents built for the named cases of
// TestPairPhraseQuery, in words that the random documents never use.
func phraseHandmade() []phraseDoc {
	return []phraseDoc{
		{id: "h01", values: []string{"Acme Trailblazer 3 running shoe"}, status: "new"},
		{id: "h02", values: []string{"very very good shoe"}, status: "new"},
		{id: "h03", values: []string{"Very good, very GOOD!"}, status: "old"},
		{id: "h04", values: []string{"shoe running acme"}, status: "old"},
		{id: "h05", values: []string{"acme red trailblazer"}, status: "new"},
		{id: "h06", values: []string{"red acme", "trailblazer shoe"}, status: "new"},
		{id: "h07", values: []string{"good very nice"}, status: "new"},
		{id: "h08", values: []string{"ACME Trailblazer"}, status: "old"}, // deleted
		{id: "h09", values: []string{"acme trailblazer acme trailblazer"}, status: "old"},
		{id: "h10", values: []string{"very very very"}, status: "new"},
	}
}

// phraseRandomVocab is the small vocabulary of the random documents: few
// words, so that most pairs occur somewhere and most phrases nearly
// match.
const phraseRandomVocab = "ka lo mi ne tra vel sor pin"

// phraseRandom returns n random documents over phraseRandomVocab, some
// multi-valued, and the IDs of about a tenth of them to delete.
func phraseRandom(n int, rng *rand.Rand) (docs []phraseDoc, deleted []string) {
	vocab := strings.Fields(phraseRandomVocab)
	text := func() string {
		words := make([]string, 2+rng.IntN(7))
		for i := range words {
			words[i] = vocab[rng.IntN(len(vocab))]
		}
		return strings.Join(words, " ")
	}
	for i := range n {
		d := phraseDoc{id: fmt.Sprintf("r%03d", i), values: []string{text()}, status: "old"}
		if rng.IntN(5) == 0 {
			d.values = append(d.values, text())
		}
		if rng.IntN(3) == 0 {
			d.status = "new"
		}
		docs = append(docs, d)
		if rng.IntN(10) == 0 {
			deleted = append(deleted, d.id)
		}
	}
	return docs, deleted
}

// openPhraseFixture indexes the handmade and the random documents, and
// returns random phrases of 2 to 4 words: half taken from the documents,
// half made up.
func openPhraseFixture(t *testing.T) (*phraseIndex, [][]string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	docs, deleted := phraseRandom(400, rng)
	docs = append(docs, phraseHandmade()...)
	deleted = append(deleted, "h08")
	rng.Shuffle(len(docs), func(i, j int) { docs[i], docs[j] = docs[j], docs[i] })
	pi := openPhraseIndex(t, docs, deleted, 60)

	vocab := strings.Fields(phraseRandomVocab)
	var phrases [][]string
	for len(phrases) < 150 {
		n := 2 + rng.IntN(3)
		if len(phrases)%2 == 0 {
			d := docs[rng.IntN(len(docs))]
			toks := phraseTokens(pi.an, d.values[rng.IntN(len(d.values))])
			if len(toks) < n {
				continue
			}
			p := rng.IntN(len(toks) - n + 1)
			phrases = append(phrases, toks[p:p+n])
			continue
		}
		phrase := make([]string, n)
		for k := range phrase {
			phrase[k] = vocab[rng.IntN(len(vocab))]
		}
		phrases = append(phrases, phrase)
	}
	return pi, phrases
}

// TestPairTerm checks pairTerm against hash/fnv and that its terms are
// three URL-safe characters.
func TestPairTerm(t *testing.T) {
	tests := []struct {
		a, b string
	}{
		{"acme", "trailblazer"},
		{"trailblazer", "acme"},
		{"very", "very"},
		{"", ""},
		{"ab", "c"},
		{"a", "bc"},
		{"nordvik", "ёлка"},
	}
	for _, tt := range tests {
		t.Run(tt.a+"_"+tt.b, func(t *testing.T) {
			// The reference: hash/fnv over a, NUL, b, folded to 16 bits, masked.
			h := fnv.New32a()
			h.Write([]byte(tt.a + "\x00" + tt.b))
			sum := h.Sum32()
			v := uint16(sum^sum>>16) & pairMask
			want := base64.RawURLEncoding.EncodeToString([]byte{byte(v >> 8), byte(v)})
			if got := pairTerm(tt.a, tt.b); got != want {
				t.Errorf("pairTerm(%q, %q) = %q, want %q", tt.a, tt.b, got, want)
			}
			if got := pairTerm(tt.a, tt.b); len(got) != 3 || strings.ContainsFunc(got, func(r rune) bool {
				return !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", r)
			}) {
				t.Errorf("pairTerm(%q, %q) = %q, want 3 URL-safe base64 characters", tt.a, tt.b, got)
			}
		})
	}
	if pairTerm("ab", "c") == pairTerm("a", "bc") {
		t.Errorf("pairTerm(ab, c) = pairTerm(a, bc) = %q, want the separator to tell them apart", pairTerm("a", "bc"))
	}
}

// TestPairTerms checks that pairTerms returns each adjacent pair once.
func TestPairTerms(t *testing.T) {
	tests := []struct {
		name   string
		tokens []string
		want   []string
	}{
		{"none", nil, nil},
		{"one token", []string{"acme"}, nil},
		{"two tokens", []string{"acme", "shoe"}, []string{pairTerm("acme", "shoe")}},
		{"repeated pair", []string{"a", "b", "a", "b"}, []string{pairTerm("a", "b"), pairTerm("b", "a")}},
		{"repeated word", []string{"very", "very", "very"}, []string{pairTerm("very", "very")}},
		{"title", []string{"acme", "trailblazer", "3", "shoe"}, []string{pairTerm("acme", "trailblazer"), pairTerm("trailblazer", "3"), pairTerm("3", "shoe")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pairTerms(tt.tokens)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			want = slices.Compact(want)
			sorted := slices.Clone(got)
			slices.Sort(sorted)
			if !slices.Equal(sorted, want) || len(got) != len(want) {
				t.Errorf("pairTerms(%q) = %q, want %q in any order", tt.tokens, got, want)
			}
		})
	}
}

// TestNewPairPhraseQuery checks which query each number of terms gets.
func TestNewPairPhraseQuery(t *testing.T) {
	tests := []struct {
		name  string
		terms []string
		want  string // the query's type
	}{
		{"no terms", nil, "*query.MatchNoneQuery"},
		{"only gaps", []string{"", ""}, "*query.MatchNoneQuery"},
		{"one term", []string{"acme"}, "*query.TermQuery"},
		{"one term between gaps", []string{"", "acme", ""}, "*query.TermQuery"},
		{"two terms", []string{"acme", "shoe"}, "*index.pairPhraseQuery"},
		{"gap inside", []string{"acme", "", "shoe"}, "*index.pairPhraseQuery"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newPairPhraseQuery(phraseFolded, phrasePairs, tt.terms)
			if got := fmt.Sprintf("%T", q); got != tt.want {
				t.Errorf("newPairPhraseQuery(%q) = %s, want %s", tt.terms, got, tt.want)
			}
			if tq, ok := q.(*query.TermQuery); ok && (tq.Field() != phraseFolded || tq.Term != "acme") {
				t.Errorf("newPairPhraseQuery(%q) = %s:%s, want %s:acme", tt.terms, tq.Field(), tq.Term, phraseFolded)
			}
		})
	}
}

// TestPairPhraseQuery checks the hits of named and random phrases
// against brute force and Bleve's own phrase queries.
func TestPairPhraseQuery(t *testing.T) {
	pi, phrases := openPhraseFixture(t)
	tests := []struct {
		name   string
		phrase string
		terms  []string // instead of the analysed phrase, for gaps
		want   []string
	}{
		{"two words", "acme trailblazer", nil, []string{"h01", "h09"}},
		{"case and punctuation", "ACME, Trailblazer!", nil, []string{"h01", "h09"}},
		{"three words", "acme trailblazer 3", nil, []string{"h01"}},
		{"four words", "trailblazer 3 running shoe", nil, []string{"h01"}},
		{"repeated word", "very very good", nil, []string{"h02"}},
		{"repeated pair", "very very", nil, []string{"h02", "h10"}},
		{"three repeats", "very very very", nil, []string{"h10"}},
		{"more repeats than any title", "very very very very", nil, nil},
		{"pair in two places", "very good", nil, []string{"h02", "h03"}},
		{"pair across a comma", "good very", nil, []string{"h03", "h07"}},
		{"in order", "running shoe", nil, []string{"h01"}},
		{"reversed order", "shoe running", nil, []string{"h04"}},
		{"reversed inside a repeat", "trailblazer acme", nil, []string{"h09"}},
		{"present but not adjacent", "shoe acme", nil, nil},
		{"one value of a multi-valued field", "red acme", nil, []string{"h06"}},
		{"other value of a multi-valued field", "trailblazer shoe", nil, []string{"h06"}},
		{"across two values", "acme trailblazer shoe", nil, nil},
		{"one word missing", "acme zebra", nil, nil},
		{"all words missing", "zebra unicorn", nil, nil},
		{"gap", "", []string{"very", "", "good"}, []string{"h02"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			terms := tt.terms
			if terms == nil {
				terms = phraseTokens(pi.an, tt.phrase)
			}
			if got := pi.bruteForce(terms, ""); !slices.Equal(got, tt.want) {
				t.Fatalf("bruteForce(%q) = %q, want %q: the fixture is wrong", terms, got, tt.want)
			}
			pi.checkPhrase(t, terms)
		})
	}
	t.Run("random", func(t *testing.T) {
		for _, terms := range phrases {
			pi.checkPhrase(t, terms)
		}
	})
}

// checkPhrase checks that the pair phrase query for terms finds exactly
// the brute-force documents with and without scores, and the same as
// Bleve's own phrase query.
func (pi *phraseIndex) checkPhrase(t *testing.T, terms []string) {
	t.Helper()
	want := pi.bruteForce(terms, "")
	for _, score := range []string{"", "none"} {
		got, _ := pi.search(t, newPairPhraseQuery(phraseFolded, phrasePairs, terms), score, false)
		if !slices.Equal(got, want) {
			t.Errorf("pairPhraseQuery(%q) with score %q = %q, want %q", terms, score, got, want)
		}
	}
	var bq query.Query
	if slices.Contains(terms, "") {
		bq = query.NewPhraseQuery(terms, phraseFolded)
	} else {
		mq := query.NewMatchPhraseQuery(strings.Join(terms, " "))
		mq.SetField(phraseFolded)
		bq = mq
	}
	if got, _ := pi.search(t, bq, "", false); !slices.Equal(got, want) {
		t.Errorf("Bleve's phrase query %q = %q, want %q", terms, got, want)
	}
}

// TestPairPhraseDriverIsUnadorned checks that scorch's unadorned
// conjunction optimisation builds the candidates.
func TestPairPhraseDriverIsUnadorned(t *testing.T) {
	pi, _ := openPhraseFixture(t)
	adv, err := pi.idx.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	r, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tests := [][]string{{"acme", "trailblazer"}, {"very", "very", "good"}, {"ka", "lo", "mi"}, {"zebra", "unicorn"}}
	for _, terms := range tests {
		s, err := newPairPhraseQuery(phraseFolded, phrasePairs, terms).Searcher(context.Background(), r, pi.idx.Mapping(), search.SearcherOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// The unadorned conjunction optimisation replaces the
		// conjunction of term searchers by one term searcher over the
		// AND of their bitmaps.
		if d := s.(*pairPhraseSearcher).driver; fmt.Sprintf("%T", d) != fmt.Sprintf("%T", &searcher.TermSearcher{}) {
			t.Errorf("pairPhraseQuery(%q) driver = %T, want the unadorned %T", terms, d, &searcher.TermSearcher{})
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
}

// TestPairPhraseAdvance checks that Advance returns the first hit at or
// after any target, from a fresh searcher and between Next calls.
func TestPairPhraseAdvance(t *testing.T) {
	pi, phrases := openPhraseFixture(t)
	adv, err := pi.idx.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	r, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dc, err := r.DocCount()
	if err != nil {
		t.Fatal(err)
	}
	// Internal IDs are document numbers; deleted and merged-away
	// numbers are targets too.
	last := dc + 100

	open := func(t *testing.T, terms []string) (search.Searcher, *search.SearchContext) {
		t.Helper()
		s, err := newPairPhraseQuery(phraseFolded, phrasePairs, terms).Searcher(context.Background(), r, pi.idx.Mapping(), search.SearcherOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s, &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0), IndexReader: r}
	}
	// all returns every hit's document number through Next.
	all := func(t *testing.T, terms []string) []uint64 {
		s, sctx := open(t, terms)
		var nums []uint64
		for {
			dm, err := s.Next(sctx)
			if err != nil {
				t.Fatal(err)
			}
			if dm == nil {
				return nums
			}
			nums = append(nums, dm.IndexInternalID.Value())
			sctx.DocumentMatchPool.Put(dm)
		}
	}
	// firstFrom is the first hit at or after n, or -1.
	firstFrom := func(hits []uint64, n uint64) int64 {
		i, _ := slices.BinarySearch(hits, n)
		if i == len(hits) {
			return -1
		}
		return int64(hits[i])
	}
	got := func(dm *search.DocumentMatch) int64 {
		if dm == nil {
			return -1
		}
		return int64(dm.IndexInternalID.Value())
	}

	tests := [][]string{{"acme", "trailblazer"}, {"very", "very"}, {"good", "very"}, {"zebra", "unicorn"}}
	tests = append(tests, phrases[:20]...)
	for _, terms := range tests {
		t.Run(strings.Join(terms, "_"), func(t *testing.T) {
			hits := all(t, terms)
			var ids []string
			for _, n := range hits {
				id, err := r.ExternalID(bleveindex.NewIndexInternalID(nil, n))
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			slices.Sort(ids)
			if want := pi.bruteForce(terms, ""); !slices.Equal(ids, want) {
				t.Fatalf("Next over pairPhraseQuery(%q) = %q, want %q", terms, ids, want)
			}

			// A fresh searcher advanced to each document number.
			for n := range last {
				s, sctx := open(t, terms)
				dm, err := s.Advance(sctx, bleveindex.NewIndexInternalID(nil, n))
				if err != nil {
					t.Fatal(err)
				}
				if g, w := got(dm), firstFrom(hits, n); g != w {
					t.Errorf("Advance(%d) = %d, want %d", n, g, w)
				}
			}

			// One searcher advanced by random strides, with Next calls in
			// between, as a conjunction drives it.
			rng := rand.New(rand.NewPCG(uint64(len(hits)), 9))
			s, sctx := open(t, terms)
			var at uint64
			for at <= last {
				var dm *search.DocumentMatch
				var want int64
				if rng.IntN(3) == 0 {
					dm, err = s.Next(sctx)
					want = firstFrom(hits, at)
				} else {
					at += uint64(rng.IntN(20))
					dm, err = s.Advance(sctx, bleveindex.NewIndexInternalID(nil, at))
					want = firstFrom(hits, at)
				}
				if err != nil {
					t.Fatal(err)
				}
				if g := got(dm); g != want {
					t.Fatalf("at %d: got %d, want %d", at, g, want)
				}
				if dm == nil {
					break
				}
				at = dm.IndexInternalID.Value() + 1
				sctx.DocumentMatchPool.Put(dm)
			}
		})
	}
}

// TestPairPhraseCompound checks the query inside conjunctions with a
// keyword filter and inside disjunctions, with and without scores, hits
// and locations against Bleve's phrase query in the same place.
func TestPairPhraseCompound(t *testing.T) {
	pi, phrases := openPhraseFixture(t)
	pair := func(terms []string) query.Query { return newPairPhraseQuery(phraseFolded, phrasePairs, terms) }
	bleveQ := func(terms []string) query.Query {
		q := query.NewMatchPhraseQuery(strings.Join(terms, " "))
		q.SetField(phraseFolded)
		return q
	}
	status := func(v string) query.Query {
		q := query.NewTermQuery(v)
		q.SetField(phraseStatus)
		return q
	}
	union := func(a, b []string) []string {
		u := slices.Concat(a, b)
		slices.Sort(u)
		return slices.Compact(u)
	}
	tests := append([][]string{{"acme", "trailblazer"}, {"very", "very"}, {"very", "good"}, {"zebra", "unicorn"}}, phrases[:40]...)
	for i, terms := range tests {
		other := tests[(i+1)%len(tests)]
		t.Run(strings.Join(terms, "_"), func(t *testing.T) {
			cases := []struct {
				name      string
				q, bleveQ query.Query
				want      []string
			}{
				{
					"and status",
					query.NewConjunctionQuery([]query.Query{pair(terms), status("new")}),
					query.NewConjunctionQuery([]query.Query{bleveQ(terms), status("new")}),
					pi.bruteForce(terms, "new"),
				},
				{
					"status first",
					query.NewConjunctionQuery([]query.Query{status("old"), pair(terms)}),
					query.NewConjunctionQuery([]query.Query{status("old"), bleveQ(terms)}),
					pi.bruteForce(terms, "old"),
				},
				{
					"or another phrase",
					query.NewDisjunctionQuery([]query.Query{pair(terms), pair(other)}),
					query.NewDisjunctionQuery([]query.Query{bleveQ(terms), bleveQ(other)}),
					union(pi.bruteForce(terms, ""), pi.bruteForce(other, "")),
				},
				{
					"or a term",
					query.NewDisjunctionQuery([]query.Query{pair(terms), status("missing")}),
					query.NewDisjunctionQuery([]query.Query{bleveQ(terms), status("missing")}),
					pi.bruteForce(terms, ""),
				},
			}
			for _, c := range cases {
				for _, score := range []string{"", "none"} {
					got, res := pi.search(t, c.q, score, true)
					if !slices.Equal(got, c.want) {
						t.Errorf("%s with score %q = %q, want %q", c.name, score, got, c.want)
					}
					_, bres := pi.search(t, c.bleveQ, score, true)
					if g, w := phraseLocations(res), phraseLocations(bres); !slices.Equal(g, w) {
						t.Errorf("%s with score %q locations =\n%q\nwant Bleve's\n%q", c.name, score, g, w)
					}
				}
			}
		})
	}
}

// phraseLocations flattens the hits' locations in the folded field to
// sorted "doc term pos start-end arraypositions" lines.
func phraseLocations(res *bleve.SearchResult) []string {
	var lines []string
	for _, h := range res.Hits {
		for term, locs := range h.Locations[phraseFolded] {
			for _, l := range locs {
				lines = append(lines, fmt.Sprintf("%s %s %d %d-%d %v", h.ID, term, l.Pos, l.Start, l.End, l.ArrayPositions))
			}
		}
	}
	slices.Sort(lines)
	return lines
}

// TestPairPhraseLocations checks the positions and offsets of the
// matched words, and that none are returned unless asked for.
func TestPairPhraseLocations(t *testing.T) {
	pi, _ := openPhraseFixture(t)
	tests := []struct {
		phrase string
		want   []string
	}{
		{"acme trailblazer", []string{
			"h01 acme 1 0-4 []", "h01 trailblazer 2 5-16 []",
			"h09 acme 1 0-4 []", "h09 acme 3 17-21 []", "h09 trailblazer 2 5-16 []", "h09 trailblazer 4 22-33 []",
		}},
		{"very very", []string{
			"h02 very 1 0-4 []", "h02 very 2 5-9 []",
			"h10 very 1 0-4 []", "h10 very 2 5-9 []", "h10 very 3 10-14 []",
		}},
		{"trailblazer shoe", []string{"h06 shoe 2 12-16 [1]", "h06 trailblazer 1 0-11 [1]"}},
		{"zebra unicorn", nil},
	}
	for _, tt := range tests {
		t.Run(tt.phrase, func(t *testing.T) {
			_, res := pi.search(t, newPairPhraseQuery(phraseFolded, phrasePairs, phraseTokens(pi.an, tt.phrase)), "", true)
			if got := phraseLocations(res); !slices.Equal(got, tt.want) {
				t.Errorf("pairPhraseQuery(%q) locations = %q, want %q", tt.phrase, got, tt.want)
			}
			_, res = pi.search(t, newPairPhraseQuery(phraseFolded, phrasePairs, phraseTokens(pi.an, tt.phrase)), "", false)
			if got := phraseLocations(res); got != nil {
				t.Errorf("pairPhraseQuery(%q) without IncludeLocations locations = %q, want none", tt.phrase, got)
			}
		})
	}
}

// phraseCollision finds two different pairs of distinct generated words
// whose pair terms collide.
func phraseCollision(t *testing.T) (ab, cd [2]string) {
	t.Helper()
	seen := make(map[string][2]string)
	for i := range 2000 {
		for j := range 2000 {
			if i == j {
				continue
			}
			p := [2]string{"w" + strconv.Itoa(i), "w" + strconv.Itoa(j)}
			term := pairTerm(p[0], p[1])
			if q, ok := seen[term]; ok && q[0] != p[0] && q[0] != p[1] && q[1] != p[0] && q[1] != p[1] {
				return q, p
			}
			seen[term] = p
		}
	}
	t.Fatal("no colliding pairs among the generated words")
	return ab, cd
}

// TestPairPhraseCollision checks that a document whose pair bucket
// collides with the phrase's is a candidate but not a hit.
func TestPairPhraseCollision(t *testing.T) {
	ab, cd := phraseCollision(t)
	a, b, c, d := ab[0], ab[1], cd[0], cd[1]
	if pairTerm(a, b) != pairTerm(c, d) {
		t.Fatalf("pairTerm(%s, %s) = %s, pairTerm(%s, %s) = %s, want a collision", a, b, pairTerm(a, b), c, d, pairTerm(c, d))
	}
	docs := []phraseDoc{
		{id: "ab", values: []string{a + " " + b}, status: "new"},
		// a and b, but not adjacent, with the colliding pair (c, d): a
		// candidate for "a b" that the positions must reject.
		{id: "cdab", values: []string{c + " " + d + " " + a + " x " + b}, status: "new"},
		{id: "ba", values: []string{b + " " + a + " " + c + " " + d}, status: "new"},
	}
	pi := openPhraseIndex(t, docs, nil, 10)

	// The collision is real: the bitmaps alone let "cdab" through.
	driver := query.NewConjunctionQuery(nil)
	for _, term := range []struct{ field, term string }{{phrasePairs, pairTerm(a, b)}, {phraseFolded, a}, {phraseFolded, b}} {
		tq := query.NewTermQuery(term.term)
		tq.SetField(term.field)
		driver.AddQuery(tq)
	}
	if got, _ := pi.search(t, driver, "none", false); !slices.Equal(got, []string{"ab", "ba", "cdab"}) {
		t.Fatalf("candidates for %s %s = %q, want [ab ba cdab]", a, b, got)
	}

	tests := []struct {
		terms []string
		want  []string
	}{
		{[]string{a, b}, []string{"ab"}},
		{[]string{c, d}, []string{"ba", "cdab"}},
		{[]string{b, a, c, d}, []string{"ba"}},
		{[]string{d, a}, []string{"cdab"}},
	}
	for _, tt := range tests {
		if got, _ := pi.search(t, newPairPhraseQuery(phraseFolded, phrasePairs, tt.terms), "", false); !slices.Equal(got, tt.want) {
			t.Errorf("pairPhraseQuery(%q) = %q, want %q", tt.terms, got, tt.want)
		}
	}
}

// TestPairPhraseSearcherErrors checks the searcher's refusals and the
// constant score with its boost.
func TestPairPhraseSearcherErrors(t *testing.T) {
	pi := openPhraseIndex(t, phraseHandmade(), nil, 10)
	adv, err := pi.idx.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	r, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tests := []struct {
		name string
		q    *pairPhraseQuery
	}{
		{"one term", &pairPhraseQuery{field: phraseFolded, pairsField: phrasePairs, terms: []string{"acme"}}},
		{"gaps around one term", &pairPhraseQuery{field: phraseFolded, pairsField: phrasePairs, terms: []string{"", "acme", ""}}},
		{"no pairs field", &pairPhraseQuery{field: phraseFolded, terms: []string{"acme", "shoe"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.q.Searcher(context.Background(), r, pi.idx.Mapping(), search.SearcherOptions{})
			if err == nil {
				_ = s.Close()
				t.Errorf("Searcher(%+v) = nil error, want an error", tt.q)
			}
		})
	}
	// A struct literal's zero boost scores as 1.
	q := &pairPhraseQuery{field: phraseFolded, pairsField: phrasePairs, terms: []string{"acme", "trailblazer"}}
	_, res := pi.search(t, q, "", false)
	for _, h := range res.Hits {
		if h.Score != 1 {
			t.Errorf("pairPhraseQuery{boost: 0} scores %s %v, want 1", h.ID, h.Score)
		}
	}
	q.SetBoost(2.5)
	res, err = pi.idx.Search(bleve.NewSearchRequestOptions(q, 10, 0, true))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) == 0 {
		t.Fatalf("pairPhraseQuery(%q) = no hits, want some", q.terms)
	}
	for _, h := range res.Hits {
		if h.Score != 2.5 || h.Expl == nil || h.Expl.Value != 2.5 {
			t.Errorf("pairPhraseQuery{boost: 2.5} scores %s %v (explained %v), want 2.5", h.ID, h.Score, h.Expl)
		}
	}
}

// BenchmarkPairPhrase compares pairPhraseQuery with Bleve's
// MatchPhraseQuery on 50,000 titles of Zipf-distributed words, for
// phrases of two frequent words taken from the titles, alone and with a
// status filter that 5% of the titles pass. It reports each query's
// median and 99th percentile latency in microseconds.
func BenchmarkPairPhrase(b *testing.B) {
	const (
		titles  = 50_000
		vocabN  = 3000
		queries = 100
	)
	rng := rand.New(rand.NewPCG(5, 8))
	syl := []string{"ka", "lo", "mi", "ne", "tra", "vel", "sor", "pin", "dur", "qua", "bri", "sten", "gor", "fla", "zen", "mor"}
	seen := make(map[string]bool)
	var vocab []string
	for len(vocab) < vocabN {
		var w strings.Builder
		for range 2 + rng.IntN(3) {
			w.WriteString(syl[rng.IntN(len(syl))])
		}
		if !seen[w.String()] {
			seen[w.String()] = true
			vocab = append(vocab, w.String())
		}
	}
	zipf := rand.NewZipf(rng, 1.07, 2, vocabN-1)
	docs := make([]phraseDoc, titles)
	for i := range docs {
		words := make([]string, 6+rng.IntN(7))
		for k := range words {
			words[k] = vocab[zipf.Uint64()]
		}
		status := "old"
		if rng.IntN(20) == 0 {
			status = "new"
		}
		docs[i] = phraseDoc{id: fmt.Sprintf("d%06d", i), values: []string{strings.Join(words, " ")}, status: status}
	}
	pi := openPhraseIndex(b, docs, nil, 1000)
	// Merge the segments, as Compact does after a rebuild, so that
	// background merging does not run during the measurements.
	adv, err := pi.idx.Advanced()
	if err != nil {
		b.Fatal(err)
	}
	if s, ok := adv.(*scorch.Scorch); ok {
		if err := s.ForceMerge(context.Background(), &mergeplan.SingleSegmentMergePlanOptions); err != nil {
			b.Fatal(err)
		}
	}

	// Phrases: adjacent pairs of the 30 most frequent words, as written
	// in titles.
	frequent := make(map[string]bool)
	for _, w := range vocab[:30] {
		frequent[w] = true
	}
	var phrases [][]string
	have := make(map[string]bool)
	for _, d := range docs {
		toks := strings.Fields(d.values[0])
		for k := 1; k < len(toks) && len(phrases) < queries; k++ {
			key := toks[k-1] + " " + toks[k]
			if frequent[toks[k-1]] && frequent[toks[k]] && toks[k-1] != toks[k] && !have[key] {
				have[key] = true
				phrases = append(phrases, toks[k-1:k+1])
			}
		}
	}
	status := query.NewTermQuery("new")
	status.SetField(phraseStatus)
	variants := []struct {
		name string
		q    func(terms []string) query.Query
	}{
		{"pair", func(terms []string) query.Query { return newPairPhraseQuery(phraseFolded, phrasePairs, terms) }},
		{"bleve", func(terms []string) query.Query {
			q := query.NewMatchPhraseQuery(strings.Join(terms, " "))
			q.SetField(phraseFolded)
			return q
		}},
	}
	filtered := func(q query.Query) query.Query { return query.NewConjunctionQuery([]query.Query{q, status}) }
	run := func(q query.Query) (uint64, time.Duration) {
		start := time.Now()
		res, err := pi.idx.Search(bleve.NewSearchRequestOptions(q, 10, 0, false))
		if err != nil {
			b.Fatal(err)
		}
		return res.Total, time.Since(start)
	}
	// The two must agree before they are timed.
	var hits uint64
	for _, terms := range phrases {
		n0, _ := run(variants[0].q(terms))
		n1, _ := run(variants[1].q(terms))
		if n0 != n1 {
			b.Fatalf("%q: pair phrase finds %d, Bleve %d", terms, n0, n1)
		}
		hits += n0
	}

	ds := make(map[string][]time.Duration)
	for b.Loop() {
		for _, terms := range phrases {
			for _, v := range variants {
				_, d := run(v.q(terms))
				ds[v.name] = append(ds[v.name], d)
				_, d = run(filtered(v.q(terms)))
				ds[v.name+"+filter"] = append(ds[v.name+"+filter"], d)
			}
		}
	}
	b.ReportMetric(float64(hits)/float64(len(phrases)), "hits/phrase")
	for _, name := range []string{"pair", "bleve", "pair+filter", "bleve+filter"} {
		d := ds[name]
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2])/float64(time.Microsecond), name+"-p50-µs")
		b.ReportMetric(float64(d[len(d)*99/100])/float64(time.Microsecond), name+"-p99-µs")
	}
}
