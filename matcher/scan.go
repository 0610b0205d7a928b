package matcher

import (
	"bytes"

	"github.com/patrol-dev/patrol/fold"
)

// Disguise families of a brand spelling, weakest first; a listing keeps the
// strongest it shows.
type family int8

const (
	famNone family = iota
	famExact
	famTypo
	famDiacritic
	famGlued
	famFullwidth
	famSeparator
	famLeet
	famHomoglyph
)

// familyNames are the names the brand_disguised detail uses.
var familyNames = [...]string{
	famNone: "", famExact: "exact", famTypo: "typo", famDiacritic: "diacritic",
	famGlued: "glued", famFullwidth: "fullwidth", famSeparator: "separator",
	famLeet: "leetspeak", famHomoglyph: "homoglyph",
}

func (m *Matcher) familyWeight(f family) float64 {
	switch f {
	case famExact:
		return m.w.BrandTerm
	case famTypo:
		return m.w.Typo
	case famDiacritic:
		return m.w.Diacritic
	case famGlued:
		return m.w.Glued
	case famFullwidth:
		return m.w.Fullwidth
	case famSeparator:
		return m.w.Separator
	case famLeet:
		return m.w.Leetspeak
	case famHomoglyph:
		return m.w.Homoglyph
	}
	return 0
}

// termHit is where a brand's name was found and how it was written.
type termHit struct {
	fam   family
	term  int16
	field int8
	src   [2]int // byte range in the field's source text
	op    string // the typo family, for famTypo
}

// brandHits is the text evidence about one brand in one listing.
type brandHits struct {
	exact     termHit
	disguised termHit
	accessory termHit // "for <brand>"
}

func (h *brandHits) inPlay() bool { return h.exact.fam != famNone || h.disguised.fam != famNone }

// scratch holds the per-listing buffers; Matcher pools them so that the hot
// path allocates nothing.
type scratch struct {
	f      fold.Folder
	skel   []byte
	hits   []brandHits
	phr    []phraseHit
	prod   []uint32 // per product: bit set of its words found in the title
	seller []byte
	images bool // some brand's reference photo matched
	// sellerFolded: seller holds the folded seller name.
	sellerFolded bool
}

func (m *Matcher) newScratch() *scratch {
	return &scratch{
		skel: make([]byte, 0, 256),
		hits: make([]brandHits, len(m.brands)),
		phr:  make([]phraseHit, 0, 8),
		prod: make([]uint32, m.nprod),
	}
}

func (sc *scratch) reset() {
	clear(sc.hits)
	clear(sc.prod)
	sc.phr = sc.phr[:0]
	sc.images = false
	sc.sellerFolded = false
}

// scanText folds one field of a listing and records what it shows.
func (m *Matcher) scanText(sc *scratch, text string, field int8) {
	if text == "" {
		return
	}
	sc.f.Fold(text)
	sc.skel = skeleton(sc.skel[:0], sc.f.Folded())
	m.findTerms(sc, field)
	m.findTypos(sc, field)
	m.findPhrases(sc, field)
	if field == 0 {
		m.findProducts(sc)
	}
}

// anyInPlay reports whether some brand has text or image evidence so far.
func (sc *scratch) anyInPlay() bool {
	if sc.images {
		return true
	}
	for i := range sc.hits {
		if sc.hits[i].inPlay() {
			return true
		}
	}
	return false
}

// findTerms finds every brand term in the folded text, exact or disguised.
func (m *Matcher) findTerms(sc *scratch, field int8) {
	toks := sc.f.Tokens()
	for bi := range m.brands {
		b := &m.brands[bi]
		hb := &sc.hits[bi]
		for ti := range b.terms {
			t := &b.terms[ti]
			for from := 0; from+len(t.key) <= len(sc.skel); {
				j := bytes.Index(sc.skel[from:], t.key)
				if j < 0 {
					break
				}
				p := from + j
				from = p + 1
				i0, i1 := tokenAt(toks, p), tokenAt(toks, p+len(t.key)-1)
				fam := m.classify(sc, t, p, i0, i1)
				if fam == famNone {
					continue
				}
				h := termHit{fam: fam, term: int16(ti), field: field, src: [2]int{toks[i0].Src, toks[i1].SrcEnd}}
				if fam == famExact {
					if hb.exact.fam == famNone {
						hb.exact = h
					}
				} else if fam > hb.disguised.fam {
					hb.disguised = h
				}
				if i0 > 0 && p == toks[i0].Start && hb.accessory.fam == famNone {
					pt := toks[i0-1]
					if m.accFor[string(sc.f.Folded()[pt.Start:pt.End])] {
						hb.accessory = termHit{fam: famExact, field: field, src: [2]int{pt.Src, toks[i1].SrcEnd}}
					}
				}
			}
		}
	}
}

