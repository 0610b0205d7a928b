package matcher

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/patrol-dev/patrol/listing"
)

// Signal names, stable: the UI, notices and reports use them.
const (
	SignalBrandTerm          = "brand_term"
	SignalBrandDisguised     = "brand_disguised"
	SignalSuspiciousTerm     = "suspicious_term"
	SignalPriceBelowMSRP     = "price_below_msrp"
	SignalImageMatch         = "image_match"
	SignalSharedPhoto        = "shared_photo"
	SignalUnauthorizedSeller = "unauthorized_seller"
	SignalRepeatInfringer    = "repeat_infringer"
	SignalNegativeTerm       = "negative_term"
	SignalAuthorizedSeller   = "authorized_seller"
)

// maxSuspicious bounds how many suspicious phrases count: a listing that
// says "replica" five times is not five times as fake.
const maxSuspicious = 2

// imageHit is the best match of a listing photo against a brand's
// reference photos.
type imageHit struct {
	ok     bool
	img    int // index into the listing's images
	ref    int
	dist   int
	method string
}

// listingFacts is what Score learns once per listing, beyond the text.
type listingFacts struct {
	l        *listing.Listing
	title    string
	desc     string
	price    float64
	currency string
	seller   string
	shared   []string // other sellers' flagged listings sharing a photo
	sharedAt int
	repeat   int
}

// Verdict is the outcome of Triage.
type Verdict struct {
	Brand   string
	Score   float64
	Flagged bool
}

// Score judges l against every brand and sets l.Brand, l.Score, l.Flagged
// and l.Signals; the brand with the highest score wins. It resets those
// fields first, so scoring a listing again after the configuration changed
// (patrol rescore) gives the same result as scoring it fresh. h may be nil.
func (m *Matcher) Score(l *listing.Listing, h History) {
	l.Brand, l.Score, l.Flagged = "", 0, false
	l.Signals = []listing.Signal{}
	sc := m.pool.Get().(*scratch)
	defer m.pool.Put(sc)
	sc.reset()
	imgs := make([]imageHit, len(m.brands))
	for bi := range m.brands {
		imgs[bi] = m.matchImages(&m.brands[bi], l.Images)
		sc.images = sc.images || imgs[bi].ok
	}
	m.scanText(sc, l.Title, 0)
	m.scanText(sc, l.Description, 1)
	any := false
	for bi := range m.brands {
		any = any || imgs[bi].ok || sc.hits[bi].inPlay()
	}
	if !any {
		return
	}
	facts := listingFacts{l: l, title: l.Title, desc: l.Description, price: l.Price, currency: l.Currency, seller: l.Seller}
	if h != nil {
		if l.Seller != "" {
			facts.repeat = h.ConfirmedBySeller(l.Marketplace, l.Seller)
		}
		for i, img := range l.Images {
			if i >= 8 {
				break
			}
			if !hashed(img) {
				continue
			}
			if ids := h.FlaggedWithPhoto(img, l.Seller); len(ids) > 0 {
				facts.shared, facts.sharedAt = ids, i
				break
			}
		}
	}
	best, bestScore, bestEv := -1, -1.0, -1.0
	for bi := range m.brands {
		s, ev, ok := m.evaluate(sc, bi, &facts, imgs[bi], nil)
		if ok && (s > bestScore || s == bestScore && ev > bestEv) {
			best, bestScore, bestEv = bi, s, ev
		}
	}
	if best < 0 {
		return
	}
	b := &m.brands[best]
	l.Brand = b.Name
	l.Score, _, _ = m.evaluate(sc, best, &facts, imgs[best], &l.Signals)
	l.Flagged = l.Score >= b.threshold
}

// Triage judges a title, price and seller alone, without photos or
// history, and without allocating: the hot path for screening search
// results before their listing pages are fetched, and what the throughput
// benchmark measures.
func (m *Matcher) Triage(title string, price float64, currency, seller string) Verdict {
	sc := m.pool.Get().(*scratch)
	defer m.pool.Put(sc)
	sc.reset()
	m.scanText(sc, title, 0)
	facts := listingFacts{title: title, price: price, currency: currency, seller: seller}
	best, bestScore, bestEv := -1, -1.0, -1.0
	for bi := range m.brands {
		s, ev, ok := m.evaluate(sc, bi, &facts, imageHit{}, nil)
		if ok && (s > bestScore || s == bestScore && ev > bestEv) {
			best, bestScore, bestEv = bi, s, ev
		}
	}
	if best < 0 {
		return Verdict{}
	}
	return Verdict{Brand: m.brands[best].Name, Score: bestScore, Flagged: bestScore >= m.brands[best].threshold}
}

