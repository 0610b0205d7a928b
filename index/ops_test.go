package index_test

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/patrol-dev/patrol/index"
	"github.com/patrol-dev/patrol/listing"
)

func hitIDs(r index.Result) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, string(h.ID))
	}
	return out
}

func TestSortAndPaging(t *testing.T) {
	ix, _ := openFixture(t)
	tests := []struct {
		name string
		q    index.Query
		want []string
	}{
		{"score default", index.Query{Brand: "Nordvik"}, []string{"a2", "a3", "a4", "a1"}},
		{"date", index.Query{Brand: "Nordvik", Sort: index.SortDate}, []string{"a4", "a3", "a2", "a1"}},
		{"price", index.Query{Brand: "Nordvik", Sort: index.SortPrice}, []string{"a2", "a3", "a4", "a1"}},
		{"limit", index.Query{Limit: 2}, []string{"a2", "a6"}},
		{"offset", index.Query{Limit: 2, Offset: 2}, []string{"a3", "a4"}},
		{"past the end", index.Query{Offset: 10}, nil},
		{"relevance", index.Query{Text: "title:skates title:rocket", Sort: index.SortRelevance, Limit: 1}, []string{"a5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ix.Search(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := hitIDs(r); !slices.Equal(got, tt.want) {
				t.Errorf("Search(%+v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
	r, err := ix.Search(context.Background(), index.Query{Brand: "Nordvik", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Hits) != 1 || r.Hits[0].Score != 0.92 || r.Total != 4 {
		t.Errorf("Search(brand Nordvik, limit 1) = %+v, want a2 with score 0.92 of 4", r)
	}
	if _, err := ix.Search(context.Background(), index.Query{Sort: "bogus"}); err == nil {
		t.Error("Search(sort bogus) = nil error, want error")
	}
	if _, err := ix.Search(context.Background(), index.Query{Text: `title:"unterminated`}); err == nil {
		t.Error("Search(bad syntax) = nil error, want error")
	}
}

func TestFacets(t *testing.T) {
	ix, _ := openFixture(t)
	yes := true
	tests := []struct {
		name string
		q    index.Query
		want map[string][]index.FacetCount
	}{
		{"all", index.Query{Facets: true}, map[string][]index.FacetCount{
			"marketplace": {{"bazaar", 3}, {"shopx", 3}, {"mercado", 1}},
			"brand":       {{"Nordvik", 4}, {"Acme", 2}},
			"seller":      {{"bootsoutlet", 2}, {"cheapdeals88", 2}, {"Acme Store", 1}, {"Nordvik Official", 1}, {"craftshop", 1}},
			"status":      {{"new", 5}, {"confirmed", 1}, {"dismissed", 1}},
		}},
		{"flagged nordvik text", index.Query{Text: "nordvik", Flagged: &yes, Facets: true, Limit: 1}, map[string][]index.FacetCount{
			"marketplace": {{"bazaar", 1}, {"shopx", 1}},
			"brand":       {{"Nordvik", 2}},
			"seller":      {{"bootsoutlet", 1}, {"cheapdeals88", 1}},
			"status":      {{"confirmed", 1}, {"new", 1}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ix.Search(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range tt.want {
				got := r.Facets[k]
				// Bleve orders equal counts arbitrarily; compare as sets
				// ordered by count, then term.
				slices.SortStableFunc(got, func(a, b index.FacetCount) int {
					if a.Count != b.Count {
						return b.Count - a.Count
					}
					return strings.Compare(a.Term, b.Term)
				})
				if !slices.Equal(got, want) {
					t.Errorf("Search(%+v).Facets[%s] = %v, want %v", tt.q, k, got, want)
				}
			}
		})
	}
}

func TestHighlight(t *testing.T) {
	ix, _ := openFixture(t)
	tests := []struct {
		q     string
		id    listing.ID
		field string
		want  string
	}{
		{"trailblazer", "a1", "title", "Nordvik <mark>Trailblazer</mark> 3 hiking boots"},
		{"nordvik", "a2", "title", "<mark>N0rdv1k</mark> Trailblazer 3 mirror grade boots"},
		{"nordvik", "a3", "title", "<mark>Nоrdvik</mark> Trailblazer boots sale"},
		{"nordvik", "a4", "description", "Comfortable boots, compare to <mark>N0RDV1K</mark> quality."},
		{`"nordvik trailblazer"`, "a2", "title", "<mark>N0rdv1k</mark> <mark>Trailblazer</mark> 3 mirror grade boots"},
		{"waterproof", "a1", "description", "Genuine Nordvik boots, <mark>waterproof</mark> leather, size 42."},
	}
	for _, tt := range tests {
		t.Run(tt.q+"/"+string(tt.id), func(t *testing.T) {
			r, err := ix.Search(context.Background(), index.Query{Text: tt.q, Highlight: true, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range r.Hits {
				if h.ID != tt.id {
					continue
				}
				if got := h.Fragments[tt.field]; len(got) == 0 || got[0] != tt.want {
					t.Errorf("Search(%q) fragments of %s[%s] = %q, want %q", tt.q, tt.id, tt.field, got, tt.want)
				}
				return
			}
			t.Errorf("Search(%q) did not return %s", tt.q, tt.id)
		})
	}
	noLookup, err := index.Open(filepath.Join(t.TempDir(), "idx"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer noLookup.Close()
	if _, err := noLookup.Search(context.Background(), index.Query{Highlight: true}); !errors.Is(err, index.ErrNoLookup) {
		t.Errorf("Search(highlight) without lookup = %v, want ErrNoLookup", err)
	}
}

func TestPutReplacesAndDelete(t *testing.T) {
	ctx := context.Background()
	ix, byID := openFixture(t)
	l := byID["a7"]
	l.Title = "Nordvik wallet mirror grade"
	l.ContentHash = l.ComputeContentHash()
	if err := ix.Put(ctx, []listing.Listing{l}); err != nil {
		t.Fatal(err)
	}
	r, err := ix.Search(ctx, index.Query{Text: "wallet"})
	if err != nil {
		t.Fatal(err)
	}
	if got := hitIDs(r); !slices.Equal(got, []string{"a7"}) {
		t.Errorf("Search(wallet) after update = %v, want [a7]", got)
	}
	if r, _ := ix.Search(ctx, index.Query{Text: "brown"}); r.Total != 0 {
		t.Errorf("Search(brown) after update = %v, want nothing", hitIDs(r))
	}
	if err := ix.Delete(ctx, []listing.ID{"a7", "a1", "nope"}); err != nil {
		t.Fatal(err)
	}
	if n, err := ix.Count(); err != nil || n != 5 {
		t.Errorf("Count() = %d, %v, want 5", n, err)
	}
	got, err := ix.IDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []listing.ID{"a2", "a3", "a4", "a5", "a6"}; !slices.Equal(got, want) {
		t.Errorf("IDs() = %v, want %v", got, want)
	}
	if r, _ := ix.Search(ctx, index.Query{Text: "wallet"}); r.Total != 0 {
		t.Errorf("Search(wallet) after delete = %v, want nothing", hitIDs(r))
	}
}

func TestVersionsAndReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "idx")
	ix, err := index.Open(path, index.Options{Fold: testFold})
	if err != nil {
		t.Fatal(err)
	}
	ls := fixture()
	if err := ix.Put(ctx, ls); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix, err = index.Open(path, index.Options{Fold: testFold})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := ix.Versions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[listing.ID]string{}
	for _, l := range ls {
		want[l.ID] = index.Version(l)
	}
	if !maps.Equal(got, want) {
		t.Errorf("Versions() after reopen = %v, want %v", got, want)
	}
	r, err := ix.Search(ctx, index.Query{Text: "nordvik"})
	if err != nil || r.Total != 4 {
		t.Errorf("Search(nordvik) after reopen = %d hits, %v, want 4", r.Total, err)
	}
}

// TestCrashRepair simulates crashes between the store write and the index
// write: the store holds a new listing, a changed one, a re-scored one, a
// re-statused one and lost a purged one, none of which reached the index.
// Reconcile at the next start must find and fix exactly those.
func TestCrashRepair(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "idx")
	ix, err := index.Open(path, index.Options{Fold: testFold})
	if err != nil {
		t.Fatal(err)
	}
	store := fixture()
	if err := ix.Put(ctx, store); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}

	// The store moves on while the index does not ("crash").
	store[1].Title = "N0rdv1k Trailblazer replica AAA"
	store[1].ContentHash = store[1].ComputeContentHash()
	store[2].Status = listing.StatusNoticed
	store[4].Score = 0.75
	store = slices.Delete(store, 6, 7) // a7 purged
	extra := fixture()[0]
	extra.ID, extra.Title, extra.Brand = "a8", "Nordv!k Trailblazer knockoff", "Nordvik"
	extra.ContentHash = extra.ComputeContentHash()
	store = append(store, extra)

	ix, err = index.Open(path, index.Options{Fold: testFold})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	added, updated, deleted, err := ix.Reconcile(ctx, iter(store))
	if err != nil {
		t.Fatal(err)
	}
	if added != 1 || updated != 3 || deleted != 1 {
		t.Errorf("Reconcile() = %d added, %d updated, %d deleted, want 1, 3, 1", added, updated, deleted)
	}
	got, err := ix.Versions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[listing.ID]string{}
	for _, l := range store {
		want[l.ID] = index.Version(l)
	}
	if !maps.Equal(got, want) {
		t.Errorf("Versions() after Reconcile = %v, want %v", got, want)
	}
	if r, _ := ix.Search(ctx, index.Query{Text: "replica", Status: "new"}); !slices.Equal(hitIDs(r), []string{"a2"}) {
		t.Errorf("Search(replica) after Reconcile = %v, want [a2]", hitIDs(r))
	}
	if r, _ := ix.Search(ctx, index.Query{Status: "noticed"}); !slices.Equal(hitIDs(r), []string{"a3"}) {
		t.Errorf("Search(status noticed) after Reconcile = %v, want [a3]", hitIDs(r))
	}
	// A second run finds nothing to do.
	if a, u, d, err := ix.Reconcile(ctx, iter(store)); err != nil || a+u+d != 0 {
		t.Errorf("second Reconcile() = %d, %d, %d, %v, want 0, 0, 0", a, u, d, err)
	}
	// Rebuild: Reconcile into an empty index adds everything.
	fresh, err := index.Open(filepath.Join(t.TempDir(), "fresh"), index.Options{Fold: testFold})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if a, u, d, err := fresh.Reconcile(ctx, iter(store)); err != nil || a != len(store) || u+d != 0 {
		t.Errorf("Reconcile() into empty index = %d, %d, %d, %v, want %d, 0, 0", a, u, d, err, len(store))
	}
}