// tokenAt returns the index of the token holding byte p of the folded
// text; tokens are contiguous there.
func tokenAt(toks []fold.Token, p int) int {
	lo, hi := 0, len(toks)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if toks[mid].Start <= p {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// classify decides how the occurrence of t at p, spanning tokens i0..i1,
// was written, or famNone when it is not the brand at all (a term inside an
// unrelated word, or straddling two words: "plum oral" is not "lumora").
func (m *Matcher) classify(sc *scratch, t *term, p, i0, i1 int) family {
	toks := sc.f.Tokens()
	e := p + len(t.key)
	whole := p == toks[i0].Start && e == toks[i1].End
	var flags fold.Flags
	for k := i0; k <= i1; k++ {
		flags |= toks[k].Flags
	}
	flags &^= t.own
	strong := func() family {
		switch {
		case flags&fold.Homoglyph != 0:
			return famHomoglyph
		case flags&fold.Leet != 0 && !bytes.Equal(sc.f.Plain()[p:e], sc.f.Folded()[p:e]):
			return famLeet
		case !bytes.Equal(sc.f.Folded()[p:e], t.folded):
			return famHomoglyph // l written for I, or the reverse
		case flags&fold.Separated != 0:
			return famSeparator
		case flags&fold.Compat != 0:
			return famFullwidth
		case flags&fold.Diacritic != 0:
			return famDiacritic
		}
		return famNone
	}
	if whole {
		fam := strong()
		if i1 > i0 {
			aligned := i1-i0+1 == t.words
			for k := i0; aligned && k < i1; k++ {
				aligned = toks[k].End-p == t.cuts[k-i0]
			}
			if !aligned {
				if len(t.key) < 4 {
					return famNone
				}
				return max(fam, famSeparator)
			}
		}
		if fam == famNone {
			return famExact
		}
		return fam
	}
	if i0 != i1 || t.words > 1 {
		return famNone
	}
	// The term glued inside a longer word: "lumorashoes", "newlumora".
	before, after := p-toks[i0].Start, toks[i0].End-e
	n := len(t.key)
	switch {
	case n >= 5 && (before == 0 && after >= 3 || after == 0 && before >= 3):
	case n >= 6 && before >= 2 && after >= 2:
	default:
		return famNone
	}
	return max(strong(), famGlued)
}

// findTypos finds words one or two edits away from a brand term, in the
// families counterfeiters use.
func (m *Matcher) findTypos(sc *scratch, field int8) {
	toks := sc.f.Tokens()
	buf := sc.f.Folded()
tokens:
	for _, tk := range toks {
		w := buf[tk.Start:tk.End]
		if len(w) < 4 || len(w) > 32 || !isWord(w) {
			continue
		}
		var mask uint32
		for bi := range m.brands {
			if sc.hits[bi].disguised.fam >= famTypo {
				continue
			}
			for ti := range m.brands[bi].terms {
				t := &m.brands[bi].terms[ti]
				d := len(w) - len(t.folded)
				if t.typo == 0 || d > t.typo || -d > t.typo {
					continue
				}
				if mask == 0 {
					mask = letterMask(w)
					if m.isTerm(w) {
						continue tokens
					}
				}
				if !maskClose(mask, t.mask, t.typo) {
					continue
				}
				op, ok := typo1(w, t.folded)
				if !ok && t.typo == 2 && osa(w, t.folded, 2) <= 2 {
					op, ok = typoDistance2, true
				}
				if !ok {
					continue
				}
				fam := famTypo
				if op == typoLookalike {
					fam = famLeet
				}
				h := &sc.hits[bi].disguised
				if fam > h.fam {
					*h = termHit{fam: fam, term: int16(ti), field: field, src: [2]int{tk.Src, tk.SrcEnd}, op: op}
				}
			}
		}
	}
}

// isTerm reports whether w is exactly some brand's term: then it is that
// brand, not a typo of another.
func (m *Matcher) isTerm(w []byte) bool {
	for bi := range m.brands {
		for ti := range m.brands[bi].terms {
			if bytes.Equal(w, m.brands[bi].terms[ti].folded) {
				return true
			}
		}
	}
	return false
}

// findProducts records which words of each product's name the title holds,
// when some brand is in play: the price is only judged then.
func (m *Matcher) findProducts(sc *scratch) {
	if !sc.anyInPlay() {
		return
	}
	buf := sc.f.Folded()
	for _, tk := range sc.f.Tokens() {
		w := buf[tk.Start:tk.End]
		if m.prodMay[w[0]]&mayBit(w) == 0 {
			continue
		}
		for _, pb := range m.prodWords[string(w)] {
			sc.prod[pb.product] |= pb.bit
		}
	}
}

// prodBit is one word of one product's name.
type prodBit struct {
	product int
	bit     uint32
}
