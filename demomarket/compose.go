package demomarket

import (
	"image/color"
	"math"
)

// Photo compositions: how a brand's studio, a private seller and a
// marketplace shop each photograph an object.

// lighting returns n waves of uneven light of at most amp steps.
func lighting(r *rng, n int, amp float64) []wave {
	ws := make([]wave, n)
	for i := range ws {
		ws[i] = wave{fx: r.between(-2.5, 2.5), fy: r.between(-2.5, 2.5), phase: r.between(0, 2*math.Pi), amp: r.between(amp/2, amp)}
	}
	return ws
}

func randColor(r *rng, lo, hi int) color.RGBA {
	c := func() uint8 { return uint8(lo + r.intn(hi-lo+1)) }
	return color.RGBA{c(), c(), c(), 255}
}

func tint(r *rng, base color.RGBA, spread int) color.RGBA {
	c := func(v uint8) uint8 { return uint8(max(0, min(255, int(v)+r.intn(2*spread+1)-spread))) }
	return color.RGBA{c(base.R), c(base.G), c(base.B), 255}
}

// studioPhoto is a brand's product shot: a light seamless background, the
// product large and centred (view 1) or a close crop (view 2), an accent
// band in the brand's colour.
func studioPhoto(r *rng, obj []shape, view int, accent color.RGBA) photo {
	p := photo{w: 560, h: 560, angle: r.between(0, 2*math.Pi), light: lighting(r, 2, 14)}
	light := randColor(r, 205, 250)
	p.bgA, p.bgB = light, tint(r, light, 40)
	if r.chance(0.35) {
		p.bgB = shade(accent, r.between(0.5, 1.1))
	}
	switch r.intn(3) {
	case 0:
		p.shapes = append(p.shapes, rect(0, r.between(0.72, 0.9), 1, 1, alpha(accent, 200)))
	case 1:
		x := r.between(0.0, 0.2)
		p.shapes = append(p.shapes, rect(x, 0, x+r.between(0.08, 0.2), 1, alpha(accent, 180)))
	default:
		p.shapes = append(p.shapes, ellipse(r.between(0.2, 0.8), r.between(0.2, 0.8), r.between(0.25, 0.45), r.between(0.25, 0.45), alpha(shade(light, 0.8), 160)))
	}
	if view == 1 {
		cx, cy := r.between(0.38, 0.62), r.between(0.45, 0.55)
		size := r.between(0.7, 0.85)
		p.shapes = append(p.shapes, ellipse(cx, cy+size*0.48, size*0.35, 0.03, color.RGBA{0, 0, 0, 50}))
		p.shapes = append(p.shapes, place(obj, cx, cy, size, 1, r.chance(0.3))...)
	} else {
		size := r.between(1.4, 2.0)
		p.shapes = append(p.shapes, place(obj, r.between(0.2, 0.8), r.between(0.25, 0.75), size, 1, r.chance(0.5))...)
	}
	return p
}

// snapshotPhoto is a private seller's photo: a room wall, a floor or a
// bed, some clutter, the object smaller and off-centre, sensor noise.
func snapshotPhoto(r *rng, obj []shape) photo {
	sizes := [][2]int{{512, 384}, {480, 360}, {420, 560}, {448, 448}, {560, 420}}
	sz := sizes[r.intn(len(sizes))]
	p := photo{w: sz[0], h: sz[1], angle: r.between(0, 2*math.Pi), grain: r.next() | 1, light: lighting(r, 3, 22)}
	aspect := float64(p.w) / float64(p.h)
	wall := randColor(r, 60, 230)
	p.bgA, p.bgB = wall, tint(r, wall, 60)
	floorY := r.between(0.45, 0.75)
	floors := []color.RGBA{rgb(150, 105, 60), rgb(110, 80, 50), rgb(200, 200, 205), rgb(90, 90, 100), rgb(180, 150, 120), rgb(60, 70, 90)}
	floor := tint(r, floors[r.intn(len(floors))], 20)
	p.shapes = append(p.shapes, rect(0, floorY, 1, 1, floor))
	if r.chance(0.5) {
		for x := r.between(0, 0.1); x < 1; x += r.between(0.12, 0.25) {
			p.shapes = append(p.shapes, rect(x, floorY, x+0.006, 1, shade(floor, 0.8)))
		}
	}
	for k := r.intn(4); k > 0; k-- {
		c := randColor(r, 30, 230)
		x, y := r.between(0, 1), r.between(0, 1)
		if r.chance(0.5) {
			p.shapes = append(p.shapes, ellipse(x, y, r.between(0.05, 0.2), r.between(0.05, 0.2), c))
		} else {
			p.shapes = append(p.shapes, rect(x, y, x+r.between(0.08, 0.3), y+r.between(0.05, 0.25), c))
		}
	}
	size := r.between(0.45, 0.75)
	p.shapes = append(p.shapes, place(obj, r.between(0.3, 0.7), r.between(0.35, 0.65), size, aspect, r.chance(0.5))...)
	return p
}

// shopPhoto is a marketplace shop's picture: a loud or plain background,
// the object, a banner with glyph-like marks and perhaps a badge.
func shopPhoto(r *rng, obj []shape) photo {
	sizes := [][2]int{{480, 480}, {520, 520}, {560, 560}, {440, 440}}
	sz := sizes[r.intn(len(sizes))]
	p := photo{w: sz[0], h: sz[1], angle: r.between(0, 2*math.Pi), light: lighting(r, 2, 14)}
	if r.chance(0.4) {
		p.bgA, p.bgB = rgb(255, 255, 255), randColor(r, 180, 255)
	} else {
		p.bgA, p.bgB = randColor(r, 20, 255), randColor(r, 20, 255)
	}
	size := r.between(0.5, 0.8)
	cx, cy := r.between(0.3, 0.7), r.between(0.35, 0.6)
	p.shapes = append(p.shapes, place(obj, cx, cy, size, 1, r.chance(0.5))...)
	if r.chance(0.7) {
		top := r.chance(0.5)
		y0 := 0.0
		if !top {
			y0 = r.between(0.8, 0.88)
		}
		h := r.between(0.1, 0.16)
		band := randColor(r, 0, 255)
		p.shapes = append(p.shapes, rect(0, y0, 1, y0+h, band))
		ink := rgb(255, 255, 255)
		if int(band.R)+int(band.G)+int(band.B) > 450 {
			ink = rgb(20, 20, 20)
		}
		x := r.between(0.04, 0.15)
		for x < 0.92 {
			gw := r.between(0.02, 0.05)
			switch r.intn(3) {
			case 0:
				p.shapes = append(p.shapes, rect(x, y0+h*0.25, x+gw, y0+h*0.75, ink))
			case 1:
				p.shapes = append(p.shapes, ring(x+gw/2, y0+h/2, gw/2, 0.55, ink))
			default:
				p.shapes = append(p.shapes, poly(ink, x, y0+h*0.75, x+gw/2, y0+h*0.25, x+gw, y0+h*0.75))
			}
			x += gw + r.between(0.008, 0.04)
			if r.chance(0.15) {
				x += 0.04
			}
		}
	}
	if r.chance(0.5) {
		bx, by := r.between(0.1, 0.9), r.between(0.1, 0.9)
		p.shapes = append(p.shapes, ellipse(bx, by, 0.09, 0.09, rgb(220, 30, 30)), ring(bx, by, 0.07, 0.8, rgb(255, 230, 0)))
	}
	return p
}
