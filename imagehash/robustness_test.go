package imagehash

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"slices"
	"strings"
	"testing"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/patrol-dev/patrol/demomarket"
)

// photo is one source image of the robustness table, flattened onto white.
type photo struct {
	name  string
	group string // photos of one group are the same picture
	img   *image.RGBA
}

// flatten composites img onto white, as a page shows it and as
// counterfeiters' re-encodes do.
func flatten(img image.Image) *image.RGBA {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Over)
	return dst
}

// robustnessPhotos returns the fixture photos and, with demo set, the demo
// marketplace's brand reference photos.
func robustnessPhotos(tb testing.TB, demo bool) []photo {
	var out []photo
	for _, f := range loadFixtures(tb) {
		img, err := Decode(f.data, Limits{})
		if err != nil {
			tb.Fatalf("Decode(%s): %v", f.name, err)
		}
		g := f.group
		if g == "" || f.name == "xi-go-turns-two-rotate-bl.png" {
			// The rotated artwork is a different picture to a hash.
			g = f.name
		}
		out = append(out, photo{name: f.name, group: g, img: flatten(img)})
	}
	if !demo {
		return out
	}
	m := demomarket.New(demomarket.Options{Seed: 1})
	for _, b := range demomarket.Brands() {
		for _, name := range b.ReferenceImages {
			data, ok := m.ImageBytes(name)
			if !ok {
				tb.Fatalf("demomarket ImageBytes(%s) missing", name)
			}
			img, err := Decode(data, Limits{})
			if err != nil {
				tb.Fatalf("Decode(demo %s): %v", name, err)
			}
			out = append(out, photo{name: "demo:" + name, group: "demo:" + name, img: flatten(img)})
		}
	}
	return out
}

// transform is one edit a counterfeiter makes to a reused photo.
type transform struct {
	name string
	fn   func(tb testing.TB, src *image.RGBA) image.Image
	// stretch marks an edit beyond the targets (TestRobustness skips it):
	// reported to show where the hashes stop.
	stretch bool
}

func scale(f float64) func(testing.TB, *image.RGBA) image.Image {
	return func(_ testing.TB, src *image.RGBA) image.Image {
		b := src.Bounds()
		dst := image.NewRGBA(image.Rect(0, 0, max(1, int(float64(b.Dx())*f)), max(1, int(float64(b.Dy())*f))))
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
		return dst
	}
}

func recompress(q int) func(testing.TB, *image.RGBA) image.Image {
	return func(tb testing.TB, src *image.RGBA) image.Image {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: q}); err != nil {
			tb.Fatal(err)
		}
		img, err := Decode(buf.Bytes(), Limits{})
		if err != nil {
			tb.Fatal(err)
		}
		return img
	}
}

// crop keeps the region inside fractional margins left, top, right, bottom.
func crop(l, t, r, bt float64) func(testing.TB, *image.RGBA) image.Image {
	return func(_ testing.TB, src *image.RGBA) image.Image {
		w, h := float64(src.Bounds().Dx()), float64(src.Bounds().Dy())
		return src.SubImage(image.Rect(int(l*w), int(t*h), int((1-r)*w), int((1-bt)*h)))
	}
}

// pad centres src on a white canvas f times larger than it.
func pad(f float64) func(testing.TB, *image.RGBA) image.Image {
	return func(_ testing.TB, src *image.RGBA) image.Image {
		w, h := src.Bounds().Dx(), src.Bounds().Dy()
		W, H := int(float64(w)*(1+f)), int(float64(h)*(1+f))
		dst := image.NewRGBA(image.Rect(0, 0, W, H))
		draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
		draw.Draw(dst, image.Rect((W-w)/2, (H-h)/2, (W-w)/2+w, (H-h)/2+h), src, image.Point{}, draw.Src)
		return dst
	}
}

func mirror(_ testing.TB, src *image.RGBA) image.Image {
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			dst.SetRGBA(b.Dx()-1-x, y, src.RGBAAt(b.Min.X+x, b.Min.Y+y))
		}
	}
	return dst
}

