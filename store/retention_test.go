package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/store"
)

// retentionFixture stores listings aged by how long ago a sweep last saw
// them, each with a snapshot, and with shared and own images.
type retentionListing struct {
	name    string
	status  listing.Status
	flagged bool
	seen    time.Duration // ago
	images  []string
}

var retentionNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func storeRetention(t *testing.T, s *store.Store, ls []retentionListing) map[string]listing.ID {
	t.Helper()
	ctx := context.Background()
	ids := map[string]listing.ID{}
	for _, rl := range ls {
		u := "http://shop.example/item/" + rl.name
		l := listing.Listing{
			ID: listing.NewID("shop", u), Marketplace: "shop", URL: u, Title: rl.name, Seller: "seller-" + rl.name,
			Status: listing.StatusNew, Flagged: rl.flagged,
			FetchedAt: retentionNow.Add(-rl.seen - time.Hour), LastSeen: retentionNow.Add(-rl.seen),
		}
		images := map[string][]byte{}
		for _, img := range rl.images {
			l.Images = append(l.Images, listing.Image{URL: "http://shop.example/" + img, SHA256: img})
			images[img] = []byte("bytes of " + img)
		}
		snap := &listing.Snapshot{ListingID: l.ID, URL: u, Status: 200, FetchedAt: l.FetchedAt, HTML: []byte("<html>" + rl.name + "</html>")}
		if err := s.SaveFetched(ctx, store.Fetched{Listing: l, Snapshot: snap, Images: images}); err != nil {
			t.Fatal(err)
		}
		if rl.status != "" && rl.status != listing.StatusNew {
			if _, err := s.SetStatus(ctx, listing.Verdict{ListingID: l.ID, Status: rl.status, Analyst: "ana", At: l.FetchedAt}); err != nil {
				t.Fatal(err)
			}
		}
		ids[rl.name] = l.ID
	}
	return ids
}

