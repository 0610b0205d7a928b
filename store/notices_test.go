package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/notice"
	"github.com/patrol-dev/patrol/store"
)

var noticeT0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// noticeStore opens a store in a temp dir holding confirmed listings
// n1…nN.
func noticeStore(t *testing.T, n int) (*store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "patrol.db")
	s, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for i := 1; i <= n; i++ {
		l := listing.Listing{
			ID: listing.ID(fmt.Sprint("n", i)), Marketplace: "shop", URL: fmt.Sprintf("https://shop.example/listing/%d", i),
			Title: "ACME replica", Seller: "Cheap Kicks", Brand: "Acme", Status: listing.StatusConfirmed,
			Signals: []listing.Signal{{Name: "suspicious_term", Detail: "replica", Weight: 0.4}},
		}
		if err := s.PutListing(context.Background(), l); err != nil {
			t.Fatal(err)
		}
	}
	return s, path
}

func draftRecord(id, platform string, ids ...listing.ID) listing.Notice {
	n := listing.Notice{ID: id, Platform: platform, Brand: "Acme", State: listing.NoticeDrafted, DraftedAt: noticeT0}
	for _, l := range ids {
		n.Listings = append(n.Listings, listing.NoticeListing{ID: l, Signals: []string{"suspicious_term"}, Outcome: listing.OutcomePending})
	}
	return n
}

