package web

import (
	"context"
	"time"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/store"
)

// ListingStore reads listings, their history and evidence. *store.Store
// satisfies it.
type ListingStore interface {
	Listing(ctx context.Context, id listing.ID) (listing.Listing, error)
	ListingsBySeller(ctx context.Context, marketplace, seller string) ([]listing.Listing, error)
	Verdicts(ctx context.Context, id listing.ID) ([]listing.Verdict, error)
}

// VerdictStore records an analyst's verdict, moves the listing to its
// status and appends the audit entry (action by the analyst) in one
// transaction, so that a crash never keeps a decision without its audit
// entry; it returns the verdict with Previous filled in. *store.Store
// satisfies it; the implementation wired into serve must also re-index the
// listing so that the queue (which comes from the search index) sees the
// new status.
type VerdictStore interface {
	RecordVerdict(ctx context.Context, v listing.Verdict, action string) (listing.Verdict, error)
}

// SnapshotStore reads evidence snapshots. *store.Store satisfies it.
type SnapshotStore interface {
	// Snapshots returns a listing's snapshot records without HTML, newest
	// first.
	Snapshots(ctx context.Context, id listing.ID) ([]listing.Snapshot, error)
	SnapshotHTML(ctx context.Context, id listing.ID, sha string) ([]byte, error)
}

// ImageStore reads image bytes by their sha256 (hex). *store.Store
// satisfies it.
type ImageStore interface {
	Image(ctx context.Context, sha string) ([]byte, error)
}

// SweepStore lists sweeps, newest first. *store.Store satisfies it.
type SweepStore interface {
	Sweeps(ctx context.Context, limit int) ([]listing.Sweep, error)
}

// Searcher runs queries over the search index; cmd/patrol adapts
// *index.Index to it (the fields mirror index.Query and index.Result).
type Searcher interface {
	Search(ctx context.Context, q SearchQuery) (SearchResult, error)
}

// SearchQuery is what the UI asks of the index. Empty fields do not filter.
type SearchQuery struct {
	// Text is a bleve query string ("" matches everything).
	Text        string
	Brand       string
	Marketplace string
	Seller      string
	Status      string
	Flagged     *bool
	MinScore    float64
	MaxScore    float64
	MinPrice    float64
	MaxPrice    float64
	Since       time.Time
	// Sort is "-score" (highest first, the queue's order), "score",
	// "-price", "price", "-last_seen" or "" (relevance).
	Sort      string
	Limit     int
	Offset    int
	Facets    bool
	Highlight bool
}

// SearchResult is one page of hits with the total and, when asked, facets
// keyed by field ("brand", "marketplace", "seller", "status").
type SearchResult struct {
	Total uint64
	// TotalAtLeast says Total is a lower bound: searches without facets
	// stop counting past index.ExactTotalUpTo matches.
	TotalAtLeast bool
	Hits         []SearchHit
	Facets       map[string][]FacetCount
}

// SearchHit is one matching listing.
type SearchHit struct {
	ID        listing.ID
	Score     float64
	Relevance float64
	Fragments map[string][]string
}

// FacetCount is how many hits have Term in a faceted field.
type FacetCount struct {
	Term  string `json:"term"`
	Count int    `json:"count"`
}

// NoticeStore lists takedown notices and moves them through approval and
// sending, appending each step's audit entry (built by the AuditFunc) in
// the step's own transaction. *store.Store satisfies it.
type NoticeStore interface {
	Notices(ctx context.Context, f store.NoticeFilter) ([]listing.Notice, error)
	ApproveNotice(ctx context.Context, id, by string, at time.Time, audit store.AuditFunc[listing.Notice]) (listing.Notice, error)
	MarkSent(ctx context.Context, id, by string, at time.Time, audit store.AuditFunc[listing.Notice]) (listing.Notice, error)
}

// UserStore holds accounts and API tokens; each change appends its audit
// entry (built by the AuditFunc) in its own transaction. *store.Store
// satisfies it.
type UserStore interface {
	Authenticate(ctx context.Context, name, password string) (store.User, error)
	TokenUser(ctx context.Context, token string) (store.User, error)
	Users(ctx context.Context) ([]store.User, error)
	AddUser(ctx context.Context, name string, role store.Role, password string, audit store.AuditFunc[store.User]) error
	SetRole(ctx context.Context, name string, role store.Role, audit store.AuditFunc[store.User]) error
	SetDisabled(ctx context.Context, name string, disabled bool, audit store.AuditFunc[store.User]) error
	CreateToken(ctx context.Context, user, label string, audit store.AuditFunc[store.Token]) (string, error)
}

// SessionStore holds browser sessions. *store.Store satisfies it.
type SessionStore interface {
	CreateSession(ctx context.Context, user string, ttl time.Duration) (store.Session, string, error)
	Session(ctx context.Context, token string) (store.Session, store.User, error)
	DeleteSession(ctx context.Context, token string) error
}

// AuditLog is the append-only record of verdicts, approvals and notice
// actions: the UI reads it, and appends to it only for what is no store
// change (a login, a sweep started). *store.Store satisfies it.
type AuditLog interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error)
	RecentAudit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error)
}

// Reference is one of a brand's reference images, shown beside the
// listing image it matched.
type Reference struct {
	// Name is the path as written in the config
	// ("refs/acme/logo.png"); image_match signals name it in their detail.
	Name  string
	Brand string
	// Data is the image file; PHash its perceptual hash (0 if unknown).
	Data  []byte
	PHash uint64
}
