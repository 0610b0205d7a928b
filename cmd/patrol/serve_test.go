package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/patrol-dev/patrol/demomarket"
	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/store"
)

// servedProcess is a `patrol serve` child process and the address it
// printed.
type servedProcess struct {
	cmd    *exec.Cmd
	addr   string
	stderr *bytes.Buffer
	done   chan error
}

func startServe(t *testing.T, cfg string) *servedProcess {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &servedProcess{stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(exe, "serve", "--config", cfg, "--addr", "127.0.0.1:0", "--log-level", "info")
	p.cmd.Env = append(os.Environ(), "PATROL_TEST_MAIN=1")
	p.cmd.Stderr = p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	re := regexp.MustCompile(`serving on http://(\S+)`)
	for lines.Scan() {
		if m := re.FindStringSubmatch(lines.Text()); m != nil {
			p.addr = m[1]
			break
		}
	}
	if p.addr == "" {
		p.cmd.Process.Kill()
		t.Fatalf("serve printed no address; stderr:\n%s", p.stderr)
	}
	go io.Copy(io.Discard, out)
	go func() { p.done <- p.cmd.Wait() }()
	return p
}

func (p *servedProcess) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM; stderr:\n%s", err, p.stderr)
		}
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("serve did not stop within 30s of SIGTERM; stderr:\n%s", p.stderr)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeSIGTERMMidSweepResumes runs `patrol serve` as a real process:
// its missed-run sweep starts at once, SIGTERM arrives mid-sweep, the sweep
// is recorded interrupted; a restarted serve resumes it to the end and
// /metrics shows the sweep, and nothing is lost or duplicated.
func TestServeSIGTERMMidSweepResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	market := demomarket.New(demomarket.Options{Seed: 1})
	var items atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/item/") {
			items.Add(1)
			time.Sleep(10 * time.Millisecond)
		}
		market.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg, err := demomarket.WriteConfig(filepath.Join(dir, "served"), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	// An hourly schedule: the first sweep runs because none ever ran.
	text, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Alerts go to a webhook receiver that counts them.
	var alerts atomic.Int64
	var alertBody atomic.Value
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		alertBody.Store(string(b))
		alerts.Add(1)
	}))
	defer hook.Close()
	text = regexp.MustCompile(`(?m)^schedule:.*$`).ReplaceAll(text, []byte("schedule: \"@every 1h\"\nalerts:\n  webhooks:\n    - url: \""+hook.URL+"\"\n"))
	if err := os.WriteFile(cfg, text, 0o644); err != nil {
		t.Fatal(err)
	}

	p := startServe(t, cfg)
	if code, body := get(t, "http://"+p.addr+"/healthz"); code != 200 {
		t.Fatalf("/healthz = %d %s", code, body)
	}
	deadline := time.Now().Add(60 * time.Second)
	for items.Load() < 30 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	p.stop(t)
	if items.Load() < 30 {
		t.Fatalf("the scheduled sweep fetched %d listing pages in 60s; stderr:\n%s", items.Load(), p.stderr)
	}

	dataDir := filepath.Join(dir, "served", "data")
	st, err := store.Open(filepath.Join(dataDir, "patrol.db"))
	if err != nil {
		t.Fatal(err)
	}
	sw, ok, err := st.Unfinished(context.Background())
	st.Close()
	if err != nil || !ok || sw.State != listing.SweepInterrupted {
		t.Fatalf("after SIGTERM Unfinished() = %+v, %v, %v, want an interrupted sweep", sw, ok, err)
	}

	p = startServe(t, cfg)
	deadline = time.Now().Add(90 * time.Second)
	var metricsBody string
	for time.Now().Before(deadline) {
		_, metricsBody = get(t, "http://"+p.addr+"/metrics")
		if strings.Contains(metricsBody, `patrol_sweeps_total{state="done"} 1`) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop(t)
	if n := alerts.Load(); n != 1 {
		t.Errorf("webhook got %d alerts, want exactly 1 (for the sweep that finished)", n)
	} else if body, _ := alertBody.Load().(string); !strings.Contains(body, "Nordvik") && !strings.Contains(body, "Lumora") {
		t.Errorf("alert names no suspect: %.300s", body)
	}
	for _, series := range []string{
		`patrol_sweeps_total{state="done"} 1`, "patrol_sweep_duration_seconds", "patrol_listings_total",
		`patrol_pages_fetched_total{marketplace="demo",status="200"}`, "patrol_fetch_seconds_bucket", "patrol_rate_limit_wait_seconds_total",
		"patrol_suspects_flagged_total", "patrol_index_documents", "patrol_last_sweep_timestamp_seconds",
	} {
		if !strings.Contains(metricsBody, series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}

	clean, err := demomarket.WriteConfig(filepath.Join(dir, "clean"), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	runPatrol(t, "sweep", "--config", clean, "--no-progress")
	got, want := exportedIDs(t, cfg), exportedIDs(t, clean)
	if len(got) != len(want) {
		t.Errorf("after resume %d listings, a clean sweep finds %d", len(got), len(want))
	}
	for u, n := range got {
		if n != 1 || want[u] != 1 {
			t.Errorf("listing %s: %d after resume, %d in a clean sweep", u, n, want[u])
		}
	}
}
