package index

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/highlight"
	ansiformat "github.com/blevesearch/bleve/v2/search/highlight/format/ansi"
	htmlformat "github.com/blevesearch/bleve/v2/search/highlight/format/html"
	simplefragmenter "github.com/blevesearch/bleve/v2/search/highlight/fragmenter/simple"
	simplehighlighter "github.com/blevesearch/bleve/v2/search/highlight/highlighter/simple"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/patrol-dev/patrol/listing"
)

// Sort orders accepted in Query.Sort.
const (
	SortScore     = "score"     // listing score, highest first (the default)
	SortDate      = "date"      // fetched, newest first
	SortPrice     = "price"     // price, lowest first
	SortRelevance = "relevance" // text relevance, best first
)

// Highlight styles accepted in Query.HighlightStyle.
const (
	HighlightHTML = "html" // matches wrapped in <mark></mark>, text escaped (the default)
	HighlightANSI = "ansi" // matches in reverse video, for a terminal
)

// Limits on paging, so one request cannot ask for the whole index.
const (
	DefaultLimit = 20
	MaxLimit     = 1000
)

// Query is one search: free text in Bleve's query-string syntax plus the
// filters the CLI flags and the web UI offer. Zero values mean "no filter".
type Query struct {
	// Text is Bleve query-string syntax; "" matches every listing. Words
	// without a field prefix search title, description and the folded
	// field, folded with Options.Fold, so "nordvik" finds "N0rdv1k". Field
	// prefixes: title, description, folded, brand, marketplace, seller,
	// status, price, score, flagged, fetched, first_seen.
	Text        string
	Brand       string // exact brand name
	Marketplace string // exact marketplace name
	Seller      string // exact seller name
	Status      string // a listing.Status
	Flagged     *bool
	MinScore    float64
	MaxScore    float64   // 0 = none
	MinPrice    float64   // 0 = none
	MaxPrice    float64   // 0 = none
	Since       time.Time // fetched at or after
	SeenSince   time.Time // first seen at or after
	// Sort is one of SortScore (default), SortDate, SortPrice, SortRelevance.
	Sort          string
	Limit, Offset int // Limit defaults to DefaultLimit, at most MaxLimit
	// Facets asks for counts by marketplace, brand, seller and status over
	// every match (not only the page); FacetSize bounds the terms per
	// facet (default 10).
	Facets    bool
	FacetSize int
	// Highlight asks for fragments of title and description with the
	// matches marked; it needs Options.Lookup. HighlightStyle is
	// HighlightHTML (default) or HighlightANSI.
	Highlight      bool
	HighlightStyle string
}

// Result is one page of matches.
type Result struct {
	Total uint64 // matches over all pages
	// TotalAtLeast says Total is a lower bound: a search sorted by score
	// or date without facets counts exactly up to ExactTotalUpTo matches.
	TotalAtLeast bool
	Hits         []Hit
	// Facets maps "marketplace", "brand", "seller", "status" to the most
	// frequent values among all matches, most frequent first.
	Facets map[string][]FacetCount
	Took   time.Duration
}

// Hit is one matching listing.
type Hit struct {
	ID        listing.ID
	Score     float64 // the listing's score from the matcher
	Relevance float64 // Bleve's text relevance for this query; 0 unless sorted by relevance
	// Fragments maps "title" and "description" to highlighted fragments.
	Fragments map[string][]string
}

// FacetCount is how many matches have one value of a facet.
type FacetCount struct {
	Term  string
	Count int
}

// facetFields returns the facets Search computes, by result key.
func facetFields() []string {
	return []string{fieldMarketplace, fieldBrand, fieldSeller, fieldStatus}
}

// textFields returns the analysed fields that unqualified query text
// searches as written and that highlights are built for.
func textFields() []string {
	return []string{fieldTitle, fieldDescription}
}

