package crawler

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/patrol-dev/patrol/listing"
)

// newCollector builds the colly collector all fetches are cloned from. It
// never parses (we parse once with goquery), never converts charsets (the
// snapshot keeps the bytes as served), and leaves robots, domains and body
// caps to the guard transport.
func newCollector(c *Crawler, t http.RoundTripper) *colly.Collector {
	col := colly.NewCollector(
		colly.UserAgent(c.opts.UserAgent),
		colly.AllowURLRevisit(),
		colly.ParseHTTPErrorResponse(),
		colly.MaxBodySize(0),
		colly.IgnoreRobotsTxt(),
	)
	col.WithTransport(t)
	col.SetRequestTimeout(c.opts.Timeout)
	max := c.opts.MaxRedirects
	col.SetRedirectHandler(func(req *http.Request, via []*http.Request) error {
		if len(via) > max {
			return fmt.Errorf("stopped after %d redirects", max)
		}
		return c.checkURL(req.URL)
	})
	return col
}

// response is one HTTP answer as the crawler keeps it.
type response struct {
	status      int
	header      http.Header
	body        []byte // decompressed, as served (no charset conversion)
	contentType string // as served, charset included
	finalURL    string
}

// statusError is an HTTP status the crawler treats as a failure.
type statusError struct {
	code       int
	retryAfter time.Duration
}

func (e *statusError) Error() string {
	return fmt.Sprintf("http status %d %s", e.code, http.StatusText(e.code))
}

// do makes one attempt through a clone of the collector, synchronously.
func (c *Crawler) do(ctx context.Context, rawURL string, limit int64) (*response, error) {
	col := c.collector.Clone()
	holder := &bodyHolder{}
	col.Context = context.WithValue(context.WithValue(ctx, bodyLimitKey, limit), bodyHolderKey, holder)
	var resp *response
	col.OnResponse(func(r *colly.Response) {
		h := http.Header{}
		if r.Headers != nil {
			h = *r.Headers
		}
		resp = &response{
			status:      r.StatusCode,
			header:      h,
			body:        holder.body,
			contentType: h.Get(origContentTypeHeader),
			finalURL:    r.Request.URL.String(),
		}
	})
	if err := col.Visit(rawURL); err != nil {
		// net/http prefixes `Get "URL":`; the guard and every caller name
		// the URL already, and failure records carry it as a field.
		var ue *url.Error
		if errors.As(err, &ue) && ue.Err != nil {
			return nil, ue.Err
		}
		return nil, err
	}
	if resp == nil {
		return nil, errors.New("no response")
	}
	return resp, nil
}

