package crawler

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestObservationHooks checks that every exchange on the wire reaches
// OnFetch with its status, and every request's wait reaches
// OnRateLimitWait: the figures behind patrol's /metrics.
func TestObservationHooks(t *testing.T) {
	srv := httptest.NewServer(&shop{pages: 1})
	defer srv.Close()
	var mu sync.Mutex
	statuses := map[int]int{}
	waits := 0
	opts := testOptions(srv.URL)
	opts.OnFetch = func(status int, d time.Duration) {
		mu.Lock()
		statuses[status]++
		mu.Unlock()
	}
	opts.OnRateLimitWait = func(d time.Duration) {
		mu.Lock()
		waits++
		mu.Unlock()
	}
	c := newTestCrawler(t, opts)
	ctx := context.Background()
	if _, err := c.Fetch(ctx, srv.URL+"/item/1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FetchImage(ctx, srv.URL+"/img/1.png"); err != nil {
		t.Fatal(err)
	}
	p, err := c.Fetch(ctx, srv.URL+"/item/gone")
	if err != nil || !p.Removed {
		t.Fatalf("Fetch(gone) = %+v, %v, want removed", p, err)
	}
	mu.Lock()
	defer mu.Unlock()
	// robots.txt (404), item, image, gone (410).
	want := map[int]int{404: 1, 200: 2, 410: 1}
	for st, n := range want {
		if statuses[st] != n {
			t.Errorf("OnFetch saw status %d %d times, want %d (all: %v)", st, statuses[st], n, statuses)
		}
	}
	if waits != 4 {
		t.Errorf("OnRateLimitWait called %d times, want 4", waits)
	}
}
