// Package imagehash recognises the brand's own product photos when a
// counterfeiter reuses them resized, recompressed, cropped, padded, mirrored,
// watermarked or brightened. It decodes untrusted images behind size
// guards, computes 64-bit perceptual hashes (pHash, dHash, aHash) plus the
// mirror and centre-crop variants the matcher needs, compares them with
// documented thresholds, and keeps an exact nearest-hash index (multi-index
// hashing) over every reference and listing image.
//
// All hashes are computed from one area-averaged luminance grid built in a
// single pass over the decoded pixels, so hashing costs a small fraction of
// decoding the JPEG.
package imagehash

import (
	"image"
	"math"
	"math/bits"
	"slices"

	"github.com/patrol-dev/patrol/listing"
)

// Hashes are the perceptual hashes of one image, computed after trimming
// uniform borders. Bit order follows Python imagehash: the first coefficient
// or cell is the most significant bit, so Hex agrees with its hex strings.
type Hashes struct {
	// PHash is the DCT hash (the 8×8 lowest frequencies of a 32×32
	// luminance grid against their median): the main signal.
	PHash uint64
	// DHash compares horizontally adjacent cells of a 9×8 grid.
	DHash uint64
	// AHash compares the cells of an 8×8 grid with their mean.
	AHash uint64
	// MirrorPHash is the pHash of the horizontally mirrored image. A mirror
	// flips the sign of every odd horizontal frequency and so moves about
	// half of PHash's bits; matching a.MirrorPHash against b.PHash finds
	// mirrored copies.
	MirrorPHash uint64
	// CropPHash is the pHash of the central cropWindow of the image, which
	// ignores what crops, pads and corner watermarks change at the edges.
	CropPHash uint64
	// Crops are the pHashes of nine crops of the image, each keeping 90%
	// of the width and height, anchored at the corners, edge midpoints and
	// centre (row-major, top-left first). A copy cropped by about 10% is
	// within a few bits of one of them, so its PHash (or, if it was also
	// mirrored, its MirrorPHash) is compared with them. They travel in
	// listing.Image.Crops; zero when not stored.
	Crops [9]uint64
	// FullPHash is the pHash of the whole image when trimming removed
	// borders, else zero. Trimming guesses that a uniform border is a pad;
	// when a brightened copy's light background clips to white, the guess
	// is wrong and the trimmed hash moves by 15–20 bits while the untrimmed
	// one stays close, so Compare tries both.
	FullPHash uint64
	// Width and Height are the decoded size, before trimming.
	Width, Height int
	// Trim is the region hashed after removing uniform borders, relative
	// to the image's top-left corner.
	Trim image.Rectangle
}

// cropShift is the fraction of each side the Crops variants cut.
const cropShift = 0.1

// cropWindow is the fraction of each side kept, centred, for CropPHash.
const cropWindow = 0.7

// Compute decodes data behind lim (see Decode), trims uniform borders and
// returns every hash.
func Compute(data []byte, lim Limits) (Hashes, error) {
	img, err := Decode(data, lim)
	if err != nil {
		return Hashes{}, err
	}
	return FromImage(img), nil
}

