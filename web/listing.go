package web

import (
	"context"
	"fmt"
	"html"
	"math/bits"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/store"
)

// Brand is what the UI knows of a protected brand: its products' MSRP, to
// show a listing's price against it.
type Brand struct {
	Name     string
	Products []Product
}

// Product is one product of a brand with its recommended retail price.
type Product struct {
	Name     string
	MSRP     float64
	Currency string
}

// msrpFor picks the product a listing is most likely offering: the one
// whose name its title contains (longest first), else the brand's first.
func msrpFor(brands []Brand, l listing.Listing) (Product, bool) {
	title := strings.ToLower(l.Title)
	for _, b := range brands {
		if !strings.EqualFold(b.Name, l.Brand) || len(b.Products) == 0 {
			continue
		}
		best := -1
		for i, p := range b.Products {
			if strings.Contains(title, strings.ToLower(p.Name)) && (best < 0 || len(p.Name) > len(b.Products[best].Name)) {
				best = i
			}
		}
		if best < 0 {
			best = 0
		}
		return b.Products[best], true
	}
	return Product{}, false
}

// comparison pairs a listing image with the reference image it matched.
type comparison struct {
	Image listing.Image
	// RefSHA is empty when no reference matched this image.
	RefSHA      string
	RefName     string
	Distance    int
	HasDistance bool
	Detail      string
}

var (
	distanceRE = regexp.MustCompile(`(?i)(?:distance|hamming)\D{0,4}(\d{1,2})\b`)
	photoRE    = regexp.MustCompile(`(?i)\b(?:photo|image)\s*#?(\d{1,3})\b`)
)

func hamming(a, b uint64) int { return bits.OnesCount64(a ^ b) }

// compareImages lays out the listing's images, each beside the reference
// image an image_match signal names (or, failing a name, the nearest
// reference by pHash), with the Hamming distance.
func compareImages(l listing.Listing, refs map[string]Reference, refNames map[string]string) []comparison {
	out := make([]comparison, len(l.Images))
	for i, img := range l.Images {
		out[i] = comparison{Image: img}
	}
	for _, sig := range l.Signals {
		if sig.Name != "image_match" {
			continue
		}
		// The reference the detail names: the longest name it contains.
		refSHA, refName := "", ""
		for name, sha := range refNames {
			if strings.Contains(sig.Detail, name) && len(name) > len(refName) {
				refSHA, refName = sha, name
			}
		}
		if refSHA == "" {
			best := -1
			for sha, r := range refs {
				if r.PHash == 0 {
					continue
				}
				for _, img := range l.Images {
					if img.PHash == 0 {
						continue
					}
					if d := hamming(img.PHash, r.PHash); best < 0 || d < best || (d == best && r.Name < refName) {
						best, refSHA, refName = d, sha, r.Name
					}
				}
			}
		}
		if refSHA == "" {
			continue
		}
		ref := refs[refSHA]
		// The listing image it matched: the nearest by any of its hashes.
		at, dist := -1, -1
		for i, img := range l.Images {
			if ref.PHash == 0 || img.PHash == 0 {
				continue
			}
			d := hamming(img.PHash, ref.PHash)
			for _, h := range []uint64{img.MirrorPHash, img.CropPHash} {
				if h != 0 && hamming(h, ref.PHash) < d {
					d = hamming(h, ref.PHash)
				}
			}
			if at < 0 || d < dist {
				at, dist = i, d
			}
		}
		// A detail that names the photo ("photo 2 matches …") says which.
		if m := photoRE.FindStringSubmatch(sig.Detail); m != nil {
			if n, _ := strconv.Atoi(m[1]); n >= 1 && n <= len(l.Images) {
				at = n - 1
			}
		}
		c := comparison{RefSHA: refSHA, RefName: refName, Detail: sig.Detail}
		if m := distanceRE.FindStringSubmatch(sig.Detail); m != nil {
			c.Distance, _ = strconv.Atoi(m[1])
			c.HasDistance = true
		} else if dist >= 0 {
			c.Distance, c.HasDistance = dist, true
		}
		if at < 0 {
			// No hashes to pair by: the first image without a partner.
			for i := range out {
				if out[i].RefSHA == "" {
					at = i
					break
				}
			}
		}
		if at < 0 {
			c.Image = listing.Image{}
			out = append(out, c)
			continue
		}
		c.Image = out[at].Image
		out[at] = c
	}
	return out
}

// listingPage is the listing page's data.
type listingPage struct {
	L           listing.Listing
	Product     Product
	HasMSRP     bool
	PriceRatio  float64
	Comparisons []comparison
	Snapshots   []listing.Snapshot
	Seller      sellerSummary
	Verdicts    []listing.Verdict
	Audit       []store.AuditEntry
	LiveURL     string
	Back        string
}

