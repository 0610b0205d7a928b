package matcher

import (
	"bytes"
	"unicode/utf8"

	"github.com/patrol-dev/patrol/fold"
)

// phrase is a suspicious or negative term compiled to folded words.
type phrase struct {
	text     string
	words    [][]byte
	sub      []byte // for scripts written without spaces: matched inside words
	brand    int    // index of the brand it belongs to; -1 for every brand
	negative bool
	unless   [][]byte // a next word that makes it innocent ("aaa batteries")
}

// phraseTable finds phrases by their first word.
type phraseTable struct {
	list  []phrase
	first map[string][]int32
	subs  []int32
}

func (t *phraseTable) add(text string, brand int, negative bool) {
	var f fold.Folder
	f.Fold(text)
	if len(f.Tokens()) == 0 {
		return
	}
	p := phrase{text: text, brand: brand, negative: negative}
	for _, tk := range f.Tokens() {
		p.words = append(p.words, append([]byte(nil), f.Folded()[tk.Start:tk.End]...))
	}
	for _, u := range notSuspiciousBefore[string(p.words[0])] {
		if len(p.words) == 1 && !negative {
			p.unless = append(p.unless, []byte(u))
		}
	}
	key := string(bytes.Join(p.words, []byte(" ")))
	for _, q := range t.list {
		if q.negative == negative && (q.brand == -1 || q.brand == brand) && string(bytes.Join(q.words, []byte(" "))) == key {
			return // "réplica" folds to "replica", already there
		}
	}
	idx := int32(len(t.list))
	if len(p.words) == 1 && !asciiOnly(p.words[0]) && !hasSpaceScript(p.words[0]) {
		p.sub = p.words[0]
		t.subs = append(t.subs, idx)
	} else {
		k := string(p.words[0])
		t.first[k] = append(t.first[k], idx)
	}
	t.list = append(t.list, p)
}

func asciiOnly(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// hasSpaceScript reports whether w is in a script that separates words by
// spaces (Latin, Cyrillic, Greek…), as opposed to Chinese, Japanese or Thai,
// where a phrase must be looked for inside longer runs of text.
func hasSpaceScript(w []byte) bool {
	for len(w) > 0 {
		r, n := utf8.DecodeRune(w)
		w = w[n:]
		if r < 0x2E80 {
			return true
		}
	}
	return false
}

// phraseHit is one phrase found in a listing's text.
type phraseHit struct {
	phrase  int32
	field   int8
	src     [2]int
	negated bool
}

// findWords records the phrases in the folded text held by sc.f and, when
// products is true, which words of each product's name it holds, with one
// lookup of each word in the word index.
func (m *Matcher) findWords(sc *scratch, field int8, products bool) {
	f := &sc.f
	toks := f.Tokens()
	buf := f.Folded()
	for k, tk := range toks {
		w := buf[tk.Start:tk.End]
		slot := m.words.lookup(w)
		if slot == nil {
			continue
		}
		if products {
			for _, pb := range slot.prods {
				sc.prod[pb.product] |= pb.bit
			}
		}
	cand:
		for _, pi := range slot.phrases {
			p := &m.phrases.list[pi]
			if k+len(p.words) > len(toks) {
				continue
			}
			for j := 1; j < len(p.words); j++ {
				t := toks[k+j]
				if !bytes.Equal(buf[t.Start:t.End], p.words[j]) {
					continue cand
				}
			}
			last := toks[k+len(p.words)-1]
			if len(p.unless) > 0 && k+len(p.words) < len(toks) {
				nt := toks[k+len(p.words)]
				for _, u := range p.unless {
					if bytes.Equal(buf[nt.Start:nt.End], u) {
						continue cand
					}
				}
			}
			sc.addPhrase(phraseHit{phrase: pi, field: field, src: [2]int{tk.Src, last.SrcEnd}, negated: !p.negative && m.negatedAt(toks, buf, k)})
		}
	}
	if len(m.phrases.subs) > 0 && !f.ASCII() {
		for _, pi := range m.phrases.subs {
			p := &m.phrases.list[pi]
			if i := bytes.Index(buf, p.sub); i >= 0 {
				sc.addPhrase(phraseHit{phrase: pi, field: field, src: [2]int{-1, -1}})
			}
		}
	}
}

// negatedAt reports whether the phrase starting at word k follows a
// negation ("not a replica", "no fakes").
func (m *Matcher) negatedAt(toks []fold.Token, buf []byte, k int) bool {
	for j, skipped := k-1, 0; j >= 0 && skipped <= 1; j-- {
		w := buf[toks[j].Start:toks[j].End]
		if m.neg[string(w)] {
			return true
		}
		if !m.filler[string(w)] {
			return false
		}
		skipped++
	}
	return false
}

func (sc *scratch) addPhrase(h phraseHit) {
	for i := range sc.phr {
		if sc.phr[i].phrase == h.phrase {
			if sc.phr[i].negated && !h.negated {
				sc.phr[i] = h
			}
			return
		}
	}
	sc.phr = append(sc.phr, h)
}
