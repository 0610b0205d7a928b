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
	occ    []termOcc // brand terms found in the field being scanned
	hits   []brandHits
	phr    []phraseHit
	prod   []uint32 // per product: bit set of its words found in the title
	seller []byte
	detail []byte // a signal's detail being written
	images bool   // some brand's reference photo matched
	// sellerFolded: seller holds the folded seller name.
	sellerFolded bool
	// sellerKey holds the seller's letters and digits, lower-cased, when
	// sellerKeyed is 1; 2 means the name needs folding (see
	// mayBeAuthorized); 0, not looked at yet.
	sellerKey   []byte
	sellerKeyed int8
}

func (m *Matcher) newScratch() *scratch {
	return &scratch{
		occ:  make([]termOcc, 0, 16),
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
	sc.sellerKeyed = 0
}

// scanText folds one field of a listing and records what it shows. When
// the field is the last one scanned and no brand is in play after it, the
// phrases do not matter: nothing will be judged.
func (m *Matcher) scanText(sc *scratch, text string, field int8, last bool) {
	if text == "" {
		return
	}
	sc.f.Fold(text)
	m.findTerms(sc, field)
	m.findTypos(sc, field)
	if last && !sc.anyInPlay() {
		return
	}
	// The price is only judged against a product named in the title,
	// and only when some brand is in play.
	m.findWords(sc, field, field == 0 && sc.anyInPlay())
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

// findTerms finds every brand term in the folded text, exact or disguised,
// with one pass of the term automaton over it.
func (m *Matcher) findTerms(sc *scratch, field int8) {
	toks := sc.f.Tokens()
	sc.occ = m.terms.find(sc.f.Folded(), sc.occ)
	for _, o := range sc.occ {
		ref := &m.terms.out[o.ref]
		b := &m.brands[ref.brand]
		hb := &sc.hits[ref.brand]
		ti := int(ref.term)
		t := &b.terms[ti]
		p := int(o.p)
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
		if n := len(w); n < 4 || n > 32 || m.typoMay.lens(w[0], w[n-1])&(1<<n) == 0 || !isWord(w) {
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

// typoFilter spares findTypos the comparison of a word with every term
// when no term can be within reach: one edit (or a swap of neighbours) of
// a term of five or more bytes keeps its first or its last byte and changes
// its length by at most one, so a word is compared only when its length
// falls in the band of a term that shares its first or last byte. Terms
// that allow two edits match on the length band alone.
type typoFilter struct {
	first, last [256]uint64 // bit n: a word of n bytes may be a typo
	any         uint64
}

func (f *typoFilter) add(t *term) {
	var band uint64
	for n := len(t.folded) - t.typo; n <= len(t.folded)+t.typo; n++ {
		if n >= 0 && n < 64 {
			band |= 1 << n
		}
	}
	switch t.typo {
	case 0:
	case 1:
		f.first[t.folded[0]] |= band
		f.last[t.folded[len(t.folded)-1]] |= band
	default:
		f.any |= band
	}
}

// lens returns the word lengths that may be typos for a word starting
// with c0 and ending with c1.
func (f *typoFilter) lens(c0, c1 byte) uint64 { return f.first[c0] | f.last[c1] | f.any }

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

// prodBit is one word of one product's name.
type prodBit struct {
	product int
	bit     uint32
}