// sellerSummary is a seller's record: their listings and how many were
// confirmed (a repeat infringer has several).
type sellerSummary struct {
	Marketplace string            `json:"marketplace"`
	Name        string            `json:"name"`
	Listings    []listing.Listing `json:"listings"`
	Confirmed   int               `json:"confirmed"`
	Dismissed   int               `json:"dismissed"`
	FirstSeen   time.Time         `json:"first_seen"`
	LastSeen    time.Time         `json:"last_seen"`
	Sweeps      int               `json:"sweeps"`
}

func summariseSeller(marketplace, name string, ls []listing.Listing) sellerSummary {
	s := sellerSummary{Marketplace: marketplace, Name: name, Listings: ls}
	sweeps := map[string]bool{}
	for _, l := range ls {
		if store.IsConfirmed(l.Status) {
			s.Confirmed++
		}
		if l.Status == listing.StatusDismissed {
			s.Dismissed++
		}
		if !l.FirstSeen.IsZero() && (s.FirstSeen.IsZero() || l.FirstSeen.Before(s.FirstSeen)) {
			s.FirstSeen = l.FirstSeen
		}
		if l.LastSeen.After(s.LastSeen) {
			s.LastSeen = l.LastSeen
		}
		if l.SweepID != "" {
			sweeps[l.SweepID] = true
		}
	}
	s.Sweeps = len(sweeps)
	sort.Slice(s.Listings, func(i, j int) bool {
		if !s.Listings[i].LastSeen.Equal(s.Listings[j].LastSeen) {
			return s.Listings[i].LastSeen.After(s.Listings[j].LastSeen)
		}
		return s.Listings[i].ID < s.Listings[j].ID
	})
	return s
}

// liveURL returns the listing's URL if it is http(s), else "" (a
// javascript: URL from a hostile page must never become a link).
func liveURL(l listing.Listing) string {
	u := l.FinalURL
	if u == "" {
		u = l.URL
	}
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return u
	}
	return ""
}

// listingDeps are what the listing page and its API read.
type listingDeps struct {
	listings  ListingStore
	snapshots SnapshotStore
	audit     AuditLog
	brands    []Brand
	refs      map[string]Reference
	refNames  map[string]string
}

func (d listingDeps) load(ctx context.Context, id listing.ID) (listingPage, error) {
	l, err := d.listings.Listing(ctx, id)
	if err != nil {
		return listingPage{}, fmt.Errorf("listing page: %w", err)
	}
	p := listingPage{L: l, LiveURL: liveURL(l)}
	if prod, ok := msrpFor(d.brands, l); ok && prod.MSRP > 0 {
		p.Product, p.HasMSRP = prod, true
		p.PriceRatio = l.Price / prod.MSRP
	}
	p.Comparisons = compareImages(l, d.refs, d.refNames)
	if d.snapshots != nil {
		if p.Snapshots, err = d.snapshots.Snapshots(ctx, id); err != nil {
			return p, fmt.Errorf("listing page: %w", err)
		}
	}
	if l.Seller != "" {
		ls, err := d.listings.ListingsBySeller(ctx, l.Marketplace, l.Seller)
		if err != nil {
			return p, fmt.Errorf("listing page: %w", err)
		}
		p.Seller = summariseSeller(l.Marketplace, l.Seller, ls)
		others := p.Seller.Listings[:0:0]
		for _, o := range p.Seller.Listings {
			if o.ID != l.ID {
				others = append(others, o)
			}
		}
		p.Seller.Listings = others
	}
	if p.Verdicts, err = d.listings.Verdicts(ctx, id); err != nil {
		return p, fmt.Errorf("listing page: %w", err)
	}
	if p.Audit, err = d.audit.RecentAudit(ctx, store.AuditQuery{Target: string(id), Limit: 50}); err != nil {
		return p, fmt.Errorf("listing page: %w", err)
	}
	return p, nil
}

func handleListing(rs *responder, d listingDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := d.load(r.Context(), listing.ID(r.PathValue("id")))
		if err != nil {
			rs.fail(w, r, err)
			return
		}
		p.Back = localPath(r.URL.Query().Get("back"))
		if len(p.Seller.Listings) > 20 {
			p.Seller.Listings = p.Seller.Listings[:20]
		}
		rs.html(w, r, http.StatusOK, "listing", p.L.Title, p)
	})
}

// apiListing is the JSON form of the listing page.
type apiListing struct {
	listing.Listing
	Snapshots []listing.Snapshot `json:"snapshots"`
	Verdicts  []listing.Verdict  `json:"verdicts"`
	Matches   []apiMatch         `json:"image_matches,omitempty"`
	Seller    apiSellerSummary   `json:"seller_record"`
}

