package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/patrol-dev/patrol/listing"
)

// indexedListing returns listing i of the ID index tests, sold by seller.
func indexedListing(i int, seller string) listing.Listing {
	u := fmt.Sprintf("http://shop.example/item/%d", i)
	return listing.Listing{ID: listing.NewID("shop", u), Marketplace: "shop", URL: u, Title: fmt.Sprintf("Item %d", i), Seller: seller}
}

// indexedFetched is indexedListing with a snapshot of version v.
func indexedFetched(i, v int, seller string) Fetched {
	l := indexedListing(i, seller)
	html := fmt.Sprintf("<html>%d v%d</html>", i, v)
	return Fetched{Listing: l, Snapshot: &listing.Snapshot{ListingID: l.ID, URL: l.URL, Status: 200, FetchedAt: time.Unix(int64(v), 0).UTC(), HTML: []byte(html)}}
}

// idBuckets reports which of by_id and by_id_recent hold id, and how
// many IDs each holds.
func idBuckets(t *testing.T, s *Store, id listing.ID) (inMain, inRecent bool, mainN, recentN int) {
	t.Helper()
	s.db.View(func(tx *bolt.Tx) error {
		m, r := tx.Bucket(bucketIDs), tx.Bucket(bucketRecentIDs)
		inMain, inRecent = m.Get([]byte(id)) != nil, r.Get([]byte(id)) != nil
		mainN, recentN = m.Stats().KeyN, r.Stats().KeyN
		return nil
	})
	return inMain, inRecent, mainN, recentN
}