func hashed(img listing.Image) bool {
	return img.HashErr == "" && (img.PHash != 0 || img.DHash != 0 || img.AHash != 0)
}

// matchImages finds the listing photo closest to one of b's reference
// photos.
func (m *Matcher) matchImages(b *brand, imgs []listing.Image) imageHit {
	var best imageHit
	for i, img := range imgs {
		if !hashed(img) {
			continue
		}
		for ri, ref := range b.RefImages {
			if !hashed(ref.Hash) {
				continue
			}
			d, method, ok := m.compare(img, ref.Hash)
			if ok && (!best.ok || d < best.dist) {
				best = imageHit{ok: true, img: i, ref: ri, dist: d, method: method}
			}
		}
	}
	return best
}

// evaluate scores brand bi for the listing. It reports the score, the
// strength of the brand evidence (to break ties between brands) and
// whether the brand is in play at all. When out is non-nil the signals are
// appended to it, with details; otherwise nothing is allocated.
func (m *Matcher) evaluate(sc *scratch, bi int, f *listingFacts, img imageHit, out *[]listing.Signal) (score, evidence float64, ok bool) {
	b := &m.brands[bi]
	hb := &sc.hits[bi]
	if !hb.inPlay() && !img.ok {
		return 0, 0, false
	}
	var e scoreAcc
	e.out = out
	if f.seller != "" && len(b.authorized) > 0 && m.authorized(sc, b, f.seller) {
		e.add(SignalAuthorizedSeller, -1, func() string {
			return fmt.Sprintf("seller %q is an authorized seller of %s", f.seller, b.Name)
		})
		return 0, 1, true
	}
	if hb.exact.fam != famNone {
		th := hb.exact
		e.add(SignalBrandTerm, m.w.BrandTerm, func() string {
			return fmt.Sprintf("%q in the %s", f.quote(th.field, th.src), fieldName(th.field))
		})
	}
	if d := hb.disguised; d.fam != famNone {
		w := m.familyWeight(d.fam)
		e.add(SignalBrandDisguised, w, func() string {
			t := b.terms[d.term].raw
			s := fmt.Sprintf("%s: %q in the %s reads as %q", familyNames[d.fam], f.quote(d.field, d.src), fieldName(d.field), t)
			if d.op != "" {
				s += " (" + d.op + ")"
			}
			return s
		})
	}
	evidence = e.pos
	typoOnly := hb.exact.fam == famNone && hb.disguised.fam == famTypo
	if img.ok {
		e.add(SignalImageMatch, m.w.ImageMatch, func() string {
			s := fmt.Sprintf("photo %d matches reference %q at distance %d (%s)", img.img+1, b.RefImages[img.ref].Name, img.dist, img.method)
			if img.method == "mirror" {
				s += ", mirrored"
			}
			return s
		})
		evidence = max(evidence, m.w.ImageMatch)
	}
	ns := 0
	negative := false
	var negHit phraseHit
	for _, ph := range sc.phr {
		p := &m.phrases.list[ph.phrase]
		if p.brand >= 0 && p.brand != bi {
			continue
		}
		if p.negative {
			if !negative {
				negative, negHit = true, ph
			}
			continue
		}
		if ph.negated || ns >= maxSuspicious {
			continue
		}
		ns++
		e.add(SignalSuspiciousTerm, m.w.SuspiciousTerm, func() string {
			return fmt.Sprintf("%q in the %s", p.text, fieldName(ph.field))
		})
	}
	if pr, ok := m.product(sc, b, f.currency, typoOnly); ok && f.price > 0 {
		floor := b.ratio * pr.MSRP
		if f.price < floor {
			w := m.w.PriceBelowMSRP
			if f.price < floor/2 {
				w = m.w.PriceFarBelowMSRP
			}
			e.add(SignalPriceBelowMSRP, w, func() string {
				return fmt.Sprintf("price %s %s is %.0f%% of the MSRP %s %s of %s (floor %.0f%%)",
					money(f.price), pr.Currency, 100*f.price/pr.MSRP, money(pr.MSRP), pr.Currency, pr.Name, 100*b.ratio)
			})
		}
	}
	if len(f.shared) > 0 {
		e.add(SignalSharedPhoto, m.w.SharedPhoto, func() string {
			ids := f.shared
			more := ""
			if len(ids) > 3 {
				ids, more = ids[:3], fmt.Sprintf(" and %d more", len(f.shared)-3)
			}
			return fmt.Sprintf("photo %d also appears in %d flagged listing(s) of other sellers: %s%s", f.sharedAt+1, len(f.shared), strings.Join(ids, ", "), more)
		})
	}
	if f.repeat > 0 {
		e.add(SignalRepeatInfringer, m.w.RepeatInfringer, func() string {
			return fmt.Sprintf("seller %q has %d confirmed infringement(s)", f.seller, f.repeat)
		})
	}
	if f.seller != "" && len(b.authorized) > 0 {
		e.add(SignalUnauthorizedSeller, m.w.UnauthorizedSeller, func() string {
			return fmt.Sprintf("seller %q is not among the %d authorized sellers of %s", f.seller, len(b.authorized), b.Name)
		})
	}
	if negative {
		p := &m.phrases.list[negHit.phrase]
		e.add(SignalNegativeTerm, m.w.NegativeTerm, func() string {
			return fmt.Sprintf("%q in the %s: an accessory or compatible part", p.text, fieldName(negHit.field))
		})
	} else if a := hb.accessory; a.fam != famNone {
		e.add(SignalNegativeTerm, m.w.NegativeTerm, func() string {
			return fmt.Sprintf("%q in the %s: an accessory for the brand's product", f.quote(a.field, a.src), fieldName(a.field))
		})
	}
	return e.score(), evidence, true
}

