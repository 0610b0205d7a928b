package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/store"
)

// queueFilter is the queue's query string: what to show and which page.
type queueFilter struct {
	Brand       string  `json:"brand,omitempty"`
	Marketplace string  `json:"marketplace,omitempty"`
	Seller      string  `json:"seller,omitempty"`
	Status      string  `json:"status"`
	MinScore    float64 `json:"min_score,omitempty"`
	MaxScore    float64 `json:"max_score,omitempty"`
	Page        int     `json:"page"`
	PerPage     int     `json:"per_page"`
}

func parseFloat(v url.Values, key string) (float64, error) {
	s := strings.TrimSpace(v.Get(key))
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, badRequest("%s: not a non-negative number", key)
	}
	return f, nil
}

func parseQueueFilter(v url.Values, pageSize int) (queueFilter, error) {
	f := queueFilter{
		Brand:       strings.TrimSpace(v.Get("brand")),
		Marketplace: strings.TrimSpace(v.Get("marketplace")),
		Seller:      strings.TrimSpace(v.Get("seller")),
		Status:      strings.TrimSpace(v.Get("status")),
		Page:        1,
		PerPage:     pageSize,
	}
	if f.Status == "" {
		f.Status = string(listing.StatusNew)
	}
	if f.Status != "any" && !listing.Status(f.Status).Valid() {
		return f, badRequest("status: unknown status %q", f.Status)
	}
	var err error
	if f.MinScore, err = parseFloat(v, "min_score"); err != nil {
		return f, err
	}
	if f.MaxScore, err = parseFloat(v, "max_score"); err != nil {
		return f, err
	}
	if p := v.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 100000 {
			return f, badRequest("page: not a page number")
		}
		f.Page = n
	}
	if p := v.Get("per_page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 500 {
			return f, badRequest("per_page: between 1 and 500")
		}
		f.PerPage = n
	}
	return f, nil
}

// values encodes f back into a query string, with page replaced.
func (f queueFilter) values(page int) url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("brand", f.Brand)
	set("marketplace", f.Marketplace)
	set("seller", f.Seller)
	set("status", f.Status)
	if f.MinScore > 0 {
		v.Set("min_score", strconv.FormatFloat(f.MinScore, 'f', -1, 64))
	}
	if f.MaxScore > 0 {
		v.Set("max_score", strconv.FormatFloat(f.MaxScore, 'f', -1, 64))
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return v
}

// queuePage is one page of the queue, for the template and the API.
type queuePage struct {
	Filter   queueFilter       `json:"filter"`
	Total    uint64            `json:"total"`
	Items    []listing.Listing `json:"items"`
	Pages    int               `json:"pages"`
	Prev     string            `json:"-"`
	Next     string            `json:"-"`
	Self     string            `json:"-"`
	Statuses []listing.Status  `json:"-"`
}

// queueFinder returns the IDs of one page of flagged listings matching q,
// highest score first, and the total.
type queueFinder func(ctx context.Context, q SearchQuery) ([]listing.ID, uint64, error)

// searchFinder answers queue queries from the search index.
func searchFinder(search Searcher) queueFinder {
	return func(ctx context.Context, q SearchQuery) ([]listing.ID, uint64, error) {
		res, err := search.Search(ctx, q)
		if err != nil {
			return nil, 0, err
		}
		ids := make([]listing.ID, len(res.Hits))
		for i, h := range res.Hits {
			ids[i] = h.ID
		}
		return ids, res.Total, nil
	}
}

// viewFinder answers queue queries from the in-memory queue view.
func viewFinder(v *queueView) queueFinder {
	return func(ctx context.Context, q SearchQuery) ([]listing.ID, uint64, error) {
		if err := v.ensure(ctx); err != nil {
			return nil, 0, err
		}
		ids, total := v.query(q)
		return ids, total, nil
	}
}

// loadQueue finds the page of flagged listings matching f, highest score
// first, and reads them from the store.
func loadQueue(ctx context.Context, find queueFinder, listings ListingStore, f queueFilter) (queuePage, error) {
	flagged := true
	q := SearchQuery{
		Brand: f.Brand, Marketplace: f.Marketplace, Seller: f.Seller,
		Flagged: &flagged, MinScore: f.MinScore, MaxScore: f.MaxScore,
		Sort: "-score", Limit: f.PerPage, Offset: (f.Page - 1) * f.PerPage,
	}
	if f.Status != "any" {
		q.Status = f.Status
	}
	ids, total, err := find(ctx, q)
	if err != nil {
		return queuePage{}, fmt.Errorf("queue: %w", err)
	}
	p := queuePage{Filter: f, Total: total, Items: make([]listing.Listing, 0, len(ids))}
	for _, id := range ids {
		l, err := listings.Listing(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue // the index is ahead of or behind the store; skip it
		}
		if err != nil {
			return p, fmt.Errorf("queue: %w", err)
		}
		p.Items = append(p.Items, l)
	}
	p.Pages = int((total + uint64(f.PerPage) - 1) / uint64(f.PerPage))
	if f.Page > 1 {
		p.Prev = "/queue?" + f.values(f.Page-1).Encode()
	}
	if f.Page < p.Pages {
		p.Next = "/queue?" + f.values(f.Page+1).Encode()
	}
	p.Self = "/queue?" + f.values(f.Page).Encode()
	p.Statuses = []listing.Status{listing.StatusNew, listing.StatusConfirmed, listing.StatusDismissed, listing.StatusNoticed, listing.StatusRemoved, listing.StatusStillUp}
	return p, nil
}

