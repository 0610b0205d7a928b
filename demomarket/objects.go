package demomarket

import (
	"image/color"
	"math"
)

// The objects below are drawn in a unit box (0..1 both ways) and put into
// a photo with place.

func shade(c color.RGBA, f float64) color.RGBA {
	s := func(v uint8) uint8 { return uint8(math.Max(0, math.Min(255, float64(v)*f))) }
	return color.RGBA{s(c.R), s(c.G), s(c.B), c.A}
}

func alpha(c color.RGBA, a uint8) color.RGBA { c.A = a; return c }

// jacket draws a jacket, parka, fleece or vest. mark adds the Nordvik
// mountain logo on the chest.
func jacket(variant string, body, trim, lining color.RGBA, mark bool) []shape {
	var s []shape
	bottom := 0.95
	if variant == "parka" {
		bottom = 1.0
		s = append(s, ellipse(0.5, 0.09, 0.17, 0.10, shade(body, 0.8)),
			ring(0.5, 0.09, 0.17, 0.7, trim))
	}
	if variant == "vest" {
		s = append(s, poly(body, 0.32, 0.08, 0.68, 0.08, 0.80, 0.20, 0.78, bottom, 0.22, bottom, 0.20, 0.20))
		for y := 0.28; y < bottom-0.05; y += 0.11 {
			s = append(s, rect(0.21, y, 0.79, y+0.012, shade(body, 0.7)))
		}
	} else {
		s = append(s, poly(body,
			0.38, 0.08, 0.62, 0.08, 0.80, 0.16, 0.97, 0.72, 0.86, 0.76, 0.76, 0.38,
			0.76, bottom, 0.24, bottom, 0.24, 0.38, 0.14, 0.76, 0.03, 0.72, 0.20, 0.16))
		s = append(s, rect(0.03, 0.66, 0.14, 0.74, trim), rect(0.86, 0.66, 0.97, 0.74, trim))
	}
	s = append(s, poly(lining, 0.40, 0.07, 0.60, 0.07, 0.5, 0.17))
	s = append(s, rect(0.492, 0.12, 0.508, bottom, trim))
	switch variant {
	case "shell":
		s = append(s, bar(0.36, 0.34, 0.14, 0.012, 1.2, trim), bar(0.64, 0.34, 0.14, 0.012, 1.94, trim),
			rect(0.24, 0.55, 0.76, 0.58, shade(body, 0.75)))
	case "parka":
		s = append(s, rect(0.28, 0.62, 0.44, 0.78, shade(body, 0.8)), rect(0.56, 0.62, 0.72, 0.78, shade(body, 0.8)),
			rect(0.28, 0.62, 0.44, 0.65, trim), rect(0.56, 0.62, 0.72, 0.65, trim))
	case "fleece":
		s = append(s, rect(0.24, 0.30, 0.76, 0.42, trim), rect(0.08, 0.50, 0.19, 0.56, trim), rect(0.81, 0.50, 0.92, 0.56, trim))
	case "vest":
		s = append(s, rect(0.26, 0.50, 0.40, 0.60, lining), rect(0.60, 0.50, 0.74, 0.60, lining))
	}
	if mark {
		s = append(s, poly(color.RGBA{250, 250, 250, 255}, 0.60, 0.30, 0.655, 0.21, 0.71, 0.30),
			poly(body, 0.635, 0.30, 0.655, 0.265, 0.675, 0.30))
	}
	return s
}

