package index

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bleveindex "github.com/blevesearch/bleve_index_api"
)

// Phrase queries over the folded field used to be Bleve's PhraseSearcher,
// which leapfrogs the words' postings and decodes the positions of every
// document holding all the words: two common words cost tens of
// thousands of position checks, and a cheaper filter beside the phrase
// cannot help, because its Advance scans on to the next true match.
//
// A pair phrase query first narrows the candidates to the documents that
// hold every word and, for every two adjacent words of the phrase, their
// pair bucket in a small keyword field (see pairTerm). Bleve intersects
// those postings as bitmaps, and only the few documents left have their
// positions read, one at a time, when a caller asks for them.

// FNV-1a (32 bits) parameters, as in hash/fnv, inlined so that hashing a
// pair costs no allocation.
const (
	fnvOffset32 = 2166136261
	fnvPrime32  = 16777619
)

// pairMask keeps 12 bits of a pair's hash: 4,096 buckets. With 65,536 the
// pairs field was a tenth of the index (a bucket of a dozen titles costs
// about as much as its postings); with 4,096 it is a few per cent, and a
// bucket still holds few enough titles for the positions check.
const pairMask = 1<<12 - 1

// pairBucket is the 12-bit bucket of the adjacent tokens a and b: FNV-1a
// over a, a NUL and b, folded to 16 bits and masked with pairMask. The
// NUL keeps ("ab", "c") and ("a", "bc") apart; the mask bounds the pairs
// field's dictionary whatever the vocabulary, and a collision only adds
// candidates that the positions check then drops.
func pairBucket(a, b string) uint16 {
	h := uint32(fnvOffset32)
	for i := 0; i < len(a); i++ {
		h ^= uint32(a[i])
		h *= fnvPrime32
	}
	h *= fnvPrime32 // h ^= 0 (the separator), then multiply
	for i := 0; i < len(b); i++ {
		h ^= uint32(b[i])
		h *= fnvPrime32
	}
	return uint16(h^h>>16) & pairMask
}

// pairTerm returns the term that the pairs field holds for the adjacent
// folded tokens a and b: their bucket (pairBucket) as 3 characters of
// URL-safe base64, plain ASCII that any Bleve term dictionary keeps as is
// (no 0xff byte, no separator).
func pairTerm(a, b string) string {
	return bucketTerm(pairBucket(a, b))
}

// bucketTerm renders a pair bucket as pairTerm describes.
func bucketTerm(v uint16) string {
	return base64.RawURLEncoding.EncodeToString([]byte{byte(v >> 8), byte(v)})
}

// pairTerms returns the distinct pair terms (pairTerm) of the adjacent
// tokens, in bucket order, for the pairs field of one document. tokens
// are the folded analyzer's terms in position order; pairs are taken
// between neighbours in the slice, so a caller whose analyzer leaves
// position gaps (stop words) or who indexes several values must call it
// once per run of consecutive positions. It returns nil for fewer than
// two tokens.
func pairTerms(tokens []string) []string {
	if len(tokens) < 2 {
		return nil
	}
	buckets := make([]uint16, 0, len(tokens)-1)
	for i := 1; i < len(tokens); i++ {
		buckets = append(buckets, pairBucket(tokens[i-1], tokens[i]))
	}
	slices.Sort(buckets)
	buckets = slices.Compact(buckets)
	terms := make([]string, len(buckets))
	for i, v := range buckets {
		terms[i] = bucketTerm(v)
	}
	return terms
}

// pairPhraseQuery matches the documents whose field holds terms at
// consecutive positions (within one value of a multi-valued field), as
// Bleve's MatchPhraseQuery does, but finds its candidates through
// pairsField, which holds pairTerms of the same tokens. terms are
// analysed already (folded, lower-case tokens in phrase order); an empty
// term stands for any one word, as in Bleve's phrases. Every hit scores
// the same: among phrase hits there is no relevance to rank by.
type pairPhraseQuery struct {
	field      string
	pairsField string
	terms      []string
	// boost is the constant score of a hit before any query norm; zero,
	// as in a struct literal, means 1.
	boost float64
}

