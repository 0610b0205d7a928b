package sweep

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/patrol-dev/patrol/imagehash"
	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/store"
)

// sharedPhotoRadius is the pHash distance under which two listings' photos
// count as the same photo for the "shared with other sellers' flagged
// listings" signal; it matches the near-duplicate threshold of imagehash.
const sharedPhotoRadius = 8

// history answers the matcher's questions about what patrol saw before:
// confirmed infringements per seller and the photos of flagged listings.
// It is built from the store at the start of a sweep and grows as the
// sweep flags listings.
type history struct {
	mu        sync.RWMutex
	confirmed map[string]int        // marketplace \x00 seller → confirmed listings
	photos    *imagehash.Index      // pHash of flagged listings' photos
	owner     map[string]photoOwner // photo entry id → whose listing
	flagged   map[listing.ID]bool
}

// photoOwner is the listing a photo in the index belongs to.
type photoOwner struct {
	seller  string // normSeller of the listing's seller
	listing listing.ID
}

func normSeller(seller string) string {
	return strings.ToLower(strings.TrimSpace(seller))
}

func sellerKey(marketplace, seller string) string {
	return marketplace + "\x00" + normSeller(seller)
}

func newHistory(ctx context.Context, st *store.Store) (*history, error) {
	h := &history{
		confirmed: map[string]int{},
		photos:    imagehash.NewIndex(),
		owner:     map[string]photoOwner{},
		flagged:   map[listing.ID]bool{},
	}
	err := st.EachListing(ctx, func(l listing.Listing) error {
		if store.IsConfirmed(l.Status) {
			h.confirmed[sellerKey(l.Marketplace, l.Seller)]++
		}
		if l.Flagged && l.Status != listing.StatusDismissed {
			h.addFlaggedLocked(l)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load history from store: %w", err)
	}
	return h, nil
}

func (h *history) addFlagged(l listing.Listing) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.addFlaggedLocked(l)
}

func (h *history) addFlaggedLocked(l listing.Listing) {
	if h.flagged[l.ID] {
		return
	}
	h.flagged[l.ID] = true
	for i, img := range l.Images {
		if img.PHash == 0 || img.HashErr != "" {
			continue
		}
		id := fmt.Sprintf("%s#%d", l.ID, i)
		h.photos.Add(id, img.PHash)
		h.owner[id] = photoOwner{seller: normSeller(l.Seller), listing: l.ID}
	}
}

// ConfirmedBySeller implements matcher.History.
func (h *history) ConfirmedBySeller(marketplace, seller string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.confirmed[sellerKey(marketplace, seller)]
}

// FlaggedWithPhoto implements matcher.History: the IDs of flagged listings
// of other sellers whose photo is the same as img.
func (h *history) FlaggedWithPhoto(img listing.Image, exceptSeller string) []string {
	if img.PHash == 0 {
		return nil
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	except := normSeller(exceptSeller)
	var out []string
	seen := map[listing.ID]bool{}
	for _, hit := range h.photos.Query(img.PHash, sharedPhotoRadius) {
		ow, ok := h.owner[hit.ID]
		// A copy on any marketplace counts, but not the seller's own.
		if !ok || ow.seller == except || seen[ow.listing] {
			continue
		}
		seen[ow.listing] = true
		out = append(out, string(ow.listing))
	}
	return out
}
