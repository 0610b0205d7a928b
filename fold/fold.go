// Package fold normalises marketplace text so that a brand's name is found
// however a listing disguises it. Counterfeit sellers write the brand with
// Cyrillic or Greek look-alike letters, fullwidth forms, accents, leetspeak
// digits, separators between the letters or invisible characters inside
// the word, to slip past exact-match filters while still being read as the
// brand by a shopper. Fold undoes all of these and yields lower-case,
// mostly ASCII words separated by single spaces; the matcher and the search
// index share it so that what one finds the other can show.
//
// A Folder does the same work into reusable buffers, keeps both the plain
// fold (digits kept) and the leetspeak fold, and records per token which
// disguises were undone, so the matcher can say how a brand was hidden
// without allocating.
package fold

import (
	"slices"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Flags record which disguises were undone in a token. The matcher reports
// them as the family of a disguised brand spelling.
type Flags uint8

// The disguise families a Folder recognises.
const (
	// Homoglyph: a letter of another script (Cyrillic, Greek, Armenian) or
	// an IPA/small-capital letter drawn like a Latin one.
	Homoglyph Flags = 1 << iota
	// Compat: a fullwidth, mathematical, circled or ligature form that NFKC
	// maps to plain letters.
	Compat
	// Diacritic: an accent, stroke or ligature was removed (é, ø, ß).
	Diacritic
	// Leet: digits or symbols stood for letters (n1ke, $ony, l@mora).
	Leet
	// Separated: single letters joined across separators ("N.I.K.E",
	// "N I K E") or invisible characters removed from inside a word.
	Separated
)

// Token is one folded word.
type Token struct {
	// Start and End delimit the word in Plain and Folded, which hold the
	// same number of bytes at the same offsets.
	Start, End int
	// Src and SrcEnd delimit the word in the text given to Fold, so a
	// caller can quote what the listing actually said.
	Src, SrcEnd int
	Flags       Flags
}

// Folder folds text into buffers it reuses, so that folding in a hot loop
// does not allocate once the buffers have grown. The zero value is ready to
// use; a Folder is not safe for concurrent use.
type Folder struct {
	src     string
	plain   []byte
	leeted  []byte // the leetspeak fold, when some word needed one
	folded  []byte // plain or leeted
	toks    []Token
	singles int // tokens of one source rune, candidates for collapse

	// The token being built, field by field: writing a byte of flags
	// into a Token and then copying it whole stalls the CPU.
	in                          bool
	curStart, curSrc, curSrcEnd int
	curFlags                    Flags
	runes                       int  // word runes in the current token
	unmapped                    bool // a non-Latin letter kept as is
	foreign                     bool // the folded text holds a non-ASCII byte
	noHomo                      bool // homoglyph mapping disabled (re-folding a foreign word)
}

// Fold returns s folded: NFKC/NFKD compatibility forms, case folding,
// diacritics removed, Cyrillic/Greek/fullwidth look-alikes mapped to Latin,
// leetspeak inside words mapped to letters, letters spread by separators
// ("N.I.K.E", "N I K E", "N-i-k-e") and invisible characters joined, and
// every other run of punctuation or space reduced to one space.
func Fold(s string) string {
	var f Folder
	f.Fold(s)
	return string(f.AppendWords(nil, true))
}

// FoldKeepDigits is Fold without the leetspeak step: digits stay digits,
// which is what a search index wants for model numbers and sizes.
func FoldKeepDigits(s string) string {
	var f Folder
	f.Fold(s)
	return string(f.AppendWords(nil, false))
}

// Tokens returns the words of Fold(s).
func Tokens(s string) []string {
	var f Folder
	f.Fold(s)
	out := make([]string, len(f.toks))
	for i, t := range f.toks {
		out[i] = string(f.folded[t.Start:t.End])
	}
	return out
}

// Plain returns the folded words of the last Fold, concatenated without
// separators, with digits kept. Tokens index into it.
func (f *Folder) Plain() []byte { return f.plain }

// Folded returns the same words as Plain after leetspeak folding.
func (f *Folder) Folded() []byte { return f.folded }

// Tokens returns the words of the last Fold.
func (f *Folder) Tokens() []Token { return f.toks }

// ASCII reports whether the folded words of the last Fold are all ASCII,
// so a caller can skip work meant for other scripts.
func (f *Folder) ASCII() bool { return !f.foreign }

// Source returns the text given to the last Fold.
func (f *Folder) Source() string { return f.src }

// AppendWords appends the folded words, separated by single spaces, to dst:
// the leetspeak fold when leet is true, the plain fold otherwise.
func (f *Folder) AppendWords(dst []byte, leet bool) []byte {
	buf := f.plain
	if leet {
		buf = f.folded
	}
	for i, t := range f.toks {
		if i > 0 {
			dst = append(dst, ' ')
		}
		for _, c := range buf[t.Start:t.End] {
			if c < utf8.RuneSelf && asciiClass[c] == cSym {
				c = leetMap[c] // a symbol kept inside a word: l@mora
			}
			dst = append(dst, c)
		}
	}
	return dst
}

// Fold folds s into f, replacing what f held.
func (f *Folder) Fold(s string) {
	f.src = s
	f.plain = f.plain[:0]
	if cap(f.plain) < len(s) {
		f.plain = make([]byte, 0, len(s)+len(s)/2)
	}
	f.toks = f.toks[:0]
	f.in = false
	f.foreign = false
	f.singles = 0
	f.scan(s, 0)
	f.closeToken(len(s))
	if f.singles >= 3 {
		f.collapse()
	}
	f.leet()
}

// class of an ASCII byte.
const (
	cSep = iota
	cLetter
	cDigit
	cSym // may stand for a letter inside a word: @ $ ! |
)

var asciiClass = func() (t [128]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = cLetter
		t[c-'a'+'A'] = cLetter
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = cDigit
	}
	t['@'], t['$'], t['!'], t['|'] = cSym, cSym, cSym, cSym
	return t
}()

