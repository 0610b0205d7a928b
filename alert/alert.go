// Package alert tells a brand team when a sweep found new suspects: a JSON
// POST to webhooks (plain or Slack-compatible) and an email over SMTP.
// Alerts are sent in the background with retries and backoff, at most once
// per sweep and receiver, so a slow or broken receiver never holds up a
// sweep; failures are logged and kept for the UI.
package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/patrol-dev/patrol/listing"
)

// Webhook formats.
const (
	FormatJSON  = "json"  // Payload as JSON
	FormatSlack = "slack" // {"text": ..., "blocks": [...]}, for Slack, Mattermost, Teams' Slack-compatible hooks
)

// Webhook is one HTTP receiver of alerts.
type Webhook struct {
	// Name identifies the receiver in logs and the UI (default: its URL's
	// host).
	Name   string
	URL    string
	Format string // FormatJSON (default) or FormatSlack
	// Secret, when set, signs the body: header X-Patrol-Signature is
	// "sha256=" + hex(HMAC-SHA256(secret, body)).
	Secret  string
	Headers map[string]string
}

// Email is an SMTP receiver of alerts.
type Email struct {
	Host     string
	Port     int // default 587
	From     string
	To       []string
	Username string // PLAIN auth when set (needs TLS unless Host is loopback)
	Password string
}

// Retry bounds the attempts of one alert to one receiver.
type Retry struct {
	Attempts int           // total attempts (default 5)
	Base     time.Duration // first backoff (default 2s), doubled each time
	Max      time.Duration // cap on one backoff (default 1m)
}

// Options configure a Notifier.
type Options struct {
	Webhooks []Webhook
	Email    *Email
	// MinScore: only flagged suspects scoring at least this are alerted
	// on (0: every flagged suspect).
	MinScore float64
	// MaxListed bounds the suspects listed in one alert (default 25); the
	// count covers them all.
	MaxListed int
	// BaseURL, when set, links suspects to the UI (BaseURL + "/listings/" + id).
	BaseURL    string
	Retry      Retry
	HTTPClient *http.Client // default: 15s timeout
	Log        *slog.Logger
	Now        func() time.Time
	// Sleep waits between attempts (default: a timer that ends with
	// ctx); tests pass one that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// SendMail sends one message (default: net/smtp with STARTTLS).
	SendMail func(ctx context.Context, e Email, msg []byte) error
	// OnDelivery, when set, is called with every outcome (e.g. to count it
	// in metrics); it must not block.
	OnDelivery func(Delivery)
}

// Delivery is the outcome of one alert to one receiver.
type Delivery struct {
	Receiver string    `json:"receiver"`
	SweepID  string    `json:"sweep_id"`
	Suspects int       `json:"suspects"`
	Attempts int       `json:"attempts"`
	OK       bool      `json:"ok"`
	Error    string    `json:"error,omitempty"`
	At       time.Time `json:"at"`
}

// Failure is a delivery that failed after every attempt.
type Failure = Delivery

// Notifier sends sweep alerts.
type Notifier struct {
	opts Options
	log  *slog.Logger

	wg         sync.WaitGroup
	mu         sync.Mutex
	sent       map[string]bool // sweep ID → alerted
	sentOrder  []string
	deliveries []Delivery
}

// Bounds on what the Notifier remembers.
const (
	maxRemembered = 1000
	maxDeliveries = 200
)

