package demomarket

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/bits"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Photos are described by a photo value (a background and a stack of
// shapes in coordinates normalised to [0,1]) and rendered on demand, so a
// Market costs little until its images are fetched.

type shapeKind int

const (
	shRect shapeKind = iota
	shEllipse
	shRing
	shPoly
)

type pt struct{ x, y float64 }

type shape struct {
	kind           shapeKind
	x0, y0, x1, y1 float64 // bounding box (rect, ellipse, ring)
	inner          float64 // ring: inner radius as a fraction of the outer
	pts            []pt    // poly
	c              color.RGBA
}

// photo is a resolution-independent picture.
type photo struct {
	w, h     int // nominal size in pixels
	bgA, bgB color.RGBA
	angle    float64 // direction of the background gradient
	shapes   []shape
	grain    uint64 // seed of the sensor noise; 0 for none
	light    []wave // uneven lighting over the whole picture
}

// wave is one component of uneven lighting: brightness changes by amp
// (in 8-bit steps) along a plane wave of fx, fy cycles per picture.
type wave struct {
	fx, fy, phase, amp float64
}

func rect(x0, y0, x1, y1 float64, c color.RGBA) shape {
	return shape{kind: shRect, x0: x0, y0: y0, x1: x1, y1: y1, c: c}
}

func ellipse(cx, cy, rx, ry float64, c color.RGBA) shape {
	return shape{kind: shEllipse, x0: cx - rx, y0: cy - ry, x1: cx + rx, y1: cy + ry, c: c}
}

func ring(cx, cy, r, inner float64, c color.RGBA) shape {
	return shape{kind: shRing, x0: cx - r, y0: cy - r, x1: cx + r, y1: cy + r, inner: inner, c: c}
}

func poly(c color.RGBA, xy ...float64) shape {
	s := shape{kind: shPoly, c: c}
	for i := 0; i+1 < len(xy); i += 2 {
		s.pts = append(s.pts, pt{xy[i], xy[i+1]})
	}
	return s
}

// bar is a rectangle of length l and width wd centred on (cx, cy) and
// rotated by a radians, as a polygon.
func bar(cx, cy, l, wd, a float64, c color.RGBA) shape {
	dx, dy := math.Cos(a), math.Sin(a)
	nx, ny := -dy, dx
	hl, hw := l/2, wd/2
	return poly(c,
		cx-dx*hl-nx*hw, cy-dy*hl-ny*hw,
		cx+dx*hl-nx*hw, cy+dy*hl-ny*hw,
		cx+dx*hl+nx*hw, cy+dy*hl+ny*hw,
		cx-dx*hl+nx*hw, cy-dy*hl+ny*hw)
}

func (s shape) bounds() (x0, y0, x1, y1 float64) {
	if s.kind != shPoly {
		return s.x0, s.y0, s.x1, s.y1
	}
	x0, y0, x1, y1 = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range s.pts {
		x0, y0 = math.Min(x0, p.x), math.Min(y0, p.y)
		x1, y1 = math.Max(x1, p.x), math.Max(y1, p.y)
	}
	return x0, y0, x1, y1
}

func (s shape) contains(u, v float64) bool {
	switch s.kind {
	case shRect:
		return u >= s.x0 && u < s.x1 && v >= s.y0 && v < s.y1
	case shEllipse, shRing:
		cx, cy := (s.x0+s.x1)/2, (s.y0+s.y1)/2
		rx, ry := (s.x1-s.x0)/2, (s.y1-s.y0)/2
		if rx <= 0 || ry <= 0 {
			return false
		}
		d := (u-cx)*(u-cx)/(rx*rx) + (v-cy)*(v-cy)/(ry*ry)
		if s.kind == shEllipse {
			return d <= 1
		}
		return d <= 1 && d >= s.inner*s.inner
	case shPoly:
		in := false
		n := len(s.pts)
		for i, j := 0, n-1; i < n; j, i = i, i+1 {
			a, b := s.pts[i], s.pts[j]
			if (a.y > v) != (b.y > v) && u < (b.x-a.x)*(v-a.y)/(b.y-a.y)+a.x {
				in = !in
			}
		}
		return in
	}
	return false
}

