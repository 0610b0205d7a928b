package crawler

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCrawlCost prints the crawler's CPU time per listing page
// (fetch from a loopback server through colly and every guard, parse,
// block check, extract, snapshot hash) beside goquery's parse-and-extract
// alone (Extract) on the same 374 KB eBay item page, measured alternately
// in the same run, and their ratio (target <= 1.3). The loopback server's
// own CPU is included in the crawler's figure.
func BenchmarkCrawlCost(b *testing.B) {
	const page = "testdata/marketplaces/ebay/item-ebay-com-302474151804.html"
	body, err := os.ReadFile(page)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(body)
	}))
	defer srv.Close()
	sel := Selectors{Title: "h1#itemTitle", Price: "#prcIsum, #mm-saleDscPrc, #prcIsum_bidPrice", Seller: ".mbg-nw", Images: "#icImg@src", Description: "#viTabs_0_is"}
	o := testOptions(srv.URL)
	o.RequestsPerSecond, o.Burst, o.Selectors = 1e9, 1000, sel
	c, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	itemURL := srv.URL + "/itm/302474151804"
	if _, err := c.Fetch(ctx, itemURL); err != nil { // warm robots cache and connection
		b.Fatal(err)
	}
	var extractCPU, crawlCPU time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := cpuTime(b)
		if _, err := Extract(itemURL, body, "text/html; charset=utf-8", sel); err != nil {
			b.Fatal(err)
		}
		t1 := cpuTime(b)
		p, err := c.Fetch(ctx, itemURL)
		if err != nil || p.Listing.Price == 0 {
			b.Fatalf("Fetch = %v, %v", p, err)
		}
		t2 := cpuTime(b)
		extractCPU += t1 - t0
		crawlCPU += t2 - t1
	}
	b.ReportMetric(float64(extractCPU.Nanoseconds())/float64(b.N), "goquery-extract-cpu-ns/page")
	b.ReportMetric(float64(crawlCPU.Nanoseconds())/float64(b.N), "crawler-cpu-ns/page")
	b.ReportMetric(float64(crawlCPU)/float64(max(extractCPU, 1)), "crawler/goquery-ratio")
}

// BenchmarkRobotsMatch measures one allow/disallow decision on a
// realistic robots.txt.
func BenchmarkRobotsMatch(b *testing.B) {
	r := parseRobots([]byte("User-agent: *\nDisallow: /sch/*&_sop=\nDisallow: /itm/*?*hash=\nAllow: /itm/\nDisallow: /*.json$\n\nUser-agent: patrol\nDisallow: /private\n"))
	for b.Loop() {
		r.allowed("patrol", "/itm/302474151804?hash=abc")
	}
}