func handleQueue(rs *responder, find queueFinder, listings ListingStore, pageSize int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := parseQueueFilter(r.URL.Query(), pageSize)
		if err != nil {
			rs.fail(w, r, err)
			return
		}
		p, err := loadQueue(r.Context(), find, listings, f)
		if err != nil {
			rs.fail(w, r, err)
			return
		}
		if isAPI(r) {
			rs.json(w, http.StatusOK, p)
			return
		}
		rs.html(w, r, http.StatusOK, "queue", "Review queue", p)
	})
}

// verdictStatuses are the statuses an analyst may set; the others follow
// from notices and verification.
func verdictStatus(s string) (listing.Status, error) {
	switch st := listing.Status(s); st {
	case listing.StatusConfirmed, listing.StatusDismissed, listing.StatusNew:
		return st, nil
	}
	return "", badRequest("status: must be confirmed, dismissed or new, not %q", s)
}

// verdicter records verdicts with their audit entries.
type verdicter struct {
	verdicts VerdictStore
	now      func() time.Time
	// applied, when set, learns of every verdict (the queue view).
	applied func(listing.Verdict)
}

func (vd verdicter) apply(ctx context.Context, actor string, id listing.ID, st listing.Status, note string) (listing.Verdict, error) {
	v, err := vd.verdicts.RecordVerdict(ctx, listing.Verdict{ListingID: id, Status: st, Analyst: actor, Note: note, At: vd.now().UTC()}, "verdict")
	if err != nil {
		return v, err
	}
	if vd.applied != nil {
		vd.applied(v)
	}
	return v, nil
}

// verdictRequest is the body of POST /api/v1/verdicts.
type verdictRequest struct {
	IDs    []listing.ID `json:"ids"`
	Status string       `json:"status"`
	Note   string       `json:"note,omitempty"`
}

const maxBulk = 500

// handleAPIVerdicts records one verdict for many listings (bulk confirm
// or dismiss); the queue's script uses it too.
func handleAPIVerdicts(rs *responder, vd verdicter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req verdictRequest
		if err := decodeJSON(r, &req); err != nil {
			rs.fail(w, r, err)
			return
		}
		if id := r.PathValue("id"); id != "" {
			req.IDs = []listing.ID{listing.ID(id)}
		}
		st, err := verdictStatus(req.Status)
		if err != nil {
			rs.fail(w, r, err)
			return
		}
		if len(req.IDs) == 0 || len(req.IDs) > maxBulk {
			rs.fail(w, r, badRequest("ids: between 1 and %d listings", maxBulk))
			return
		}
		actor := principalFrom(r.Context()).User.Name
		out := make([]listing.Verdict, 0, len(req.IDs))
		for _, id := range req.IDs {
			v, err := vd.apply(r.Context(), actor, id, st, req.Note)
			if err != nil {
				rs.fail(w, r, err)
				return
			}
			out = append(out, v)
		}
		rs.json(w, http.StatusOK, map[string]any{"verdicts": out})
	})
}

func decodeJSON(r *http.Request, v any) error {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return badRequest("body: want Content-Type application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("body: %v", err)
	}
	return nil
}

// handleVerdictForm takes the queue's and the listing page's forms: either
// bulk (ids + status) or one button (one = "status:id"); it then returns to
// the page the form came from.
func handleVerdictForm(rs *responder, vd verdicter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			rs.fail(w, r, badRequest("form: %v", err))
			return
		}
		status := r.PostForm.Get("status")
		ids := r.PostForm["ids"]
		if one := r.PostForm.Get("one"); one != "" {
			st, id, ok := strings.Cut(one, ":")
			if !ok {
				rs.fail(w, r, badRequest("one: want status:id"))
				return
			}
			status, ids = st, []string{id}
		}
		st, err := verdictStatus(status)
		if err != nil {
			rs.fail(w, r, err)
			return
		}
		if len(ids) == 0 || len(ids) > maxBulk {
			rs.fail(w, r, badRequest("select between 1 and %d listings", maxBulk))
			return
		}
		actor := principalFrom(r.Context()).User.Name
		for _, id := range ids {
			if _, err := vd.apply(r.Context(), actor, listing.ID(id), st, r.PostForm.Get("note")); err != nil {
				rs.fail(w, r, err)
				return
			}
		}
		http.Redirect(w, r, localPath(r.PostForm.Get("back")), http.StatusSeeOther)
	})
}
