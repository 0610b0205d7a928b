package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/store"
)

// eventAttr finds an element carrying an on* event handler attribute.
var eventAttr = regexp.MustCompile(`(?i)<[a-z][^>]*\son[a-z]+\s*=`)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestUnauthenticatedRefused(t *testing.T) {
	e := newEnv(t, false)
	imgSHA := sha(e.imgPNG)
	tests := []struct {
		method, path string
		want         int
	}{
		{"GET", "/queue", http.StatusSeeOther},
		{"GET", "/listing/high01", http.StatusSeeOther},
		{"GET", "/seller?marketplace=demo&name=Cheap+Kicks", http.StatusSeeOther},
		{"GET", "/search?q=acme", http.StatusSeeOther},
		{"GET", "/dashboard", http.StatusSeeOther},
		{"GET", "/notices", http.StatusSeeOther},
		{"GET", "/sweeps", http.StatusSeeOther},
		{"GET", "/audit", http.StatusSeeOther},
		{"GET", "/admin/users", http.StatusSeeOther},
		{"GET", "/img/" + imgSHA, http.StatusSeeOther},
		{"GET", "/listing/hostile01/snapshot/" + imgSHA, http.StatusSeeOther},
		{"POST", "/verdicts", http.StatusUnauthorized},
		{"POST", "/logout", http.StatusUnauthorized},
		{"POST", "/notices/n1/approve", http.StatusUnauthorized},
		{"POST", "/admin/users", http.StatusUnauthorized},
		{"GET", "/api/v1/queue", http.StatusUnauthorized},
		{"GET", "/api/v1/listings/high01", http.StatusUnauthorized},
		{"POST", "/api/v1/verdicts", http.StatusUnauthorized},
		{"GET", "/api/v1/search", http.StatusUnauthorized},
		{"GET", "/api/v1/sweeps", http.StatusUnauthorized},
		{"GET", "/api/v1/notices", http.StatusUnauthorized},
		{"GET", "/api/v1/stats", http.StatusUnauthorized},
		{"GET", "/api/v1/audit", http.StatusUnauthorized},
		{"GET", "/api/v1/nope", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			w := e.do(tt.method, tt.path, "", nil)
			if w.Code != tt.want {
				t.Fatalf("%s %s = %d, want %d", tt.method, tt.path, w.Code, tt.want)
			}
			if tt.want == http.StatusSeeOther && !strings.HasPrefix(w.Header().Get("Location"), "/login?next=") {
				t.Errorf("%s %s redirects to %q, want the login form", tt.method, tt.path, w.Header().Get("Location"))
			}
			if strings.Contains(w.Body.String(), "Trailblazer") || strings.Contains(w.Body.String(), "Shady") {
				t.Errorf("%s %s leaked listing data to an anonymous client", tt.method, tt.path)
			}
		})
	}
	// A wrong bearer token is refused too, not treated as anonymous.
	w := e.do("GET", "/api/v1/queue", "", map[string]string{"Authorization": "Bearer pat_nope"})
	if w.Code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/queue with a bad token = %d, want 401", w.Code)
	}
	// So is an expired session.
	sess, tok, err := e.st.CreateSession(context.Background(), "ana", -time.Minute)
	if err != nil || sess.ID == "" {
		t.Fatal(err)
	}
	w = e.do("GET", "/queue", "", nil, &http.Cookie{Name: e.srv.sessionCookieName(), Value: tok})
	if w.Code != http.StatusSeeOther {
		t.Errorf("GET /queue with an expired session = %d, want 303", w.Code)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, false)
	form := "ids=high01&status=confirmed&back=%2Fqueue"
	formCT := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	tests := []struct {
		name   string
		body   string
		hdr    map[string]string
		csrf   string // "good" puts the session's token in the form
		want   int
		status listing.Status
	}{
		{"no token", form, formCT, "", http.StatusForbidden, listing.StatusNew},
		{"wrong token", form + "&csrf=forged", formCT, "", http.StatusForbidden, listing.StatusNew},
		{"cross-site even with token", form, map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "cross-site"}, "good", http.StatusForbidden, listing.StatusNew},
		{"foreign origin even with token", form, map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"}, "good", http.StatusForbidden, listing.StatusNew},
		{"good token", form, formCT, "good", http.StatusSeeOther, listing.StatusConfirmed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, csrf := e.session("ana")
			body := tt.body
			if tt.csrf == "good" {
				body += "&csrf=" + url.QueryEscape(csrf)
			}
			w := e.do("POST", "/verdicts", body, tt.hdr, c)
			if w.Code != tt.want {
				t.Fatalf("POST /verdicts (%s) = %d, want %d: %s", tt.name, w.Code, tt.want, w.Body)
			}
			if got := e.status("high01"); got != tt.status {
				t.Errorf("after POST /verdicts (%s) status = %s, want %s", tt.name, got, tt.status)
			}
		})
	}
	// The JSON API with a session cookie needs the header token; with a
	// bearer token it needs none.
	c, csrf := e.session("ana")
	body := `{"ids":["low01"],"status":"dismissed"}`
	jsonCT := map[string]string{"Content-Type": "application/json"}
	if w := e.do("POST", "/api/v1/verdicts", body, jsonCT, c); w.Code != http.StatusForbidden {
		t.Errorf("POST /api/v1/verdicts with cookie, no token = %d, want 403", w.Code)
	}
	if w := e.do("POST", "/api/v1/verdicts", body, map[string]string{"Content-Type": "application/json", "X-CSRF-Token": csrf}, c); w.Code != http.StatusOK {
		t.Errorf("POST /api/v1/verdicts with cookie and token = %d, want 200: %s", w.Code, w.Body)
	}
	tok := e.token("ana")
	body = `{"ids":["low01"],"status":"new"}`
	if w := e.do("POST", "/api/v1/verdicts", body, map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + tok}); w.Code != http.StatusOK {
		t.Errorf("POST /api/v1/verdicts with bearer = %d, want 200: %s", w.Code, w.Body)
	}
	// A trusted origin (a proxy in front of the UI) may post.
	o := e.srv.opts
	o.TrustedOrigins = []string{"https://patrol.example.com"}
	proxied, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	pc, pcsrf := e.session("ana")
	r := httptest.NewRequest("POST", "/verdicts", strings.NewReader("ids=low01&status=dismissed&csrf="+url.QueryEscape(pcsrf)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "https://patrol.example.com")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.AddCookie(pc)
	pw := httptest.NewRecorder()
	proxied.Handler().ServeHTTP(pw, r)
	if pw.Code != http.StatusSeeOther {
		t.Errorf("POST from a trusted origin = %d, want 303", pw.Code)
	}
	// Logging out is state-changing too.
	if w := e.do("POST", "/logout", "", formCT, c); w.Code != http.StatusForbidden {
		t.Errorf("POST /logout without token = %d, want 403", w.Code)
	}
}

