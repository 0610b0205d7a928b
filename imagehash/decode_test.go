package imagehash

import (
	"bytes"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// pngHeader encodes a tiny PNG and rewrites its IHDR to claim w×h pixels: a
// decompression bomb's header on a body that would never fill it.
func pngHeader(t testing.TB, w, h uint32) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	// IHDR data starts after the 8-byte signature, 4-byte length and type.
	be := func(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }
	copy(b[16:20], be(w))
	copy(b[20:24], be(h))
	copy(b[29:33], be(crc32.ChecksumIEEE(b[12:29])))
	return b
}

func encoded(t testing.TB, format string, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&buf, img)
	case "jpeg":
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	case "gif":
		err = gif.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecode(t *testing.T) {
	small := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for i := range small.Pix {
		small.Pix[i] = uint8(i)
	}
	small.Set(0, 0, color.White)
	webp, err := os.ReadFile(filepath.Join("testdata", "images", "xi-gopher-plush-blue-purple-pink.lossy.webp"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		data    []byte
		lim     Limits
		wantErr error // nil: success; errAny: any error
		size    image.Point
	}{
		{name: "png", data: encoded(t, "png", small), size: image.Pt(40, 30)},
		{name: "jpeg", data: encoded(t, "jpeg", small), size: image.Pt(40, 30)},
		{name: "gif", data: encoded(t, "gif", small), size: image.Pt(40, 30)},
		{name: "webp", data: webp, size: image.Pt(150, 100)},
		{name: "bomb header over default", data: pngHeader(t, 50000, 50000), wantErr: ErrTooLarge},
		{name: "over custom pixels", data: encoded(t, "png", small), lim: Limits{MaxPixels: 40*30 - 1}, wantErr: ErrTooLarge},
		{name: "at custom pixels", data: encoded(t, "png", small), lim: Limits{MaxPixels: 40 * 30}, size: image.Pt(40, 30)},
		{name: "over byte cap", data: encoded(t, "png", small), lim: Limits{MaxBytes: 10}, wantErr: ErrTooLarge},
		{name: "overflowing dimensions", data: pngHeader(t, 1<<31-1, 1<<31-1), wantErr: errAny},
		{name: "not an image", data: []byte("<html>"), wantErr: errAny},
		{name: "empty", data: nil, wantErr: errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Decode(tt.data, tt.lim)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Decode() = %v, want success", err)
			case tt.wantErr == errAny && err == nil:
				t.Fatal("Decode() succeeded, want an error")
			case tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("Decode() = %v, want %v", err, tt.wantErr)
			}
			if err == nil && img.Bounds().Size() != tt.size {
				t.Errorf("Decode() size = %v, want %v", img.Bounds().Size(), tt.size)
			}
		})
	}
}

// errAny stands for "some error" in test tables.
var errAny = errors.New("any error")

// FuzzDecode feeds arbitrary bytes to the guarded decoder and the hasher:
// neither may panic, and nothing over the limit may be decoded.
func FuzzDecode(f *testing.F) {
	for _, fx := range loadFixtures(f)[:6] {
		f.Add(fx.data)
	}
	f.Add(pngHeader(f, 50000, 50000))
	f.Add(pngHeader(f, 3, 3))
	lim := Limits{MaxPixels: 1 << 20, MaxBytes: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Decode(data, lim)
		if err != nil {
			return
		}
		b := img.Bounds()
		if b.Dx()*b.Dy() > lim.MaxPixels {
			t.Fatalf("Decode() returned %v, over %d pixels", b, lim.MaxPixels)
		}
		FromImage(img)
	})
}
