package alert_test

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patrol-dev/patrol/alert"
	"github.com/patrol-dev/patrol/listing"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func suspects(n int, score float64) []listing.Listing {
	var out []listing.Listing
	for i := range n {
		out = append(out, listing.Listing{
			ID: listing.ID("id" + strconv.Itoa(i)), URL: "http://m.example/item/" + strconv.Itoa(i), Marketplace: "demo",
			Title: "Acme <Trailblazer> " + strconv.Itoa(i), Seller: "cheap-shoes", Price: 19.99, Currency: "USD",
			Brand: "Acme", Score: score + float64(i)/100, Flagged: true, Status: listing.StatusNew,
			Signals: []listing.Signal{{Name: "price", Detail: "11% of MSRP", Weight: 0.4}},
		})
	}
	return out
}

// receiver is an httptest webhook that fails the first failFirst requests
// with status.
type receiver struct {
	mu        sync.Mutex
	bodies    [][]byte
	headers   []http.Header
	failFirst int
	status    int
	hold      chan struct{}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rc.hold != nil {
		<-rc.hold
	}
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.bodies = append(rc.bodies, b)
	rc.headers = append(rc.headers, r.Header.Clone())
	n := len(rc.bodies)
	rc.mu.Unlock()
	if n <= rc.failFirst {
		w.WriteHeader(rc.status)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.bodies)
}

func noSleep(ctx context.Context, d time.Duration) error { return ctx.Err() }

func newNotifier(t *testing.T, opts alert.Options) *alert.Notifier {
	t.Helper()
	if opts.Sleep == nil {
		opts.Sleep = noSleep
	}
	opts.Now = func() time.Time { return t0 }
	n, err := alert.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOneAlertPerSweepWithTheNewSuspects(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	n := newNotifier(t, alert.Options{
		Webhooks: []alert.Webhook{{URL: srv.URL + "/hook", Secret: "s3cret", Headers: map[string]string{"X-Team": "brand"}}},
		MinScore: 0.7, BaseURL: "http://patrol.local",
	})
	ctx := context.Background()
	sw := listing.Sweep{ID: "sweep-1", Started: t0, State: listing.SweepDone, Marketplaces: []string{"demo"}}
	found := append(suspects(3, 0.8), listing.Listing{ID: "low", Flagged: true, Score: 0.65}, listing.Listing{ID: "unflagged", Score: 0.9})
	n.SweepFinished(ctx, sw, found)
	n.SweepFinished(ctx, sw, found) // the same sweep again (e.g. resumed): no second alert
	n.SweepFinished(ctx, listing.Sweep{ID: "sweep-2"}, []listing.Listing{{ID: "low", Flagged: true, Score: 0.65}})
	n.SweepFinished(ctx, listing.Sweep{ID: "sweep-3"}, nil)
	n.Wait()

	if got := rc.count(); got != 1 {
		t.Fatalf("receiver got %d alerts, want 1", got)
	}
	var p alert.Payload
	if err := json.Unmarshal(rc.bodies[0], &p); err != nil {
		t.Fatal(err)
	}
	if p.SweepID != "sweep-1" || p.NewSuspects != 3 || len(p.Suspects) != 3 {
		t.Errorf("payload = sweep %q, %d new, %d listed; want sweep-1, 3, 3", p.SweepID, p.NewSuspects, len(p.Suspects))
	}
	var ids []string
	for _, s := range p.Suspects {
		ids = append(ids, string(s.ID))
	}
	if got, want := strings.Join(ids, ","), "id2,id1,id0"; got != want {
		t.Errorf("suspects = %s, want %s (highest score first)", got, want)
	}
	if p.Suspects[0].Link != "http://patrol.local/listings/id2" || len(p.Suspects[0].Signals) != 1 {
		t.Errorf("suspect = %+v, want link and signals", p.Suspects[0])
	}
	h := rc.headers[0]
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write(rc.bodies[0])
	if got, want := h.Get("X-Patrol-Signature"), "sha256="+hex.EncodeToString(mac.Sum(nil)); got != want {
		t.Errorf("signature = %q, want %q", got, want)
	}
	if h.Get("X-Team") != "brand" || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v, want X-Team and Content-Type", h)
	}
	d := n.Deliveries()
	if len(d) != 1 || !d[0].OK || d[0].Attempts != 1 || d[0].Receiver != srv.URL {
		t.Errorf("Deliveries() = %+v, want one ok delivery to %s", d, srv.URL)
	}
}