// watch draws a wrist watch. mark adds the Lumora ring logo on the dial.
func watch(variant string, caseC, dial, strap color.RGBA, mark bool) []shape {
	r := 0.28
	sw := 0.20
	if variant == "petite" {
		r, sw = 0.21, 0.13
	}
	s := []shape{
		rect(0.5-sw/2, 0.0, 0.5+sw/2, 0.5, strap),
		rect(0.5-sw/2, 0.5, 0.5+sw/2, 1.0, shade(strap, 0.85)),
		rect(0.5-sw/2-0.01, 0.5-r-0.04, 0.5+sw/2+0.01, 0.5+r+0.04, shade(caseC, 0.8)),
		rect(0.5+r-0.01, 0.47, 0.5+r+0.04, 0.53, caseC),
		ellipse(0.5, 0.5, r, r, caseC),
	}
	if variant == "diver" {
		s = append(s, ring(0.5, 0.5, r*0.96, 0.80, shade(dial, 0.6)),
			poly(color.RGBA{240, 240, 240, 255}, 0.48, 0.5-r*0.93, 0.52, 0.5-r*0.93, 0.5, 0.5-r*0.82))
		s = append(s, ellipse(0.5, 0.5, r*0.76, r*0.76, dial))
	} else {
		s = append(s, ellipse(0.5, 0.5, r*0.86, r*0.86, dial))
	}
	markC := shade(caseC, 1.1)
	if variant == "diver" {
		markC = color.RGBA{235, 235, 225, 255}
	}
	for k := 0; k < 12; k++ {
		a := float64(k) * math.Pi / 6
		rr := r * 0.68
		l := 0.04
		if k%3 == 0 {
			l = 0.07
		}
		s = append(s, bar(0.5+rr*math.Sin(a), 0.5-rr*math.Cos(a), l, 0.014, a+math.Pi/2, markC))
	}
	if variant == "chrono" {
		for _, c := range []pt{{0.5, 0.5 - r*0.38}, {0.5 - r*0.38, 0.5 + r*0.18}, {0.5 + r*0.38, 0.5 + r*0.18}} {
			s = append(s, ring(c.x, c.y, r*0.2, 0.75, shade(caseC, 0.7)))
		}
		s = append(s, rect(0.5+r+0.01, 0.5-r*0.55, 0.5+r+0.04, 0.5-r*0.45, caseC),
			rect(0.5+r+0.01, 0.5+r*0.45, 0.5+r+0.04, 0.5+r*0.55, caseC))
	}
	if variant == "classic" || variant == "petite" {
		s = append(s, rect(0.5+r*0.35, 0.485, 0.5+r*0.5, 0.515, color.RGBA{245, 245, 245, 255}))
	}
	hand := shade(caseC, 0.5)
	if dial.R < 100 && dial.G < 100 {
		hand = color.RGBA{235, 235, 235, 255}
	}
	s = append(s, bar(0.5+r*0.22*math.Sin(-0.9), 0.5-r*0.22*math.Cos(-0.9), r*0.48, 0.022, -0.9-math.Pi/2, hand),
		bar(0.5+r*0.3*math.Sin(2.1), 0.5-r*0.3*math.Cos(2.1), r*0.66, 0.014, 2.1-math.Pi/2, hand),
		ellipse(0.5, 0.5, 0.018, 0.018, hand))
	if mark {
		s = append(s, ring(0.5, 0.5-r*0.32, 0.03, 0.55, color.RGBA{200, 160, 60, 255}),
			ellipse(0.5, 0.5-r*0.32, 0.008, 0.008, color.RGBA{200, 160, 60, 255}))
	}
	return s
}

