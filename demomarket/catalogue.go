package demomarket

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"
)

// builder assembles a Market's catalogue.
type builder struct {
	m      *Market
	seed   int64
	photos *photoSet
	n      int
}

// The suspicious phrasings counterfeiters use; {B} is the brand, {P} the
// product, {C} the generic category. "desc" ones hide the term in the
// description and keep the title clean.
type termTemplate struct {
	term, title, desc string
}

func termTemplates() []termTemplate {
	return []termTemplate{
		{"replica", "{B} {P} Replica - {C}", ""},
		{"1:1", "1:1 {B} {P} best version {C}", ""},
		{"AAA", "AAA {B} {P} {C} top grade", ""},
		{"mirror quality", "{B} {P} mirror quality {C}", ""},
		{"super fake", "{B} {P} super fake, looks 100% real", ""},
		{"inspired by", "{C} inspired by {B} {P}", ""},
		{"réplica", "Réplica {B} {P} calidad premium", ""},
		{"unbranded", "Unbranded {C} like {B} {P}", ""},
		{"OEM", "OEM {B} {P} factory direct {C}", ""},
		{"top quality copy", "{B} {P} top quality copy", ""},
		{"nachbau", "{B} {P} Nachbau Top Qualität", ""},
		{"高仿", "高仿 {B} {P} {C}", ""},
		{"replica", "{B} {P} {C} - fast shipping", "High quality replica, same as the original. Not sold in stores."},
		{"1:1", "New {B} {P} {C} with tags", "1:1 copy of the original {B} design, all logos present. Ships from our warehouse in 3-5 days."},
	}
}

func fill(tmpl, brand, product, category string) string {
	r := strings.NewReplacer("{B}", brand, "{P}", product, "{C}", category)
	s := r.Replace(tmpl)
	if strings.HasPrefix(tmpl, "{C}") {
		rs := []rune(s)
		rs[0] = unicode.ToUpper(rs[0])
		s = string(rs)
	}
	return s
}

// roundPrice makes a price look like a shop's: x.99, x.00 or x.50.
func roundPrice(r *rng, v float64) float64 {
	v = math.Max(4, v)
	switch r.intn(3) {
	case 0:
		return math.Floor(v) + 0.99
	case 1:
		return math.Round(v)
	default:
		return math.Floor(v) + 0.5
	}
}

// priceText formats a USD price as the page shows it.
func priceText(p float64, long bool) string {
	cents := int64(math.Round(p * 100))
	whole := fmt.Sprintf("%d", cents/100)
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	s := fmt.Sprintf("$%s.%02d", b.String(), cents%100)
	if long {
		return "US " + s
	}
	return s
}

func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// productShapes draws a brand product, with or without the brand's mark.
func productShapes(b brandDef, p productDef, mark bool) []shape {
	if b.kind == kindJacket {
		return jacket(p.variant, p.colA, p.colB, p.colC, mark)
	}
	return watch(p.variant, p.colA, p.colB, p.colC, mark)
}

// add appends a listing.
func (bl *builder) add(key string, it Item, lb Label) *entry {
	e := &entry{item: it, label: lb}
	e.item.Currency = "USD"
	e.item.PriceText = priceText(it.Price, it.Price >= 1000)
	sort.Strings(e.label.Tricks)
	bl.n++
	e.label.ID = key // replaced by the final ID once the order is known
	bl.m.entries = append(bl.m.entries, e)
	return e
}

func (bl *builder) rng(stream string) *rng { return newRNG(bl.seed, stream) }

// snapshot registers a private seller's own photo of obj.
func (bl *builder) snapshot(key string, obj []shape) string {
	name := hashName("p", bl.seed, key, ".jpg")
	return bl.photos.add(name, false, func(a int) photo {
		return snapshotPhoto(bl.rng(fmt.Sprintf("%s#%d", key, a)), obj)
	})
}

// shop registers a shop's own photo of obj.
func (bl *builder) shop(key string, obj []shape) string {
	name := hashName("p", bl.seed, key, ".jpg")
	return bl.photos.add(name, false, func(a int) photo {
		return shopPhoto(bl.rng(fmt.Sprintf("%s#%d", key, a)), obj)
	})
}

// reuse registers a counterfeiter's copy of a brand photo.
func (bl *builder) reuse(key, ref string, tf transform, text string) string {
	ext := ".jpg"
	if tf == tfPad {
		ext = ".png"
	}
	return bl.m.derive(hashName("u", bl.seed, key, ext), ref, tf, text)
}

