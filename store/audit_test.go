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
