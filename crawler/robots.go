package crawler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// The robots.txt matcher below follows RFC 9309 and, where the RFC leaves
// room, Google's reference parser (github.com/google/robotstxt): longest
// match wins, allow wins ties, "*" and "$" patterns, percent-encoding of
// patterns, merging of groups for the same agent, rules before any group
// ignored. colly's temoto/robotstxt gets several of these wrong and drops a
// whole file after one unparsable line, so the crawler uses this matcher
// and fetches and caches robots.txt itself.

// robotsMaxBytes is how much of a robots.txt is read (RFC 9309 asks for at
// least 500 KiB).
const robotsMaxBytes = 500 << 10

// robotsMaxLine is Google's cap on one line (2083*8 bytes); the rest of a
// longer line is ignored.
const robotsMaxLine = 2083*8 - 1

type robotsKey int

const (
	keyUnknown robotsKey = iota
	keyUserAgent
	keyAllow
	keyDisallow
	keyCrawlDelay
)

// robotsLine is one recognised line of a robots.txt.
type robotsLine struct {
	key   robotsKey
	value string
	line  int
}

// robotsRules is a parsed robots.txt, or the blanket answer for a missing
// or unreachable one.
type robotsRules struct {
	lines       []robotsLine
	allowAll    bool
	disallowAll bool
}

// parseRobots splits a robots.txt into recognised lines, as Google's
// parser does: a UTF-8 BOM skipped, LF, CR and CRLF line ends, comments
// cut, "key: value" (or "key value" when the colon is missing), allow and
// disallow patterns percent-encoded.
func parseRobots(body []byte) *robotsRules {
	if len(body) > robotsMaxBytes {
		body = body[:robotsMaxBytes]
	}
	body = bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF"))
	r := &robotsRules{}
	lineNum := 0
	emit := func(line []byte) {
		lineNum++
		if len(line) > robotsMaxLine {
			line = line[:robotsMaxLine]
		}
		if k, v, ok := robotsKeyValue(string(line)); ok {
			r.lines = append(r.lines, robotsLine{key: k, value: v, line: lineNum})
		}
	}
	start := 0
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\n' && c != '\r' {
			continue
		}
		emit(body[start:i])
		if c == '\r' && i+1 < len(body) && body[i+1] == '\n' {
			i++
		}
		start = i + 1
	}
	emit(body[start:])
	return r
}

// robotsKeyValue parses one line.
func robotsKeyValue(line string) (robotsKey, string, bool) {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return 0, "", false
	}
	sep := strings.IndexByte(line, ':')
	if sep < 0 {
		// Google accepts white space for a forgotten colon when the line
		// has exactly two words.
		sep = strings.IndexAny(line, " \t")
		if sep < 0 {
			return 0, "", false
		}
		if strings.ContainsAny(strings.TrimLeft(line[sep:], " \t"), " \t") {
			return 0, "", false
		}
	}
	key := strings.TrimSpace(line[:sep])
	if key == "" {
		return 0, "", false
	}
	value := strings.TrimSpace(line[sep+1:])
	k := robotsKeyOf(key)
	switch k {
	case keyAllow, keyDisallow:
		value = escapePattern(value)
	case keyUnknown:
		return 0, "", false
	}
	return k, value, true
}