// newPairPhraseQuery returns the phrase query over field for terms, which
// the caller has analysed into folded, lower-case tokens in phrase order,
// with pairsField holding pairTerms of each document's tokens of field.
// It needs two terms or more: leading and trailing empty terms are
// dropped, as Bleve's phrases ignore them, and what remains of fewer than
// two terms is the equivalent plain query (a term query on field, or a
// query that matches nothing).
func newPairPhraseQuery(field, pairsField string, terms []string) query.Query {
	terms = trimPhrase(terms)
	switch len(terms) {
	case 0:
		return query.NewMatchNoneQuery()
	case 1:
		q := query.NewTermQuery(terms[0])
		q.SetField(field)
		return q
	}
	return &pairPhraseQuery{field: field, pairsField: pairsField, terms: slices.Clone(terms), boost: 1}
}

// trimPhrase drops leading and trailing empty terms, which Bleve's phrase
// matching ignores and which would otherwise anchor nothing.
func trimPhrase(terms []string) []string {
	for len(terms) > 0 && terms[0] == "" {
		terms = terms[1:]
	}
	for len(terms) > 0 && terms[len(terms)-1] == "" {
		terms = terms[:len(terms)-1]
	}
	return terms
}

// SetBoost sets the score of every hit, so that the phrase can weigh
// against the other clauses of a compound query.
func (q *pairPhraseQuery) SetBoost(b float64) {
	q.boost = b
}

// Boost reports the boost that SetBoost set, 1 by default.
func (q *pairPhraseQuery) Boost() float64 {
	if q.boost == 0 {
		return 1
	}
	return q.boost
}

// Searcher returns the searcher of the phrase: a driver that intersects
// the words' and pairs' postings as bitmaps, and a term field reader with
// positions for each distinct word, which verifies the driver's
// candidates one at a time. options.Score and options.Explain apply to
// the hits; options.IncludeTermVectors asks for the matched positions.
func (q *pairPhraseQuery) Searcher(ctx context.Context, i bleveindex.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	field := q.field
	if field == "" {
		field = m.DefaultSearchField()
	}
	phrase := trimPhrase(q.terms)
	if len(phrase) < 2 {
		return nil, fmt.Errorf("phrase %q on %s: need two words or more", q.terms, field)
	}
	if q.pairsField == "" {
		return nil, fmt.Errorf("phrase %q on %s: no pairs field", phrase, field)
	}

	// The distinct words, and which of them each phrase slot holds.
	var words []string
	slots := make([]int, len(phrase))
	for k, t := range phrase {
		slots[k] = -1
		if t == "" {
			continue
		}
		j := slices.Index(words, t)
		if j < 0 {
			j = len(words)
			words = append(words, t)
		}
		slots[k] = j
	}

	// Every conjunct is a plain term query and the driver needs neither
	// scores nor positions, so scorch's "conjunction:unadorned"
	// optimisation ANDs the postings bitmaps of each segment up front and
	// the driver is a single term searcher over the result.
	conjuncts := make([]query.Query, 0, 2*len(phrase))
	var pairs []string
	for k := 1; k < len(phrase); k++ {
		if phrase[k-1] == "" || phrase[k] == "" {
			continue
		}
		if p := pairTerm(phrase[k-1], phrase[k]); !slices.Contains(pairs, p) {
			pairs = append(pairs, p)
			tq := query.NewTermQuery(p)
			tq.SetField(q.pairsField)
			conjuncts = append(conjuncts, tq)
		}
	}
	for _, w := range words {
		tq := query.NewTermQuery(w)
		tq.SetField(field)
		conjuncts = append(conjuncts, tq)
	}
	driver, err := query.NewConjunctionQuery(conjuncts).Searcher(ctx, i, m, search.SearcherOptions{Score: "none"})
	if err != nil {
		return nil, fmt.Errorf("phrase %q on %s: candidates: %w", phrase, field, err)
	}

	boost := q.Boost()
	s := &pairPhraseSearcher{
		driver:    driver,
		field:     field,
		phrase:    phrase,
		slots:     slots,
		readers:   make([]bleveindex.TermFieldReader, 0, len(words)),
		docs:      make([]*bleveindex.TermFieldDoc, len(words)),
		boost:     boost,
		queryNorm: 1,
		options:   options,
	}
	for j, w := range words {
		r, err := i.TermFieldReader(ctx, []byte(w), field, true, true, true)
		if err != nil {
			err = fmt.Errorf("phrase %q on %s: positions of %q: %w", phrase, field, w, err)
			return nil, errors.Join(err, s.Close())
		}
		s.readers = append(s.readers, r)
		s.docs[j] = &bleveindex.TermFieldDoc{}
	}
	return s, nil
}