// place maps shapes drawn in a unit box into a photo: centred on (cx, cy),
// size as a fraction of the photo's height, aspect = width/height so that
// circles stay round. flip mirrors the object.
func place(shapes []shape, cx, cy, size, aspect float64, flip bool) []shape {
	sx, sy := size/aspect, size
	mx := func(x float64) float64 {
		if flip {
			x = 1 - x
		}
		return cx + (x-0.5)*sx
	}
	my := func(y float64) float64 { return cy + (y-0.5)*sy }
	out := make([]shape, 0, len(shapes))
	for _, s := range shapes {
		t := s
		if s.kind == shPoly {
			t.pts = make([]pt, len(s.pts))
			for i, p := range s.pts {
				t.pts[i] = pt{mx(p.x), my(p.y)}
			}
		} else {
			a, b := mx(s.x0), mx(s.x1)
			if a > b {
				a, b = b, a
			}
			t.x0, t.x1, t.y0, t.y1 = a, b, my(s.y0), my(s.y1)
		}
		out = append(out, t)
	}
	return out
}

func lerp(a, b uint8, t float64) uint8 {
	return uint8(math.Round(float64(a) + (float64(b)-float64(a))*t))
}

func clamp8(v int) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

func blend(dst *image.RGBA, i int, c color.RGBA) {
	if c.A == 255 {
		dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = c.R, c.G, c.B, 255
		return
	}
	a := float64(c.A) / 255
	dst.Pix[i] = lerp(dst.Pix[i], c.R, a)
	dst.Pix[i+1] = lerp(dst.Pix[i+1], c.G, a)
	dst.Pix[i+2] = lerp(dst.Pix[i+2], c.B, a)
}

// render draws p at w×h pixels.
func (p photo) render(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	ca, sa := math.Cos(p.angle), math.Sin(p.angle)
	// t(u, v) = ((u-0.5)*ca + (v-0.5)*sa)*1.2 + 0.5 is separable, and so
	// is each lighting wave through sin(a+b) = sin a cos b + cos a sin b.
	tx := make([]float64, w)
	for x := range tx {
		tx[x] = ((float64(x)+0.5)/float64(w) - 0.5) * ca * 1.2
	}
	n := len(p.light)
	lx := make([]float64, 2*n*w)
	for k, l := range p.light {
		for x := 0; x < w; x++ {
			a := 2 * math.Pi * l.fx * (float64(x) + 0.5) / float64(w)
			lx[(2*k)*w+x] = l.amp * math.Sin(a)
			lx[(2*k+1)*w+x] = l.amp * math.Cos(a)
		}
	}
	bgA := [3]float64{float64(p.bgA.R), float64(p.bgA.G), float64(p.bgA.B)}
	bgB := [3]float64{float64(p.bgB.R), float64(p.bgB.G), float64(p.bgB.B)}
	ly := make([]float64, 2*n)
	for y := 0; y < h; y++ {
		v := (float64(y) + 0.5) / float64(h)
		ty := (v-0.5)*sa*1.2 + 0.5
		for k, l := range p.light {
			b := 2*math.Pi*l.fy*v + l.phase
			ly[2*k], ly[2*k+1] = math.Cos(b), math.Sin(b)
		}
		row := img.Pix[y*img.Stride:]
		for x := 0; x < w; x++ {
			t := tx[x] + ty
			if t < 0 {
				t = 0
			} else if t > 1 {
				t = 1
			}
			for c := 0; c < 3; c++ {
				row[4*x+c] = uint8(bgA[c] + (bgB[c]-bgA[c])*t + 0.5)
			}
			row[4*x+3] = 255
		}
	}
	for _, s := range p.shapes {
		x0, y0, x1, y1 := s.bounds()
		px0 := max(0, int(math.Floor(x0*float64(w))))
		py0 := max(0, int(math.Floor(y0*float64(h))))
		px1 := min(w, int(math.Ceil(x1*float64(w))))
		py1 := min(h, int(math.Ceil(y1*float64(h))))
		for y := py0; y < py1; y++ {
			v := (float64(y) + 0.5) / float64(h)
			for x := px0; x < px1; x++ {
				if s.contains((float64(x)+0.5)/float64(w), v) {
					blend(img, img.PixOffset(x, y), s.c)
				}
			}
		}
	}
	if n > 0 {
		for y := 0; y < h; y++ {
			v := (float64(y) + 0.5) / float64(h)
			for k, l := range p.light {
				b := 2*math.Pi*l.fy*v + l.phase
				ly[2*k], ly[2*k+1] = math.Cos(b), math.Sin(b)
			}
			row := img.Pix[y*img.Stride:]
			for x := 0; x < w; x++ {
				d := 0.0
				for k := 0; k < n; k++ {
					d += lx[(2*k)*w+x]*ly[2*k] + lx[(2*k+1)*w+x]*ly[2*k+1]
				}
				di := int(d)
				for c := 0; c < 3; c++ {
					row[4*x+c] = clamp8(int(row[4*x+c]) + di)
				}
			}
		}
	}
	if p.grain != 0 {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				z := p.grain ^ uint64(x)*0x9E3779B97F4A7C15 ^ uint64(y)*0xC2B2AE3D27D4EB4F
				z = (z ^ (z >> 29)) * 0xBF58476D1CE4E5B9
				d := (int(z>>59) - 16) / 3 // -5..5
				i := img.PixOffset(x, y)
				for k := 0; k < 3; k++ {
					img.Pix[i+k] = clamp8(int(img.Pix[i+k]) + d)
				}
			}
		}
	}
	return img
}

