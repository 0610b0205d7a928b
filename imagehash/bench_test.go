package imagehash

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/corona10/goimagehash"
	"golang.org/x/image/draw"
)

// perOp times f over at least d and returns its mean duration, for
// reporting a baseline beside the benchmark's own figure in the same run.
func perOp(f func(), d time.Duration) time.Duration {
	n := 0
	start := time.Now()
	for time.Since(start) < d || n < 3 {
		f()
		n++
	}
	return time.Since(start) / time.Duration(n)
}

// photo800 returns an 800×800 JPEG (quality 85) made from a real fixture
// photo, and its decoded form.
func photo800(b *testing.B) ([]byte, image.Image) {
	data, err := os.ReadFile(filepath.Join("testdata", "images", "mpl-grace_hopper.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	src, err := Decode(data, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	dst := image.NewRGBA(image.Rect(0, 0, 800, 800))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	img, err := Decode(buf.Bytes(), Limits{})
	if err != nil {
		b.Fatal(err)
	}
	return buf.Bytes(), img
}

// BenchmarkPHash800 times our pHash of a decoded 800×800 JPEG beside
// goimagehash.PerceptionHash on the same image (target: at least 5× faster)
// and reports the distance between the two hashes.
func BenchmarkPHash800(b *testing.B) {
	_, img := photo800(b)
	theirs := perOp(func() {
		if _, err := goimagehash.PerceptionHash(img); err != nil {
			b.Fatal(err)
		}
	}, 500*time.Millisecond)
	ours := perOp(func() { PHash(img) }, 300*time.Millisecond)
	gh, _ := goimagehash.PerceptionHash(img)
	for b.Loop() {
		PHash(img)
	}
	// Extra metrics go after the loop: b.Loop resets them.
	b.ReportMetric(float64(theirs.Nanoseconds()), "goimagehash-ns/op")
	b.ReportMetric(float64(theirs)/float64(ours), "x-faster")
	b.ReportMetric(float64(Distance(PHash(img), gh.GetHash())), "bits-from-goimagehash")
}

// BenchmarkFromImage800 times every hash (trim, pHash, mirror, centre crop,
// nine crops, dHash, aHash) of a decoded 800×800 JPEG.
func BenchmarkFromImage800(b *testing.B) {
	_, img := photo800(b)
	for b.Loop() {
		FromImage(img)
	}
}

// BenchmarkDecodeHash800 times guarded decoding plus every hash (Compute)
// of an 800×800 JPEG beside decoding alone (target: at most 1.25×).
func BenchmarkDecodeHash800(b *testing.B) {
	data, _ := photo800(b)
	decode := perOp(func() {
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}, 500*time.Millisecond)
	pd := perOp(func() {
		img, err := Decode(data, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		PHash(img)
		DHash(img)
	}, 500*time.Millisecond)
	all := perOp(func() {
		if _, err := Compute(data, Limits{}); err != nil {
			b.Fatal(err)
		}
	}, 500*time.Millisecond)
	for b.Loop() {
		if _, err := Compute(data, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(decode.Nanoseconds()), "decode-only-ns/op")
	b.ReportMetric(float64(pd)/float64(decode), "decode+phash+dhash/decode")
	b.ReportMetric(float64(all)/float64(decode), "compute/decode")
}

// BenchmarkRobustness prints the robustness table over the fixture photos
// and the demo marketplace's brand photos, and times hashing one
// transformed copy.
func BenchmarkRobustness(b *testing.B) {
	photos := robustnessPhotos(b, true)
	rows, origFalse, origPairs := robustness(b, photos)
	fmt.Println()
	formatRobustness(os.Stdout, rows, origFalse, origPairs, len(photos))
	worst, falses := 1.0, 0
	for _, r := range rows {
		if !r.stretch {
			worst = min(worst, float64(r.found)/float64(r.copies))
		}
		falses += r.falseMatches
	}
	img := watermark(b, photos[0].img)
	for b.Loop() {
		FromImage(img)
	}
	b.ReportMetric(worst, "worst-found-share")
	b.ReportMetric(float64(falses+origFalse), "false-matches")
}

// BenchmarkAgreement prints how many fixture photos each algorithm hashes
// within 4 bits of the reference implementations.
func BenchmarkAgreement(b *testing.B) {
	fmt.Println()
	fmt.Print(formatAgreement(computeAgreement(b)))
	var img image.Image = image.NewGray(image.Rect(0, 0, 1, 1))
	for b.Loop() {
		DHash(img)
	}
}
