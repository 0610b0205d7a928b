package matcher

import "math/bits"

// Typo families, named as dnstwist names its permutations, so an analyst
// recognises how the brand was bent.
const (
	typoOmission      = "omission"
	typoTransposition = "transposition"
	typoRepetition    = "repetition"
	typoReplacement   = "replacement" // by a keyboard neighbour
	typoInsertion     = "insertion"   // of a keyboard neighbour
	typoVowelSwap     = "vowel-swap"
	typoLookalike     = "lookalike" // o/0, l/1, i/l…
	typoDistance2     = "distance-2"
)

// qwerty rows; neighbours are the keys left, right, above and below.
var qwertyRows = [3]string{"qwertyuiop", "asdfghjkl", "zxcvbnm"}

// keyboard[c] is the bit set of letters next to c on a QWERTY keyboard.
var keyboard = func() (k [26]uint32) {
	for r, row := range qwertyRows {
		for i := 0; i < len(row); i++ {
			c := row[i] - 'a'
			add := func(n byte) { k[c] |= 1 << (n - 'a') }
			if i > 0 {
				add(row[i-1])
			}
			if i+1 < len(row) {
				add(row[i+1])
			}
			for _, rr := range []int{r - 1, r + 1} {
				if rr < 0 || rr > 2 {
					continue
				}
				o := qwertyRows[rr]
				// rows are staggered: the keys at i-1..i+1 of the
				// neighbouring row touch this one.
				for j := i - 1; j <= i+1; j++ {
					if j >= 0 && j < len(o) {
						add(o[j])
					}
				}
			}
		}
	}
	return k
}()

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' }

func isVowel(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}

func neighbours(a, b byte) bool {
	return isLetter(a) && isLetter(b) && keyboard[a-'a']&(1<<(b-'a')) != 0
}

// lookalikePair reports whether a and b are drawn alike or stand for each
// other in leetspeak.
func lookalikePair(a, b byte) bool {
	if a > b {
		a, b = b, a
	}
	const pairs = "0o1i1lil3e4a5s7t8b9g2z6buvcq"
	for i := 0; i < len(pairs); i += 2 {
		if pairs[i] == a && pairs[i+1] == b {
			return true
		}
	}
	return false
}

// letterMask is the set of letters in w; two words within edit distance d
// differ in at most 2d letters of their sets, a cheap filter before the
// exact check.
func letterMask(w []byte) uint32 {
	var m uint32
	for _, c := range w {
		if isLetter(c) {
			m |= 1 << (c - 'a')
		} else if c >= '0' && c <= '9' {
			m |= 1 << (26 + (c-'0')%6)
		}
	}
	return m
}

func maskClose(a, b uint32, d int) bool {
	return bits.OnesCount32(a^b) <= 2*d
}

// typo1 reports whether t is w with exactly one edit of the families
// counterfeiters use (dnstwist's: omission, transposition, repetition,
// keyboard replacement and insertion, vowel swap, look-alike), and names the
// family. An arbitrary replacement (lumora → lumera is a vowel swap, but
// lumora → lumina is two edits, and lumora → lumoxa is not a neighbour of
// r or a) is not one: that is how genuinely different words stay apart.
func typo1(t, w []byte) (string, bool) {
	n, m := len(t), len(w)
	i := 0
	for i < n && i < m && t[i] == w[i] {
		i++
	}
	switch {
	case n == m:
		if i == n {
			return "", false // equal
		}
		if string(t[i+1:]) == string(w[i+1:]) {
			a, b := t[i], w[i]
			switch {
			case lookalikePair(a, b):
				return typoLookalike, true
			case isVowel(a) && isVowel(b):
				return typoVowelSwap, true
			case neighbours(a, b):
				return typoReplacement, true
			}
			return "", false
		}
		if i+1 < n && t[i] == w[i+1] && t[i+1] == w[i] && string(t[i+2:]) == string(w[i+2:]) {
			return typoTransposition, true
		}
	case n == m+1: // one letter inserted into the brand
		if string(t[i+1:]) != string(w[i:]) {
			return "", false
		}
		c := t[i]
		if (i > 0 && c == t[i-1]) || (i+1 < n && c == t[i+1]) {
			return typoRepetition, true
		}
		if (i > 0 && neighbours(c, w[i-1])) || (i < m && neighbours(c, w[i])) {
			return typoInsertion, true
		}
	case n+1 == m: // one letter of the brand left out
		if string(t[i:]) == string(w[i+1:]) {
			return typoOmission, true
		}
	}
	return "", false
}

// osa returns the optimal-string-alignment (restricted Damerau–Levenshtein)
// distance between a and b, or max+1 when it exceeds max. It works on the
// stack for words up to 32 bytes and reports max+1 for longer ones.
func osa(a, b []byte, max int) int {
	n, m := len(a), len(b)
	if n > 32 || m > 32 {
		return max + 1
	}
	if d := n - m; d > max || -d > max {
		return max + 1
	}
	var rows [3][33]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= m; j++ {
		prev[j] = j
	}
	for i := 1; i <= n; i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= m; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			best = min(best, v)
		}
		if best > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[m]
}
