package matcher

import (
	"encoding/binary"
	"math/bits"
)

// wordIndex maps a folded word to the phrases that start with it and the
// product names that hold it, so that one lookup per token of a title
// serves both. It is an open-addressing hash table built once in New; a
// lookup hashes a few machine words of the word rather than all its bytes
// and usually ends at an empty slot.
type wordIndex struct {
	slots []wordSlot // a power of two, at most half full
}

// wordSlot is one word and what it starts or belongs to.
type wordSlot struct {
	word    string
	phrases []int32   // into phraseTable.list, in the order added
	prods   []prodBit // product-name words
}

// wordHash hashes w from its length and its first and last bytes, up to
// eight of each.
func wordHash(w []byte) uint64 {
	n := len(w)
	var x uint64
	switch {
	case n >= 8:
		x = binary.LittleEndian.Uint64(w) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(w[n-8:]), 29)
	case n >= 4:
		x = uint64(binary.LittleEndian.Uint32(w)) | uint64(binary.LittleEndian.Uint32(w[n-4:]))<<32
	case n > 0:
		x = uint64(w[0]) | uint64(w[n/2])<<8 | uint64(w[n-1])<<16
	}
	x = (x ^ uint64(n)<<58) * 0x9E3779B97F4A7C15
	return x ^ x>>29
}

// newWordIndex indexes the phrases' first words and the products' words.
func newWordIndex(first map[string][]int32, prods map[string][]prodBit) wordIndex {
	n := 16
	for n < 2*(len(first)+len(prods)) {
		n *= 2
	}
	ix := wordIndex{slots: make([]wordSlot, n)}
	for w, ps := range first {
		ix.slot(w).phrases = ps
	}
	for w, ps := range prods {
		ix.slot(w).prods = ps
	}
	return ix
}

// slot returns w's slot, claiming an empty one for a new word.
func (ix *wordIndex) slot(w string) *wordSlot {
	mask := uint64(len(ix.slots) - 1)
	for i := wordHash([]byte(w)) & mask; ; i = (i + 1) & mask {
		s := &ix.slots[i]
		if s.word == w {
			return s
		}
		if s.word == "" {
			s.word = w
			return s
		}
	}
}

// lookup returns w's slot, or nil when no phrase or product uses w.
func (ix *wordIndex) lookup(w []byte) *wordSlot {
	mask := uint64(len(ix.slots) - 1)
	for i := wordHash(w) & mask; ; i = (i + 1) & mask {
		s := &ix.slots[i]
		if s.word == "" {
			return nil
		}
		if s.word == string(w) {
			return s
		}
	}
}
