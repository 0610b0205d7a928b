package crawler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// shop is a tiny marketplace: /search?q=..&page=N lists three items per
// page for pages 1..pages, /item/N is a listing, /img/N.png an image.
type shop struct {
	pages    int
	robots   string
	mu       sync.Mutex
	requests []string
}

func (s *shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.URL.RequestURI())
	s.mu.Unlock()
	switch {
	case r.URL.Path == "/robots.txt":
		if s.robots == "" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, s.robots)
	case r.URL.Path == "/search":
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<html><body><h1>Results</h1>")
		if page >= 1 && page <= s.pages {
			for i := 0; i < 3; i++ {
				n := (page-1)*3 + i
				fmt.Fprintf(w, `<div class="res"><a class="item-link" href="/item/%d?utm_source=x#top">Item %d</a></div>`, n, n)
			}
			// The first item repeats on every page: dedup within a search.
			fmt.Fprint(w, `<a class="item-link" href="/item/0">again</a>`)
		}
		fmt.Fprint(w, "</body></html>")
	case strings.HasPrefix(r.URL.Path, "/item/"):
		n := strings.TrimPrefix(r.URL.Path, "/item/")
		if n == "gone" {
			http.Error(w, "gone", http.StatusGone)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<html><head><title>Item %s</title></head><body>
<h1 class="title">Acme Trailblazer %s</h1>
<span class="price">US $1,299.00</span>
<div class="seller"><a href="/u/bob">bob's bargains</a></div>
<img class="gallery" src="/img/%s.png"><img class="gallery" src="data:image/gif;base64,R0lGOD" data-src="/img/%s-2.png">
<div id="desc">Brand new.  Mirror grade.</div>
</body></html>`, n, n, n, n)
	case strings.HasPrefix(r.URL.Path, "/img/"):
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG\r\n\x1a\nfake"))
	default:
		http.NotFound(w, r)
	}
}

func (s *shop) count(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

// testOptions are Options for a loopback test server with quick timeouts.
func testOptions(srvURL string) Options {
	u, _ := url.Parse(srvURL)
	return Options{
		Name:              "demo",
		SearchURL:         srvURL + "/search?q={query}&page={page}",
		AllowedDomains:    []string{u.Hostname()},
		RequestsPerSecond: 1000,
		Burst:             100,
		Concurrency:       4,
		MaxPages:          10,
		RespectRobots:     true,
		AllowPrivate:      true,
		Timeout:           2 * time.Second,
		Retry:             RetryPolicy{MaxAttempts: 3, BaseBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond},
		Breaker:           BreakerPolicy{Failures: 50, Cooldown: 50 * time.Millisecond},
		Selectors: Selectors{
			ResultLink:  "a.item-link",
			Title:       "h1.title",
			Price:       ".price",
			Seller:      ".seller a",
			Images:      "img.gallery@src",
			Description: "#desc",
		},
	}
}

func newTestCrawler(t *testing.T, opts Options) *Crawler {
	t.Helper()
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestSearchFetchFetchImage(t *testing.T) {
	sh := &shop{pages: 3}
	srv := httptest.NewServer(sh)
	defer srv.Close()
	c := newTestCrawler(t, testOptions(srv.URL))
	ctx := context.Background()

	var got []string
	res, err := c.Search(ctx, "acme trailblazer", func(u string) error {
		got = append(got, u)
		return nil
	})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if len(got) != 9 {
		t.Errorf("Search found %d urls, want 9: %v", len(got), got)
	}
	// Pages 1..3 have results, page 4 has none and ends the walk.
	if res.Pages != 4 || len(res.Failures) != 0 || res.Blocked {
		t.Errorf("Search result = %+v, want 4 pages, no failures", res)
	}
	sorted := append([]string(nil), got...)
	sort.Strings(sorted)
	if want := srv.URL + "/item/0"; sorted[0] != want {
		t.Errorf("first url = %q, want %q (canonical, no tracking, no fragment)", sorted[0], want)
	}

	p, err := c.Fetch(ctx, got[1]+"?utm_campaign=x")
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	l := p.Listing
	if l.Title != "Acme Trailblazer 1" || l.Price != 1299 || l.Currency != "USD" || l.Seller != "bob's bargains" || l.Description != "Brand new. Mirror grade." {
		t.Errorf("Fetch listing = %+v", l)
	}
	if l.URL != srv.URL+"/item/1" || l.ID == "" || l.Marketplace != "demo" {
		t.Errorf("Fetch identity = %q %q %q", l.URL, l.ID, l.Marketplace)
	}
	if len(l.Images) != 2 || l.Images[0].URL != srv.URL+"/img/1.png" || l.Images[1].URL != srv.URL+"/img/1-2.png" {
		t.Errorf("Fetch images = %+v", l.Images)
	}
	if p.Snapshot.Status != 200 || len(p.Snapshot.HTML) == 0 || len(p.Snapshot.SHA256) != 64 || p.Removed {
		t.Errorf("Fetch snapshot = status %d, %d bytes, sha %q, removed %v", p.Snapshot.Status, len(p.Snapshot.HTML), p.Snapshot.SHA256, p.Removed)
	}
	for f, want := range map[string]string{"title": SourceSelector, "price": SourceSelector, "images": SourceSelector} {
		if l.Sources[f] != want {
			t.Errorf("Sources[%s] = %q, want %q", f, l.Sources[f], want)
		}
	}

	img, err := c.FetchImage(ctx, l.Images[0].URL)
	if err != nil || !strings.HasPrefix(string(img), "\x89PNG") {
		t.Errorf("FetchImage = %q, %v", img, err)
	}

	gone, err := c.Fetch(ctx, srv.URL+"/item/gone")
	if err != nil || !gone.Removed || gone.Snapshot.Status != http.StatusGone {
		t.Errorf("Fetch(gone) = %+v, %v; want Removed", gone, err)
	}
}

func TestOffsiteRefused(t *testing.T) {
	sh := &shop{pages: 1}
	srv := httptest.NewServer(sh)
	defer srv.Close()
	c := newTestCrawler(t, testOptions(srv.URL))
	for _, u := range []string{"http://example.invalid/item/1", "file:///etc/passwd"} {
		if _, err := c.Fetch(context.Background(), u); !errors.Is(err, ErrOffsite) {
			t.Errorf("Fetch(%s) = %v, want ErrOffsite", u, err)
		}
		if _, err := c.FetchImage(context.Background(), u); !errors.Is(err, ErrOffsite) {
			t.Errorf("FetchImage(%s) = %v, want ErrOffsite", u, err)
		}
	}
}
