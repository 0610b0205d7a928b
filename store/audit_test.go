package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/patrol-dev/patrol/listing"
)

func TestAuditAppendOnly(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	if _, err := s.AppendAudit(ctx, AuditEntry{Action: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("AppendAudit(no actor) = %v, want ErrInvalid", err)
	}
	entries := []AuditEntry{
		{Actor: "ana", Action: "verdict", Target: "L1", From: "new", To: "confirmed"},
		{Actor: "ana", Action: "verdict", Target: "L2", From: "new", To: "dismissed"},
		{Actor: "boss", Action: "notice.approve", Target: "N1", From: "drafted", To: "approved"},
	}
	for i, e := range entries {
		got, err := s.AppendAudit(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if got.Seq != uint64(i+1) || got.Hash == "" || got.At.IsZero() {
			t.Errorf("AppendAudit(%d) = %+v", i, got)
		}
	}
	var all []AuditEntry
	if err := s.Audit(ctx, func(e AuditEntry) error { all = append(all, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].Target != "L1" || all[2].Prev != all[1].Hash {
		t.Fatalf("Audit = %+v", all)
	}
	tests := []struct {
		q    AuditQuery
		want []string
	}{
		{AuditQuery{}, []string{"N1", "L2", "L1"}},
		{AuditQuery{Target: "L2"}, []string{"L2"}},
		{AuditQuery{Actor: "ana", Limit: 1}, []string{"L2"}},
		{AuditQuery{Action: "notice.approve"}, []string{"N1"}},
	}
	for _, tt := range tests {
		got, err := s.RecentAudit(ctx, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		var targets []string
		for _, e := range got {
			targets = append(targets, e.Target)
		}
		if len(targets) != len(tt.want) {
			t.Errorf("RecentAudit(%+v) = %v, want %v", tt.q, targets, tt.want)
			continue
		}
		for i := range targets {
			if targets[i] != tt.want[i] {
				t.Errorf("RecentAudit(%+v) = %v, want %v", tt.q, targets, tt.want)
			}
		}
	}
	if err := s.VerifyAudit(ctx); err != nil {
		t.Fatalf("VerifyAudit = %v", err)
	}
	// Rewrite history behind the store's back: VerifyAudit must notice.
	err := s.db.Update(func(tx *bolt.Tx) error {
		var key [8]byte
		binary.BigEndian.PutUint64(key[:], 2)
		e := all[1]
		e.To = "confirmed"
		buf, _ := json.Marshal(e)
		return tx.Bucket(bucketAudit).Put(key[:], buf)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.VerifyAudit(ctx); !errors.Is(err, ErrAuditTampered) {
		t.Errorf("VerifyAudit(tampered) = %v, want ErrAuditTampered", err)
	}
}

func TestApproveNotice(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	n := listing.Notice{ID: "n1", Platform: "dmca", Brand: "Acme", State: listing.NoticeDrafted, DraftedAt: time.Now()}
	if err := s.PutNotice(ctx, n); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveNotice(ctx, "n1", "", time.Time{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("ApproveNotice(no approver) = %v, want ErrInvalid", err)
	}
	got, err := s.ApproveNotice(ctx, "n1", "boss", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if by, ok := NoticeApprover(got); !ok || by != "boss" || got.State != listing.NoticeDrafted {
		t.Errorf("ApproveNotice = %+v", got)
	}
	if _, err := s.ApproveNotice(ctx, "n1", "boss", time.Time{}); !errors.Is(err, ErrNoticeState) {
		t.Errorf("ApproveNotice(twice) = %v, want ErrNoticeState", err)
	}
	if _, err := s.ApproveNotice(ctx, "nope", "boss", time.Time{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("ApproveNotice(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.MarkSent(ctx, "n1", "boss", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveNotice(ctx, "n1", "boss", time.Time{}); !errors.Is(err, ErrNoticeState) {
		t.Errorf("ApproveNotice(sent) = %v, want ErrNoticeState", err)
	}
}

func TestRecordVerdict(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	l := listing.Listing{ID: "L1", Marketplace: "shop", URL: "https://shop.example/1", Title: "ACME replica", Status: listing.StatusNew}
	if err := s.PutListing(ctx, l); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	v, err := s.RecordVerdict(ctx, listing.Verdict{ListingID: "L1", Status: listing.StatusConfirmed, Analyst: "ana", Note: "replica", At: at}, "verdict")
	if err != nil {
		t.Fatal(err)
	}
	if v.Previous != listing.StatusNew {
		t.Errorf("RecordVerdict(L1).Previous = %s, want new", v.Previous)
	}
	got, err := s.Listing(ctx, "L1")
	if err != nil || got.Status != listing.StatusConfirmed {
		t.Errorf("Listing(L1) = %s, %v; want confirmed", got.Status, err)
	}
	es, err := s.RecentAudit(ctx, AuditQuery{Target: "L1"})
	if err != nil {
		t.Fatal(err)
	}
	want := AuditEntry{Seq: 1, At: at, Actor: "ana", Action: "verdict", Target: "L1", From: "new", To: "confirmed", Detail: "replica"}
	if len(es) != 1 {
		t.Fatalf("RecentAudit(L1) = %+v, want one entry", es)
	}
	es[0].Hash = ""
	if es[0] != want {
		t.Errorf("RecentAudit(L1) = %+v, want %+v", es[0], want)
	}

	for _, tt := range []struct {
		name   string
		v      listing.Verdict
		action string
		want   error
	}{
		{"unknown listing", listing.Verdict{ListingID: "nope", Status: listing.StatusDismissed, Analyst: "ana"}, "verdict", ErrNotFound},
		{"no analyst", listing.Verdict{ListingID: "L1", Status: listing.StatusDismissed}, "verdict", ErrInvalid},
		{"no action", listing.Verdict{ListingID: "L1", Status: listing.StatusDismissed, Analyst: "ana"}, "", ErrInvalid},
		{"bad status", listing.Verdict{ListingID: "L1", Status: "gone", Analyst: "ana"}, "verdict", ErrInvalid},
	} {
		if _, err := s.RecordVerdict(ctx, tt.v, tt.action); !errors.Is(err, tt.want) {
			t.Errorf("RecordVerdict(%s) = %v, want %v", tt.name, err, tt.want)
		}
	}

	// Break the audit log so that the next append fails inside the
	// transaction: the verdict must not be kept without its entry.
	err = s.db.Update(func(tx *bolt.Tx) error {
		var key [8]byte
		binary.BigEndian.PutUint64(key[:], 1)
		return tx.Bucket(bucketAudit).Put(key[:], []byte("{not json"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordVerdict(ctx, listing.Verdict{ListingID: "L1", Status: listing.StatusDismissed, Analyst: "ana"}, "verdict"); err == nil {
		t.Fatal("RecordVerdict with a broken audit log = nil error, want the audit failure")
	}
	if got, _ := s.Listing(ctx, "L1"); got.Status != listing.StatusConfirmed {
		t.Errorf("after a failed audit write Listing(L1).Status = %s, want confirmed (rolled back)", got.Status)
	}
	if vs, _ := s.Verdicts(ctx, "L1"); len(vs) != 1 {
		t.Errorf("after a failed audit write Verdicts(L1) = %+v, want only the first", vs)
	}
}