// FromImage trims uniform borders from img and returns its hashes. It reads
// the pixels once (plus the borders) and allocates no full-size buffer.
func FromImage(img image.Image) Hashes {
	b := img.Bounds()
	h := Hashes{Width: b.Dx(), Height: b.Dy()}
	if b.Empty() {
		return h
	}
	l := newLumaRows(img, false)
	buf := make([]uint8, b.Dx())
	h.Trim = l.trimRect(buf)
	g := l.grid(h.Trim, buf)

	c := dctLow(pool4(g))
	h.PHash = phashBits(c, false)
	h.MirrorPHash = phashBits(c, true)
	m := (1 - cropWindow) / 2 * gridSize
	h.CropPHash = phashBits(dctLow(resample(g, gridSize, m, m, gridSize-m, gridSize-m, 32, 32)), false)
	for k := range h.Crops {
		ax, ay := float64(k%3)/2, float64(k/3)/2
		x0, y0 := ax*cropShift*gridSize, ay*cropShift*gridSize
		w := (1 - cropShift) * gridSize
		h.Crops[k] = phashBits(dctLow(resample(g, gridSize, x0, y0, x0+w, y0+w, 32, 32)), false)
	}
	h.DHash = dhashBits(lanczos(g, gridSize, gridSize, 9, 8))
	h.AHash = ahashBits(lanczos(g, gridSize, gridSize, 8, 8))
	if full := image.Rect(0, 0, b.Dx(), b.Dy()); h.Trim != full {
		h.FullPHash = phashBits(dctLow(pool4(l.grid(full, buf))), false)
	}
	return h
}

// gridOf is the untrimmed luminance grid of img, for the plain hashes.
func gridOf(img image.Image, ignoreAlpha bool) []float64 {
	l := newLumaRows(img, ignoreAlpha)
	b := img.Bounds()
	return l.grid(image.Rect(0, 0, b.Dx(), b.Dy()), make([]uint8, b.Dx()))
}

// PHash is the published 64-bit DCT hash of img (Python imagehash.phash,
// goimagehash.PerceptionHash) without border trimming: the 32×32 area-average
// luminance, its 8×8 lowest DCT-II coefficients, each compared with their
// median.
func PHash(img image.Image) uint64 {
	if img.Bounds().Empty() {
		return 0
	}
	return phashBits(dctLow(pool4(gridOf(img, false))), false)
}

// DHash is the published 64-bit difference hash of img without trimming:
// a bit per horizontally adjacent pair of a 9×8 grid, set when the right
// cell is brighter.
func DHash(img image.Image) uint64 {
	if img.Bounds().Empty() {
		return 0
	}
	return dhashBits(lanczos(gridOf(img, false), gridSize, gridSize, 9, 8))
}

// AHash is the published 64-bit average hash of img without trimming: a bit
// per cell of an 8×8 grid, set when brighter than the mean.
func AHash(img image.Image) uint64 {
	if img.Bounds().Empty() {
		return 0
	}
	return ahashBits(lanczos(gridOf(img, false), gridSize, gridSize, 8, 8))
}

// pool4 averages 4×4 blocks of the gridSize grid into the 32×32 pHash input;
// the result is exactly the 32×32 area average of the image.
func pool4(g []float64) []float64 {
	const f = gridSize / 32
	out := make([]float64, 32*32)
	for y := 0; y < gridSize; y++ {
		row := g[y*gridSize : (y+1)*gridSize]
		o := out[(y/f)*32 : (y/f+1)*32]
		for x, v := range row {
			o[x/f] += v
		}
	}
	for i := range out {
		out[i] /= f * f
	}
	roundGrid(out)
	return out
}

// dctN is the number of low frequencies kept per axis: 8 for the pHash plus
// one so that the DC-free variant (sharp-phash) can be derived too.
const dctN = 9

// dctCos[u][x] = cos(π/32·(x+½)·u), the DCT-II basis on 32 samples. It is
// computed once at start-up and never written again.
var dctCos = func() (t [dctN][32]float64) {
	for u := range dctN {
		for x := range 32 {
			t[u][x] = math.Cos(math.Pi / 32 * (float64(x) + 0.5) * float64(u))
		}
	}
	return t
}()

// dctLow returns the dctN×dctN lowest coefficients F[v][u] (v vertical, u
// horizontal frequency) of the unnormalised 2-D DCT-II of a 32×32 grid, by
// the separable transform: rows first (32·9 outputs), then columns of those
// (9·9 outputs), 12k multiply-adds instead of a full 32×32 transform.
func dctLow(g []float64) (c [dctN][dctN]float64) {
	var rows [32][dctN]float64
	for y := range 32 {
		row := g[y*32 : y*32+32 : y*32+32]
		for u := range dctN {
			cu := &dctCos[u]
			var s float64
			for x, v := range row {
				s += v * cu[x]
			}
			rows[y][u] = s
		}
	}
	for v := range dctN {
		cv := &dctCos[v]
		for u := range dctN {
			var s float64
			for y := range 32 {
				s += cv[y] * rows[y][u]
			}
			c[v][u] = s
		}
	}
	return c
}

