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
	// CropsVoteThreshold: a copy cropped off-centre by 10–15% sits 8–14
	// bits from the nearest of the other's Crops, as close as distinct
	// photos of one product come (12+); it matches when its aHash, which
	// averages 8×8 cells and so barely moves under a small crop, agrees
	// too (both within this distance).
	CropsVoteThreshold = 10
)

// Match is the outcome of comparing two images' hashes.
type Match struct {
	// Distance is the Hamming distance the decision rests on: that of
	// Method when Similar, else the smallest pHash-family distance.
	Distance int
	// Mirrored is set when one image is the other's mirror image.
	Mirrored bool
	// Method names the test that matched: "phash", "untrimmed", "mirror",
	// "crop", "crops", "crops+ahash" or "dhash+ahash" ("" when not
	// Similar).
	Method string
	// Similar reports that the two are very probably the same photo.
	Similar bool
}

// Compare decides whether a and b hash the same photo, trying in turn: pHash
// within PHashThreshold; the same with either image's untrimmed hash
// (FullPHash) in place of its PHash; one's mirror hash within MirrorThreshold of the
// other's pHash; centre-crop hashes within CropThreshold; one's PHash or
// MirrorPHash within CropsThreshold of the other's Crops (copies cropped by
// about 10%, mirrored or not); the nearest crop within CropsVoteThreshold
// with aHash within it too; dHash and aHash both within VoteThreshold with pHash within VotePHashThreshold. Hashes with
// every field zero (an image that failed to hash) match nothing.
func Compare(a, b Hashes) Match {
	if a.empty() || b.empty() {
		return Match{Distance: 64}
	}
	p := Distance(a.PHash, b.PHash)
	if p <= PHashThreshold {
		return Match{Distance: p, Method: "phash", Similar: true}
	}
	if u := untrimmedDistance(a, b); u <= PHashThreshold {
		return Match{Distance: u, Method: "untrimmed", Similar: true}
	}
	m := min(Distance(a.MirrorPHash, b.PHash), Distance(a.PHash, b.MirrorPHash))
	if m <= MirrorThreshold {
		return Match{Distance: m, Mirrored: true, Method: "mirror", Similar: true}
	}
	c := Distance(a.CropPHash, b.CropPHash)
	if c <= CropThreshold {
		return Match{Distance: c, Method: "crop", Similar: true}
	}
	k, mirrored := cropsDistance(a, b)
	if k <= CropsThreshold {
		return Match{Distance: k, Mirrored: mirrored, Method: "crops", Similar: true}
	}
	d, av := Distance(a.DHash, b.DHash), Distance(a.AHash, b.AHash)
	if k <= CropsVoteThreshold && av <= CropsVoteThreshold && !mirrored {
		return Match{Distance: k, Method: "crops+ahash", Similar: true}
	}
	if d <= VoteThreshold && av <= VoteThreshold && p <= VotePHashThreshold {
		return Match{Distance: max(d, av), Method: "dhash+ahash", Similar: true}
	}
	return Match{Distance: min(p, m, c)}
}

// untrimmedDistance is the smallest pHash distance in which at least one
// side uses its untrimmed hash, 64 when neither image was trimmed.
func untrimmedDistance(a, b Hashes) int {
	best := 64
	if a.FullPHash != 0 {
		best = min(best, Distance(a.FullPHash, b.PHash))
		if b.FullPHash != 0 {
			best = min(best, Distance(a.FullPHash, b.FullPHash))
		}
	}
	if b.FullPHash != 0 {
		best = min(best, Distance(a.PHash, b.FullPHash))
	}
	return best
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
