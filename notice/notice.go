// Package notice turns confirmed listings into takedown notices that a
// platform will accept: it refuses listings that lack grounds or evidence,
// groups and splits the rest by each platform's rules, renders them as text,
// CSV or JSON, and computes the accuracy record that enforcement programmes
// judge a rights holder by.
//
// Scraped content is only ever data: it is never executed as a template,
// control characters are removed from it, and CSV cells that a spreadsheet
// would evaluate as formulas are quoted.
package notice

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/patrol-dev/patrol/listing"
)

// Owner is the rights holder named in notices, with the contact details
// every procedure requires.
type Owner struct {
	Name    string
	Email   string
	Address string
	Phone   string
	// Signatory is the person who signs for the owner; Name when empty.
	Signatory string
	// Accounts are the owner's accounts on the platforms' programmes, keyed
	// by platform (e.g. the Alibaba IPP or Brand Registry login); Email when
	// absent.
	Accounts map[Platform]string
}

// Trademark is a registered mark cited in notices.
type Trademark struct {
	Mark         string
	Registration string
	Jurisdiction string
}

// Brand is a protected brand as far as notices are concerned.
type Brand struct {
	Name       string
	Owner      Owner
	Trademarks []Trademark
	// Works describe the copyrighted works (the brand's own product
	// photographs) that image-infringement claims rest on.
	Works []string
}

// Item is one confirmed listing offered for drafting, with the evidence
// that backs it.
type Item struct {
	Listing listing.Listing
	// Snapshot is the latest evidence snapshot's metadata (its HTML is not
	// needed); nil means the listing's SnapshotSHA256 and FetchedAt.
	Snapshot *listing.Snapshot
	// TestBuys are the analysts' test purchases from the listing.
	TestBuys []listing.TestBuy
}

// Checker tells whether a listing is still online, for listings whose
// evidence is older than DraftRequest.MaxSnapshotAge. The CLI plugs the
// crawler in.
type Checker interface {
	StillUp(ctx context.Context, l listing.Listing) (bool, error)
}

// DraftRequest is everything Draft needs; the CLI fills it from the config
// and the store.
type DraftRequest struct {
	Platform Platform
	Format   Format
	Brands   []Brand
	Items    []Item
	// Now stamps the notices; zero means time.Now().
	Now time.Time
	// Checker re-checks listings whose snapshot is older than
	// MaxSnapshotAge; nil skips the check with a warning.
	Checker        Checker
	MaxSnapshotAge time.Duration
	// Templates overrides the embedded text templates: a file named
	// PLATFORM.txt.tmpl in it replaces the built-in one. Nil uses the
	// built-in templates only.
	Templates fs.FS
	// History are the notices already on record, for the accuracy-record
	// warnings.
	History    []listing.Notice
	Thresholds Thresholds
}

// Notice is one drafted notice, ready to file.
type Notice struct {
	ID          string
	Platform    Platform
	Format      Format
	Brand       string
	Marketplace string
	Seller      string
	IPType      string
	// Part and Parts number the notices a group was split into to respect
	// the platform's limit (1 of 1 when not split).
	Part, Parts int
	ListingIDs  []listing.ID
	Body        []byte
	// Record is the notice as the store keeps it, in state drafted.
	Record listing.Notice
}

// Refusal is a listing that was not put in any notice, and why.
type Refusal struct {
	ListingID listing.ID
	URL       string
	Reason    string
}

// DraftResult is the outcome of Draft.
type DraftResult struct {
	Notices  []Notice
	Refused  []Refusal
	Warnings []string
}