func TestHostileContentInert(t *testing.T) {
	e := newEnv(t, false)
	pages := []string{
		"/queue",
		"/listing/hostile01",
		"/seller?marketplace=demo&name=" + url.QueryEscape("Shady <b>Shop</b>"),
		"/search?q=script",
		"/search?q=",
	}
	for _, p := range pages {
		t.Run(p, func(t *testing.T) {
			w := e.get("ana", p)
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s = %d, want 200", p, w.Code)
			}
			body := w.Body.String()
			for _, bad := range []string{"<script>alert", "<img src=x", "<b>Shop</b>"} {
				if strings.Contains(body, bad) {
					t.Errorf("GET %s contains %q unescaped", p, bad)
				}
			}
			if m := eventAttr.FindString(body); m != "" {
				t.Errorf("GET %s has an element with an event handler: %s", p, m)
			}
			if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("GET %s does not show the hostile title escaped", p)
			}
			if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("GET %s CSP = %q", p, csp)
			}
			// The only scripts are the UI's own.
			if n := strings.Count(body, "<script"); n != 1 || !strings.Contains(body, `<script src="/static/app.js" defer></script>`) {
				t.Errorf("GET %s has %d script elements", p, n)
			}
		})
	}
	// The JSON API returns the title as data, and as JSON, not HTML.
	w := e.get("ana", "/api/v1/listings/hostile01")
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("API Content-Type = %q", ct)
	}
	var l listing.Listing
	if err := json.Unmarshal(w.Body.Bytes(), &l); err != nil || l.Title != hostileTitle {
		t.Errorf("API title = %q, %v", l.Title, err)
	}
}

func TestSnapshotSanitised(t *testing.T) {
	e := newEnv(t, false)
	l, err := e.st.Listing(context.Background(), "hostile01")
	if err != nil {
		t.Fatal(err)
	}
	base := "/listing/hostile01/snapshot/" + l.SnapshotSHA256
	tests := []struct {
		query, ctype string
		want         []string
		never        []string
	}{
		{"", "text/html", []string{"<h1>Acme Trailblazer 3</h1>", "Mirror grade"}, []string{"<script", "__pwned", "onload", "onerror", "<img", "javascript:", "<iframe", "<style", "market.example"}},
		{"?as=text", "text/plain", []string{"Acme Trailblazer 3", "Mirror grade"}, []string{"<script", "__pwned", "<h1>"}},
		{"?as=raw", "application/octet-stream", []string{"<script>window.__pwned=1</script>"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			w := e.get("ana", base+tt.query)
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s = %d", base+tt.query, w.Code)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, tt.ctype) {
				t.Errorf("Content-Type = %q, want %s", ct, tt.ctype)
			}
			csp := w.Header().Get("Content-Security-Policy")
			if !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("snapshot CSP = %q, want sandbox and default-src 'none'", csp)
			}
			body := w.Body.String()
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("snapshot%s lacks %q", tt.query, s)
				}
			}
			for _, s := range tt.never {
				if strings.Contains(body, s) {
					t.Errorf("snapshot%s contains %q:\n%s", tt.query, s, body)
				}
			}
		})
	}
	if w := e.get("ana", "/listing/hostile01/snapshot/nothex"); w.Code != http.StatusBadRequest {
		t.Errorf("bad sha = %d, want 400", w.Code)
	}
	if w := e.get("ana", "/listing/hostile01/snapshot/"+strings.Repeat("0", 64)); w.Code != http.StatusNotFound {
		t.Errorf("unknown sha = %d, want 404", w.Code)
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t, true)
	// The form sets the pre-session CSRF cookie.
	w := e.do("GET", "/login?next=%2Flisting%2Fhigh01", "", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /login = %d", w.Code)
	}
	var pre *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == "__Host-patrol_login" {
			pre = c
		}
	}
	if pre == nil || !pre.Secure || !pre.HttpOnly || pre.Path != "/" {
		t.Fatalf("login cookie = %+v", pre)
	}
	if !strings.Contains(w.Body.String(), `value="`+pre.Value+`"`) {
		t.Fatalf("login form does not carry the CSRF token")
	}
	old, _ := e.session("ana")
	post := func(name, pass, csrf string, cookies ...*http.Cookie) *http.Response {
		v := url.Values{"name": {name}, "password": {pass}, "csrf": {csrf}, "next": {"/listing/high01"}}
		r := e.do("POST", "/login", v.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, cookies...)
		return r.Result()
	}
	tests := []struct {
		name, user, pass, csrf string
		cookie                 bool
		want                   int
	}{
		{"no csrf cookie", "ana", testPassword, pre.Value, false, http.StatusForbidden},
		{"csrf mismatch", "ana", testPassword, "forged", true, http.StatusForbidden},
		{"wrong password", "ana", "wrong password", pre.Value, true, http.StatusUnauthorized},
		{"unknown user", "zed", testPassword, pre.Value, true, http.StatusUnauthorized},
		{"right", "ana", testPassword, pre.Value, true, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := []*http.Cookie{old}
			if tt.cookie {
				cs = append(cs, &http.Cookie{Name: pre.Name, Value: pre.Value})
			}
			res := post(tt.user, tt.pass, tt.csrf, cs...)
			if res.StatusCode != tt.want {
				t.Fatalf("POST /login (%s) = %d, want %d", tt.name, res.StatusCode, tt.want)
			}
			if tt.want != http.StatusSeeOther {
				return
			}
			if loc := res.Header.Get("Location"); loc != "/listing/high01" {
				t.Errorf("login redirects to %q", loc)
			}
			var sess *http.Cookie
			for _, c := range res.Cookies() {
				if c.Name == "__Host-patrol_session" {
					sess = c
				}
			}
			if sess == nil || !sess.Secure || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" || sess.Domain != "" {
				t.Fatalf("session cookie = %+v", sess)
			}
			if sess.Value == old.Value {
				t.Error("login reused the old session")
			}
			if _, _, err := e.st.Session(context.Background(), old.Value); err == nil {
				t.Error("the session the browser had before login is still valid")
			}
			if w := e.do("GET", "/queue", "", nil, sess); w.Code != http.StatusOK {
				t.Errorf("GET /queue with the new session = %d", w.Code)
			}
			es, _ := e.st.RecentAudit(context.Background(), store.AuditQuery{Action: "login"})
			if len(es) != 1 || es[0].Actor != "ana" {
				t.Errorf("audit login = %+v", es)
			}
		})
	}
	// An open redirect through next is not possible.
	for _, next := range []string{"//evil.example", "https://evil.example", "/\\evil.example", ""} {
		if got := localPath(next); got != "/queue" {
			t.Errorf("localPath(%q) = %q, want /queue", next, got)
		}
	}
}

