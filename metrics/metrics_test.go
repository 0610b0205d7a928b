package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patrol-dev/patrol/alert"
	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/metrics"
	"github.com/patrol-dev/patrol/schedule"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func scrape(t *testing.T, h http.Handler, auth string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

// TestMetricsAfterScheduledSweep runs a fake sweep the way serve wires it:
// the scheduler fires on a fake clock, the sweep fetches pages through the
// metrics transport, records its listings, finishes, alerts a webhook that
// fails once; then /metrics shows every named series.
func TestMetricsAfterScheduledSweep(t *testing.T) {
	market := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/gone" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "<html>listing</html>")
	}))
	defer market.Close()
	var hooks atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hooks.Add(1) == 1 {
			http.Error(w, "busy", http.StatusBadGateway)
		}
	}))
	defer hook.Close()

	m := metrics.New()
	n, err := alert.New(alert.Options{
		Webhooks:   []alert.Webhook{{Name: "ops", URL: hook.URL}},
		Sleep:      func(context.Context, time.Duration) error { return nil },
		OnDelivery: func(d alert.Delivery) { m.ObserveAlert(d.Receiver, d.OK) },
	})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: m.Transport("demo", nil)}
	now := t0
	var sweeps []listing.Sweep
	run := func(ctx context.Context, ms []string, reason string) error {
		sw := listing.Sweep{ID: fmt.Sprintf("sweep-%d", len(sweeps)+1), Started: now, State: listing.SweepRunning, Marketplaces: ms}
		var found []listing.Listing
		for i, path := range []string{"/a", "/b", "/c", "/gone"} {
			resp, err := client.Get(market.URL + path)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				continue
			}
			m.ObserveRateLimitWait("demo", 200*time.Millisecond)
			l := listing.Listing{ID: listing.ID(path), Marketplace: "demo", Brand: "Acme", Flagged: i == 0, Score: 0.9, Status: listing.StatusNew, SweepID: sw.ID, FirstSeen: now}
			outcome := []string{metrics.OutcomeNew, metrics.OutcomeChanged, metrics.OutcomeUnchanged}[i]
			m.ObserveListing(l, outcome)
			found = append(found, l)
		}
		sw.State, sw.Ended = listing.SweepDone, now.Add(90*time.Second)
		sw.Counters.Flagged = 1
		m.ObserveSweep(sw, 0)
		n.SweepFinished(ctx, sw, alert.NewSuspects(sw, found))
		sweeps = append(sweeps, sw)
		return nil
	}
	s, err := schedule.New(schedule.Options{
		Spec: "@every 1h", Marketplaces: []string{"demo"}, Run: run,
		LastRun: func(string) (time.Time, bool) { return t0, true },
		Now:     func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s.CatchUp(ctx)
	now = t0.Add(time.Hour)
	s.Tick(ctx, now)
	s.Wait()
	n.Wait()
	m.SetNotices(map[string]int{"drafted": 2, "sent": 1})
	m.SetIndexDocs(3)

	if len(sweeps) != 1 || sweeps[0].State != listing.SweepDone {
		t.Fatalf("sweeps = %+v, want one finished sweep", sweeps)
	}
	if got := hooks.Load(); got != 2 {
		t.Errorf("webhook requests = %d, want 2 (one failure, one retry)", got)
	}
	if d := n.Deliveries(); len(d) != 1 || !d[0].OK || d[0].Attempts != 2 {
		t.Errorf("Deliveries() = %+v, want one delivered on the second attempt", d)
	}

	code, body := scrape(t, m.Handler("tok"), "Bearer tok")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d, want 200", code)
	}
	for _, want := range []string{
		`patrol_pages_fetched_total{marketplace="demo",status="200"} 3`,
		`patrol_pages_fetched_total{marketplace="demo",status="404"} 1`,
		`patrol_fetch_seconds_count{marketplace="demo"} 4`,
		`patrol_rate_limit_wait_seconds_total{marketplace="demo"} 0.6`,
		`patrol_listings_total{marketplace="demo",outcome="new"} 1`,
		`patrol_listings_total{marketplace="demo",outcome="changed"} 1`,
		`patrol_listings_total{marketplace="demo",outcome="unchanged"} 1`,
		`patrol_suspects_flagged_total{brand="Acme",marketplace="demo"} 1`,
		`patrol_sweep_duration_seconds_sum 90`,
		`patrol_sweep_duration_seconds_count 1`,
		`patrol_sweeps_total{state="done"} 1`,
		fmt.Sprintf(`patrol_last_sweep_timestamp_seconds %g`, float64(t0.Add(time.Hour+90*time.Second).Unix())),
		`patrol_notices{state="drafted"} 2`,
		`patrol_notices{state="sent"} 1`,
		`patrol_index_documents 3`,
		`patrol_alerts_total{receiver="ops",result="ok"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}

func TestMetricsToken(t *testing.T) {
	m := metrics.New()
	tests := []struct {
		name  string
		token string
		auth  string
		want  int
	}{
		{"open", "", "", http.StatusOK},
		{"open ignores header", "", "Bearer x", http.StatusOK},
		{"missing", "s3", "", http.StatusUnauthorized},
		{"wrong", "s3", "Bearer s4", http.StatusUnauthorized},
		{"not bearer", "s3", "Basic s3", http.StatusUnauthorized},
		{"right", "s3", "Bearer s3", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, _ := scrape(t, m.Handler(tt.token), tt.auth); code != tt.want {
				t.Errorf("GET /metrics (token %q, auth %q) = %d, want %d", tt.token, tt.auth, code, tt.want)
			}
		})
	}
}

func TestTwoMetricsDoNotShareSeries(t *testing.T) {
	a, b := metrics.New(), metrics.New()
	a.SetIndexDocs(7)
	_, body := scrape(t, b.Handler(""), "")
	if strings.Contains(body, "patrol_index_documents 7") {
		t.Error("a second Metrics sees the first one's series")
	}
}

func TestHealth(t *testing.T) {
	var storeErr error
	healthz, readyz := metrics.Health(map[string]metrics.Check{
		"store": func(context.Context) error { return storeErr },
		"index": func(context.Context) error { return nil },
	})
	tests := []struct {
		name     string
		h        http.Handler
		storeErr error
		want     int
		wantBody string
	}{
		{"healthz", healthz, errors.New("closed"), http.StatusOK, "ok"},
		{"ready", readyz, nil, http.StatusOK, "ok"},
		{"not ready", readyz, errors.New("closed"), http.StatusServiceUnavailable, "store: closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storeErr = tt.storeErr
			w := httptest.NewRecorder()
			tt.h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
			if w.Code != tt.want || !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Errorf("GET = %d %q, want %d %q", w.Code, w.Body.String(), tt.want, tt.wantBody)
			}
		})
	}
}