func buildCatalogue(m *Market) {
	bl := &builder{m: m, seed: m.seed}
	bl.photos = &photoSet{m: m}
	addBrandPhotos(bl.photos)
	m.images[placeholderImage] = &imageEntry{}
	for bi, b := range brandDefs() {
		bl.genuine(b)
		bl.resale(b)
		bl.accessories(b)
		bl.counterfeits(bi, b)
	}
	bl.unrelated()
	bl.finish()
}

// addBrandPhotos registers the brands' own photos. They come first and do
// not depend on the seed.
func addBrandPhotos(ps *photoSet) {
	for _, b := range brandDefs() {
		for _, p := range b.products {
			for v := 1; v <= 2; v++ {
				accent := p.colA
				ps.add(refImageName(b, p, v), true, func(a int) photo {
					return studioPhoto(newRNG(0, fmt.Sprintf("studio/%s/%s/%d#%d", b.slug, p.slug, v, a)), productShapes(b, p, true), v, accent)
				})
			}
		}
	}
}

func (bl *builder) genuine(b brandDef) {
	r := bl.rng("genuine/" + b.slug)
	for pi, p := range b.products {
		refs := []string{refImageName(b, p, 1), refImageName(b, p, 2)}
		full := b.name + " " + p.name
		bl.add("genuine/"+b.slug+"/"+p.slug+"/store", Item{
			Title:       full,
			Description: fmt.Sprintf("The %s from %s. %s.\nFree shipping and returns within 30 days. Sold and shipped by %s.", full, b.name, strings.ToUpper(p.category[:1])+p.category[1:], b.store),
			Price:       p.msrp, Seller: b.store, Images: refs, Brand: b.name,
			Keywords: []string{b.slug, p.slug, "official"},
		}, Label{Class: ClassGenuine, Brand: b.name, Details: []string{"seller:official-store"}})
		ratio := []float64{1, 0.95, 0.9, 1}[pi]
		price := math.Round(p.msrp*ratio) - []float64{0, 0.01, 0.01, 0}[pi]
		title := fmt.Sprintf("%s - %s - Authorized Dealer", full, p.category)
		if r.chance(0.5) {
			title = fmt.Sprintf("%s | new with warranty", full)
		}
		bl.add("genuine/"+b.slug+"/"+p.slug+"/dealer", Item{
			Title:       title,
			Description: fmt.Sprintf("Brand new %s, full manufacturer warranty. %s is an authorized %s retailer.", full, b.dealer, b.name),
			Price:       price, Seller: b.dealer, Images: []string{refs[pi%2], refs[(pi+1)%2]}, Brand: b.name,
			Keywords: []string{b.slug, p.slug, "warranty"},
		}, Label{Class: ClassGenuine, Brand: b.name, Details: []string{"seller:authorized-dealer"}})
	}
}

func resaleSellers() []string {
	return []string{"maria_k_closet", "hikingdad77", "jonas.b", "preloved-outdoors", "Second Summit Resale", "ellie_wardrobe",
		"vintage_timepieces_uk", "tomasz.w", "watchflipper_nyc", "greta_sells", "closet-clearout-22", "Mountain Swap Shop"}
}