func TestLoginRateLimited(t *testing.T) {
	e := newEnv(t, false)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	e.srv.now = func() time.Time { return now }
	try := func(user, pass string) int {
		v := url.Values{"name": {user}, "password": {pass}, "csrf": {"tok"}}
		r := e.do("POST", "/login", v.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			&http.Cookie{Name: e.srv.loginCookieName(), Value: "tok"})
		return r.Code
	}
	for i := 0; i < 5; i++ {
		if got := try("ana", "wrong password"); got != http.StatusUnauthorized {
			t.Fatalf("failed login %d = %d, want 401", i, got)
		}
	}
	if got := try("ana", testPassword); got != http.StatusTooManyRequests {
		t.Errorf("login after 5 failures = %d, want 429", got)
	}
	if got := try("apu", testPassword); got != http.StatusSeeOther {
		t.Errorf("another account from the same address = %d, want 303", got)
	}
	now = now.Add(16 * time.Minute)
	if got := try("ana", testPassword); got != http.StatusSeeOther {
		t.Errorf("login after the window = %d, want 303", got)
	}
	// Names sprayed from one address (httptest's) lock that address out.
	for i := 0; i < 20; i++ {
		try(fmt.Sprintf("nobody%d", i), "guess")
	}
	if got := try("adm", testPassword); got != http.StatusTooManyRequests {
		t.Errorf("login from a sprayed address = %d, want 429", got)
	}
	// Per address: many names sprayed from one address are stopped too.
	l := newLoginLimits()
	for i := 0; i < l.perAddr; i++ {
		a, ok, _ := l.begin("user"+string(rune('a'+i)), "10.0.0.1", "", now)
		if !ok {
			t.Fatalf("begin(user %d, 10.0.0.1) refused", i)
		}
		a.done(true)
	}
	if _, ok, wait := l.begin("fresh", "10.0.0.1", "", now); ok || wait <= 0 {
		t.Errorf("begin(fresh name, sprayed address) = %v, %v, want refused", ok, wait)
	}
	if _, ok, _ := l.begin("fresh", "10.0.0.2", "", now); !ok {
		t.Error("begin(fresh name, other address) refused")
	}
}

// TestLoginBackoff: failures on one account from ever new addresses get 5
// free tries, then a wait that doubles from 30 s up to 15 min after each
// failure; the account is never locked for longer, and an hour without
// failures forgets them.
func TestLoginBackoff(t *testing.T) {
	l := newLoginLimits()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	addr := 0
	try := func() (bool, time.Duration) {
		addr++
		a, ok, wait := l.begin("ana", fmt.Sprintf("10.1.%d.%d", addr/256, addr%256), "", now)
		if ok {
			a.done(true)
		}
		return ok, wait
	}
	for i := 0; i < 5; i++ {
		if ok, _ := try(); !ok {
			t.Fatalf("failure %d refused, want 5 free tries", i+1)
		}
	}
	for _, want := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute, 15 * time.Minute} {
		if ok, wait := try(); ok || wait != want {
			t.Fatalf("try right after a failure = %v, wait %v; want refused for %v", ok, wait, want)
		}
		now = now.Add(want - time.Second)
		if ok, _ := try(); ok {
			t.Fatalf("try 1s before the %v wait ends was let through", want)
		}
		now = now.Add(time.Second)
		if ok, _ := try(); !ok {
			t.Fatalf("try once the %v wait ended was refused", want)
		}
	}
	// An hour after the last failure the account starts afresh.
	now = now.Add(time.Hour)
	for i := 0; i < 5; i++ {
		if ok, _ := try(); !ok {
			t.Fatalf("an hour later failure %d refused, want 5 free tries again", i+1)
		}
	}

	// Parallel guesses cannot all pass the check before their failures are
	// recorded: each counts from the moment it is let through.
	l = newLoginLimits()
	passed := 0
	var attempts []loginAttempt
	for i := 0; i < 10; i++ {
		if a, ok, _ := l.begin("apu", fmt.Sprintf("10.2.0.%d", i), "", now); ok {
			passed++
			attempts = append(attempts, a)
		}
	}
	if passed != 5 {
		t.Errorf("10 concurrent attempts: %d let through, want 5", passed)
	}
	// A success gives its own attempt back, but does not forgive the
	// others (they may be a guesser's).
	attempts[0].done(false)
	if _, ok, _ := l.begin("apu", "10.2.1.1", "", now); !ok {
		t.Error("after one of 5 attempts succeeded, a 5th was refused")
	}
	if _, ok, _ := l.begin("apu", "10.2.1.2", "", now); ok {
		t.Error("after one of 5 attempts succeeded, a 6th was let through")
	}
}

