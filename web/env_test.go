package web

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/store"
)

// The real store satisfies every store-side interface.
var (
	_ ListingStore  = (*store.Store)(nil)
	_ VerdictStore  = (*store.Store)(nil)
	_ SnapshotStore = (*store.Store)(nil)
	_ ImageStore    = (*store.Store)(nil)
	_ SweepStore    = (*store.Store)(nil)
	_ NoticeStore   = (*store.Store)(nil)
	_ UserStore     = (*store.Store)(nil)
	_ SessionStore  = (*store.Store)(nil)
	_ AuditLog      = (*store.Store)(nil)
)

// memSearch is a fake index over the real store: it scans every listing
// and applies the filters the UI uses. It stands in for the bleve index,
// which web does not import.
type memSearch struct {
	st *store.Store
	// calls counts searches, to check the dashboard's fan-out.
	mu    sync.Mutex
	calls int
}

func (m *memSearch) Search(ctx context.Context, q SearchQuery) (SearchResult, error) {
	m.mu.Lock()
	m.calls++
	m.mu.Unlock()
	var all []listing.Listing
	err := m.st.EachListing(ctx, func(l listing.Listing) error {
		all = append(all, l)
		return nil
	})
	if err != nil {
		return SearchResult{}, err
	}
	return filterListings(all, q), nil
}

// filterListings is the fake index's query engine, shared with the
// benchmark's in-memory index.
func filterListings(all []listing.Listing, q SearchQuery) SearchResult {
	text := strings.ToLower(q.Text)
	var hits []listing.Listing
	for _, l := range all {
		switch {
		case q.Brand != "" && l.Brand != q.Brand,
			q.Marketplace != "" && l.Marketplace != q.Marketplace,
			q.Seller != "" && l.Seller != q.Seller,
			q.Status != "" && string(l.Status) != q.Status,
			q.Flagged != nil && l.Flagged != *q.Flagged,
			q.MinScore > 0 && l.Score < q.MinScore,
			q.MaxScore > 0 && l.Score > q.MaxScore,
			q.MinPrice > 0 && l.Price < q.MinPrice,
			q.MaxPrice > 0 && l.Price > q.MaxPrice,
			text != "" && !strings.Contains(strings.ToLower(l.Title), text):
			continue
		}
		hits = append(hits, l)
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].ID < hits[j].ID
	})
	res := SearchResult{Total: uint64(len(hits))}
	if q.Facets {
		res.Facets = map[string][]FacetCount{}
		for _, f := range []string{"brand", "marketplace", "status", "seller"} {
			counts := map[string]int{}
			for _, l := range hits {
				counts[map[string]string{"brand": l.Brand, "marketplace": l.Marketplace, "status": string(l.Status), "seller": l.Seller}[f]]++
			}
			for term, n := range counts {
				res.Facets[f] = append(res.Facets[f], FacetCount{Term: term, Count: n})
			}
			sort.Slice(res.Facets[f], func(i, j int) bool { return res.Facets[f][i].Term < res.Facets[f][j].Term })
		}
	}
	if q.Offset < len(hits) {
		hits = hits[q.Offset:]
	} else {
		hits = nil
	}
	if len(hits) > q.Limit {
		hits = hits[:q.Limit]
	}
	for _, l := range hits {
		h := SearchHit{ID: l.ID, Score: l.Score, Relevance: 1}
		if q.Highlight && text != "" {
			h.Fragments = map[string][]string{"title": {strings.Replace(l.Title, q.Text, "<mark>"+q.Text+"</mark>", 1)}}
		}
		res.Hits = append(res.Hits, h)
	}
	return res
}

// hostileTitle is the title every escaping test plants.
const hostileTitle = `<script>alert(1)</script><img src=x onerror=alert(2)>`

