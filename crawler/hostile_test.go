package crawler

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPoliteness: a server counts requests per 1-second window; with
// requests_per_second 10 and burst 2, no window exceeds 12 across search
// pages, listing pages and images fetched by several goroutines.
func TestPoliteness(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 3s")
	}
	start := time.Now()
	var mu sync.Mutex
	windows := map[int]int{}
	sh := &shop{pages: 100}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		windows[int(time.Since(start)/time.Second)]++
		mu.Unlock()
		sh.ServeHTTP(w, r)
	}))
	defer srv.Close()
	opts := testOptions(srv.URL)
	opts.RequestsPerSecond, opts.Burst, opts.Concurrency, opts.MaxPages = 10, 2, 8, 100
	c := newTestCrawler(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3200*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	var total atomic.Int32
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.Search(ctx, "acme", func(string) error { total.Add(1); return nil })
	}()
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				if g%2 == 0 {
					c.Fetch(ctx, fmt.Sprintf("%s/item/%d", srv.URL, i*10+g))
				} else {
					c.FetchImage(ctx, fmt.Sprintf("%s/img/%d.png", srv.URL, i*10+g))
				}
				total.Add(1)
			}
		}(g)
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	sum := 0
	for w, n := range windows {
		sum += n
		if n > 12 {
			t.Errorf("window %d had %d requests, want <= 12", w, n)
		}
	}
	t.Logf("requests per 1s window: %v (total %d)", windows, sum)
	if sum < 25 {
		t.Errorf("only %d requests in 3.2s: limiter too strict", sum)
	}
}

// TestCrawlDelayFloor: robots.txt's Crawl-delay slows the marketplace
// below its configured rate.
func TestCrawlDelayFloor(t *testing.T) {
	sh := &shop{pages: 1, robots: "User-agent: *\nCrawl-delay: 0.2\n"}
	srv := httptest.NewServer(sh)
	defer srv.Close()
	c := newTestCrawler(t, testOptions(srv.URL))
	begin := time.Now()
	for i := 0; i < 4; i++ {
		if _, err := c.Fetch(context.Background(), fmt.Sprintf("%s/item/%d", srv.URL, i)); err != nil {
			t.Fatal(err)
		}
	}
	// robots.txt, then 4 pages at least 200ms apart.
	if d := time.Since(begin); d < 550*time.Millisecond {
		t.Errorf("4 fetches took %v, want >= 600ms with Crawl-delay 0.2", d)
	}
}

