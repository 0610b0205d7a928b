package web

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/store"
)

var update = flag.Bool("update", false, "rewrite the README screenshots in docs/screenshots")

// chromiumPath finds the browser: $PATROL_CHROMIUM (CI sets it), else a
// chromium on $PATH.
func chromiumPath() string {
	if p := os.Getenv("PATROL_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// productPNG draws a plausible product photo: a shoe-like shape in c on a
// soft background, with a logo disc.
func productPNG(c color.RGBA, mirror bool) []byte {
	const w, h = 320, 320
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			g := uint8(244 - y/16)
			img.Set(x, y, color.RGBA{g, g, uint8(int(g) + 4 - y/40), 255})
			xx := x
			if mirror {
				xx = w - 1 - x
			}
			// Sole and upper: two ellipses.
			dx, dy := float64(xx-160)/130, float64(y-210)/28
			ux, uy := float64(xx-140)/95, float64(y-165)/60
			if dx*dx+dy*dy <= 1 && y >= 200 {
				img.Set(x, y, color.RGBA{40, 40, 46, 255})
			} else if ux*ux+uy*uy <= 1 && y <= 212 {
				img.Set(x, y, c)
			}
			// Logo disc.
			lx, ly := float64(xx-150), float64(y-165)
			if r := math.Hypot(lx, ly); r < 22 && r > 14 {
				img.Set(x, y, color.RGBA{250, 250, 250, 255})
			}
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// browserEnv is newEnv with a fuller queue, so screenshots look like a
// working day, and product-like photos.
func browserEnv(t *testing.T) *testEnv {
	e := newEnv(t, true)
	ctx := context.Background()
	ref := productPNG(color.RGBA{200, 45, 40, 255}, false)
	photo := productPNG(color.RGBA{205, 50, 44, 255}, true)
	e.refPNG, e.imgPNG = ref, photo
	shaPhoto := sha(photo)
	rows := []struct {
		id           listing.ID
		title        string
		seller       string
		market       string
		brand        string
		price, score float64
		signals      []listing.Signal
	}{
		{"tb-8812", "Acme Trailblazer 3 Running Shoes – Mirror Grade 1:1", "Shady Shop", "demo", "Acme", 42.5, 0.93, []listing.Signal{
			{Name: "brand_term", Detail: `title contains "Acme Trailblazer 3"`, Weight: 0.25},
			{Name: "suspicious_term", Detail: `"mirror grade", "1:1"`, Weight: 0.3},
			{Name: "low_price", Detail: "42.50 USD is 24% of MSRP 180.00 USD", Weight: 0.25},
			{Name: "image_match", Detail: "image 1 matches reference refs/acme/trailblazer.png (pHash distance 6, mirrored)", Weight: 0.35},
		}},
		{"tb-1207", "ACME TRA1LBLAZER 3 sneakers factory direct wholesale", "Kicks4Less", "demo", "Acme", 55, 0.88, []listing.Signal{{Name: "brand_variant", Detail: `"TRA1LBLAZER" ~ "trailblazer"`, Weight: 0.3}, {Name: "low_price", Detail: "31% of MSRP", Weight: 0.25}}},
		{"gx-330", "Globex HoverPro drone – OEM replica, no box", "Drone Depot", "bazaar", "Globex", 89, 0.81, []listing.Signal{{Name: "suspicious_term", Detail: `"replica", "OEM"`, Weight: 0.35}}},
		{"tb-5530", "Trailblazer 3 by Acme, unbranded version, same factory", "Shady Shop", "demo", "Acme", 60, 0.77, []listing.Signal{{Name: "suspicious_term", Detail: `"same factory"`, Weight: 0.3}}},
		{"tb-0099", "Acme Trailblazer 3 – size 44 – cheap!!", "quickdeals88", "bazaar", "Acme", 38, 0.74, []listing.Signal{{Name: "low_price", Detail: "21% of MSRP", Weight: 0.3}}},
		{"gx-101", "Globex SmartKettle v2 (copy) 220V", "HomeGoods Hub", "bazaar", "Globex", 19.99, 0.69, []listing.Signal{{Name: "suspicious_term", Detail: `"copy"`, Weight: 0.3}}},
		{"tb-7421", "Acme Trailblazer 3 Women's – AAA quality", "Kicks4Less", "demo", "Acme", 70, 0.66, []listing.Signal{{Name: "suspicious_term", Detail: `"AAA quality"`, Weight: 0.3}}},
	}
	for _, r := range rows {
		l := listing.Listing{
			ID: r.id, Marketplace: r.market, URL: "https://" + r.market + ".example/item/" + string(r.id), Title: r.title, Seller: r.seller,
			Price: r.price, Currency: "USD", Brand: r.brand, Score: r.score, Flagged: true, Status: listing.StatusNew, Signals: r.signals,
			Images:    []listing.Image{{URL: "https://" + r.market + ".example/img/" + string(r.id) + ".jpg", SHA256: shaPhoto}},
			FirstSeen: t0, LastSeen: t0.Add(72 * time.Hour), FetchedAt: t0.Add(72 * time.Hour), SweepID: "sw1",
		}
		f := store.Fetched{Listing: l, Images: map[string][]byte{shaPhoto: photo}}
		if r.id == "tb-8812" {
			html := []byte(`<html><head><script>window.__pwned="script"</script></head><body onload="window.__pwned='onload'">` +
				`<h1>Acme Trailblazer 3 Running Shoes – Mirror Grade 1:1</h1><p class="price">US $42.50</p>` +
				`<p>Top quality mirror grade, 1:1 with the original. Fast shipping worldwide.</p>` +
				`<img src="x" onerror="window.__pwned='img'"><div class="seller">Sold by <a href="javascript:window.__pwned='link'">Shady Shop</a></div></body></html>`)
			snap := listing.Snapshot{ListingID: l.ID, SHA256: sha(html), URL: l.URL, FinalURL: l.URL, Status: 200, FetchedAt: l.FetchedAt, HTML: html}
			f.Snapshot, f.Listing.SnapshotSHA256 = &snap, snap.SHA256
		}
		if err := e.st.SaveFetched(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range []int{3, 5, 4, 8, 6, 9, 7, 11} {
		at := t0.Add(time.Duration(i-8) * 6 * time.Hour)
		sw := listing.Sweep{ID: store.NewSweepID(at), Started: at, Ended: at.Add(40 * time.Minute), State: listing.SweepDone, Counters: listing.SweepCounters{Found: 40 + 3*n, Flagged: n}}
		if err := e.st.PutSweep(ctx, sw); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := New(Options{
		Listings: e.st, Verdicts: e.st, Search: e.search, Snapshots: e.st, Images: e.st, Sweeps: e.st, Notices: e.st,
		Users: e.st, Sessions: e.st, Audit: e.st, Scanner: e.st,
		References:    []Reference{{Name: "refs/acme/trailblazer.png", Brand: "Acme", Data: ref}},
		Brands:        []Brand{{Name: "Acme", Products: []Product{{Name: "Acme Trailblazer 3", MSRP: 180, Currency: "USD"}}}},
		SecureCookies: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	return e
}

// TestBrowser drives real headless Chromium through the analyst's path:
// log in, review with the keyboard, open a listing, compare images, and
// checks that no script from scraped content ever runs.
func TestBrowser(t *testing.T) {
	exe := chromiumPath()
	if exe == "" {
		t.Skip("no chromium found and PATROL_CHROMIUM unset: skipping the browser test (apt-get install chromium)")
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	e := browserEnv(t)
	ts := httptest.NewServer(e.srv.Handler())
	defer ts.Close()

	artifacts := filepath.Join("testdata", "artifacts")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1360, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	// Start the browser before anything else subscribes, so only one starts.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium %s: %v", exe, err)
	}
	// Any dialog (an alert from a planted script) is a failure; accept it
	// so the page does not hang.
	var dialogs atomic.Int32
	go func() {
		for ev, err := range chromedp.Events(bctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			dialogs.Add(1)
			t.Logf("dialog opened: %q", ev.Message)
			chromedp.Call(bctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()

	failShot := func() {
		if buf, err := chromedp.Run(bctx, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(filepath.Join(artifacts, "failure.png"), buf, 0o644)
		}
	}
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			failShot()
			t.Fatalf("%s: %v", step, err)
		}
	}
	evalString := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](expr))
		if err != nil {
			failShot()
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	evalBool := func(expr string) bool {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[bool](expr))
		if err != nil {
			failShot()
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	shot := func(name string, full bool) {
		t.Helper()
		if full {
			// A viewport as tall as the page: FullScreenshot leaves the
			// sandboxed (out-of-process) snapshot frame blank.
			h, err := chromedp.Run(bctx, chromedp.Evaluate[int64](`Math.ceil(document.documentElement.scrollHeight)`))
			if err != nil {
				t.Fatal(err)
			}
			do("tall viewport", chromedp.EmulateViewport(1360, h), chromedp.Sleep(300*time.Millisecond))
			defer do("reset viewport", chromedp.EmulateViewport(1360, 900))
		}
		buf, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(artifacts, name), buf, 0o644); err != nil {
			t.Fatal(err)
		}
		if *update {
			dir := filepath.Join("..", "docs", "screenshots")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	pwned := func() string { return evalString(`String(window.__pwned)`) }

	// 1. The queue sends an anonymous browser to the login form.
	do("open queue", chromedp.Navigate(ts.URL+"/queue"), chromedp.WaitVisible(chromedp.CSS(`input[name=name]`)))
	if loc := evalString(`location.href`); !strings.Contains(loc, "/login?next=") {
		t.Fatalf("anonymous /queue landed on %s, want the login form", loc)
	}
	do("log in",
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "ana"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID(`queue`)),
	)
	// The __Host- session cookie was accepted over http://127.0.0.1.
	res, err := chromedp.Call(bctx, network.GetCookies, network.GetCookiesParams{URLs: []string{ts.URL}})
	if err != nil {
		t.Fatal(err)
	}
	var sess *network.Cookie
	for _, c := range res.Cookies {
		if c.Name == "__Host-patrol_session" {
			sess = c
		}
	}
	if sess == nil || !sess.Secure || !sess.HTTPOnly {
		t.Fatalf("browser cookies = %+v, want a Secure HttpOnly __Host-patrol_session", res.Cookies)
	}

	// 2. The hostile title shows as text and runs nothing.
	if got := evalString(`document.querySelector('tr[data-id="hostile01"] td.title a').textContent`); got != hostileTitle {
		t.Errorf("hostile title shows as %q, want the literal text", got)
	}
	if p := pwned(); p != "undefined" {
		t.Errorf("script from scraped content ran in the queue: __pwned = %s", p)
	}
	shot("queue.png", false)

	// 3. Keyboard review: j moves to the second row, c confirms it, and it
	// leaves the queue.
	ids := strings.Split(evalString(`Array.from(document.querySelectorAll("tr.row")).map(r => r.dataset.id).join(",")`), ",")
	if len(ids) < 3 {
		t.Fatalf("queue rows = %v", ids)
	}
	first, target := ids[0], ids[1]
	do("move with j", chromedp.KeyEvent("j"))
	if cur := evalString(`document.querySelector("tr.row.current").dataset.id`); cur != target {
		t.Fatalf("after j the current row is %s, want %s", cur, target)
	}
	do("confirm with c", chromedp.KeyEvent("c"), chromedp.WaitNotPresent(chromedp.CSS(`tr[data-id="`+target+`"]`)))
	if st := e.status(listing.ID(target)); st != listing.StatusConfirmed {
		t.Errorf("after c, %s is %s, want confirmed", target, st)
	}
	es, _ := e.st.RecentAudit(context.Background(), store.AuditQuery{Target: target})
	if len(es) != 1 || es[0].Actor != "ana" || es[0].To != "confirmed" {
		t.Errorf("audit after c = %+v", es)
	}
	// Still gone after a reload: it came off the queue, not just the page.
	do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID(`queue`)))
	if evalBool(`!!document.querySelector('tr[data-id="` + target + `"]')`) {
		t.Errorf("%s is back in the queue after a reload", target)
	}
	// d dismisses the current (first) row.
	do("dismiss with d", chromedp.KeyEvent("d"), chromedp.WaitNotPresent(chromedp.CSS(`tr[data-id="`+first+`"]`)))
	if st := e.status(listing.ID(first)); st != listing.StatusDismissed {
		t.Errorf("after d, %s is %s, want dismissed", first, st)
	}

	// 4. The listing page: image comparison with the Hamming distance, and
	// the snapshot in a sandboxed frame that the page cannot reach into.
	do("listing page",
		chromedp.Navigate(ts.URL+"/listing/tb-8812"),
		chromedp.WaitVisible(chromedp.ID(`image-compare`)),
	)
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`Array.from(document.querySelectorAll("#image-compare img")).every(i => i.complete && i.naturalWidth > 0)`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("listing or reference image did not load from patrol's own store: %v", err)
	}
	if h := evalString(`document.querySelector(".pair.matched .hamming").textContent`); h != "Hamming distance 6" {
		t.Errorf("image comparison shows %q, want Hamming distance 6", h)
	}
	if !evalBool(`(() => { try { return document.querySelector("iframe.snapshot").contentDocument === null } catch (e) { return true } })()`) {
		t.Error("the snapshot frame is reachable from the UI's origin")
	}
	do("let the frame load", chromedp.Sleep(300*time.Millisecond))
	if p := pwned(); p != "undefined" {
		t.Errorf("script from the snapshot ran: __pwned = %s", p)
	}
	shot("listing.png", true)

	// 5. The hostile listing's page is inert too.
	do("hostile listing", chromedp.Navigate(ts.URL+"/listing/hostile01"), chromedp.WaitVisible(chromedp.CSS(`.listing-title`)), chromedp.Sleep(300*time.Millisecond))
	if p := pwned(); p != "undefined" {
		t.Errorf("script from scraped content ran on the listing page: __pwned = %s", p)
	}
	do("dashboard", chromedp.Navigate(ts.URL+"/dashboard"), chromedp.WaitVisible(chromedp.CSS(`svg.chart`)))
	shot("dashboard.png", true)
	do("search", chromedp.Navigate(ts.URL+"/search?q=Trailblazer&flagged=true"), chromedp.WaitVisible(chromedp.CSS(`.results`)))
	if p := pwned(); p != "undefined" {
		t.Errorf("script ran on the search page: __pwned = %s", p)
	}
	shot("search.png", false)
	if n := dialogs.Load(); n != 0 {
		t.Errorf("%d dialogs opened", n)
	}
}
