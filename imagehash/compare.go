package imagehash

// Thresholds of Compare, in bits of 64. They were chosen on the robustness
// table (BenchmarkRobustness): the largest values at which no two distinct
// fixture photos, nor a transformed copy and a distinct photo, match.
const (
	// PHashThreshold: resizing, recompression, brightness and text
	// watermarks move pHash by 0–8 bits; distinct photos are 20+ apart.
	PHashThreshold = 10
	// MirrorThreshold applies to a.MirrorPHash against b.PHash (and the
	// reverse): a mirrored copy is as close to the mirror hash as an
	// unmirrored one is to the hash.
	MirrorThreshold = 10
	// CropThreshold applies to the centre-crop hashes, which ignore the
	// edges that crops, pads and corner watermarks change.
	CropThreshold = 10
	// CropsThreshold applies to one image's PHash or MirrorPHash against
	// the other's Crops.
	CropsThreshold = 8
	// VoteThreshold: when pHash alone is too far (crops move it by 10–20
	// bits), dHash and aHash must both be within this distance and the
	// pHash within VotePHashThreshold.
	VoteThreshold      = 12
	VotePHashThreshold = 22
)

// Match is the outcome of comparing two images' hashes.
type Match struct {
	// Distance is the Hamming distance the decision rests on: that of
	// Method when Similar, else the smallest pHash-family distance.
	Distance int
	// Mirrored is set when one image is the other's mirror image.
	Mirrored bool
	// Method names the test that matched: "phash", "mirror", "crop",
	// "crops" or "dhash+ahash" ("" when not Similar).
	Method string
	// Similar reports that the two are very probably the same photo.
	Similar bool
}

// Compare decides whether a and b hash the same photo, trying in turn: pHash
// within PHashThreshold; one's mirror hash within MirrorThreshold of the
// other's pHash; centre-crop hashes within CropThreshold; one's PHash or
// MirrorPHash within CropsThreshold of the other's Crops (copies cropped by
// about 10%, mirrored or not); dHash and aHash both within VoteThreshold with pHash within VotePHashThreshold. Hashes with
// every field zero (an image that failed to hash) match nothing.
func Compare(a, b Hashes) Match {
	if a.empty() || b.empty() {
		return Match{Distance: 64}
	}
	p := Distance(a.PHash, b.PHash)
	if p <= PHashThreshold {
		return Match{Distance: p, Method: "phash", Similar: true}
	}
	m := min(Distance(a.MirrorPHash, b.PHash), Distance(a.PHash, b.MirrorPHash))
	if m <= MirrorThreshold {
		return Match{Distance: m, Mirrored: true, Method: "mirror", Similar: true}
	}
	c := Distance(a.CropPHash, b.CropPHash)
	if c <= CropThreshold {
		return Match{Distance: c, Method: "crop", Similar: true}
	}
	if k, mirrored := cropsDistance(a, b); k <= CropsThreshold {
		return Match{Distance: k, Mirrored: mirrored, Method: "crops", Similar: true}
	}
	d, av := Distance(a.DHash, b.DHash), Distance(a.AHash, b.AHash)
	if d <= VoteThreshold && av <= VoteThreshold && p <= VotePHashThreshold {
		return Match{Distance: max(d, av), Method: "dhash+ahash", Similar: true}
	}
	return Match{Distance: min(p, m, c)}
}

// cropsDistance is the smallest distance between one image's PHash or
// MirrorPHash and the other's Crops, and whether it was the mirror hash.
func cropsDistance(a, b Hashes) (int, bool) {
	best, mirrored := 64, false
	try := func(full, mirror uint64, crops *[9]uint64) {
		for _, c := range crops {
			if c == 0 {
				continue
			}
			if d := Distance(full, c); d < best {
				best, mirrored = d, false
			}
			if d := Distance(mirror, c); d < best {
				best, mirrored = d, true
			}
		}
	}
	try(b.PHash, b.MirrorPHash, &a.Crops)
	try(a.PHash, a.MirrorPHash, &b.Crops)
	return best, mirrored
}

func (h Hashes) empty() bool {
	return h.PHash == 0 && h.DHash == 0 && h.AHash == 0 && h.MirrorPHash == 0 && h.CropPHash == 0
}
