// Package demomarket is a deterministic demo marketplace served over HTTP on
// loopback. It sells the products of fictional brands next to genuine
// resale, accessories, unrelated goods and counterfeits disguised in every
// way patrol is meant to see through, and it knows the ground truth of each
// listing, so `patrol demo`, the end-to-end tests and the matcher's
// precision/recall benchmark can all run against it without the internet.
package demomarket

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Options configures a Market.
type Options struct {
	// Seed selects the catalogue: the same seed always gives the same
	// listings, prices, sellers, photos and pages.
	Seed int64
}

// Class is the ground truth of a listing.
type Class string

// The classes of listings. Only counterfeits should be flagged.
const (
	ClassCounterfeit Class = "counterfeit"
	ClassGenuine     Class = "genuine"
	ClassResale      Class = "resale"
	ClassAccessory   Class = "accessory"
	ClassUnrelated   Class = "unrelated"
)

// Classes lists every class in a stable order.
func Classes() []Class {
	return []Class{ClassCounterfeit, ClassGenuine, ClassResale, ClassAccessory, ClassUnrelated}
}

// The disguise families a counterfeit listing uses, as recorded in
// Label.Tricks. A listing may use several.
const (
	// TrickSuspiciousTerm: the brand with "replica", "1:1", "AAA", "高仿"…
	TrickSuspiciousTerm = "suspicious_term"
	// TrickHomoglyph: Cyrillic or Greek letters in the brand ("Nоrdvik").
	TrickHomoglyph = "homoglyph"
	// TrickLeetspeak: digits for letters ("N0rdv1k").
	TrickLeetspeak = "leetspeak"
	// TrickSeparators: dots, spaces or dashes inside the brand.
	TrickSeparators = "separators"
	// TrickTypo: one edit away from the brand.
	TrickTypo = "typo"
	// TrickGlued: the brand glued to another word ("nordvikjacket").
	TrickGlued = "glued"
	// TrickFullwidth: fullwidth Unicode letters ("Ｎｏｒｄｖｉｋ").
	TrickFullwidth = "fullwidth"
	// TrickLowPrice: a price below half the MSRP.
	TrickLowPrice = "low_price"
	// TrickPhotoReuse: the brand's own photo, possibly transformed, posted
	// by a seller who is not authorized.
	TrickPhotoReuse = "photo_reuse"
	// TrickImageOnly: no brand word in the title at all; only the photo
	// and the price give it away.
	TrickImageOnly = "image_only"
)

// Tricks lists every disguise family in a stable order.
func Tricks() []string {
	return []string{TrickSuspiciousTerm, TrickHomoglyph, TrickLeetspeak, TrickSeparators, TrickTypo,
		TrickGlued, TrickFullwidth, TrickLowPrice, TrickPhotoReuse, TrickImageOnly}
}

// Label is the ground truth of one listing.
type Label struct {
	ID string
	// Path is the listing page's path, e.g. "/item/3f2a9c1e07".
	Path  string
	Class Class
	// Brand is the protected brand the listing relates to ("" for
	// unrelated goods).
	Brand string
	// Tricks are the disguise families used (counterfeits only), sorted.
	Tricks []string
	// Details say more about how, e.g. "term:replica",
	// "typo:transposition", "photo:mirrored", and about the page
	// ("page:lazy-data-src", "page:price-jsonld-only").
	Details []string
}

// Item is a listing as the marketplace shows it.
type Item struct {
	ID          string
	Path        string
	Title       string
	Description string
	Price       float64
	Currency    string
	// PriceText is the price as the page shows it ("$129.00",
	// "US $1,299.00").
	PriceText string
	Seller    string
	// Images are image names, served at /img/{name} and readable with
	// Market.ImageBytes.
	Images []string
	// Brand is what the seller entered as the brand in the item specifics
	// (possibly disguised, possibly empty).
	Brand string
	// Keywords are the seller's hidden search tags: search matches them,
	// pages do not show them.
	Keywords []string
}

// RemovedStyle is how a removed listing's page answers.
type RemovedStyle int

// The ways a marketplace shows a taken-down listing.
const (
	// RemovedNotFound answers 404 (the default).
	RemovedNotFound RemovedStyle = iota
	// RemovedGone answers 410.
	RemovedGone
	// RemovedNotice answers 200 with RemovedMarker in the page.
	RemovedNotice
)

// RemovedMarker is the text of a removed listing's page under
// RemovedNotice; WriteConfig puts it in the marketplace's removed_marker.
const RemovedMarker = "This listing is no longer available"

