package matcher

// Weights is the one place where the weight of every signal lives. A
// listing's score is the noisy-OR of its positive signals,
//
//	score = (1 − Π(1 − wᵢ)) × Π(1 + wⱼ)
//
// over positive weights wᵢ and negative weights wⱼ, and 0 when the seller
// is authorized. Noisy-OR keeps the score in [0,1], lets independent pieces
// of evidence reinforce each other without any one of them being counted
// twice, and makes the thresholds readable: with the default threshold of
// 0.6, the brand's plain name (0.30) is never enough, the name with a
// suspicious term (0.30+0.50 → 0.65) or with a price below the floor
// (0.30+0.50 → 0.65) is, and so is a homoglyph or leetspeak spelling alone
// (0.60), because lawful sellers do not write a brand in Cyrillic.
type Weights struct {
	// BrandTerm: the brand's name written plainly. Weak on purpose:
	// genuine resale names the brand too.
	BrandTerm float64
	// Disguised spellings, by family. Homoglyph, Leetspeak and Separator
	// are deliberate evasion; Fullwidth is common in CJK listings; Glued,
	// Diacritic and Typo are also honest mistakes.
	Homoglyph, Leetspeak, Separator, Fullwidth, Glued, Diacritic, Typo float64
	// SuspiciousTerm: "replica", "1:1", "AAA"… each occurrence up to two.
	SuspiciousTerm float64
	// PriceBelowMSRP: price under MinPriceRatio × MSRP; PriceFarBelowMSRP
	// under half of that.
	PriceBelowMSRP, PriceFarBelowMSRP float64
	// ImageMatch: a photo of the listing is one of the brand's reference
	// photos (possibly mirrored, cropped or recompressed).
	ImageMatch float64
	// SharedPhoto: a photo also appears in other sellers' flagged
	// listings.
	SharedPhoto float64
	// UnauthorizedSeller: the brand names its authorized sellers and this
	// is not one of them. Small: most resellers are not authorized and
	// resale is lawful.
	UnauthorizedSeller float64
	// RepeatInfringer: the seller has confirmed infringements already.
	RepeatInfringer float64
	// NegativeTerm (negative): the listing is an accessory "for" or
	// "compatible with" the brand, or says a term the brand listed as
	// negative.
	NegativeTerm float64
}

// DefaultWeights returns the weights patrol ships with.
func DefaultWeights() Weights {
	return Weights{
		BrandTerm:          0.30,
		Homoglyph:          0.60,
		Leetspeak:          0.60,
		Separator:          0.60,
		Fullwidth:          0.45,
		Glued:              0.40,
		Diacritic:          0.35,
		Typo:               0.30,
		SuspiciousTerm:     0.50,
		PriceBelowMSRP:     0.50,
		PriceFarBelowMSRP:  0.60,
		ImageMatch:         0.45,
		SharedPhoto:        0.35,
		UnauthorizedSeller: 0.05,
		RepeatInfringer:    0.30,
		NegativeTerm:       -0.60,
	}
}

// DefaultThreshold is the score at which a listing is flagged when the
// brand sets no threshold of its own.
const DefaultThreshold = 0.6

// DefaultMinPriceRatio is the price floor, as a fraction of MSRP, when the
// brand sets none.
const DefaultMinPriceRatio = 0.5
