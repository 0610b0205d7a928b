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
// by_id still took a batch's inserts at random places: at 60,000
// listings (800 by_id pages) a batch of 500 new ones wrote 434 pages,
// most of them by_id's, and building and writing them was close to half of
// the batch. So a new ID goes first to by_id_recent, which holds at most
// maxRecentIDs IDs (about a hundred pages), and when it is full it is
// merged into by_id in key order: by_id's pages are rewritten once for
// 8,192 new IDs instead of about once for every 500. The same batch now
// writes about 200 pages, plus a merge every 16 batches. An ID is in one
// of the two at most; an ID already in by_id is updated there.
//
//	listing_recs  seq(8) → JSON listing.Listing
//	snapshots     seq(8) → JSON listing.Snapshot \x00 gzip HTML
//	by_id         id → idEntry (uvarints: listing seq or 0, snapshot seqs)
//	by_id_recent  id → idEntry, for IDs first stored since the last merge;
//	              its bucket sequence counts them
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
	bucketRecentIDs   = []byte("by_id_recent")
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

// maxRecentIDs is how many IDs by_id_recent takes before it is merged
// into by_id. A merge rewrites up to all of by_id's pages, and between
// merges a batch rewrites up to all of by_id_recent's (a page holds about
// 80 IDs). Writing 60,000 listings, merges included, 8,192 was as fast
// as 4,096 and faster than 16,384. The gain shrinks as by_id grows: by a
// rough count, at a million listings a merge rewrites about 6,000 pages
// and a batch of 500 costs about 420 pages against 500 without
// by_id_recent.
const maxRecentIDs = 8192

// getIDEntry returns the stored entry of id, nil when there is none.
func getIDEntry(tx *bolt.Tx, id listing.ID) []byte {
	if v := tx.Bucket(bucketRecentIDs).Get([]byte(id)); v != nil {
		return v
	}
	return tx.Bucket(bucketIDs).Get([]byte(id))
}

// loadIDEntry returns the entry of id (the zero entry when there is none).
func loadIDEntry(tx *bolt.Tx, id listing.ID) (idEntry, error) {
	v := getIDEntry(tx, id)
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
// nothing. An ID already indexed stays in the bucket it is in; a new one
// goes to by_id_recent, which is merged into by_id when it is full. The
// bucket is looked up here, not remembered by loadIDEntry, because a
// merge for another ID may have moved it since.
func storeIDEntry(tx *bolt.Tx, id listing.ID, e idEntry) error {
	recent, main := tx.Bucket(bucketRecentIDs), tx.Bucket(bucketIDs)
	k := []byte(id)
	b, isNew := recent, false
	if recent.Get(k) == nil {
		if main.Get(k) != nil {
			b = main
		} else {
			isNew = true
		}
	}
	if e.listing == 0 && len(e.snaps) == 0 {
		if isNew {
			return nil
		}
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("index %s: %w", id, err)
		}
		if b == recent {
			return countRecentIDs(recent, -1)
		}
		return nil
	}
	if err := b.Put(k, e.appendTo(nil)); err != nil {
		return fmt.Errorf("index %s: %w", id, err)
	}
	if !isNew {
		return nil
	}
	if err := countRecentIDs(recent, +1); err != nil {
		return err
	}
	if recent.Sequence() >= maxRecentIDs {
		return mergeRecentIDs(tx)
	}
	return nil
}

// countRecentIDs adds d to the count of IDs in by_id_recent, kept in its
// bucket sequence (which needs no page of its own). The count only times
// the merges: a wrong one merges early or late, never loses an entry.
func countRecentIDs(recent *bolt.Bucket, d int) error {
	n := recent.Sequence()
	if d < 0 && n == 0 {
		return nil
	}
	if err := recent.SetSequence(uint64(int64(n) + int64(d))); err != nil {
		return fmt.Errorf("count recent ids: %w", err)
	}
	return nil
}

// mergeRecentIDs moves every entry of by_id_recent into by_id, in key
// order, and empties by_id_recent. Dropping and recreating the bucket
// frees its pages at once, where deleting its keys would rewrite them.
func mergeRecentIDs(tx *bolt.Tx) error {
	main := tx.Bucket(bucketIDs)
	c := tx.Bucket(bucketRecentIDs).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		// bbolt keeps v valid until the transaction ends, dropped
		// bucket or not.
		if err := main.Put(k, v); err != nil {
			return fmt.Errorf("merge recent ids: index %s: %w", k, err)
		}
	}
	if err := tx.DeleteBucket(bucketRecentIDs); err != nil {
		return fmt.Errorf("merge recent ids: %w", err)
	}
	if _, err := tx.CreateBucket(bucketRecentIDs); err != nil {
		return fmt.Errorf("merge recent ids: %w", err)
	}
	return nil
}

// eachIDEntry calls fn with every indexed ID and its encoded entry, in ID
// order across by_id and by_id_recent, until fn returns an error.
func eachIDEntry(tx *bolt.Tx, fn func(id, e []byte) error) error {
	mc, rc := tx.Bucket(bucketIDs).Cursor(), tx.Bucket(bucketRecentIDs).Cursor()
	mk, mv := mc.First()
	rk, rv := rc.First()
	for mk != nil || rk != nil {
		var err error
		if rk == nil || (mk != nil && bytes.Compare(mk, rk) < 0) {
			err = fn(mk, mv)
			mk, mv = mc.Next()
		} else {
			err = fn(rk, rv)
			rk, rv = rc.Next()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// listingSeq returns the listing_recs key of id (0 when it has no
// listing), reading only the first uvarint of its entry.
func listingSeq(tx *bolt.Tx, id listing.ID) (uint64, error) {
	v := getIDEntry(tx, id)
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
	for _, name := range [][]byte{bucketListingRecs, bucketSnapshots, bucketIDs, bucketRecentIDs, bucketSellerSeqs} {
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