func robotsKeyOf(key string) robotsKey {
	low := strings.ToLower(key)
	has := func(p ...string) bool {
		for _, s := range p {
			if strings.HasPrefix(low, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("user-agent", "useragent", "user agent"):
		return keyUserAgent
	case has("allow"):
		return keyAllow
	case has("disallow", "dissallow", "dissalow", "disalow", "diasllow", "disallaw"):
		return keyDisallow
	case has("crawl-delay", "crawldelay", "crawl delay"):
		return keyCrawlDelay
	}
	return keyUnknown
}

// escapePattern percent-encodes non-ASCII bytes and upper-cases existing
// escapes, so that patterns compare with encoded URL paths.
func escapePattern(p string) string {
	need := false
	for i := 0; i < len(p); i++ {
		if p[i] >= 0x80 || p[i] == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) && (isLowerHex(p[i+1]) || isLowerHex(p[i+2])) {
			need = true
			break
		}
	}
	if !need {
		return p
	}
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]):
			b.WriteByte('%')
			b.WriteByte(upperHex(p[i+1]))
			b.WriteByte(upperHex(p[i+2]))
			i += 2
		case c >= 0x80:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool      { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
func isLowerHex(c byte) bool { return c >= 'a' && c <= 'f' }
func upperHex(c byte) byte {
	if isLowerHex(c) {
		return c - 'a' + 'A'
	}
	return c
}

// productToken is the part of a user agent robots.txt groups name:
// "patrol/dev (+https://…)" becomes "patrol".
func productToken(ua string) string {
	for i := 0; i < len(ua); i++ {
		c := ua[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return ua[:i]
		}
	}
	return ua
}

// validAgent reports whether agent is a product token robots.txt can name.
func validAgent(agent string) bool {
	return agent != "" && productToken(agent) == agent
}

// matchPriority is the length of pattern when it matches path, else -1.
type matchPriority struct{ priority, line int }

// allowed reports whether agent (a product token, see productToken) may
// fetch the path, params and query of a URL (see robotsPath).
func (r *robotsRules) allowed(agent, path string) bool {
	if r.allowAll {
		return true
	}
	if r.disallowAll {
		return false
	}
	none := matchPriority{-1, 0}
	allowG, allowS, disG, disS := none, none, none, none
	var seenGlobal, seenSpecific, everSpecific, seenSep bool
	var handleAllow func(v string, line int)
	handleAllow = func(v string, line int) {
		if !seenGlobal && !seenSpecific {
			return
		}
		seenSep = true
		if p := patternPriority(path, v); p >= 0 {
			if seenSpecific {
				if allowS.priority < p {
					allowS = matchPriority{p, line}
				}
			} else if allowG.priority < p {
				allowG = matchPriority{p, line}
			}
			return
		}
		// Google: "index.htm(l)" means the directory.
		if i := strings.LastIndexByte(v, '/'); i >= 0 && strings.HasPrefix(v[i:], "/index.htm") {
			handleAllow(v[:i+1]+"$", line)
		}
	}
	for _, l := range r.lines {
		switch l.key {
		case keyUserAgent:
			if seenSep {
				seenGlobal, seenSpecific, seenSep = false, false, false
			}
			ua := l.value
			if len(ua) >= 1 && ua[0] == '*' && (len(ua) == 1 || ua[1] == ' ' || ua[1] == '\t') {
				seenGlobal = true
			} else if agent != "" && strings.EqualFold(productToken(ua), agent) {
				seenSpecific, everSpecific = true, true
			}
		case keyAllow:
			handleAllow(l.value, l.line)
		case keyDisallow:
			if !seenGlobal && !seenSpecific {
				continue
			}
			seenSep = true
			if p := patternPriority(path, l.value); p >= 0 {
				if seenSpecific {
					if disS.priority < p {
						disS = matchPriority{p, l.line}
					}
				} else if disG.priority < p {
					disG = matchPriority{p, l.line}
				}
			}
		}
	}
	if allowS.priority > 0 || disS.priority > 0 {
		return disS.priority <= allowS.priority
	}
	if everSpecific {
		return true
	}
	if allowG.priority > 0 || disG.priority > 0 {
		return disG.priority <= allowG.priority
	}
	return true
}

// crawlDelay is the Crawl-delay of agent's group, else of the "*" group.
func (r *robotsRules) crawlDelay(agent string) time.Duration {
	agent = productToken(agent)
	var global, specific time.Duration
	var inGlobal, inSpecific, seenSep bool
	for _, l := range r.lines {
		switch l.key {
		case keyUserAgent:
			if seenSep {
				inGlobal, inSpecific, seenSep = false, false, false
			}
			ua := l.value
			if len(ua) >= 1 && ua[0] == '*' && (len(ua) == 1 || ua[1] == ' ' || ua[1] == '\t') {
				inGlobal = true
			} else if agent != "" && strings.EqualFold(productToken(ua), agent) {
				inSpecific = true
			}
		case keyAllow, keyDisallow:
			seenSep = true
		case keyCrawlDelay:
			f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(l.value), "s"), 64)
			if err != nil || f <= 0 {
				continue
			}
			d := time.Duration(min(f, 3600) * float64(time.Second))
			if inSpecific && d > specific {
				specific = d
			} else if inGlobal && !inSpecific && d > global {
				global = d
			}
		}
	}
	if specific > 0 {
		return specific
	}
	return global
}