// Search runs q and returns one page of matches.
func (ix *Index) Search(ctx context.Context, q Query) (Result, error) {
	// Text relevance is only worth computing when it orders the results.
	scored := q.Sort == SortRelevance
	tiered := q.Sort == "" || q.Sort == SortScore || q.Sort == SortDate
	bq, err := ix.buildQuery(q, scored)
	if err != nil {
		return Result{}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	if limit > MaxLimit {
		limit = MaxLimit
	}
	offset := max(q.Offset, 0)
	req := bleve.NewSearchRequestOptions(bq, limit, offset, false)
	if !scored {
		req.Score = bleve.ScoreNone
	}
	order, err := sortKeys(q.Sort)
	if err != nil {
		return Result{}, err
	}
	req.SortByCustom(sortOrder(order))
	scoreAt := 0
	for i, o := range order {
		if o == "-"+sortScore {
			scoreAt = i
		}
	}
	if q.Facets {
		size := q.FacetSize
		if size <= 0 {
			size = 10
		}
		for _, f := range facetFields() {
			req.AddFacet(f, bleve.NewFacetRequest(f, size))
		}
	}
	terms := map[string][]termMatch{}
	if q.Highlight {
		ix.queryTerms(bq, terms)
		if ix.lookup == nil {
			return Result{}, fmt.Errorf("search: %w", ErrNoLookup)
		}
		req.IncludeLocations = true
	}
	var (
		matches []*search.DocumentMatch
		out     Result
	)
	if tiered {
		start := time.Now()
		tr, err := ix.searchTiered(ctx, bq, req.Sort, q.Sort == SortDate, limit, offset, q.Highlight)
		if err != nil {
			return Result{}, fmt.Errorf("search %q: %w", q.Text, err)
		}
		matches = tr.hits
		out = Result{Total: tr.total, TotalAtLeast: tr.atLeast}
		if q.Facets {
			// Facets visit every match anyway, and count them exactly;
			// without a page to sort they read no sort keys.
			fr := bleve.NewSearchRequestOptions(bq, 0, 0, false)
			fr.Score = bleve.ScoreNone
			fr.Facets = req.Facets
			res, err := ix.bi.SearchInContext(ctx, fr)
			if err != nil {
				return Result{}, fmt.Errorf("search %q: %w", q.Text, err)
			}
			out.Total, out.TotalAtLeast = res.Total, false
			out.Facets = facetCounts(res.Facets)
		}
		out.Took = time.Since(start)
	} else {
		res, err := ix.bi.SearchInContext(ctx, req)
		if err != nil {
			return Result{}, fmt.Errorf("search %q: %w", q.Text, err)
		}
		matches = res.Hits
		out = Result{Total: res.Total, Took: res.Took}
		if q.Facets {
			out.Facets = facetCounts(res.Facets)
		}
	}
	out.Hits = make([]Hit, 0, len(matches))
	for _, dm := range matches {
		h := Hit{ID: listing.ID(dm.ID), Relevance: dm.Score}
		if scoreAt < len(dm.Sort) {
			if v, err := strconv.ParseFloat(dm.Sort[scoreAt], 64); err == nil {
				h.Score = v
			}
		}
		if q.Highlight {
			h.Fragments, err = ix.fragments(ctx, dm, terms, q.HighlightStyle)
			if err != nil {
				return Result{}, fmt.Errorf("search %q: %w", q.Text, err)
			}
		}
		out.Hits = append(out.Hits, h)
	}
	return out, nil
}

// facetCounts turns Bleve's facet results into Result.Facets.
func facetCounts(res search.FacetResults) map[string][]FacetCount {
	out := make(map[string][]FacetCount, len(facetFields()))
	for _, f := range facetFields() {
		fr := res[f]
		counts := []FacetCount{}
		if fr != nil && fr.Terms != nil {
			for _, t := range fr.Terms.Terms() {
				if t.Term == "" {
					continue // a listing without a brand, say
				}
				counts = append(counts, FacetCount{Term: t.Term, Count: t.Count})
			}
		}
		out[f] = counts
	}
	return out
}

// sortKeys are the sort keys of a Query.Sort, "-" first for descending.
func sortKeys(sort string) ([]string, error) {
	switch sort {
	case "", SortScore:
		return []string{"-" + sortScore, "-" + sortFetched}, nil
	case SortDate:
		return []string{"-" + sortFetched, "-" + sortScore}, nil
	case SortPrice:
		return []string{sortPrice, "-" + sortScore}, nil
	case SortRelevance:
		return []string{"-_score", "-" + sortScore}, nil
	}
	return nil, fmt.Errorf("search: unknown sort %q (want score, date, price or relevance)", sort)
}

// sortOrder is order ("-field" for descending, "_score" for relevance)
// with every field sorted as a plain string: the sort keys are, and left
// to guess, Bleve would check every key of every hit for a numeric
// encoding.
func sortOrder(order []string) search.SortOrder {
	out := make(search.SortOrder, 0, len(order))
	for _, o := range order {
		field, desc := strings.CutPrefix(o, "-")
		if field == "_score" {
			out = append(out, &search.SortScore{Desc: desc})
			continue
		}
		out = append(out, &search.SortField{Field: field, Desc: desc, Type: search.SortFieldAsString, Mode: search.SortFieldDefault, Missing: search.SortFieldMissingLast})
	}
	return out
}

// buildQuery turns q into a Bleve query: the expanded text query and
// the filters, all required. scored says whether Bleve will score it.
func (ix *Index) buildQuery(q Query, scored bool) (query.Query, error) {
	var text query.Query
	if strings.TrimSpace(q.Text) == "" {
		text = bleve.NewMatchAllQuery()
	} else {
		parsed, err := bleve.NewQueryStringQuery(q.Text).Parse()
		if err != nil {
			return nil, fmt.Errorf("parse query %q: %w", q.Text, err)
		}
		text = ix.expand(parsed)
	}
	// filters are exact terms, ranges are ranges.
	var filters, ranges []query.Query
	term := func(field, value string) {
		if value != "" {
			t := bleve.NewTermQuery(value)
			t.SetField(field)
			filters = append(filters, t)
		}
	}
	term(fieldBrand, q.Brand)
	term(fieldMarketplace, q.Marketplace)
	term(fieldSeller, q.Seller)
	term(fieldStatus, q.Status)
	if q.Flagged != nil {
		b := bleve.NewBoolFieldQuery(*q.Flagged)
		b.SetField(fieldFlagged)
		filters = append(filters, b)
	}
	if q.MinPrice != 0 || q.MaxPrice != 0 {
		inclusive := true
		var lo, hi *float64
		if q.MinPrice != 0 {
			lo = &q.MinPrice
		}
		if q.MaxPrice != 0 {
			hi = &q.MaxPrice
		}
		r := bleve.NewNumericRangeInclusiveQuery(lo, hi, &inclusive, &inclusive)
		r.SetField(fieldPrice)
		ranges = append(ranges, r)
	}
	if q.MinScore != 0 || q.MaxScore != 0 {
		var lo, hi *float64
		if q.MinScore != 0 {
			lo = &q.MinScore
		}
		if q.MaxScore != 0 {
			hi = &q.MaxScore
		}
		ranges = append(ranges, scoreRange(lo, hi, true, true))
	}
	if !q.Since.IsZero() {
		ranges = append(ranges, timeRange(fieldFetched, q.Since, time.Time{}, true, true))
	}
	if !q.SeenSince.IsZero() {
		ranges = append(ranges, timeRange(fieldFirstSeen, q.SeenSince, time.Time{}, true, true))
	}
	// A conjunction leapfrogs over the rarest clause; a Boolean filter
	// clause would be checked against every document the text matches,
	// all of them when there is no text. Term filters add the same score to
	// every hit, so relevance order is unchanged.
	if _, all := text.(*query.MatchAllQuery); !all {
		filters = append([]query.Query{text}, filters...)
	}
	if len(filters) == 0 {
		if len(ranges) == 0 {
			return text, nil
		}
		filters, ranges = ranges, nil
	}
	if !scored {
		// Unscored, a conjunction of term and range queries is one
		// intersection of their postings bitmaps (Bleve's "unadorned"
		// conjunction), where a Boolean filter would test every match of
		// the rest against the ranges one by one.
		filters = append(filters, ranges...)
		if len(filters) == 1 {
			return filters[0], nil
		}
		return bleve.NewConjunctionQuery(filters...), nil
	}
	must := filters[0]
	if len(filters) > 1 {
		must = bleve.NewConjunctionQuery(filters...)
	}
	if len(ranges) == 0 {
		return must, nil
	}
	// Ranges expand to many terms, and a conjunction would advance every
	// one of them for each candidate. As a Boolean filter they are
	// searched without scores, which lets Bleve merge their postings into
	// one bitmap; they then leave relevance alone too.
	b := bleve.NewBooleanQuery()
	b.AddMust(must)
	if len(ranges) == 1 {
		b.AddFilter(ranges[0])
	} else {
		b.AddFilter(bleve.NewConjunctionQuery(ranges...))
	}
	return b, nil
}

// expand rewrites a parsed query string in place so that text without a
// field prefix searches title and description as written and the folded
// field as folded, and text aimed at the folded field is folded too.
func (ix *Index) expand(q query.Query) query.Query {
	switch v := q.(type) {
	case *query.BooleanQuery:
		if v.Must != nil {
			v.Must = ix.expand(v.Must)
		}
		if v.Should != nil {
			v.Should = ix.expand(v.Should)
		}
		if v.MustNot != nil {
			v.MustNot = ix.expand(v.MustNot)
		}
		if v.Filter != nil {
			v.Filter = ix.expand(v.Filter)
		}
		// The query-string parser wraps even one word in a Boolean
		// query's "should" disjunction; searched as written, every match
		// would go through two wrappers that Bleve cannot optimise away.
		if d, ok := v.Should.(*query.DisjunctionQuery); ok && v.Must == nil && v.MustNot == nil && v.Filter == nil && len(d.Disjuncts) == 1 && d.Min <= 1 {
			return d.Disjuncts[0]
		}
	case *query.ConjunctionQuery:
		for i := range v.Conjuncts {
			v.Conjuncts[i] = ix.expand(v.Conjuncts[i])
		}
		if len(v.Conjuncts) == 1 {
			return v.Conjuncts[0]
		}
	case *query.DisjunctionQuery:
		for i := range v.Disjuncts {
			v.Disjuncts[i] = ix.expand(v.Disjuncts[i])
		}
		if len(v.Disjuncts) == 1 && v.Min <= 1 {
			return v.Disjuncts[0]
		}
	case *query.MatchQuery:
		switch v.FieldVal {
		case fieldFolded:
			v.Match = ix.fold(v.Match)
		case "":
			return ix.fanOut(v.Match, func(field, text string) query.Query {
				c := *v
				c.FieldVal, c.Match = field, text
				return &c
			})
		}
	case *query.MatchPhraseQuery:
		switch v.FieldVal {
		case "", fieldTitle, fieldFolded:
			// Positions are kept for the folded title only; the pairs
			// field narrows the titles whose positions are read.
			return newPairPhraseQuery(fieldFolded, fieldPairs, ix.foldedTokens(ix.fold(v.MatchPhrase)))
		case fieldDescription:
			// No positions in the description (see newMapping): all words.
			m := query.NewMatchQuery(v.MatchPhrase)
			m.SetField(fieldDescription)
			m.SetOperator(query.MatchQueryOperatorAnd)
			return m
		}
	case *query.NumericRangeQuery:
		if v.FieldVal == fieldScore {
			return scoreRange(v.Min, v.Max, v.InclusiveMin == nil || *v.InclusiveMin, v.InclusiveMax != nil && *v.InclusiveMax)
		}
	case *query.DateRangeQuery:
		if v.FieldVal == fieldFetched || v.FieldVal == fieldFirstSeen {
			return timeRange(v.FieldVal, v.Start.Time, v.End.Time, v.InclusiveStart == nil || *v.InclusiveStart, v.InclusiveEnd != nil && *v.InclusiveEnd)
		}
	case *query.WildcardQuery:
		if v.FieldVal == "" {
			return patternOver(func(field string) query.Query {
				c := *v
				c.FieldVal, c.Wildcard = field, strings.ToLower(v.Wildcard)
				return &c
			})
		}
	case *query.RegexpQuery:
		if v.FieldVal == "" {
			return patternOver(func(field string) query.Query {
				c := *v
				c.FieldVal = field
				return &c
			})
		}
	}
	return q
}

// fanOut is the disjunction of text over title and description and of its
// folded form over the folded field; when folding changed the text (the
// analyst typed a disguised spelling) the folded form is also tried on
// title and description, so "n0rdv1k" finds the plain "Nordvik" too. A
// field for which at returns nil is left out.
func (ix *Index) fanOut(text string, at func(field, text string) query.Query) query.Query {
	folded := ix.fold(text)
	qs := make([]query.Query, 0, 5)
	add := func(field, text string) {
		if q := at(field, text); q != nil {
			qs = append(qs, q)
		}
	}
	for _, f := range textFields() {
		add(f, text)
	}
	add(fieldFolded, folded)
	if folded != strings.ToLower(text) {
		for _, f := range textFields() {
			add(f, folded)
		}
	}
	return query.NewDisjunctionQuery(qs)
}

// scoreRange matches listing scores between lo and hi (nil: open) as a
// term range over the score's sort key.
func scoreRange(lo, hi *float64, incLo, incHi bool) query.Query {
	var min, max string
	if lo != nil {
		min = scoreKey(*lo)
	}
	if hi != nil {
		max = scoreKey(*hi)
	}
	r := bleve.NewTermRangeInclusiveQuery(min, max, &incLo, &incHi)
	r.SetField(sortScore)
	return r
}

// timeRange matches listings whose time field lies between start and end
// (zero: open). The fields hold UTC days, so first_seen is compared by
// day; fetched is exact, because the days at either end are narrowed with
// the seconds of its sort key.
func timeRange(field string, start, end time.Time, incStart, incEnd bool) query.Query {
	yes := true
	day := func(t time.Time) string { return t.UTC().Format(dayLayout) }
	sec := func(t time.Time) string { return t.UTC().Format(sortTimeLayout) }
	terms := func(field, min, max string, incMin, incMax bool) query.Query {
		r := bleve.NewTermRangeInclusiveQuery(min, max, &incMin, &incMax)
		r.SetField(field)
		return r
	}
	var lo, hi string
	if !start.IsZero() {
		lo = day(start)
	}
	if !end.IsZero() {
		hi = day(end)
	}
	if field != fieldFetched {
		// An end at midnight, excluded, excludes its whole day.
		midnight := end.UTC().Truncate(24*time.Hour) == end.UTC()
		return terms(field, lo, hi, true, incEnd || !midnight)
	}
	if lo != "" && lo == hi {
		return terms(sortFetched, sec(start), sec(end), incStart, incEnd)
	}
	// Whole days strictly inside, plus the seconds of the two end days.
	var qs []query.Query
	inner := terms(fieldFetched, lo, hi, lo == "", hi == "")
	qs = append(qs, inner)
	if lo != "" {
		qs = append(qs, terms(sortFetched, sec(start), lo+"235959", incStart, yes))
	}
	if hi != "" {
		qs = append(qs, terms(sortFetched, hi+"000000", sec(end), yes, incEnd))
	}
	return query.NewDisjunctionQuery(qs)
}

// patternOver is a wildcard or regexp query over every text field.
func patternOver(at func(field string) query.Query) query.Query {
	return query.NewDisjunctionQuery([]query.Query{at(fieldTitle), at(fieldDescription), at(fieldFolded)})
}

// termMatch is one term a query looks for in the description: the
// analysed term, matched exactly, within an edit distance, or as a prefix.
type termMatch struct {
	term   string
	fuzzy  int
	prefix bool
}

// matches reports whether the analysed term t is one termMatch looks for.
func (m termMatch) matches(t string) bool {
	switch {
	case m.prefix:
		return strings.HasPrefix(t, m.term)
	case m.fuzzy > 0:
		_, ok := search.LevenshteinDistanceMax(m.term, t, m.fuzzy)
		return ok
	}
	return m.term == t
}

// queryTerms adds to out, by field, the terms that q looks for in title
// and description. Neither keeps term vectors (see newMapping), so their
// highlights are found by matching these against their analysed words.
func (ix *Index) queryTerms(q query.Query, out map[string][]termMatch) {
	add := func(field string, m termMatch) {
		if field == fieldTitle || field == fieldDescription {
			out[field] = append(out[field], m)
		}
	}
	switch v := q.(type) {
	case *query.BooleanQuery:
		for _, c := range []query.Query{v.Must, v.Should, v.Filter} {
			if c != nil {
				ix.queryTerms(c, out)
			}
		}
	case *query.ConjunctionQuery:
		for _, c := range v.Conjuncts {
			ix.queryTerms(c, out)
		}
	case *query.DisjunctionQuery:
		for _, c := range v.Disjuncts {
			ix.queryTerms(c, out)
		}
	case *query.MatchQuery:
		for _, tok := range ix.an.english.Analyze([]byte(v.Match)) {
			add(v.FieldVal, termMatch{term: string(tok.Term), fuzzy: v.Fuzziness})
		}
	case *query.TermQuery:
		add(v.FieldVal, termMatch{term: v.Term})
	case *query.FuzzyQuery:
		add(v.FieldVal, termMatch{term: v.Term, fuzzy: v.Fuzziness})
	case *query.PrefixQuery:
		add(v.FieldVal, termMatch{term: v.Prefix, prefix: true})
	}
}

// fragments builds highlighted fragments for one hit from the listing's
// text in the store. Matches on the folded field are shown on the original
// words whose folded form matched, so an analyst sees "N0rdv1k" marked;
// title and description matches are found from terms (see queryTerms).
func (ix *Index) fragments(ctx context.Context, dm *search.DocumentMatch, terms map[string][]termMatch, style string) (map[string][]string, error) {
	l, err := ix.lookup(ctx, listing.ID(dm.ID))
	if err != nil {
		return nil, fmt.Errorf("highlight %s: %w", dm.ID, err)
	}
	if dm.Locations == nil {
		dm.Locations = search.FieldTermLocationMap{}
	}
	texts := map[string]string{fieldTitle: l.Title, fieldDescription: l.Description}
	for field, text := range texts {
		if len(terms[field]) == 0 {
			continue
		}
		for _, tok := range ix.an.english.Analyze([]byte(text)) {
			term := string(tok.Term)
			for _, m := range terms[field] {
				if !m.matches(term) {
					continue
				}
				mark(dm, field, term, tok)
				break
			}
		}
	}
	if folded := dm.Locations[fieldFolded]; len(folded) > 0 {
		for field, text := range texts {
			for _, tok := range tokens(text) {
				for _, w := range words(ix.fold(string(tok.Term))) {
					w = strings.ToLower(w)
					if _, ok := folded[w]; !ok {
						continue
					}
					mark(dm, field, w, tok)
				}
			}
		}
	}
	var formatter highlight.FragmentFormatter
	switch style {
	case HighlightANSI:
		formatter = ansiformat.NewFragmentFormatter(ansiformat.Reverse)
	default:
		formatter = htmlformat.NewFragmentFormatter("<mark>", "</mark>")
	}
	h := simplehighlighter.NewHighlighter(simplefragmenter.NewFragmenter(200), formatter, "…")
	d := document.NewDocument(dm.ID)
	for field, text := range texts {
		d.AddField(document.NewTextField(field, nil, []byte(text)))
	}
	out := map[string][]string{}
	for _, field := range textFields() {
		if len(dm.Locations[field]) == 0 {
			continue
		}
		if fs := h.BestFragmentsInField(dm, d, field, 3); len(fs) > 0 {
			out[field] = fs
		}
	}
	return out, nil
}

// mark records that tok, a match of term, stands in field of dm, for the
// highlighter to mark.
func mark(dm *search.DocumentMatch, field, term string, tok *analysis.Token) {
	tlm := dm.Locations[field]
	if tlm == nil {
		tlm = search.TermLocationMap{}
		dm.Locations[field] = tlm
	}
	tlm[term] = append(tlm[term], &search.Location{Pos: uint64(tok.Position), Start: uint64(tok.Start), End: uint64(tok.End)})
}
