package index_test

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patrol-dev/patrol/index"
	"github.com/patrol-dev/patrol/listing"
)

// testFold stands in for fold.Fold: lower case, a few Cyrillic homoglyphs
// and leetspeak digits.
func testFold(s string) string {
	r := strings.NewReplacer(
		"о", "o", "О", "o", "а", "a", "А", "a", "е", "e", "Е", "e", "і", "i", "к", "k", "К", "k", "с", "c", "р", "p", "Ν", "n",
		"0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "@", "a", "$", "s",
	)
	return r.Replace(strings.ToLower(s))
}

var base = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture is a small, hand-checked set of listings.
func fixture() []listing.Listing {
	mk := func(id, mp, title, desc, seller, brand string, price, score float64, flagged bool, st listing.Status, day int) listing.Listing {
		l := listing.Listing{
			ID: listing.ID(id), Marketplace: mp, URL: "https://" + mp + ".example/" + id,
			Title: title, Description: desc, Seller: seller, Brand: brand,
			Price: price, Currency: "USD", Score: score, Flagged: flagged, Status: st,
			FirstSeen: base.AddDate(0, 0, day-10), FetchedAt: base.AddDate(0, 0, day),
		}
		l.ContentHash = l.ComputeContentHash()
		return l
	}
	return []listing.Listing{
		mk("a1", "shopx", "Nordvik Trailblazer 3 hiking boots", "Genuine Nordvik boots, waterproof leather, size 42.", "Nordvik Official", "Nordvik", 179, 0.05, false, listing.StatusDismissed, 1),
		mk("a2", "shopx", "N0rdv1k Trailblazer 3 mirror grade boots", "Top quality replica, ships from warehouse.", "cheapdeals88", "Nordvik", 39, 0.92, true, listing.StatusNew, 2),
		mk("a3", "bazaar", "Nоrdvik Trailblazer boots sale", "Brand new in box, fast shipping.", "bootsoutlet", "Nordvik", 45, 0.81, true, listing.StatusConfirmed, 3),
		mk("a4", "bazaar", "Hiking boots waterproof", "Comfortable boots, compare to N0RDV1K quality.", "bootsoutlet", "Nordvik", 60, 0.40, false, listing.StatusNew, 4),
		mk("a5", "bazaar", "Acme Rocket skates", "Acme original skates with warranty.", "Acme Store", "Acme", 120, 0.10, false, listing.StatusNew, 5),
		mk("a6", "shopx", "@cme rocket skates 1:1 copy", "Cheap skates, same factory as the originals.", "cheapdeals88", "Acme", 25, 0.88, true, listing.StatusNew, 6),
		mk("a7", "mercado", "Leather wallet brown", "Handmade wallet, genuine leather.", "craftshop", "", 30, 0, false, listing.StatusNew, 7),
	}
}

// iter yields ls, as the store's iterator would.
func iter(ls []listing.Listing) func(yield func(listing.Listing) bool) {
	return func(yield func(listing.Listing) bool) {
		for _, l := range ls {
			if !yield(l) {
				return
			}
		}
	}
}

func openFixture(t *testing.T) (*index.Index, map[listing.ID]listing.Listing) {
	t.Helper()
	ls := fixture()
	byID := make(map[listing.ID]listing.Listing, len(ls))
	for _, l := range ls {
		byID[l.ID] = l
	}
	lookup := func(_ context.Context, id listing.ID) (listing.Listing, error) { return byID[id], nil }
	ix, err := index.Open(filepath.Join(t.TempDir(), "idx"), index.Options{Fold: testFold, Lookup: lookup})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	if err := ix.Put(context.Background(), ls); err != nil {
		t.Fatal(err)
	}
	return ix, byID
}

func ids(r index.Result) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, string(h.ID))
	}
	slices.Sort(out)
	return out
}

