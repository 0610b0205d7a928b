package demomarket

import (
	"strings"
	"unicode"
)

// Disguises of a brand name. Each takes the variant number k so that the
// catalogue can use several different spellings of one family.

// homoglyph swaps Latin letters for Cyrillic or Greek look-alikes.
func homoglyph(name string, k int) (string, string) {
	lower := map[rune][]rune{
		'o': {'\u043e', '\u03bf'}, // Cyrillic о, Greek ο
		'a': {'\u0430'},           // Cyrillic а
		'e': {'\u0435'},           // Cyrillic е
		'i': {'\u0456'},           // Cyrillic і
		'k': {'\u03ba'},           // Greek κ
		'u': {'\u03c5'},           // Greek υ
	}
	upper := map[rune]rune{'N': '\u039d', 'O': '\u041e', 'K': '\u041a', 'M': '\u039c', 'A': '\u0391', 'L': 'L', 'U': 'U', 'D': 'D', 'V': 'V', 'I': '\u0406'}
	rs := []rune(name)
	switch k % 3 {
	case 0: // one letter
		for i, c := range rs {
			if alt, ok := lower[c]; ok {
				rs[i] = alt[0]
				return string(rs), "homoglyph:one-cyrillic"
			}
		}
	case 1: // two letters, Greek first
		n := 0
		for i := len(rs) - 1; i >= 0 && n < 2; i-- {
			if alt, ok := lower[rs[i]]; ok {
				rs[i] = alt[len(alt)-1]
				n++
			}
		}
		return string(rs), "homoglyph:mixed"
	default: // capitals, every confusable one
		up := []rune(strings.ToUpper(name))
		for i, c := range up {
			if alt, ok := upper[c]; ok {
				up[i] = alt
			}
		}
		return string(up), "homoglyph:capitals"
	}
	return string(rs), "homoglyph"
}

// leet swaps letters for digits.
func leet(name string, k int) (string, string) {
	subs := [][2]string{{"o", "0"}, {"i", "1"}, {"a", "4"}, {"e", "3"}, {"l", "1"}}
	s := name
	switch k % 3 {
	case 0:
		for _, p := range subs[:2] {
			s = strings.ReplaceAll(s, p[0], p[1])
		}
		return s, "leet:o0-i1"
	case 1:
		s = strings.ToUpper(name)
		for _, p := range subs {
			s = strings.ReplaceAll(s, strings.ToUpper(p[0]), p[1])
		}
		return s, "leet:capitals"
	default:
		r := []rune(strings.ToLower(name))
		for i := len(r) - 1; i >= 0; i-- {
			for _, p := range subs {
				if string(r[i]) == p[0] {
					return string(r[:i]) + p[1] + string(r[i+1:]), "leet:one-digit"
				}
			}
		}
		return string(r), "leet"
	}
}

// separate puts separators between the letters of name.
func separate(name string, k int) (string, string) {
	rs := []rune(name)
	join := func(sep string, upper bool) string {
		parts := make([]string, len(rs))
		for i, c := range rs {
			if upper {
				c = unicode.ToUpper(c)
			}
			parts[i] = string(c)
		}
		return strings.Join(parts, sep)
	}
	switch k % 4 {
	case 0:
		return join(".", true), "sep:dots"
	case 1:
		return join(" ", false), "sep:spaces"
	case 2:
		h := len(rs) / 2
		if len(rs) > 6 {
			h = 4
		}
		return string(rs[:h]) + "-" + string(rs[h:]), "sep:dash"
	default:
		return join("_", true), "sep:underscores"
	}
}

// keyboardNeighbour gives a letter next to c on a QWERTY keyboard.
func keyboardNeighbour(c rune) rune {
	n := map[rune]rune{'a': 's', 'b': 'v', 'c': 'x', 'd': 's', 'e': 'r', 'f': 'g', 'g': 'h', 'h': 'j', 'i': 'u', 'j': 'h',
		'k': 'l', 'l': 'k', 'm': 'n', 'n': 'm', 'o': 'p', 'p': 'o', 'q': 'w', 'r': 't', 's': 'a', 't': 'r', 'u': 'y',
		'v': 'b', 'w': 'e', 'x': 'z', 'y': 't', 'z': 'x'}
	if r, ok := n[c]; ok {
		return r
	}
	return c
}

// typo makes one edit to name: omission, transposition, keyboard
// neighbour or vowel swap. The edits avoid the first letter.
func typo(name string, k int) (string, string) {
	rs := []rune(name)
	n := len(rs)
	switch k % 4 {
	case 0:
		i := n - 2
		return string(rs[:i]) + string(rs[i+1:]), "typo:omission"
	case 1:
		rs[1], rs[2] = rs[2], rs[1]
		return string(rs), "typo:transposition"
	case 2:
		i := n / 2
		rs[i] = keyboardNeighbour(rs[i])
		return string(rs), "typo:keyboard"
	default:
		swap := map[rune]rune{'a': 'e', 'e': 'a', 'i': 'e', 'o': 'a', 'u': 'o'}
		for i := n - 1; i > 0; i-- {
			if s, ok := swap[rs[i]]; ok {
				rs[i] = s
				return string(rs), "typo:vowel"
			}
		}
		return string(rs), "typo"
	}
}

// fullwidth writes name in fullwidth forms.
func fullwidth(name string, k int) (string, string) {
	s := name
	if k%2 == 1 {
		s = strings.ToUpper(name)
	}
	var b strings.Builder
	for _, c := range s {
		if c > 0x20 && c < 0x7f {
			c = c - 0x21 + 0xff01
		}
		b.WriteRune(c)
	}
	return b.String(), "fullwidth"
}