func wantStatus(t *testing.T, s *store.Store, id listing.ID, want listing.Status) {
	t.Helper()
	l, err := s.Listing(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if l.Status != want {
		t.Errorf("Listing(%s).Status = %s, want %s", id, l.Status, want)
	}
}

func TestNoticeLifecycle(t *testing.T) {
	ctx := context.Background()
	s, path := noticeStore(t, 2)
	if err := s.PutNotice(ctx, draftRecord("N1", "dmca", "n1", "n2"), nil); err != nil {
		t.Fatal(err)
	}
	sent, err := s.MarkSent(ctx, "N1", "ana", noticeT0.Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sent.State != listing.NoticeSent || !sent.SentAt.Equal(noticeT0.Add(time.Hour)) {
		t.Errorf("MarkSent(N1) = %s at %v, want sent at %v", sent.State, sent.SentAt, noticeT0.Add(time.Hour))
	}
	wantStatus(t, s, "n1", listing.StatusNoticed)
	wantStatus(t, s, "n2", listing.StatusNoticed)

	steps := []struct {
		listing   listing.ID
		removed   bool
		wantState listing.NoticeState
		wantLst   listing.Status
	}{
		{"n1", true, listing.NoticeSent, listing.StatusRemoved},
		{"n2", false, listing.NoticeStillUp, listing.StatusStillUp},
		{"n2", true, listing.NoticeRemoved, listing.StatusRemoved},
	}
	for i, st := range steps {
		at := noticeT0.Add(time.Duration(i+1) * 24 * time.Hour)
		n, err := s.MarkVerified(ctx, "N1", st.listing, st.removed, "http 404", at, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n.State != st.wantState {
			t.Errorf("MarkVerified(N1, %s, %v) state = %s, want %s", st.listing, st.removed, n.State, st.wantState)
		}
		wantStatus(t, s, st.listing, st.wantLst)
	}
	vs, err := s.Verdicts(ctx, "n2")
	if err != nil {
		t.Fatal(err)
	}
	var trail []listing.Status
	for _, v := range vs {
		trail = append(trail, v.Status)
	}
	if fmt.Sprint(trail) != "[noticed still_up removed]" {
		t.Errorf("Verdicts(n2) = %v, want [noticed still_up removed]", trail)
	}

	// The record survives a reopen and feeds the stats.
	s.Close()
	s2, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	all, err := s2.Notices(ctx, store.NoticeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	rep := notice.Stats(all, noticeT0.Add(10*24*time.Hour), 0)
	if len(rep.Platforms) != 1 || rep.Platforms[0].TakedownRate != 1 || rep.Platforms[0].MedianTimeToTakedown != 47*time.Hour {
		t.Errorf("Stats after reopen = %+v, want takedown rate 1 and median 47h", rep.Platforms)
	}
}

func TestNoticeTransitionsRefused(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(s *store.Store) error
		want error
	}{
		{"missing notice", func(s *store.Store) error { _, err := s.Notice(ctx, "nope"); return err }, store.ErrNotFound},
		{"sent twice", func(s *store.Store) error {
			_, err := s.MarkSent(ctx, "S", "", time.Time{}, nil)
			return err
		}, store.ErrNoticeState},
		{"verify a draft", func(s *store.Store) error {
			_, err := s.MarkVerified(ctx, "D", "n1", true, "", time.Time{}, nil)
			return err
		}, store.ErrNoticeState},
		{"verify a listing the notice lacks", func(s *store.Store) error {
			_, err := s.MarkVerified(ctx, "S", "n3", true, "", time.Time{}, nil)
			return err
		}, store.ErrNotFound},
		{"redraft a sent notice", func(s *store.Store) error { return s.PutNotice(ctx, draftRecord("S", "dmca", "n2"), nil) }, store.ErrNoticeState},
		{"reject a draft", func(s *store.Store) error {
			_, err := s.MarkRejected(ctx, "D", "", "", time.Time{}, nil)
			return err
		}, store.ErrNoticeState},
		{"counter-notice twice", func(s *store.Store) error {
			if _, err := s.MarkCounterNotice(ctx, "S", "", "", time.Time{}, nil); err != nil {
				return err
			}
			_, err := s.MarkCounterNotice(ctx, "S", "", "", time.Time{}, nil)
			return err
		}, store.ErrNoticeState},
		{"send with a dismissed listing", func(s *store.Store) error {
			if _, err := s.SetStatus(ctx, listing.Verdict{ListingID: "n3", Status: listing.StatusDismissed}); err != nil {
				return err
			}
			_, err := s.MarkSent(ctx, "D", "", time.Time{}, nil)
			return err
		}, store.ErrNoticeState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := noticeStore(t, 3)
			if err := s.PutNotice(ctx, draftRecord("S", "dmca", "n2"), nil); err != nil {
				t.Fatal(err)
			}
			if _, err := s.MarkSent(ctx, "S", "", noticeT0, nil); err != nil {
				t.Fatal(err)
			}
			if err := s.PutNotice(ctx, draftRecord("D", "amazon", "n1", "n3"), nil); err != nil {
				t.Fatal(err)
			}
			if err := tt.run(s); !errors.Is(err, tt.want) {
				t.Errorf("%s: error = %v, want %v", tt.name, err, tt.want)
			}
		})
	}
}

func TestNoticeAdverseOutcomes(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name        string
		mark        func(s *store.Store) (listing.Notice, error)
		wantState   listing.NoticeState
		wantStatus  listing.Status
		wantOutcome listing.OutcomeState
	}{
		{"rejected", func(s *store.Store) (listing.Notice, error) {
			return s.MarkRejected(ctx, "N", "ana", "wrong mark", noticeT0, nil)
		},
			listing.NoticeRejected, listing.StatusConfirmed, listing.OutcomeRemoved},
		{"retracted", func(s *store.Store) (listing.Notice, error) {
			return s.MarkRetracted(ctx, "N", "ana", "", noticeT0, nil)
		},
			listing.NoticeRetracted, listing.StatusConfirmed, listing.OutcomeRemoved},
		{"counter-notice", func(s *store.Store) (listing.Notice, error) {
			return s.MarkCounterNotice(ctx, "N", "ana", "seller claims genuine", noticeT0, nil)
		}, listing.NoticeCounterNotice, listing.StatusStillUp, listing.OutcomeReinstated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := noticeStore(t, 1)
			if err := s.PutNotice(ctx, draftRecord("N", "alibaba", "n1"), nil); err != nil {
				t.Fatal(err)
			}
			if _, err := s.MarkSent(ctx, "N", "", noticeT0, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := s.MarkVerified(ctx, "N", "n1", true, "gone", noticeT0, nil); err != nil {
				t.Fatal(err)
			}
			n, err := tt.mark(s)
			if err != nil {
				t.Fatal(err)
			}
			if n.State != tt.wantState || n.Listings[0].Outcome != tt.wantOutcome || n.ClosedAt.IsZero() {
				t.Errorf("%s: notice = %s, outcome %s, closed %v; want %s, %s, closed", tt.name, n.State, n.Listings[0].Outcome, n.ClosedAt, tt.wantState, tt.wantOutcome)
			}
			wantStatus(t, s, "n1", tt.wantStatus)
			rep := notice.Stats([]listing.Notice{n}, noticeT0, 0)
			if len(rep.Signals) != 1 || rep.Signals[0].Adverse != 1 {
				t.Errorf("%s: Stats signals = %+v, want suspicious_term with 1 adverse", tt.name, rep.Signals)
			}
		})
	}
}

func TestPutNoticeSupersedesDrafts(t *testing.T) {
	ctx := context.Background()
	s, _ := noticeStore(t, 3)
	for _, n := range []listing.Notice{
		draftRecord("A", "dmca", "n1", "n2"),
		draftRecord("B", "dmca", "n2", "n3"),
		draftRecord("C", "amazon", "n1"),
		draftRecord("C", "amazon", "n1"),
	} {
		if err := s.PutNotice(ctx, n, nil); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		filter store.NoticeFilter
		want   string
	}{
		{store.NoticeFilter{}, "[B C]"},
		{store.NoticeFilter{Platform: "dmca"}, "[B]"},
		{store.NoticeFilter{ListingID: "n1"}, "[C]"},
		{store.NoticeFilter{ListingID: "n2"}, "[B]"},
		{store.NoticeFilter{States: []listing.NoticeState{listing.NoticeSent}}, "[]"},
		{store.NoticeFilter{Brand: "Other"}, "[]"},
	}
	for _, tt := range tests {
		ns, err := s.Notices(ctx, tt.filter)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, n := range ns {
			ids = append(ids, n.ID)
		}
		if got := fmt.Sprint(ids); got != tt.want {
			t.Errorf("Notices(%+v) = %s, want %s", tt.filter, got, tt.want)
		}
	}
}

func TestTestBuys(t *testing.T) {
	ctx := context.Background()
	s, _ := noticeStore(t, 1)
	for i, o := range []listing.TestBuyOutcome{listing.TestBuyCounterfeit, ""} {
		tb, err := s.AddTestBuy(ctx, listing.TestBuy{ListingID: "n1", OrderRef: fmt.Sprint("order-", i), Outcome: o, RecordedAt: noticeT0.Add(time.Duration(i) * time.Hour)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tb.ID == "" {
			t.Errorf("AddTestBuy gave no ID")
		}
	}
	got, err := s.TestBuys(ctx, "n1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].OrderRef != "order-0" || got[1].Outcome != listing.TestBuyPending {
		t.Errorf("TestBuys(n1) = %+v, want order-0 then a pending order-1", got)
	}
	if _, err := s.AddTestBuy(ctx, listing.TestBuy{ListingID: "nope", OrderRef: "x"}, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddTestBuy(unknown listing) error = %v, want ErrNotFound", err)
	}
	if _, err := s.AddTestBuy(ctx, listing.TestBuy{ListingID: "n1", OrderRef: "x", Outcome: "maybe"}, nil); err == nil {
		t.Errorf("AddTestBuy(outcome maybe) succeeded, want an error")
	}
	if got, err := s.TestBuys(ctx, "n2"); err != nil || len(got) != 0 {
		t.Errorf("TestBuys(n2) = %v, %v, want none", got, err)
	}
}

// TestNoticeRelisted: a listing verified removed that is found live again
// (by a sweep, by verification, or by the re-check before a new notice)
// stops counting as a takedown in every notice that recorded it removed,
// and each correction is kept in the notice's events and the audit log.
func TestNoticeRelisted(t *testing.T) {
	ctx := context.Background()
	at := noticeT0.Add(10 * 24 * time.Hour)
	tests := []struct {
		name string
		// relist finds n1 live again; wantAudited are the notices whose
		// correction the store audits (verification's own notice is
		// audited by its caller).
		relist      func(s *store.Store) error
		wantAudited []string
		wantStatus  listing.Status
	}{
		{"found by a sweep", func(s *store.Store) error {
			_, err := s.MarkRelisted(ctx, "n1", "live again after it was verified removed", at)
			return err
		}, []string{"A", "B"}, listing.StatusStillUp},
		{"found by verification", func(s *store.Store) error {
			n, err := s.MarkVerified(ctx, "A", "n1", false, "listing still up", at, nil)
			if err == nil && n.State != listing.NoticeStillUp {
				t.Errorf("MarkVerified(A, n1 up) state = %s, want still_up", n.State)
			}
			return err
		}, []string{"B"}, listing.StatusStillUp},
		{"already still up (a sweep before notices were corrected)", func(s *store.Store) error {
			if _, err := s.SetStatus(ctx, listing.Verdict{ListingID: "n1", Status: listing.StatusStillUp, Analyst: "patrol"}); err != nil {
				return err
			}
			_, err := s.MarkRelisted(ctx, "n1", "found live by a sweep", at)
			return err
		}, []string{"A", "B"}, listing.StatusStillUp},
		{"re-confirmed and re-checked for a new notice", func(s *store.Store) error {
			if _, err := s.SetStatus(ctx, listing.Verdict{ListingID: "n1", Status: listing.StatusConfirmed, Analyst: "ana"}); err != nil {
				return err
			}
			_, err := s.MarkRelisted(ctx, "n1", "live again when re-checked for a new notice", at)
			return err
		}, []string{"A", "B"}, listing.StatusConfirmed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := noticeStore(t, 2)
			// A cites n1 and n2 on one platform, B cites n1 on another;
			// every listing is verified removed.
			for _, n := range []listing.Notice{draftRecord("A", "dmca", "n1", "n2"), draftRecord("B", "amazon", "n1")} {
				if err := s.PutNotice(ctx, n, nil); err != nil {
					t.Fatal(err)
				}
				if _, err := s.MarkSent(ctx, n.ID, "ana", noticeT0, nil); err != nil {
					t.Fatal(err)
				}
				for _, id := range n.ListingIDs() {
					if _, err := s.MarkVerified(ctx, n.ID, id, true, "http 404", noticeT0.Add(24*time.Hour), nil); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := tt.relist(s); err != nil {
				t.Fatal(err)
			}
			wantStatus(t, s, "n1", tt.wantStatus)
			wantStatus(t, s, "n2", listing.StatusRemoved)
			for _, id := range []string{"A", "B"} {
				n, err := s.Notice(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				nl := n.Listings[0]
				if n.State != listing.NoticeStillUp || !n.ClosedAt.IsZero() || nl.Outcome != listing.OutcomeRelisted || nl.RemovedAt.IsZero() || !nl.CheckedAt.Equal(at) {
					t.Errorf("notice %s = %s (closed %v), n1 %s removed %v checked %v; want still_up, open, n1 relisted with its removal time kept",
						id, n.State, n.ClosedAt, nl.Outcome, nl.RemovedAt, nl.CheckedAt)
				}
				last := n.Events[len(n.Events)-1]
				if last.State != listing.NoticeStillUp || !strings.Contains(last.Note, "n1 relisted") || last.By != "patrol" {
					t.Errorf("notice %s last event = %+v, want still_up by patrol saying n1 relisted", id, last)
				}
			}
			es, err := s.RecentAudit(ctx, store.AuditQuery{Action: "notice.relisted"})
			if err != nil {
				t.Fatal(err)
			}
			var audited []string
			for _, e := range es {
				if e.Actor != "patrol" || e.From != string(listing.NoticeRemoved) || e.To != string(listing.NoticeStillUp) || !strings.Contains(e.Detail, "n1") {
					t.Errorf("audit entry %+v, want patrol moving the notice from removed to still_up about n1", e)
				}
				audited = append(audited, e.Target)
			}
			sort.Strings(audited)
			if fmt.Sprint(audited) != fmt.Sprint(tt.wantAudited) {
				t.Errorf("notice.relisted audited for %v, want %v", audited, tt.wantAudited)
			}
			if err := s.VerifyAudit(ctx); err != nil {
				t.Errorf("VerifyAudit = %v", err)
			}
			all, err := s.Notices(ctx, store.NoticeFilter{})
			if err != nil {
				t.Fatal(err)
			}
			rep := notice.Stats(all, at, 0)
			for _, f := range rep.Platforms {
				if f.Relisted != 1 || f.Removed != f.Decided-1 {
					t.Errorf("Stats(%s) = %d removed, %d relisted of %d decided; want n1 relisted, not removed", f.Platform, f.Removed, f.Relisted, f.Decided)
				}
			}

			// Taken down again, it counts as removed again.
			n, err := s.MarkVerified(ctx, "A", "n1", true, "http 404", at.Add(time.Hour), nil)
			if err != nil {
				t.Fatal(err)
			}
			if n.State != listing.NoticeRemoved || n.Listings[0].Outcome != listing.OutcomeRemoved {
				t.Errorf("MarkVerified(A, n1 removed again) = %s, n1 %s; want removed", n.State, n.Listings[0].Outcome)
			}
		})
	}
	s, _ := noticeStore(t, 1)
	if _, err := s.MarkRelisted(ctx, "nope", "", at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MarkRelisted(unknown listing) = %v, want ErrNotFound", err)
	}
}