// goods draws an everyday object for unrelated listings and accessories.
func goods(kind string, a, b color.RGBA) []shape {
	switch kind {
	case "backpack":
		return []shape{ring(0.5, 0.16, 0.12, 0.6, shade(a, 0.7)), ellipse(0.5, 0.3, 0.3, 0.14, a), rect(0.2, 0.3, 0.8, 0.95, a),
			rect(0.3, 0.58, 0.7, 0.88, b), rect(0.3, 0.58, 0.7, 0.61, shade(b, 0.6))}
	case "shoe":
		return []shape{poly(a, 0.08, 0.45, 0.45, 0.42, 0.62, 0.55, 0.92, 0.62, 0.95, 0.74, 0.08, 0.74),
			rect(0.07, 0.74, 0.96, 0.80, b), bar(0.40, 0.48, 0.12, 0.02, 0.3, b), bar(0.46, 0.51, 0.12, 0.02, 0.3, b)}
	case "bottle":
		return []shape{rect(0.36, 0.28, 0.64, 0.95, a), rect(0.43, 0.12, 0.57, 0.28, a), rect(0.41, 0.05, 0.59, 0.13, b), rect(0.36, 0.5, 0.64, 0.7, b)}
	case "mug":
		return []shape{ring(0.7, 0.55, 0.16, 0.6, a), rect(0.22, 0.3, 0.7, 0.85, a), ellipse(0.46, 0.3, 0.24, 0.04, shade(a, 0.6)), rect(0.22, 0.5, 0.7, 0.56, b)}
	case "lamp":
		return []shape{ellipse(0.5, 0.92, 0.22, 0.05, b), bar(0.45, 0.6, 0.6, 0.03, -1.3, b), bar(0.52, 0.24, 0.3, 0.03, 0.4, b),
			poly(a, 0.55, 0.12, 0.82, 0.25, 0.70, 0.42), ellipse(0.72, 0.36, 0.05, 0.03, color.RGBA{255, 240, 180, 255})}
	case "beanie":
		return []shape{ellipse(0.5, 0.62, 0.32, 0.36, a), rect(0.16, 0.62, 0.84, 0.98, shade(a, 0.8)), rect(0.16, 0.72, 0.84, 0.76, b), ellipse(0.5, 0.22, 0.1, 0.1, b)}
	case "umbrella":
		canopy := poly(a)
		for k := 0; k <= 16; k++ {
			t := math.Pi * float64(k) / 16
			canopy.pts = append(canopy.pts, pt{0.5 - 0.42*math.Cos(t), 0.45 - 0.3*math.Sin(t)})
		}
		return []shape{canopy, rect(0.49, 0.45, 0.51, 0.9, b), ring(0.46, 0.9, 0.05, 0.6, b)}
	case "poster":
		return []shape{rect(0.1, 0.1, 0.9, 0.9, b), rect(0.14, 0.14, 0.86, 0.86, color.RGBA{12, 20, 48, 255}),
			ellipse(0.4, 0.5, 0.4, 0.1, alpha(a, 160)), ellipse(0.6, 0.4, 0.3, 0.06, alpha(shade(a, 1.3), 140)), rect(0.14, 0.75, 0.86, 0.86, color.RGBA{20, 30, 20, 255})}
	case "tent":
		return []shape{poly(a, 0.1, 0.85, 0.5, 0.2, 0.9, 0.85), poly(shade(a, 0.6), 0.42, 0.85, 0.5, 0.5, 0.58, 0.85), rect(0.05, 0.85, 0.95, 0.88, b)}
	case "strap":
		s := []shape{rect(0.40, 0.02, 0.60, 0.98, a), ring(0.5, 0.12, 0.09, 0.7, b)}
		for y := 0.55; y < 0.95; y += 0.08 {
			s = append(s, ellipse(0.5, y, 0.015, 0.015, shade(a, 0.5)))
		}
		return s
	case "watchcase":
		return []shape{rect(0.15, 0.35, 0.85, 0.85, a), rect(0.15, 0.2, 0.85, 0.35, shade(a, 0.8)), ellipse(0.5, 0.6, 0.16, 0.16, b), rect(0.45, 0.55, 0.55, 0.85, b)}
	case "protector":
		return []shape{ellipse(0.35, 0.5, 0.22, 0.22, alpha(b, 120)), ring(0.35, 0.5, 0.22, 0.95, a), ellipse(0.68, 0.5, 0.22, 0.22, alpha(b, 120)), ring(0.68, 0.5, 0.22, 0.95, a)}
	case "spray":
		return []shape{rect(0.35, 0.25, 0.65, 0.95, a), rect(0.40, 0.12, 0.60, 0.25, b), rect(0.35, 0.45, 0.65, 0.65, shade(b, 1.2))}
	case "hood":
		return []shape{ellipse(0.5, 0.5, 0.36, 0.4, a), ellipse(0.5, 0.56, 0.22, 0.28, shade(a, 0.5)), ring(0.5, 0.5, 0.36, 0.85, b)}
	case "socks":
		return []shape{poly(a, 0.3, 0.05, 0.5, 0.05, 0.5, 0.6, 0.8, 0.75, 0.78, 0.92, 0.3, 0.85), rect(0.3, 0.05, 0.5, 0.15, b)}
	case "poles":
		return []shape{bar(0.4, 0.5, 0.9, 0.03, 1.45, a), bar(0.6, 0.5, 0.9, 0.03, 1.69, a), rect(0.33, 0.03, 0.45, 0.16, b), rect(0.55, 0.03, 0.67, 0.16, b)}
	case "towel":
		return []shape{rect(0.15, 0.2, 0.85, 0.85, a), rect(0.15, 0.3, 0.85, 0.36, b), rect(0.15, 0.7, 0.85, 0.76, b)}
	case "candles":
		return []shape{rect(0.12, 0.4, 0.32, 0.9, a), rect(0.40, 0.3, 0.60, 0.9, a), rect(0.68, 0.5, 0.88, 0.9, a),
			ellipse(0.22, 0.35, 0.02, 0.04, b), ellipse(0.5, 0.25, 0.02, 0.04, b), ellipse(0.78, 0.45, 0.02, 0.04, b)}
	case "yogamat":
		return []shape{rect(0.1, 0.3, 0.7, 0.8, a), ellipse(0.75, 0.55, 0.12, 0.25, shade(a, 0.8)), ellipse(0.75, 0.55, 0.05, 0.12, shade(a, 0.5)), rect(0.3, 0.3, 0.34, 0.8, b)}
	}
	return []shape{rect(0.2, 0.2, 0.8, 0.8, a), rect(0.2, 0.45, 0.8, 0.55, b)}
}
