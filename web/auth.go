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

// deviceCookieName names the cookie that marks a browser that has logged
// in to an account before (see loginLimits); it outlives sessions and
// logouts, and grants nothing but a login allowance of its own.
func (s *Server) deviceCookieName() string {
	if s.opts.SecureCookies {
		return "__Host-patrol_device"
	}
	return "patrol_device"
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
// limits (see loginLimits), the password; on success it replaces any old
// session with a new one and marks the browser as a known device of the
// account.
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
		device := ""
		if dc, err := r.Cookie(s.deviceCookieName()); err == nil {
			device, _ = s.limits.device(dc.Value, name, now)
		}
		attempt, ok, wait := s.limits.begin(name, addr, device, now)
		if !ok {
			secs := int(wait.Seconds()) + 1
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			s.log.Warn("login rate limited", "user", name, "addr", addr, "known_device", device != "", "wait", wait)
			msg := "Too many failed logins. Try again in " + strconv.Itoa((secs+59)/60) + " min."
			if secs < 60 {
				msg = "Too many failed logins. Try again in " + strconv.Itoa(secs) + " s."
			}
			rs.html(w, r, http.StatusTooManyRequests, "login", "Log in", loginPage{Next: next, Token: c.Value, User: name, Error: msg})
			return
		}
		u, err := s.opts.Users.Authenticate(ctx, name, password)
		if err != nil {
			if !errors.Is(err, store.ErrBadCredentials) {
				attempt.done(false)
				rs.fail(w, r, err)
				return
			}
			attempt.done(true)
			s.log.Info("login failed", "user", name, "addr", addr, "known_device", device != "")
			rs.html(w, r, http.StatusUnauthorized, "login", "Log in", loginPage{Next: next, Token: c.Value, User: name, Error: "Wrong name or password."})
			return
		}
		attempt.done(false)
		http.SetCookie(w, s.cookie(s.deviceCookieName(), s.limits.deviceToken(u.Name, now), int(s.limits.deviceTTL.Seconds())))
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
