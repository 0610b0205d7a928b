package imagehash

import (
	"image"
	"image/color"
	"math"
)

// lumaRows reads an image as 8-bit luminance (ITU-R 601: 0.299 R + 0.587 G +
// 0.114 B, the Y of a JPEG and the "L" mode of Pillow, which the published
// hashes use) one row segment at a time, so that no full-size copy of the
// image is ever made. Transparent pixels are composited onto white, the
// background a marketplace page shows them on.
type lumaRows struct {
	img  image.Image
	rect image.Rectangle
	// pal holds the luminance of each palette entry of a paletted image.
	pal []uint8
	// ignoreAlpha reads the stored colour of transparent pixels instead of
	// compositing them onto white, as Pillow's convert("L") and the npm
	// hashers do; only the agreement checks use it.
	ignoreAlpha bool
}

func newLumaRows(img image.Image, ignoreAlpha bool) *lumaRows {
	l := &lumaRows{img: img, rect: img.Bounds(), ignoreAlpha: ignoreAlpha}
	if p, ok := img.(*image.Paletted); ok {
		l.pal = make([]uint8, 256)
		for i, c := range p.Palette {
			l.pal[i] = l.lumaOf(c)
		}
	}
	return l
}

// luma601 converts 8-bit straight RGB to luminance, rounding as Pillow does.
func luma601(r, g, b uint32) uint8 {
	return uint8((r*299 + g*587 + b*114 + 500) / 1000)
}

// lumaOf converts any colour, compositing it onto white first unless
// l.ignoreAlpha.
func (l *lumaRows) lumaOf(c color.Color) uint8 {
	if l.ignoreAlpha {
		n := color.NRGBAModel.Convert(c).(color.NRGBA)
		return luma601(uint32(n.R), uint32(n.G), uint32(n.B))
	}
	r, g, b, a := c.RGBA() // premultiplied, 16 bits
	bg := 0xffff - a
	return luma601((r+bg)>>8, (g+bg)>>8, (b+bg)>>8)
}

// row returns the luminance of pixels [x0, x1) of row y (coordinates
// relative to the image's bounds), using buf as storage when a conversion is
// needed. For YCbCr and Gray images it returns the pixel memory itself.
func (l *lumaRows) row(y, x0, x1 int, buf []uint8) []uint8 {
	minX, minY := l.rect.Min.X, l.rect.Min.Y
	buf = buf[:x1-x0]
	switch m := l.img.(type) {
	case *image.YCbCr:
		i := m.YOffset(minX+x0, minY+y)
		return m.Y[i : i+x1-x0]
	case *image.Gray:
		i := m.PixOffset(minX+x0, minY+y)
		return m.Pix[i : i+x1-x0]
	case *image.NRGBA:
		i := m.PixOffset(minX+x0, minY+y)
		p := m.Pix[i : i+4*(x1-x0)]
		for k := range buf {
			s := p[4*k : 4*k+4 : 4*k+4]
			r, g, b, a := uint32(s[0]), uint32(s[1]), uint32(s[2]), uint32(s[3])
			if a != 0xff && !l.ignoreAlpha {
				bg := 255 * (255 - a)
				r = (r*a + bg + 127) / 255
				g = (g*a + bg + 127) / 255
				b = (b*a + bg + 127) / 255
			}
			buf[k] = luma601(r, g, b)
		}
		return buf
	case *image.RGBA:
		if l.ignoreAlpha {
			break
		}
		i := m.PixOffset(minX+x0, minY+y)
		p := m.Pix[i : i+4*(x1-x0)]
		for k := range buf {
			s := p[4*k : 4*k+4 : 4*k+4]
			bg := 255 - uint32(s[3])
			buf[k] = luma601(uint32(s[0])+bg, uint32(s[1])+bg, uint32(s[2])+bg)
		}
		return buf
	case *image.Paletted:
		i := m.PixOffset(minX+x0, minY+y)
		for k, p := range m.Pix[i : i+x1-x0] {
			buf[k] = l.pal[p]
		}
		return buf
	}
	for k := range buf {
		buf[k] = l.lumaOf(l.img.At(minX+x0+k, minY+y))
	}
	return buf
}

// Border trimming: a pixel belongs to a border when its luminance is within
// trimTolerance of the top-left pixel's. The tolerance absorbs JPEG ringing
// on a white pad; it is small enough that the soft shadow under a product
// stays content.
const (
	trimTolerance = 8
	// trimMinFraction: a trim that would leave less than this fraction of
	// either side is refused; the image is then nearly uniform and is
	// hashed whole.
	trimMinFraction = 0.1
)

// trimRect returns the rectangle (relative to the image's bounds origin)
// left after removing uniform borders. It trims repeatedly, each time with
// the new top-left pixel as the border colour, so that a photo with its own
// border padded onto white trims to the same region as the photo itself. It
// reads only the border pixels and one pixel more per row and column, so an
// image without a border costs O(width + height).
func (l *lumaRows) trimRect(buf []uint8) image.Rectangle {
	full := image.Rect(0, 0, l.rect.Dx(), l.rect.Dy())
	r := full
	for range 3 {
		next := l.trimOnce(r, buf)
		if next == r {
			break
		}
		r = next
	}
	if float64(r.Dx()) < trimMinFraction*float64(full.Dx()) || float64(r.Dy()) < trimMinFraction*float64(full.Dy()) {
		return full
	}
	return r
}

