// Package crawler fetches marketplace search and listing pages politely and
// safely, and extracts listings from them. It wraps colly (the fetch engine)
// and goquery (the parser) so that no other package sees either: a brand
// points it at real marketplaces for months, so every request shares one
// token bucket per marketplace, honours robots.txt and Retry-After, stays
// inside the allowed domains, and is bounded in size and time.
package crawler

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/gocolly/colly/v2"
	"golang.org/x/time/rate"

	"github.com/patrol-dev/patrol/listing"
)

// DefaultUserAgent identifies patrol to the sites it crawls, with a URL an
// operator can read, as robots.txt etiquette expects.
const DefaultUserAgent = "patrol/dev (+https://github.com/patrol-dev/patrol)"

// Errors a caller can test with errors.Is to decide how to record a failure.
var (
	// ErrBlocked means the site answered with a CAPTCHA or robot check
	// instead of the page; the marketplace is backed off.
	ErrBlocked = errors.New("blocked by a robot check")
	// ErrDisallowed means robots.txt disallows the URL for our user agent.
	ErrDisallowed = errors.New("disallowed by robots.txt")
	// ErrOffsite means the URL, a redirect target or an image lies outside
	// the marketplace's allowed domains.
	ErrOffsite = errors.New("outside the allowed domains")
	// ErrTooLarge means a body exceeded its size cap after decompression.
	ErrTooLarge = errors.New("response body too large")
	// ErrCircuitOpen means the marketplace failed too often recently and
	// requests are refused until its cool-down ends.
	ErrCircuitOpen = errors.New("circuit breaker open")
)

// Selectors are CSS selectors for the fields of search and listing pages;
// "selector@attr" takes an attribute instead of the text.
type Selectors struct {
	ResultLink  string
	NextPage    string
	Title       string
	Price       string
	Currency    string
	Seller      string
	Images      string
	Description string
}

// RetryPolicy bounds retries of retryable failures (network errors, 429,
// 5xx). Tests use millisecond backoffs to stay quick.
type RetryPolicy struct {
	// MaxAttempts counts the first try; 1 disables retries (default 3).
	MaxAttempts int
	// BaseBackoff is the first backoff, doubled on each retry with full
	// jitter (default 1s); MaxBackoff caps it (default 30s).
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// MaxRetryAfter caps how long a Retry-After header may make us wait
	// before one retry (default 5m); a longer demand fails the request and
	// pauses the marketplace for the demanded time instead.
	MaxRetryAfter time.Duration
}

// BreakerPolicy configures the per-marketplace circuit breaker that stops
// hammering a site that keeps failing.
type BreakerPolicy struct {
	// Failures is how many consecutive failed requests open the breaker
	// (default 5).
	Failures int
	// Cooldown is how long it stays open before one trial request is let
	// through (default 1m). A block page opens it at once.
	Cooldown time.Duration
}

// Options configures one marketplace's crawler (cmd fills it from
// config.Marketplace).
type Options struct {
	// Name is the marketplace name; it is part of every listing ID.
	Name string
	// SearchURL is a template with {query} and an optional {page}.
	SearchURL string
	// AllowedDomains are hostnames (a name also admits its subdomains);
	// pages, redirects and images outside are refused. Default: the
	// SearchURL host.
	AllowedDomains []string
	// RequestsPerSecond and Burst define one token bucket for all requests
	// of this marketplace, images and robots.txt included (default 1, 1).
	RequestsPerSecond float64
	Burst             int
	// Concurrency bounds requests in flight (default 2); MaxPages bounds
	// the search pages walked per query (default 10).
	Concurrency int
	MaxPages    int
	// RespectRobots makes the crawler honour robots.txt; cmd sets it from
	// the config, where it defaults to true.
	RespectRobots bool
	// UserAgent defaults to DefaultUserAgent.
	UserAgent string
	Selectors Selectors
	// Timeout bounds one request including its body (default 30s).
	Timeout time.Duration
	// MaxBodyBytes bounds one decompressed page (default 8 MiB);
	// MaxImageBytes one image (default 10 MiB). MaxRedirects bounds the
	// redirects followed (default 5).
	MaxBodyBytes  int64
	MaxRedirects  int
	MaxImageBytes int64
	// RemovedMarker is text a listing page shows once it was taken down.
	RemovedMarker string
	// AllowPrivate admits loopback and private addresses; cmd sets it only
	// when the marketplace config names such a host.
	AllowPrivate bool
	Retry        RetryPolicy
	Breaker      BreakerPolicy
	// RobotsTTL is how long a fetched robots.txt is trusted (default 24h).
	RobotsTTL time.Duration
	Log       *slog.Logger
	// OnFetch, when set, hears every HTTP exchange on the wire (redirect
	// hops, images and robots.txt included): its status (0 for a network
	// error) and how long it took after the rate limiter let it go.
	OnFetch func(status int, d time.Duration)
	// OnRateLimitWait, when set, hears how long each request waited for
	// the marketplace's token bucket and pauses.
	OnRateLimitWait func(d time.Duration)
}

