package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/patrol-dev/patrol/listing"
)

// RetentionPolicy says which listings Purge removes. A zero duration turns
// its rule off; a zero policy purges nothing.
type RetentionPolicy struct {
	// DismissedOlderThan purges listings an analyst dismissed that no
	// sweep has seen for this long.
	DismissedOlderThan time.Duration
	// UnchangedOlderThan purges listings that were never flagged nor
	// reviewed (status new, not flagged) and that no sweep has seen
	// (hence changed) for this long.
	UnchangedOlderThan time.Duration
	// Now is the reference time (default time.Now).
	Now time.Time
	// Keep, when set, protects more listings, e.g. ones cited by notices
	// kept outside the store. Listings cited by a stored notice or test
	// buy, and confirmed (or later) or flagged-but-unreviewed listings,
	// are never purged whatever Keep says.
	Keep func(listing.ID) bool
	// DryRun counts what would be purged without removing anything.
	DryRun bool
	// ChunkSize is how many listings one write transaction removes
	// (default 256), so that a large purge does not hold the writer lock
	// for long.
	ChunkSize int
}

// PurgeStats counts what Purge removed (or would remove, in a dry run).
type PurgeStats struct {
	Listings  int `json:"listings"`
	Dismissed int `json:"dismissed"`
	Unchanged int `json:"unchanged"`
	Snapshots int `json:"snapshots"`
	Verdicts  int `json:"verdicts"`
	Images    int `json:"images"`
	// Bytes is the size of the removed values (compressed snapshots,
	// images, records); the file shrinks only on compaction, bbolt reuses
	// the freed pages.
	Bytes int64 `json:"bytes"`
	// Purged are the listings removed (in a dry run, those that would be),
	// so the caller can drop them from the search index.
	Purged []listing.ID `json:"purged,omitempty"`
}