// pageStyle is how a listing page is laid out.
type pageStyle struct {
	lazy        string // "", "data-src", "srcset"
	priceHidden bool   // no .price element; the price is only in JSON-LD
	jsonNumber  bool   // JSON-LD price as a number instead of a string
}

type entry struct {
	item  Item
	label Label
	page  pageStyle
}

// Market is a demo marketplace: a fixed catalogue, its photos and its
// pages. It is safe for concurrent use.
type Market struct {
	seed    int64
	entries []*entry
	byID    map[string]*entry
	images  map[string]*imageEntry
	tmpl    *templates

	mu      sync.RWMutex
	removed map[string]bool
	style   RemovedStyle
	cache   map[string][]byte
}

// New builds the catalogue for opts.Seed.
func New(opts Options) *Market {
	m := &Market{
		seed:    opts.Seed,
		byID:    map[string]*entry{},
		images:  map[string]*imageEntry{},
		removed: map[string]bool{},
		cache:   map[string][]byte{},
		tmpl:    parseTemplates(),
	}
	buildCatalogue(m)
	for _, e := range m.entries {
		m.byID[e.item.ID] = e
	}
	return m
}

// Items returns every listing in catalogue order, removed ones included.
func (m *Market) Items() []Item {
	out := make([]Item, len(m.entries))
	for i, e := range m.entries {
		out[i] = e.item
		out[i].Images = append([]string(nil), e.item.Images...)
		out[i].Keywords = append([]string(nil), e.item.Keywords...)
	}
	return out
}

// Labels returns the ground truth of every listing in catalogue order.
func (m *Market) Labels() []Label {
	out := make([]Label, len(m.entries))
	for i, e := range m.entries {
		out[i] = e.label
		out[i].Tricks = append([]string(nil), e.label.Tricks...)
		out[i].Details = append([]string(nil), e.label.Details...)
	}
	return out
}

// Label returns the ground truth of the listing id.
func (m *Market) Label(id string) (Label, bool) {
	e, ok := m.byID[id]
	if !ok {
		return Label{}, false
	}
	l := e.label
	l.Tricks = append([]string(nil), l.Tricks...)
	l.Details = append([]string(nil), l.Details...)
	return l, true
}

// Remove takes the listing id down: its page answers as SetRemovedStyle
// says and search no longer finds it. Unknown ids are ignored.
func (m *Market) Remove(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[id]; ok {
		m.removed[id] = true
	}
}

// Restore puts a removed listing back up.
func (m *Market) Restore(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.removed, id)
}

// SetRemovedStyle sets how removed listings' pages answer.
func (m *Market) SetRemovedStyle(s RemovedStyle) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.style = s
}

func (m *Market) isRemoved(id string) (bool, RemovedStyle) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.removed[id], m.style
}

// Stats summarises the catalogue: listings per class, counterfeits per
// disguise family and the brands.
func (m *Market) Stats() string {
	classes := map[Class]int{}
	tricks := map[string]int{}
	for _, e := range m.entries {
		classes[e.label.Class]++
		for _, t := range e.label.Tricks {
			tricks[t]++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "demo market (seed %d): %d listings, %d images\n", m.seed, len(m.entries), len(m.images))
	var parts []string
	for _, c := range Classes() {
		parts = append(parts, fmt.Sprintf("%s %d", c, classes[c]))
	}
	fmt.Fprintf(&b, "  classes: %s\n", strings.Join(parts, ", "))
	parts = parts[:0]
	for _, t := range Tricks() {
		parts = append(parts, fmt.Sprintf("%s %d", t, tricks[t]))
	}
	fmt.Fprintf(&b, "  counterfeit tricks: %s\n", strings.Join(parts, ", "))
	var names []string
	for _, br := range Brands() {
		names = append(names, fmt.Sprintf("%s (%d products, authorized: %s)", br.Name, len(br.Products), strings.Join(br.AuthorizedSellers, ", ")))
	}
	fmt.Fprintf(&b, "  brands: %s\n", strings.Join(names, "; "))
	return b.String()
}

// ImageBytes returns the encoded photo called name (as in Item.Images) and
// whether it exists. Photos are rendered on first use and kept.
func (m *Market) ImageBytes(name string) ([]byte, bool) {
	if _, ok := m.images[name]; !ok {
		return nil, false
	}
	b, err := m.imageBytes(name)
	if err != nil {
		return nil, false
	}
	return b, true
}

// ImageNames returns the names of every photo the market serves, sorted.
func (m *Market) ImageNames() []string {
	names := make([]string, 0, len(m.images))
	for n := range m.images {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