func TestFailingReceiverIsRetried(t *testing.T) {
	tests := []struct {
		name         string
		failFirst    int
		status       int
		wantRequests int
		wantOK       bool
	}{
		{"recovers after two 503s", 2, http.StatusServiceUnavailable, 3, true},
		{"rate limited once", 1, http.StatusTooManyRequests, 2, true},
		{"always down gives up", 100, http.StatusInternalServerError, 4, false},
		{"client error is not retried", 100, http.StatusNotFound, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &receiver{failFirst: tt.failFirst, status: tt.status}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			var mu sync.Mutex
			var waits []time.Duration
			n := newNotifier(t, alert.Options{
				Webhooks: []alert.Webhook{{Name: "ops", URL: srv.URL}},
				Retry:    alert.Retry{Attempts: 4, Base: time.Second, Max: 3 * time.Second},
				Sleep: func(ctx context.Context, d time.Duration) error {
					mu.Lock()
					waits = append(waits, d)
					mu.Unlock()
					return nil
				},
			})
			n.SweepFinished(context.Background(), listing.Sweep{ID: "s1"}, suspects(1, 0.9))
			n.Wait()
			if got := rc.count(); got != tt.wantRequests {
				t.Errorf("requests = %d, want %d", got, tt.wantRequests)
			}
			wantWaits := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}[:tt.wantRequests-1]
			if len(waits) != len(wantWaits) {
				t.Errorf("backoffs = %v, want %v", waits, wantWaits)
			}
			for i := range min(len(waits), len(wantWaits)) {
				if waits[i] != wantWaits[i] {
					t.Errorf("backoffs = %v, want %v", waits, wantWaits)
					break
				}
			}
			f := n.Failures()
			if tt.wantOK && len(f) != 0 {
				t.Errorf("Failures() = %+v, want none", f)
			}
			if !tt.wantOK && (len(f) != 1 || f[0].Receiver != "ops" || f[0].Attempts != tt.wantRequests || !strings.Contains(f[0].Error, strconv.Itoa(tt.status))) {
				t.Errorf("Failures() = %+v, want one failure of ops after %d attempts", f, tt.wantRequests)
			}
		})
	}
}

// A hung receiver must not hold up the sweep: SweepFinished returns while
// the receiver still has the request.
func TestSweepFinishedNeverBlocks(t *testing.T) {
	rc := &receiver{hold: make(chan struct{})}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	n := newNotifier(t, alert.Options{Webhooks: []alert.Webhook{{URL: srv.URL}}})
	done := make(chan struct{})
	go func() {
		n.SweepFinished(context.Background(), listing.Sweep{ID: "s1"}, suspects(2, 0.9))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("SweepFinished blocked on a hung receiver")
	}
	close(rc.hold)
	n.Wait()
	if rc.count() != 1 {
		t.Errorf("requests = %d, want 1", rc.count())
	}
}

func TestSlackFormat(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	n := newNotifier(t, alert.Options{Webhooks: []alert.Webhook{{URL: srv.URL + "/services/T000/B000/XXXX", Format: alert.FormatSlack}}, MaxListed: 2})
	n.SweepFinished(context.Background(), listing.Sweep{ID: "s9"}, suspects(3, 0.9))
	n.Wait()
	if rc.count() != 1 {
		t.Fatalf("requests = %d, want 1", rc.count())
	}
	var body struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(rc.bodies[0], &body); err != nil {
		t.Fatal(err)
	}
	if body.Text != "patrol: sweep s9 found 3 new suspects" {
		t.Errorf("text = %q", body.Text)
	}
	if len(body.Blocks) != 2 || !strings.Contains(body.Blocks[1].Text.Text, "&lt;Trailblazer&gt;") || !strings.Contains(body.Blocks[1].Text.Text, "and 1 more") {
		t.Errorf("blocks = %+v, want escaped titles and a remainder", body.Blocks)
	}
	if d := n.Deliveries(); len(d) != 1 || strings.Contains(d[0].Receiver, "XXXX") {
		t.Errorf("receiver name %q leaks the hook's secret path", d[0].Receiver)
	}
}

