package imagehash

import (
	"bytes"
	"errors"
	"fmt"
	"image"

	// The formats marketplaces serve photos in: registered for image.Decode.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/webp"
)

// Default limits applied when a Limits field is zero. 40 megapixels covers
// any product photo a marketplace serves (an 8K frame is 33 MP); anything
// larger is either hostile or not worth the memory (about 160 MB decoded).
const (
	DefaultMaxPixels = 40_000_000
	DefaultMaxBytes  = 20 << 20
)

// ErrTooLarge reports an image whose file or declared dimensions exceed the
// configured Limits. It is returned before the pixels are decoded, so a
// decompression bomb costs only its header.
var ErrTooLarge = errors.New("image too large")

// Limits bounds what Decode accepts. Images come from untrusted sellers, so
// the header is checked before any pixel memory is allocated.
type Limits struct {
	// MaxPixels caps width × height as declared by the header
	// (0: DefaultMaxPixels).
	MaxPixels int
	// MaxBytes caps the encoded file size (0: DefaultMaxBytes).
	MaxBytes int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return l
}

// Decode decodes a JPEG, PNG, GIF (first frame) or WebP image after checking
// its size against lim: the file length first, then the dimensions the
// header declares (image.DecodeConfig), and only then the pixels. Oversized
// input fails with an error wrapping ErrTooLarge.
func Decode(data []byte, lim Limits) (image.Image, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return nil, fmt.Errorf("decode: %d bytes exceeds %d: %w", len(data), lim.MaxBytes, ErrTooLarge)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode header: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("decode %s: empty image %dx%d", format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > int64(lim.MaxPixels) {
		return nil, fmt.Errorf("decode %s: %dx%d exceeds %d pixels: %w", format, cfg.Width, cfg.Height, lim.MaxPixels, ErrTooLarge)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", format, err)
	}
	// A decoder must honour its own header; check anyway, since the hashing
	// code sizes its buffers from the bounds.
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("decode %s: empty image", format)
	}
	if int64(b.Dx())*int64(b.Dy()) > int64(lim.MaxPixels) {
		return nil, fmt.Errorf("decode %s: decoded %dx%d exceeds %d pixels: %w", format, b.Dx(), b.Dy(), lim.MaxPixels, ErrTooLarge)
	}
	return img, nil
}