func (bl *builder) resale(b brandDef) {
	r := bl.rng("resale/" + b.slug)
	sellers := resaleSellers()
	var titles, descs []string
	if b.kind == kindJacket {
		titles = []string{"{B} {P} - men's size {S} - worn twice", "{B} {P} women's {S}, great condition", "Pre-owned {B} {P} size {S}",
			"{B} {P} ({S}) - used one season", "Used {B} {P}, size {S}, no damage", "{B} {P} {S} - selling because it no longer fits"}
		descs = []string{"Selling my {B} {P}. Bought at the {B} store, receipt included. Light wear on the cuffs, no tears. Smoke-free home.",
			"Genuine {B} {P} in size {S}. Worn on two hiking trips, washed according to the label. 100% authentic, happy to send more photos.",
			"{B} {P}, used but well kept. Zips work perfectly. Pick-up or shipping."}
	} else {
		titles = []string{"{B} {P} - with box and papers", "Pre-owned {B} {P}, serviced last year", "{B} {P} full set",
			"Used {B} {P} - light scratches on the clasp", "{B} {P} ({S}mm wrist) - excellent condition", "{B} {P}, bought 2021, barely worn"}
		descs = []string{"Selling my {B} {P}. Bought from an authorized dealer, original box, papers and receipt included. Keeps good time.",
			"{B} {P} in excellent condition, a few hairline scratches on the case. 100% authentic, warranty card attached.",
			"Pre-owned {B} {P}. Recently serviced by a watchmaker, invoice included."}
	}
	sizes := []string{"S", "M", "L", "XL"}
	if b.kind == kindWatch {
		sizes = []string{"17", "18", "19", "20"}
	}
	for i := 0; i < 12; i++ {
		p := b.products[i%len(b.products)]
		size := sizes[r.intn(len(sizes))]
		fillS := func(t string) string {
			return strings.ReplaceAll(fill(t, b.name, p.name, p.category), "{S}", size)
		}
		key := fmt.Sprintf("resale/%s/%d", b.slug, i)
		obj := productShapes(b, p, true)
		imgs := []string{bl.snapshot(key+"/1", obj)}
		if i%3 == 0 {
			imgs = append(imgs, bl.snapshot(key+"/2", obj))
		}
		ratio := r.between(0.6, 0.95)
		bl.add(key, Item{
			Title:       fillS(titles[i%len(titles)]),
			Description: fillS(descs[r.intn(len(descs))]),
			Price:       math.Round(p.msrp * ratio),
			Seller:      sellers[(i*5+len(b.slug))%len(sellers)],
			Images:      imgs, Brand: b.name,
			Keywords: []string{b.slug, p.slug, "used"},
		}, Label{Class: ClassResale, Brand: b.name, Details: []string{fmt.Sprintf("price-ratio:%.2f", ratio)}})
	}
}

func (bl *builder) accessories(b brandDef) {
	r := bl.rng("accessory/" + b.slug)
	type acc struct {
		title, kind string
		price       float64
	}
	var list []acc
	if b.kind == kindJacket {
		list = []acc{
			{"Replacement hood compatible with {B} Storm Parka", "hood", 34},
			{"Waterproofing spray for {B} jackets, 300 ml", "spray", 14},
			{"Zipper pull replacement for {B} Fjell Shell Jacket (5 pack)", "strap", 8},
			{"Faux fur hood trim compatible with {B} parkas", "hood", 22},
			{"Technical wash for {B} down vests and jackets", "spray", 12},
			{"Reflective armband compatible with {B} Vidde Fleece Jacket", "strap", 9},
			{"Garment bag for {B} Storm Parka, breathable", "backpack", 19},
			{"Spare snap buttons for {B} Isbre Down Vest", "watchcase", 7},
			{"Travel compression sack compatible with {B} down vests", "backpack", 16},
			{"Down repair patches for {B} jackets (set of 6)", "towel", 11},
		}
	} else {
		list = []acc{
			{"Protective case for {B} Meridian Automatic 40", "watchcase", 29},
			{"22mm leather strap for {B} Tidal Diver 200", "strap", 39},
			{"Screen protector compatible with {B} Aurora Chronograph (3 pack)", "protector", 9},
			{"Watch winder compatible with {B} automatic watches", "watchcase", 59},
			{"Rubber strap for {B} Tidal Diver 200, black", "strap", 25},
			{"Travel watch case for {B} watches, leather", "watchcase", 45},
			{"Sapphire crystal protector film compatible with {B} Petite Classic 32", "protector", 7},
			{"Nylon NATO strap for {B} Meridian, 20mm", "strap", 15},
			{"Replacement clasp compatible with {B} Petite Classic 32", "strap", 18},
			{"Display stand for {B} chronograph watches", "lamp", 21},
		}
	}
	sellers := []string{"StrapHouse", "GearFix Parts", "Watch Accessory World", "OutdoorCare Supplies", "PartsPlanet", "strapcraft_studio"}
	for i, a := range list {
		key := fmt.Sprintf("accessory/%s/%d", b.slug, i)
		obj := goods(a.kind, randColor(r, 20, 200), randColor(r, 100, 250))
		var img string
		if i%2 == 0 {
			img = bl.shop(key, obj)
		} else {
			img = bl.snapshot(key, obj)
		}
		title := fill(a.title, b.name, "", "")
		bl.add(key, Item{
			Title:       title,
			Description: fmt.Sprintf("%s. Accessory only, no %s product included. Not made or endorsed by %s.", title, b.name, b.name),
			Price:       roundPrice(r, a.price*r.between(0.9, 1.2)),
			Seller:      sellers[(i+len(b.slug))%len(sellers)],
			Images:      []string{img},
			Keywords:    []string{b.slug, "accessory", a.kind},
		}, Label{Class: ClassAccessory, Brand: b.name})
	}
}

