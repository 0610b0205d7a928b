package imagehash

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/corona10/goimagehash"
)

// agreementTolerance is the Hamming distance within which two
// implementations count as agreeing: decoders and resamplers differ, so
// exact equality is not expected.
const agreementTolerance = 4

// TestUpstreamConstants checks the hashes Python imagehash's own test
// publishes for its logo (tests/test_hash_is_constant.py).
func TestUpstreamConstants(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "images", "upstream_expected_hashes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var up map[string]map[string]any
	if err := json.Unmarshal(raw, &up); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "images", "imagehash-imagehash.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := Decode(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := up["imagehash-imagehash.png"]
	tests := []struct {
		name string
		key  string
		got  uint64
	}{
		// Pillow's convert("L") ignores alpha: so do these.
		{"phash", "phash", phashBits(dctLow(pool4(gridOf(img, true))), false)},
		{"dhash", "dhash", dhashBits(lanczos(gridOf(img, true), gridSize, gridSize, 9, 8))},
		{"ahash", "average_hash", ahashBits(lanczos(gridOf(img, true), gridSize, gridSize, 8, 8))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := strconv.ParseUint(want[tt.key].(string), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			if d := Distance(tt.got, w); d > agreementTolerance {
				t.Errorf("%s(imagehash.png) = %016x, want %016x within %d bits (distance %d)", tt.name, tt.got, w, agreementTolerance, d)
			} else {
				t.Logf("%s(imagehash.png) = %016x, upstream %016x, distance %d", tt.name, tt.got, w, d)
			}
		})
	}
}

// agreement counts, per algorithm, the fixture photos whose hash is within
// agreementTolerance of a reference implementation.
type agreement struct {
	name       string
	within, of int
	dists      []int
}

func computeAgreement(tb testing.TB) []agreement {
	ref := loadReference(tb)
	rows := []*agreement{
		{name: "pHash (ours, sharp-phash coefficients) vs sharp-phash 2.2.0"},
		{name: "pHash (ours, imagehash definition) vs goimagehash 1.1.0"},
		{name: "dHash (ours) vs goimagehash 1.1.0"},
		{name: "aHash (ours) vs goimagehash 1.1.0"},
		{name: "pHash (goimagehash 1.1.0, imagehash definition) vs sharp-phash 2.2.0 (sharp-phash coefficients differ: for scale)"},
	}
	add := func(a *agreement, d int) {
		a.of++
		a.dists = append(a.dists, d)
		if d <= agreementTolerance {
			a.within++
		}
	}
	for _, f := range loadFixtures(tb) {
		img, err := Decode(f.data, Limits{})
		if err != nil {
			tb.Fatalf("Decode(%s): %v", f.name, err)
		}
		// The reference implementations ignore alpha: so do these.
		g := gridOf(img, true)
		c := dctLow(pool4(g))
		if s, ok := refBits(ref.Hashes[f.name], "sharp-phash_64_hex"); ok {
			add(rows[0], Distance(sharpPHash(c), s))
			gp, err := goimagehash.PerceptionHash(img)
			if err != nil {
				tb.Fatal(err)
			}
			add(rows[4], Distance(gp.GetHash(), s))
		}
		gp, err := goimagehash.PerceptionHash(img)
		if err != nil {
			tb.Fatal(err)
		}
		add(rows[1], Distance(phashBits(c, false), gp.GetHash()))
		gd, err := goimagehash.DifferenceHash(img)
		if err != nil {
			tb.Fatal(err)
		}
		add(rows[2], Distance(dhashBits(lanczos(g, gridSize, gridSize, 9, 8)), gd.GetHash()))
		ga, err := goimagehash.AverageHash(img)
		if err != nil {
			tb.Fatal(err)
		}
		add(rows[3], Distance(ahashBits(lanczos(g, gridSize, gridSize, 8, 8)), ga.GetHash()))
	}
	out := make([]agreement, len(rows))
	for i, r := range rows {
		out[i] = *r
	}
	return out
}

func formatAgreement(rows []agreement) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-100s %s\n", "algorithm vs reference", "fixtures within 4 bits (distances)")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-100s %d/%d %v\n", r.name, r.within, r.of, r.dists)
	}
	return b.String()
}

func TestAgreement(t *testing.T) {
	rows := computeAgreement(t)
	t.Logf("\n%s", formatAgreement(rows))
}