func TestNewRejectsBadReceivers(t *testing.T) {
	tests := []struct {
		name string
		opts alert.Options
	}{
		{"no url", alert.Options{Webhooks: []alert.Webhook{{}}}},
		{"bad format", alert.Options{Webhooks: []alert.Webhook{{URL: "http://x", Format: "xml"}}}},
		{"email without to", alert.Options{Email: &alert.Email{Host: "smtp.example", From: "a@b"}}},
	}
	for _, tt := range tests {
		if _, err := alert.New(tt.opts); err == nil {
			t.Errorf("New(%s) = nil error, want one", tt.name)
		}
	}
}

func TestNewSuspects(t *testing.T) {
	sw := listing.Sweep{ID: "s2", Started: t0}
	stored := []listing.Listing{
		{ID: "new", Flagged: true, Status: listing.StatusNew, SweepID: "s2", FirstSeen: t0.Add(time.Minute)},
		{ID: "old", Flagged: true, Status: listing.StatusNew, SweepID: "s2", FirstSeen: t0.Add(-time.Hour)},
		{ID: "other sweep", Flagged: true, Status: listing.StatusNew, SweepID: "s1", FirstSeen: t0.Add(time.Minute)},
		{ID: "dismissed", Flagged: true, Status: listing.StatusDismissed, SweepID: "s2", FirstSeen: t0.Add(time.Minute)},
		{ID: "clean", Status: listing.StatusNew, SweepID: "s2", FirstSeen: t0.Add(time.Minute)},
	}
	got := alert.NewSuspects(sw, stored)
	if len(got) != 1 || got[0].ID != "new" {
		t.Errorf("NewSuspects() = %v, want [new]", got)
	}
}

// fakeSMTP accepts one connection's worth of SMTP and returns the message.
func fakeSMTP(t *testing.T) (host string, port int, msgs chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	msgs = make(chan string, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				io.WriteString(c, "220 fake ESMTP\r\n")
				var rcpts []string
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					cmd := strings.ToUpper(strings.TrimSpace(line))
					switch {
					case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
						io.WriteString(c, "250-fake\r\n250 8BITMIME\r\n")
					case strings.HasPrefix(cmd, "RCPT"):
						rcpts = append(rcpts, strings.TrimSpace(line))
						io.WriteString(c, "250 ok\r\n")
					case strings.HasPrefix(cmd, "DATA"):
						io.WriteString(c, "354 go\r\n")
						var b strings.Builder
						for {
							l, err := r.ReadString('\n')
							if err != nil {
								return
							}
							if l == ".\r\n" {
								break
							}
							b.WriteString(l)
						}
						msgs <- strings.Join(rcpts, ";") + "\n" + b.String()
						io.WriteString(c, "250 queued\r\n")
					case strings.HasPrefix(cmd, "QUIT"):
						io.WriteString(c, "221 bye\r\n")
						return
					default:
						io.WriteString(c, "250 ok\r\n")
					}
				}
			}()
		}
	}()
	addr := ln.Addr().(*net.TCPAddr)
	return "127.0.0.1", addr.Port, msgs
}

func TestEmailAlert(t *testing.T) {
	host, port, msgs := fakeSMTP(t)
	n := newNotifier(t, alert.Options{Email: &alert.Email{Host: host, Port: port, From: "patrol@acme.example", To: []string{"brand@acme.example", "legal@acme.example"}}})
	n.SweepFinished(context.Background(), listing.Sweep{ID: "s5", Started: t0, Marketplaces: []string{"demo"}}, suspects(2, 0.9))
	n.Wait()
	if f := n.Failures(); len(f) != 0 {
		t.Fatalf("Failures() = %+v", f)
	}
	select {
	case m := <-msgs:
		for _, want := range []string{"brand@acme.example", "legal@acme.example", "Subject: patrol: sweep s5 found 2 new suspects", "http://m.example/item/1", "price (+0.40): 11% of MSRP"} {
			if !strings.Contains(m, want) {
				t.Errorf("message lacks %q:\n%s", want, m)
			}
		}
	default:
		t.Fatal("no message received")
	}
}
