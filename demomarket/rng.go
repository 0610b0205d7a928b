package demomarket

import "hash/fnv"

// rng is a small splitmix64 generator. It is used instead of math/rand so
// that the catalogue stays byte-for-byte identical across Go releases.
type rng struct{ s uint64 }

// newRNG returns a generator for one named stream of the seed, so that
// adding draws to one part of the catalogue does not shift another.
func newRNG(seed int64, stream string) *rng {
	h := fnv.New64a()
	h.Write([]byte(stream))
	r := &rng{s: uint64(seed)*0x9E3779B97F4A7C15 ^ h.Sum64()}
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// intn returns a number in [0, n).
func (r *rng) intn(n int) int {
	if n <= 0 {
		return 0
	}
	return int(r.next() % uint64(n))
}

// float returns a number in [0, 1).
func (r *rng) float() float64 {
	return float64(r.next()>>11) / (1 << 53)
}

// between returns a number in [lo, hi).
func (r *rng) between(lo, hi float64) float64 {
	return lo + (hi-lo)*r.float()
}

func (r *rng) pick(xs []string) string {
	return xs[r.intn(len(xs))]
}

func (r *rng) chance(p float64) bool {
	return r.float() < p
}
