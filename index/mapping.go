package index

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/character"
	unicodetokenizer "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	bleveindex "github.com/blevesearch/bleve_index_api"

	"github.com/patrol-dev/patrol/listing"
)

// Field names in the index; the query-string syntax uses them too
// (brand:Acme, price:<50, fetched:>"2024-01-01", score:>0.6).
//
// Only price is a Bleve numeric field: each numeric or date value is
// indexed as 16 prefix-coded terms, and four of them made up a third of
// the index and half the indexing time. Score ranges are term ranges over
// its sort key, and dates are indexed as UTC days (fetched and first_seen)
// whose ranges expand to a few dozen terms at most.
const (
	fieldTitle       = "title"
	fieldDescription = "description"
	fieldFolded      = "folded"
	fieldSeller      = "seller"
	fieldMarketplace = "marketplace"
	fieldBrand       = "brand"
	fieldStatus      = "status"
	fieldPrice       = "price"
	fieldScore       = "score"
	fieldFlagged     = "flagged"
	fieldFetched     = "fetched"    // UTC day, dayLayout
	fieldFirstSeen   = "first_seen" // UTC day, dayLayout
	fieldVer         = "ver"        // contentCheck of the listing

	// Sort keys: fixed-width keywords whose byte order is the value's
	// order. Bleve's numeric and date doc values hold 16 prefix-coded terms
	// per value, and decoding them dominated every sorted query; a sort
	// key is one short term.
	sortScore   = "sort_score"
	sortPrice   = "sort_price"
	sortFetched = "sort_fetched"

	// scoreWindow is which of a few score windows the listing's score
	// falls in (scoreWindowOf), so that a search sorted by score can read
	// the highest window first and stop once it has a page (see
	// searchTiered). Each window is one term: a window made of a range of
	// terms would cost a union of their postings, in proportion to the
	// whole index, on every search.
	scoreWindow = "score_window"

	// fieldPairs holds a hash bucket of every two adjacent words of the
	// folded title (pairTerms), so that a phrase reads the positions of
	// only the few titles holding its pairs (see pairPhraseQuery).
	fieldPairs = "pairs"
)

// foldedAnalyzer splits already-folded text into lower-case words, without
// stemming or stop words: a folded brand name must survive intact.
const foldedAnalyzer = "patrol_folded"