// hostileServer answers each path with one kind of misbehaviour.
func hostileServer(t *testing.T) (*httptest.Server, *sync.Map) {
	var counts sync.Map
	inc := func(k string) int {
		v, _ := counts.LoadOrStore(k, new(atomic.Int32))
		return int(v.(*atomic.Int32).Add(1))
	}
	var bombOnce sync.Once
	var bomb []byte
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", http.NotFound)
	mux.HandleFunc("/429", func(w http.ResponseWriter, r *http.Request) {
		if inc("429") == 1 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(w, `<html><h1 class="title">ok after 429</h1><span class="price">$5</span></html>`)
	})
	mux.HandleFunc("/429-long", func(w http.ResponseWriter, r *http.Request) {
		inc("429-long")
		w.Header().Set("Retry-After", "3600")
		http.Error(w, "go away", http.StatusTooManyRequests)
	})
	mux.HandleFunc("/500-once", func(w http.ResponseWriter, r *http.Request) {
		if inc("500-once") == 1 {
			http.Error(w, "oops", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, `<html><h1 class="title">ok after 500</h1></html>`)
	})
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) {
		inc("500")
		http.Error(w, "down", http.StatusInternalServerError)
	})
	mux.HandleFunc("/loop/", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/loop/"))
		inc("loop")
		http.Redirect(w, r, fmt.Sprintf("/loop/%d", (n+1)%2), http.StatusFound)
	})
	mux.HandleFunc("/offsite", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://evil.example/steal", http.StatusFound)
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("<p>spam</p>"), 10000)
		for i := 0; i < (50<<20)/len(chunk); i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/bomb", func(w http.ResponseWriter, r *http.Request) {
		bombOnce.Do(func() { bomb = gzipBomb(t, 100<<20) })
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "text/html")
		w.Write(bomb)
	})
	mux.HandleFunc("/stall", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.Write(bytes.Repeat([]byte("x"), 1000))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	mux.HandleFunc("/huge.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(pngHeader(30000, 30000))
		w.Write(make([]byte, 3<<20))
	})
	mux.HandleFunc("/header.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(pngHeader(30000, 30000))
	})
	mux.HandleFunc("/search", func(w http.ResponseWriter, r *http.Request) {
		// Endless: every page has new results and a next link.
		p, _ := strconv.Atoi(r.URL.Query().Get("page"))
		inc("search")
		fmt.Fprintf(w, `<a class="item-link" href="/item/%d">x</a><a class="next" href="/search?q=x&page=%d">next</a>`, p, p+1)
	})
	mux.HandleFunc("/cycle", func(w http.ResponseWriter, r *http.Request) {
		p, _ := strconv.Atoi(r.URL.Query().Get("page"))
		inc("cycle")
		fmt.Fprintf(w, `<a class="item-link" href="/item/%d">x</a><a class="next" href="/cycle?q=x&page=%d">next</a>`, p, (p+1)%3)
	})
	mux.HandleFunc("/flaky", func(w http.ResponseWriter, r *http.Request) {
		p, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if p == 2 {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		if p <= 4 {
			fmt.Fprintf(w, `<a class="item-link" href="/item/%d">x</a>`, p)
		}
	})
	mux.HandleFunc("/captcha", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><head><title>Robot Check</title></head><body><form action="/errors/validateCaptcha"><img src="/captcha/x.jpg"><input name="field-keywords"></form></body></html>`)
	})
	mux.HandleFunc("/removed", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><h1 class="title">Old listing</h1><p>This listing was ended by the seller.</p></html>`)
	})
	srv := httptest.NewServer(mux)
	return srv, &counts
}

func count(m *sync.Map, k string) int {
	v, ok := m.Load(k)
	if !ok {
		return 0
	}
	return int(v.(*atomic.Int32).Load())
}