// TestLoginKnownDevice: while someone guesses at an account from rotating
// addresses, or fills the limit of the one address a reverse proxy gives
// everyone, the real user's browser, which has logged in before, still gets
// in; a browser without that cookie, or with a forged one, waits.
func TestLoginKnownDevice(t *testing.T) {
	e := newEnv(t, false)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	e.srv.now = func() time.Time { return now }
	try := func(addr, user, pass string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
		v := url.Values{"name": {user}, "password": {pass}, "csrf": {"tok"}}
		r := httptest.NewRequest("POST", "/login", strings.NewReader(v.Encode()))
		r.RemoteAddr = addr + ":40000"
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(&http.Cookie{Name: e.srv.loginCookieName(), Value: "tok"})
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(w, r)
		return w
	}
	deviceOf := func(w *httptest.ResponseRecorder) *http.Cookie {
		for _, c := range w.Result().Cookies() {
			if c.Name == e.srv.deviceCookieName() && c.Value != "" && c.MaxAge > 0 && c.HttpOnly {
				return &http.Cookie{Name: c.Name, Value: c.Value}
			}
		}
		t.Fatalf("login set no device cookie: %v", w.Result().Cookies())
		return nil
	}
	w := try("192.0.2.10", "ana", testPassword)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("first login = %d", w.Code)
	}
	anaDevice := deviceOf(w)
	apuDevice := deviceOf(try("192.0.2.11", "apu", testPassword))

	// A guesser on rotating addresses.
	for i := 0; i < 5; i++ {
		if w := try(fmt.Sprintf("198.51.100.%d", i), "ana", "guess"); w.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d = %d, want 401", i, w.Code)
		}
	}
	if w := try("198.51.100.99", "ana", "guess"); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "31" {
		t.Errorf("6th guess from a new address = %d, Retry-After %q; want 429 after 31 s", w.Code, w.Header().Get("Retry-After"))
	}
	tampered := &http.Cookie{Name: anaDevice.Name, Value: "x" + anaDevice.Value}
	tests := []struct {
		name   string
		cookie *http.Cookie
		want   int
	}{
		{"no device cookie", nil, http.StatusTooManyRequests},
		{"another account's device", apuDevice, http.StatusTooManyRequests},
		{"forged device cookie", tampered, http.StatusTooManyRequests},
		{"known device", anaDevice, http.StatusSeeOther},
	}
	for _, tt := range tests {
		var cs []*http.Cookie
		if tt.cookie != nil {
			cs = append(cs, tt.cookie)
		}
		if w := try("192.0.2.10", "ana", testPassword, cs...); w.Code != tt.want {
			t.Errorf("real user during the guessing, %s = %d, want %d", tt.name, w.Code, tt.want)
		}
	}

	// Behind a reverse proxy every client has the proxy's address: a spray
	// of names fills its limit for everyone but known devices.
	for i := 0; i < 20; i++ {
		try("10.9.9.9", fmt.Sprintf("nobody%d", i), "guess")
	}
	if w := try("10.9.9.9", "adm", testPassword); w.Code != http.StatusTooManyRequests {
		t.Errorf("login through the sprayed proxy address = %d, want 429", w.Code)
	}
	if w := try("10.9.9.9", "ana", testPassword, anaDevice); w.Code != http.StatusSeeOther {
		t.Errorf("known device through the sprayed proxy address = %d, want 303", w.Code)
	}

	// A known device has its own allowance: it can be slowed, not used to
	// guess faster than anyone else.
	for i := 0; i < 5; i++ {
		try("192.0.2.10", "ana", "typo", anaDevice)
	}
	if w := try("192.0.2.10", "ana", testPassword, anaDevice); w.Code != http.StatusTooManyRequests {
		t.Errorf("known device after 5 failures of its own = %d, want 429", w.Code)
	}

	// However long the guessing went on, the wait is bounded: 15 minutes
	// after the last failure the account is open to any browser.
	l := e.srv.limits
	for i := 0; i < 20; i++ {
		now = now.Add(l.maxDelay)
		try(fmt.Sprintf("203.0.113.%d", i), "ana", "guess")
	}
	if w := try("203.0.113.200", "ana", testPassword); w.Code != http.StatusTooManyRequests {
		t.Errorf("right after a guess at the cap = %d, want 429", w.Code)
	}
	now = now.Add(l.maxDelay)
	if w := try("203.0.113.201", "ana", testPassword); w.Code != http.StatusSeeOther {
		t.Errorf("15 min after the last guess = %d, want 303", w.Code)
	}
	if _, ok := l.device(anaDevice.Value, "ana", now.Add(l.deviceTTL)); ok {
		t.Error("device cookie still valid after its lifetime")
	}
}

func TestQueue(t *testing.T) {
	for _, mode := range []string{"view", "search"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, false)
			if mode == "search" {
				e.withoutView()
			}
			checkQueue(t, e)
		})
	}
}