// Purge removes the listings p selects together with their seller-index
// entry, evidence snapshots, verdicts, and the images no remaining listing
// uses. Evidence cited by a notice or a test buy is never removed. Each
// chunk of listings goes in one transaction and every candidate is checked
// again inside it, so a listing a concurrent sweep saw again or an analyst
// confirmed meanwhile stays.
func (s *Store) Purge(ctx context.Context, p RetentionPolicy) (PurgeStats, error) {
	var st PurgeStats
	if p.DismissedOlderThan <= 0 && p.UnchangedOlderThan <= 0 {
		return st, nil
	}
	if p.Now.IsZero() {
		p.Now = time.Now()
	}
	if p.ChunkSize <= 0 {
		p.ChunkSize = 256
	}
	var candidates []listing.ID
	err := s.EachListing(ctx, func(l listing.Listing) error {
		if purgeRule(l, p) != "" {
			candidates = append(candidates, l.ID)
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("purge: %w", err)
	}

	images := map[string]bool{} // images of purged listings: removed unless still used
	purged := map[string]bool{} // for a dry run, where the listings stay
	for start := 0; start < len(candidates); start += p.ChunkSize {
		if err := ctxErr(ctx); err != nil {
			return st, fmt.Errorf("purge: %w", err)
		}
		chunk := candidates[start:min(start+p.ChunkSize, len(candidates))]
		var cs PurgeStats
		chunkImages := map[string]bool{}
		var chunkPurged []listing.ID
		fn := func(tx *bolt.Tx) error {
			cs, chunkPurged = PurgeStats{}, chunkPurged[:0]
			clear(chunkImages)
			for _, id := range chunk {
				done, err := s.purgeListing(tx, id, p, &cs, chunkImages)
				if err != nil {
					return err
				}
				if done {
					chunkPurged = append(chunkPurged, id)
				}
			}
			return nil
		}
		if err = s.purgeTx(p, fn); err != nil {
			return st, fmt.Errorf("purge: %w", err)
		}
		st.add(cs)
		for sha := range chunkImages {
			images[sha] = true
		}
		for _, id := range chunkPurged {
			purged[string(id)] = true
		}
		st.Purged = append(st.Purged, chunkPurged...)
	}
	if len(images) == 0 {
		return st, nil
	}
	fn := func(tx *bolt.Tx) error {
		n, size, err := dropUnusedImages(tx, images, purged, p.DryRun)
		st.Images, st.Bytes = st.Images+n, st.Bytes+size
		return err
	}
	if err := s.purgeTx(p, fn); err != nil {
		return st, fmt.Errorf("purge images: %w", err)
	}
	return st, nil
}

// purgeTx runs fn in a read-only transaction for a dry run, so that
// counting what would go can never remove anything, and in a write
// transaction otherwise.
func (s *Store) purgeTx(p RetentionPolicy, fn func(*bolt.Tx) error) error {
	if p.DryRun {
		return s.db.View(fn)
	}
	return s.db.Update(fn)
}

func (st *PurgeStats) add(o PurgeStats) {
	st.Listings += o.Listings
	st.Dismissed += o.Dismissed
	st.Unchanged += o.Unchanged
	st.Snapshots += o.Snapshots
	st.Verdicts += o.Verdicts
	st.Images += o.Images
	st.Bytes += o.Bytes
}

// Purge rules.
const (
	ruleDismissed = "dismissed"
	ruleUnchanged = "unchanged"
)

// purgeRule says which rule of p selects l ("" for none), before the
// checks that need the transaction (notices, test buys).
func purgeRule(l listing.Listing, p RetentionPolicy) string {
	seen := l.LastSeen
	if seen.IsZero() {
		seen = l.FetchedAt
	}
	if seen.IsZero() {
		return ""
	}
	age := p.Now.Sub(seen)
	switch {
	case l.Status == listing.StatusDismissed && p.DismissedOlderThan > 0 && age > p.DismissedOlderThan:
		return ruleDismissed
	case l.Status == listing.StatusNew && !l.Flagged && p.UnchangedOlderThan > 0 && age > p.UnchangedOlderThan:
		return ruleUnchanged
	}
	return ""
}

// cited reports whether a notice or a test buy refers to id.
func cited(tx *bolt.Tx, id listing.ID) bool {
	prefix := join([]byte(id), nil)
	for _, name := range [][]byte{bucketNoticesByListing, bucketTestBuys} {
		b := tx.Bucket(name)
		if b == nil {
			continue
		}
		if k, _ := b.Cursor().Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// purgeListing removes one listing and its evidence if it still qualifies,
// adding what it removed to st and its image hashes to images; done says
// whether it qualified.
func (s *Store) purgeListing(tx *bolt.Tx, id listing.ID, p RetentionPolicy, st *PurgeStats, images map[string]bool) (done bool, err error) {
	l, ok, err := getListing(tx, id)
	if err != nil || !ok {
		return false, err
	}
	rule := purgeRule(l, p)
	if rule == "" || cited(tx, id) || (p.Keep != nil && p.Keep(id)) {
		return false, nil
	}
	e, err := loadIDEntry(tx, id)
	if err != nil {
		return false, err
	}
	prefix := join([]byte(id), nil)
	for _, b := range []struct {
		name  []byte
		count *int
	}{
		{bucketOldSnapMeta, &st.Snapshots},
		{bucketOldSnapHTML, nil},
		{bucketVerdicts, &st.Verdicts},
	} {
		bk := tx.Bucket(b.name)
		if bk == nil {
			continue // a file that never had the layout 1 buckets
		}
		n, size, err := deletePrefix(bk, prefix, p.DryRun)
		if err != nil {
			return false, fmt.Errorf("purge %s of %s: %w", b.name, id, err)
		}
		if b.count != nil {
			*b.count += n
		}
		st.Bytes += size
	}
	snaps := tx.Bucket(bucketSnapshots)
	for _, seq := range e.snaps {
		v := snaps.Get(seqKey(seq))
		if v == nil {
			continue
		}
		st.Snapshots++
		st.Bytes += int64(len(v))
		if !p.DryRun {
			if err := snaps.Delete(seqKey(seq)); err != nil {
				return false, fmt.Errorf("purge snapshots of %s: %w", id, err)
			}
		}
	}
	st.Bytes += int64(len(tx.Bucket(bucketListingRecs).Get(seqKey(e.listing))))
	if !p.DryRun {
		if err := deleteListingRecord(tx, id, e.listing); err != nil {
			return false, err
		}
		if err := storeIDEntry(tx, id, idEntry{}); err != nil {
			return false, err
		}
	}
	st.Listings++
	if rule == ruleDismissed {
		st.Dismissed++
	} else {
		st.Unchanged++
	}
	for _, img := range l.Images {
		if img.SHA256 != "" {
			images[img.SHA256] = true
		}
	}
	return true, nil
}

// deletePrefix removes (or, in a dry run, counts) the keys of b that start
// with prefix.
func deletePrefix(b *bolt.Bucket, prefix []byte, dryRun bool) (int, int64, error) {
	var keys [][]byte
	var size int64
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
		size += int64(len(v))
	}
	if !dryRun {
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return 0, 0, err
			}
		}
	}
	return len(keys), size, nil
}

// dropUnusedImages removes the images among candidates that no stored
// listing (other than the purged ones, still there in a dry run) refers
// to. It reads every listing in the same transaction, so a listing saved
// concurrently cannot lose its image.
func dropUnusedImages(tx *bolt.Tx, candidates, purged map[string]bool, dryRun bool) (int, int64, error) {
	used := map[string]bool{}
	err := tx.Bucket(bucketListingRecs).ForEach(func(k, v []byte) error {
		// Only the images matter: skip decoding the rest.
		var l struct {
			ID     string `json:"id"`
			Images []struct {
				SHA256 string `json:"sha256"`
			} `json:"images"`
		}
		if err := json.Unmarshal(v, &l); err != nil {
			return fmt.Errorf("decode listing %x: %w", k, err)
		}
		if dryRun && purged[l.ID] {
			return nil
		}
		for _, img := range l.Images {
			if candidates[img.SHA256] {
				used[img.SHA256] = true
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	b := tx.Bucket(bucketImages)
	n, size := 0, int64(0)
	for sha := range candidates {
		if used[sha] {
			continue
		}
		v := b.Get([]byte(sha))
		if v == nil {
			continue
		}
		n++
		size += int64(len(v))
		if !dryRun {
			if err := b.Delete([]byte(sha)); err != nil {
				return n, size, fmt.Errorf("delete image %s: %w", sha, err)
			}
		}
	}
	return n, size, nil
}
