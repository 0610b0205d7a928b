package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/patrol-dev/patrol/listing"
)

// The listings and their evidence are laid out so that a batch of new
// listings appends to sequence-numbered buckets and inserts at random
// places into one bucket of small entries. Listing IDs are hashes, so a
// bucket keyed by ID takes a batch's inserts at random places and rewrites
// about one page per insert: with the listing records, the snapshot
// records and the seller index all keyed by ID, a batch of 500 new
// listings rewrote about 1,500 scattered pages. Now the records live under
// sequence numbers (appended, pages filled), by_id maps each ID to its
// sequence numbers in a few bytes, and the seller index ends with the
// sequence number, so a seller's new listings land side by side (a batch
// from many sellers still inserts at random places there).
//
//	listing_recs  seq(8) → JSON listing.Listing
//	snapshots     seq(8) → JSON listing.Snapshot \x00 gzip HTML
//	by_id         id → idEntry (uvarints: listing seq or 0, snapshot seqs)
//	seller_seqs   marketplace \x00 seller \x00 listing seq(8) → nil
//
// Files written before this layout (layout 1) had listings (id → JSON),
// by_seller (marketplace \x00 seller \x00 id) and snap_meta (id \x00
// fetchedAt(8) \x00 sha → record), and before that snap_html for the
// HTML. Open moves the listings into the new buckets in one transaction
// (createLayout). The old snapshots stay where they are and are read and
// purged there: moving them would copy every piece of evidence through
// memory in one transaction, and nothing appends to those buckets any
// more.
var (
	bucketListingRecs = []byte("listing_recs")
	bucketSnapshots   = []byte("snapshots")
	bucketIDs         = []byte("by_id")
	bucketSellerSeqs  = []byte("seller_seqs")

	bucketOldListings = []byte("listings")  // layout 1: id → JSON listing.Listing
	bucketOldBySeller = []byte("by_seller") // layout 1: marketplace \x00 seller \x00 id → nil
	bucketOldSnapMeta = []byte("snap_meta") // layout 1: id \x00 fetchedAt(8) \x00 sha → JSON listing.Snapshot [\x00 gzip HTML]
	bucketOldSnapHTML = []byte("snap_html") // before snap_meta kept the HTML: id \x00 sha → gzip HTML
)

// Fill factors of the appended buckets. bbolt splits a page at half full
// by default, which suits random inserts; appended records would then
// leave every page half empty, and a batch would write twice the pages.
// Snapshots are never rewritten, so their pages are filled. Listing
// records are rewritten in place when a sweep sees them again or an
// analyst decides, so their pages keep a tenth free for records that
// grow, instead of splitting at the first byte.
const (
	fillSnapshots   = 1.0
	fillListingRecs = 0.9
)

// idEntry is what by_id keeps for one listing ID.
type idEntry struct {
	// listing is the listing_recs key of the listing, 0 when there is
	// none (deleted, or evidence stored before its listing).
	listing uint64
	// snaps are the snapshots keys of its evidence, oldest first.
	snaps []uint64
}

// appendTo encodes e as uvarints: an entry is a few bytes, which keeps
// by_id, the one bucket a batch updates at random places, small.
func (e idEntry) appendTo(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, e.listing)
	for _, s := range e.snaps {
		dst = binary.AppendUvarint(dst, s)
	}
	return dst
}

var errBadIDEntry = errors.New("corrupt id entry")

// parseIDEntry decodes what appendTo encoded.
func parseIDEntry(v []byte) (idEntry, error) {
	var e idEntry
	first := true
	for len(v) > 0 {
		n, w := binary.Uvarint(v)
		if w <= 0 {
			return idEntry{}, errBadIDEntry
		}
		v = v[w:]
		if first {
			e.listing, first = n, false
			continue
		}
		e.snaps = append(e.snaps, n)
	}
	if first {
		return idEntry{}, errBadIDEntry
	}
	return e, nil
}

