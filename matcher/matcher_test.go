package matcher

import (
	"strings"
	"testing"

	"github.com/patrol-dev/patrol/listing"
)

// testBrands are two invented brands: every rule must hold for any brand,
// so the tests use none of the demo's.
func testBrands() []Brand {
	return []Brand{
		{
			Name:              "Lumora",
			Terms:             []string{"lumora", "lumora halo"},
			Products:          []Product{{Name: "Lumora Halo 3", MSRP: 200, Currency: "USD"}, {Name: "Lumora Pulse", MSRP: 120, Currency: "USD"}},
			MinPriceRatio:     0.5,
			AuthorizedSellers: []string{"Lumora Official Store"},
			NegativeTerms:     []string{"sleeve for"},
			SuspiciousTerms:   []string{"mirror grade"},
			RefImages:         []RefImage{{Name: "halo.jpg", Hash: listing.Image{PHash: 0xF0F0F0F0F0F0F0F0, DHash: 1, AHash: 1}}},
		},
		{
			Name:          "Brackenridge",
			Terms:         []string{"brackenridge"},
			Products:      []Product{{Name: "Brackenridge Field Watch", MSRP: 900, Currency: "USD"}},
			MinPriceRatio: 0.4,
			Threshold:     0.6,
		},
	}
}