// counterfeitSellers are the shops that sell fakes; the last two of each
// brand impersonate it.
func counterfeitSellers() []string {
	return []string{"bestdeal_outlet88", "GZ Fashion Trade", "luxury-mirror-store", "TopBrandFactory", "happyshopping2024",
		"Outdoor Gear Warehouse", "Prime Style Outlet", "king_of_watches", "dragon_trade_co", "Euro Discount Hub",
		"sunny-wholesale", "Elite Timepiece Gallery", "megastore_direct", "Fashion Loft 365"}
}

// cf describes one counterfeit listing before it is written.
type cf struct {
	family  string
	name    string // the brand as written (possibly disguised)
	detail  string
	term    *termTemplate
	ratio   float64
	reuse   transform // "" for the seller's own photos
	generic bool      // image-only: no brand in the title
}

func (bl *builder) counterfeits(bi int, b brandDef) {
	r := bl.rng("counterfeit/" + b.slug)
	terms := termTemplates()
	var specs []cf
	lowRatio := func() float64 { return r.between(0.10, 0.35) }
	// brand plainly with a suspicious term
	for i := bi; i < len(terms); i += 2 {
		t := terms[i]
		specs = append(specs, cf{family: TrickSuspiciousTerm, name: b.name, detail: "term:" + t.term, term: &t, ratio: r.between(0.2, 0.75)})
	}
	// disguised brand with one piece of evidence: a term, a low price or
	// a reused photo, in turn.
	disguises := []struct {
		family string
		n      int
		fn     func(string, int) (string, string)
	}{
		{TrickHomoglyph, 3, homoglyph},
		{TrickLeetspeak, 3, leet},
		{TrickSeparators, 3, separate},
		{TrickTypo, 4, typo},
		{TrickGlued, 3, nil},
		{TrickFullwidth, 2, fullwidth},
	}
	glued := [][]string{{"nordvikjacket", "NordvikShell", "nordvikoutlet"}, {"lumorawatch", "LumoraSwiss", "lumoramen"}}
	tfs := []transform{tfExact, tfResize, tfCrop, tfPad, tfMirror, tfBrighten, tfJPEGLow, tfWatermark}
	ev := bi
	for _, d := range disguises {
		for k := 0; k < d.n; k++ {
			s := cf{family: d.family}
			if d.fn != nil {
				s.name, s.detail = d.fn(b.name, k+bi)
			} else {
				s.name, s.detail = glued[bi][k], "glued"
			}
			switch ev % 3 {
			case 0:
				s.ratio = lowRatio()
			case 1:
				t := terms[(ev*5+bi)%len(terms)]
				s.term = &t
				s.ratio = r.between(0.3, 0.8)
			default:
				s.reuse = tfs[(ev+bi)%len(tfs)]
				s.ratio = r.between(0.3, 0.9)
			}
			ev++
			specs = append(specs, s)
		}
	}
	// brand plainly, price far below MSRP, own photos
	for k := 0; k < 4; k++ {
		specs = append(specs, cf{family: TrickLowPrice, name: b.name, ratio: lowRatio()})
	}
	// brand plainly, the brand's photo reused, price unremarkable
	for k := 0; k < 5; k++ {
		specs = append(specs, cf{family: TrickPhotoReuse, name: b.name, reuse: tfs[(k+bi*5)%len(tfs)], ratio: r.between(0.55, 0.9)})
	}
	// no brand word at all: only the photo and a very low price
	for k := 0; k < 3; k++ {
		specs = append(specs, cf{family: TrickImageOnly, generic: true, reuse: tfs[(k*3+bi)%len(tfs)], ratio: r.between(0.08, 0.25)})
	}

	sellers := counterfeitSellers()
	impersonators := []string{b.name + " Factory Outlet", b.name + " Official Shop"}
	plainTitles := []string{"{B} {P} {C}", "{B} {P} - {C} - new with tags", "New {B} {P} {C}, free shipping", "{B} {P}"}
	genericTitles := []string{"Men's {C}, new", "{C} - premium quality - fast shipping", "Women's {C} sale", "Hot sale {C}"}
	descs := []string{
		"Brand new, never worn. Fast shipping from our warehouse. Wholesale orders welcome, message us for discounts.",
		"100% new with all tags. Same materials and stitching. Ships worldwide in 5-12 days.",
		"Top seller! Limited stock at this price. Buy 2 get free shipping.",
		"Perfect gift. Check our other items for more colours and sizes.",
	}
	for i, s := range specs {
		p := b.products[(i+bi)%len(b.products)]
		key := fmt.Sprintf("counterfeit/%s/%d", b.slug, i)
		tricks := []string{s.family}
		details := []string{}
		if s.detail != "" && s.detail != "glued" {
			details = append(details, s.detail)
		}
		var title, desc string
		switch {
		case s.generic:
			gt := genericTitles[i%len(genericTitles)]
			if strings.Contains(p.category, "'s") {
				gt = "{C}, new - fast shipping"
			}
			title = fill(gt, "", "", p.category)
			desc = descs[i%len(descs)]
		case s.term != nil:
			title = fill(s.term.title, s.name, p.name, p.category)
			desc = descs[i%len(descs)]
			if s.term.desc != "" {
				desc = fill(s.term.desc, s.name, p.name, p.category) + " " + desc
				details = append(details, "term-in-description")
			}
			if s.family != TrickSuspiciousTerm {
				tricks = append(tricks, TrickSuspiciousTerm)
				details = append(details, "term:"+s.term.term)
			}
		default:
			title = fill(plainTitles[i%len(plainTitles)], s.name, p.name, p.category)
			desc = descs[i%len(descs)]
		}
		price := roundPrice(r, p.msrp*s.ratio)
		if price < p.msrp*0.5 && s.family != TrickLowPrice {
			tricks = append(tricks, TrickLowPrice)
		}
		var imgs []string
		if s.reuse != "" {
			ref := refImageName(b, p, 1+i%2)
			imgs = append(imgs, bl.reuse(key, ref, s.reuse, sellers[i%len(sellers)]))
			if s.family != TrickPhotoReuse && s.family != TrickImageOnly {
				tricks = append(tricks, TrickPhotoReuse)
			}
			details = append(details, "photo:"+string(s.reuse))
		} else {
			imgs = append(imgs, bl.shop(key, productShapes(b, p, i%2 == 0)))
			if i%4 == 1 {
				imgs = append(imgs, bl.snapshot(key+"/2", productShapes(b, p, true)))
			}
		}
		seller := sellers[(i*3+bi*7)%len(sellers)]
		if i%11 == 5 {
			seller = impersonators[(i/11)%2]
			details = append(details, "seller-impersonation")
		}
		declared := s.name
		if s.generic {
			declared = ""
		}
		bl.add(key, Item{
			Title: title, Description: desc, Price: price, Seller: seller, Images: imgs, Brand: declared,
			Keywords: []string{b.slug, p.slug, strings.Fields(p.category)[0]},
		}, Label{Class: ClassCounterfeit, Brand: b.name, Tricks: tricks, Details: details})
	}
}