// pairPhraseSearcher is the searcher of a pairPhraseQuery. It holds no
// document between calls: each Next or Advance takes candidates from the
// driver and returns the first one whose positions hold the phrase, so a
// conjunction that leapfrogs it with a cheap filter has only the
// candidates at or after each target verified.
type pairPhraseSearcher struct {
	// driver yields the documents holding every word and every pair
	// bucket of the phrase, in internal ID order.
	driver search.Searcher
	field  string
	// phrase is the query's terms; "" stands for any one word.
	phrase []string
	// slots[k] is the index in readers of phrase[k], -1 for "".
	slots []int
	// readers are the distinct words' term field readers with term
	// vectors, advanced to each candidate.
	readers []bleveindex.TermFieldReader
	// docs[j] is readers[j]'s current document, reused from one
	// candidate to the next.
	docs             []*bleveindex.TermFieldDoc
	boost, queryNorm float64
	options          search.SearcherOptions
}

// Next returns the next document that holds the phrase, or nil at the
// end.
func (s *pairPhraseSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	dm, err := s.driver.Next(ctx)
	return s.firstMatch(ctx, dm, err)
}

// Advance returns the first document at or after id that holds the
// phrase, or nil at the end. It skips the driver to id, so the candidates
// before id are never verified.
func (s *pairPhraseSearcher) Advance(ctx *search.SearchContext, id bleveindex.IndexInternalID) (*search.DocumentMatch, error) {
	dm, err := s.driver.Advance(ctx, id)
	return s.firstMatch(ctx, dm, err)
}

// firstMatch verifies the driver's candidates from dm (the result of a
// driver call that returned err) on and returns the first that holds the
// phrase, scored; candidates it drops go back to the pool.
func (s *pairPhraseSearcher) firstMatch(ctx *search.SearchContext, dm *search.DocumentMatch, err error) (*search.DocumentMatch, error) {
	for {
		if err != nil || dm == nil {
			if dm != nil {
				ctx.DocumentMatchPool.Put(dm)
			}
			if err != nil {
				return nil, fmt.Errorf("phrase %q on %s: candidates: %w", s.phrase, s.field, err)
			}
			return nil, nil
		}
		ok, verr := s.verify(dm)
		if verr != nil {
			ctx.DocumentMatchPool.Put(dm)
			return nil, verr
		}
		if ok {
			s.score(dm)
			return dm, nil
		}
		ctx.DocumentMatchPool.Put(dm)
		dm, err = s.driver.Next(ctx)
	}
}

// verify reports whether the candidate dm holds the phrase: a position p
// with phrase[k] at p+k for every word of the phrase, all in the same
// value of the field. When term vectors were asked for, it records the
// positions of every occurrence of the phrase in dm.FieldTermLocations,
// which Bleve turns into dm.Locations for the hit.
func (s *pairPhraseSearcher) verify(dm *search.DocumentMatch) (bool, error) {
	id := dm.IndexInternalID
	for j, r := range s.readers {
		if s.docs[j].ID.Equals(id) {
			continue // the reader is on this document already
		}
		d, err := r.Advance(id, s.docs[j].Reset())
		if err != nil {
			return false, fmt.Errorf("phrase %q on %s: positions: %w", s.phrase, s.field, err)
		}
		if d != nil {
			s.docs[j] = d
		}
		if d == nil || !d.ID.Equals(id) {
			// The driver requires every word, so this only happens if
			// the readers disagree with it; the phrase cannot match.
			return false, nil
		}
	}

	found := false
	for _, start := range s.docs[s.slots[0]].Vectors {
		if !s.holdsAt(start) {
			continue
		}
		found = true
		if !s.options.IncludeTermVectors {
			return true, nil
		}
		for k, j := range s.slots {
			if j < 0 {
				continue
			}
			v := s.vectorAt(j, start.Pos+uint64(k), start.ArrayPositions)
			dm.FieldTermLocations = appendLocation(dm.FieldTermLocations, s.field, s.phrase[k], v)
		}
	}
	return found, nil
}

