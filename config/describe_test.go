package config_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patrol-dev/patrol/config"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestDescribe(t *testing.T) {
	tests := []struct {
		name string
		text string
	}{
		{"example", string(mustRead(t, filepath.Join("testdata", "example.yaml")))},
		{"defaults", base},
		{"explicit", "user_agent: patrol-test\n" + strings.Replace(base, "  - name: shop\n", `  - name: shop
    respect_robots: false
    rate: {requests_per_second: 0.5, burst: 3}
    timeout: 1m30s
    max_body_bytes: 1000
    removed_marker: "This listing has ended"
`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.text)
			if tt.name == "example" {
				// The example refers to images under refs/acme.
				path = filepath.Join("testdata", "example.yaml")
			}
			c, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := c.Describe(&buf); err != nil {
				t.Fatalf("Describe(%s) = %v", tt.name, err)
			}
			// The directory differs between machines and runs.
			got := []byte(strings.ReplaceAll(buf.String(), c.Dir, "$DIR"))
			golden := filepath.Join("testdata", "describe-"+tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Describe(%s) =\n%s\nwant\n%s", tt.name, got, want)
			}
		})
	}
}

// failWriter fails after n bytes, to check that Describe reports write
// errors instead of dropping them.
type failWriter struct{ n int }

var errWrite = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		n := w.n
		w.n = 0
		return n, errWrite
	}
	w.n -= len(p)
	return len(p), nil
}

func TestDescribeWriteError(t *testing.T) {
	c, err := config.Load(writeConfig(t, base))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 10, 200} {
		if err := c.Describe(&failWriter{n: n}); !errors.Is(err, errWrite) {
			t.Errorf("Describe(writer failing after %d bytes) = %v, want %v", n, err, errWrite)
		}
	}
}
