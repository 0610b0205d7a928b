package web

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/store"
)

// searchForm is the search page's query string.
type searchForm struct {
	Q           string  `json:"q"`
	Brand       string  `json:"brand,omitempty"`
	Marketplace string  `json:"marketplace,omitempty"`
	Seller      string  `json:"seller,omitempty"`
	Status      string  `json:"status,omitempty"`
	Flagged     string  `json:"flagged,omitempty"`
	MinPrice    float64 `json:"min_price,omitempty"`
	MaxPrice    float64 `json:"max_price,omitempty"`
	Sort        string  `json:"sort,omitempty"`
	Page        int     `json:"page"`
	// Facets "false" skips the counts by marketplace, brand, seller and
	// status, which visit every match, for a fast page whose total is
	// exact only up to a limit (API clients paging through results).
	Facets string `json:"facets,omitempty"`
}

func parseSearchForm(v url.Values) (searchForm, error) {
	f := searchForm{
		Q: strings.TrimSpace(v.Get("q")), Brand: v.Get("brand"), Marketplace: v.Get("marketplace"),
		Seller: v.Get("seller"), Status: v.Get("status"), Flagged: v.Get("flagged"), Sort: v.Get("sort"), Page: 1,
		Facets: v.Get("facets"),
	}
	if len(f.Q) > 1000 {
		return f, badRequest("q: too long")
	}
	if f.Status != "" && !listing.Status(f.Status).Valid() {
		return f, badRequest("status: unknown status %q", f.Status)
	}
	switch f.Flagged {
	case "", "true", "false":
	default:
		return f, badRequest("flagged: true or false")
	}
	switch f.Facets {
	case "", "true", "false":
	default:
		return f, badRequest("facets: true or false")
	}
	switch f.Sort {
	case "", "-score", "score", "-price", "price", "-last_seen":
	default:
		return f, badRequest("sort: unknown order %q", f.Sort)
	}
	var err error
	if f.MinPrice, err = parseFloat(v, "min_price"); err != nil {
		return f, err
	}
	if f.MaxPrice, err = parseFloat(v, "max_price"); err != nil {
		return f, err
	}
	if p := v.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 10000 {
			return f, badRequest("page: not a page number")
		}
		f.Page = n
	}
	return f, nil
}

func (f searchForm) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"q": f.Q, "brand": f.Brand, "marketplace": f.Marketplace, "seller": f.Seller,
		"status": f.Status, "flagged": f.Flagged, "sort": f.Sort, "facets": f.Facets} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if f.MinPrice > 0 {
		v.Set("min_price", strconv.FormatFloat(f.MinPrice, 'f', -1, 64))
	}
	if f.MaxPrice > 0 {
		v.Set("max_price", strconv.FormatFloat(f.MaxPrice, 'f', -1, 64))
	}
	if f.Page > 1 {
		v.Set("page", strconv.Itoa(f.Page))
	}
	return v
}

// with returns the search URL with key set to value (or cleared when it
// already has that value), back on page 1: the facet links.
func (f searchForm) with(key, value string) string {
	v := f.values()
	v.Del("page")
	if v.Get(key) == value {
		v.Del(key)
	} else {
		v.Set(key, value)
	}
	return "/search?" + v.Encode()
}

// segment is a piece of a highlighted fragment: text, marked or not. The
// index's fragments carry scraped text, so they are split on the
// highlighter's <mark> tags and every piece is escaped again by the
// template, never inserted as HTML.
type segment struct {
	Text string `json:"text"`
	Mark bool   `json:"mark,omitempty"`
}

func splitFragment(frag string) []segment {
	var out []segment
	for frag != "" {
		i := strings.Index(frag, "<mark>")
		if i < 0 {
			out = append(out, segment{Text: html.UnescapeString(frag)})
			break
		}
		if i > 0 {
			out = append(out, segment{Text: html.UnescapeString(frag[:i])})
		}
		frag = frag[i+len("<mark>"):]
		j := strings.Index(frag, "</mark>")
		if j < 0 {
			j = len(frag)
		}
		out = append(out, segment{Text: html.UnescapeString(frag[:j]), Mark: true})
		frag = strings.TrimPrefix(frag[j:], "</mark>")
	}
	return out
}

