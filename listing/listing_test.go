package listing

import "testing"

func TestCanonicalURL(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"https://Shop.Example/item/1?utm_source=x&b=2&a=1#reviews", "https://shop.example/item/1?a=1&b=2"},
		{"http://shop.example:80/item/1", "http://shop.example/item/1"},
		{"https://shop.example:443", "https://shop.example/"},
		{"https://www.ebay.com/itm/302474151804?hash=item466c&_trksid=p2047675", "https://www.ebay.com/itm/302474151804"},
		{"https://www.amazon.com/dp/B01GOH7PKA?ref_=ast&pf_rd_p=1&th=1", "https://www.amazon.com/dp/B01GOH7PKA"},
		{"https://user:pw@shop.example/x?id=7&fbclid=abc&gclid=def", "https://shop.example/x?id=7"},
		{"  https://shop.example/item/ü?q=a b  ", "https://shop.example/item/%C3%BC?q=a+b"},
	}
	for _, tt := range tests {
		got, err := CanonicalURL(tt.in)
		if err != nil {
			t.Errorf("CanonicalURL(%q) error %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("CanonicalURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"/relative/path", "not a url", "http://"} {
		if got, err := CanonicalURL(bad); err == nil {
			t.Errorf("CanonicalURL(%q) = %q, want an error", bad, got)
		}
	}
}

func TestNewIDStableAndDistinct(t *testing.T) {
	a := NewID("ebay", "https://www.ebay.com/itm/1")
	if a != NewID("ebay", "https://www.ebay.com/itm/1") {
		t.Error("NewID is not stable")
	}
	if a == NewID("amazon", "https://www.ebay.com/itm/1") || a == NewID("ebay", "https://www.ebay.com/itm/2") {
		t.Error("NewID collides across marketplaces or URLs")
	}
	if len(a) != 16 {
		t.Errorf("NewID length = %d, want 16 hex characters", len(a))
	}
}

func TestContentHashCoversWhatThePageSays(t *testing.T) {
	base := Listing{Title: "Acme", Price: 10, Currency: "USD", Seller: "s", Images: []Image{{URL: "u"}}}
	h := base.ComputeContentHash()
	for name, change := range map[string]func(*Listing){
		"title":  func(l *Listing) { l.Title = "Acme 2" },
		"price":  func(l *Listing) { l.Price = 11 },
		"seller": func(l *Listing) { l.Seller = "t" },
		"image":  func(l *Listing) { l.Images = []Image{{URL: "v"}} },
	} {
		l := base
		l.Images = append([]Image(nil), base.Images...)
		change(&l)
		if l.ComputeContentHash() == h {
			t.Errorf("changing the %s leaves the content hash unchanged", name)
		}
	}
	l := base
	l.Score, l.Flagged, l.Status = 0.9, true, StatusConfirmed
	if l.ComputeContentHash() != h {
		t.Error("judgement fields change the content hash")
	}
}