// get fetches rawURL with retries, the concurrency bound and the circuit
// breaker. It returns any final answer that is not retryable (404
// included); 429 and 5xx that outlast the retries become errors.
func (c *Crawler) get(ctx context.Context, rawURL string, limit int64) (*response, error) {
	p := c.opts.Retry
	for attempt := 1; ; attempt++ {
		if err := c.breaker.allow(); err != nil {
			return nil, err
		}
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		resp, err := c.do(ctx, rawURL, limit)
		<-c.sem
		if ctxErr := ctx.Err(); ctxErr != nil {
			c.breaker.neutral()
			return nil, ctxErr
		}
		if err == nil {
			if se := statusFailure(resp); se != nil {
				err = se
			}
		}
		if err == nil {
			c.breaker.success()
			return resp, nil
		}
		if !retryable(err) {
			if countsAsSiteFailure(err) {
				c.breaker.failure()
			} else {
				c.breaker.neutral()
			}
			return resp, err
		}
		c.breaker.failure()
		wait := backoff(p.BaseBackoff, p.MaxBackoff, attempt)
		var se *statusError
		if errors.As(err, &se) && se.retryAfter > 0 {
			if se.retryAfter > p.MaxRetryAfter {
				c.pause.set(time.Now().Add(se.retryAfter))
				return nil, fmt.Errorf("retry after %s exceeds %s: %w", se.retryAfter, p.MaxRetryAfter, err)
			}
			// Every worker of the marketplace waits, not only this one.
			c.pause.set(time.Now().Add(se.retryAfter))
			wait = max(wait, se.retryAfter)
		}
		if attempt >= p.MaxAttempts {
			return nil, fmt.Errorf("after %d attempts: %w", attempt, err)
		}
		c.log.Debug("retrying", "marketplace", c.opts.Name, "url", rawURL, "attempt", attempt, "wait", wait, "err", err)
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// statusFailure turns retryable statuses into errors; other statuses are
// the caller's to judge.
func statusFailure(r *response) error {
	switch r.status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return &statusError{code: r.status, retryAfter: parseRetryAfter(r.header.Get("Retry-After"), time.Now())}
	}
	return nil
}

// retryable reports whether another attempt could succeed: server trouble
// and network errors, not our own refusals.
func retryable(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return true
	}
	switch {
	case errors.Is(err, ErrOffsite), errors.Is(err, ErrDisallowed), errors.Is(err, ErrTooLarge),
		errors.Is(err, ErrCircuitOpen), errors.Is(err, ErrBlocked),
		errors.Is(err, context.Canceled):
		return false
	}
	if strings.Contains(err.Error(), "redirects") || strings.Contains(err.Error(), "is not a permitted") || strings.Contains(err.Error(), "prohibited") {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return true
}

// countsAsSiteFailure reports whether a non-retryable error still says the
// site is unwell (as opposed to our own refusal).
func countsAsSiteFailure(err error) bool {
	return !(errors.Is(err, ErrOffsite) || errors.Is(err, ErrDisallowed) || errors.Is(err, ErrCircuitOpen) || errors.Is(err, context.Canceled))
}

// backoff is capped exponential backoff with full jitter, so that workers
// that failed together do not retry together.
func backoff(base, maxWait time.Duration, attempt int) time.Duration {
	d := base << (attempt - 1)
	if d <= 0 || d > maxWait {
		d = maxWait
	}
	return d/2 + rand.N(d/2+1)
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date; 0 when
// absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		if n > 7*24*3600 {
			n = 7 * 24 * 3600
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// Fetch fetches one listing page and extracts it. A 404 or 410 answer, or
// the RemovedMarker on the page, gives a Page with Removed set; a block
// page gives ErrBlocked and backs the marketplace off.
func (c *Crawler) Fetch(ctx context.Context, rawURL string) (*Page, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if err := c.checkURL(u); err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	canon, err := listing.CanonicalURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	resp, err := c.get(ctx, canon, c.opts.MaxBodyBytes)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", canon, err)
	}
	now := time.Now().UTC()
	sum := sha256.Sum256(resp.body)
	id := listing.NewID(c.opts.Name, canon)
	p := &Page{
		Listing: listing.Listing{
			ID: id, Marketplace: c.opts.Name, URL: canon, FinalURL: resp.finalURL, FetchedAt: now,
		},
		Snapshot: listing.Snapshot{
			ListingID: id, SHA256: hex.EncodeToString(sum[:]), URL: canon, FinalURL: resp.finalURL,
			Status: resp.status, FetchedAt: now, HTML: resp.body,
		},
	}
	if resp.status == http.StatusNotFound || resp.status == http.StatusGone {
		p.Removed = true
		return p, nil
	}
	doc, utf8Body, err := parseHTML(resp.body, resp.contentType)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", canon, err)
	}
	if isBlockPage(doc) {
		c.blocked()
		return nil, fmt.Errorf("fetch %s: %w", canon, ErrBlocked)
	}
	if resp.status < 200 || resp.status > 299 {
		return nil, fmt.Errorf("fetch %s: %w", canon, &statusError{code: resp.status})
	}
	base, _ := url.Parse(resp.finalURL)
	l := extractDoc(doc, base, c.opts.Selectors)
	l.ID, l.Marketplace, l.URL, l.FinalURL, l.FetchedAt = id, c.opts.Name, canon, resp.finalURL, now
	l.SnapshotSHA256 = p.Snapshot.SHA256
	p.Listing = l
	if m := c.opts.RemovedMarker; m != "" && bytes.Contains(utf8Body, []byte(m)) {
		p.Removed = true
	}
	return p, nil
}

// blocked records a block page: the breaker opens at once, which backs the
// whole marketplace off for its cool-down.
func (c *Crawler) blocked() {
	c.breaker.trip()
	c.log.Warn("blocked by robot check", "marketplace", c.opts.Name)
}

// FetchImage downloads one image under the same limiter, domain and robots
// rules as pages, capped at MaxImageBytes. Decoding (and its pixel cap) is
// the caller's business.
func (c *Crawler) FetchImage(ctx context.Context, rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("fetch image: %w", err)
	}
	if err := c.checkURL(u); err != nil {
		return nil, fmt.Errorf("fetch image: %w", err)
	}
	resp, err := c.get(ctx, rawURL, c.opts.MaxImageBytes)
	if err != nil {
		return nil, fmt.Errorf("fetch image %s: %w", u.Redacted(), err)
	}
	if resp.status != http.StatusOK {
		return nil, fmt.Errorf("fetch image %s: %w", u.Redacted(), &statusError{code: resp.status})
	}
	return resp.body, nil
}