// patternPriority returns len(pattern) when pattern matches path from its
// start ("*" any run, "$" at the end anchors), else -1.
func patternPriority(path, pattern string) int {
	if robotsMatch(path, pattern) {
		return len(pattern)
	}
	return -1
}

// robotsMatch is Google's position-set matcher: linear in
// len(path)*len(pattern) without backtracking.
func robotsMatch(path, pattern string) bool {
	pos := make([]int, 1, len(path)+1)
	pos[0] = 0
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c == '$' && i+1 == len(pattern) {
			return pos[len(pos)-1] == len(path)
		}
		if c == '*' {
			first := pos[0]
			pos = pos[:0]
			for p := first; p <= len(path); p++ {
				pos = append(pos, p)
			}
			continue
		}
		n := 0
		for _, p := range pos {
			if p < len(path) && path[p] == c {
				pos[n] = p + 1
				n++
			}
		}
		pos = pos[:n]
		if n == 0 {
			return false
		}
	}
	return true
}

// robotsPath returns the path, params and query of a URL as robots.txt
// rules see them (Google's GetPathParamsQuery): "/" when empty, fragment
// dropped.
func robotsPath(u string) string {
	start := 0
	if len(u) >= 2 && u[0] == '/' && u[1] == '/' {
		start = 2
	}
	early := indexAnyFrom(u, "/?;", start)
	protoEnd := strings.Index(u[start:], "://")
	if protoEnd >= 0 {
		protoEnd += start
	}
	if early >= 0 && (protoEnd < 0 || early < protoEnd) {
		protoEnd = -1
	}
	if protoEnd < 0 {
		protoEnd = start
	} else {
		protoEnd += 3
	}
	pathStart := indexAnyFrom(u, "/?;", protoEnd)
	if pathStart < 0 {
		return "/"
	}
	hash := strings.IndexByte(u[start:], '#')
	if hash >= 0 {
		hash += start
	}
	if hash >= 0 && hash < pathStart {
		return "/"
	}
	end := len(u)
	if hash >= 0 {
		end = hash
	}
	if u[pathStart] != '/' {
		return "/" + u[pathStart:end]
	}
	return u[pathStart:end]
}

func indexAnyFrom(s, chars string, from int) int {
	if from > len(s) {
		return -1
	}
	i := strings.IndexAny(s[from:], chars)
	if i < 0 {
		return -1
	}
	return i + from
}

// robotsCache fetches robots.txt once per origin and keeps it for the
// TTL; concurrent callers for the same origin wait for one fetch.
type robotsCache struct {
	c      *Crawler
	client *http.Client

	mu      sync.Mutex
	entries map[string]*robotsEntry
}

type robotsEntry struct {
	ready   chan struct{}
	rules   *robotsRules
	expires time.Time
}

func newRobotsCache(c *Crawler, t http.RoundTripper) *robotsCache {
	client := &http.Client{
		Transport: t,
		Timeout:   c.opts.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("robots.txt: more than 5 redirects")
			}
			return c.checkURL(req.URL)
		},
	}
	return &robotsCache{c: c, client: client, entries: map[string]*robotsEntry{}}
}

