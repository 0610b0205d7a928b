package store

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// TestGzipAppendIsStandardGzip checks that snapshots are compressed to
// standard gzip, which compress/gzip (what older patrols read with)
// reads back, whatever the size and kind of page, with reused writers.
func TestGzipAppendIsStandardGzip(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "patrol.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	noise := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	tests := []struct {
		name string
		page []byte
	}{
		{"empty", nil},
		{"one byte", []byte("x")},
		{"5 KB page", []byte("<html>" + strings.Repeat("<p>genuine leather strap</p>\n", 180) + "</html>")},
		{"1 MB page", []byte(strings.Repeat("<div class=\"item\"><a href=\"/i/1\">Acme trainers</a></div>\n", 20000))},
		{"1 MB noise", noise},
	}
	for range 2 { // the second round reuses the pooled writers
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				prefix := []byte("meta\x00")
				rec, err := s.gzipAppend(append([]byte(nil), prefix...), tt.page)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(rec, prefix) {
					t.Fatalf("gzipAppend(%q, page) lost the prefix", prefix)
				}
				zr, err := gzip.NewReader(bytes.NewReader(rec[len(prefix):]))
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(zr)
				if err != nil || !bytes.Equal(got, tt.page) {
					t.Errorf("compress/gzip read %d bytes, %v, want the %d bytes written", len(got), err, len(tt.page))
				}
			})
		}
	}
}