// gzipBomb is n zero bytes gzipped (about n/1000 bytes).
func gzipBomb(t *testing.T, n int) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zero := make([]byte, 1<<20)
	for i := 0; i < n/len(zero); i++ {
		zw.Write(zero)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngHeader is a PNG signature and IHDR chunk claiming w×h pixels.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// TestHostileServers: each misbehaviour is handled within bounds and
// reported with the right error.
func TestHostileServers(t *testing.T) {
	srv, counts := hostileServer(t)
	defer srv.Close()
	newC := func() *Crawler {
		o := testOptions(srv.URL)
		o.MaxBodyBytes = 1 << 20
		o.MaxImageBytes = 1 << 20
		o.Timeout = 500 * time.Millisecond
		o.Retry.MaxRetryAfter = 2 * time.Second
		o.Selectors.NextPage = "a.next"
		o.RemovedMarker = "This listing was ended by the seller"
		return newTestCrawler(t, o)
	}
	tests := []struct {
		name    string
		run     func(c *Crawler) error
		wantErr error  // nil: success
		errText string // substring, when no sentinel applies
		within  time.Duration
		check   func(t *testing.T)
	}{
		{name: "429 with Retry-After", within: 3 * time.Second, run: func(c *Crawler) error {
			begin := time.Now()
			p, err := c.Fetch(context.Background(), srv.URL+"/429")
			if err == nil && (p.Listing.Title != "ok after 429" || time.Since(begin) < 900*time.Millisecond) {
				return fmt.Errorf("title %q after %v, want the page after >= 1s", p.Listing.Title, time.Since(begin))
			}
			return err
		}},
		{name: "429 asking for an hour", within: time.Second, errText: "exceeds", run: func(c *Crawler) error {
			_, err := c.Fetch(context.Background(), srv.URL+"/429-long")
			return err
		}},
		{name: "500 then success", within: time.Second, run: func(c *Crawler) error {
			p, err := c.Fetch(context.Background(), srv.URL+"/500-once")
			if err == nil && p.Listing.Title != "ok after 500" {
				return fmt.Errorf("title %q", p.Listing.Title)
			}
			return err
		}},
		{name: "500 forever", within: time.Second, errText: "after 3 attempts", run: func(c *Crawler) error {
			_, err := c.Fetch(context.Background(), srv.URL+"/500")
			return err
		}, check: func(t *testing.T) {
			if n := count(counts, "500"); n != 3 {
				t.Errorf("%d requests, want 3 attempts", n)
			}
		}},
		{name: "redirect loop", within: time.Second, errText: "redirects", run: func(c *Crawler) error {
			_, err := c.Fetch(context.Background(), srv.URL+"/loop/0")
			return err
		}, check: func(t *testing.T) {
			if n := count(counts, "loop"); n > 6 {
				t.Errorf("%d redirects followed, want <= 6", n)
			}
		}},
		{name: "redirect offsite", within: time.Second, wantErr: ErrOffsite, run: func(c *Crawler) error {
			_, err := c.Fetch(context.Background(), srv.URL+"/offsite")
			return err
		}},
		{name: "50 MB body", within: 2 * time.Second, wantErr: ErrTooLarge, run: func(c *Crawler) error {
			_, err := c.Fetch(context.Background(), srv.URL+"/huge")
			return err
		}},
		{name: "gzip bomb", within: 2 * time.Second, wantErr: ErrTooLarge, run: func(c *Crawler) error {
			_, err := c.Fetch(context.Background(), srv.URL+"/bomb")
			return err
		}},
		{name: "stall mid-body", within: 3 * time.Second, errText: "", run: func(c *Crawler) error {
			_, err := c.Fetch(context.Background(), srv.URL+"/stall")
			if err == nil {
				return nil
			}
			return fmt.Errorf("stalled: %w", errStall)
		}, wantErr: errStall},
		{name: "30000x30000 PNG over the byte cap", within: time.Second, wantErr: ErrTooLarge, run: func(c *Crawler) error {
			_, err := c.FetchImage(context.Background(), srv.URL+"/huge.png")
			return err
		}},
		{name: "30000x30000 PNG header only", within: time.Second, run: func(c *Crawler) error {
			// FetchImage caps bytes only; the pixel cap is imagehash's,
			// read from this header before any decode.
			b, err := c.FetchImage(context.Background(), srv.URL+"/header.png")
			if err == nil && len(b) > 100 {
				return fmt.Errorf("%d bytes", len(b))
			}
			return err
		}},
		{name: "image offsite", within: time.Second, wantErr: ErrOffsite, run: func(c *Crawler) error {
			_, err := c.FetchImage(context.Background(), "http://evil.example/x.png")
			return err
		}},
		{name: "removed marker", within: time.Second, run: func(c *Crawler) error {
			p, err := c.Fetch(context.Background(), srv.URL+"/removed")
			if err == nil && !p.Removed {
				return errors.New("not marked removed")
			}
			return err
		}},
		{name: "captcha page", within: time.Second, wantErr: ErrBlocked, run: func(c *Crawler) error {
			_, err := c.Fetch(context.Background(), srv.URL+"/captcha")
			if err == nil {
				return nil
			}
			// The marketplace is backed off.
			if _, err2 := c.Fetch(context.Background(), srv.URL+"/500-once"); !errors.Is(err2, ErrCircuitOpen) {
				return fmt.Errorf("after a block page: %v, want ErrCircuitOpen", err2)
			}
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			begin := time.Now()
			err := tt.run(newC())
			elapsed := time.Since(begin)
			switch {
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			case tt.errText != "" && (err == nil || !strings.Contains(err.Error(), tt.errText)):
				t.Errorf("err = %v, want one containing %q", err, tt.errText)
			case tt.wantErr == nil && tt.errText == "" && err != nil:
				t.Errorf("err = %v, want success", err)
			}
			if elapsed > tt.within {
				t.Errorf("took %v, want within %v", elapsed, tt.within)
			}
			if tt.check != nil {
				tt.check(t)
			}
		})
	}
}

var errStall = errors.New("stall detected")

// TestHostileSearch: endless and cyclic pagination stop within bounds, a
// failing page is recorded and the walk goes on, a block page ends it.
func TestHostileSearch(t *testing.T) {
	srv, counts := hostileServer(t)
	defer srv.Close()
	tests := []struct {
		name, path   string
		next         string
		wantPages    int
		wantFound    int
		wantFailures int
		wantBlocked  bool
	}{
		{"endless pagination", "/search?q={query}&page={page}", "a.next", 7, 7, 0, false},
		{"pagination cycle", "/cycle?q={query}&page={page}", "a.next", 3, 3, 0, false},
		{"failing page", "/flaky?q={query}&page={page}", "", 5, 3, 1, false},
		{"blocked", "/captcha?q={query}&page={page}", "", 1, 0, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions(srv.URL)
			o.SearchURL = srv.URL + tt.path
			o.Selectors.NextPage = tt.next
			o.MaxPages = 7
			c := newTestCrawler(t, o)
			found := 0
			res, err := c.Search(context.Background(), "x", func(string) error { found++; return nil })
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			if res.Pages != tt.wantPages || found != tt.wantFound || len(res.Failures) != tt.wantFailures || res.Blocked != tt.wantBlocked {
				t.Errorf("Search = %+v, found %d; want pages %d, found %d, failures %d, blocked %v",
					res, found, tt.wantPages, tt.wantFound, tt.wantFailures, tt.wantBlocked)
			}
		})
	}
	_ = counts
}