func checkQueue(t *testing.T, e *testEnv) {
	tests := []struct {
		query string
		want  []string // IDs in order
	}{
		{"", []string{"hostile01", "high01", "other01", "low01"}},
		{"brand=Globex", []string{"other01"}},
		{"marketplace=demo&min_score=0.8", []string{"hostile01", "high01"}},
		{"max_score=0.7", []string{"other01", "low01"}},
		{"seller=Cheap+Kicks", []string{"low01"}},
		{"status=confirmed", nil},
		{"status=any&per_page=2", []string{"hostile01", "high01"}},
		{"per_page=2&page=2", []string{"other01", "low01"}},
	}
	tok := e.token("ana")
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			w := e.do("GET", "/api/v1/queue?"+tt.query, "", map[string]string{"Authorization": "Bearer " + tok})
			if w.Code != http.StatusOK {
				t.Fatalf("GET /api/v1/queue?%s = %d: %s", tt.query, w.Code, w.Body)
			}
			var p struct {
				Total uint64            `json:"total"`
				Items []listing.Listing `json:"items"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range p.Items {
				got = append(got, string(l.ID))
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("queue?%s = %v, want %v", tt.query, got, tt.want)
			}
			// The HTML page shows the same rows in the same order.
			hw := e.get("ana", "/queue?"+tt.query)
			if hw.Code != http.StatusOK {
				t.Fatalf("GET /queue?%s = %d", tt.query, hw.Code)
			}
			body := hw.Body.String()
			last := -1
			for _, id := range tt.want {
				i := strings.Index(body, `data-id="`+id+`"`)
				if i < 0 || i < last {
					t.Errorf("/queue?%s: row %s missing or out of order", tt.query, id)
				}
				last = i
			}
		})
	}
	if w := e.get("ana", "/queue?per_page=2"); !strings.Contains(w.Body.String(), `rel="next"`) {
		t.Error("page 1 of 2 has no next link")
	}
	for _, bad := range []string{"status=bogus", "min_score=-1", "page=0", "per_page=9999"} {
		if w := e.get("ana", "/queue?"+bad); w.Code != http.StatusBadRequest {
			t.Errorf("GET /queue?%s = %d, want 400", bad, w.Code)
		}
	}
}

func TestVerdicts(t *testing.T) {
	e := newEnv(t, false)
	tests := []struct {
		name   string
		form   url.Values
		want   int
		checks map[listing.ID]listing.Status
	}{
		{"one button", url.Values{"one": {"confirmed:high01"}, "back": {"/queue?brand=Acme"}}, http.StatusSeeOther, map[listing.ID]listing.Status{"high01": listing.StatusConfirmed}},
		{"bulk dismiss", url.Values{"ids": {"low01", "other01"}, "status": {"dismissed"}}, http.StatusSeeOther, map[listing.ID]listing.Status{"low01": listing.StatusDismissed, "other01": listing.StatusDismissed}},
		{"reopen", url.Values{"ids": {"low01"}, "status": {"new"}}, http.StatusSeeOther, map[listing.ID]listing.Status{"low01": listing.StatusNew}},
		{"status not for analysts", url.Values{"ids": {"low01"}, "status": {"removed"}}, http.StatusBadRequest, map[listing.ID]listing.Status{"low01": listing.StatusNew}},
		{"nothing selected", url.Values{"status": {"confirmed"}}, http.StatusBadRequest, nil},
		{"unknown listing", url.Values{"ids": {"nope"}, "status": {"confirmed"}}, http.StatusNotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.postForm("ana", "/verdicts", tt.form)
			if w.Code != tt.want {
				t.Fatalf("POST /verdicts (%s) = %d, want %d: %s", tt.name, w.Code, tt.want, w.Body)
			}
			for id, st := range tt.checks {
				if got := e.status(id); got != st {
					t.Errorf("status of %s = %s, want %s", id, got, st)
				}
			}
		})
	}
	if w := e.postForm("ana", "/verdicts", url.Values{"one": {"confirmed:low01"}, "back": {"/queue?brand=Acme"}}); w.Header().Get("Location") != "/queue?brand=Acme" {
		t.Errorf("verdict form redirects to %q", w.Header().Get("Location"))
	}
	// Every verdict is in the audit log with who, from and to.
	es, err := e.st.RecentAudit(context.Background(), store.AuditQuery{Target: "high01"})
	if err != nil || len(es) != 1 || es[0].Actor != "ana" || es[0].From != "new" || es[0].To != "confirmed" || es[0].Action != "verdict" {
		t.Errorf("audit of high01 = %+v, %v", es, err)
	}
	// The single-listing API endpoint.
	tok := e.token("ana")
	w := e.do("POST", "/api/v1/listings/other01/verdict", `{"status":"confirmed","note":"logo on box"}`, map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + tok})
	if w.Code != http.StatusOK || e.status("other01") != listing.StatusConfirmed {
		t.Errorf("POST /api/v1/listings/other01/verdict = %d %s", w.Code, w.Body)
	}
	var resp struct{ Verdicts []listing.Verdict }
	json.Unmarshal(w.Body.Bytes(), &resp)
	if len(resp.Verdicts) != 1 || resp.Verdicts[0].Previous != listing.StatusDismissed || resp.Verdicts[0].Analyst != "ana" {
		t.Errorf("verdict response = %+v", resp)
	}
	for _, bad := range []string{`{"ids":[],"status":"confirmed"}`, `{"ids":["x"],"status":"confirmed","extra":1}`, `not json`} {
		if w := e.do("POST", "/api/v1/verdicts", bad, map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + tok}); w.Code != http.StatusBadRequest {
			t.Errorf("POST /api/v1/verdicts %s = %d, want 400", bad, w.Code)
		}
	}
}

func TestListingPage(t *testing.T) {
	e := newEnv(t, false)
	w := e.get("ana", "/listing/high01?back=%2Fqueue%3Fbrand%3DAcme")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /listing/high01 = %d", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{
		"Acme Trailblazer 3 mirror grade",
		"45.00 USD", "180.00 USD", "25% of MSRP", // price vs MSRP
		"image_match", "pHash distance 4", "0.40", // every signal with its detail
		`src="/img/` + sha(e.imgPNG) + `"`, `src="/ref/` + sha(e.refPNG) + `"`, "Hamming distance 4", "refs/acme/logo.png",
		`href="https://market.example/item/high01"`, `rel="noopener noreferrer nofollow"`,
		"Shady &lt;b&gt;Shop&lt;/b&gt;", "hostile01", // the seller's other listing
		`href="/queue?brand=Acme"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("listing page lacks %q", want)
		}
	}
	if strings.Contains(body, "market.example/img/") {
		t.Error("listing page hot-links a marketplace image")
	}
	// The hostile listing has a snapshot: shown in a sandboxed frame.
	w = e.get("ana", "/listing/hostile01")
	if !strings.Contains(w.Body.String(), `<iframe class="snapshot" sandbox=""`) {
		t.Error("snapshot is not in a sandboxed iframe")
	}
	if w := e.get("ana", "/listing/nope"); w.Code != http.StatusNotFound {
		t.Errorf("GET /listing/nope = %d, want 404", w.Code)
	}
	// The API gives the same, with the image match.
	w = e.get("ana", "/api/v1/listings/high01")
	var got apiListing
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != "high01" || len(got.Matches) != 1 || got.Matches[0].Distance == nil || *got.Matches[0].Distance != 4 || got.Seller.Listings != 2 {
		t.Errorf("GET /api/v1/listings/high01 = %+v", got)
	}
}

func TestCompareImages(t *testing.T) {
	ref := Reference{Name: "refs/a.png", PHash: 0xFF}
	refs := map[string]Reference{"r1": ref}
	names := map[string]string{"refs/a.png": "r1"}
	tests := []struct {
		name     string
		l        listing.Listing
		wantRef  string
		wantDist int
		wantHas  bool
	}{
		{"named with distance", listing.Listing{Images: []listing.Image{{SHA256: "i1", PHash: 0xF0}}, Signals: []listing.Signal{{Name: "image_match", Detail: "refs/a.png distance=7"}}}, "r1", 7, true},
		{"named, distance from hashes", listing.Listing{Images: []listing.Image{{SHA256: "i1", PHash: 0x0F}, {SHA256: "i2", PHash: 0xFE}}, Signals: []listing.Signal{{Name: "image_match", Detail: "looks like refs/a.png"}}}, "r1", 1, true},
		{"unnamed, nearest by hash", listing.Listing{Images: []listing.Image{{SHA256: "i1", PHash: 0xF7}}, Signals: []listing.Signal{{Name: "image_match", Detail: "reference image"}}}, "r1", 1, true},
		{"photo named in the detail", listing.Listing{Images: []listing.Image{{SHA256: "i1", PHash: 0xFF}, {SHA256: "i2", PHash: 0x00}}, Signals: []listing.Signal{{Name: "image_match", Detail: `photo 2 matches reference "refs/a.png" at distance 3 (phash)`}}}, "r1", 3, true},
		{"no match signal", listing.Listing{Images: []listing.Image{{SHA256: "i1", PHash: 0xFF}}}, "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := compareImages(tt.l, refs, names)
			var got *comparison
			for i := range cs {
				if cs[i].RefSHA != "" {
					got = &cs[i]
				}
			}
			if tt.wantRef == "" {
				if got != nil {
					t.Errorf("compareImages = %+v, want no match", cs)
				}
				return
			}
			if tt.name == "photo named in the detail" && (got == nil || got.Image.SHA256 != "i2") {
				t.Errorf("compareImages paired %+v, want photo 2", got)
			}
			if got == nil || got.RefSHA != tt.wantRef || got.Distance != tt.wantDist || got.HasDistance != tt.wantHas {
				t.Errorf("compareImages = %+v, want ref %s distance %d", cs, tt.wantRef, tt.wantDist)
			}
		})
	}
}