// loadIDEntry returns the entry of id (the zero entry when there is none).
func loadIDEntry(tx *bolt.Tx, id listing.ID) (idEntry, error) {
	v := tx.Bucket(bucketIDs).Get([]byte(id))
	if v == nil {
		return idEntry{}, nil
	}
	e, err := parseIDEntry(v)
	if err != nil {
		return e, fmt.Errorf("read index of %s: %w", id, err)
	}
	return e, nil
}

// storeIDEntry writes the entry of id, or removes it when it points at
// nothing.
func storeIDEntry(tx *bolt.Tx, id listing.ID, e idEntry) error {
	b := tx.Bucket(bucketIDs)
	var err error
	if e.listing == 0 && len(e.snaps) == 0 {
		err = b.Delete([]byte(id))
	} else {
		err = b.Put([]byte(id), e.appendTo(nil))
	}
	if err != nil {
		return fmt.Errorf("index %s: %w", id, err)
	}
	return nil
}

// listingSeq returns the listing_recs key of id (0 when it has no
// listing), reading only the first uvarint of its entry.
func listingSeq(tx *bolt.Tx, id listing.ID) (uint64, error) {
	v := tx.Bucket(bucketIDs).Get([]byte(id))
	if v == nil {
		return 0, nil
	}
	n, w := binary.Uvarint(v)
	if w <= 0 {
		return 0, fmt.Errorf("read index of %s: %w", id, errBadIDEntry)
	}
	return n, nil
}

func seqKey(seq uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seq)
	return b[:]
}

// listingRecs returns the listing records bucket of a write transaction,
// with its fill factor (bbolt keeps it per transaction, not in the file).
func listingRecs(tx *bolt.Tx) *bolt.Bucket {
	b := tx.Bucket(bucketListingRecs)
	if tx.Writable() {
		b.FillPercent = fillListingRecs
	}
	return b
}

// snapshotRecs is listingRecs for the snapshot records.
func snapshotRecs(tx *bolt.Tx) *bolt.Bucket {
	b := tx.Bucket(bucketSnapshots)
	if tx.Writable() {
		b.FillPercent = fillSnapshots
	}
	return b
}

// sellerKey is the seller_seqs key of the listing stored under seq.
func sellerKey(marketplace, seller string, seq uint64) []byte {
	return join([]byte(marketplace), []byte(seller), seqKey(seq))
}

// createLayout creates the buckets of the current layout where they are
// missing and moves any listings found in the layout 1 buckets into them:
// those of a file written before the layout changed, or written since by
// an older patrol (whose copy is then the newer one). It runs in Open's
// transaction, so a crash leaves the file either as it was or moved.
func createLayout(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketListingRecs, bucketSnapshots, bucketIDs, bucketSellerSeqs} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	old := tx.Bucket(bucketOldListings)
	if old == nil {
		return nil
	}
	// Keys come in ID order: listing_recs and by_id are appended to.
	err := old.ForEach(func(k, v []byte) error {
		var l sellerFields
		if err := json.Unmarshal(v, &l); err != nil {
			return fmt.Errorf("decode listing %s: %w", k, err)
		}
		// bbolt keeps v valid until the transaction ends, dropped
		// bucket or not.
		return putListingJSON(tx, listing.Listing{ID: listing.ID(k), Marketplace: l.Marketplace, Seller: l.Seller}, v)
	})
	if err != nil {
		return fmt.Errorf("move listings to the new layout: %w", err)
	}
	for _, name := range [][]byte{bucketOldListings, bucketOldBySeller} {
		if tx.Bucket(name) == nil {
			continue
		}
		if err := tx.DeleteBucket(name); err != nil {
			return fmt.Errorf("drop bucket %s: %w", name, err)
		}
	}
	return nil
}

// oldSnapshots walks the layout 1 snapshot records of id, calling fn with
// each key and record until it returns false.
func oldSnapshots(tx *bolt.Tx, id listing.ID, fn func(k, v []byte) bool) {
	b := tx.Bucket(bucketOldSnapMeta)
	if b == nil {
		return
	}
	prefix := join([]byte(id), nil)
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if !fn(k, v) {
			return
		}
	}
}
