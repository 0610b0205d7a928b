package matcher

import (
	"strconv"
	"strings"
	"unicode/utf8"

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
	var local [8]imageHit // most configurations protect a few brands
	imgs := local[:]
	if len(m.brands) > len(local) {
		imgs = make([]imageHit, len(m.brands))
	}
	for bi := range m.brands {
		imgs[bi] = m.matchImages(&m.brands[bi], l.Images)
		sc.images = sc.images || imgs[bi].ok
	}
	m.scanText(sc, l.Title, 0, l.Description == "")
	m.scanText(sc, l.Description, 1, true)
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
	best, bestScore, bestEv, bestN := -1, -1.0, -1.0, 0
	for bi := range m.brands {
		s, ev, n, ok := m.evaluate(sc, bi, &facts, imgs[bi], nil)
		if ok && (s > bestScore || s == bestScore && ev > bestEv) {
			best, bestScore, bestEv, bestN = bi, s, ev, n
		}
	}
	if best < 0 {
		return
	}
	b := &m.brands[best]
	l.Brand = b.Name
	l.Signals = make([]listing.Signal, 0, bestN)
	l.Score, _, _, _ = m.evaluate(sc, best, &facts, imgs[best], &l.Signals)
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
	m.scanText(sc, title, 0, true)
	facts := listingFacts{title: title, price: price, currency: currency, seller: seller}
	best, bestScore, bestEv := -1, -1.0, -1.0
	for bi := range m.brands {
		s, ev, _, ok := m.evaluate(sc, bi, &facts, imageHit{}, nil)
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
// strength of the brand evidence (to break ties between brands), the
// number of signals and whether the brand is in play at all. When out is
// non-nil the signals are appended to it, with details; otherwise nothing
// is allocated.
func (m *Matcher) evaluate(sc *scratch, bi int, f *listingFacts, img imageHit, out *[]listing.Signal) (score, evidence float64, n int, ok bool) {
	b := &m.brands[bi]
	hb := &sc.hits[bi]
	if !hb.inPlay() && !img.ok {
		return 0, 0, 0, false
	}
	e := scoreAcc{out: out, buf: &sc.detail}
	if out != nil {
		e.first = len(*out)
		defer e.finish()
	}
	if f.seller != "" && len(b.authorized) > 0 && m.authorized(sc, b, f.seller) {
		if e.add(SignalAuthorizedSeller, -1) {
			e.s("seller ").q(f.seller).s(" is an authorized seller of ").s(b.Name).done()
		}
		return 0, 1, e.n, true
	}
	if th := hb.exact; th.fam != famNone {
		if e.add(SignalBrandTerm, m.w.BrandTerm) {
			e.q(f.quote(th.field, th.src)).s(" in the ").s(fieldName(th.field)).done()
		}
	}
	if d := hb.disguised; d.fam != famNone {
		if e.add(SignalBrandDisguised, m.familyWeight(d.fam)) {
			e.s(familyNames[d.fam]).s(": ").q(f.quote(d.field, d.src)).s(" in the ").s(fieldName(d.field)).s(" reads as ").q(b.terms[d.term].raw)
			if d.op != "" {
				e.s(" (").s(d.op).s(")")
			}
			e.done()
		}
	}
	evidence = e.pos
	typoOnly := hb.exact.fam == famNone && hb.disguised.fam == famTypo
	if img.ok {
		if e.add(SignalImageMatch, m.w.ImageMatch) {
			e.s("photo ").d(img.img + 1).s(" matches reference ").q(b.RefImages[img.ref].Name).s(" at distance ").d(img.dist).s(" (").s(img.method).s(")")
			if img.method == "mirror" {
				e.s(", mirrored")
			}
			e.done()
		}
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
		if e.add(SignalSuspiciousTerm, m.w.SuspiciousTerm) {
			e.q(p.text).s(" in the ").s(fieldName(ph.field)).done()
		}
	}
	if pr, ok := m.product(sc, b, f.currency, typoOnly); ok && f.price > 0 {
		floor := b.ratio * pr.MSRP
		if f.price < floor {
			w := m.w.PriceBelowMSRP
			if f.price < floor/2 {
				w = m.w.PriceFarBelowMSRP
			}
			if e.add(SignalPriceBelowMSRP, w) {
				e.s("price ").m(f.price).s(" ").s(pr.Currency).s(" is ").f0(100 * f.price / pr.MSRP).s("% of the MSRP ").m(pr.MSRP).s(" ").s(pr.Currency).s(" of ").s(pr.Name).s(" (floor ").f0(100 * b.ratio).s("%)").done()
			}
		}
	}
	if len(f.shared) > 0 {
		if e.add(SignalSharedPhoto, m.w.SharedPhoto) {
			ids := f.shared
			if len(ids) > 3 {
				ids = ids[:3]
			}
			e.s("photo ").d(f.sharedAt + 1).s(" also appears in ").d(len(f.shared)).s(" flagged listing(s) of other sellers: ")
			for i, id := range ids {
				if i > 0 {
					e.s(", ")
				}
				e.s(id)
			}
			if len(f.shared) > 3 {
				e.s(" and ").d(len(f.shared) - 3).s(" more")
			}
			e.done()
		}
	}
	if f.repeat > 0 {
		if e.add(SignalRepeatInfringer, m.w.RepeatInfringer) {
			e.s("seller ").q(f.seller).s(" has ").d(f.repeat).s(" confirmed infringement(s)").done()
		}
	}
	if f.seller != "" && len(b.authorized) > 0 {
		if e.add(SignalUnauthorizedSeller, m.w.UnauthorizedSeller) {
			e.s("seller ").q(f.seller).s(" is not among the ").d(len(b.authorized)).s(" authorized sellers of ").s(b.Name).done()
		}
	}
	if negative {
		p := &m.phrases.list[negHit.phrase]
		if e.add(SignalNegativeTerm, m.w.NegativeTerm) {
			e.q(p.text).s(" in the ").s(fieldName(negHit.field)).s(": an accessory or compatible part").done()
		}
	} else if a := hb.accessory; a.fam != famNone {
		if e.add(SignalNegativeTerm, m.w.NegativeTerm) {
			e.q(f.quote(a.field, a.src)).s(" in the ").s(fieldName(a.field)).s(": an accessory for the brand's product").done()
		}
	}
	return e.score(), evidence, e.n, true
}

// scoreAcc accumulates signals into a noisy-OR score and, when out is
// non-nil, appends them to out with their details, which it writes into
// buf without fmt.
type scoreAcc struct {
	keep float64 // Π(1 − wᵢ) over positive weights
	neg  float64 // Π(1 + wⱼ) over negative weights
	pos  float64 // the largest positive weight
	init bool
	n    int // signals added
	out  *[]listing.Signal
	// The details are written one after another into buf; ends[i] is
	// where the detail of (*out)[first+i] ends.
	buf   *[]byte
	first int
	ends  [12]int
	extra int // where the detail of a signal beyond ends starts
}

// add counts a signal of weight w. It reports whether the caller should
// write its detail (with the methods below, ending with done): only when
// signals are being recorded.
func (e *scoreAcc) add(name string, w float64) bool {
	if !e.init {
		e.keep, e.neg, e.init = 1, 1, true
	}
	if w > 0 {
		e.keep *= 1 - min(w, 1)
		e.pos = max(e.pos, w)
	} else if w < 0 {
		e.neg *= 1 + max(w, -1)
	}
	e.n++
	if e.out == nil {
		return false
	}
	if len(*e.out) == e.first {
		*e.buf = (*e.buf)[:0]
	}
	*e.out = append(*e.out, listing.Signal{Name: name, Weight: w})
	return true
}

// s, q, d, m and f0 append to the detail a string, a quoted string, an
// integer and a number without decimals: fmt's %s, %q, %d and %.0f.
func (e *scoreAcc) s(v string) *scoreAcc {
	*e.buf = append(*e.buf, v...)
	return e
}

func (e *scoreAcc) q(v string) *scoreAcc {
	*e.buf = strconv.AppendQuote(*e.buf, v)
	return e
}

func (e *scoreAcc) d(v int) *scoreAcc {
	*e.buf = strconv.AppendInt(*e.buf, int64(v), 10)
	return e
}

// m appends an amount of money with two decimals.
func (e *scoreAcc) m(v float64) *scoreAcc {
	*e.buf = strconv.AppendFloat(*e.buf, v, 'f', 2, 64)
	return e
}

func (e *scoreAcc) f0(v float64) *scoreAcc {
	*e.buf = strconv.AppendFloat(*e.buf, v, 'f', 0, 64)
	return e
}

// done ends the detail of the last signal added.
func (e *scoreAcc) done() {
	i := len(*e.out) - 1 - e.first
	if i < len(e.ends) {
		e.ends[i] = len(*e.buf)
		return
	}
	// More signals than ends can hold: a string of its own.
	from := e.ends[len(e.ends)-1]
	if i > len(e.ends) {
		from = e.extra
	}
	(*e.out)[len(*e.out)-1].Detail = string((*e.buf)[from:])
	e.extra = len(*e.buf)
}

// finish sets the details of the signals added, as slices of one string:
// one allocation for all of them.
func (e *scoreAcc) finish() {
	if e.out == nil {
		return
	}
	sig := (*e.out)[e.first:]
	n := min(len(sig), len(e.ends))
	if n == 0 {
		return
	}
	all := string((*e.buf)[:e.ends[n-1]])
	from := 0
	for i := range n {
		sig[i].Detail = all[from:e.ends[i]]
		from = e.ends[i]
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
	return a == "" || b == "" || a == b || strings.EqualFold(a, b)
}

// authorized reports whether seller is one of b's authorized sellers,
// compared after folding.
func (m *Matcher) authorized(sc *scratch, b *brand, seller string) bool {
	if !sc.sellerFolded && !sc.mayBeAuthorized(seller, b.authorizedKeys) {
		return false
	}
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

// mayBeAuthorized reports whether the seller may fold to one of the
// authorized names, whose folded words, concatenated, are keys; it answers
// without folding. An ASCII name without the symbols that may stand for
// letters folds to its letters (lower-cased) and digits, split into words:
// unless those equal a key, the folded name cannot equal the authorized
// one. Any other name may. The seller's letters and digits are gathered
// once per listing.
func (sc *scratch) mayBeAuthorized(seller string, keys []string) bool {
	if sc.sellerKeyed == 0 {
		sc.sellerKeyed = 1
		sc.sellerKey = sc.sellerKey[:0]
		for i := 0; i < len(seller); i++ {
			switch c := sellerByte[seller[i]]; c {
			case 0:
			case 0xFF:
				sc.sellerKeyed = 2
				return true
			default:
				sc.sellerKey = append(sc.sellerKey, c)
			}
		}
	}
	if sc.sellerKeyed == 2 {
		return true
	}
	for _, k := range keys {
		if string(sc.sellerKey) == k {
			return true
		}
	}
	return false
}

// sellerByte maps a byte of a seller's name to what mayBeAuthorized keeps
// of it: a letter lower-cased, a digit, 0 for a separator, 0xFF for a
// byte that only folding can judge (not ASCII, or a symbol that may stand
// for a letter).
var sellerByte = func() (t [256]byte) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = byte(c), byte(c)
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c)
	}
	for c := utf8.RuneSelf; c < 256; c++ {
		t[c] = 0xFF
	}
	t['@'], t['$'], t['!'], t['|'] = 0xFF, 0xFF, 0xFF, 0xFF
	return t
}()

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