func TestImages(t *testing.T) {
	e := newEnv(t, false)
	tests := []struct {
		path  string
		want  int
		ctype string
	}{
		{"/img/" + sha(e.imgPNG), http.StatusOK, "image/png"},
		{"/ref/" + sha(e.refPNG), http.StatusOK, "image/png"},
		{"/img/" + strings.Repeat("a", 64), http.StatusNotFound, ""},
		{"/img/..%2f..%2fetc", http.StatusBadRequest, ""},
		{"/ref/" + strings.Repeat("a", 64), http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			w := e.get("ana", tt.path)
			if w.Code != tt.want {
				t.Fatalf("GET %s = %d, want %d", tt.path, w.Code, tt.want)
			}
			if tt.ctype != "" {
				if ct := w.Header().Get("Content-Type"); ct != tt.ctype {
					t.Errorf("Content-Type = %q", ct)
				}
				if w.Header().Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(w.Header().Get("Content-Security-Policy"), "sandbox") {
					t.Errorf("image headers = %v", w.Header())
				}
			}
		})
	}
	// An "image" that is really SVG (script-capable) is not served.
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)
	if err := e.st.SaveFetched(context.Background(), store.Fetched{Listing: listing.Listing{ID: "svg01", Marketplace: "demo"}, Images: map[string][]byte{sha(svg): svg}}); err != nil {
		t.Fatal(err)
	}
	if w := e.get("ana", "/img/"+sha(svg)); w.Code != http.StatusUnsupportedMediaType {
		t.Errorf("GET svg image = %d, want 415", w.Code)
	}
}

func TestSellerPage(t *testing.T) {
	e := newEnv(t, false)
	e.postForm("ana", "/verdicts", url.Values{"ids": {"high01", "hostile01"}, "status": {"confirmed"}})
	w := e.get("ana", "/seller?marketplace=demo&name="+url.QueryEscape("Shady <b>Shop</b>"))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /seller = %d", w.Code)
	}
	for _, want := range []string{"repeat infringer", "<strong>2</strong>", "2026-11-20 10:00 UTC", "2026-11-22 10:00 UTC"} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("seller page lacks %q", want)
		}
	}
	w = e.get("ana", "/api/v1/sellers?marketplace=demo&name="+url.QueryEscape("Shady <b>Shop</b>"))
	var s sellerSummary
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil || s.Confirmed != 2 || len(s.Listings) != 2 || !s.FirstSeen.Equal(t0) {
		t.Errorf("GET /api/v1/sellers = %+v, %v", s, err)
	}
	if w := e.get("ana", "/seller?marketplace=demo"); w.Code != http.StatusBadRequest {
		t.Errorf("GET /seller without name = %d, want 400", w.Code)
	}
}

func TestSearchPage(t *testing.T) {
	e := newEnv(t, false)
	w := e.get("ana", "/search?q=mirror")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /search = %d", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{"1 listings", "<mark>mirror</mark>", "/search?brand=Acme&amp;q=mirror", ">brand</h3>"} {
		if !strings.Contains(body, want) {
			t.Errorf("search page lacks %q", want)
		}
	}
	w = e.get("ana", "/api/v1/search?q=&flagged=true&brand=Acme")
	var p searchPage
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Total != 3 || len(p.Facets["marketplace"]) != 1 {
		t.Errorf("GET /api/v1/search = %+v, %v", p, err)
	}
	w = e.get("ana", "/api/v1/search?q=&flagged=true&brand=Acme&facets=false")
	p = searchPage{}
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Total != 3 || len(p.Facets) != 0 {
		t.Errorf("GET /api/v1/search?facets=false = %+v, %v", p, err)
	}
	for _, bad := range []string{"status=x", "flagged=maybe", "sort=evil", "min_price=abc", "facets=maybe"} {
		if w := e.get("ana", "/search?"+bad); w.Code != http.StatusBadRequest {
			t.Errorf("GET /search?%s = %d, want 400", bad, w.Code)
		}
	}
	// Fragments are split into text and marks, never trusted as HTML.
	segs := splitFragment(`a &lt;b&gt; <mark>acme</mark> <script>x</script>`)
	if len(segs) != 3 || segs[0].Text != "a <b> " || !segs[1].Mark || segs[2].Text != " <script>x</script>" {
		t.Errorf("splitFragment = %+v", segs)
	}
}

func TestDashboard(t *testing.T) {
	for _, mode := range []string{"view", "search"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, false)
			if mode == "search" {
				e.withoutView()
			}
			checkDashboard(t, e)
		})
	}
}

func checkDashboard(t *testing.T, e *testEnv) {
	e.postForm("ana", "/verdicts", url.Values{"ids": {"high01"}, "status": {"confirmed"}})
	e.postForm("ana", "/verdicts", url.Values{"ids": {"low01"}, "status": {"dismissed"}})
	w := e.get("ana", "/dashboard")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /dashboard = %d", w.Code)
	}
	body := w.Body.String()
	if strings.Count(body, `<svg class="chart"`) != 4 {
		t.Errorf("dashboard has %d charts, want 4", strings.Count(body, `<svg class="chart"`))
	}
	for _, want := range []string{"Globex: 1 pending", "Acme: 1 confirmed", "4 suspects of 5 found"} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	w = e.get("ana", "/api/v1/stats")
	var st stats
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil || st.Suspects != 4 || st.Confirmed != 1 || st.Dismissed != 1 || st.Pending != 2 || len(st.Sweeps) != 1 {
		t.Errorf("GET /api/v1/stats = %+v, %v", st, err)
	}
	// Labels from scraped data are escaped inside the SVG.
	svg := string(stackedBars([]barRow{{Label: hostileTitle, Values: []int{1, 0, 0}}}))
	if strings.Contains(svg, "<script") || strings.Contains(svg, "<img") {
		t.Errorf("stackedBars does not escape labels: %s", svg)
	}
}