type apiMatch struct {
	ImageSHA256     string `json:"image_sha256,omitempty"`
	Reference       string `json:"reference"`
	ReferenceSHA256 string `json:"reference_sha256"`
	Distance        *int   `json:"distance,omitempty"`
}

type apiSellerSummary struct {
	Listings  int       `json:"listings"`
	Confirmed int       `json:"confirmed"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

func handleAPIListing(rs *responder, d listingDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := d.load(r.Context(), listing.ID(r.PathValue("id")))
		if err != nil {
			rs.fail(w, r, err)
			return
		}
		out := apiListing{Listing: p.L, Snapshots: p.Snapshots, Verdicts: p.Verdicts,
			Seller: apiSellerSummary{Listings: len(p.Seller.Listings) + 1, Confirmed: p.Seller.Confirmed, FirstSeen: p.Seller.FirstSeen, LastSeen: p.Seller.LastSeen}}
		if out.Snapshots == nil {
			out.Snapshots = []listing.Snapshot{}
		}
		if out.Verdicts == nil {
			out.Verdicts = []listing.Verdict{}
		}
		for _, c := range p.Comparisons {
			if c.RefSHA == "" {
				continue
			}
			m := apiMatch{ImageSHA256: c.Image.SHA256, Reference: c.RefName, ReferenceSHA256: c.RefSHA}
			if c.HasDistance {
				d := c.Distance
				m.Distance = &d
			}
			out.Matches = append(out.Matches, m)
		}
		rs.json(w, http.StatusOK, out)
	})
}

func handleSeller(rs *responder, listings ListingStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		mk, name := q.Get("marketplace"), q.Get("name")
		if mk == "" || name == "" {
			rs.fail(w, r, badRequest("marketplace and name are required"))
			return
		}
		ls, err := listings.ListingsBySeller(r.Context(), mk, name)
		if err != nil {
			rs.fail(w, r, err)
			return
		}
		s := summariseSeller(mk, name, ls)
		if s.Listings == nil {
			s.Listings = []listing.Listing{}
		}
		if isAPI(r) {
			rs.json(w, http.StatusOK, s)
			return
		}
		rs.html(w, r, http.StatusOK, "seller", "Seller "+name, s)
	})
}

// snapshotPolicy keeps a snapshot's text and structure and drops
// everything active or remote: scripts, styles, links, images, forms,
// frames, event handlers.
func snapshotPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "div", "span", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li",
		"table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "b", "i", "u", "em", "strong",
		"br", "hr", "pre", "code", "blockquote", "dl", "dt", "dd", "section", "article", "header",
		"footer", "main", "nav", "aside", "small", "sub", "sup", "figure", "figcaption", "s", "del", "ins", "mark")
	p.AllowAttrs("colspan", "rowspan").OnElements("td", "th")
	return p
}

// The headers of a sanitised snapshot: its own opaque origin (sandbox), no
// script, no remote loads, framable only by the UI.
const snapshotCSP = "sandbox; default-src 'none'; img-src 'none'; style-src 'none'; frame-ancestors 'self'"

const snapshotHead = `<!doctype html><html><head><meta charset="utf-8"><title>snapshot</title></head><body>`

// handleSnapshot serves a listing's evidence: sanitised HTML for the
// sandboxed frame (default), its text (as=text), or the exact bytes as
// fetched, as a download (as=raw).
func handleSnapshot(rs *responder, snapshots SnapshotStore, policy *bluemonday.Policy) http.Handler {
	text := bluemonday.StrictPolicy()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, sha := listing.ID(r.PathValue("id")), r.PathValue("sha")
		if !isHexSHA(sha) {
			rs.fail(w, r, badRequest("not a sha256"))
			return
		}
		raw, err := snapshots.SnapshotHTML(r.Context(), id, sha)
		if err != nil {
			rs.fail(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", snapshotCSP)
		h.Set("X-Frame-Options", "SAMEORIGIN")
		switch r.URL.Query().Get("as") {
		case "raw":
			h.Set("Content-Type", "application/octet-stream")
			h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="snapshot-%s-%s.html"`, id, sha[:12]))
			w.Write(raw)
		case "text":
			h.Set("Content-Type", "text/plain; charset=utf-8")
			w.Write([]byte(collapseBlank(html.UnescapeString(string(text.SanitizeBytes(raw))))))
		default:
			h.Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(snapshotHead))
			w.Write(policy.SanitizeBytes(raw))
			w.Write([]byte("</body></html>"))
		}
	})
}

func isHexSHA(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// collapseBlank trims each line and drops runs of empty lines.
func collapseBlank(s string) string {
	var b strings.Builder
	blank := 0
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return strings.TrimSpace(b.String()) + "\n"
}