func newTestMatcher(t testing.TB) *Matcher {
	t.Helper()
	m, err := New(Options{Brands: testBrands()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func signalNames(l *listing.Listing) string {
	var s []string
	for _, sg := range l.Signals {
		s = append(s, sg.Name)
	}
	return strings.Join(s, ",")
}

func TestScoreTable(t *testing.T) {
	m := newTestMatcher(t)
	tests := []struct {
		name    string
		l       listing.Listing
		brand   string
		flagged bool
		signals []string // must be present
		family  string   // brand_disguised detail prefix
	}{
		{name: "genuine resale", l: listing.Listing{Title: "Lumora Halo 3 headphones, lightly used", Price: 150, Currency: "USD", Seller: "bob"}, brand: "Lumora", signals: []string{"brand_term"}},
		{name: "resale at 60%", l: listing.Listing{Title: "Lumora Halo 3 - open box", Price: 120, Currency: "USD", Seller: "amy"}, brand: "Lumora"},
		{name: "replica", l: listing.Listing{Title: "Lumora Halo 3 replica 1:1", Price: 150, Currency: "USD"}, brand: "Lumora", flagged: true, signals: []string{"brand_term", "suspicious_term"}},
		{name: "not a replica", l: listing.Listing{Title: "Lumora Halo 3 authentic, not a replica", Price: 150, Currency: "USD"}, brand: "Lumora"},
		{name: "cheap", l: listing.Listing{Title: "Lumora Halo 3 wireless", Price: 39, Currency: "USD"}, brand: "Lumora", flagged: true, signals: []string{"price_below_msrp"}},
		{name: "homoglyph", l: listing.Listing{Title: "LUMОRA Halo 3", Price: 180, Currency: "USD"}, brand: "Lumora", flagged: true, family: "homoglyph"},
		{name: "leet", l: listing.Listing{Title: "Lum0ra Halo 3", Price: 180, Currency: "USD"}, brand: "Lumora", flagged: true, family: "leetspeak"},
		{name: "leet lead", l: listing.Listing{Title: "1umora headphones", Price: 180, Currency: "USD"}, brand: "Lumora", flagged: true, family: "leetspeak"},
		{name: "separator", l: listing.Listing{Title: "L.U.M.O.R.A headphones", Price: 180, Currency: "USD"}, brand: "Lumora", flagged: true, family: "separator"},
		{name: "split", l: listing.Listing{Title: "Lu mora headphones", Price: 180, Currency: "USD"}, brand: "Lumora", flagged: true, family: "separator"},
		{name: "zero width", l: listing.Listing{Title: "Lu\u200bmora headphones", Price: 180, Currency: "USD"}, brand: "Lumora", flagged: true, family: "separator"},
		{name: "fullwidth", l: listing.Listing{Title: "ＬＵＭＯＲＡ headphones", Price: 180, Currency: "USD"}, brand: "Lumora", family: "fullwidth"},
		{name: "fullwidth cheap", l: listing.Listing{Title: "ＬＵＭＯＲＡ headphones", Price: 40, Currency: "USD"}, brand: "Lumora", flagged: true, family: "fullwidth"},
		{name: "glued", l: listing.Listing{Title: "lumoraheadphones wireless", Price: 180, Currency: "USD"}, brand: "Lumora", family: "glued"},
		{name: "glued replica", l: listing.Listing{Title: "lumoraheadphones replica", Price: 180, Currency: "USD"}, brand: "Lumora", flagged: true, family: "glued"},
		{name: "typo alone", l: listing.Listing{Title: "Lumoar headphones", Price: 180, Currency: "USD"}, brand: "Lumora", family: "typo"},
		{name: "typo replica", l: listing.Listing{Title: "Lumoar headphones AAA quality", Price: 180, Currency: "USD"}, brand: "Lumora", flagged: true, family: "typo"},
		{name: "typo distance 2", l: listing.Listing{Title: "Brakenrigde field watch replica", Price: 800, Currency: "USD"}, brand: "Brackenridge", flagged: true, family: "typo"},
		{name: "lumen is not lumora", l: listing.Listing{Title: "Lumen desk lamp replica", Price: 5, Currency: "USD"}},
		{name: "luminara is not lumora", l: listing.Listing{Title: "Luminara candle", Price: 5, Currency: "USD"}},
		{name: "lumina is not lumora", l: listing.Listing{Title: "Lumina AAA replica", Price: 5, Currency: "USD"}},
		{name: "straddling words", l: listing.Listing{Title: "plum oral care kit", Price: 5, Currency: "USD"}},
		{name: "accessory", l: listing.Listing{Title: "Silicone case for Lumora Halo 3", Price: 9, Currency: "USD"}, brand: "Lumora", signals: []string{"negative_term"}},
		{name: "compatible with", l: listing.Listing{Title: "Ear pads compatible with Lumora Halo", Price: 12, Currency: "USD"}, brand: "Lumora", signals: []string{"negative_term"}},
		{name: "brand negative", l: listing.Listing{Title: "Neoprene sleeve for Lumora", Price: 12, Currency: "USD"}, brand: "Lumora", signals: []string{"negative_term"}},
		{name: "authorized", l: listing.Listing{Title: "Lumora Halo 3 replica", Price: 20, Currency: "USD", Seller: "LUMORA official store"}, brand: "Lumora", signals: []string{"authorized_seller"}},
		{name: "unauthorized", l: listing.Listing{Title: "Lumora Halo 3", Price: 190, Currency: "USD", Seller: "gadgets4u"}, brand: "Lumora", signals: []string{"unauthorized_seller"}},
		{name: "image with brand", l: listing.Listing{Title: "Lumora Halo 3", Price: 190, Currency: "USD", Images: []listing.Image{{PHash: 0xF0F0F0F0F0F0F0F1, DHash: 1, AHash: 1}}}, brand: "Lumora", flagged: true, signals: []string{"image_match"}},
		{name: "image only cheap", l: listing.Listing{Title: "Wireless headphones noise cancelling", Price: 25, Currency: "USD", Images: []listing.Image{{PHash: 0xF0F0F0F0F0F0F0F0, DHash: 1, AHash: 1}}}, brand: "Lumora", flagged: true, signals: []string{"image_match", "price_below_msrp"}},
		{name: "image only full price", l: listing.Listing{Title: "Wireless headphones", Price: 190, Currency: "USD", Images: []listing.Image{{PHash: 0xF0F0F0F0F0F0F0F0, DHash: 1, AHash: 1}}}, brand: "Lumora"},
		{name: "suspicious in description", l: listing.Listing{Title: "Lumora Halo 3", Description: "Mirror grade, best version", Price: 190, Currency: "USD"}, brand: "Lumora", flagged: true, signals: []string{"suspicious_term"}},
		{name: "aaa batteries", l: listing.Listing{Title: "Lumora Halo 3 remote, uses AAA batteries", Price: 150, Currency: "USD"}, brand: "Lumora"},
		{name: "unrelated", l: listing.Listing{Title: "Garden hose 20m", Price: 5, Currency: "USD"}},
		{name: "other brand cheap", l: listing.Listing{Title: "Brackenridge Field Watch", Price: 200, Currency: "USD"}, brand: "Brackenridge", flagged: true, signals: []string{"price_below_msrp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.l
			m.Score(&l, nil)
			if l.Brand != tt.brand || l.Flagged != tt.flagged {
				t.Errorf("Score(%q) = brand %q flagged %v (score %.2f, %v), want %q %v", tt.l.Title, l.Brand, l.Flagged, l.Score, l.Signals, tt.brand, tt.flagged)
			}
			names := signalNames(&l)
			for _, s := range tt.signals {
				if !strings.Contains(names, s) {
					t.Errorf("Score(%q) signals = %s, want %s", tt.l.Title, names, s)
				}
			}
			if tt.family != "" {
				found := false
				for _, sg := range l.Signals {
					found = found || sg.Name == SignalBrandDisguised && strings.HasPrefix(sg.Detail, tt.family+":")
				}
				if !found {
					t.Errorf("Score(%q) signals = %v, want brand_disguised %s", tt.l.Title, l.Signals, tt.family)
				}
			}
			if l.Score < 0 || l.Score > 1 {
				t.Errorf("Score(%q) = %v, outside [0,1]", tt.l.Title, l.Score)
			}
		})
	}
}