// wordByte maps an ASCII letter to its lower case and a digit to itself:
// the bytes the fast path of scan copies; 0 for every other byte.
var wordByte = func() (t [256]byte) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = byte(c), byte(c)
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c)
	}
	return t
}()

// leetMap maps a digit or symbol to the letter it stands for, 0 when none.
var leetMap = [128]byte{
	'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't',
	'@': 'a', '$': 's', '!': 'i', '|': 'l',
}

func (f *Folder) scan(s string, off int) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch asciiClass[c] {
			case cLetter:
				// Fast path: a run of ASCII letters and digits.
				f.open(off + i)
				j := i
				var seen Flags
				p := f.plain
				if cap(p)-len(p) < len(s)-i {
					p = slices.Grow(p, len(s)-i)
				}
				n := len(p)
				p = p[:n+len(s)-i]
				for j < len(s) {
					c := wordByte[s[j]]
					if c == 0 {
						break
					}
					if c <= '9' {
						seen = maybeLeet
					}
					p[n] = c
					n++
					j++
				}
				f.plain = p[:n]
				f.curFlags |= letter | seen
				f.runes += j - i
				f.curSrcEnd = off + j
				i = j
				continue
			case cSep:
				if f.in {
					f.closeToken(off + i)
				}
				i++
				continue
			}
			f.ascii(c, s, i+1, off+i, off+i+1)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		f.nonASCII(r, s, i, size, off)
		i += size
	}
}

// ascii handles one ASCII character found at src..srcEnd; next indexes the
// character after it in s, for the look-ahead that decides whether a
// symbol is part of a word.
func (f *Folder) ascii(c byte, s string, next, src, srcEnd int) {
	switch asciiClass[c] {
	case cLetter:
		f.open(src)
		f.plain = append(f.plain, c|0x20)
		f.curFlags |= letter
		f.runes++
	case cDigit:
		f.open(src)
		f.plain = append(f.plain, c)
		f.curFlags |= maybeLeet
		f.runes++
	case cSym:
		if !wordAhead(s, next) || ((c == '!' || c == '|') && !f.in) {
			f.closeToken(src)
			return
		}
		f.open(src)
		f.plain = append(f.plain, c)
		f.curFlags |= maybeLeet
		f.runes++
	default:
		f.closeToken(src)
		return
	}
	f.curSrcEnd = srcEnd
}