// scoreAcc accumulates signals into a noisy-OR score.
type scoreAcc struct {
	keep float64 // Π(1 − wᵢ) over positive weights
	neg  float64 // Π(1 + wⱼ) over negative weights
	pos  float64 // the largest positive weight
	init bool
	out  *[]listing.Signal
}

func (e *scoreAcc) add(name string, w float64, detail func() string) {
	if !e.init {
		e.keep, e.neg, e.init = 1, 1, true
	}
	if w > 0 {
		e.keep *= 1 - min(w, 1)
		e.pos = max(e.pos, w)
	} else if w < 0 {
		e.neg *= 1 + max(w, -1)
	}
	if e.out != nil {
		*e.out = append(*e.out, listing.Signal{Name: name, Detail: detail(), Weight: w})
	}
}

func (e *scoreAcc) score() float64 {
	if !e.init {
		return 0
	}
	s := (1 - e.keep) * e.neg
	return min(max(s, 0), 1)
}

// product picks the product a listing is compared against: the one whose
// name the title spells best, else — when the brand itself was named — the
// cheapest in the listing's currency, the conservative choice.
func (m *Matcher) product(sc *scratch, b *brand, currency string, needNamed bool) (Product, bool) {
	var best *product
	bestFrac := 0.0
	for i := range b.products {
		p := &b.products[i]
		if !sameCurrency(p.Currency, currency) {
			continue
		}
		frac := 0.0
		if len(p.words) > 0 {
			found := sc.prod[p.index]
			n := 0
			for ; found != 0; found &= found - 1 {
				n++
			}
			frac = float64(n) / float64(len(p.words))
		}
		if frac >= 0.5 && (frac > bestFrac || frac == bestFrac && p.MSRP < best.MSRP) {
			best, bestFrac = p, frac
		}
	}
	if best != nil {
		return best.Product, true
	}
	if needNamed {
		return Product{}, false
	}
	for i := range b.products {
		p := &b.products[i]
		if sameCurrency(p.Currency, currency) && (best == nil || p.MSRP < best.MSRP) {
			best = p
		}
	}
	if best == nil {
		return Product{}, false
	}
	return best.Product, true
}

func sameCurrency(a, b string) bool {
	return a == "" || b == "" || strings.EqualFold(a, b)
}

// authorized reports whether seller is one of b's authorized sellers,
// compared after folding.
func (m *Matcher) authorized(sc *scratch, b *brand, seller string) bool {
	if !sc.sellerFolded {
		sc.f.Fold(seller)
		sc.seller = sc.f.AppendWords(sc.seller[:0], false)
		sc.sellerFolded = true
	}
	for _, a := range b.authorized {
		if string(sc.seller) == a {
			return true
		}
	}
	return false
}

func (f *listingFacts) quote(field int8, src [2]int) string {
	s := f.title
	if field == 1 {
		s = f.desc
	}
	if src[0] < 0 || src[1] > len(s) || src[0] > src[1] {
		return ""
	}
	return s[src[0]:src[1]]
}

func fieldName(field int8) string {
	if field == 1 {
		return "description"
	}
	return "title"
}

func money(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