// holdsAt reports whether the phrase starts at the first word's
// occurrence start.
func (s *pairPhraseSearcher) holdsAt(start *bleveindex.TermFieldVector) bool {
	for k := 1; k < len(s.slots); k++ {
		if j := s.slots[k]; j >= 0 && s.vectorAt(j, start.Pos+uint64(k), start.ArrayPositions) == nil {
			return false
		}
	}
	return true
}

// vectorAt returns the occurrence of the j-th word at pos in the value
// at ap, or nil. A title holds a handful of occurrences of a word, so a
// scan beats any index over them.
func (s *pairPhraseSearcher) vectorAt(j int, pos uint64, ap []uint64) *bleveindex.TermFieldVector {
	for _, v := range s.docs[j].Vectors {
		if v.Pos == pos && slices.Equal(v.ArrayPositions, ap) {
			return v
		}
	}
	return nil
}

// appendLocation appends the occurrence v of term in field to ftls,
// reusing the array positions a recycled DocumentMatch left in ftls'
// spare capacity, as Bleve's own term scorer does.
func appendLocation(ftls []search.FieldTermLocation, field, term string, v *bleveindex.TermFieldVector) []search.FieldTermLocation {
	var ap search.ArrayPositions
	if len(v.ArrayPositions) > 0 {
		if n := len(ftls); n < cap(ftls) {
			ap = ftls[:n+1][n].Location.ArrayPositions[:0]
		}
		ap = append(ap, v.ArrayPositions...)
	}
	return append(ftls, search.FieldTermLocation{
		Field: field,
		Term:  term,
		Location: search.Location{
			Pos:            v.Pos,
			Start:          v.Start,
			End:            v.End,
			ArrayPositions: ap,
		},
	})
}

// score gives a verified hit the constant score, boost times the query
// norm that an enclosing compound query set, unless scores are off.
func (s *pairPhraseSearcher) score(dm *search.DocumentMatch) {
	if s.options.Score == "none" {
		return
	}
	dm.Score = s.boost * s.queryNorm
	if s.options.Explain {
		dm.Expl = &search.Explanation{
			Value:   dm.Score,
			Message: fmt.Sprintf("pairPhrase(%s:%q)^%f, product of boost and queryNorm %f", s.field, s.phrase, s.boost, s.queryNorm),
		}
	}
}

// Close releases the driver and the readers.
func (s *pairPhraseSearcher) Close() error {
	var errs []error
	if s.driver != nil {
		if err := s.driver.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close phrase candidates: %w", err))
		}
	}
	for _, r := range s.readers {
		if err := r.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close phrase positions: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Weight is the squared boost, as for Bleve's constant-score searchers:
// never zero, so that an enclosing query's norm stays finite.
func (s *pairPhraseSearcher) Weight() float64 {
	return s.boost * s.boost
}

// SetQueryNorm records the norm an enclosing compound query computed
// from its clauses' weights; it scales the constant score.
func (s *pairPhraseSearcher) SetQueryNorm(qnorm float64) {
	s.queryNorm = qnorm
}

// Count is an upper bound of the hits, which Bleve's conjunctions use
// only to order their clauses: the postings count of the rarest word.
// The driver's own Count is no bound: the unadorned term searcher that
// scorch's optimisation builds reports 0.
func (s *pairPhraseSearcher) Count() uint64 {
	if len(s.readers) == 0 {
		return s.driver.Count()
	}
	n := s.readers[0].Count()
	for _, r := range s.readers[1:] {
		n = min(n, r.Count())
	}
	return n
}

// Min is 0: a phrase has no minimum number of optional clauses.
func (s *pairPhraseSearcher) Min() int {
	return 0
}

// Size estimates the searcher's memory for Bleve's search memory
// accounting.
func (s *pairPhraseSearcher) Size() int {
	n := int(reflect.TypeFor[pairPhraseSearcher]().Size()) + s.driver.Size()
	for _, t := range s.phrase {
		n += len(t)
	}
	for j, r := range s.readers {
		n += r.Size() + s.docs[j].Size()
	}
	return n
}

// DocumentMatchPoolSize is the driver's: the searcher holds no document
// between calls and returns the driver's own.
func (s *pairPhraseSearcher) DocumentMatchPoolSize() int {
	return s.driver.DocumentMatchPoolSize()
}