// New returns a Notifier; one with no receivers does nothing.
func New(opts Options) (*Notifier, error) {
	for i, w := range opts.Webhooks {
		if w.URL == "" {
			return nil, fmt.Errorf("webhook %d: no url", i+1)
		}
		switch w.Format {
		case "":
			opts.Webhooks[i].Format = FormatJSON
		case FormatJSON, FormatSlack:
		default:
			return nil, fmt.Errorf("webhook %s: unknown format %q (want json or slack)", w.URL, w.Format)
		}
		if w.Name == "" {
			opts.Webhooks[i].Name = redactURL(w.URL)
		}
	}
	if e := opts.Email; e != nil {
		if e.Host == "" || e.From == "" || len(e.To) == 0 {
			return nil, errors.New("email alerts: host, from and to are required")
		}
		if e.Port == 0 {
			e.Port = 587
		}
	}
	if opts.MaxListed <= 0 {
		opts.MaxListed = 25
	}
	if opts.Retry.Attempts <= 0 {
		opts.Retry.Attempts = 5
	}
	if opts.Retry.Base <= 0 {
		opts.Retry.Base = 2 * time.Second
	}
	if opts.Retry.Max <= 0 {
		opts.Retry.Max = time.Minute
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	if opts.SendMail == nil {
		opts.SendMail = sendMail
	}
	return &Notifier{opts: opts, log: opts.Log, sent: map[string]bool{}}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Suspect is one listing as an alert shows it.
type Suspect struct {
	ID          listing.ID       `json:"id"`
	URL         string           `json:"url"`
	Marketplace string           `json:"marketplace"`
	Title       string           `json:"title"`
	Seller      string           `json:"seller"`
	Price       float64          `json:"price"`
	Currency    string           `json:"currency"`
	Brand       string           `json:"brand"`
	Score       float64          `json:"score"`
	Signals     []listing.Signal `json:"signals,omitempty"`
	Link        string           `json:"link,omitempty"`
}

// Payload is the JSON body of a FormatJSON webhook.
type Payload struct {
	Event        string    `json:"event"` // "sweep.suspects"
	SweepID      string    `json:"sweep_id"`
	Started      time.Time `json:"started"`
	Ended        time.Time `json:"ended,omitempty"`
	State        string    `json:"state"`
	Marketplaces []string  `json:"marketplaces,omitempty"`
	// NewSuspects counts every new suspect; Suspects lists the first
	// MaxListed, highest score first.
	NewSuspects int       `json:"new_suspects"`
	Suspects    []Suspect `json:"suspects"`
	Text        string    `json:"text"`
}

// Selected returns the suspects an alert is about: flagged, scoring at
// least MinScore, highest score first.
func (n *Notifier) Selected(suspects []listing.Listing) []listing.Listing {
	var out []listing.Listing
	for _, l := range suspects {
		if l.Flagged && l.Score >= n.opts.MinScore {
			out = append(out, l)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out
}

// NewSuspects picks from the listings a sweep stored the ones it found as
// new suspects: flagged, still awaiting review, written by this sweep and
// first seen during it.
func NewSuspects(sw listing.Sweep, stored []listing.Listing) []listing.Listing {
	var out []listing.Listing
	for _, l := range stored {
		if l.Flagged && l.Status == listing.StatusNew && l.SweepID == sw.ID && !l.FirstSeen.Before(sw.Started) {
			out = append(out, l)
		}
	}
	return out
}

// SweepFinished alerts every receiver about newSuspects found by sw, in
// the background: it returns at once. Nothing is sent when none of the
// suspects qualifies, and a sweep already alerted on is not alerted again
// (a resumed sweep reports the same ID). The sends outlive ctx's
// cancellation but keep its values.
func (n *Notifier) SweepFinished(ctx context.Context, sw listing.Sweep, newSuspects []listing.Listing) {
	sel := n.Selected(newSuspects)
	if len(sel) == 0 || (len(n.opts.Webhooks) == 0 && n.opts.Email == nil) {
		return
	}
	n.mu.Lock()
	if n.sent[sw.ID] {
		n.mu.Unlock()
		n.log.Debug("sweep already alerted", "sweep", sw.ID)
		return
	}
	n.sent[sw.ID] = true
	n.sentOrder = append(n.sentOrder, sw.ID)
	if len(n.sentOrder) > maxRemembered {
		delete(n.sent, n.sentOrder[0])
		n.sentOrder = n.sentOrder[1:]
	}
	n.mu.Unlock()

	p := n.payload(sw, sel)
	ctx = context.WithoutCancel(ctx)
	for _, w := range n.opts.Webhooks {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.deliver(ctx, w.Name, sw.ID, len(sel), func(ctx context.Context) (bool, error) {
				return n.postWebhook(ctx, w, p)
			})
		}()
	}
	if e := n.opts.Email; e != nil {
		msg := n.emailMessage(*e, p)
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.deliver(ctx, "email:"+e.Host, sw.ID, len(sel), func(ctx context.Context) (bool, error) {
				return true, n.opts.SendMail(ctx, *e, msg)
			})
		}()
	}
}

// Wait blocks until every alert started so far was delivered or gave up;
// serve calls it on shutdown, tests before looking at Deliveries.
func (n *Notifier) Wait() { n.wg.Wait() }

// Deliveries returns the latest outcomes, newest first, for the UI.
func (n *Notifier) Deliveries() []Delivery {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := slices.Clone(n.deliveries)
	slices.Reverse(out)
	return out
}

// Failures returns the latest failed deliveries, newest first.
func (n *Notifier) Failures() []Failure {
	var out []Failure
	for _, d := range n.Deliveries() {
		if !d.OK {
			out = append(out, d)
		}
	}
	return out
}

// deliver calls send until it succeeds, says not to retry, or the
// attempts are used up, backing off exponentially between attempts.
func (n *Notifier) deliver(ctx context.Context, receiver, sweepID string, suspects int, send func(context.Context) (retry bool, err error)) {
	d := Delivery{Receiver: receiver, SweepID: sweepID, Suspects: suspects}
	backoff := n.opts.Retry.Base
	var err error
	for d.Attempts < n.opts.Retry.Attempts {
		d.Attempts++
		var retry bool
		retry, err = send(ctx)
		if err == nil {
			break
		}
		n.log.Warn("alert not delivered", "receiver", receiver, "sweep", sweepID, "attempt", d.Attempts, "err", err)
		if !retry || d.Attempts >= n.opts.Retry.Attempts {
			break
		}
		if serr := n.opts.Sleep(ctx, backoff); serr != nil {
			err = fmt.Errorf("%w (gave up: %v)", err, serr)
			break
		}
		backoff = min(backoff*2, n.opts.Retry.Max)
	}
	d.At = n.opts.Now()
	if err != nil {
		d.Error = err.Error()
		n.log.Error("alert failed", "receiver", receiver, "sweep", sweepID, "attempts", d.Attempts, "err", err)
	} else {
		d.OK = true
		n.log.Info("alert delivered", "receiver", receiver, "sweep", sweepID, "suspects", suspects)
	}
	if n.opts.OnDelivery != nil {
		n.opts.OnDelivery(d)
	}
	n.mu.Lock()
	n.deliveries = append(n.deliveries, d)
	if len(n.deliveries) > maxDeliveries {
		n.deliveries = n.deliveries[len(n.deliveries)-maxDeliveries:]
	}
	n.mu.Unlock()
}

func (n *Notifier) payload(sw listing.Sweep, sel []listing.Listing) Payload {
	p := Payload{
		Event: "sweep.suspects", SweepID: sw.ID, Started: sw.Started, Ended: sw.Ended,
		State: string(sw.State), Marketplaces: sw.Marketplaces, NewSuspects: len(sel),
		Suspects: []Suspect{},
	}
	for _, l := range sel[:min(len(sel), n.opts.MaxListed)] {
		s := Suspect{
			ID: l.ID, URL: l.URL, Marketplace: l.Marketplace, Title: l.Title, Seller: l.Seller,
			Price: l.Price, Currency: l.Currency, Brand: l.Brand, Score: l.Score, Signals: l.Signals,
		}
		if n.opts.BaseURL != "" {
			s.Link = n.opts.BaseURL + "/listings/" + string(l.ID)
		}
		p.Suspects = append(p.Suspects, s)
	}
	p.Text = fmt.Sprintf("patrol: sweep %s found %d new suspect%s", sw.ID, len(sel), plural(len(sel)))
	return p
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// postWebhook sends p to w; retry says whether another attempt may help
// (network errors, 5xx, 408 and 429).
func (n *Notifier) postWebhook(ctx context.Context, w Webhook, p Payload) (retry bool, err error) {
	var body any = p
	if w.Format == FormatSlack {
		body = slackBody(p)
	}
	buf, err := json.Marshal(body)
	if err != nil {
		return false, fmt.Errorf("encode alert: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(buf))
	if err != nil {
		return false, fmt.Errorf("alert request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "patrol-alert")
	req.Header.Set("X-Patrol-Sweep", p.SweepID)
	for k, v := range w.Headers {
		req.Header.Set(k, v)
	}
	if w.Secret != "" {
		mac := hmac.New(sha256.New, []byte(w.Secret))
		mac.Write(buf)
		req.Header.Set("X-Patrol-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	resp, err := n.opts.HTTPClient.Do(req)
	if err != nil {
		return true, fmt.Errorf("post alert: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	retry = resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout
	return retry, fmt.Errorf("post alert: http %d", resp.StatusCode)
}

// slackBody renders p as a Slack incoming-webhook message.
func slackBody(p Payload) map[string]any {
	var b bytes.Buffer
	for _, s := range p.Suspects {
		link := s.URL
		if s.Link != "" {
			link = s.Link
		}
		fmt.Fprintf(&b, "• <%s|%s> — %s, %s %.2f %s, score %.2f\n", link, slackEscape(s.Title), slackEscape(s.Seller), s.Marketplace, s.Price, s.Currency, s.Score)
	}
	if more := p.NewSuspects - len(p.Suspects); more > 0 {
		fmt.Fprintf(&b, "…and %d more\n", more)
	}
	return map[string]any{
		"text": p.Text,
		"blocks": []any{
			map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "*" + slackEscape(p.Text) + "*"}},
			map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": truncate(b.String(), 2900)}},
		},
	}
}

func slackEscape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s[:n])
	return string(r[:len(r)-1]) + "…"
}