// check returns ErrDisallowed when robots.txt of u's origin forbids u.
func (rc *robotsCache) check(ctx context.Context, u *url.URL) error {
	if u.Path == "/robots.txt" {
		return nil
	}
	rules, err := rc.rules(ctx, u)
	if err != nil {
		return err
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	if !rules.allowed(productToken(rc.c.opts.UserAgent), path) {
		return fmt.Errorf("%s: %w", u.Redacted(), ErrDisallowed)
	}
	return nil
}

func (rc *robotsCache) rules(ctx context.Context, u *url.URL) (*robotsRules, error) {
	origin := strings.ToLower(u.Scheme + "://" + u.Host)
	for {
		rc.mu.Lock()
		e := rc.entries[origin]
		if e != nil {
			select {
			case <-e.ready:
				if time.Now().After(e.expires) {
					e = nil
				}
			default:
			}
		}
		if e == nil {
			e = &robotsEntry{ready: make(chan struct{})}
			rc.entries[origin] = e
			rc.mu.Unlock()
			rules, ttl := rc.fetch(ctx, origin)
			e.rules, e.expires = rules, time.Now().Add(ttl)
			close(e.ready)
			if d := rules.crawlDelay(rc.c.opts.UserAgent); d > 0 {
				rc.c.applyCrawlDelay(d)
			}
			if ctx.Err() != nil {
				// A cancelled fetch must not be remembered as unreachable.
				rc.mu.Lock()
				if rc.entries[origin] == e {
					delete(rc.entries, origin)
				}
				rc.mu.Unlock()
				return nil, ctx.Err()
			}
			return rules, nil
		}
		rc.mu.Unlock()
		select {
		case <-e.ready:
			return e.rules, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// fetch gets origin's robots.txt: 2xx is parsed, 4xx allows everything,
// 5xx, 429 and network errors disallow everything (and are kept for a
// shorter time, so a site that recovers is crawled again).
func (rc *robotsCache) fetch(ctx context.Context, origin string) (*robotsRules, time.Duration) {
	ttl := rc.c.opts.RobotsTTL
	errTTL := min(ttl, max(ttl/24, time.Second))
	ctx = context.WithValue(ctx, skipRobotsKey, true)
	// The page request's body holder is not for robots.txt.
	ctx = context.WithValue(ctx, bodyHolderKey, (*bodyHolder)(nil))
	ctx = context.WithValue(ctx, bodyLimitKey, int64(4*robotsMaxBytes))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, origin+"/robots.txt", nil)
	if err != nil {
		return &robotsRules{disallowAll: true}, errTTL
	}
	req.Header.Set("User-Agent", rc.c.opts.UserAgent)
	resp, err := rc.client.Do(req)
	if err != nil {
		rc.c.log.Warn("robots.txt unreachable, disallowing all", "origin", origin, "err", err)
		return &robotsRules{disallowAll: true}, errTTL
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		body, err := io.ReadAll(io.LimitReader(resp.Body, robotsMaxBytes))
		if err != nil && len(body) == 0 {
			return &robotsRules{disallowAll: true}, errTTL
		}
		return parseRobots(body), ttl
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return &robotsRules{disallowAll: true}, errTTL
	case resp.StatusCode >= 400:
		return &robotsRules{allowAll: true}, ttl
	}
	// 1xx/3xx left over (redirects exhausted): treat as unavailable.
	return &robotsRules{allowAll: true}, ttl
}

// applyCrawlDelay makes robots.txt's Crawl-delay a floor on the interval
// between requests of the marketplace.
func (c *Crawler) applyCrawlDelay(d time.Duration) {
	every := rate.Every(d)
	if every < c.limiter.Limit() {
		c.limiter.SetLimit(every)
		c.limiter.SetBurst(1)
		c.log.Info("robots.txt crawl-delay slows the marketplace", "marketplace", c.opts.Name, "crawl_delay", d)
	}
}