// Draft runs the pre-flight check over req.Items and renders the accepted
// listings as notices for req.Platform, grouped per brand × marketplace
// (× seller or right asserted where the platform wants it) and split at the
// platform's limit. Listings that fail the check are returned as refusals,
// not errors; an error means the request itself cannot be served.
func Draft(ctx context.Context, req DraftRequest) (DraftResult, error) {
	r, ok := rules[req.Platform]
	if !ok {
		return DraftResult{}, fmt.Errorf("draft: unknown platform %q", req.Platform)
	}
	if _, err := ParseFormat(string(req.Format)); err != nil {
		return DraftResult{}, fmt.Errorf("draft: %w", err)
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	tmpl, err := loadTemplate(req.Templates, req.Platform)
	if err != nil {
		return DraftResult{}, err
	}
	pf, err := Preflight(ctx, req)
	if err != nil {
		return DraftResult{}, err
	}
	res := DraftResult{Refused: pf.Refused, Warnings: pf.Warnings}

	brands := brandsByName(req.Brands)
	type key struct{ brand, marketplace, seller, ipType string }
	groups := map[key][]accepted{}
	var keys []key
	for _, a := range pf.accepted {
		k := key{brand: a.item.Listing.Brand, marketplace: a.item.Listing.Marketplace}
		if r.perSeller {
			k.seller = a.item.Listing.Seller
		}
		if r.oneIPType {
			k.ipType = a.claim.ipType
		}
		if _, seen := groups[k]; !seen {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], a)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.brand != b.brand {
			return a.brand < b.brand
		}
		if a.marketplace != b.marketplace {
			return a.marketplace < b.marketplace
		}
		if a.seller != b.seller {
			return a.seller < b.seller
		}
		return a.ipType < b.ipType
	})
	for _, k := range keys {
		items := groups[k]
		sort.Slice(items, func(i, j int) bool { return items[i].item.Listing.ID < items[j].item.Listing.ID })
		parts := split(items, r.maxListings)
		for i, part := range parts {
			n := Notice{
				Platform:    req.Platform,
				Format:      req.Format,
				Brand:       k.brand,
				Marketplace: k.marketplace,
				Seller:      k.seller,
				IPType:      k.ipType,
				Part:        i + 1,
				Parts:       len(parts),
			}
			for _, a := range part {
				n.ListingIDs = append(n.ListingIDs, a.item.Listing.ID)
			}
			n.ID = noticeID(n)
			doc := newDocument(n, brands[k.brand], r, part, now)
			body, err := render(tmpl, req.Format, doc)
			if err != nil {
				return DraftResult{}, fmt.Errorf("draft notice %s: %w", n.ID, err)
			}
			n.Body = body
			n.Record = record(n, part, now)
			res.Notices = append(res.Notices, n)
		}
	}
	res.Warnings = append(res.Warnings, accuracyWarnings(req, res.Notices, now)...)
	return res, nil
}

// split cuts items into parts of at most max (max 0: one part).
func split(items []accepted, max int) [][]accepted {
	if max <= 0 || len(items) <= max {
		return [][]accepted{items}
	}
	var parts [][]accepted
	for len(items) > 0 {
		n := min(max, len(items))
		parts = append(parts, items[:n])
		items = items[n:]
	}
	return parts
}

// noticeID derives the ID from what the notice cites, so drafting the same
// listings again yields the same notice rather than a duplicate.
func noticeID(n Notice) string {
	h := sha256.New()
	for _, s := range []string{string(n.Platform), n.Brand, n.Marketplace, n.Seller, n.IPType} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	for _, id := range n.ListingIDs {
		h.Write([]byte(id))
		h.Write([]byte{0})
	}
	return "N" + hex.EncodeToString(h.Sum(nil))[:11]
}

// record builds the persisted form of a drafted notice.
func record(n Notice, part []accepted, now time.Time) listing.Notice {
	rec := listing.Notice{
		ID:          n.ID,
		Platform:    string(n.Platform),
		Brand:       n.Brand,
		Marketplace: n.Marketplace,
		Seller:      n.Seller,
		IPType:      n.IPType,
		State:       listing.NoticeDrafted,
		Format:      string(n.Format),
		Body:        string(n.Body),
		DraftedAt:   now,
		Events:      []listing.NoticeEvent{{At: now, State: listing.NoticeDrafted}},
	}
	for _, a := range part {
		l := a.item.Listing
		rec.Listings = append(rec.Listings, listing.NoticeListing{
			ID:             l.ID,
			URL:            l.URL,
			Seller:         l.Seller,
			Signals:        signalNames(l.Signals),
			SnapshotSHA256: a.snapshotSHA,
			Infringement:   a.claim.infringement,
			Outcome:        listing.OutcomePending,
		})
	}
	return rec
}

// signalNames returns the names of the signals that speak for the notice
// (positive weight), sorted and without duplicates.
func signalNames(sigs []listing.Signal) []string {
	seen := map[string]bool{}
	var names []string
	for _, s := range sigs {
		if s.Weight < 0 || seen[s.Name] {
			continue
		}
		seen[s.Name] = true
		names = append(names, s.Name)
	}
	sort.Strings(names)
	return names
}

func brandsByName(bs []Brand) map[string]Brand {
	m := make(map[string]Brand, len(bs))
	for _, b := range bs {
		m[b.Name] = b
	}
	return m
}

// account returns the owner's account on platform p.
func (o Owner) account(p Platform) string {
	if a := strings.TrimSpace(o.Accounts[p]); a != "" {
		return a
	}
	return o.Email
}

// signatory returns who signs for the owner.
func (o Owner) signatory() string {
	if o.Signatory != "" {
		return o.Signatory
	}
	return o.Name
}
