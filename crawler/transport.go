package crawler

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"code.dny.dev/ssrf"
)

// origContentTypeHeader carries the served Content-Type past colly, which
// would otherwise convert the body to UTF-8 before we could snapshot the
// bytes exactly as served. The transport moves the header there and leaves
// only the media type in Content-Type.
const origContentTypeHeader = "X-Patrol-Content-Type"

// ctxKey types the context values the crawler passes to its transport.
type ctxKey int

const (
	// bodyLimitKey holds the int64 cap on the decompressed body.
	bodyLimitKey ctxKey = iota
	// skipRobotsKey marks the robots.txt fetch itself.
	skipRobotsKey
	// bodyHolderKey holds a *bodyHolder the final body is read into.
	bodyHolderKey
)

// bodyHolder receives the final response body, read by the transport into
// one buffer of the right size. colly would otherwise read it with
// io.ReadAll, whose repeated growth costs a page-sized copy and garbage
// per step: on a 380 KB page that was a measurable share of the crawl.
type bodyHolder struct {
	body []byte
}

// guardTransport is the one RoundTripper every request of a marketplace
// goes through, every redirect hop included: it enforces the allowed
// domains, robots.txt, the shared pause and token bucket, and bounds the
// decompressed body. Doing this below colly means colly's own gaps
// (robots on redirects, MaxBodySize counting compressed bytes) do not
// matter.
type guardTransport struct {
	c    *Crawler
	base *http.Transport
}

func newGuardTransport(c *Crawler) *guardTransport {
	g := ssrfGuard(c.opts.AllowPrivate)
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		// Control sees the resolved address of every connection, so a
		// redirect hop or a DNS answer that changed after the check
		// cannot reach a private address.
		Control: g.Safe,
	}
	base := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          32,
		MaxIdleConnsPerHost:   c.opts.Concurrency + 1,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: c.opts.Timeout,
		ExpectContinueTimeout: time.Second,
		// We ask for gzip ourselves and decompress under a cap.
		DisableCompression: true,
	}
	return &guardTransport{c: c, base: base}
}

// ssrfGuard refuses non-public addresses; allowPrivate admits loopback and
// the private ranges (a marketplace on the LAN or a test server) but still
// not link-local addresses such as cloud metadata endpoints.
func ssrfGuard(allowPrivate bool) *ssrf.Guardian {
	opts := []ssrf.Option{ssrf.WithAnyPort()}
	if allowPrivate {
		opts = append(opts,
			ssrf.WithAllowedV4Prefixes(
				netip.MustParsePrefix("127.0.0.0/8"),
				netip.MustParsePrefix("10.0.0.0/8"),
				netip.MustParsePrefix("172.16.0.0/12"),
				netip.MustParsePrefix("192.168.0.0/16"),
			),
			ssrf.WithAllowedV6Prefixes(
				netip.MustParsePrefix("::1/128"),
				netip.MustParsePrefix("fc00::/7"),
			),
		)
	}
	return ssrf.New(opts...)
}

