package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/patrol-dev/patrol/store"
)

// principal is who is making a request: an account, through a browser
// session or an API token.
type principal struct {
	User store.User
	// Session is set for browser sessions, nil for bearer tokens.
	Session *store.Session
}

type principalKey struct{}

func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey{}).(*principal)
	return p
}

func (s *Server) sessionCookieName() string {
	if s.opts.SecureCookies {
		return "__Host-patrol_session"
	}
	return "patrol_session"
}

func (s *Server) loginCookieName() string {
	if s.opts.SecureCookies {
		return "__Host-patrol_login"
	}
	return "patrol_login"
}

// cookie returns a cookie with the attributes every patrol cookie has:
// host-only, path /, HttpOnly, SameSite=Lax (Strict would drop the session
// when an analyst follows a link into the UI), Secure when configured.
func (s *Server) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.opts.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	}
}

// authenticate finds the principal of a request from its bearer token or
// session cookie; it refuses nothing itself (requireRole does).
func authenticate(users UserStore, sessions SessionStore, cookieName string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, token, _ := strings.Cut(h, " ")
			if !strings.EqualFold(scheme, "Bearer") || token == "" {
				writeJSONError(w, http.StatusUnauthorized, "bad authorization header")
				return
			}
			u, err := users.TokenUser(ctx, strings.TrimSpace(token))
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="patrol", error="invalid_token"`)
				writeJSONError(w, http.StatusUnauthorized, "invalid token")
				return
			}
			r = r.WithContext(context.WithValue(ctx, principalKey{}, &principal{User: u}))
		} else if c, err := r.Cookie(cookieName); err == nil && c.Value != "" {
			if sess, u, err := sessions.Session(ctx, c.Value); err == nil {
				r = r.WithContext(context.WithValue(ctx, principalKey{}, &principal{User: u, Session: &sess}))
			}
		}
		next.ServeHTTP(w, r)
	})
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// requireRole refuses requests without a principal holding role: API
// requests get 401/403 JSON, pages a redirect to the login form or 403.
// For state-changing methods from a browser session it also checks the
// CSRF token (form field "csrf" or header X-CSRF-Token).
func requireRole(role store.Role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalFrom(r.Context())
		if p == nil {
			if isAPI(r) || r.Method != http.MethodGet {
				w.Header().Set("WWW-Authenticate", `Bearer realm="patrol"`)
				writeError(w, r, http.StatusUnauthorized, "login required")
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if !p.User.Role.Allows(role) {
			writeError(w, r, http.StatusForbidden, "needs the "+string(role)+" role")
			return
		}
		if !safeMethod(r.Method) && p.Session != nil && !validCSRF(r, p.Session.CSRF) {
			writeError(w, r, http.StatusForbidden, "missing or invalid CSRF token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func validCSRF(r *http.Request, want string) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		ct := r.Header.Get("Content-Type")
		if strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data") {
			got = r.PostFormValue("csrf")
		}
	}
	return want != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func randomToken() string {
	var b [24]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// localPath returns next if it is a path on this site, else "/queue", so
// that the login form cannot be used as an open redirect.
func localPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/queue"
	}
	return next
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginLimits counts failed logins per account and per address within a
// window; a key with too many failures is refused until they age out.
type loginLimits struct {
	mu         sync.Mutex
	window     time.Duration
	perAccount int
	perAddr    int
	fails      map[string][]time.Time
}

func newLoginLimits() *loginLimits {
	return &loginLimits{window: 15 * time.Minute, perAccount: 5, perAddr: 20, fails: make(map[string][]time.Time)}
}

func (l *loginLimits) recent(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, key)
	} else {
		l.fails[key] = ts
	}
	return ts
}

// allow reports whether a login for account from addr may be tried now,
// and if not, after how long.
func (l *loginLimits) allow(account, addr string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range []struct {
		key string
		max int
	}{{"u:" + account, l.perAccount}, {"a:" + addr, l.perAddr}} {
		if ts := l.recent(k.key, now); len(ts) >= k.max {
			return false, l.window - now.Sub(ts[0])
		}
	}
	return true, 0
}

func (l *loginLimits) fail(account, addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) > 100000 { // bound memory under a spray of names
		for k := range l.fails {
			l.recent(k, now)
		}
	}
	for _, k := range []string{"u:" + account, "a:" + addr} {
		l.fails[k] = append(l.fails[k], now)
	}
}

func (l *loginLimits) succeed(account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, "u:"+account)
}

type loginPage struct {
	Next  string
	Token string
	Error string
	User  string
}

func handleLoginForm(rs *responder, loginCookie func(string) *http.Cookie, cookieName string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if principalFrom(r.Context()) != nil {
			http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
			return
		}
		tok := randomToken()
		http.SetCookie(w, loginCookie(tok))
		rs.html(w, r, http.StatusOK, "login", "Log in", loginPage{Next: localPath(r.URL.Query().Get("next")), Token: tok})
	})
}

// handleLogin checks the login form: the pre-session CSRF cookie, the rate
// limits, the password; on success it replaces any old session with a new
// one.
func handleLogin(rs *responder, s *Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		name := strings.TrimSpace(r.PostFormValue("name"))
		password := r.PostFormValue("password")
		next := localPath(r.PostFormValue("next"))
		c, err := r.Cookie(s.loginCookieName())
		if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
			writeError(w, r, http.StatusForbidden, "missing or invalid CSRF token: reload the login page")
			return
		}
		addr := clientAddr(r)
		now := s.now()
		if ok, wait := s.limits.allow(name, addr, now); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			s.log.Warn("login rate limited", "user", name, "addr", addr)
			rs.html(w, r, http.StatusTooManyRequests, "login", "Log in", loginPage{Next: next, Token: c.Value, User: name, Error: "Too many failed logins. Try again later."})
			return
		}
		u, err := s.opts.Users.Authenticate(ctx, name, password)
		if err != nil {
			if !errors.Is(err, store.ErrBadCredentials) {
				rs.fail(w, r, err)
				return
			}
			s.limits.fail(name, addr, now)
			s.log.Info("login failed", "user", name, "addr", addr)
			rs.html(w, r, http.StatusUnauthorized, "login", "Log in", loginPage{Next: next, Token: c.Value, User: name, Error: "Wrong name or password."})
			return
		}
		s.limits.succeed(name)
		if old, err := r.Cookie(s.sessionCookieName()); err == nil {
			s.opts.Sessions.DeleteSession(ctx, old.Value)
		}
		_, token, err := s.opts.Sessions.CreateSession(ctx, u.Name, s.opts.SessionTTL)
		if err != nil {
			rs.fail(w, r, err)
			return
		}
		http.SetCookie(w, s.cookie(s.sessionCookieName(), token, 0))
		http.SetCookie(w, s.cookie(s.loginCookieName(), "", -1))
		if _, err := s.opts.Audit.AppendAudit(ctx, store.AuditEntry{At: now, Actor: u.Name, Action: "login", Detail: addr}); err != nil {
			s.log.Error("audit login", "err", err)
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	})
}

func handleLogout(rs *responder, sessions SessionStore, cookie func(string, string, int) *http.Cookie, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(name); err == nil {
			if err := sessions.DeleteSession(r.Context(), c.Value); err != nil {
				rs.fail(w, r, err)
				return
			}
		}
		http.SetCookie(w, cookie(name, "", -1))
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	})
}
