package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/store"
)

func openTemp(t testing.TB) (*store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "patrol.db")
	s, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

func sample(i int) listing.Listing {
	u := fmt.Sprintf("http://shop.example/item/%d", i)
	return listing.Listing{
		ID: listing.NewID("shop", u), Marketplace: "shop", URL: u,
		Title: fmt.Sprintf("Item %d", i), Seller: fmt.Sprintf("seller-%d", i%3),
		Price: float64(i) + 0.5, Currency: "USD", Status: listing.StatusNew,
		Signals:   []listing.Signal{{Name: "brand_term", Detail: "acme", Weight: 0.3}},
		FetchedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

func TestListingRoundTripSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	want := sample(1)
	if err := s.PutListing(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Listing(ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != want.Title || got.Price != want.Price || got.Seller != want.Seller || len(got.Signals) != 1 || !got.FetchedAt.Equal(want.FetchedAt) {
		t.Errorf("Listing(%s) = %+v, want %+v", want.ID, got, want)
	}
	if _, err := s.Listing(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Listing(nope) error = %v, want ErrNotFound", err)
	}
}

func TestSellerIndexFollowsChanges(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	for i := 0; i < 6; i++ {
		if err := s.PutListing(ctx, sample(i)); err != nil {
			t.Fatal(err)
		}
	}
	l := sample(0)
	l.Seller = "moved"
	if err := s.PutListing(ctx, l); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		seller string
		want   int
	}{{"seller-0", 1}, {"seller-1", 2}, {"moved", 1}, {"nobody", 0}}
	for _, tt := range tests {
		got, err := s.ListingsBySeller(ctx, "shop", tt.seller)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.want {
			t.Errorf("ListingsBySeller(%q) = %d listings, want %d", tt.seller, len(got), tt.want)
		}
	}
}

func TestVerdictsMoveStatusAndKeepHistory(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	l := sample(1)
	if err := s.PutListing(ctx, l); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	steps := []listing.Status{listing.StatusConfirmed, listing.StatusDismissed, listing.StatusConfirmed}
	for i, st := range steps {
		if _, err := s.SetStatus(ctx, listing.Verdict{ListingID: l.ID, Status: st, Analyst: "ana", At: t0.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	vs, err := s.Verdicts(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 || vs[0].Previous != listing.StatusNew || vs[2].Previous != listing.StatusDismissed {
		t.Errorf("Verdicts = %+v, want 3 in order with previous states", vs)
	}
	got, _ := s.Listing(ctx, l.ID)
	if got.Status != listing.StatusConfirmed {
		t.Errorf("status = %s, want confirmed", got.Status)
	}
	n, err := s.SellerConfirmed(ctx, "shop", l.Seller)
	if err != nil || n != 1 {
		t.Errorf("SellerConfirmed = %d, %v, want 1", n, err)
	}
	if _, err := s.SetStatus(ctx, listing.Verdict{ListingID: l.ID, Status: "bogus"}); err == nil {
		t.Error("SetStatus(bogus) succeeded, want error")
	}
}

func TestSnapshotsAreNeverOverwritten(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	l := sample(1)
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	save := func(html string, at time.Time) {
		t.Helper()
		snap := &listing.Snapshot{ListingID: l.ID, URL: l.URL, FinalURL: l.URL, Status: 200, FetchedAt: at, HTML: []byte(html)}
		if err := s.SaveFetched(ctx, store.Fetched{Listing: l, Snapshot: snap, Images: map[string][]byte{"abc": []byte("img")}}); err != nil {
			t.Fatal(err)
		}
	}
	save("<html>v1</html>", t0)
	save("<html>v1</html>", t0.Add(time.Hour)) // same bytes: kept once
	save("<html>v2</html>", t0.Add(2*time.Hour))
	snaps, err := s.Snapshots(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 2 {
		t.Fatalf("Snapshots = %d, want 2", len(snaps))
	}
	if !snaps[0].FetchedAt.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("newest snapshot at %v, want %v", snaps[0].FetchedAt, t0.Add(2*time.Hour))
	}
	for i, want := range []string{"<html>v2</html>", "<html>v1</html>"} {
		html, err := s.SnapshotHTML(ctx, l.ID, snaps[i].SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if string(html) != want {
			t.Errorf("SnapshotHTML(%d) = %q, want %q", i, html, want)
		}
	}
	img, err := s.Image(ctx, "abc")
	if err != nil || string(img) != "img" {
		t.Errorf("Image(abc) = %q, %v", img, err)
	}
}

func TestFrontierLeaseResumeExactlyOnce(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	sw := listing.Sweep{ID: store.NewSweepID(time.Now()), State: listing.SweepRunning, Started: time.Now()}
	if err := s.PutSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	var urls []string
	for i := 0; i < 10; i++ {
		urls = append(urls, fmt.Sprintf("http://shop.example/item/%d", i))
	}
	if n, err := s.FrontierAdd(ctx, sw.ID, "shop", "acme", urls); err != nil || n != 10 {
		t.Fatalf("FrontierAdd = %d, %v, want 10", n, err)
	}
	if n, _ := s.FrontierAdd(ctx, sw.ID, "shop", "acme trail", urls[:5]); n != 0 {
		t.Errorf("FrontierAdd of known urls added %d, want 0", n)
	}
	now := time.Now()
	leased, err := s.FrontierLease(ctx, sw.ID, "shop", 4, now, time.Minute)
	if err != nil || len(leased) != 4 {
		t.Fatalf("FrontierLease = %d, %v, want 4", len(leased), err)
	}
	// Two of the four are saved, then the process "dies".
	for _, e := range leased[:2] {
		l := sample(0)
		l.URL = e.URL
		l.ID = listing.NewID("shop", e.URL)
		if err := s.SaveFetched(ctx, store.Fetched{Listing: l, SweepID: sw.ID, FrontierURL: e.URL}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, ok, err := s.Unfinished(ctx)
	if err != nil || !ok || got.ID != sw.ID {
		t.Fatalf("Unfinished = %v, %v, %v, want sweep %s", got.ID, ok, err, sw.ID)
	}
	if n, err := s.FrontierRelease(ctx, sw.ID); err != nil || n != 2 {
		t.Errorf("FrontierRelease = %d, %v, want 2", n, err)
	}
	seen := map[string]int{}
	for {
		batch, err := s.FrontierLease(ctx, sw.ID, "shop", 3, time.Now(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			break
		}
		for _, e := range batch {
			seen[e.URL]++
			if err := s.FrontierFinish(ctx, sw.ID, "shop", e.URL, true, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(seen) != 8 {
		t.Errorf("resumed %d urls, want the 8 not saved before the crash", len(seen))
	}
	for u, n := range seen {
		if n != 1 {
			t.Errorf("url %s leased %d times, want 1", u, n)
		}
	}
	counts, _ := s.FrontierCounts(ctx, sw.ID)
	if counts["done"] != 10 {
		t.Errorf("FrontierCounts = %v, want 10 done", counts)
	}
}

func TestSweepFailuresBounded(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	sw := listing.Sweep{ID: store.NewSweepID(time.Now()), State: listing.SweepRunning}
	if err := s.PutSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 250; i++ {
		if err := s.AddFailure(ctx, sw.ID, listing.Failure{URL: fmt.Sprint(i), Kind: "fetch", Error: "boom"}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Sweep(ctx, sw.ID)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := s.Failures(ctx, sw.ID)
	if len(got.Failures) != 200 || len(all) != 250 {
		t.Errorf("inline failures = %d, all = %d, want 200 and 250", len(got.Failures), len(all))
	}
	if _, err := s.Sweep(ctx, "missing"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("Sweep(missing) error = %v", err)
	}
}

func TestOpenLockedFileFailsClearly(t *testing.T) {
	s, path := openTemp(t)
	defer s.Close()
	_, err := store.OpenWith(path, store.Options{Timeout: 100 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("second Open error = %v, want one naming %s", err, path)
	}
}

// TestSaveFetchedBatchKeepsEvidenceOnce checks the batched path, whose
// pages are prepared in parallel before the transaction: within one batch
// and across batches, a listing's same bytes are kept once, new bytes add
// a snapshot, and every snapshot's HTML reads back.
func TestSaveFetchedBatchKeepsEvidenceOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	fetched := func(i int, html string, at time.Time) store.Fetched {
		l := sample(i)
		return store.Fetched{Listing: l, Snapshot: &listing.Snapshot{ListingID: l.ID, URL: l.URL, Status: 200, FetchedAt: at, HTML: []byte(html)}}
	}
	var first []store.Fetched
	for i := range 100 {
		first = append(first, fetched(i, fmt.Sprintf("<html>%d v1</html>", i), t0))
	}
	first = append(first, fetched(7, "<html>7 v1</html>", t0.Add(time.Minute))) // same bytes again
	second := []store.Fetched{
		fetched(7, "<html>7 v1</html>", t0.Add(time.Hour)),
		fetched(7, "<html>7 v2</html>", t0.Add(2*time.Hour)),
	}
	for _, batch := range [][]store.Fetched{first, second} {
		if err := s.SaveFetchedBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		i    int
		want []string // newest first
	}{
		{0, []string{"<html>0 v1</html>"}},
		{7, []string{"<html>7 v2</html>", "<html>7 v1</html>"}},
		{99, []string{"<html>99 v1</html>"}},
	}
	for _, tt := range tests {
		id := sample(tt.i).ID
		snaps, err := s.Snapshots(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(snaps) != len(tt.want) {
			t.Fatalf("Snapshots(%d) = %d, want %d", tt.i, len(snaps), len(tt.want))
		}
		for j, want := range tt.want {
			html, err := s.SnapshotHTML(ctx, id, snaps[j].SHA256)
			if err != nil || string(html) != want {
				t.Errorf("SnapshotHTML(%d, %d) = %q, %v, want %q", tt.i, j, html, err, want)
			}
		}
	}
	if _, err := s.SnapshotHTML(ctx, sample(0).ID, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SnapshotHTML(unknown sha) = %v, want ErrNotFound", err)
	}
	if n, err := s.CountListings(ctx); err != nil || n != 100 {
		t.Errorf("CountListings = %d, %v, want 100", n, err)
	}
}

// cancelledAfter is a context whose Err reports cancellation from its
// n-th call on, so that a test can cancel in the middle of a batch.
type cancelledAfter struct {
	context.Context
	n atomic.Int64
}

func (c *cancelledAfter) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestSaveFetchedBatchStopsWhenCancelled cancels a batch while its pages
// are being prepared: it must stop with the context's error and store
// nothing of the batch.
func TestSaveFetchedBatchStopsWhenCancelled(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	var batch []store.Fetched
	for i := range 200 {
		l := sample(i)
		batch = append(batch, store.Fetched{Listing: l, Snapshot: &listing.Snapshot{ListingID: l.ID, URL: l.URL, HTML: []byte(strings.Repeat("<p>page</p>", 100))}})
	}
	ctx := &cancelledAfter{Context: context.Background()}
	ctx.n.Store(20)
	if err := s.SaveFetchedBatch(ctx, batch); !errors.Is(err, context.Canceled) {
		t.Errorf("SaveFetchedBatch(cancelled midway) = %v, want context.Canceled", err)
	}
	if n, err := s.CountListings(context.Background()); err != nil || n != 0 {
		t.Errorf("CountListings after a cancelled batch = %d, %v, want 0", n, err)
	}
}
