// Package listing is patrol's shared vocabulary: the listing a crawler
// extracts, its images and evidence, the signals the matcher attaches to it,
// and the analyst's verdict. It imports only the standard library so that
// every other package can depend on it without pulling in colly, bleve or
// bbolt.
package listing

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
)

// ID identifies a listing across sweeps. It is derived from the marketplace
// name and the canonical URL, so the same listing found by two queries or in
// two sweeps gets the same ID.
type ID string

// NewID returns the stable ID of the listing at canonicalURL on marketplace.
// The URL must already be canonical (see CanonicalURL).
func NewID(marketplace, canonicalURL string) ID {
	sum := sha256.Sum256([]byte(marketplace + "\n" + canonicalURL))
	return ID(hex.EncodeToString(sum[:8]))
}

// trackingParams are query parameters that identify the visitor or the click,
// not the listing; two URLs differing only in them are the same listing.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "msclkid": true, "yclid": true,
	"mc_cid": true, "mc_eid": true, "ref": true, "ref_": true, "referrer": true,
	"spm": true, "scm": true, "pvid": true, "algo_pvid": true, "algo_expid": true,
	"btsid": true, "ws_ab_test": true, "_trksid": true, "_trkparms": true,
	"hash": true, "mkevt": true, "mkcid": true, "mkrid": true, "campid": true,
	"toolid": true, "customid": true, "sr": true, "qid": true, "keywords": true,
	"crid": true, "sprefix": true, "psc": true, "th": true, "click_key": true,
	"click_sum": true, "organic_search_click": true, "frs": true, "ga_order": true,
	"ga_search_type": true, "ga_view_type": true, "ga_search_query": true,
	"sts": true, "_from": true, "_sacat": true, "epid": true, "ssPageName": true,
	"srsltid": true, "sessionid": true, "sid": true, "session": true,
}

// CanonicalURL returns the form of raw under which a listing is stored and
// deduplicated: lower-case scheme and host, no default port, no fragment, no
// tracking parameters, remaining parameters sorted.
func CanonicalURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("canonicalise url %q: %w", raw, err)
	}
	if u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("canonicalise url %q: not absolute", raw)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	if (u.Scheme == "http" && u.Port() == "80") || (u.Scheme == "https" && u.Port() == "443") {
		u.Host = u.Hostname()
	}
	u.Fragment = ""
	u.RawFragment = ""
	u.User = nil
	if u.Path == "" {
		u.Path = "/"
	}
	q := u.Query()
	for k := range q {
		lk := strings.ToLower(k)
		if trackingParams[lk] || trackingParams[k] || strings.HasPrefix(lk, "utm_") || strings.HasPrefix(lk, "pf_rd_") || strings.HasPrefix(lk, "pd_rd_") {
			q.Del(k)
		}
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		vs := q[k]
		sort.Strings(vs)
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(v))
		}
	}
	u.RawQuery = b.String()
	u.ForceQuery = false
	return u.String(), nil
}

// Status is where a listing stands in the analysts' workflow.
type Status string

// The statuses a listing moves through. A listing starts as StatusNew; an
// analyst confirms or dismisses it; a confirmed listing whose notice was sent
// ends as StatusRemoved or StatusStillUp once verified.
const (
	StatusNew       Status = "new"
	StatusConfirmed Status = "confirmed"
	StatusDismissed Status = "dismissed"
	StatusNoticed   Status = "noticed"
	StatusRemoved   Status = "removed"
	StatusStillUp   Status = "still_up"
)

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusNew, StatusConfirmed, StatusDismissed, StatusNoticed, StatusRemoved, StatusStillUp:
		return true
	}
	return false
}