// newMapping returns the explicit mapping. Nothing is stored (the store
// has the text; highlights are built from it), there is no _all field
// (unqualified query text is expanded to title, description and folded),
// doc values only where a sort, a facet or Versions reads them, and term
// vectors only on the folded field.
//
// Positions serve phrase queries, and phrases are about titles, where a
// product name is written: the folded field holds the whole title (folded,
// lower-cased, not stemmed), so phrases, with or without the title:
// prefix, search it alone and match the words as written there, up to
// case and disguise. Positions on title and description would have made up
// over a third of the index and doubled the work of every phrase. A phrase
// aimed at the description (description:"mirror grade") matches
// descriptions holding all of its words. Highlights need no term vectors:
// they are rebuilt from the store's text and the query's terms.
func newMapping() (mapping.IndexMapping, error) {
	im := bleve.NewIndexMapping()
	err := im.AddCustomAnalyzer(foldedAnalyzer, map[string]interface{}{
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
	im.DefaultAnalyzer = en.AnalyzerName
	im.DefaultField = fieldTitle

	text := func(analyzer string) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = true
		f.DocValues = false
		return f
	}
	keyword := func(docValues bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = docValues
		return f
	}
	price := bleve.NewNumericFieldMapping()
	price.Store = false
	price.IncludeInAll = false
	price.DocValues = false
	flag := bleve.NewBooleanFieldMapping()
	flag.Store = false
	flag.IncludeInAll = false
	flag.DocValues = false

	dm := bleve.NewDocumentStaticMapping()

	plain := text(en.AnalyzerName)
	plain.IncludeTermVectors = false
	dm.AddFieldMappingsAt(fieldTitle, plain)
	dm.AddFieldMappingsAt(fieldDescription, plain)
	dm.AddFieldMappingsAt(fieldFolded, text(foldedAnalyzer))
	dm.AddFieldMappingsAt(fieldSeller, keyword(true))
	dm.AddFieldMappingsAt(fieldMarketplace, keyword(true))
	dm.AddFieldMappingsAt(fieldBrand, keyword(true))
	dm.AddFieldMappingsAt(fieldStatus, keyword(true))
	opaque := keyword(true)
	opaque.SkipFreqNorm = true
	dm.AddFieldMappingsAt(fieldVer, opaque)
	dm.AddFieldMappingsAt(fieldPrice, price)
	dm.AddFieldMappingsAt(fieldFetched, keyword(false))
	dm.AddFieldMappingsAt(fieldFirstSeen, keyword(false))
	dm.AddFieldMappingsAt(sortScore, keyword(true))
	dm.AddFieldMappingsAt(sortPrice, opaque)
	dm.AddFieldMappingsAt(sortFetched, keyword(true))
	band := keyword(false)
	band.SkipFreqNorm = true
	dm.AddFieldMappingsAt(scoreWindow, band)
	dm.AddFieldMappingsAt(fieldPairs, band)
	dm.AddFieldMappingsAt(fieldFlagged, flag)
	dm.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	im.DefaultMapping = dm
	if err := im.Validate(); err != nil {
		return nil, err
	}
	return im, nil
}

// analyzers are the mapping's analyzers, resolved once at Open so that
// Put can build documents without walking the mapping by reflection.
type analyzers struct {
	english, folded, keyword analysis.Analyzer
	// spaces splits on spaces only, for the pairs field, whose terms are
	// never analysed at query time (they are looked up as they are).
	spaces analysis.Analyzer
}

func newAnalyzers(m mapping.IndexMapping) (analyzers, error) {
	a := analyzers{
		english: m.AnalyzerNamed(en.AnalyzerName),
		folded:  m.AnalyzerNamed(foldedAnalyzer),
		keyword: m.AnalyzerNamed(keyword.Name),
		spaces:  &analysis.DefaultAnalyzer{Tokenizer: character.NewCharacterTokenizer(func(r rune) bool { return r != ' ' })},
	}
	if a.english == nil || a.folded == nil || a.keyword == nil {
		return a, fmt.Errorf("index mapping lacks the %s, %s or %s analyzer", en.AnalyzerName, foldedAnalyzer, keyword.Name)
	}
	return a, nil
}

// Indexing options of the document fields; they must agree with
// newMapping, which the query side reads.
const (
	optText  = bleveindex.IndexField | bleveindex.IncludeTermVectors
	optWords = bleveindex.IndexField
	// Keywords that queries filter on keep their frequency and norm:
	// without them Bleve scores a match as 0 × +Inf, and one NaN
	// relevance breaks the relevance order and the JSON output. Only
	// keys that no query matches skip them.
	optKeyword = bleveindex.IndexField | bleveindex.DocValues
	optFilter  = bleveindex.IndexField
	optOpaque  = optKeyword | bleveindex.SkipFreqNorm
	// Sort keys are read one document at a time for each hit: one small
	// uncompressed doc value per document beats decompressing a chunk of
	// a thousand for every hit.
	optSortKey = optKeyword | bleveindex.SkipDVChunking | bleveindex.SkipDVCompression
	optNumeric = bleveindex.IndexField
)

// newDoc builds the Bleve document for l directly, field by field, as
// newMapping describes it. Empty keyword values are left out, so a listing
// without a brand does not show up as an empty facet.
func (ix *Index) newDoc(l *listing.Listing) *document.Document {
	d := document.NewDocument(string(l.ID))
	text := func(name, v string, a analysis.Analyzer) {
		d.AddField(document.NewTextFieldCustom(name, nil, []byte(v), optText, a))
	}
	d.AddField(document.NewTextFieldCustom(fieldTitle, nil, []byte(l.Title), optWords, ix.an.english))
	d.AddField(document.NewTextFieldCustom(fieldDescription, nil, []byte(l.Description), optWords, ix.an.english))
	foldedTitle := ix.fold(l.Title)
	text(fieldFolded, ix.foldedText(foldedTitle, l.Description), ix.an.folded)
	if pairs := pairTerms(ix.foldedTokens(foldedTitle)); len(pairs) > 0 {
		// One field of space-separated terms: a field per pair cost Bleve
		// a field's worth of work each.
		d.AddField(document.NewTextFieldCustom(fieldPairs, nil, []byte(strings.Join(pairs, " ")), optFilter|bleveindex.SkipFreqNorm, ix.an.spaces))
	}
	kw := func(name, v string, opt bleveindex.FieldIndexingOptions) {
		if v != "" {
			d.AddField(document.NewTextFieldCustom(name, nil, []byte(v), opt, ix.an.keyword))
		}
	}
	kw(fieldSeller, l.Seller, optKeyword)
	kw(fieldMarketplace, l.Marketplace, optKeyword)
	kw(fieldBrand, l.Brand, optKeyword)
	kw(fieldStatus, string(l.Status), optKeyword)
	kw(fieldVer, contentCheck(*l), optOpaque)
	kw(sortScore, scoreKey(l.Score), optSortKey)
	kw(sortPrice, priceKey(l.Price), optOpaque|bleveindex.SkipDVChunking|bleveindex.SkipDVCompression)
	kw(sortFetched, l.FetchedAt.UTC().Format(sortTimeLayout), optSortKey)
	// Only ever searched unscored (searchTiered), so it keeps no frequency
	// or norm.
	kw(scoreWindow, windowKey(scoreWindowOf(l.Score)), optFilter|bleveindex.SkipFreqNorm)
	if !l.FetchedAt.IsZero() {
		kw(fieldFetched, l.FetchedAt.UTC().Format(dayLayout), optFilter)
	}
	if !l.FirstSeen.IsZero() {
		kw(fieldFirstSeen, l.FirstSeen.UTC().Format(dayLayout), optFilter)
	}
	d.AddField(document.NewNumericFieldWithIndexingOptions(fieldPrice, nil, l.Price, optNumeric))
	d.AddField(document.NewBooleanFieldWithIndexingOptions(fieldFlagged, nil, l.Flagged, optNumeric))
	return d
}

// sortTimeLayout is a fixed-width, byte-ordered time for sort keys.
const sortTimeLayout = "20060102150405"

// dayLayout is a UTC day as the fetched and first_seen fields hold it.
const dayLayout = "20060102"

// scoreKey is the sort key of a listing score; score ranges are term
// ranges over it, so it must sort as the scores do.
func scoreKey(v float64) string {
	return fixed(v, 6, 4)
}

// scoreBands is how many score bands there are.
const scoreBands = 100

// bandOf is the score band of a listing score: its sort key (rounded to
// four decimals) in hundredths, rounded down, so that every band holds a
// contiguous range of sort keys and the bands never reorder ties.
func bandOf(score float64) int {
	if !(score > 0) {
		return 0
	}
	b := int(math.Round(score*10000)) / (10000 / scoreBands)
	return min(b, scoreBands-1)
}

// scoreWindowTops are the lowest bands of the score windows, highest
// window first: window i holds the bands from the i-th up to the band
// below the one before, each twice as wide as the one above it
// (1, 2, 4 ... hundredths), the last taking the rest. The top windows are
// narrow because a page usually fills from them. Changing them needs a
// re-index (change Version with them).
func scoreWindowTops() [7]int {
	return [...]int{99, 97, 93, 85, 69, 37, 0}
}

// scoreWindowOf is the score window of a listing score (0 is the
// highest), following its band so that windows never split ties.
func scoreWindowOf(score float64) int {
	b := bandOf(score)
	tops := scoreWindowTops()
	for i, lo := range tops {
		if b >= lo {
			return i
		}
	}
	return len(tops) - 1
}

// windowKey is window w as the score_window field holds it.
func windowKey(w int) string {
	return strconv.Itoa(w)
}

// priceKey is the sort key of a price.
func priceKey(v float64) string {
	return fixed(v, 10, 2)
}

// fixed formats a non-negative v zero-padded to width with prec decimals,
// so that the strings sort as the numbers do. Negative values sort as 0,
// values too wide for width as the largest that fits.
func fixed(v float64, width, prec int) string {
	if v < 0 || v != v {
		v = 0
	}
	if limit := math.Pow10(width-prec-1) - math.Pow10(-prec); v > limit {
		v = limit
	}
	return fmt.Sprintf("%0*.*f", width, prec, v)
}

// foldedText is the folded field: the whole folded title, so that phrase
// queries on a disguised brand and product work, followed by only those
// folded description words that differ from the plain ones. A description
// rarely hides the brand, and its plain words are already in the
// description field, so folding them all would double the index for
// nothing.
func (ix *Index) foldedText(foldedTitle, description string) string {
	var b strings.Builder
	b.WriteString(foldedTitle)
	if description == "" {
		return b.String()
	}
	folded := words(ix.fold(description))
	if len(folded) == 0 {
		return b.String()
	}
	plain := make(map[string]struct{}, len(folded))
	for _, w := range words(description) {
		plain[strings.ToLower(w)] = struct{}{}
	}
	seen := make(map[string]struct{})
	for _, w := range folded {
		w = strings.ToLower(w)
		if _, ok := plain[w]; ok {
			continue
		}
		if _, ok := seen[w]; ok {
			continue
		}
		seen[w] = struct{}{}
		b.WriteString(" \n ")
		b.WriteString(w)
	}
	return b.String()
}

// foldedTokens are the words of already-folded text as the folded
// analyzer indexes them, in position order.
func (ix *Index) foldedTokens(folded string) []string {
	ts := ix.an.folded.Analyze([]byte(folded))
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t.Term)
	}
	return out
}

// words splits s into runs of letters and digits. It is close to the
// folded analyzer's Unicode word splitting but several times cheaper, and
// only has to be consistent with itself: the folded field is analysed
// again when indexed.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
}

// tokens returns the words of s with their byte offsets and 1-based
// positions, as the folded analyzer sees them.
func tokens(s string) analysis.TokenStream {
	return unicodetokenizer.NewUnicodeTokenizer().Tokenize([]byte(s))
}
