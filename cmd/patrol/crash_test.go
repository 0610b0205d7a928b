package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/patrol-dev/patrol/demomarket"
)

// runPatrol runs the CLI in-process and returns its stdout.
func runPatrol(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if err := run(context.Background(), args, strings.NewReader(""), &out, &errb); err != nil {
		t.Fatalf("patrol %s: %v\nstderr: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

func exportedIDs(t *testing.T, cfg string) map[string]int {
	t.Helper()
	ids := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(runPatrol(t, "export", "--config", cfg, "--format", "jsonl")))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r struct {
			ID  string `json:"id"`
			URL string `json:"url"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		ids[r.URL]++
	}
	return ids
}

// TestCrashResumeSIGKILL kills a real `patrol sweep` process mid-sweep,
// sweeps again, and checks the store holds every listing exactly once: the
// same set an uninterrupted sweep finds. `make chaos` (PATROL_CHAOS=1)
// repeats it with kills at several points, twice per run.
func TestCrashResumeSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	kills := [][]int64{{40}}
	if os.Getenv("PATROL_CHAOS") != "" {
		kills = [][]int64{{5}, {25, 60}, {80}, {120, 150}, {160}}
	}
	for _, at := range kills {
		t.Run(fmt.Sprint(at), func(t *testing.T) { crashResume(t, at) })
	}
}

func crashResume(t *testing.T, killAt []int64) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	market := demomarket.New(demomarket.Options{Seed: 1})
	var items atomic.Int64
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/item/") {
			items.Add(1)
			time.Sleep(15 * time.Millisecond)
		}
		market.Handler().ServeHTTP(w, r)
	})
	srv := httptest.NewServer(slow)
	defer srv.Close()

	crashed, err := demomarket.WriteConfig(filepath.Join(t.TempDir(), "crashed"), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	clean, err := demomarket.WriteConfig(filepath.Join(t.TempDir(), "clean"), srv.URL)
	if err != nil {
		t.Fatal(err)
	}

	var killedAt []int64
	for _, at := range killAt {
		cmd := exec.Command(exe, "sweep", "--config", crashed, "--no-progress")
		cmd.Env = append(os.Environ(), "PATROL_TEST_MAIN=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for items.Load() < at && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		if items.Load() < at {
			t.Fatalf("sweep process fetched only %d listing pages before the deadline; stderr:\n%s", items.Load(), stderr.String())
		}
		killedAt = append(killedAt, items.Load())
	}

	out := runPatrol(t, "sweep", "--config", crashed, "--no-progress")
	if !strings.Contains(out, " done ") {
		t.Fatalf("resumed sweep did not finish: %s", out)
	}
	runPatrol(t, "sweep", "--config", clean, "--no-progress")

	got, want := exportedIDs(t, crashed), exportedIDs(t, clean)
	if len(want) == 0 {
		t.Fatal("clean sweep stored nothing")
	}
	for u, n := range got {
		if n != 1 {
			t.Errorf("listing %s exported %d times, want once", u, n)
		}
		if want[u] == 0 {
			t.Errorf("listing %s stored after crash but not by a clean sweep", u)
		}
	}
	for u := range want {
		if got[u] == 0 {
			t.Errorf("listing %s lost by the crash", u)
		}
	}
	t.Logf("killed after %v listing pages; %d listings after resume, %d in a clean sweep", killedAt, len(got), len(want))
}