// resample1D resizes each row of src (n rows of w values) to dw values
// with a triangle filter stretched by the scale, the way nfnt/resize's
// Bilinear does, and returns the rows transposed (dw rows of n values), so
// that two calls resize both axes.
func resample1D(src []float64, w, n, dw int) []float64 {
	scale := float64(w) / float64(dw)
	length := 2 * max(int(math.Ceil(scale)), 1)
	factor := math.Min(1/scale, 1)
	out := make([]float64, dw*n)
	for x := 0; x < dw; x++ {
		c := scale*(float64(x)+0.5) - 0.5
		start := int(c) - length/2 + 1
		for r := 0; r < n; r++ {
			sum, wsum := 0.0, 0.0
			for i := 0; i < length; i++ {
				k := 1 - math.Abs((c-float64(start+i))*factor)
				if k <= 0 {
					continue
				}
				xi := min(max(start+i, 0), w-1)
				sum += k * src[r*w+xi]
				wsum += k
			}
			out[x*n+r] = sum / wsum
		}
	}
	return out
}

// photoHash is the approximate pHash and dHash of a photo with, for each,
// the bits that are far enough from flipping to be trusted.
type photoHash struct {
	p, pStable, d, dStable uint64
}

// distance counts the bits in which a and b differ, for pHash and dHash.
func (a photoHash) distance(b photoHash) (p, d int) {
	return bits.OnesCount64(a.p ^ b.p), bits.OnesCount64(a.d ^ b.d)
}

// hashes approximates the 64-bit pHash and dHash that goimagehash computes
// on the full-size photo: a bilinear reduction to 64×64 (9×8), greyscale,
// DCT-II of which the top-left 8×8 is compared with its median; left/right
// differences.
func (p photo) hashes() (h photoHash) {
	const n = 128
	p.grain = 0 // high-frequency noise does not move these hashes
	src := p.render(n, n)
	grey := make([]float64, n*n)
	for i := range grey {
		grey[i] = 0.299*float64(src.Pix[4*i]) + 0.587*float64(src.Pix[4*i+1]) + 0.114*float64(src.Pix[4*i+2])
	}
	small := resample1D(resample1D(grey, n, n, 64), n, 64, 64) // [y][x] of 64×64
	var g [64][64]float64
	for y := 0; y < 64; y++ {
		copy(g[y][:], small[y*64:(y+1)*64])
	}
	var cosT [8][64]float64
	for k := 0; k < 8; k++ {
		for n := 0; n < 64; n++ {
			cosT[k][n] = math.Cos(math.Pi / 64 * (float64(n) + 0.5) * float64(k))
		}
	}
	// rows first: r[y][u] = sum_x g[y][x] cos(u, x)
	var r [64][8]float64
	for y := 0; y < 64; y++ {
		for u := 0; u < 8; u++ {
			s := 0.0
			for x := 0; x < 64; x++ {
				s += g[y][x] * cosT[u][x]
			}
			r[y][u] = s
		}
	}
	var coef [64]float64
	for v := 0; v < 8; v++ {
		for u := 0; u < 8; u++ {
			s := 0.0
			for y := 0; y < 64; y++ {
				s += r[y][u] * cosT[v][y]
			}
			coef[v*8+u] = s
		}
	}
	sorted := coef
	sortFloats(sorted[:])
	median := sorted[32]
	eps := (sorted[48] - sorted[16]) * 0.08
	for i, c := range coef {
		if c > median {
			h.p |= 1 << (63 - i)
		}
		if math.Abs(c-median) > eps {
			h.pStable |= 1 << (63 - i)
		}
	}
	d := resample1D(resample1D(grey, n, n, 9), n, 9, 8) // [y][x] of 9×8
	idx := 0
	for y := 0; y < 8; y++ {
		for x := 0; x < 8; x++ {
			if d[y*9+x] < d[y*9+x+1] {
				h.d |= 1 << (63 - idx)
			}
			if math.Abs(d[y*9+x]-d[y*9+x+1]) > 1.5 {
				h.dStable |= 1 << (63 - idx)
			}
			idx++
		}
	}
	return h
}

