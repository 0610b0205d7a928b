package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/patrol-dev/patrol/config"
	"github.com/patrol-dev/patrol/demomarket"
	"github.com/patrol-dev/patrol/store"
)

var screenshots = flag.Bool("screenshots", false, "rewrite the README screenshots from a real demo sweep (needs chromium)")

// TestREADMEScreenshots sweeps the demo marketplace, serves the UI, logs
// in with headless Chromium and saves the queue and a listing page as
// docs/screenshots/demo-*.png: the README shows what the real pipeline
// produces. Run with -screenshots.
func TestREADMEScreenshots(t *testing.T) {
	if !*screenshots {
		t.Skip("run with -screenshots to rewrite the README screenshots")
	}
	exe := os.Getenv("PATROL_CHROMIUM")
	if exe == "" {
		exe, _ = exec.LookPath("chromium")
	}
	if exe == "" {
		t.Fatal("no chromium: apt-get install chromium or set PATROL_CHROMIUM")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	market := demomarket.New(demomarket.Options{Seed: 1})
	msrv, err := demomarket.Start(ctx, market, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer msrv.Close()
	cfgPath, err := demomarket.WriteConfig(filepath.Join(t.TempDir(), "demo"), msrv.URL())
	if err != nil {
		t.Fatal(err)
	}
	runPatrol(t, "sweep", "--config", cfgPath, "--no-progress")

	// The listing to show: the highest-scoring one whose photo matched a
	// reference photo.
	var listingID string
	sc := bufio.NewScanner(strings.NewReader(runPatrol(t, "export", "--config", cfgPath, "--flagged")))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && listingID == "" {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		for _, s := range r.Signals {
			if s.Name == "image_match" && strings.Contains(r.Title, "Lumora") {
				listingID = string(r.ID)
			}
		}
	}
	if listingID == "" {
		t.Fatal("no flagged listing with an image match")
	}

	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	g := &globals{stdin: strings.NewReader(""), stdout: os.Stderr, stderr: os.Stderr, logLevel: "warn"}
	a, err := openApp(ctx, g, cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.store.AddUser(ctx, "ana", store.RoleApprover, "screenshot-pass", nil); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.serve(sctx, addr) }()
	defer func() {
		stop()
		<-done
		a.close()
	}()
	base := "http://" + addr
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1360, 900))
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	shot := func(full bool) []byte {
		t.Helper()
		if full {
			// A viewport as tall as the page: a full-page capture leaves
			// the sandboxed snapshot frame blank.
			h, err := chromedp.Run(bctx, chromedp.Evaluate[int64](`Math.ceil(document.documentElement.scrollHeight)`))
			if err != nil {
				t.Fatal(err)
			}
			do("tall viewport", chromedp.EmulateViewport(1360, h), chromedp.Sleep(300*time.Millisecond))
			defer do("reset viewport", chromedp.EmulateViewport(1360, 900))
		}
		buf, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		return buf
	}
	do("log in",
		chromedp.Navigate(base+"/queue"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=name]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "ana"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "screenshot-pass"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID(`queue`)),
		chromedp.Sleep(300*time.Millisecond))
	queuePNG := shot(false)
	do("open listing",
		chromedp.Navigate(base+"/listing/"+listingID),
		chromedp.WaitVisible(chromedp.ID(`image-compare`)),
		chromedp.Sleep(500*time.Millisecond))
	listingPNG := shot(true)
	dir := filepath.Join("..", "..", "docs", "screenshots")
	for name, b := range map[string][]byte{"demo-queue.png": queuePNG, "demo-listing.png": listingPNG} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
