package matcher

import (
	"strings"

	"github.com/patrol-dev/patrol/fold"
)

// leetFor are the leetspeak digits sellers substitute, most common first.
var leetFor = map[byte]byte{'o': '0', 'i': '1', 'e': '3', 'a': '4', 's': '5', 't': '7', 'l': '1'}

// cyrillicFor are the Cyrillic look-alikes of Latin letters.
var cyrillicFor = map[byte]string{
	'a': "а", 'c': "с", 'e': "е", 'o': "о", 'p': "р", 'x': "х", 'y': "у", 'i': "і", 'j': "ј", 's': "ѕ",
}

// Variants returns up to n disguised spellings of a brand's terms in the
// order counterfeiters use them most (leetspeak, separators and look-alike
// letters first, then dnstwist's typo families: omission, repetition,
// transposition, vowel swap, keyboard replacement and insertion), so that
// a sweep can add them as search queries. Families are interleaved, so a
// small n still covers several. It returns nil for an unknown brand.
func (m *Matcher) Variants(brandName string, n int) []string {
	if n <= 0 {
		return nil
	}
	var b *brand
	for i := range m.brands {
		if strings.EqualFold(m.brands[i].Name, brandName) {
			b = &m.brands[i]
		}
	}
	if b == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, t := range b.terms {
		seen[fold.FoldKeepDigits(t.raw)] = true
	}
	var families [][]string
	for _, t := range b.terms {
		w := fold.FoldKeepDigits(t.raw)
		families = append(families, permutations(w)...)
	}
	var out []string
	for i := 0; len(out) < n; i++ {
		added := false
		for _, fam := range families {
			if i >= len(fam) {
				continue
			}
			added = true
			v := fam[i]
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
				if len(out) == n {
					break
				}
			}
		}
		if !added {
			break
		}
	}
	return out
}

// permutations returns w's variants by family, most used family first.
func permutations(w string) [][]string {
	var leet, sep, homo, omit, rep, trans, vowel, repl, ins []string
	// Leetspeak: all substitutable letters, then each one alone.
	all := []byte(w)
	changed := false
	for i, c := range all {
		if d, ok := leetFor[c]; ok {
			all[i], changed = d, true
		}
	}
	if changed {
		leet = append(leet, string(all))
	}
	for i := 0; i < len(w); i++ {
		if d, ok := leetFor[w[i]]; ok {
			leet = append(leet, w[:i]+string(d)+w[i+1:])
		}
	}
	if !strings.Contains(w, " ") && len(w) >= 3 {
		sep = append(sep, spread(w, "."), spread(w, " "), spread(w, "-"), w[:len(w)/2]+" "+w[len(w)/2:])
	}
	for i := 0; i < len(w); i++ {
		if c, ok := cyrillicFor[w[i]]; ok {
			homo = append(homo, w[:i]+c+w[i+1:])
		}
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !isLetter(c) {
			continue
		}
		if len(w) > 3 {
			omit = append(omit, w[:i]+w[i+1:])
		}
		rep = append(rep, w[:i+1]+w[i:])
		if i+1 < len(w) && isLetter(w[i+1]) && w[i+1] != c {
			trans = append(trans, w[:i]+string(w[i+1])+string(c)+w[i+2:])
		}
		if isVowel(c) {
			for _, v := range "aeiou" {
				if byte(v) != c {
					vowel = append(vowel, w[:i]+string(v)+w[i+1:])
				}
			}
		}
		for k := byte('a'); k <= 'z'; k++ {
			if neighbours(c, k) {
				repl = append(repl, w[:i]+string(k)+w[i+1:])
				ins = append(ins, w[:i+1]+string(k)+w[i+1:])
			}
		}
	}
	return [][]string{leet, sep, homo, omit, rep, trans, vowel, repl, ins}
}

func spread(w, sep string) string {
	var b strings.Builder
	for i, r := range w {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}