// trimOnce removes from r the rows and columns whose luminance is within
// trimTolerance of r's top-left pixel.
func (l *lumaRows) trimOnce(r image.Rectangle, buf []uint8) image.Rectangle {
	if r.Dx() < 4 || r.Dy() < 4 {
		return r
	}
	ref := int(l.row(r.Min.Y, r.Min.X, r.Min.X+1, buf)[0])
	isBorder := func(v uint8) bool {
		d := int(v) - ref
		return d <= trimTolerance && d >= -trimTolerance
	}
	uniform := func(y int) bool {
		for _, v := range l.row(y, r.Min.X, r.Max.X, buf) {
			if !isBorder(v) {
				return false
			}
		}
		return true
	}
	top := r.Min.Y
	for top < r.Max.Y && uniform(top) {
		top++
	}
	if top == r.Max.Y {
		return r
	}
	bottom := r.Max.Y
	for bottom > top && uniform(bottom-1) {
		bottom--
	}
	left, right := r.Max.X, r.Min.X
	for y := top; y < bottom; y++ {
		// Only the pixels left of the best left edge so far matter.
		for i, v := range l.row(y, r.Min.X, left, buf) {
			if !isBorder(v) {
				left = r.Min.X + i
				break
			}
		}
		// Likewise right of the best right edge.
		seg := l.row(y, right, r.Max.X, buf)
		for i := len(seg) - 1; i >= 0; i-- {
			if !isBorder(seg[i]) {
				right += i + 1
				break
			}
		}
	}
	if right <= left {
		return r
	}
	return image.Rect(left, top, right, bottom)
}

// span is the share of one source pixel in one destination cell of an
// area-average resampling, in integer units (see spans).
type span struct {
	src, dst int32
	w        uint32
}

// spans returns the weights that area-average n source pixels into m cells.
// Lengths are scaled by n·m so that every overlap is an integer: source pixel
// i covers [i·m, (i+1)·m) and cell j covers [j·n, (j+1)·n); the weights of
// each cell sum to n.
func spans(n, m int) []span {
	out := make([]span, 0, n+m)
	for i := 0; i < n; i++ {
		s0, s1 := i*m, (i+1)*m
		for j := s0 / n; j < m && j*n < s1; j++ {
			c0, c1 := max(s0, j*n), min(s1, (j+1)*n)
			if c1 > c0 {
				out = append(out, span{src: int32(i), dst: int32(j), w: uint32(c1 - c0)})
			}
		}
	}
	return out
}

// cellRun describes how one grid cell covers a row of w >= gridSize
// pixels: pixels [a, b) wholly (weight gridSize each), and pixels l and r
// partly with weights wl and wr (0 when the cell edge falls on a pixel
// edge), in the units of spans.
type cellRun struct {
	a, b, l, r int
	wl, wr     uint32
}

func cellRuns(w int) []cellRun {
	out := make([]cellRun, gridSize)
	for j := range out {
		lo, hi := j*w, (j+1)*w // cell j in units where a pixel is gridSize long
		c := cellRun{a: (lo + gridSize - 1) / gridSize, b: hi / gridSize}
		if lo%gridSize != 0 {
			c.l, c.wl = lo/gridSize, uint32(gridSize-lo%gridSize)
		}
		if hi%gridSize != 0 {
			c.r, c.wr = hi/gridSize, uint32(hi%gridSize)
		}
		out[j] = c
	}
	return out
}

// gridSize is the side of the luminance grid every hash is computed from:
// a multiple of 32 so that the pHash's 32×32 input is an exact area average
// of it, and fine enough (1/128 of a side) for the centre-crop hash.
const gridSize = 128

// grid area-averages rectangle r of the image (relative to its bounds) to a
// gridSize × gridSize luminance grid (row-major, values 0..255) in a single
// pass over the pixels, without a full-size copy.
func (l *lumaRows) grid(r image.Rectangle, buf []uint8) []float64 {
	w, h := r.Dx(), r.Dy()
	hs, vs := spans(w, gridSize), spans(h, gridSize)
	var cells []cellRun
	if w >= gridSize {
		cells = cellRuns(w)
	}
	acc := make([]uint64, gridSize*gridSize)
	rowAcc := make([]uint64, gridSize)
	vi := 0
	for y := 0; y < h; y++ {
		if cells == nil {
			clear(rowAcc)
		}
		px := l.row(r.Min.Y+y, r.Min.X, r.Max.X, buf)
		if cells != nil {
			// Downscale: sum each cell's whole pixels in a tight loop and
			// add the two pixels it shares with its neighbours.
			for j := range cells {
				c := &cells[j]
				var run uint64
				for _, v := range px[c.a:c.b] {
					run += uint64(v)
				}
				rowAcc[j] = run*gridSize + uint64(c.wl)*uint64(px[c.l]) + uint64(c.wr)*uint64(px[c.r])
			}
		} else {
			for _, s := range hs {
				rowAcc[s.dst] += uint64(s.w) * uint64(px[s.src])
			}
		}
		for ; vi < len(vs) && int(vs[vi].src) == y; vi++ {
			wy := uint64(vs[vi].w)
			dst := acc[int(vs[vi].dst)*gridSize : int(vs[vi].dst+1)*gridSize]
			for j, v := range rowAcc {
				dst[j] += wy * v
			}
		}
	}
	out := make([]float64, gridSize*gridSize)
	// Each cell's weights sum to w·h in the scaled units.
	norm := 1 / (float64(w) * float64(h))
	for i, v := range acc {
		out[i] = float64(v) * norm
	}
	return out
}