// pngBytes returns a small PNG of one colour with a diagonal stripe.
func pngBytes(c color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			img.Set(x, y, c)
			if x == y || x+1 == y {
				img.Set(x, y, color.RGBA{20, 20, 20, 255})
			}
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// testEnv is a server over a real store in a temporary directory, with
// three accounts and a few listings.
type testEnv struct {
	t       *testing.T
	st      *store.Store
	srv     *Server
	search  *memSearch
	started int
	refPNG  []byte
	imgPNG  []byte
}

const testPassword = "correct horse battery"

var (
	listingIDs = struct{ hostile, high, low, other, unflagged listing.ID }{"hostile01", "high01", "low01", "other01", "clean01"}
	t0         = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
)

func newEnv(t *testing.T, secure bool) *testEnv {
	t.Helper()
	ctx := context.Background()
	// bcrypt makes accounts slow to create: copy a file that has them.
	accounts.once.Do(func() { accounts.buf, accounts.err = accountsDB(t.TempDir()) })
	if accounts.err != nil {
		t.Fatal(accounts.err)
	}
	path := filepath.Join(t.TempDir(), "patrol.db")
	if err := os.WriteFile(path, accounts.buf, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &testEnv{t: t, st: st, search: &memSearch{st: st}, refPNG: pngBytes(color.RGBA{200, 40, 40, 255}), imgPNG: pngBytes(color.RGBA{190, 50, 40, 255})}
	imgSHA := sha(e.imgPNG)
	snapHTML := []byte(`<html><head><script>window.__pwned=1</script><style>body{}</style></head><body onload="window.__pwned=2">` +
		`<h1>Acme Trailblazer 3</h1><p>Mirror grade, best price!</p><img src="https://market.example/x.jpg" onerror="window.__pwned=3">` +
		`<a href="javascript:window.__pwned=4">buy</a><iframe src="https://evil.example/"></iframe></body></html>`)
	mk := func(id listing.ID, title, seller string, score float64, flagged bool, brand, market string) listing.Listing {
		return listing.Listing{
			ID: id, Marketplace: market, URL: "https://market.example/item/" + string(id), Title: title, Seller: seller,
			Price: 45, Currency: "USD", Brand: brand, Score: score, Flagged: flagged, Status: listing.StatusNew,
			Images: []listing.Image{{URL: "https://market.example/img/" + string(id) + ".png", SHA256: imgSHA, PHash: 0xF0F0F0F0F0F0F0F0}},
			Signals: []listing.Signal{
				{Name: "brand_term", Detail: `title contains "acme"`, Weight: 0.3},
				{Name: "image_match", Detail: "image 1 matches reference refs/acme/logo.png (pHash distance 4)", Weight: 0.4},
			},
			FirstSeen: t0, LastSeen: t0.Add(48 * time.Hour), FetchedAt: t0.Add(48 * time.Hour), SweepID: "sw1",
		}
	}
	ls := []listing.Listing{
		mk(listingIDs.hostile, hostileTitle, "Shady <b>Shop</b>", 0.95, true, "Acme", "demo"),
		mk(listingIDs.high, "Acme Trailblazer 3 mirror grade", "Shady <b>Shop</b>", 0.9, true, "Acme", "demo"),
		mk(listingIDs.low, "ACME trailblazer replica", "Cheap Kicks", 0.65, true, "Acme", "demo"),
		mk(listingIDs.other, "Globex widget copy", "Widget World", 0.7, true, "Globex", "bazaar"),
		mk(listingIDs.unflagged, "Acme Trailblazer 3 case for", "Case Co", 0.1, false, "Acme", "demo"),
	}
	for _, l := range ls {
		f := store.Fetched{Listing: l, Images: map[string][]byte{imgSHA: e.imgPNG}}
		if l.ID == listingIDs.hostile {
			snap := listing.Snapshot{ListingID: l.ID, SHA256: sha(snapHTML), URL: l.URL, FinalURL: l.URL, Status: 200, FetchedAt: l.FetchedAt, HTML: snapHTML}
			f.Snapshot = &snap
			f.Listing.SnapshotSHA256 = snap.SHA256
		}
		if err := st.SaveFetched(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutSweep(ctx, listing.Sweep{ID: "sw1", Started: t0, Ended: t0.Add(time.Hour), State: listing.SweepDone, Counters: listing.SweepCounters{Found: 5, Flagged: 4}}); err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{
		Listings: st, Verdicts: st, Search: e.search, Snapshots: st, Images: st, Sweeps: st, Notices: st,
		Users: st, Sessions: st, Audit: st, Scanner: st,
		References:    []Reference{{Name: "refs/acme/logo.png", Brand: "Acme", Data: e.refPNG, PHash: 0xF0F0F0F0F0F0F0F3}},
		Brands:        []Brand{{Name: "Acme", Products: []Product{{Name: "Acme Trailblazer 3", MSRP: 180, Currency: "USD"}}}},
		StartSweep:    func() error { e.started++; return nil },
		SecureCookies: secure,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	return e
}

// withoutView rebuilds e's server without the in-memory queue view, so the
// queue and dashboard come from the (fake) search index.
func (e *testEnv) withoutView() {
	e.t.Helper()
	o := e.srv.opts
	o.DisableQueueView = true
	srv, err := New(o)
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv = srv
}

// accounts caches a store file with the test accounts.
var accounts struct {
	once sync.Once
	buf  []byte
	err  error
}

func accountsDB(dir string) ([]byte, error) {
	path := filepath.Join(dir, "accounts.db")
	st, err := store.Open(path)
	if err != nil {
		return nil, err
	}
	for _, u := range []struct {
		name string
		role store.Role
	}{{"ana", store.RoleAnalyst}, {"apu", store.RoleApprover}, {"adm", store.RoleAdmin}} {
		if err := st.AddUser(context.Background(), u.name, u.role, testPassword, nil); err != nil {
			st.Close()
			return nil, err
		}
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

// session logs user in directly through the store and returns the cookie
// and the CSRF token.
func (e *testEnv) session(user string) (*http.Cookie, string) {
	e.t.Helper()
	sess, tok, err := e.st.CreateSession(context.Background(), user, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return &http.Cookie{Name: e.srv.sessionCookieName(), Value: tok}, sess.CSRF
}

// do sends a request straight to the handler.
func (e *testEnv) do(method, target string, body string, hdr map[string]string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	e.t.Helper()
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, r)
	return w
}

// get is do for a GET by user ("" for nobody).
func (e *testEnv) get(user, target string) *httptest.ResponseRecorder {
	e.t.Helper()
	if user == "" {
		return e.do("GET", target, "", nil)
	}
	c, _ := e.session(user)
	return e.do("GET", target, "", nil, c)
}

// postForm posts form values as user with a valid CSRF token.
func (e *testEnv) postForm(user, target string, v url.Values) *httptest.ResponseRecorder {
	e.t.Helper()
	c, csrf := e.session(user)
	v.Set("csrf", csrf)
	return e.do("POST", target, v.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, c)
}

// token issues an API token for user.
func (e *testEnv) token(user string) string {
	e.t.Helper()
	tok, err := e.st.CreateToken(context.Background(), user, "test", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func (e *testEnv) status(id listing.ID) listing.Status {
	e.t.Helper()
	l, err := e.st.Listing(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return l.Status
}