// Image is one photo of a listing, as fetched and hashed. The bytes live in
// the store under SHA256; only the hashes travel with the listing.
type Image struct {
	URL    string `json:"url"`
	SHA256 string `json:"sha256,omitempty"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
	// Perceptual hashes (64 bits each); zero with HashErr set when the image
	// could not be fetched or decoded.
	PHash uint64 `json:"phash,omitempty"`
	DHash uint64 `json:"dhash,omitempty"`
	AHash uint64 `json:"ahash,omitempty"`
	// MirrorPHash is the pHash of the horizontally mirrored image: a mirror
	// moves pHash by about half its bits, so it is queried separately.
	MirrorPHash uint64 `json:"mirror_phash,omitempty"`
	// CropPHash is the pHash of the central region, which survives crops
	// and borders better than the whole-image hash.
	CropPHash uint64 `json:"crop_phash,omitempty"`
	// FullPHash is the pHash of the whole image when uniform borders were
	// trimmed before hashing (zero otherwise): a brightened copy whose
	// background clipped to white trims differently from the original.
	FullPHash uint64 `json:"full_phash,omitempty"`
	// Crops are the pHashes of nine crops keeping 90% of each side
	// (corners, edge midpoints, centre), which a copy cropped by about 10%
	// is close to.
	Crops   []uint64 `json:"crops,omitempty"`
	HashErr string   `json:"hash_error,omitempty"`
}

// Signal is one piece of evidence the matcher found, with the weight it
// contributed and a detail an analyst can read.
type Signal struct {
	Name   string  `json:"name"`
	Detail string  `json:"detail"`
	Weight float64 `json:"weight"`
}

// Listing is one product page on a marketplace, as extracted and judged.
type Listing struct {
	ID          ID     `json:"id"`
	Marketplace string `json:"marketplace"`
	// URL is canonical (see CanonicalURL); FinalURL is where the last fetch
	// ended after redirects.
	URL         string  `json:"url"`
	FinalURL    string  `json:"final_url,omitempty"`
	Title       string  `json:"title"`
	Description string  `json:"description,omitempty"`
	Seller      string  `json:"seller"`
	Price       float64 `json:"price"`
	Currency    string  `json:"currency"`
	// PriceText is the price as the page showed it, kept for the analyst.
	PriceText string  `json:"price_text,omitempty"`
	Images    []Image `json:"images,omitempty"`
	// Sources names where each extracted field came from ("selector",
	// "jsonld", "microdata", "opengraph"), so a wrong value can be traced.
	Sources map[string]string `json:"sources,omitempty"`
	// Queries are the search terms that led to the listing.
	Queries []string `json:"queries,omitempty"`

	// Brand is the brand the matcher judged the listing against ("" when no
	// brand matched).
	Brand   string   `json:"brand"`
	Score   float64  `json:"score"`
	Flagged bool     `json:"flagged"`
	Signals []Signal `json:"signals"`
	Status  Status   `json:"status"`

	// ContentHash is the sha256 of the extracted fields; a listing whose
	// hash has not changed since the last sweep is not re-processed.
	ContentHash string `json:"content_hash,omitempty"`
	// SnapshotSHA256 is the sha256 of the HTML of the latest snapshot.
	SnapshotSHA256 string    `json:"snapshot_sha256,omitempty"`
	FirstSeen      time.Time `json:"first_seen"`
	LastSeen       time.Time `json:"last_seen"`
	FetchedAt      time.Time `json:"fetched_at"`
	SweepID        string    `json:"sweep_id,omitempty"`
}

// ComputeContentHash returns the sha256 over the fields that, when they
// change, make a listing worth judging again.
func (l *Listing) ComputeContentHash() string {
	h := sha256.New()
	write := func(s string) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	write(l.Title)
	write(l.Description)
	write(l.Seller)
	write(fmt.Sprintf("%.4f", l.Price))
	write(l.Currency)
	for _, img := range l.Images {
		write(img.URL)
		write(img.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Snapshot is the evidence a listing was judged on: the exact HTML as
// fetched, never overwritten.
type Snapshot struct {
	ListingID ID        `json:"listing_id"`
	SHA256    string    `json:"sha256"`
	URL       string    `json:"url"`
	FinalURL  string    `json:"final_url"`
	Status    int       `json:"status"`
	FetchedAt time.Time `json:"fetched_at"`
	// HTML is the uncompressed page; the store compresses it.
	HTML []byte `json:"-"`
}

// Verdict is an analyst's decision on a listing.
type Verdict struct {
	ListingID ID        `json:"listing_id"`
	Status    Status    `json:"status"`
	Previous  Status    `json:"previous"`
	Analyst   string    `json:"analyst"`
	Note      string    `json:"note,omitempty"`
	At        time.Time `json:"at"`
}

// SweepState says how a sweep ended, or that it is still going.
type SweepState string

// Sweep states. An interrupted sweep left a frontier that the next sweep
// resumes.
const (
	SweepRunning     SweepState = "running"
	SweepDone        SweepState = "done"
	SweepInterrupted SweepState = "interrupted"
	SweepFailed      SweepState = "failed"
)

// Failure is one page that could not be fetched or processed during a
// sweep. The sweep records it and goes on.
type Failure struct {
	URL   string    `json:"url"`
	Kind  string    `json:"kind"` // "fetch", "blocked", "robots", "extract", "image", "store"
	Error string    `json:"error"`
	At    time.Time `json:"at"`
}

// SweepCounters are the figures of one sweep.
type SweepCounters struct {
	SearchPages  int `json:"search_pages"`
	ListingPages int `json:"listing_pages"`
	Images       int `json:"images"`
	Found        int `json:"found"`
	New          int `json:"new"`
	Changed      int `json:"changed"`
	Unchanged    int `json:"unchanged"`
	Flagged      int `json:"flagged"`
	Errors       int `json:"errors"`
	Blocked      int `json:"blocked"`
}

// Sweep records one run over marketplaces × brands.
type Sweep struct {
	ID           string        `json:"id"`
	Started      time.Time     `json:"started"`
	Ended        time.Time     `json:"ended,omitempty"`
	State        SweepState    `json:"state"`
	Marketplaces []string      `json:"marketplaces,omitempty"`
	Brands       []string      `json:"brands,omitempty"`
	Counters     SweepCounters `json:"counters"`
	// Failures holds the first failures (bounded by the store) with their
	// reasons; Counters.Errors counts them all.
	Failures []Failure `json:"failures,omitempty"`
}