// resample area-averages the window [x0,x1)×[y0,y1) (fractional, in cells)
// of a row-major src grid of width sw into a dw × dh grid. It works on the
// small grids only, so plain float loops are fast enough.
func resample(src []float64, sw int, x0, y0, x1, y1 float64, dw, dh int) []float64 {
	tmp := make([]float64, 0, dw*int(y1-y0+2))
	iy0, iy1 := int(y0), min(int(ceil(y1)), len(src)/sw)
	// Horizontal pass over the rows the window touches.
	for y := iy0; y < iy1; y++ {
		row := src[y*sw : (y+1)*sw]
		for j := 0; j < dw; j++ {
			tmp = append(tmp, boxMean(row, 1, x0+(x1-x0)*float64(j)/float64(dw), x0+(x1-x0)*float64(j+1)/float64(dw)))
		}
	}
	out := make([]float64, dw*dh)
	for j := 0; j < dw; j++ {
		for i := 0; i < dh; i++ {
			a := y0 + (y1-y0)*float64(i)/float64(dh) - float64(iy0)
			b := y0 + (y1-y0)*float64(i+1)/float64(dh) - float64(iy0)
			out[i*dw+j] = boxMean(tmp[j:], dw, a, b)
		}
	}
	return out
}

// boxMean is the mean of v[k·stride] over the fractional interval [a, b).
func boxMean(v []float64, stride int, a, b float64) float64 {
	n := (len(v) + stride - 1) / stride
	var sum, wsum float64
	for k := max(int(a), 0); k < n && float64(k) < b; k++ {
		lo, hi := max(a, float64(k)), min(b, float64(k+1))
		if hi > lo {
			sum += (hi - lo) * v[k*stride]
			wsum += hi - lo
		}
	}
	if wsum == 0 {
		return 0
	}
	return sum / wsum
}

func ceil(f float64) float64 {
	i := float64(int(f))
	if i < f {
		return i + 1
	}
	return i
}

// lanczos downscales a row-major sw × sh grid to dw × dh with Pillow's
// antialiasing Lanczos-3 filter (support scaled by the reduction), the
// resampler Python imagehash uses; dHash and aHash compare neighbouring
// cells, so they agree with it only when filtered the same way.
func lanczos(src []float64, sw, sh, dw, dh int) []float64 {
	hw, vw := lanczosWeights(sw, dw), lanczosWeights(sh, dh)
	tmp := make([]float64, sh*dw)
	for y := 0; y < sh; y++ {
		row := src[y*sw : (y+1)*sw]
		for j, ws := range hw {
			var s float64
			for _, w := range ws {
				s += w.w * row[w.i]
			}
			tmp[y*dw+j] = s
		}
	}
	out := make([]float64, dw*dh)
	for i, ws := range vw {
		for j := 0; j < dw; j++ {
			var s float64
			for _, w := range ws {
				s += w.w * tmp[w.i*dw+j]
			}
			out[i*dw+j] = s
		}
	}
	roundGrid(out)
	return out
}

// roundGrid rounds a resampled grid to whole grey levels, as Pillow's 8-bit
// "L" images are: flat regions then compare equal instead of by rounding
// noise, which decides dHash bits there.
func roundGrid(g []float64) {
	for i, v := range g {
		g[i] = math.Round(v)
	}
}

type weight struct {
	i int
	w float64
}

// lanczosWeights returns, per output cell, the normalised Lanczos-3 weights
// of the n input cells, as Pillow computes them.
func lanczosWeights(n, m int) [][]weight {
	scale := float64(n) / float64(m)
	fs := max(scale, 1)
	support := 3 * fs
	out := make([][]weight, m)
	for i := range m {
		center := (float64(i) + 0.5) * scale
		lo, hi := max(int(center-support+0.5), 0), min(int(center+support+0.5), n)
		var ws []weight
		var sum float64
		for j := lo; j < hi; j++ {
			w := lanczos3((float64(j) - center + 0.5) / fs)
			ws = append(ws, weight{j, w})
			sum += w
		}
		for k := range ws {
			ws[k].w /= sum
		}
		out[i] = ws
	}
	return out
}

func lanczos3(x float64) float64 {
	if x < 0 {
		x = -x
	}
	if x >= 3 {
		return 0
	}
	return sinc(x) * sinc(x/3)
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x *= math.Pi
	return math.Sin(x) / x
}
