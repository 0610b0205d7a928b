package imagehash

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// fixture is one of the real photos copied into testdata/images.
type fixture struct {
	name  string
	group string // near-duplicate group; "" when the photo is unique
	data  []byte
}

// loadFixtures reads the fixture photos listed in testdata/images/index.json.
func loadFixtures(tb testing.TB) []fixture {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "images", "index.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var idx []struct {
		File  string `json:"file"`
		Group string `json:"same_image_group"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		tb.Fatal(err)
	}
	var out []fixture
	for _, e := range idx {
		data, err := os.ReadFile(filepath.Join("testdata", "images", e.File))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, fixture{name: e.File, group: e.Group, data: data})
	}
	return out
}

// referenceHashes are the npm implementations' hashes of the fixtures.
type referenceHashes struct {
	Hashes map[string]map[string]any `json:"hashes"`
}

func loadReference(tb testing.TB) referenceHashes {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "images", "reference_hashes.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var r referenceHashes
	if err := json.Unmarshal(raw, &r); err != nil {
		tb.Fatal(err)
	}
	return r
}

// refBits returns a reference hash given as hex or as a 64-char bit string.
func refBits(m map[string]any, key string) (uint64, bool) {
	s, ok := m[key].(string)
	if !ok {
		return 0, false
	}
	base := 16
	if len(s) == 64 {
		base = 2
	}
	v, err := strconv.ParseUint(s, base, 64)
	return v, err == nil
}
