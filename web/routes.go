package web

import (
	"net/http"

	"github.com/patrol-dev/patrol/listing"

	"github.com/patrol-dev/patrol/store"
)

// routes registers every path of the UI and the API and wraps them in the
// security headers, cross-origin protection and authentication.
func (s *Server) routes() http.Handler {
	o := s.opts
	rs := &responder{tmpl: s.tmpl, log: s.log, hasNotices: o.Notices != nil, hasSweeps: o.Sweeps != nil}
	vd := verdicter{verdicts: o.Verdicts, now: s.now}
	find := searchFinder(o.Search)
	if s.queue != nil {
		find = viewFinder(s.queue)
		vd.applied = func(v listing.Verdict) { s.queue.setStatus(v.ListingID, v.Status) }
	}
	ld := listingDeps{listings: o.Listings, snapshots: o.Snapshots, audit: o.Audit, brands: o.Brands, refs: s.refs, refNames: s.refNames}
	analyst := func(h http.Handler) http.Handler { return requireRole(store.RoleAnalyst, h) }
	approver := func(h http.Handler) http.Handler { return requireRole(store.RoleApprover, h) }
	admin := func(h http.Handler) http.Handler { return requireRole(store.RoleAdmin, h) }
	loginCookie := func(v string) *http.Cookie { return s.cookie(s.loginCookieName(), v, 3600) }

	mux := http.NewServeMux()
	mux.Handle("GET /static/", handleStatic())
	mux.Handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) }))
	mux.Handle("GET /login", handleLoginForm(rs, loginCookie, s.sessionCookieName()))
	mux.Handle("POST /login", handleLogin(rs, s))
	mux.Handle("POST /logout", analyst(handleLogout(rs, o.Sessions, s.cookie, s.sessionCookieName())))

	// Pages.
	mux.Handle("GET /{$}", http.RedirectHandler("/queue", http.StatusSeeOther))
	mux.Handle("GET /queue", analyst(handleQueue(rs, find, o.Listings, o.PageSize)))
	mux.Handle("POST /verdicts", analyst(handleVerdictForm(rs, vd)))
	mux.Handle("GET /listing/{id}", analyst(handleListing(rs, ld)))
	mux.Handle("GET /seller", analyst(handleSeller(rs, o.Listings)))
	mux.Handle("GET /search", analyst(handleSearch(rs, o.Search, o.Listings)))
	mux.Handle("GET /dashboard", analyst(handleDashboard(rs, s.statsSource(), o.Sweeps)))
	mux.Handle("GET /audit", analyst(handleAudit(rs, o.Audit)))
	mux.Handle("GET /img/{sha}", analyst(handleImage(rs, o.Images)))
	mux.Handle("GET /ref/{sha}", analyst(handleReference(s.refs)))
	mux.Handle("GET /admin/users", admin(handleUsers(rs, o.Users)))
	mux.Handle("POST /admin/users", admin(handleUserAction(rs, o.Users, s.now)))
	if o.Snapshots != nil {
		mux.Handle("GET /listing/{id}/snapshot/{sha}", analyst(handleSnapshot(rs, o.Snapshots, s.policy)))
	}
	if o.Notices != nil {
		mux.Handle("GET /notices", analyst(handleNotices(rs, o.Notices)))
		mux.Handle("POST /notices/{id}/approve", approver(handleNoticeAction(rs, o.Notices, s.now, s.noticed, "approve")))
		mux.Handle("POST /notices/{id}/sent", approver(handleNoticeAction(rs, o.Notices, s.now, s.noticed, "sent")))
	}
	if o.Sweeps != nil {
		mux.Handle("GET /sweeps", analyst(handleSweeps(rs, o.Sweeps, o.StartSweep != nil)))
		mux.Handle("POST /sweeps", admin(handleStartSweep(rs, o.StartSweep, o.Audit, s.now)))
	}

	// JSON API (bearer token, or a session cookie plus X-CSRF-Token).
	mux.Handle("GET /api/v1/me", analyst(handleAPIMe()))
	mux.Handle("GET /api/v1/queue", analyst(handleQueue(rs, find, o.Listings, o.PageSize)))
	mux.Handle("GET /api/v1/listings/{id}", analyst(handleAPIListing(rs, ld)))
	mux.Handle("POST /api/v1/listings/{id}/verdict", analyst(handleAPIVerdicts(rs, vd)))
	mux.Handle("POST /api/v1/verdicts", analyst(handleAPIVerdicts(rs, vd)))
	mux.Handle("GET /api/v1/sellers", analyst(handleSeller(rs, o.Listings)))
	mux.Handle("GET /api/v1/search", analyst(handleSearch(rs, o.Search, o.Listings)))
	mux.Handle("GET /api/v1/stats", analyst(handleDashboard(rs, s.statsSource(), o.Sweeps)))
	mux.Handle("GET /api/v1/audit", analyst(handleAudit(rs, o.Audit)))
	if o.Notices != nil {
		mux.Handle("GET /api/v1/notices", analyst(handleNotices(rs, o.Notices)))
		mux.Handle("POST /api/v1/notices/{id}/approve", approver(handleNoticeAction(rs, o.Notices, s.now, s.noticed, "approve")))
		mux.Handle("POST /api/v1/notices/{id}/sent", approver(handleNoticeAction(rs, o.Notices, s.now, s.noticed, "sent")))
	}
	if o.Sweeps != nil {
		mux.Handle("GET /api/v1/sweeps", analyst(handleSweeps(rs, o.Sweeps, o.StartSweep != nil)))
		mux.Handle("POST /api/v1/sweeps", admin(handleStartSweep(rs, o.StartSweep, o.Audit, s.now)))
	}
	mux.Handle("/api/", analyst(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusNotFound, "no such endpoint")
	})))

	cop := http.NewCrossOriginProtection()
	for _, origin := range o.TrustedOrigins {
		cop.AddTrustedOrigin(origin) // checked in New
	}
	return secureHeaders(cop.Handler(authenticate(o.Users, o.Sessions, s.sessionCookieName(), mux)))
}