func sortFloats(xs []float64) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

// transform is a change a counterfeiter applies to a brand photo before
// re-uploading it.
type transform string

// The transforms applied to reused brand photos.
const (
	tfExact     transform = "exact"
	tfResize    transform = "resized"
	tfCrop      transform = "cropped"
	tfPad       transform = "padded"
	tfMirror    transform = "mirrored"
	tfBrighten  transform = "brightened"
	tfJPEGLow   transform = "recompressed"
	tfWatermark transform = "watermarked"
)

// applyTransform returns src changed by tf; text is the watermark.
func applyTransform(src *image.RGBA, tf transform, text string) image.Image {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	switch tf {
	case tfResize:
		dst := image.NewRGBA(image.Rect(0, 0, w*7/10, h*7/10))
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
		return dst
	case tfCrop:
		dx, dy := w/10, h/10
		return src.SubImage(image.Rect(dx, dy/2, w-dx/2, h-dy))
	case tfPad:
		W, H := w*5/4, h*5/4
		dst := image.NewRGBA(image.Rect(0, 0, W, H))
		draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
		draw.Draw(dst, image.Rect((W-w)/2, (H-h)/2, (W-w)/2+w, (H-h)/2+h), src, b.Min, draw.Src)
		return dst
	case tfMirror:
		dst := image.NewRGBA(b)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				copy(dst.Pix[dst.PixOffset(w-1-x, y):][:4], src.Pix[src.PixOffset(x, y):][:4])
			}
		}
		return dst
	case tfBrighten:
		dst := image.NewRGBA(b)
		for i := 0; i < len(src.Pix); i += 4 {
			for k := 0; k < 3; k++ {
				dst.Pix[i+k] = uint8(min(255, int(src.Pix[i+k])*115/100+28))
			}
			dst.Pix[i+3] = 255
		}
		return dst
	case tfWatermark:
		dst := image.NewRGBA(b)
		copy(dst.Pix, src.Pix)
		drawText(dst, text, w/12, h*5/6, 3, color.RGBA{255, 255, 255, 200})
		drawText(dst, text, w/12+3, h*5/6+3, 3, color.RGBA{200, 20, 20, 220})
		return dst
	}
	return src
}

// drawText writes s with the 7×13 basic font magnified scale times, with
// its top-left corner at (x, y).
func drawText(dst *image.RGBA, s string, x, y, scale int, c color.RGBA) {
	face := basicfont.Face7x13
	tw := font.MeasureString(face, s).Ceil()
	mask := image.NewAlpha(image.Rect(0, 0, tw, 13))
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: face, Dot: fixed.P(0, 11)}
	d.DrawString(s)
	for my := 0; my < 13; my++ {
		for mx := 0; mx < tw; mx++ {
			if mask.AlphaAt(mx, my).A < 128 {
				continue
			}
			for sy := 0; sy < scale; sy++ {
				for sx := 0; sx < scale; sx++ {
					px, py := x+mx*scale+sx, y+my*scale+sy
					if image.Pt(px, py).In(dst.Bounds()) {
						blend(dst, dst.PixOffset(px, py), c)
					}
				}
			}
		}
	}
}

// encode writes img as JPEG (quality q) or, for names ending in .png, PNG.
func encode(img image.Image, png_ bool, q int) ([]byte, error) {
	var buf bytes.Buffer
	if png_ {
		if err := png.Encode(&buf, img); err != nil {
			return nil, fmt.Errorf("encode png: %w", err)
		}
		return buf.Bytes(), nil
	}
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		return nil, fmt.Errorf("encode jpeg: %w", err)
	}
	return buf.Bytes(), nil
}