func brighten(f float64) func(testing.TB, *image.RGBA) image.Image {
	return func(_ testing.TB, src *image.RGBA) image.Image {
		dst := image.NewRGBA(src.Bounds())
		for i, v := range src.Pix {
			if i%4 == 3 {
				dst.Pix[i] = v
				continue
			}
			dst.Pix[i] = uint8(min(255, float64(v)*(1+f)+0.5))
		}
		return dst
	}
}

// watermark writes a seller's text, half-opaque, across the lower part of
// the photo: about 70% of its width, letters about a twelfth of its height.
func watermark(_ testing.TB, src *image.RGBA) image.Image {
	const text = "BEST PRICE - cheapdeals.example"
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), src, b.Min, draw.Src)
	face := basicfont.Face7x13
	tw := font.MeasureString(face, text).Ceil()
	mask := image.NewAlpha(image.Rect(0, 0, tw, 13))
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: face, Dot: fixed.P(0, 11)}
	d.DrawString(text)
	w := b.Dx() * 7 / 10
	h := max(1, w*13/tw)
	big := image.NewAlpha(image.Rect(0, 0, w, h))
	draw.NearestNeighbor.Scale(big, big.Bounds(), mask, mask.Bounds(), draw.Src, nil)
	at := image.Rect((b.Dx()-w)/2, b.Dy()*7/10, (b.Dx()-w)/2+w, b.Dy()*7/10+h)
	ink := image.NewUniform(color.NRGBA{R: 30, G: 30, B: 30, A: 128})
	draw.DrawMask(dst, at, ink, image.Point{}, big, image.Point{}, draw.Over)
	return dst
}

func chain(fs ...func(testing.TB, *image.RGBA) image.Image) func(testing.TB, *image.RGBA) image.Image {
	return func(tb testing.TB, src *image.RGBA) image.Image {
		var img image.Image = src
		for _, f := range fs {
			img = f(tb, flatten(img))
		}
		return img
	}
}

// levels maps every channel v to min(255, v·gain+offset): a brightness
// and contrast edit that clips light backgrounds to white, as the demo
// marketplace's brightened copies do.
func levels(gain, offset float64) func(testing.TB, *image.RGBA) image.Image {
	return func(_ testing.TB, src *image.RGBA) image.Image {
		dst := image.NewRGBA(src.Bounds())
		for i, v := range src.Pix {
			if i%4 == 3 {
				dst.Pix[i] = v
				continue
			}
			dst.Pix[i] = uint8(min(255, float64(v)*gain+offset))
		}
		return dst
	}
}

func transforms() []transform {
	return []transform{
		{name: "resize 50%", fn: scale(0.5)},
		{name: "resize 150%", fn: scale(1.5)},
		{name: "JPEG quality 40", fn: recompress(40)},
		{name: "crop 10% (5% each side)", fn: crop(0.05, 0.05, 0.05, 0.05)},
		{name: "crop 10% (top-left corner)", fn: crop(0.10, 0.10, 0, 0)},
		{name: "pad 20% white", fn: pad(0.2)},
		{name: "mirror", fn: mirror},
		{name: "watermark text", fn: watermark},
		{name: "crop 15% off-centre (10/5/5/10), stretch", fn: crop(0.10, 0.05, 0.05, 0.10), stretch: true},
		{name: "brightness +15%", fn: brighten(0.15)},
		{name: "levels ×1.15 +28 (clips)", fn: levels(1.15, 28)},
		{name: "resize 50% + JPEG 40", fn: chain(scale(0.5), recompress(40))},
		{name: "mirror + crop 10%", fn: chain(mirror, crop(0.05, 0.05, 0.05, 0.05))},
	}
}

// robustnessRow is one line of the table.
type robustnessRow struct {
	transform     string
	stretch       bool
	found, copies int
	falseMatches  int // a copy matching a distinct photo
	negatives     int
	methods       map[string]int
	phashDist     []int
}

// stored hashes img as the sweep and cmd do and reads the hashes back as
// the matcher does, through listing.Image, so that the table measures
// only what is stored.
func stored(img image.Image) Hashes {
	return FromListing(FromImage(img).Image())
}