func TestNotices(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	if _, err := e.st.SetStatus(ctx, listing.Verdict{ListingID: "high01", Status: listing.StatusConfirmed, Analyst: "ana"}); err != nil {
		t.Fatal(err)
	}
	n := listing.Notice{ID: "n1", Platform: "dmca", Brand: "Acme", Marketplace: "demo", State: listing.NoticeDrafted, DraftedAt: t0,
		Body: "<script>alert(3)</script>", Listings: []listing.NoticeListing{{ID: "high01", URL: "https://market.example/item/high01", Outcome: listing.OutcomePending}}}
	if err := e.st.PutNotice(ctx, n, nil); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		user, path string
		want       int
	}{
		{"ana", "/notices/n1/approve", http.StatusForbidden},
		{"apu", "/notices/n1/sent", http.StatusConflict}, // not approved yet
		{"apu", "/notices/n1/approve", http.StatusSeeOther},
		{"adm", "/notices/n1/approve", http.StatusConflict}, // twice
		{"ana", "/notices/n1/sent", http.StatusForbidden},
		{"apu", "/notices/n1/sent", http.StatusSeeOther},
		{"apu", "/notices/n1/sent", http.StatusConflict},
		{"apu", "/notices/nope/approve", http.StatusNotFound},
	}
	for _, s := range steps {
		if w := e.postForm(s.user, s.path, url.Values{}); w.Code != s.want {
			t.Errorf("%s POST %s = %d, want %d: %s", s.user, s.path, w.Code, s.want, w.Body)
		}
	}
	if e.status("high01") != listing.StatusNoticed {
		t.Errorf("listing after notice sent = %s, want noticed", e.status("high01"))
	}
	if w := e.get("ana", "/api/v1/queue?status=noticed"); !strings.Contains(w.Body.String(), `"id":"high01"`) {
		t.Errorf("noticed queue after sending lacks high01: %s", w.Body)
	}
	// One entry for each action that went through, none for those refused.
	wantAudit := []string{
		"apu notice.sent n1 approved sent dmca notice for Acme, 1 listings",
		"apu notice.approve n1 drafted approved dmca notice for Acme, 1 listings",
	}
	if got := auditLines(t, e.st, store.AuditQuery{Target: "n1"}); strings.Join(got, "\n") != strings.Join(wantAudit, "\n") {
		t.Errorf("audit of n1 =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantAudit, "\n"))
	}
	w := e.get("ana", "/notices")
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "<script>alert(3)") || !strings.Contains(w.Body.String(), "approved by apu") {
		t.Errorf("GET /notices = %d:\n%s", w.Code, w.Body)
	}
	w = e.get("ana", "/api/v1/notices?state=sent")
	var resp struct{ Notices []noticeView }
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || len(resp.Notices) != 1 || !resp.Notices[0].Approved {
		t.Errorf("GET /api/v1/notices = %s", w.Body)
	}
	// Taken down, then live again: the page says why the notice is still
	// up, and the API shows the outcome.
	if _, err := e.st.MarkVerified(ctx, "n1", "high01", true, "http 404", t0.Add(time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.MarkRelisted(ctx, "high01", "live again", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if w := e.get("ana", "/notices"); !strings.Contains(w.Body.String(), "1 relisted after removal") || !strings.Contains(w.Body.String(), ">still_up<") {
		t.Errorf("GET /notices after a relisting lacks the still_up state and the relisted badge:\n%s", w.Body)
	}
	if w := e.get("ana", "/api/v1/notices?state=still_up"); !strings.Contains(w.Body.String(), `"outcome":"relisted"`) {
		t.Errorf("GET /api/v1/notices?state=still_up = %s, want n1 with a relisted listing", w.Body)
	}
}

func TestSweepsAuditAdmin(t *testing.T) {
	e := newEnv(t, false)
	tests := []struct {
		user, method, path string
		form               url.Values
		want               int
		contains           string
	}{
		{"ana", "GET", "/sweeps", nil, http.StatusOK, "sw1"},
		{"ana", "POST", "/sweeps", url.Values{}, http.StatusForbidden, ""},
		{"adm", "POST", "/sweeps", url.Values{}, http.StatusSeeOther, ""},
		{"ana", "GET", "/api/v1/sweeps", nil, http.StatusOK, `"id":"sw1"`},
		{"ana", "GET", "/admin/users", nil, http.StatusForbidden, ""},
		{"apu", "POST", "/admin/users", url.Values{"op": {"add"}, "name": {"x"}, "role": {"admin"}, "password": {"long enough"}}, http.StatusForbidden, ""},
		{"adm", "GET", "/admin/users", nil, http.StatusOK, "apu"},
		{"adm", "POST", "/admin/users", url.Values{"op": {"add"}, "name": {"newbie"}, "role": {"analyst"}, "password": {"long enough"}}, http.StatusOK, "Account newbie created."},
		{"adm", "POST", "/admin/users", url.Values{"op": {"add"}, "name": {"newbie"}, "role": {"analyst"}, "password": {"long enough"}}, http.StatusBadRequest, ""},
		{"adm", "POST", "/admin/users", url.Values{"op": {"add"}, "name": {"weak"}, "role": {"analyst"}, "password": {"short"}}, http.StatusBadRequest, ""},
		{"adm", "POST", "/admin/users", url.Values{"op": {"role"}, "name": {"newbie"}, "role": {"approver"}}, http.StatusOK, "Role of newbie changed."},
		{"adm", "POST", "/admin/users", url.Values{"op": {"token"}, "name": {"newbie"}, "label": {"ci"}}, http.StatusOK, "pat_"},
		{"adm", "POST", "/admin/users", url.Values{"op": {"disable"}, "name": {"newbie"}}, http.StatusOK, "disabled"},
		{"ana", "GET", "/audit", nil, http.StatusOK, "sweep.start"},
		{"ana", "GET", "/api/v1/audit?actor=adm&limit=3", nil, http.StatusOK, `"action":"token.create"`},
		{"ana", "GET", "/api/v1/me", nil, http.StatusOK, `"role":"analyst"`},
	}
	for _, tt := range tests {
		t.Run(tt.user+" "+tt.method+" "+tt.path, func(t *testing.T) {
			var w interface {
				Result() *http.Response
			}
			var code int
			var body string
			if tt.method == "GET" {
				r := e.get(tt.user, tt.path)
				w, code, body = r, r.Code, r.Body.String()
			} else {
				r := e.postForm(tt.user, tt.path, tt.form)
				w, code, body = r, r.Code, r.Body.String()
			}
			_ = w
			if code != tt.want {
				t.Fatalf("%s %s %s = %d, want %d: %s", tt.user, tt.method, tt.path, code, tt.want, body)
			}
			if !strings.Contains(body, tt.contains) {
				t.Errorf("%s %s %s lacks %q", tt.user, tt.method, tt.path, tt.contains)
			}
		})
	}
	if e.started != 1 {
		t.Errorf("StartSweep called %d times, want 1", e.started)
	}
	// Each account change that went through is audited once, newest first;
	// the refused ones are not.
	wantAudit := []string{
		"adm user.disable newbie   ",
		"adm token.create newbie   ci",
		"adm user.role newbie  approver ",
		"adm user.add newbie  analyst ",
		"adm sweep.start    ",
	}
	if got := auditLines(t, e.st, store.AuditQuery{Actor: "adm"}); strings.Join(got, "\n") != strings.Join(wantAudit, "\n") {
		t.Errorf("audit by adm =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantAudit, "\n"))
	}
}

// auditLines returns the audit entries q selects, newest first, as
// "actor action target from to detail".
func auditLines(t *testing.T, st *store.Store, q store.AuditQuery) []string {
	t.Helper()
	es, err := st.RecentAudit(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, strings.Join([]string{e.Actor, e.Action, e.Target, e.From, e.To, e.Detail}, " "))
	}
	return out
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, false)
	for _, p := range []string{"/login", "/queue", "/listing/high01", "/dashboard", "/api/v1/queue", "/static/app.css"} {
		w := e.get("ana", p)
		h := w.Header()
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("GET %s headers = %v", p, h)
		}
	}
	if w := e.get("", "/static/app.js"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "postVerdict") {
		t.Errorf("GET /static/app.js = %d", w.Code)
	}
}