func TestPurge(t *testing.T) {
	const day = 24 * time.Hour
	fixture := []retentionListing{
		{name: "old-dismissed", status: listing.StatusDismissed, flagged: true, seen: 100 * day, images: []string{"own1", "shared"}},
		{name: "recent-dismissed", status: listing.StatusDismissed, flagged: true, seen: 10 * day},
		{name: "old-clean", seen: 200 * day, images: []string{"own2"}},
		{name: "recent-clean", seen: 5 * day, images: []string{"shared"}},
		{name: "old-flagged-unreviewed", flagged: true, seen: 200 * day},
		{name: "old-confirmed", status: listing.StatusConfirmed, flagged: true, seen: 300 * day},
		{name: "old-dismissed-kept", status: listing.StatusDismissed, seen: 100 * day},
		{name: "old-dismissed-testbuy", status: listing.StatusDismissed, seen: 100 * day, images: []string{"own3"}},
	}
	tests := []struct {
		name   string
		policy store.RetentionPolicy
		want   []string // purged
		stats  store.PurgeStats
		// reported are the listings Purge names in PurgeStats.Purged (a dry
		// run names those it would remove); nil means want.
		reported []string
	}{
		{
			name:   "off",
			policy: store.RetentionPolicy{},
		},
		{
			name:   "dismissed only",
			policy: store.RetentionPolicy{DismissedOlderThan: 90 * day},
			want:   []string{"old-dismissed"},
			stats:  store.PurgeStats{Listings: 1, Dismissed: 1, Snapshots: 1, Verdicts: 1, Images: 1},
		},
		{
			name:   "both, small chunks",
			policy: store.RetentionPolicy{DismissedOlderThan: 90 * day, UnchangedOlderThan: 180 * day, ChunkSize: 1},
			want:   []string{"old-clean", "old-dismissed"},
			stats:  store.PurgeStats{Listings: 2, Dismissed: 1, Unchanged: 1, Snapshots: 2, Verdicts: 1, Images: 2},
		},
		{
			name:     "dry run",
			policy:   store.RetentionPolicy{DismissedOlderThan: 90 * day, UnchangedOlderThan: 180 * day, DryRun: true},
			stats:    store.PurgeStats{Listings: 2, Dismissed: 1, Unchanged: 1, Snapshots: 2, Verdicts: 1, Images: 2},
			reported: []string{"old-clean", "old-dismissed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, _ := openTemp(t)
			defer s.Close()
			ids := storeRetention(t, s, fixture)
			if _, err := s.AddTestBuy(ctx, listing.TestBuy{ListingID: ids["old-dismissed-testbuy"], OrderRef: "order-1", Date: retentionNow}, nil); err != nil {
				t.Fatal(err)
			}
			p := tt.policy
			p.Now = retentionNow
			p.Keep = func(id listing.ID) bool { return id == ids["old-dismissed-kept"] }
			st, err := s.Purge(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			gotBytes, gotPurged := st.Bytes, st.Purged
			st.Bytes, st.Purged = 0, nil
			if !reflect.DeepEqual(st, tt.stats) {
				t.Errorf("Purge() = %+v, want %+v", st, tt.stats)
			}
			reported := tt.reported
			if reported == nil {
				reported = tt.want
			}
			var wantIDs, gotIDs []string
			for _, name := range reported {
				wantIDs = append(wantIDs, string(ids[name]))
			}
			for _, id := range gotPurged {
				gotIDs = append(gotIDs, string(id))
			}
			slices.Sort(wantIDs)
			slices.Sort(gotIDs)
			if !slices.Equal(gotIDs, wantIDs) {
				t.Errorf("Purge().Purged = %v, want the IDs of %v", gotIDs, reported)
			}
			if (tt.stats.Listings > 0) != (gotBytes > 0) {
				t.Errorf("Purge() freed %d bytes for %d listings", gotBytes, tt.stats.Listings)
			}
			purged := map[string]bool{}
			for _, name := range tt.want {
				purged[name] = true
			}
			var gone []string
			for _, rl := range fixture {
				id := ids[rl.name]
				_, err := s.Listing(ctx, id)
				if errors.Is(err, store.ErrNotFound) {
					gone = append(gone, rl.name)
				} else if err != nil {
					t.Fatal(err)
				}
				snaps, err := s.Snapshots(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if purged[rl.name] != (len(snaps) == 0) {
					t.Errorf("%s: %d snapshots left, purged %v", rl.name, len(snaps), purged[rl.name])
				}
				if len(snaps) == 0 {
					if _, err := s.SnapshotHTML(ctx, id, "x"); !errors.Is(err, store.ErrNotFound) {
						t.Errorf("%s: snapshot HTML left", rl.name)
					}
				}
				bySeller, err := s.ListingsBySeller(ctx, "shop", "seller-"+rl.name)
				if err != nil {
					t.Fatal(err)
				}
				if purged[rl.name] != (len(bySeller) == 0) {
					t.Errorf("%s: seller index has %d, purged %v", rl.name, len(bySeller), purged[rl.name])
				}
			}
			sort.Strings(gone)
			if fmt.Sprint(gone) != fmt.Sprint(tt.want) {
				t.Errorf("purged %v, want %v", gone, tt.want)
			}
			// Images shared with a kept listing stay; own images of purged
			// listings go.
			wantImages := map[string]bool{"shared": true, "own1": !purged["old-dismissed"], "own2": !purged["old-clean"], "own3": true}
			for sha, want := range wantImages {
				if got := s.HasImage(ctx, sha); got != want {
					t.Errorf("HasImage(%s) = %v, want %v", sha, got, want)
				}
			}
		})
	}
}

func TestPurgeNeverTouchesNoticedEvidence(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	ids := storeRetention(t, s, []retentionListing{{name: "cited", status: listing.StatusDismissed, seen: 400 * 24 * time.Hour, images: []string{"img"}}})
	n := listing.Notice{ID: "n1", Platform: "dmca", Brand: "Acme", Listings: []listing.NoticeListing{{ID: ids["cited"], URL: "http://shop.example/item/cited"}}, DraftedAt: retentionNow}
	if err := s.PutNotice(ctx, n, nil); err != nil {
		t.Fatal(err)
	}
	st, err := s.Purge(ctx, store.RetentionPolicy{DismissedOlderThan: time.Hour, UnchangedOlderThan: time.Hour, Now: retentionNow})
	if err != nil {
		t.Fatal(err)
	}
	if st.Listings != 0 || !s.HasImage(ctx, "img") {
		t.Errorf("Purge() = %+v, removed a listing cited by a notice", st)
	}
	if snaps, _ := s.Snapshots(ctx, ids["cited"]); len(snaps) != 1 {
		t.Errorf("snapshots of a cited listing = %d, want 1", len(snaps))
	}
}

func TestPurgeHonoursContext(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	storeRetention(t, s, []retentionListing{{name: "a", seen: 1000 * time.Hour}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Purge(ctx, store.RetentionPolicy{UnchangedOlderThan: time.Hour, Now: retentionNow}); !errors.Is(err, context.Canceled) {
		t.Errorf("Purge(cancelled) = %v, want context.Canceled", err)
	}
}
