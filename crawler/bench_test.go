package crawler

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
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

// staticServerEnv names the page a re-executed test binary serves; see
// TestHelperStaticServer.
const staticServerEnv = "PATROL_BENCH_STATIC_PAGE"

// TestHelperStaticServer is not a test: BenchmarkCrawlCost re-executes the
// test binary with staticServerEnv set to run it as a tiny static server
// in its own process, so that the server's CPU time is not counted as the
// crawler's. It prints its address, serves the page at every path but
// /robots.txt, and exits when its standard input closes.
func TestHelperStaticServer(t *testing.T) {
	page := os.Getenv(staticServerEnv)
	if page == "" {
		t.Skip("helper process for BenchmarkCrawlCost")
	}
	body, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})}
	go srv.Serve(ln)
	fmt.Printf("http://%s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin)
	srv.Close()
	os.Exit(0)
}

// startStaticServer runs TestHelperStaticServer in a child process serving
// page and returns its base URL.
func startStaticServer(b *testing.B, page string) string {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperStaticServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), staticServerEnv+"="+page, "GOMAXPROCS=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("static server: %v", err)
	}
	return strings.TrimSpace(line)
}

// BenchmarkCrawlCost prints the crawler's CPU time per listing page
// (fetch from a loopback server through colly and every guard, parse,
// block check, extract, snapshot hash) beside goquery's parse-and-extract
// alone (Extract) on the same 374 KB eBay item page, measured alternately
// in the same run, and their ratio (target <= 1.3). The loopback server
// runs in a separate process (the test binary re-executed), so only the
// crawler's CPU time is counted; the ratio is of the summed CPU times and
// the per-page figures are medians.
func BenchmarkCrawlCost(b *testing.B) {
	const page = "testdata/marketplaces/ebay/item-ebay-com-302474151804.html"
	body, err := os.ReadFile(page)
	if err != nil {
		b.Fatal(err)
	}
	base := startStaticServer(b, page)
	sel := Selectors{Title: "h1#itemTitle", Price: "#prcIsum, #mm-saleDscPrc, #prcIsum_bidPrice", Seller: ".mbg-nw", Images: "#icImg@src", Description: "#viTabs_0_is"}
	o := testOptions(base)
	o.RequestsPerSecond, o.Burst, o.Selectors = 1e9, 1000, sel
	c, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	itemURL := base + "/itm/302474151804"
	if _, err := c.Fetch(ctx, itemURL); err != nil { // warm robots cache and connection
		b.Fatal(err)
	}
	var extractCPU, crawlCPU time.Duration
	extracts, crawls := make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
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
		extracts, crawls = append(extracts, t1-t0), append(crawls, t2-t1)
	}
	b.ReportMetric(float64(medianDuration(extracts).Nanoseconds()), "goquery-extract-cpu-ns/page")
	b.ReportMetric(float64(medianDuration(crawls).Nanoseconds()), "crawler-cpu-ns/page")
	b.ReportMetric(float64(crawlCPU)/float64(max(extractCPU, 1)), "crawler/goquery-ratio")
}

// medianDuration returns the middle of ds (which it sorts).
func medianDuration(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// BenchmarkRobotsMatch measures one allow/disallow decision on a
// realistic robots.txt.
func BenchmarkRobotsMatch(b *testing.B) {
	r := parseRobots([]byte("User-agent: *\nDisallow: /sch/*&_sop=\nDisallow: /itm/*?*hash=\nAllow: /itm/\nDisallow: /*.json$\n\nUser-agent: patrol\nDisallow: /private\n"))
	for b.Loop() {
		r.allowed("patrol", "/itm/302474151804?hash=abc")
	}
}
