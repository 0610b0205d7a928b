package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// templates holds one parsed set per page, each with the shared layout.
type templates struct {
	pages map[string]*template.Template
}

func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"day": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02")
		},
		"money": func(v float64, cur string) string {
			if v == 0 {
				return "—"
			}
			return strings.TrimSpace(fmt.Sprintf("%.2f %s", v, cur))
		},
		"score": func(v float64) string { return fmt.Sprintf("%.2f", v) },
		"pct": func(v float64) string {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return "—"
			}
			return fmt.Sprintf("%.0f%%", v*100)
		},
		"weight": func(v float64) string { return fmt.Sprintf("%+.2f", v) },
		"short": func(s string) string {
			if len(s) > 12 {
				return s[:12]
			}
			return s
		},
		"can": func(u store.User, role string) bool { return u.Role.Allows(store.Role(role)) },
		"add": func(a, b int) int { return a + b },
		"sellerURL": func(marketplace, seller string) string {
			return "/seller?" + url.Values{"marketplace": {marketplace}, "name": {seller}}.Encode()
		},
		"statusLabel": func(s listing.Status) string { return strings.ReplaceAll(string(s), "_", " ") },
	}
}

func parseTemplates() (*templates, error) {
	layout, err := template.New("layout.html").Funcs(templateFuncs()).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	t := &templates{pages: make(map[string]*template.Template)}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		c, err := layout.Clone()
		if err != nil {
			return nil, fmt.Errorf("clone layout: %w", err)
		}
		if _, err := c.ParseFS(templateFS, n); err != nil {
			return nil, fmt.Errorf("parse %s: %w", n, err)
		}
		t.pages[base] = c
	}
	return t, nil
}

// view is what every page template receives.
type view struct {
	Title string
	Nav   string
	User  store.User
	CSRF  string
	// HasNotices etc. say which optional pages exist.
	HasNotices bool
	HasSweeps  bool
	Data       any
}

// responder writes pages, JSON and errors.
type responder struct {
	tmpl       *templates
	log        *slog.Logger
	hasNotices bool
	hasSweeps  bool
}

func (rs *responder) html(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	t, ok := rs.tmpl.pages[page]
	if !ok {
		rs.fail(w, r, fmt.Errorf("no template %q", page))
		return
	}
	v := view{Title: title, Nav: page, Data: data, HasNotices: rs.hasNotices, HasSweeps: rs.hasSweeps}
	if p := principalFrom(r.Context()); p != nil {
		v.User = p.User
		if p.Session != nil {
			v.CSRF = p.Session.CSRF
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		rs.fail(w, r, fmt.Errorf("render %s: %w", page, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (rs *responder) json(w http.ResponseWriter, status int, v any) {
	writeJSON(w, status, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	buf, err := json.Marshal(v)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "encode response")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf)
	w.Write([]byte("\n"))
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	buf, _ := json.Marshal(map[string]string{"error": msg})
	w.Write(append(buf, '\n'))
}

// writeError answers with status and msg, as JSON for the API and plain
// text for pages.
func writeError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if isAPI(r) || strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSONError(w, status, msg)
		return
	}
	http.Error(w, msg, status)
}

// errBadRequest marks errors caused by the request itself.
type errBadRequest struct{ msg string }

func (e errBadRequest) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return errBadRequest{msg: fmt.Sprintf(format, args...)}
}

// fail turns err into an HTTP status: not found 404, invalid input 400,
// anything else 500 (logged, with a generic message).
func (rs *responder) fail(w http.ResponseWriter, r *http.Request, err error) {
	var br errBadRequest
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, r, http.StatusNotFound, "not found")
	case errors.As(err, &br):
		writeError(w, r, http.StatusBadRequest, br.msg)
	case errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrUserExists):
		writeError(w, r, http.StatusBadRequest, err.Error())
	case errors.Is(err, store.ErrNoticeState):
		writeError(w, r, http.StatusConflict, err.Error())
	case errors.Is(err, r.Context().Err()) && r.Context().Err() != nil:
		// The client went away; nothing to answer.
	default:
		rs.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, r, http.StatusInternalServerError, "internal error")
	}
}

// The Content-Security-Policy of the UI: only its own scripts, styles and
// images, no plugins, no framing by others, forms only to itself.
const uiCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secureHeaders sets the headers every response carries; handlers that
// serve untrusted bytes (snapshots, images) tighten them further.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", uiCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if !strings.HasPrefix(r.URL.Path, "/static/") && !strings.HasPrefix(r.URL.Path, "/img/") && !strings.HasPrefix(r.URL.Path, "/ref/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}
