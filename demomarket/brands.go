package demomarket

import "image/color"

// Brand is one of the demo market's fictional protected brands, as a brand
// team would describe it in patrol.yaml.
type Brand struct {
	Name string
	// Slug is the lower-case name used in paths (refs/<slug>/...).
	Slug              string
	Terms             []string
	Products          []Product
	AuthorizedSellers []string
	NegativeTerms     []string
	Owner             Owner
	Trademarks        []Trademark
	// ReferenceImages are image names (see Market.ImageBytes) of the
	// brand's own product photos, in product order, two per product.
	ReferenceImages []string
}

// Product is one product of a demo brand with its list price in USD.
type Product struct {
	Name string
	MSRP float64
	// Category is the generic description a seller would use without
	// the brand ("waterproof shell jacket").
	Category string
}

// Owner is a demo brand's rights holder.
type Owner struct {
	Name, Email, Address string
}

// Trademark is a fictional registration of a demo brand's mark.
type Trademark struct {
	Mark, Registration, Jurisdiction string
}

// brandKind selects how a brand's products are drawn.
type brandKind int

const (
	kindJacket brandKind = iota
	kindWatch
)

// productDef is the catalogue's private description of a product: the
// public fields plus what the photo generator needs.
type productDef struct {
	name     string // without the brand
	slug     string
	msrp     float64
	category string
	variant  string // drawing variant: shell, parka, fleece, vest; classic, diver, chrono, petite
	colA     color.RGBA
	colB     color.RGBA
	colC     color.RGBA
}

type brandDef struct {
	name      string
	slug      string
	kind      brandKind
	store     string
	dealer    string
	owner     Owner
	trademark Trademark
	products  []productDef
	negatives []string
}

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{r, g, b, 255} }

// brandDefs returns the fixed table of demo brands. It is a function, not a
// variable, so that nothing can change it.
func brandDefs() []brandDef {
	return []brandDef{
		{
			name: "Nordvik", slug: "nordvik", kind: kindJacket,
			store: "Nordvik Official Store", dealer: "Summit Supply Co.",
			owner:     Owner{Name: "Nordvik Outdoor AS", Email: "legal@nordvik.example", Address: "Fjordgata 12, 7010 Trondheim, Norway"},
			trademark: Trademark{Mark: "NORDVIK", Registration: "US 7012345", Jurisdiction: "US"},
			negatives: []string{"case for", "compatible with", "strap for", "for nordvik", "fits nordvik", "replacement"},
			products: []productDef{
				{name: "Fjell Shell Jacket", slug: "fjell", msrp: 349, category: "waterproof shell jacket", variant: "shell", colA: rgb(196, 38, 42), colB: rgb(40, 40, 48), colC: rgb(236, 238, 242)},
				{name: "Storm Parka", slug: "storm", msrp: 499, category: "insulated winter parka", variant: "parka", colA: rgb(28, 44, 86), colB: rgb(214, 196, 160), colC: rgb(232, 222, 200)},
				{name: "Vidde Fleece Jacket", slug: "vidde", msrp: 149, category: "fleece jacket", variant: "fleece", colA: rgb(46, 104, 64), colB: rgb(230, 226, 210), colC: rgb(170, 200, 220)},
				{name: "Isbre Down Vest", slug: "isbre", msrp: 219, category: "down vest", variant: "vest", colA: rgb(222, 168, 36), colB: rgb(60, 60, 60), colC: rgb(60, 72, 96)},
			},
		},
		{
			name: "Lumora", slug: "lumora", kind: kindWatch,
			store: "Lumora Official Store", dealer: "Hourglass Jewellers",
			owner:     Owner{Name: "Lumora Horlogerie SA", Email: "brand-protection@lumora.example", Address: "Rue du Marché 8, 2300 La Chaux-de-Fonds, Switzerland"},
			trademark: Trademark{Mark: "LUMORA", Registration: "US 7098765", Jurisdiction: "US"},
			negatives: []string{"case for", "compatible with", "strap for", "for lumora", "fits lumora", "replacement"},
			products: []productDef{
				{name: "Meridian Automatic 40", slug: "meridian", msrp: 1299, category: "automatic dress watch", variant: "classic", colA: rgb(200, 204, 210), colB: rgb(24, 26, 30), colC: rgb(110, 62, 30)},
				{name: "Tidal Diver 200", slug: "tidal", msrp: 849, category: "dive watch 200m", variant: "diver", colA: rgb(170, 176, 184), colB: rgb(18, 52, 120), colC: rgb(40, 40, 44)},
				{name: "Aurora Chronograph", slug: "aurora", msrp: 1650, category: "chronograph watch", variant: "chrono", colA: rgb(212, 170, 80), colB: rgb(244, 240, 228), colC: rgb(20, 20, 24)},
				{name: "Petite Classic 32", slug: "petite", msrp: 429, category: "women's quartz watch", variant: "petite", colA: rgb(214, 150, 130), colB: rgb(250, 236, 214), colC: rgb(170, 40, 70)},
			},
		},
	}
}

// refImageName is the name under which the brand's own photo of a product
// is served and written by WriteConfig.
func refImageName(b brandDef, p productDef, view int) string {
	return b.slug + "-" + p.slug + "-" + string(rune('0'+view)) + ".jpg"
}

// Brands returns the demo market's brands. They do not depend on the seed:
// the reference photos WriteConfig ships are the ones every Market serves.
func Brands() []Brand {
	var out []Brand
	for _, b := range brandDefs() {
		br := Brand{
			Name:              b.name,
			Slug:              b.slug,
			Terms:             []string{b.slug},
			AuthorizedSellers: []string{b.store, b.dealer},
			NegativeTerms:     append([]string(nil), b.negatives...),
			Owner:             b.owner,
			Trademarks:        []Trademark{b.trademark},
		}
		for _, p := range b.products {
			br.Products = append(br.Products, Product{Name: b.name + " " + p.name, MSRP: p.msrp, Category: p.category})
			for v := 1; v <= 2; v++ {
				br.ReferenceImages = append(br.ReferenceImages, refImageName(b, p, v))
			}
		}
		out = append(out, br)
	}
	return out
}
