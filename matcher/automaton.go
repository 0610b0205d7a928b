package matcher

// termAutomaton finds every brand term in folded text in one pass, however
// many brands and terms there are: an Aho–Corasick automaton over the
// terms' skeletons, compiled to a table of transitions. Bytes are mapped to
// classes first, so that 'l' reads as 'i' (the skeleton, see skeleton)
// without building a skeleton of the text, and so that the table has a
// column only for the bytes the terms use.
type termAutomaton struct {
	class  [256]int32 // byte → column; 0 for a byte no term holds
	nclass int
	// next[s*nclass+class] is the next state t, stored as t*nclass, or
	// as -t*nclass when some term ends in t.
	next []int32
	// outAt[s]:outAt[s+1] index the terms that end in state s, including
	// those ending in its suffix states.
	outAt []int32
	out   []termRef
	// pair[class(a)*nclass+class(b)] is set when some term starts with
	// the bytes a b: in the start state, find skips the bytes that start
	// no such pair, a loop the CPU runs far faster than the automaton.
	// skip is false when some term is one byte long.
	pair []bool
	skip bool
}

// termRef names one compiled term: its brand, its index there, its global
// index (brand-major, the order findTerms judges occurrences in) and its
// length in bytes.
type termRef struct {
	brand, term int16
	global      int32
	n           int32
}

// termOcc is one occurrence of a term in the folded text.
type termOcc struct {
	ref int32 // index into termAutomaton.out
	p   int32 // where the term starts
}

// newTermAutomaton compiles the terms of every brand.
func newTermAutomaton(brands []brand) termAutomaton {
	var a termAutomaton
	// Columns: one for every byte the keys hold; 'l' shares 'i''s.
	a.nclass = 1
	for _, b := range brands {
		for _, t := range b.terms {
			for _, c := range t.key {
				if a.class[c] == 0 {
					a.class[c] = int32(a.nclass)
					a.nclass++
				}
			}
		}
	}
	if a.class['i'] == 0 {
		a.class['i'] = int32(a.nclass)
		a.nclass++
	}
	a.class['l'] = a.class['i']

	// The trie, with goto[s*nclass+c] = 0 meaning "none" (the root is
	// never a child).
	gotoT := make([]int32, a.nclass)
	var own [][]termRef
	own = append(own, nil)
	global := int32(0)
	for bi, b := range brands {
		for ti, t := range b.terms {
			s := int32(0)
			for _, c := range t.key {
				k := int32(a.class[c])
				if gotoT[s*int32(a.nclass)+k] == 0 {
					gotoT[s*int32(a.nclass)+k] = int32(len(own))
					own = append(own, nil)
					gotoT = append(gotoT, make([]int32, a.nclass)...)
				}
				s = gotoT[s*int32(a.nclass)+k]
			}
			own[s] = append(own[s], termRef{brand: int16(bi), term: int16(ti), global: global, n: int32(len(t.key))})
			global++
		}
	}

	// Breadth first: failure links, full transitions and outputs.
	n := len(own)
	fail := make([]int32, n)
	a.next = make([]int32, n*a.nclass)
	outs := make([][]termRef, n)
	outs[0] = own[0]
	queue := make([]int32, 0, n)
	for k := 1; k < a.nclass; k++ {
		if c := gotoT[k]; c != 0 {
			a.next[k] = c
			queue = append(queue, c)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		outs[s] = append(append([]termRef(nil), own[s]...), outs[fail[s]]...)
		for k := 1; k < a.nclass; k++ {
			i := int(s)*a.nclass + k
			if c := gotoT[i]; c != 0 {
				fail[c] = a.next[int(fail[s])*a.nclass+k]
				a.next[i] = c
				queue = append(queue, c)
			} else {
				a.next[i] = a.next[int(fail[s])*a.nclass+k]
			}
		}
	}
	a.outAt = make([]int32, n+1)
	for s := range n {
		a.out = append(a.out, outs[s]...)
		a.outAt[s+1] = int32(len(a.out))
	}
	a.pair = make([]bool, a.nclass*a.nclass)
	a.skip = true
	for _, b := range brands {
		for _, t := range b.terms {
			if len(t.key) < 2 {
				a.skip = false
				continue
			}
			a.pair[int(a.class[t.key[0]])*a.nclass+int(a.class[t.key[1]])] = true
		}
	}
	for i, t := range a.next {
		if len(outs[t]) > 0 {
			a.next[i] = -t * int32(a.nclass)
		} else {
			a.next[i] = t * int32(a.nclass)
		}
	}
	return a
}

// find appends every occurrence of a term in text to occ, ordered as
// findTerms judges them: by brand and term, then by position.
func (a *termAutomaton) find(text []byte, occ []termOcc) []termOcc {
	occ = occ[:0]
	next, nc := a.next, int32(a.nclass)
	s := int32(0)
	for i := 0; i < len(text); i++ {
		if s == 0 && a.skip {
			// From the start state, a byte that begins no term's
			// first pair leads back to it.
			for i+1 < len(text) && !a.pair[a.class[text[i]]*nc+a.class[text[i+1]]] {
				i++
			}
		}
		s = next[s+a.class[text[i]]]
		if s < 0 {
			s = -s
			st := s / nc
			for r := a.outAt[st]; r < a.outAt[st+1]; r++ {
				occ = append(occ, termOcc{ref: r, p: int32(i+1) - a.out[r].n})
			}
		}
	}
	// Insertion sort: a title holds a handful of occurrences, found by
	// position; positions of one term stay in order.
	for i := 1; i < len(occ); i++ {
		for j := i; j > 0 && a.out[occ[j].ref].global < a.out[occ[j-1].ref].global; j-- {
			occ[j], occ[j-1] = occ[j-1], occ[j]
		}
	}
	return occ
}
