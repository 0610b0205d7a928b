// Package metrics exposes what patrol does as Prometheus series at
// /metrics (pages fetched, latency, rate-limit waits, listings by outcome,
// suspects, sweeps, notices, index size) and answers /healthz and /readyz.
// Every series lives in a registry the Metrics value owns, never in the
// process-wide default one.
package metrics

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/patrol-dev/patrol/listing"
)

// Listing outcomes for ObserveListing.
const (
	OutcomeNew       = "new"
	OutcomeChanged   = "changed"
	OutcomeUnchanged = "unchanged"
)

// Metrics holds patrol's Prometheus series and the registry they are
// registered with.
type Metrics struct {
	reg *prometheus.Registry

	pagesFetched   *prometheus.CounterVec
	fetchSeconds   *prometheus.HistogramVec
	rateLimitWait  *prometheus.CounterVec
	listings       *prometheus.CounterVec
	suspects       *prometheus.CounterVec
	sweepDuration  prometheus.Histogram
	sweeps         *prometheus.CounterVec
	lastSweep      prometheus.Gauge
	lastSweepFlags prometheus.Gauge
	notices        *prometheus.GaugeVec
	indexDocs      prometheus.Gauge
	alerts         *prometheus.CounterVec
	purged         *prometheus.CounterVec
}

// New returns Metrics with every series registered (plus the Go runtime
// and process collectors) in a new registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		pagesFetched: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patrol_pages_fetched_total",
			Help: "Pages requested from marketplaces, by HTTP status (\"error\" when no response arrived).",
		}, []string{"marketplace", "status"}),
		fetchSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "patrol_fetch_seconds",
			Help:    "Time from request to response headers of marketplace fetches.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30},
		}, []string{"marketplace"}),
		rateLimitWait: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patrol_rate_limit_wait_seconds_total",
			Help: "Time spent waiting for a marketplace's rate limiter.",
		}, []string{"marketplace"}),
		listings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patrol_listings_total",
			Help: "Listings processed by sweeps, by outcome (new, changed, unchanged).",
		}, []string{"marketplace", "outcome"}),
		suspects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patrol_suspects_flagged_total",
			Help: "New or changed listings the matcher flagged as suspects.",
		}, []string{"marketplace", "brand"}),
		sweepDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "patrol_sweep_duration_seconds",
			Help:    "Wall time of finished sweeps.",
			Buckets: []float64{10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400},
		}),
		sweeps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patrol_sweeps_total",
			Help: "Sweeps that ended, by state (done, interrupted, failed).",
		}, []string{"state"}),
		lastSweep: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "patrol_last_sweep_timestamp_seconds",
			Help: "Unix time the newest sweep ended.",
		}),
		lastSweepFlags: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "patrol_last_sweep_suspects",
			Help: "Suspects flagged by the newest sweep.",
		}),
		notices: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "patrol_notices",
			Help: "Takedown notices on record, by state.",
		}, []string{"state"}),
		indexDocs: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "patrol_index_documents",
			Help: "Documents in the search index.",
		}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patrol_alerts_total",
			Help: "Alert deliveries, by receiver and result (ok, failed).",
		}, []string{"receiver", "result"}),
		purged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patrol_purged_total",
			Help: "Records removed by retention, by kind (listings, snapshots, images).",
		}, []string{"kind"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.pagesFetched, m.fetchSeconds, m.rateLimitWait, m.listings, m.suspects,
		m.sweepDuration, m.sweeps, m.lastSweep, m.lastSweepFlags, m.notices, m.indexDocs,
		m.alerts, m.purged,
	)
	return m
}

// Registry is the registry the series live in, for a caller that wants to
// register its own collectors beside them.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveFetch records one page request: status is the HTTP status, 0 when
// no response arrived; d is the time to the response.
func (m *Metrics) ObserveFetch(marketplace string, status int, d time.Duration) {
	label := "error"
	if status > 0 {
		label = strconv.Itoa(status)
	}
	m.pagesFetched.WithLabelValues(marketplace, label).Inc()
	m.fetchSeconds.WithLabelValues(marketplace).Observe(d.Seconds())
}