func TestNewRequiresDeps(t *testing.T) {
	e := newEnv(t, false)
	tests := []struct {
		name string
		opts Options
	}{
		{"no listings", Options{Verdicts: e.st, Search: e.search, Users: e.st, Sessions: e.st, Audit: e.st}},
		{"no search", Options{Listings: e.st, Verdicts: e.st, Users: e.st, Sessions: e.st, Audit: e.st}},
		{"no audit", Options{Listings: e.st, Verdicts: e.st, Search: e.search, Users: e.st, Sessions: e.st}},
	}
	for _, tt := range tests {
		if _, err := New(tt.opts); err == nil {
			t.Errorf("New(%s) = nil error", tt.name)
		}
	}
	if _, err := New(Options{Listings: e.st, Verdicts: e.st, Search: e.search, Users: e.st, Sessions: e.st, Audit: e.st, TrustedOrigins: []string{"not an origin"}}); err == nil {
		t.Error("New(bad trusted origin) = nil error")
	}
	// Optional parts missing: their pages are gone, the rest works.
	srv, err := New(Options{Listings: e.st, Verdicts: e.st, Search: e.search, Users: e.st, Sessions: e.st, Audit: e.st})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	if w := e.get("ana", "/notices"); w.Code != http.StatusNotFound {
		t.Errorf("GET /notices without Notices = %d, want 404", w.Code)
	}
	if w := e.get("ana", "/listing/hostile01"); w.Code != http.StatusOK {
		t.Errorf("GET /listing without snapshots = %d", w.Code)
	}
}

func TestQueueViewUpdates(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	ids := func(query string) string {
		t.Helper()
		w := e.get("ana", "/api/v1/queue?"+query)
		var p struct{ Items []listing.Listing }
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Fatalf("GET /api/v1/queue?%s = %d %s", query, w.Code, w.Body)
		}
		var out []string
		for _, l := range p.Items {
			out = append(out, string(l.ID))
		}
		return strings.Join(out, ",")
	}
	if got := ids(""); got != "hostile01,high01,other01,low01" {
		t.Fatalf("queue = %s", got)
	}
	// A sweep stores a new suspect: the view learns of it through Updated.
	l, _ := e.st.Listing(ctx, "low01")
	l.ID, l.Score = "fresh01", 0.99
	if err := e.st.PutListing(ctx, l); err != nil {
		t.Fatal(err)
	}
	if got := ids(""); strings.Contains(got, "fresh01") {
		t.Fatalf("queue shows fresh01 before Updated: %s", got)
	}
	e.srv.Updated(l)
	if got := ids(""); got != "fresh01,hostile01,high01,other01,low01" {
		t.Errorf("queue after Updated = %s", got)
	}
	// A rescore unflags it.
	l.Flagged = false
	e.st.PutListing(ctx, l)
	e.srv.Updated(l)
	if got := ids(""); strings.Contains(got, "fresh01") {
		t.Errorf("queue after unflagging = %s", got)
	}
	// A verdict moves a row between statuses at once.
	e.postForm("ana", "/verdicts", url.Values{"ids": {"other01"}, "status": {"confirmed"}})
	if got, want := ids("status=confirmed"), "other01"; got != want {
		t.Errorf("confirmed queue = %s, want %s", got, want)
	}
	// Changes nobody reported are picked up by the periodic rebuild.
	l.ID, l.Flagged, l.Score = "silent01", true, 0.61
	e.st.PutListing(ctx, l)
	now := time.Now()
	e.srv.queue.now = func() time.Time { return now.Add(time.Hour) }
	ids("") // starts the rebuild in the background
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(ids(""), "silent01") {
		if time.Now().After(deadline) {
			t.Fatal("the periodic rebuild did not pick up silent01")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := e.srv.Warm(ctx); err != nil {
		t.Errorf("Warm = %v", err)
	}
}

// scanFunc is a ListingScanner made of a function.
type scanFunc func(ctx context.Context, fn func(listing.Listing) error) error

func (f scanFunc) EachListing(ctx context.Context, fn func(listing.Listing) error) error {
	return f(ctx, fn)
}

func TestQueueViewChangeDuringBuild(t *testing.T) {
	old := listing.Listing{ID: "a", Flagged: true, Score: 0.9, Status: listing.StatusNew}
	var v *queueView
	v = newQueueView(scanFunc(func(ctx context.Context, fn func(listing.Listing) error) error {
		// The store is read before these changes commit...
		fn(old)
		// ...and they arrive while the build is still running.
		v.update(listing.Listing{ID: "b", Flagged: true, Score: 0.95, Status: listing.StatusNew})
		v.setStatus("a", listing.StatusConfirmed)
		return nil
	}), time.Minute, time.Now)
	if err := v.build(context.Background()); err != nil {
		t.Fatal(err)
	}
	ids, total := v.query(SearchQuery{Status: "new", Limit: 10})
	if total != 1 || len(ids) != 1 || ids[0] != "b" {
		t.Errorf("query(new) after a build with concurrent changes = %v (%d), want [b]", ids, total)
	}
	if c := v.counts(); c.Total != 2 || c.ByStatus["confirmed"] != 1 {
		t.Errorf("counts = %+v", c)
	}
}