// TestIDIndexAcrossMerges stores more new listings than by_id_recent
// takes, so that it is merged into by_id in the middle of a batch, then
// updates and deletes listings on both sides of the merge: every read
// must find each listing once, in ID order, before and after reopening,
// and a closed file must keep every ID in by_id.
func TestIDIndexAcrossMerges(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "patrol.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	n := maxRecentIDs + maxRecentIDs/2
	const batch = 1000
	for lo := 0; lo < n; lo += batch {
		var fs []Fetched
		for i := lo; i < min(lo+batch, n); i++ {
			fs = append(fs, indexedFetched(i, 1, "old"))
		}
		if err := s.SaveFetchedBatch(ctx, fs); err != nil {
			t.Fatal(err)
		}
	}
	// Listings of the first batches went to by_id with the merge, those
	// of the last ones are still in by_id_recent.
	merged, recent := 5, n-5
	inMain, inRecent, mainN, recentN := idBuckets(t, s, indexedListing(merged, "").ID)
	if !inMain || inRecent || mainN != maxRecentIDs || recentN != n-maxRecentIDs {
		t.Fatalf("after %d listings: listing %d in by_id %v, in by_id_recent %v; by_id %d, by_id_recent %d IDs; want true, false, %d, %d",
			n, merged, inMain, inRecent, mainN, recentN, maxRecentIDs, n-maxRecentIDs)
	}
	if inMain, inRecent, _, _ := idBuckets(t, s, indexedListing(recent, "").ID); inMain || !inRecent {
		t.Fatalf("listing %d in by_id %v, in by_id_recent %v, want false, true", recent, inMain, inRecent)
	}

	// A new version of a listing on each side of the merge, with a new
	// seller; a deletion on each side; evidence of a listing never
	// stored.
	if err := s.SaveFetchedBatch(ctx, []Fetched{indexedFetched(merged, 2, "new"), indexedFetched(recent, 2, "new")}); err != nil {
		t.Fatal(err)
	}
	deleted := []int{merged + 1, recent - 1}
	for _, i := range deleted {
		if err := s.DeleteListing(ctx, indexedListing(i, "").ID); err != nil {
			t.Fatal(err)
		}
	}
	orphan := indexedListing(n+1, "")
	if err := s.PutSnapshot(ctx, listing.Snapshot{ListingID: orphan.ID, URL: orphan.URL, HTML: []byte("<html>orphan</html>")}); err != nil {
		t.Fatal(err)
	}

	check := func(t *testing.T) {
		t.Helper()
		var ids []listing.ID
		err := s.EachListing(ctx, func(l listing.Listing) error {
			ids = append(ids, l.ID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != n-len(deleted) || !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
			t.Errorf("EachListing gave %d IDs (sorted %v), want %d distinct in order", len(ids), slices.IsSorted(ids), n-len(deleted))
		}
		if got, err := s.CountListings(ctx); err != nil || got != n-len(deleted) {
			t.Errorf("CountListings = %d, %v, want %d", got, err, n-len(deleted))
		}
		for _, i := range []int{0, merged, recent, n - 1} {
			if _, err := s.Listing(ctx, indexedListing(i, "").ID); err != nil {
				t.Errorf("Listing(%d) = %v", i, err)
			}
		}
		for _, i := range deleted {
			if _, err := s.Listing(ctx, indexedListing(i, "").ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("Listing(deleted %d) = %v, want ErrNotFound", i, err)
			}
			if snaps, err := s.Snapshots(ctx, indexedListing(i, "").ID); err != nil || len(snaps) != 1 {
				t.Errorf("Snapshots(deleted %d) = %d, %v, want its 1 snapshot kept", i, len(snaps), err)
			}
		}
		for _, i := range []int{merged, recent} {
			if snaps, err := s.Snapshots(ctx, indexedListing(i, "").ID); err != nil || len(snaps) != 2 {
				t.Errorf("Snapshots(%d) = %d, %v, want 2", i, len(snaps), err)
			}
		}
		if snaps, err := s.Snapshots(ctx, orphan.ID); err != nil || len(snaps) != 1 {
			t.Errorf("Snapshots(orphan) = %d, %v, want 1", len(snaps), err)
		}
		ls, err := s.ListingsBySeller(ctx, "shop", "new")
		if err != nil || len(ls) != 2 {
			t.Errorf("ListingsBySeller(new) = %d listings, %v, want 2", len(ls), err)
		}
	}
	t.Run("open", check)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	// Deleted listings keep their evidence, so their IDs stay indexed.
	if _, _, mainN, recentN := idBuckets(t, s, ""); mainN != n+1 || recentN != 0 {
		t.Errorf("after reopening: by_id %d, by_id_recent %d IDs, want %d, 0", mainN, recentN, n+1)
	}
	t.Run("reopened", check)
}

// TestIDIndexMergeInsideAWrite fills by_id_recent to one short of a merge
// and saves a listing with evidence filed under another, new ID: the
// evidence's entry sets off the merge between reading and storing the
// listing's, and each must end up indexed once.
func TestIDIndexMergeInsideAWrite(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "patrol.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ls []listing.Listing
	for i := range maxRecentIDs - 1 {
		ls = append(ls, indexedListing(i, "s"))
	}
	if err := s.PutListings(ctx, ls); err != nil {
		t.Fatal(err)
	}
	old := ls[0]
	old.Title = "changed"
	newL := indexedListing(maxRecentIDs, "s")
	evidence := indexedListing(maxRecentIDs+1, "")
	snap := &listing.Snapshot{ListingID: evidence.ID, URL: evidence.URL, HTML: []byte("<html>elsewhere</html>")}
	if err := s.SaveFetchedBatch(ctx, []Fetched{{Listing: old, Snapshot: snap}, {Listing: newL, Snapshot: snap}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []listing.ID{old.ID, newL.ID, evidence.ID} {
		inMain, inRecent, _, _ := idBuckets(t, s, id)
		if inMain == inRecent {
			t.Errorf("%s in by_id %v, in by_id_recent %v, want exactly one", id, inMain, inRecent)
		}
	}
	if _, _, mainN, recentN := idBuckets(t, s, ""); mainN+recentN != maxRecentIDs+1 || recentN > 1 {
		t.Errorf("by_id %d, by_id_recent %d IDs, want %d in all, merged", mainN, recentN, maxRecentIDs+1)
	}
	if got, err := s.Listing(ctx, old.ID); err != nil || got.Title != "changed" {
		t.Errorf("Listing(old) = %q, %v, want the changed title", got.Title, err)
	}
	if got, err := s.CountListings(ctx); err != nil || got != len(ls)+1 {
		t.Errorf("CountListings = %d, %v, want %d", got, err, len(ls)+1)
	}
	if snaps, err := s.Snapshots(ctx, evidence.ID); err != nil || len(snaps) != 1 {
		t.Errorf("Snapshots(evidence) = %d, %v, want 1", len(snaps), err)
	}
}