func TestSearch(t *testing.T) {
	ix, _ := openFixture(t)
	yes, no := true, false
	tests := []struct {
		name string
		q    index.Query
		want []string
	}{
		{"brand finds homoglyph and leetspeak", index.Query{Text: "nordvik"}, []string{"a1", "a2", "a3", "a4"}},
		{"disguised query finds plain too", index.Query{Text: "n0rdv1k"}, []string{"a1", "a2", "a3", "a4"}},
		{"leet symbol brand", index.Query{Text: "acme"}, []string{"a5", "a6"}},
		{"english stemming", index.Query{Text: "boot"}, []string{"a1", "a2", "a3", "a4"}},
		{"phrase", index.Query{Text: `"trailblazer boots"`}, []string{"a3"}},
		{"phrase over disguised brand", index.Query{Text: `"nordvik trailblazer"`}, []string{"a1", "a2", "a3"}},
		{"fuzzy", index.Query{Text: "wallat~1"}, []string{"a7"}},
		{"wildcard", index.Query{Text: "trail*"}, []string{"a1", "a2", "a3"}},
		{"must and must not", index.Query{Text: "+boots -genuine"}, []string{"a2", "a3", "a4"}},
		{"field prefix", index.Query{Text: "seller:cheapdeals88"}, []string{"a2", "a6"}},
		{"price range in query string", index.Query{Text: "price:<50"}, []string{"a2", "a3", "a6", "a7"}},
		{"match all", index.Query{}, []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7"}},
		{"brand filter", index.Query{Brand: "Acme"}, []string{"a5", "a6"}},
		{"marketplace filter", index.Query{Text: "boots", Marketplace: "bazaar"}, []string{"a3", "a4"}},
		{"seller filter", index.Query{Seller: "bootsoutlet"}, []string{"a3", "a4"}},
		{"status filter", index.Query{Status: "new", Brand: "Nordvik"}, []string{"a2", "a4"}},
		{"flagged", index.Query{Flagged: &yes}, []string{"a2", "a3", "a6"}},
		{"not flagged", index.Query{Flagged: &no, Brand: "Nordvik"}, []string{"a1", "a4"}},
		{"min score", index.Query{MinScore: 0.8}, []string{"a2", "a3", "a6"}},
		{"score range", index.Query{MinScore: 0.3, MaxScore: 0.85}, []string{"a3", "a4"}},
		{"price range", index.Query{Brand: "Nordvik", MinPrice: 40, MaxPrice: 100}, []string{"a3", "a4"}},
		{"since", index.Query{Since: base.AddDate(0, 0, 5)}, []string{"a5", "a6", "a7"}},
		{"seen since", index.Query{SeenSince: base.AddDate(0, 0, -4)}, []string{"a6", "a7"}},
		{"since within a day", index.Query{Since: base.AddDate(0, 0, 5).Add(time.Second)}, []string{"a6", "a7"}},
		{"score range in query string", index.Query{Text: "score:>=0.88"}, []string{"a2", "a6"}},
		{"date range in query string", index.Query{Text: `+fetched:>="2025-03-06" +fetched:<"2025-03-07"`}, []string{"a5"}},
		{"first seen in query string", index.Query{Text: `+first_seen:<"2025-02-22"`}, []string{"a1", "a2"}},
		{"description phrase is all its words", index.Query{Text: `description:"leather genuine"`}, []string{"a1", "a7"}},
		{"text and filters", index.Query{Text: "skates", Flagged: &yes, MaxPrice: 30}, []string{"a6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ix.Search(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(r); !slices.Equal(got, tt.want) {
				t.Errorf("Search(%+v) = %v, want %v", tt.q, got, tt.want)
			}
			if r.Total != uint64(len(tt.want)) {
				t.Errorf("Search(%+v).Total = %d, want %d", tt.q, r.Total, len(tt.want))
			}
		})
	}
}

// TestRelevanceWithFilters checks that filters leave relevance a number:
// a NaN breaks relevance order and JSON output.
func TestRelevanceWithFilters(t *testing.T) {
	ix, _ := openFixture(t)
	yes := true
	tests := []index.Query{
		{Text: "boots", Brand: "Nordvik", Marketplace: "bazaar", Seller: "bootsoutlet", Status: "confirmed"},
		{Text: "nordvik", Flagged: &yes, MinScore: 0.8, Sort: index.SortRelevance},
		{Text: "nordvik", Since: base, SeenSince: base.AddDate(0, 0, -9), MinPrice: 1},
		{Text: `nordvik score:>0.5 fetched:>"2025-03-01"`},
	}
	for _, q := range tests {
		r, err := ix.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Hits) == 0 {
			t.Errorf("Search(%+v) = no hits, want some", q)
		}
		for _, h := range r.Hits {
			if math.IsNaN(h.Relevance) || math.IsInf(h.Relevance, 0) {
				t.Errorf("Search(%+v) relevance of %s = %v, want a number", q, h.ID, h.Relevance)
			}
		}
	}
}
