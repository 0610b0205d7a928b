// Package web is the analysts' web UI and JSON API: the review queue, the
// listing page with its evidence, sellers, search, the dashboard, notices
// and the audit log, behind accounts with roles, session cookies, CSRF
// protection and bearer tokens for the API.
//
// Scraped content is treated as hostile: templates escape every field, the
// evidence snapshot is sanitised and served into a sandboxed frame under its
// own Content-Security-Policy, and images are served from patrol's own store,
// never hot-linked.
package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/microcosm-cc/bluemonday"

	"github.com/patrol-dev/patrol/listing"
)

// Options are the web server's dependencies and settings. Listings,
// Verdicts, Search, Users, Sessions and Audit are required; the others may
// be nil, which hides the pages that need them.
type Options struct {
	Listings  ListingStore
	Verdicts  VerdictStore
	Search    Searcher
	Snapshots SnapshotStore
	Images    ImageStore
	Sweeps    SweepStore
	Notices   NoticeStore
	Users     UserStore
	Sessions  SessionStore
	Audit     AuditLog
	// References are the brands' reference images.
	References []Reference
	// Brands give the MSRP a listing's price is shown against.
	Brands []Brand
	// StartSweep, when set, starts a sweep in the background ("sweep now"
	// for admins); it must return quickly.
	StartSweep func() error
	// Scanner serves the queue and the dashboard from an in-memory view
	// of the flagged listings, built from the store on first use (or by
	// Warm) and kept current by verdicts, notice actions and Updated: a
	// search index sorts every match of the queue's query, which at
	// 100,000 listings takes longer than the page's 50 ms budget. When nil
	// and Listings has EachListing (*store.Store does), Listings is used.
	Scanner ListingScanner
	// DisableQueueView serves the queue and dashboard from Search instead.
	DisableQueueView bool
	// QueueRefresh is how often the view is rebuilt in full in the
	// background, as a safety net for changes Updated was not told of;
	// 0 means 2 minutes, negative never.
	QueueRefresh time.Duration
	// Log receives request errors; nil discards them.
	Log *slog.Logger
	// SecureCookies marks cookies Secure and gives them the __Host- prefix.
	// Keep it true (the default of serve): browsers accept Secure cookies
	// from http://127.0.0.1 and http://localhost. Only plain-http tests
	// through non-browser clients turn it off.
	SecureCookies bool
	// TrustedOrigins are origins ("https://patrol.example.com") allowed to
	// send state-changing requests besides the server's own, for a UI
	// reached through a reverse proxy that rewrites Host.
	TrustedOrigins []string
	// SessionTTL is how long a login lasts; 0 means 12 hours.
	SessionTTL time.Duration
	// PageSize is the queue's page length; 0 means 50.
	PageSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server serves the UI and API. Build it with New.
type Server struct {
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	tmpl     *templates
	policy   *bluemonday.Policy
	refs     map[string]Reference // by sha256 of Data
	refNames map[string]string    // name → sha256
	limits   *loginLimits
	queue    *queueView // nil when the queue comes from Search
	handler  http.Handler
}

// New checks opts and builds the server.
func New(opts Options) (*Server, error) {
	switch {
	case opts.Listings == nil:
		return nil, errors.New("web: Listings is required")
	case opts.Verdicts == nil:
		return nil, errors.New("web: Verdicts is required")
	case opts.Search == nil:
		return nil, errors.New("web: Search is required")
	case opts.Users == nil || opts.Sessions == nil:
		return nil, errors.New("web: Users and Sessions are required")
	case opts.Audit == nil:
		return nil, errors.New("web: Audit is required")
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for _, o := range opts.TrustedOrigins {
		if err := http.NewCrossOriginProtection().AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("web: trusted origin: %w", err)
		}
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 50
	}
	t, err := parseTemplates()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s := &Server{
		opts:     opts,
		log:      opts.Log,
		now:      opts.Now,
		tmpl:     t,
		policy:   snapshotPolicy(),
		refs:     make(map[string]Reference),
		refNames: make(map[string]string),
		limits:   newLoginLimits(),
	}
	if sc, ok := opts.Listings.(ListingScanner); ok && opts.Scanner == nil {
		opts.Scanner = sc
	}
	if opts.DisableQueueView {
		opts.Scanner = nil
	}
	if opts.Scanner != nil {
		refresh := opts.QueueRefresh
		if refresh == 0 {
			refresh = 2 * time.Minute
		}
		s.queue = newQueueView(opts.Scanner, refresh, opts.Now)
	}
	for _, r := range opts.References {
		sum := sha256.Sum256(r.Data)
		h := hex.EncodeToString(sum[:])
		s.refs[h] = r
		s.refNames[r.Name] = h
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the server's root handler, with the security headers,
// cross-origin protection and authentication around every route.
func (s *Server) Handler() http.Handler { return s.handler }

// ServeHTTP serves r; it makes *Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Warm builds the in-memory queue view now rather than on the first
// request. It does nothing when the queue comes from Search.
func (s *Server) Warm(ctx context.Context) error {
	if s.queue == nil {
		return nil
	}
	return s.queue.build(ctx)
}

// Updated tells the server that listings were added or changed outside
// the UI (a sweep, a rescore, verification), so the queue shows them at
// once rather than after the next refresh. Call it with the listings as
// stored. It does nothing when the queue comes from Search.
func (s *Server) Updated(ls ...listing.Listing) {
	if s.queue != nil {
		s.queue.update(ls...)
	}
}

// noticed re-reads listings whose status a notice action changed.
func (s *Server) noticed(ctx context.Context, ids []listing.ID) {
	if s.queue == nil {
		return
	}
	for _, id := range ids {
		if l, err := s.opts.Listings.Listing(ctx, id); err == nil {
			s.queue.update(l)
		}
	}
}
