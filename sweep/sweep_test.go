package sweep_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patrol-dev/patrol/crawler"
	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/matcher"
	"github.com/patrol-dev/patrol/store"
	"github.com/patrol-dev/patrol/sweep"
)

// shopItem is one listing of the test shop below: a layout that has
// nothing in common with the demo marketplace's, so the pipeline is shown
// to depend only on the config.
type shopItem struct {
	id     int
	title  string
	price  string
	seller string
}

// newShop serves a small shop whose search is paginated by ?p=N, whose
// listing pages carry the price only in JSON-LD, and whose photos are
// PNGs. delay slows every listing page so a test can interrupt a sweep.
func newShop(t *testing.T, items []shopItem, delay time.Duration, hits *atomic.Int64) *httptest.Server {
	t.Helper()
	photo := func(shade uint8) []byte {
		img := image.NewRGBA(image.Rect(0, 0, 64, 64))
		for y := 0; y < 64; y++ {
			for x := 0; x < 64; x++ {
				img.Set(x, y, color.RGBA{shade, uint8(x * 4), uint8(y * 4), 255})
			}
		}
		var buf bytes.Buffer
		png.Encode(&buf, img)
		return buf.Bytes()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
	})
	mux.HandleFunc("/find", func(w http.ResponseWriter, r *http.Request) {
		page := 1
		fmt.Sscan(r.URL.Query().Get("p"), &page)
		fmt.Fprint(w, "<html><body><ul class=results>")
		for i := (page - 1) * 3; i < page*3 && i < len(items); i++ {
			fmt.Fprintf(w, `<li><a class="lnk" href="/p/%d?utm_source=x#top">%s</a></li>`, items[i].id, html.EscapeString(items[i].title))
		}
		fmt.Fprint(w, "</ul></body></html>")
	})
	mux.HandleFunc("/p/", func(w http.ResponseWriter, r *http.Request) {
		if hits != nil {
			hits.Add(1)
		}
		time.Sleep(delay)
		var id int
		fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/p/"), &id)
		for _, it := range items {
			if it.id != id {
				continue
			}
			fmt.Fprintf(w, `<html><head><script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":%q,"offers":{"@type":"Offer","price":%q,"priceCurrency":"EUR"}}</script></head>
<body><div class=name>%s</div><span class=by>%s</span><img class=pic src="/img/%d.png"></body></html>`,
				it.title, it.price, html.EscapeString(it.title), html.EscapeString(it.seller), it.id%4)
			return
		}
		http.NotFound(w, r)
	})
	mux.HandleFunc("/img/", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/img/"), ".png"), &n)
		w.Header().Set("Content-Type", "image/png")
		w.Write(photo(uint8(n * 60)))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func shopCrawler(t *testing.T, srv *httptest.Server) *crawler.Crawler {
	t.Helper()
	u, _ := url.Parse(srv.URL)
	c, err := crawler.New(crawler.Options{
		Name:              "bazaar",
		SearchURL:         srv.URL + "/find?q={query}&p={page}",
		AllowedDomains:    []string{u.Hostname()},
		RequestsPerSecond: 500, Burst: 50, Concurrency: 3, MaxPages: 10,
		RespectRobots: true, AllowPrivate: true,
		Selectors: crawler.Selectors{ResultLink: "a.lnk", Title: ".name", Seller: ".by", Images: "img.pic@src"},
		Timeout:   5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func shopMatcher(t *testing.T) *matcher.Matcher {
	t.Helper()
	m, err := matcher.New(matcher.Options{Brands: []matcher.Brand{{
		Name: "Zentrix", Terms: []string{"zentrix"}, MinPriceRatio: 0.5, Threshold: 0.6,
		Products:          []matcher.Product{{Name: "Zentrix Pro Headphones", MSRP: 300, Currency: "EUR"}},
		AuthorizedSellers: []string{"Zentrix Store"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func shopItems() []shopItem {
	return []shopItem{
		{1, "Zentrix Pro Headphones", "299.00", "Zentrix Store"},
		{2, "Zentrix Pro Headphones replica 1:1", "39.00", "cheapgoods"},
		{3, "Z3ntr1x Pro headphones", "45.00", "cheapgoods"},
		{4, "Used Zentrix Pro Headphones, good condition", "210.00", "anna_k"},
		{5, "Case for Zentrix Pro", "15.00", "caseworld"},
		{6, "Studio monitor headphones", "80.00", "audioshop"},
		{7, "Zentrix Pro Headphones super fake AAA", "30.00", "fakes4u"},
	}
}

func openStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "patrol.db")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return st, path
}

func TestSweepAnyMarketplaceLayout(t *testing.T) {
	ctx := context.Background()
	srv := newShop(t, shopItems(), 0, nil)
	st, _ := openStore(t)
	defer st.Close()
	r := sweep.New(sweep.Options{
		Store: st, Matcher: shopMatcher(t),
		Marketplaces: []sweep.Marketplace{{Name: "bazaar", Fetcher: shopCrawler(t, srv), Concurrency: 3}},
		Brands:       []sweep.Brand{{Name: "Zentrix", Terms: []string{"zentrix"}}},
	})
	sw, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sw.State != listing.SweepDone || sw.Counters.New != 7 || sw.Counters.Errors != 0 {
		t.Fatalf("Run() = %+v, want done with 7 new listings and no errors", sw)
	}
	want := map[string]bool{ // title → flagged
		"Zentrix Pro Headphones":                      false,
		"Zentrix Pro Headphones replica 1:1":          true,
		"Z3ntr1x Pro headphones":                      true,
		"Used Zentrix Pro Headphones, good condition": false,
		"Case for Zentrix Pro":                        false,
		"Studio monitor headphones":                   false,
		"Zentrix Pro Headphones super fake AAA":       true,
	}
	n := 0
	err = st.EachListing(ctx, func(l listing.Listing) error {
		n++
		if l.Price == 0 || l.Currency != "EUR" {
			t.Errorf("%q: price %v %s, want the JSON-LD price in EUR", l.Title, l.Price, l.Currency)
		}
		if strings.Contains(l.URL, "utm_source") || strings.Contains(l.URL, "#") {
			t.Errorf("%q: url %s not canonical", l.Title, l.URL)
		}
		if len(l.Images) != 1 || l.Images[0].SHA256 == "" || l.Images[0].PHash == 0 {
			t.Errorf("%q: images %+v, want one fetched and hashed", l.Title, l.Images)
		}
		if l.SnapshotSHA256 == "" {
			t.Errorf("%q: no evidence snapshot", l.Title)
		}
		if got := l.Flagged; got != want[l.Title] {
			t.Errorf("%q flagged = %v (score %.2f, signals %+v), want %v", l.Title, got, l.Score, l.Signals, want[l.Title])
		}
		if l.Flagged && len(l.Signals) == 0 {
			t.Errorf("%q flagged without signals", l.Title)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 7 {
		t.Errorf("stored %d listings, want 7", n)
	}

	// The same sweep again: nothing changed, nothing re-processed.
	sw2, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sw2.Counters.Unchanged != 7 || sw2.Counters.New+sw2.Counters.Changed != 0 {
		t.Errorf("second Run() counters = %+v, want 7 unchanged", sw2.Counters)
	}
}

func TestSweepInterruptedResumesWithoutLossOrDuplicates(t *testing.T) {
	var items []shopItem
	for i := 1; i <= 24; i++ {
		items = append(items, shopItem{i, fmt.Sprintf("Zentrix headphones lot %d", i), "99.00", fmt.Sprintf("seller%d", i%5)})
	}
	var hits atomic.Int64
	srv := newShop(t, items, 30*time.Millisecond, &hits)
	st, path := openStore(t)
	opts := sweep.Options{
		Store: st, Matcher: shopMatcher(t),
		Marketplaces: []sweep.Marketplace{{Name: "bazaar", Fetcher: shopCrawler(t, srv), Concurrency: 2}},
		Brands:       []sweep.Brand{{Name: "Zentrix", Terms: []string{"zentrix"}}},
	}
	ctx, cancel := context.WithCancel(context.Background())
	opts.Progress = func(p sweep.Progress) {
		if p.Counters.New >= 8 {
			cancel()
		}
	}
	sw, err := sweep.New(opts).Run(ctx)
	if !errors.Is(err, sweep.ErrInterrupted) {
		t.Fatalf("Run() error = %v, want ErrInterrupted", err)
	}
	if sw.State != listing.SweepInterrupted {
		t.Fatalf("state = %s, want interrupted", sw.State)
	}
	stored, _ := st.CountListings(context.Background())
	if stored == 0 || stored >= 24 {
		t.Fatalf("after interruption %d listings stored, want some but not all", stored)
	}
	st.Close()

	st, err = store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	opts.Store, opts.Progress = st, nil
	before := hits.Load()
	sw2, err := sweep.New(opts).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sw2.ID != sw.ID || sw2.State != listing.SweepDone {
		t.Errorf("resumed sweep %s (%s), want %s done", sw2.ID, sw2.State, sw.ID)
	}
	n, _ := st.CountListings(context.Background())
	if n != 24 {
		t.Errorf("after resume %d listings stored, want 24", n)
	}
	refetched := hits.Load() - before
	if refetched > int64(24-stored)+2 {
		t.Errorf("resume fetched %d listing pages, want about the %d not stored (leased ones may repeat)", refetched, 24-stored)
	}
}

func TestNarrowerSweepSupersedesUnfinished(t *testing.T) {
	ctx := context.Background()
	srv := newShop(t, shopItems(), 0, nil)
	st, _ := openStore(t)
	defer st.Close()
	old := listing.Sweep{ID: store.NewSweepID(time.Now().Add(-time.Hour)), State: listing.SweepRunning, Marketplaces: []string{"bazaar", "other"}}
	if err := st.PutSweep(ctx, old); err != nil {
		t.Fatal(err)
	}
	r := sweep.New(sweep.Options{
		Store: st, Matcher: shopMatcher(t),
		Marketplaces: []sweep.Marketplace{{Name: "bazaar", Fetcher: shopCrawler(t, srv), Concurrency: 2}},
		Brands:       []sweep.Brand{{Name: "Zentrix", Terms: []string{"zentrix"}}},
	})
	sw, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sw.ID == old.ID || sw.State != listing.SweepDone {
		t.Errorf("Run() = %s %s, want a new sweep done", sw.ID, sw.State)
	}
	got, err := st.Sweep(ctx, old.ID)
	if err != nil || got.State != listing.SweepInterrupted {
		t.Errorf("superseded sweep = %s, %v, want interrupted", got.State, err)
	}
}

// TestRemovedListingLiveAgainIsStillUp: a listing verified removed after a
// notice that a sweep finds live again goes back to still_up, and the
// notice stops counting it as taken down; a page that no longer matches the
// brand is not a relisting.
func TestRemovedListingLiveAgainIsStillUp(t *testing.T) {
	tests := []struct {
		name string
		// retitle, when set, is the listing's title when it comes back.
		retitle     string
		wantStatus  listing.Status
		wantNotice  listing.NoticeState
		wantOutcome listing.OutcomeState
	}{
		{"relisted", "", listing.StatusStillUp, listing.NoticeStillUp, listing.OutcomeRelisted},
		{"no longer the brand", "Studio monitor headphones", listing.StatusRemoved, listing.NoticeRemoved, listing.OutcomeRemoved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			items := shopItems()
			srv := newShop(t, items, 0, nil)
			st, _ := openStore(t)
			defer st.Close()
			opts := sweep.Options{
				Store: st, Matcher: shopMatcher(t),
				Marketplaces: []sweep.Marketplace{{Name: "bazaar", Fetcher: shopCrawler(t, srv), Concurrency: 2}},
				Brands:       []sweep.Brand{{Name: "Zentrix", Terms: []string{"zentrix"}}},
			}
			if _, err := sweep.New(opts).Run(ctx); err != nil {
				t.Fatal(err)
			}
			id := listing.NewID("bazaar", srv.URL+"/p/7")
			if l, err := st.Listing(ctx, id); err != nil || !l.Flagged {
				t.Fatalf("Listing(/p/7) = flagged %v, %v; want a flagged listing", l.Flagged, err)
			}
			if _, err := st.SetStatus(ctx, listing.Verdict{ListingID: id, Status: listing.StatusConfirmed, Analyst: "ana"}); err != nil {
				t.Fatal(err)
			}
			n := listing.Notice{ID: "N1", Platform: "dmca", Brand: "Zentrix", State: listing.NoticeDrafted,
				Listings: []listing.NoticeListing{{ID: id, Outcome: listing.OutcomePending}}}
			if err := st.PutNotice(ctx, n, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := st.MarkSent(ctx, "N1", "ana", time.Time{}, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := st.MarkVerified(ctx, "N1", id, true, "http 404", time.Time{}, nil); err != nil {
				t.Fatal(err)
			}
			if tt.retitle != "" {
				items[6].title = tt.retitle
			}
			if _, err := sweep.New(opts).Run(ctx); err != nil {
				t.Fatal(err)
			}
			l, _ := st.Listing(ctx, id)
			vs, _ := st.Verdicts(ctx, id)
			if l.Status != tt.wantStatus {
				t.Errorf("after a sweep finds the removed listing: status %s, verdicts %+v; want %s", l.Status, vs, tt.wantStatus)
			}
			if last := vs[len(vs)-1]; tt.wantStatus == listing.StatusStillUp && last.Analyst != "patrol" {
				t.Errorf("last verdict = %+v, want one by patrol", last)
			}
			got, err := st.Notice(ctx, "N1")
			if err != nil {
				t.Fatal(err)
			}
			if got.State != tt.wantNotice || got.Listings[0].Outcome != tt.wantOutcome {
				t.Errorf("notice after the sweep = %s with outcome %s, want %s with %s", got.State, got.Listings[0].Outcome, tt.wantNotice, tt.wantOutcome)
			}
		})
	}
}
