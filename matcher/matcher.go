// Package matcher scores listings against protected brands using folded
// titles and descriptions, known disguises of the brand's name, suspicious
// and negative phrases, the price against the brand's MSRP, reference-image
// hashes and what the store knows about the seller. Every score carries the
// signals it was computed from, so an analyst sees why a listing is suspect
// and a notice can cite it.
//
// Accuracy rests on one rule: a suspect needs evidence of infringement, not
// just the brand's name, because genuine resale is lawful. The brand's name
// written plainly weighs little; a disguised spelling, a suspicious phrase,
// a price far below MSRP or the brand's own photos in a stranger's listing
// weigh enough, alone or together, to reach the threshold (see Weights).
package matcher

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/patrol-dev/patrol/fold"
	"github.com/patrol-dev/patrol/imagehash"
	"github.com/patrol-dev/patrol/listing"
)

// Product is one of a brand's products with its list price, the yardstick
// for "price far below MSRP".
type Product struct {
	Name     string
	MSRP     float64
	Currency string
}

// RefImage is the hashes of one of the brand's reference photos; cmd
// computes them with imagehash.
type RefImage struct {
	Name string
	Hash listing.Image
}

// Brand is a protected brand and the rules a listing is judged by.
type Brand struct {
	Name string
	// Terms are the spellings to match ("acme", "acme trailblazer"); the
	// brand's name is used when there are none.
	Terms    []string
	Products []Product
	// MinPriceRatio: a price below MinPriceRatio × MSRP is a signal
	// (DefaultMinPriceRatio when 0).
	MinPriceRatio float64
	// Threshold: a listing is flagged when its score reaches it
	// (DefaultThreshold when 0).
	Threshold         float64
	RefImages         []RefImage
	AuthorizedSellers []string
	// NegativeTerms and SuspiciousTerms are added to the built-in lists.
	NegativeTerms, SuspiciousTerms []string
}

// ImageComparer decides whether two hashed photos are the same picture; the
// default is imagehash.Compare. Tests and callers with their own hashes can
// supply another.
type ImageComparer func(a, b listing.Image) (dist int, method string, similar bool)

// Options configure a Matcher.
type Options struct {
	Brands []Brand
	// Weights override DefaultWeights when non-nil.
	Weights *Weights
	// CompareImages overrides imagehash.Compare when non-nil.
	CompareImages ImageComparer
}

// History answers what the store knows beyond the listing itself; nil means
// "nothing known".
type History interface {
	// ConfirmedBySeller counts the seller's earlier confirmed
	// infringements (a repeat infringer).
	ConfirmedBySeller(marketplace, seller string) int
	// FlaggedWithPhoto returns the IDs of other sellers' flagged listings
	// sharing this photo.
	FlaggedWithPhoto(img listing.Image, exceptSeller string) []string
}

// ErrNoBrands is returned by New when there is nothing to match against.
var ErrNoBrands = errors.New("no brands")

// Matcher judges listings against brands. It is immutable after New and
// safe for concurrent use.
type Matcher struct {
	w       Weights
	brands  []brand
	terms   termAutomaton // every brand's terms
	typoMay typoFilter
	phrases phraseTable
	accFor  map[string]bool
	neg     map[string]bool
	filler  map[string]bool
	compare ImageComparer
	nprod   int
	pool    sync.Pool
	// words indexes the phrases' first words and the products' words.
	words wordIndex
}

// brand is a Brand compiled for matching.
type brand struct {
	Brand
	threshold, ratio float64
	terms            []term
	products         []product
	authorized       []string // folded names
	// authorizedKeys are the folded names' words concatenated, for
	// mayBeAuthorized.
	authorizedKeys []string
}

// term is one brand term compiled: the forms it is searched in.
type term struct {
	raw    string
	key    []byte // skeleton of the folded words, concatenated
	folded []byte // folded words, concatenated
	cuts   []int  // offsets in key where the term's words end, but the last
	words  int
	mask   uint32
	typo   int        // largest edit distance a typo may have: 0, 1 or 2
	own    fold.Flags // disguise flags of the term itself (Nestlé)
}

type product struct {
	Product
	words [][]byte // folded words of the name that are not a brand term
	index int      // into scratch.prod
}

