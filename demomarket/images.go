package demomarket

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"math"
	"path"
	"strings"
)

// placeholderImage is the name of the 1×1 GIF that lazy-loading pages put
// in src while the real photo sits in data-src or srcset.
const placeholderImage = "placeholder.gif"

// imageEntry describes one served photo: either a base photo drawn from a
// recipe or a brand photo transformed by a re-uploader.
type imageEntry struct {
	pic   *photo // base photos
	base  string // derived photos: the brand photo's name
	tf    transform
	text  string // watermark
	png   bool
	q     int // JPEG quality
	brand bool
	// approximate perceptual hashes of base photos, used to keep base
	// photos away from brand photos.
	hash photoHash
}

// Minimum Hamming distances under the package's own approximation of
// pHash and dHash between a brand photo and any other base photo (brand
// or not). goimagehash is asked for more than 20 in the tests; these leave
// a margin for JPEG and resampling differences. Photos that are not the
// brand's are not kept apart from each other: a matcher only compares
// listing photos with brand photos.
const (
	minPHashDistance = 26
	minDHashDistance = 25
	photoAttempts    = 40
)

// photoSet registers base photos, redrawing a photo until it is far enough
// from every brand photo.
type photoSet struct {
	m      *Market
	brands []string
}

// add registers the base photo drawn by mk(attempt) as name and returns
// the name. mk must be deterministic in its argument.
func (ps *photoSet) add(name string, brand bool, mk func(attempt int) photo) string {
	var best photo
	var bestH photoHash
	bestScore := math.MinInt
	for attempt := 0; attempt < photoAttempts; attempt++ {
		p := mk(attempt)
		h := p.hashes()
		score := math.MaxInt
		for _, n := range ps.brands {
			dp, dd := h.distance(ps.m.images[n].hash)
			score = min(score, dp-minPHashDistance, dd-minDHashDistance)
		}
		if score > bestScore {
			best, bestH, bestScore = p, h, score
		}
		if score >= 0 {
			break
		}

	}
	ps.m.images[name] = &imageEntry{pic: &best, q: 88, brand: brand, hash: bestH}
	if brand {
		ps.brands = append(ps.brands, name)
	}
	return name
}

// derive registers a transformed copy of the brand photo base.
func (m *Market) derive(name, base string, tf transform, text string) string {
	e := &imageEntry{base: base, tf: tf, text: text, q: 85}
	switch tf {
	case tfPad:
		e.png = strings.HasSuffix(name, ".png")
	case tfJPEGLow:
		e.q = 22
	case tfExact:
		e.q = 88 // byte-identical to the brand's photo
	}
	m.images[name] = e
	return name
}

// hashName returns a stable, opaque file name for key.
func hashName(prefix string, seed int64, key, ext string) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%d/%s", seed, key)))
	return prefix + hex.EncodeToString(sum[:5]) + ext
}

// imageBytes renders and encodes the photo name, once.
func (m *Market) imageBytes(name string) ([]byte, error) {
	m.mu.RLock()
	b, ok := m.cache[name]
	m.mu.RUnlock()
	if ok {
		return b, nil
	}
	e, ok := m.images[name]
	if !ok {
		return nil, fmt.Errorf("image %s: not found", name)
	}
	b, err := m.renderImage(name, e)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.cache[name] = b
	m.mu.Unlock()
	return b, nil
}

func (m *Market) renderImage(name string, e *imageEntry) ([]byte, error) {
	if name == placeholderImage {
		img := image.NewPaletted(image.Rect(0, 0, 1, 1), color.Palette{color.RGBA{238, 238, 238, 255}})
		var buf bytes.Buffer
		if err := gif.Encode(&buf, img, nil); err != nil {
			return nil, fmt.Errorf("encode placeholder: %w", err)
		}
		return buf.Bytes(), nil
	}
	if e.pic != nil {
		b, err := encode(e.pic.render(e.pic.w, e.pic.h), e.png, e.q)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", name, err)
		}
		return b, nil
	}
	be, ok := m.images[e.base]
	if !ok || be.pic == nil {
		return nil, fmt.Errorf("image %s: base %s missing", name, e.base)
	}
	src := be.pic.render(be.pic.w, be.pic.h)
	b, err := encode(applyTransform(src, e.tf, e.text), e.png, e.q)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", name, err)
	}
	return b, nil
}

// contentType returns the media type of an image name.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".png":
		return "image/png"
	case ".gif":
		return "image/gif"
	}
	return "image/jpeg"
}