// RoundTrip implements http.RoundTripper.
func (t *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if err := t.c.checkURL(req.URL); err != nil {
		closeReqBody(req)
		return nil, err
	}
	if ctx.Value(skipRobotsKey) == nil && t.c.opts.RespectRobots {
		if err := t.c.robots.check(ctx, req.URL); err != nil {
			closeReqBody(req)
			return nil, err
		}
	}
	waitStart := time.Now()
	if err := t.c.wait(ctx); err != nil {
		closeReqBody(req)
		return nil, err
	}
	if f := t.c.opts.OnRateLimitWait; f != nil {
		f(time.Since(waitStart))
	}
	if req.Header.Get("Accept-Encoding") == "" {
		req = req.Clone(ctx)
		req.Header.Set("Accept-Encoding", "gzip")
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	if f := t.c.opts.OnFetch; f != nil {
		status := 0
		if err == nil {
			status = resp.StatusCode
		}
		f(status, time.Since(start))
	}
	if err != nil {
		return nil, err
	}
	limit, _ := ctx.Value(bodyLimitKey).(int64)
	if limit <= 0 {
		limit = t.c.opts.MaxBodyBytes
	}
	if resp.ContentLength > limit && resp.Header.Get("Content-Encoding") == "" {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %d bytes declared, cap %d: %w", req.URL.Redacted(), resp.ContentLength, limit, ErrTooLarge)
	}
	// The compressed stream may not exceed the cap either.
	var body io.Reader = &capReader{r: resp.Body, n: limit, url: req.URL.Redacted()}
	switch strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))) {
	case "":
	case "gzip", "x-gzip":
		body = &lazyGzip{src: body, limit: limit, url: req.URL.Redacted()}
		resp.Header.Del("Content-Encoding")
		resp.ContentLength = -1
		resp.Uncompressed = true
	default:
		resp.Body.Close()
		return nil, fmt.Errorf("%s: unsupported content encoding %q", req.URL.Redacted(), resp.Header.Get("Content-Encoding"))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		resp.Header.Set(origContentTypeHeader, ct)
		if mt, _, err := mime.ParseMediaType(ct); err == nil {
			resp.Header.Set("Content-Type", mt)
		} else {
			resp.Header.Del("Content-Type")
		}
	}
	if h, _ := ctx.Value(bodyHolderKey).(*bodyHolder); h != nil && !isRedirect(resp.StatusCode) {
		buf, err := readBody(body, resp.ContentLength, limit)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		h.body = buf
		resp.Body = http.NoBody
		resp.ContentLength = 0
		return resp, nil
	}
	resp.Body = readCloser{Reader: body, Closer: resp.Body}
	return resp, nil
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// readBody reads r to the end into a buffer sized from the declared
// length when there is one.
func readBody(r io.Reader, declared, limit int64) ([]byte, error) {
	size := int64(64 << 10)
	if declared > 0 && declared <= limit {
		size = declared + 1 // +1 lets ReadFrom see EOF without growing
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func closeReqBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

type readCloser struct {
	io.Reader
	io.Closer
}

// capReader fails with ErrTooLarge once more than n bytes were read, rather
// than silently truncating as io.LimitReader would: a truncated page would
// be snapshotted as if it were the whole evidence.
type capReader struct {
	r   io.Reader
	n   int64
	url string
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n < 0 {
		return 0, fmt.Errorf("%s: %w", c.url, ErrTooLarge)
	}
	if int64(len(p)) > c.n+1 {
		p = p[:c.n+1]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	if c.n < 0 {
		return n, fmt.Errorf("%s: %w", c.url, ErrTooLarge)
	}
	return n, err
}

// lazyGzip decompresses on first read, so that a gzip header error shows up
// as a body read error, and caps the decompressed size: a small gzip body
// can expand a thousandfold.
type lazyGzip struct {
	src   io.Reader
	limit int64
	url   string
	zr    io.Reader
	err   error
}

func (g *lazyGzip) Read(p []byte) (int, error) {
	if g.zr == nil && g.err == nil {
		zr, err := gzip.NewReader(g.src)
		if err != nil {
			g.err = fmt.Errorf("%s: gzip: %w", g.url, err)
		} else {
			g.zr = &capReader{r: zr, n: g.limit, url: g.url}
		}
	}
	if g.err != nil {
		return 0, g.err
	}
	return g.zr.Read(p)
}

// pauseGate holds every request of a marketplace until a time set by a
// Retry-After answer or a block page.
type pauseGate struct {
	mu    sync.Mutex
	until time.Time
}

func (p *pauseGate) set(until time.Time) {
	p.mu.Lock()
	if until.After(p.until) {
		p.until = until
	}
	p.mu.Unlock()
}

func (p *pauseGate) get() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.until
}

// wait blocks until the marketplace's pause is over and the token bucket
// grants a request.
func (c *Crawler) wait(ctx context.Context) error {
	if until := c.pause.get(); time.Now().Before(until) {
		if err := sleep(ctx, time.Until(until)); err != nil {
			return err
		}
	}
	if err := c.limiter.Wait(ctx); err != nil {
		return fmt.Errorf("rate limit: %w", err)
	}
	return nil
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