// New compiles the brands for matching.
func New(opts Options) (*Matcher, error) {
	if len(opts.Brands) == 0 {
		return nil, ErrNoBrands
	}
	m := &Matcher{
		w:       DefaultWeights(),
		compare: opts.CompareImages,
		accFor:  set(accessoryBefore),
		filler:  set(negationFiller),
		neg:     set(negations),
	}
	if opts.Weights != nil {
		m.w = *opts.Weights
	}
	if m.compare == nil {
		m.compare = compareHashes
	}
	m.phrases.first = map[string][]int32{}
	prodWords := map[string][]prodBit{}
	for _, p := range builtinSuspicious {
		m.phrases.add(p, -1, false)
	}
	for _, p := range builtinNegative {
		m.phrases.add(p, -1, true)
	}
	for bi, b := range opts.Brands {
		cb, err := m.compile(b, prodWords)
		if err != nil {
			return nil, fmt.Errorf("brand %q: %w", b.Name, err)
		}
		for _, p := range b.SuspiciousTerms {
			m.phrases.add(p, bi, false)
		}
		for _, p := range b.NegativeTerms {
			m.phrases.add(p, bi, true)
		}
		m.brands = append(m.brands, cb)
	}
	m.terms = newTermAutomaton(m.brands)
	m.words = newWordIndex(m.phrases.first, prodWords)
	for bi := range m.brands {
		for ti := range m.brands[bi].terms {
			m.typoMay.add(&m.brands[bi].terms[ti])
		}
	}
	m.pool.New = func() any { return m.newScratch() }
	return m, nil
}

func set(words []string) map[string]bool {
	s := make(map[string]bool, len(words))
	for _, w := range words {
		s[fold.Fold(w)] = true
	}
	return s
}

func (m *Matcher) compile(b Brand, prodWords map[string][]prodBit) (brand, error) {
	if strings.TrimSpace(b.Name) == "" {
		return brand{}, errors.New("empty name")
	}
	cb := brand{Brand: b, threshold: b.Threshold, ratio: b.MinPriceRatio}
	if cb.threshold <= 0 {
		cb.threshold = DefaultThreshold
	}
	if cb.ratio <= 0 {
		cb.ratio = DefaultMinPriceRatio
	}
	raws := b.Terms
	if len(raws) == 0 {
		raws = []string{b.Name}
	}
	var f fold.Folder
	seen := map[string]bool{}
	for _, raw := range raws {
		f.Fold(raw)
		if len(f.Tokens()) == 0 {
			return brand{}, fmt.Errorf("term %q has no letters", raw)
		}
		t := term{raw: raw, folded: append([]byte(nil), f.Folded()...)}
		t.key = skeleton(nil, t.folded)
		if seen[string(t.key)] {
			continue
		}
		seen[string(t.key)] = true
		for i, tk := range f.Tokens() {
			t.own |= tk.Flags
			if i+1 < len(f.Tokens()) {
				t.cuts = append(t.cuts, tk.End)
			}
		}
		t.words = len(f.Tokens())
		t.mask = letterMask(t.folded)
		switch n := len(t.key); {
		case t.words > 1 || !isWord(t.folded):
			t.typo = 0
		case n >= 9:
			t.typo = 2
		case n >= 5:
			t.typo = 1
		}
		cb.terms = append(cb.terms, t)
	}
	for _, p := range b.Products {
		if p.MSRP <= 0 {
			continue
		}
		cp := product{Product: p, index: m.nprod}
		m.nprod++
		f.Fold(p.Name)
	words:
		for _, tk := range f.Tokens() {
			w := f.Folded()[tk.Start:tk.End]
			for _, t := range cb.terms {
				if t.words == 1 && string(skeleton(nil, w)) == string(t.key) {
					continue words
				}
			}
			cp.words = append(cp.words, append([]byte(nil), w...))
		}
		if len(cp.words) > 32 {
			cp.words = cp.words[:32]
		}
		for wi, w := range cp.words {
			prodWords[string(w)] = append(prodWords[string(w)], prodBit{product: cp.index, bit: 1 << wi})
		}
		cb.products = append(cb.products, cp)
	}
	for _, s := range b.AuthorizedSellers {
		if n := fold.FoldKeepDigits(s); n != "" {
			cb.authorized = append(cb.authorized, n)
			cb.authorizedKeys = append(cb.authorizedKeys, strings.ReplaceAll(n, " ", ""))
		}
	}
	return cb, nil
}

func isWord(w []byte) bool {
	for _, c := range w {
		if !isLetter(c) && !(c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// skeleton appends w with the letters that stand for each other merged
// (l and i, after leetspeak has mapped 1, ! and | to them), so that
// "NlKE" and "N1KE" both read as "nike".
func skeleton(dst, w []byte) []byte {
	for _, c := range w {
		if c == 'l' {
			c = 'i'
		}
		dst = append(dst, c)
	}
	return dst
}

func compareHashes(a, b listing.Image) (int, string, bool) {
	r := imagehash.Compare(imagehash.FromListing(a), imagehash.FromListing(b))
	return r.Distance, r.Method, r.Similar
}
