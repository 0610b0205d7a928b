package imagehash

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGoldenHashes pins the hashes of every fixture photo: a change to the
// pipeline that moves them invalidates every hash in users' stores, so it
// must be deliberate (go test ./imagehash -update).
func TestGoldenHashes(t *testing.T) {
	var b strings.Builder
	fmt.Fprintf(&b, "# file phash dhash ahash mirror_phash crop_phash width height trim\n")
	for _, f := range loadFixtures(t) {
		h, err := Compute(f.data, Limits{})
		if err != nil {
			t.Fatalf("Compute(%s): %v", f.name, err)
		}
		// Hashing twice must give the same answer.
		if again, _ := Compute(f.data, Limits{}); again != h {
			t.Errorf("Compute(%s) not deterministic: %+v then %+v", f.name, h, again)
		}
		fmt.Fprintf(&b, "%s %016x %016x %016x %016x %016x %d %d %v\n",
			f.name, h.PHash, h.DHash, h.AHash, h.MirrorPHash, h.CropPHash, h.Width, h.Height, h.Trim)
	}
	got := b.String()
	golden := filepath.Join("testdata", "golden_hashes.txt")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("Compute(fixtures) =\n%s\nwant\n%s", got, want)
	}
}