// robustness hashes every photo and every transformed copy and counts how
// many copies Compare finds, and how many distinct photos it confuses.
func robustness(tb testing.TB, photos []photo) (rows []robustnessRow, origFalse, origPairs int) {
	orig := make([]Hashes, len(photos))
	for i, p := range photos {
		orig[i] = stored(p.img)
	}
	for i := range photos {
		for j := i + 1; j < len(photos); j++ {
			if photos[i].group == photos[j].group {
				continue
			}
			origPairs++
			if Compare(orig[i], orig[j]).Similar {
				origFalse++
				tb.Logf("false match between originals %s and %s: %+v", photos[i].name, photos[j].name, Compare(orig[i], orig[j]))
			}
		}
	}
	for _, tf := range transforms() {
		row := robustnessRow{transform: tf.name, stretch: tf.stretch, methods: map[string]int{}}
		for i, p := range photos {
			c := stored(tf.fn(tb, p.img))
			row.copies++
			// The matcher passes the listing's image first.
			m := Compare(c, orig[i])
			row.phashDist = append(row.phashDist, Distance(orig[i].PHash, c.PHash))
			if m.Similar {
				row.found++
				row.methods[m.Method]++
			} else {
				tb.Logf("%s: %s not found: %+v p=%d c=%d d=%d a=%d trims %v %v", tf.name, p.name, m, Distance(orig[i].PHash, c.PHash),
					Distance(orig[i].CropPHash, c.CropPHash), Distance(orig[i].DHash, c.DHash), Distance(orig[i].AHash, c.AHash), orig[i].Trim, c.Trim)
			}
			for j := range photos {
				if photos[j].group == p.group {
					continue
				}
				row.negatives++
				if fm := Compare(c, orig[j]); fm.Similar {
					row.falseMatches++
					tb.Logf("%s: copy of %s matches distinct %s: %+v", tf.name, p.name, photos[j].name, fm)
				}
			}
		}
		rows = append(rows, row)
	}
	return rows, origFalse, origPairs
}

func formatRobustness(w io.Writer, rows []robustnessRow, origFalse, origPairs, nPhotos int) {
	fmt.Fprintf(w, "Robustness over %d photos (Compare: pHash or untrimmed pHash<=%d, mirror<=%d, centre crop<=%d, crops<=%d, crops&aHash<=%d, dHash&aHash<=%d with pHash<=%d)\n",
		nPhotos, PHashThreshold, MirrorThreshold, CropThreshold, CropsThreshold, CropsVoteThreshold, VoteThreshold, VotePHashThreshold)
	fmt.Fprintf(w, "| transform | found | false-match rate | pHash distance median/max | decided by |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		s := slices.Sorted(slices.Values(r.phashDist))
		var methods []string
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range r.methods {
				if !yield(k) {
					return
				}
			}
		}) {
			methods = append(methods, fmt.Sprintf("%s %d", k, r.methods[k]))
		}
		fmt.Fprintf(w, "| %s | %d/%d = %.2f | %d/%d = %.4f | %d/%d | %s |\n", r.transform, r.found, r.copies,
			float64(r.found)/float64(r.copies), r.falseMatches, r.negatives, float64(r.falseMatches)/float64(r.negatives),
			s[len(s)/2], s[len(s)-1], strings.Join(methods, ", "))
	}
	fmt.Fprintf(w, "| distinct originals, pairwise | | %d/%d = %.4f | | |\n", origFalse, origPairs, float64(origFalse)/float64(origPairs))
}

// TestRobustness holds the targets on the fixture photos: every single
// transform found at least 95% of the time, no false match.
func TestRobustness(t *testing.T) {
	photos := robustnessPhotos(t, false)
	rows, origFalse, origPairs := robustness(t, photos)
	var b strings.Builder
	formatRobustness(&b, rows, origFalse, origPairs, len(photos))
	t.Logf("\n%s", b.String())
	for _, r := range rows {
		if strings.Contains(r.transform, "+") || r.stretch {
			continue // combined and stretch transforms have no target
		}
		if share := float64(r.found) / float64(r.copies); share < 0.95 {
			t.Errorf("%s: found %d/%d = %.2f, want >= 0.95", r.transform, r.found, r.copies, share)
		}
		if r.falseMatches > 0 {
			t.Errorf("%s: %d false matches, want 0", r.transform, r.falseMatches)
		}
	}
	if origFalse > 0 {
		t.Errorf("distinct originals: %d false matches, want 0", origFalse)
	}
}