// ObserveRateLimitWait adds time a request waited for marketplace's rate
// limiter.
func (m *Metrics) ObserveRateLimitWait(marketplace string, d time.Duration) {
	m.rateLimitWait.WithLabelValues(marketplace).Add(d.Seconds())
}

// ObserveListing records one processed listing with its outcome
// (OutcomeNew, OutcomeChanged, OutcomeUnchanged); a new or changed listing
// that is flagged also counts as a suspect of its brand.
func (m *Metrics) ObserveListing(l listing.Listing, outcome string) {
	m.listings.WithLabelValues(l.Marketplace, outcome).Inc()
	if l.Flagged && outcome != OutcomeUnchanged {
		m.suspects.WithLabelValues(l.Marketplace, l.Brand).Inc()
	}
}

// ObserveSweep records a sweep that ended: its state, duration (Ended -
// Started when d is 0) and end time.
func (m *Metrics) ObserveSweep(sw listing.Sweep, d time.Duration) {
	if d == 0 && !sw.Ended.IsZero() {
		d = sw.Ended.Sub(sw.Started)
	}
	m.sweeps.WithLabelValues(string(sw.State)).Inc()
	m.sweepDuration.Observe(d.Seconds())
	end := sw.Ended
	if end.IsZero() {
		end = sw.Started.Add(d)
	}
	m.lastSweep.Set(float64(end.UnixNano()) / 1e9)
	m.lastSweepFlags.Set(float64(sw.Counters.Flagged))
}

// SetNotices sets the number of notices in each state; states missing from
// counts are set to 0 if they were reported before.
func (m *Metrics) SetNotices(counts map[string]int) {
	m.notices.Reset()
	for st, n := range counts {
		m.notices.WithLabelValues(st).Set(float64(n))
	}
}

// SetIndexDocs sets the number of documents in the search index.
func (m *Metrics) SetIndexDocs(n uint64) { m.indexDocs.Set(float64(n)) }

// ObserveAlert records one alert delivery.
func (m *Metrics) ObserveAlert(receiver string, ok bool) {
	result := "ok"
	if !ok {
		result = "failed"
	}
	m.alerts.WithLabelValues(receiver, result).Inc()
}

// ObservePurge records what one retention run removed.
func (m *Metrics) ObservePurge(listings, snapshots, images int) {
	m.purged.WithLabelValues("listings").Add(float64(listings))
	m.purged.WithLabelValues("snapshots").Add(float64(snapshots))
	m.purged.WithLabelValues("images").Add(float64(images))
}

// Transport wraps next (http.DefaultTransport when nil) so that every
// request it carries is recorded by ObserveFetch under marketplace: a
// crawler that takes an http.RoundTripper gets fetch metrics for free.
func (m *Metrics) Transport(marketplace string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		start := time.Now()
		resp, err := next.RoundTrip(r)
		status := 0
		if err == nil {
			status = resp.StatusCode
		}
		m.ObserveFetch(marketplace, status, time.Since(start))
		return resp, err
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Handler serves the series in the Prometheus exposition format. With a
// token, a request must carry "Authorization: Bearer <token>"; without,
// /metrics is open (it never needs a login).
func (m *Metrics) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="patrol metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Check is one readiness condition: nil when ready.
type Check func(ctx context.Context) error

// Health returns the /healthz handler (200 while the process serves
// requests) and the /readyz handler (200 when every check passes, else 503
// naming the failing ones). Neither needs a login.
func Health(checks map[string]Check) (healthz, readyz http.Handler) {
	healthz = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("ok\n"))
	})
	readyz = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		var errs []error
		for _, name := range slices.Sorted(maps.Keys(checks)) {
			if err := checks[name](r.Context()); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
		if err := errors.Join(errs...); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(strings.TrimSpace(err.Error()) + "\n"))
			return
		}
		w.Write([]byte("ok\n"))
	})
	return healthz, readyz
}
