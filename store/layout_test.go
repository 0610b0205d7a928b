package store_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/store"
)

// copyFixture copies testdata/name into a temporary directory: opening a
// file of an older layout rewrites it.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// layout1HTML is the page testdata/layout1.db keeps for version v of
// sample(i).
func layout1HTML(i, v int) string {
	return "<html><body>listing " + strconv.Itoa(i%10) + " version " + strconv.Itoa(v) + "</body></html>"
}

// TestLayout1FileOpensAndReads opens testdata/layout1.db, written by the
// store at commit adfc1e8, before listings moved to sequence-numbered
// records. It was made with these calls:
//
//	SaveFetchedBatch: sample(0…5), each with image "img"+i%2 and a snapshot
//	  of layout1HTML(i, 1) fetched at 2026-03-01; sample(3) dismissed
//	SaveFetched: sample(2) with a snapshot of layout1HTML(2, 2) an hour later
//	PutListing: sample(0) moved to seller "moved"
//	SetStatus: sample(1) confirmed by "ana"
//	DeleteListing: sample(5) (its snapshot stays)
//	PutSnapshot: layout1HTML(99, 1) for the listing of item 99, never stored
//
// Every read must answer as the old store did, before and after reopening,
// and writes after the move must find the old evidence.
func TestLayout1FileOpensAndReads(t *testing.T) {
	ctx := context.Background()
	path := copyFixture(t, "layout1.db")
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	orphan := listing.NewID("shop", "http://shop.example/item/99")
	var ids []listing.ID
	for i := range 5 {
		ids = append(ids, sample(i).ID)
	}
	slices.Sort(ids)

	check := func(t *testing.T, s *store.Store) {
		if n, err := s.CountListings(ctx); err != nil || n != 5 {
			t.Errorf("CountListings = %d, %v, want 5", n, err)
		}
		var got []listing.ID
		err := s.EachListing(ctx, func(l listing.Listing) error {
			got = append(got, l.ID)
			return nil
		})
		if err != nil || !slices.Equal(got, ids) {
			t.Errorf("EachListing = %v, %v, want %v", got, err, ids)
		}
		for _, tt := range []struct {
			i      int
			seller string
			status listing.Status
		}{
			{0, "moved", listing.StatusNew},
			{1, "seller-1", listing.StatusConfirmed},
			{3, "seller-0", listing.StatusDismissed},
			{4, "seller-1", listing.StatusNew},
		} {
			l, err := s.Listing(ctx, sample(tt.i).ID)
			if err != nil || l.Seller != tt.seller || l.Status != tt.status || l.Title != sample(tt.i).Title || len(l.Images) != 1 {
				t.Errorf("Listing(%d) = %+v, %v, want seller %s, status %s", tt.i, l, err, tt.seller, tt.status)
			}
		}
		if _, err := s.Listing(ctx, sample(5).ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Listing(deleted) error = %v, want ErrNotFound", err)
		}
		for _, tt := range []struct {
			seller string
			want   []int
		}{{"moved", []int{0}}, {"seller-0", []int{3}}, {"seller-1", []int{1, 4}}, {"seller-2", []int{2}}} {
			ls, err := s.ListingsBySeller(ctx, "shop", tt.seller)
			var want, got []listing.ID
			for _, i := range tt.want {
				want = append(want, sample(i).ID)
			}
			slices.Sort(want)
			for _, l := range ls {
				got = append(got, l.ID)
			}
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("ListingsBySeller(%s) = %v, %v, want %v", tt.seller, got, err, want)
			}
		}
		for _, tt := range []struct {
			id   listing.ID
			want []string // newest first
			at   time.Time
		}{
			{sample(0).ID, []string{layout1HTML(0, 1)}, t0},
			{sample(2).ID, []string{layout1HTML(2, 2), layout1HTML(2, 1)}, t0.Add(time.Hour)},
			{sample(5).ID, []string{layout1HTML(5, 1)}, t0},
			{orphan, []string{layout1HTML(99, 1)}, t0},
		} {
			snaps, err := s.Snapshots(ctx, tt.id)
			if err != nil || len(snaps) != len(tt.want) {
				t.Fatalf("Snapshots(%s) = %d, %v, want %d", tt.id, len(snaps), err, len(tt.want))
			}
			if !snaps[0].FetchedAt.Equal(tt.at) || snaps[0].ListingID != tt.id {
				t.Errorf("Snapshots(%s)[0] = %+v, want fetched at %v", tt.id, snaps[0], tt.at)
			}
			for j, want := range tt.want {
				html, err := s.SnapshotHTML(ctx, tt.id, snaps[j].SHA256)
				if err != nil || string(html) != want {
					t.Errorf("SnapshotHTML(%s, %d) = %q, %v, want %q", tt.id, j, html, err, want)
				}
			}
		}
		if vs, err := s.Verdicts(ctx, sample(1).ID); err != nil || len(vs) != 1 || vs[0].Analyst != "ana" {
			t.Errorf("Verdicts(1) = %+v, %v, want ana's", vs, err)
		}
		if img, err := s.Image(ctx, "img1"); err != nil || string(img) != "image bytes 1" {
			t.Errorf("Image(img1) = %q, %v", img, err)
		}
	}

	s, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("opened", func(t *testing.T) { check(t, s) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t.Run("reopened", func(t *testing.T) { check(t, s) })

	t.Run("written", func(t *testing.T) {
		l := sample(2)
		save := func(html string, at time.Time) {
			t.Helper()
			snap := &listing.Snapshot{ListingID: l.ID, URL: l.URL, Status: 200, FetchedAt: at, HTML: []byte(html)}
			if err := s.SaveFetchedBatch(ctx, []store.Fetched{{Listing: l, Snapshot: snap}}); err != nil {
				t.Fatal(err)
			}
		}
		save(layout1HTML(2, 1), t0.Add(3*time.Hour)) // kept before the move: not again
		save(layout1HTML(2, 3), t0.Add(4*time.Hour))
		snaps, err := s.Snapshots(ctx, l.ID)
		if err != nil || len(snaps) != 3 || !snaps[0].FetchedAt.Equal(t0.Add(4*time.Hour)) {
			t.Fatalf("Snapshots after saves = %+v, %v, want 3, newest at +4h", snaps, err)
		}
		if n, _ := s.CountListings(ctx); n != 5 {
			t.Errorf("CountListings after resaving = %d, want 5", n)
		}
		// The deleted listing comes back beside the evidence it left.
		if err := s.PutListing(ctx, sample(5)); err != nil {
			t.Fatal(err)
		}
		if snaps, err := s.Snapshots(ctx, sample(5).ID); err != nil || len(snaps) != 1 {
			t.Errorf("Snapshots(5) after PutListing = %d, %v, want 1", len(snaps), err)
		}
		st, err := s.Purge(ctx, store.RetentionPolicy{DismissedOlderThan: 24 * time.Hour, Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil || st.Listings != 1 || st.Snapshots != 1 || !slices.Equal(st.Purged, []listing.ID{sample(3).ID}) {
			t.Errorf("Purge = %+v, %v, want listing 3 and its snapshot", st, err)
		}
		if snaps, err := s.Snapshots(ctx, sample(3).ID); err != nil || len(snaps) != 0 {
			t.Errorf("Snapshots(purged) = %d, %v, want none", len(snaps), err)
		}
		if ls, _ := s.ListingsBySeller(ctx, "shop", "seller-0"); len(ls) != 0 {
			t.Errorf("ListingsBySeller(seller-0) after purge = %d, want 0", len(ls))
		}
	})
}

// TestSnapHTMLFileOpensAndReads builds, with bbolt directly, a file from
// before snapshot records held their HTML: snap_meta held the metadata and
// snap_html the compressed page.
func TestSnapHTMLFileOpensAndReads(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	l := sample(1)
	at := time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	html := []byte("<html>evidence</html>")
	sha := "5ha"
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		put := func(bucket string, k, v []byte) {
			b, err := tx.CreateBucketIfNotExists([]byte(bucket))
			if err == nil {
				err = b.Put(k, v)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		lj, _ := json.Marshal(l)
		put("listings", []byte(l.ID), lj)
		put("by_seller", []byte("shop\x00"+l.Seller+"\x00"+string(l.ID)), nil)
		meta, _ := json.Marshal(listing.Snapshot{ListingID: l.ID, SHA256: sha, URL: l.URL, Status: 200, FetchedAt: at})
		var ts [8]byte
		binary.BigEndian.PutUint64(ts[:], uint64(at.UnixNano()))
		put("snap_meta", []byte(string(l.ID)+"\x00"+string(ts[:])+"\x00"+sha), meta)
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(html)
		zw.Close()
		put("snap_html", []byte(string(l.ID)+"\x00"+sha), gz.Bytes())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Listing(ctx, l.ID); err != nil || got.Title != l.Title {
		t.Errorf("Listing = %+v, %v, want %+v", got, err, l)
	}
	if ls, err := s.ListingsBySeller(ctx, "shop", l.Seller); err != nil || len(ls) != 1 {
		t.Errorf("ListingsBySeller = %d, %v, want 1", len(ls), err)
	}
	snaps, err := s.Snapshots(ctx, l.ID)
	if err != nil || len(snaps) != 1 || snaps[0].SHA256 != sha || !snaps[0].FetchedAt.Equal(at) {
		t.Fatalf("Snapshots = %+v, %v, want one with sha %s", snaps, err, sha)
	}
	if got, err := s.SnapshotHTML(ctx, l.ID, sha); err != nil || !bytes.Equal(got, html) {
		t.Errorf("SnapshotHTML = %q, %v, want %q", got, err, html)
	}
	st, err := s.Purge(ctx, store.RetentionPolicy{UnchangedOlderThan: time.Hour, Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil || st.Listings != 1 || st.Snapshots != 1 {
		t.Errorf("Purge = %+v, %v, want the listing and its snapshot", st, err)
	}
	if _, err := s.SnapshotHTML(ctx, l.ID, sha); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SnapshotHTML after purge = %v, want ErrNotFound", err)
	}
}

// TestOpenMovesListingsAtomically checks that opening a layout 1 file
// moves its listings out of the old buckets, and that a move that fails
// halfway (here on a record that does not decode) leaves the file as it
// was.
func TestOpenMovesListingsAtomically(t *testing.T) {
	buckets := func(t *testing.T, path string) map[string]int {
		t.Helper()
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		got := map[string]int{}
		db.View(func(tx *bolt.Tx) error {
			return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
				got[string(name)] = b.Stats().KeyN
				return nil
			})
		})
		return got
	}
	t.Run("moved", func(t *testing.T) {
		path := copyFixture(t, "layout1.db")
		s, err := store.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		got := buckets(t, path)
		for _, name := range []string{"listings", "by_seller"} {
			if _, ok := got[name]; ok {
				t.Errorf("bucket %s still there after the move", name)
			}
		}
		if got["listing_recs"] != 5 || got["by_id"] != 5 || got["seller_seqs"] != 5 {
			t.Errorf("buckets after the move = %v, want 5 listings in listing_recs, by_id and seller_seqs", got)
		}
	})
	t.Run("failed", func(t *testing.T) {
		path := copyFixture(t, "layout1.db")
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("listings")).Put([]byte("zzzz"), []byte("{not json"))
		})
		db.Close()
		before := buckets(t, path)
		if s, err := store.Open(path); err == nil {
			s.Close()
			t.Fatal("Open of a file with a broken listing succeeded, want an error")
		}
		if got := buckets(t, path); !maps.Equal(got, before) {
			t.Errorf("buckets after a failed move = %v, want them untouched: %v", got, before)
		}
	})
}

// TestOpenMovesListingsAnOlderPatrolWrote covers a file of the current
// layout that an older patrol opened and wrote to: it keeps its listings
// in the layout 1 buckets, and its copies are the newer ones.
func TestOpenMovesListingsAnOlderPatrolWrote(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	for i := range 2 {
		if err := s.PutListing(ctx, sample(i)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	changed := sample(1)
	changed.Title, changed.Seller = "changed", "moved"
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		ls, err := tx.CreateBucketIfNotExists([]byte("listings"))
		if err != nil {
			return err
		}
		bs, err := tx.CreateBucketIfNotExists([]byte("by_seller"))
		if err != nil {
			return err
		}
		for _, l := range []listing.Listing{changed, sample(2)} {
			buf, _ := json.Marshal(l)
			if err := ls.Put([]byte(l.ID), buf); err != nil {
				return err
			}
			if err := bs.Put([]byte("shop\x00"+l.Seller+"\x00"+string(l.ID)), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err = store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.CountListings(ctx); err != nil || n != 3 {
		t.Errorf("CountListings = %d, %v, want 3", n, err)
	}
	if l, err := s.Listing(ctx, changed.ID); err != nil || l.Title != "changed" {
		t.Errorf("Listing(changed) = %+v, %v, want the older patrol's copy", l, err)
	}
	for _, tt := range []struct {
		seller string
		want   int
	}{{"moved", 1}, {"seller-1", 0}, {"seller-2", 1}, {"seller-0", 1}} {
		if ls, err := s.ListingsBySeller(ctx, "shop", tt.seller); err != nil || len(ls) != tt.want {
			t.Errorf("ListingsBySeller(%s) = %d, %v, want %d", tt.seller, len(ls), err, tt.want)
		}
	}
}

// TestSnapshotNeedsListingID checks that evidence cannot be filed under
// no listing: by_id cannot hold an empty key.
func TestSnapshotNeedsListingID(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	err := s.PutSnapshot(context.Background(), listing.Snapshot{URL: "http://shop.example/x", HTML: []byte("<html>")})
	if err == nil {
		t.Error("PutSnapshot without a listing ID succeeded, want an error")
	}
}

// TestListingsBySellerKeepsSellersApart checks that a seller whose name
// starts with another's and a NUL is not taken for it: seller index keys
// join the names with NULs.
func TestListingsBySellerKeepsSellersApart(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	a, b := sample(1), sample(2)
	a.Seller, b.Seller = "acme", "acme\x00outlet"
	for _, l := range []listing.Listing{a, b} {
		if err := s.PutListing(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		seller string
		want   listing.ID
	}{{"acme", a.ID}, {"acme\x00outlet", b.ID}} {
		ls, err := s.ListingsBySeller(ctx, "shop", tt.seller)
		if err != nil || len(ls) != 1 || ls[0].ID != tt.want {
			t.Errorf("ListingsBySeller(%q) = %v, %v, want only %s", tt.seller, ls, err, tt.want)
		}
	}
}