func (bl *builder) unrelated() {
	r := bl.rng("unrelated")
	type un struct {
		title, kind string
		price       float64
		kw          string
		jacket      bool
		watch       bool
	}
	list := []un{
		{"Nordic Knit Wool Beanie", "beanie", 24, "nordvik", false, false},
		{"Nordic Walking Poles, carbon, pair", "poles", 59, "nordvik", false, false},
		{"Nordland Trekking Socks 3-Pack", "socks", 18, "nordvik", false, false},
		{"Haldor Alpine Shell Jacket", "", 189, "nordvik", true, false},
		{"Men's Waterproof Rain Jacket, lightweight", "", 39.99, "nordvik", true, false},
		{"Storm Umbrella Windproof 60 inch", "umbrella", 29, "nordvik", false, false},
		{"Fjell 2-Person Trekking Tent", "tent", 149, "nordvik", false, false},
		{"Vidde Insulated Water Bottle 750 ml", "bottle", 27, "nordvik", false, false},
		{"Nord Trail Backpack 30L", "backpack", 79, "nordvik", false, false},
		{"Viking Enamel Camp Mug", "mug", 14, "nordvik", false, false},
		{"Isbre Glacier Photo Print 50x70", "poster", 35, "nordvik", false, false},
		{"Northvale Down Jacket, women's", "", 129, "nordvik", true, false},
		{"Nordvest Kids Rain Boots", "shoe", 32, "nordvik", false, false},
		{"Norrland Fleece Pullover", "", 69, "nordvik", true, false},
		{"Parka for dogs, waterproof, size M", "hood", 26, "nordvik", false, false},
		{"Lumen LED Desk Lamp 12W", "lamp", 34, "lumora", false, false},
		{"Lumina Flameless Candles, set of 3", "candles", 22, "lumora", false, false},
		{"Luminara Night Light for kids", "lamp", 19, "lumora", false, false},
		{"Meridian Yoga Mat 6 mm", "yogamat", 39, "lumora", false, false},
		{"Aurora Borealis Canvas Print", "poster", 45, "lumora", false, false},
		{"Tidal Wave Beach Towel", "towel", 21, "lumora", false, false},
		{"Vantera Automatic Diver 42mm", "", 299, "lumora", false, true},
		{"Men's Quartz Chronograph Watch, stainless steel", "", 24.99, "lumora", false, true},
		{"Lumière Scented Candle, amber", "candles", 18, "lumora", false, false},
		{"Luma Running Shoes", "shoe", 89, "lumora", false, false},
		{"Moraine Hiking Boots", "shoe", 139, "lumora", false, false},
		{"Classic 32 oz Water Bottle", "bottle", 25, "lumora", false, false},
		{"Orvana Classic 36 Dress Watch", "", 189, "lumora", false, true},
		{"Kids Digital Sports Watch", "", 12.99, "lumora", false, true},
		{"Lumo Smart Alarm Clock", "lamp", 49, "lumora", false, false},
		{"Lunora Moon Lamp 15 cm", "lamp", 27, "lumora", false, false},
		{"Petite Leather Backpack", "backpack", 65, "lumora", false, false},
	}
	sellers := []string{"HomeGoods Direct", "trailhead_supply", "CozyCorner", "Sportiva Store", "ArtPrints Co", "timekeeper_shop", "BrightHome", "UrbanStep"}
	variants := []string{"shell", "parka", "fleece", "vest"}
	wvariants := []string{"classic", "diver", "chrono", "petite"}
	for i, u := range list {
		key := fmt.Sprintf("unrelated/%d", i)
		a, b2 := randColor(r, 20, 230), randColor(r, 20, 230)
		var obj []shape
		switch {
		case u.jacket:
			obj = jacket(variants[r.intn(4)], a, b2, randColor(r, 100, 240), false)
		case u.watch:
			obj = watch(wvariants[r.intn(4)], randColor(r, 120, 230), b2, a, false)
		default:
			obj = goods(u.kind, a, b2)
		}
		var img string
		if i%3 == 0 {
			img = bl.snapshot(key, obj)
		} else {
			img = bl.shop(key, obj)
		}
		words := strings.Fields(strings.ToLower(strings.Map(func(c rune) rune {
			if unicode.IsLetter(c) || unicode.IsDigit(c) {
				return c
			}
			return ' '
		}, u.title)))
		declared := words[0]
		declared = strings.ToUpper(declared[:1]) + declared[1:]
		switch words[0] {
		case "men", "kids", "parka", "classic", "petite", "storm", "nordic":
			declared = ""
		}
		bl.add(key, Item{
			Title:       u.title,
			Description: fmt.Sprintf("%s. In stock, ships in 1-2 business days. 30-day returns.", u.title),
			Price:       roundPrice(r, u.price*r.between(0.9, 1.1)),
			Seller:      sellers[i%len(sellers)],
			Images:      []string{img},
			Brand:       declared,
			Keywords:    append([]string{u.kw}, words[:min(2, len(words))]...),
		}, Label{Class: ClassUnrelated})
	}
}

// finish shuffles the catalogue, gives every listing its ID and page
// style.
func (bl *builder) finish() {
	m := bl.m
	r := bl.rng("order")
	for i := len(m.entries) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		m.entries[i], m.entries[j] = m.entries[j], m.entries[i]
	}
	seen := map[string]bool{}
	ps := bl.rng("pages")
	for _, e := range m.entries {
		key := e.label.ID
		id := hashName("", bl.seed, key, "")
		for seen[id] {
			id = hashName("", bl.seed, key+"+", "")
			key += "+"
		}
		seen[id] = true
		e.item.ID, e.label.ID = id, id
		e.item.Path, e.label.Path = "/item/"+id, "/item/"+id
		switch x := ps.intn(20); {
		case x < 3:
			e.page.lazy = "data-src"
			e.label.Details = append(e.label.Details, "page:lazy-data-src")
		case x < 6:
			e.page.lazy = "srcset"
			e.label.Details = append(e.label.Details, "page:lazy-srcset")
		}
		if ps.intn(16) == 0 {
			e.page.priceHidden = true
			e.label.Details = append(e.label.Details, "page:price-jsonld-only")
		}
		e.page.jsonNumber = ps.chance(0.3)
		sort.Strings(e.label.Details)
	}
}