// TestCircuitBreaker: a site that keeps failing is not hammered.
func TestCircuitBreaker(t *testing.T) {
	srv, counts := hostileServer(t)
	defer srv.Close()
	o := testOptions(srv.URL)
	o.Retry.MaxAttempts = 1
	o.Breaker = BreakerPolicy{Failures: 3, Cooldown: 200 * time.Millisecond}
	c := newTestCrawler(t, o)
	var open int
	for i := 0; i < 10; i++ {
		if _, err := c.Fetch(context.Background(), srv.URL+"/500"); errors.Is(err, ErrCircuitOpen) {
			open++
		}
	}
	if n := count(counts, "500"); n != 3 || open != 7 {
		t.Errorf("server saw %d requests, %d refused by the breaker; want 3 and 7", n, open)
	}
	time.Sleep(250 * time.Millisecond)
	// Half-open: one trial goes through, fails, and re-opens the breaker.
	c.Fetch(context.Background(), srv.URL+"/500")
	if _, err := c.Fetch(context.Background(), srv.URL+"/500"); !errors.Is(err, ErrCircuitOpen) {
		t.Errorf("after a failed trial: %v, want ErrCircuitOpen", err)
	}
	if n := count(counts, "500"); n != 4 {
		t.Errorf("server saw %d requests, want 4", n)
	}
}

// TestSSRF: without AllowPrivate, a loopback address is refused at
// connect time even when the host name is allowed.
func TestSSRF(t *testing.T) {
	sh := &shop{pages: 1}
	srv := httptest.NewServer(sh)
	defer srv.Close()
	o := testOptions(srv.URL)
	o.AllowPrivate = false
	o.RespectRobots = false
	o.Retry.MaxAttempts = 1
	c := newTestCrawler(t, o)
	if _, err := c.Fetch(context.Background(), srv.URL+"/item/1"); err == nil || !strings.Contains(err.Error(), "prohibited") && !strings.Contains(err.Error(), "not a permitted") && !strings.Contains(err.Error(), "denied") {
		t.Errorf("Fetch(loopback) = %v, want an ssrf refusal", err)
	}
	if n := sh.count("/item"); n != 0 {
		t.Errorf("loopback server saw %d item requests", n)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{"-5", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