type searchHit struct {
	Listing   listing.Listing `json:"listing"`
	Relevance float64         `json:"relevance"`
	Fragments [][]segment     `json:"fragments,omitempty"`
}

type facetGroup struct {
	Field string
	Terms []facetTerm
}

type facetTerm struct {
	Term   string
	Count  int
	Href   string
	Active bool
}

type searchPage struct {
	Form  searchForm `json:"query"`
	Total uint64     `json:"total"`
	// TotalAtLeast marks Total as a lower bound (see SearchResult).
	TotalAtLeast bool                    `json:"total_at_least,omitempty"`
	Hits         []searchHit             `json:"hits"`
	Facets       map[string][]FacetCount `json:"facets"`
	Groups       []facetGroup            `json:"-"`
	Prev         string                  `json:"-"`
	Next         string                  `json:"-"`
	Ran          bool                    `json:"-"`
}

const searchPageSize = 25

func runSearch(ctx context.Context, search Searcher, listings ListingStore, f searchForm) (searchPage, error) {
	q := SearchQuery{
		Text: f.Q, Brand: f.Brand, Marketplace: f.Marketplace, Seller: f.Seller, Status: f.Status,
		MinPrice: f.MinPrice, MaxPrice: f.MaxPrice, Sort: f.Sort,
		Limit: searchPageSize, Offset: (f.Page - 1) * searchPageSize, Facets: f.Facets != "false", Highlight: true,
	}
	if f.Flagged != "" {
		b := f.Flagged == "true"
		q.Flagged = &b
	}
	res, err := search.Search(ctx, q)
	if err != nil {
		return searchPage{}, fmt.Errorf("search: %w", err)
	}
	p := searchPage{Form: f, Total: res.Total, TotalAtLeast: res.TotalAtLeast, Facets: res.Facets, Hits: []searchHit{}, Ran: true}
	for _, h := range res.Hits {
		l, err := listings.Listing(ctx, h.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return p, fmt.Errorf("search: %w", err)
		}
		hit := searchHit{Listing: l, Relevance: h.Relevance}
		fields := make([]string, 0, len(h.Fragments))
		for k := range h.Fragments {
			fields = append(fields, k)
		}
		sort.Strings(fields)
		for _, k := range fields {
			for _, fr := range h.Fragments[k] {
				hit.Fragments = append(hit.Fragments, splitFragment(fr))
			}
		}
		p.Hits = append(p.Hits, hit)
	}
	current := map[string]string{"brand": f.Brand, "marketplace": f.Marketplace, "seller": f.Seller, "status": f.Status}
	for _, field := range []string{"brand", "marketplace", "status", "seller"} {
		fc := res.Facets[field]
		if len(fc) == 0 {
			continue
		}
		g := facetGroup{Field: field}
		for _, t := range fc {
			g.Terms = append(g.Terms, facetTerm{Term: t.Term, Count: t.Count, Href: f.with(field, t.Term), Active: current[field] == t.Term})
		}
		p.Groups = append(p.Groups, g)
	}
	if f.Page > 1 {
		pf := f
		pf.Page--
		p.Prev = "/search?" + pf.values().Encode()
	}
	if uint64(f.Page*searchPageSize) < res.Total {
		nf := f
		nf.Page++
		p.Next = "/search?" + nf.values().Encode()
	}
	return p, nil
}

func handleSearch(rs *responder, search Searcher, listings ListingStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := parseSearchForm(r.URL.Query())
		if err != nil {
			rs.fail(w, r, err)
			return
		}
		p, err := runSearch(r.Context(), search, listings, f)
		if err != nil {
			rs.fail(w, r, err)
			return
		}
		if isAPI(r) {
			rs.json(w, http.StatusOK, p)
			return
		}
		rs.html(w, r, http.StatusOK, "search", "Search", p)
	})
}