// SearchResult sums up one Search: the pages walked, the pages that failed
// (the walk goes on past them) and whether the site blocked us.
type SearchResult struct {
	Pages    int
	Failures []listing.Failure
	Blocked  bool
}

// Page is one fetched listing page: what was extracted, the evidence it
// was extracted from, and whether the listing is gone.
type Page struct {
	Listing  listing.Listing
	Snapshot listing.Snapshot
	// Removed is set for 404/410 or when RemovedMarker is on the page, for
	// takedown verification; Listing may then be partial.
	Removed bool
}

// Crawler crawls one marketplace. It is safe for concurrent use; all
// goroutines share its rate limit, concurrency bound, robots cache and
// circuit breaker.
type Crawler struct {
	opts      Options
	log       *slog.Logger
	allowed   []string
	collector *colly.Collector
	limiter   *rate.Limiter
	sem       chan struct{}
	robots    *robotsCache
	breaker   *breaker
	pause     *pauseGate

	// tmplQueryInPath says whether {query} sits in the path of SearchURL
	// and so needs path rather than query escaping.
	tmplQueryInPath bool
}

// New checks opts, applies defaults and returns a ready Crawler.
func New(opts Options) (*Crawler, error) {
	if opts.Name == "" {
		return nil, errors.New("new crawler: empty marketplace name")
	}
	if opts.SearchURL != "" && !strings.Contains(opts.SearchURL, "{query}") {
		return nil, fmt.Errorf("new crawler %s: search url %q has no {query}", opts.Name, opts.SearchURL)
	}
	applyDefaults(&opts)
	allowed := make([]string, 0, len(opts.AllowedDomains))
	for _, d := range opts.AllowedDomains {
		d = strings.ToLower(strings.TrimSpace(d))
		if d != "" {
			allowed = append(allowed, strings.TrimSuffix(d, "."))
		}
	}
	if len(allowed) == 0 && opts.SearchURL != "" {
		u, err := url.Parse(strings.NewReplacer("{query}", "q", "{page}", "1").Replace(opts.SearchURL))
		if err != nil || u.Hostname() == "" {
			return nil, fmt.Errorf("new crawler %s: search url %q has no host", opts.Name, opts.SearchURL)
		}
		allowed = append(allowed, strings.ToLower(u.Hostname()))
	}
	if len(allowed) == 0 {
		return nil, fmt.Errorf("new crawler %s: no allowed domains and no search url", opts.Name)
	}
	c := &Crawler{
		opts:    opts,
		log:     opts.Log,
		allowed: allowed,
		limiter: rate.NewLimiter(rate.Limit(opts.RequestsPerSecond), opts.Burst),
		sem:     make(chan struct{}, opts.Concurrency),
		breaker: newBreaker(opts.Breaker.Failures, opts.Breaker.Cooldown),
		pause:   &pauseGate{},
	}
	if i := strings.Index(opts.SearchURL, "{query}"); i >= 0 {
		c.tmplQueryInPath = !strings.Contains(opts.SearchURL[:i], "?")
	}
	transport := newGuardTransport(c)
	c.robots = newRobotsCache(c, transport)
	c.collector = newCollector(c, transport)
	return c, nil
}

func applyDefaults(o *Options) {
	if o.RequestsPerSecond <= 0 {
		o.RequestsPerSecond = 1
	}
	if o.Burst <= 0 {
		o.Burst = 1
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 2
	}
	if o.MaxPages <= 0 {
		o.MaxPages = 10
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 8 << 20
	}
	if o.MaxImageBytes <= 0 {
		o.MaxImageBytes = 10 << 20
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = 5
	}
	if o.Retry.MaxAttempts <= 0 {
		o.Retry.MaxAttempts = 3
	}
	if o.Retry.BaseBackoff <= 0 {
		o.Retry.BaseBackoff = time.Second
	}
	if o.Retry.MaxBackoff <= 0 {
		o.Retry.MaxBackoff = 30 * time.Second
	}
	if o.Retry.MaxRetryAfter <= 0 {
		o.Retry.MaxRetryAfter = 5 * time.Minute
	}
	if o.Breaker.Failures <= 0 {
		o.Breaker.Failures = 5
	}
	if o.Breaker.Cooldown <= 0 {
		o.Breaker.Cooldown = time.Minute
	}
	if o.RobotsTTL <= 0 {
		o.RobotsTTL = 24 * time.Hour
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// hostAllowed reports whether host is one of the allowed domains or a
// subdomain of one.
func (c *Crawler) hostAllowed(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, d := range c.allowed {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// checkURL refuses URLs that are not http(s) or lie outside the allowed
// domains.
func (c *Crawler) checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%s: scheme %q: %w", u.Redacted(), u.Scheme, ErrOffsite)
	}
	if !c.hostAllowed(u.Hostname()) {
		return fmt.Errorf("%s: %w", u.Redacted(), ErrOffsite)
	}
	return nil
}