// phashBits thresholds the 8×8 lowest coefficients (DC included, row-major
// by vertical frequency) at their median, as Python imagehash does. With
// mirrored set it hashes the horizontally mirrored image instead, whose
// coefficients are (-1)^u times the original's.
func phashBits(c [dctN][dctN]float64, mirrored bool) uint64 {
	var v [64]float64
	for i := range 64 {
		y, x := i/8, i%8
		v[i] = c[y][x]
		if mirrored && x%2 == 1 {
			v[i] = -v[i]
		}
	}
	med := median(v)
	var h uint64
	for i, f := range v {
		if f > med {
			h |= 1 << (63 - i)
		}
	}
	return h
}

// sharpPHash thresholds coefficients 1..8 × 1..8 (no DC row or column) at
// their mean, horizontal frequency outermost: the definition of the npm
// sharp-phash package, kept for the agreement report.
func sharpPHash(c [dctN][dctN]float64) uint64 {
	var v [64]float64
	for i := range 64 {
		u, vv := i/8+1, i%8+1
		v[i] = c[vv][u]
	}
	return ahashBits(v[:])
}

func median(v [64]float64) float64 {
	s := v
	slices.Sort(s[:])
	return (s[31] + s[32]) / 2
}

// dhashBits sets bit (r, c) when cell c+1 of row r of a 9×8 grid is brighter
// than cell c.
func dhashBits(g []float64) uint64 {
	var h uint64
	for r := range 8 {
		for c := range 8 {
			if g[r*9+c+1] > g[r*9+c] {
				h |= 1 << (63 - (r*8 + c))
			}
		}
	}
	return h
}

// ahashBits sets a bit per cell of an 8×8 grid brighter than the mean.
func ahashBits(g []float64) uint64 {
	var sum float64
	for _, v := range g {
		sum += v
	}
	mean := sum / 64
	var h uint64
	for i, v := range g {
		if v > mean {
			h |= 1 << (63 - i)
		}
	}
	return h
}

// Distance is the Hamming distance between two 64-bit hashes.
func Distance(a, b uint64) int {
	return bits.OnesCount64(a ^ b)
}

// Image returns h as the hash fields of a listing.Image (the caller fills
// URL and SHA256). Crops are kept only when computed.
func (h Hashes) Image() listing.Image {
	img := listing.Image{
		Width:       h.Width,
		Height:      h.Height,
		PHash:       h.PHash,
		DHash:       h.DHash,
		AHash:       h.AHash,
		MirrorPHash: h.MirrorPHash,
		CropPHash:   h.CropPHash,
		FullPHash:   h.FullPHash,
	}
	if h.Crops != ([9]uint64{}) {
		img.Crops = append([]uint64(nil), h.Crops[:]...)
	}
	return img
}

// FromListing returns the hashes stored in a listing.Image, so that stored
// images can be compared without decoding them again.
func FromListing(img listing.Image) Hashes {
	h := Hashes{
		PHash:       img.PHash,
		DHash:       img.DHash,
		AHash:       img.AHash,
		MirrorPHash: img.MirrorPHash,
		CropPHash:   img.CropPHash,
		FullPHash:   img.FullPHash,
		Width:       img.Width,
		Height:      img.Height,
	}
	// Images stored before Crops existed, or with another count, have
	// none: Compare then skips the crops test.
	if len(img.Crops) == len(h.Crops) {
		copy(h.Crops[:], img.Crops)
	}
	return h
}