// wordAhead reports whether s[i:] starts with a letter or digit.
func wordAhead(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	if c := s[i]; c < utf8.RuneSelf {
		k := asciiClass[c]
		return k == cLetter || k == cDigit
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	if r >= 0xFF01 && r <= 0xFF5E {
		return wordAhead(string(rune(r-0xFEE0)), 0)
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func (f *Folder) nonASCII(r rune, s string, i, size, off int) {
	src, srcEnd := off+i, off+i+size
	switch {
	case r >= 0xFF01 && r <= 0xFF5E: // fullwidth ASCII
		c := byte(r - 0xFEE0)
		if k := asciiClass[c]; k == cLetter || k == cDigit {
			f.open(src)
			f.curFlags |= Compat
		}
		f.ascii(c, s, i+size, src, srcEnd)
		return
	case unicode.Is(unicode.Cf, r): // zero-width and other invisible characters
		if f.in {
			f.curFlags |= Separated
		}
		return
	case r == '™' || r == '℠' || r == '®' || r == '©':
		f.closeToken(src) // marks, not letters: "Lumora™" is lumora
		return
	}
	p := norm.NFKD.PropertiesString(s[i : i+size])
	d := p.Decomposition()
	if d == nil {
		f.base(r, src, srcEnd)
		return
	}
	canonical := norm.NFD.PropertiesString(s[i:i+size]).Decomposition() != nil
	for j := 0; j < len(d); {
		dr, n := utf8.DecodeRune(d[j:])
		j += n
		switch {
		case unicode.In(dr, unicode.Mn, unicode.Me):
			if f.in {
				f.curFlags |= Diacritic
			}
		case dr < utf8.RuneSelf:
			k := asciiClass[dr]
			if k == cLetter || k == cDigit {
				f.open(src)
				if !canonical {
					f.curFlags |= Compat
				}
				f.ascii(byte(dr), "", 0, src, srcEnd)
			} else {
				f.closeToken(src)
			}
		default:
			f.base(dr, src, srcEnd)
		}
	}
}

// base handles a non-ASCII rune that has no further decomposition.
func (f *Folder) base(r rune, src, srcEnd int) {
	if !f.noHomo {
		if latin, homo := lookalike(r); latin != "" {
			f.open(src)
			if homo {
				f.curFlags |= Homoglyph
			} else {
				f.curFlags |= Diacritic
			}
			f.plain = append(f.plain, latin...)
			f.curFlags |= letter
			f.runes++
			f.curSrcEnd = srcEnd
			return
		}
	}
	switch {
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		f.open(src)
		lr := unicode.ToLower(r)
		if lr < utf8.RuneSelf {
			f.mark(byte(lr))
		} else {
			f.curFlags |= letter
		}
		f.plain = utf8.AppendRune(f.plain, lr)
		f.foreign = true
		f.runes++
		f.unmapped = f.unmapped || unicode.IsLetter(r)
		f.curSrcEnd = srcEnd
	case unicode.In(r, unicode.Mn, unicode.Me):
		if f.in {
			f.curFlags |= Diacritic
		}
	default:
		f.closeToken(src)
	}
}

// mark records in the current token's internal flags what the ASCII byte
// c appended to it may need: the letter check and the leetspeak fold.
func (f *Folder) mark(c byte) {
	switch {
	case c >= 'a' && c <= 'z':
		f.curFlags |= letter
	case leetMap[c] != 0 || c >= '0' && c <= '9':
		f.curFlags |= maybeLeet
	}
}

func (f *Folder) open(src int) {
	if f.in {
		return
	}
	f.in = true
	f.curStart, f.curSrc, f.curSrcEnd, f.curFlags = len(f.plain), src, src, 0
	f.runes = 0
	f.unmapped = false
}

// closeToken ends the current token, if any.
func (f *Folder) closeToken(_ int) {
	if !f.in {
		return
	}
	f.in = false
	if f.curFlags&Homoglyph != 0 && f.unmapped && !f.noHomo {
		// A word of another script that merely contains letters shaped
		// like Latin ones (кроссовки) is that script's word, not a
		// disguise: fold it again without the look-alike table.
		start, src, srcEnd, flags := f.curStart, f.curSrc, f.curSrcEnd, f.curFlags
		f.plain = f.plain[:start]
		f.noHomo = true
		f.scan(f.src[src:srcEnd], src)
		f.noHomo = false
		if f.in {
			f.in = false
		} else {
			f.curStart, f.curSrc, f.curSrcEnd, f.curFlags = start, src, srcEnd, flags
		}
	}
	// The token is written field by field from here: a Token built
	// on the stack with narrower writes and then copied whole stalls
	// the CPU's store forwarding.
	start, flags := f.curStart, f.curFlags
	// Symbols only stand for letters next to letters: "$50" is 50.
	if flags&letter == 0 {
		word := f.plain[start:]
		n := start
		for _, c := range word {
			if c >= utf8.RuneSelf || asciiClass[c] != cSym {
				f.plain[n] = c
				n++
			}
		}
		f.plain = f.plain[:n]
	}
	end := len(f.plain)
	if end == start {
		return
	}
	if f.runes == 1 {
		flags |= single
		f.singles++
	}
	n := len(f.toks)
	if n == cap(f.toks) {
		f.toks = slices.Grow(f.toks, 1)
	}
	f.toks = f.toks[:n+1]
	t := &f.toks[n]
	t.Start, t.End, t.Src, t.SrcEnd, t.Flags = start, end, f.curSrc, f.curSrcEnd, flags
}

// Internal flags, set while folding and cleared by leet before a caller
// sees the tokens.
const (
	// single marks a token of one source rune, for collapse.
	single Flags = 1 << 7
	// maybeLeet marks a token holding an ASCII digit or a symbol that
	// may stand for a letter: only such words need leetWord.
	maybeLeet Flags = 1 << 6
	// letter marks a token holding a letter (ASCII or not).
	letter Flags = 1 << 5

	internal = single | maybeLeet | letter
)

// collapse joins runs of three or more one-letter words spread by the same
// separator ("N.I.K.E", "N I K E", "N-i-k-e").
func (f *Folder) collapse() {
	toks := f.toks
	out := toks[:0]
	for i := 0; i < len(toks); {
		j := i + 1
		if toks[i].Flags&single != 0 {
			for j < len(toks) && toks[j].Flags&single != 0 && sameGap(f.src, toks, i, j) {
				j++
			}
		}
		t := toks[i]
		if j-i >= 3 {
			letter := false
			for k := i; k < j; k++ {
				c := f.plain[toks[k].Start]
				letter = letter || c >= 'a' && c <= 'z' || c >= utf8.RuneSelf
				t.Flags |= toks[k].Flags
			}
			if letter {
				t.End, t.SrcEnd = toks[j-1].End, toks[j-1].SrcEnd
				t.Flags |= Separated
			} else {
				j = i + 1
			}
		} else {
			j = i + 1
		}
		out = append(out, t)
		i = j
	}
	f.toks = out
}

// sameGap reports whether the separator before toks[j] is the same short
// run as the one after toks[i].
func sameGap(src string, toks []Token, i, j int) bool {
	if toks[i].SrcEnd >= toks[i+1].Src || toks[j-1].SrcEnd >= toks[j].Src {
		return false // two words from one character (¼ is 1⁄4)
	}
	g0 := src[toks[i].SrcEnd:toks[i+1].Src]
	g := src[toks[j-1].SrcEnd:toks[j].Src]
	return g == g0 && utf8.RuneCountInString(g) <= 2
}

// leet builds the leetspeak fold: in a word where digits or symbols sit
// between letters (n1ke, lum0ra, l@mora), or a single one leads three or
// more letters (1umora, $ony), they are mapped to the letters they stand
// for. Model numbers and sizes (x100, iphone13, 4k, 128gb) stay as they are.
//
// It also clears the internal flags. When no word needs the leetspeak fold,
// Folded shares Plain's bytes instead of copying them.
func (f *Folder) leet() {
	f.folded = f.plain
	copied := false
	for k := range f.toks {
		t := &f.toks[k]
		fl := t.Flags
		t.Flags = fl &^ internal
		if fl&maybeLeet == 0 || !leetWord(f.plain[t.Start:t.End]) {
			continue
		}
		if !copied {
			f.leeted = append(f.leeted[:0], f.plain...)
			f.folded, copied = f.leeted, true
		}
		w := f.folded[t.Start:t.End]
		for i, c := range w {
			if c < utf8.RuneSelf {
				if l := leetMap[c]; l != 0 {
					w[i] = l
					t.Flags |= Leet
				}
			}
		}
	}
}

func leetWord(w []byte) bool {
	sym, inner := false, false
	seenLetter, pendingDigit := false, false
	letters, lead := 0, 0
	for i, c := range w {
		switch {
		case c >= 'a' && c <= 'z':
			if pendingDigit && seenLetter {
				inner = true
			}
			pendingDigit = false
			seenLetter = true
			letters++
		case c < utf8.RuneSelf && leetMap[c] != 0:
			if asciiClass[c] == cSym {
				sym = true
			}
			if !seenLetter && i == lead {
				lead++
			}
			pendingDigit = true
		case c >= '0' && c <= '9':
			// a digit that stands for no letter: a model number
			return false
		default:
			pendingDigit = false
		}
	}
	if letters == 0 {
		return false
	}
	return sym || inner || (lead == 1 && letters >= 3 && !pendingDigit)
}
