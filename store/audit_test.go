package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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
	if err := s.PutNotice(ctx, n, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveNotice(ctx, "n1", "", time.Time{}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("ApproveNotice(no approver) = %v, want ErrInvalid", err)
	}
	got, err := s.ApproveNotice(ctx, "n1", "boss", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if by, ok := NoticeApprover(got); !ok || by != "boss" || got.State != listing.NoticeDrafted {
		t.Errorf("ApproveNotice = %+v", got)
	}
	if _, err := s.ApproveNotice(ctx, "n1", "boss", time.Time{}, nil); !errors.Is(err, ErrNoticeState) {
		t.Errorf("ApproveNotice(twice) = %v, want ErrNoticeState", err)
	}
	if _, err := s.ApproveNotice(ctx, "nope", "boss", time.Time{}, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("ApproveNotice(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.MarkSent(ctx, "n1", "boss", time.Time{}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveNotice(ctx, "n1", "boss", time.Time{}, nil); !errors.Is(err, ErrNoticeState) {
		t.Errorf("ApproveNotice(sent) = %v, want ErrNoticeState", err)
	}
	// Without an AuditFunc, nothing was audited.
	if n := auditKeys(t, s); n != 0 {
		t.Errorf("audit entries after changes without an AuditFunc = %d, want 0", n)
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

// TestAuditedChangesAreAtomic checks, for every kind of change that takes
// an AuditFunc, that the change and its audit entry commit together: a
// successful change leaves exactly one new entry, built from the changed
// value, and an audit write that fails inside the transaction leaves
// nothing of the change.
func TestAuditedChangesAreAtomic(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	// The AuditFuncs below put what they were given into To, so the test
	// sees that the entry is built from the changed value.
	noticeTo := func(e AuditEntry) AuditFunc[listing.Notice] {
		return func(n listing.Notice) AuditEntry { e.To = string(n.State); return e }
	}
	userTo := func(e AuditEntry) AuditFunc[User] {
		return func(u User) AuditEntry { e.To = fmt.Sprintf("%s disabled=%t", u.Role, u.Disabled); return e }
	}
	draft := listing.Notice{ID: "N1", Platform: "dmca", Brand: "Acme", State: listing.NoticeDrafted, DraftedAt: at,
		Listings: []listing.NoticeListing{{ID: "L1", Outcome: listing.OutcomePending}}}
	drafted := func(t *testing.T, s *Store) {
		if err := s.PutNotice(ctx, draft, nil); err != nil {
			t.Fatal(err)
		}
	}
	sent := func(t *testing.T, s *Store) {
		drafted(t, s)
		if _, err := s.MarkSent(ctx, "N1", "boss", at, nil); err != nil {
			t.Fatal(err)
		}
	}
	withUser := func(t *testing.T, s *Store) {
		if err := s.AddUser(ctx, "bo", RoleAnalyst, "long enough", nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateSession(ctx, "bo", time.Hour); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name  string
		setup func(*testing.T, *Store)
		do    func(*Store, AuditEntry) error
		// want is the state (see auditedState) after the change; wantTo
		// the To its AuditFunc derived from the changed value.
		want, wantTo string
	}{
		{"notice.draft", nil, func(s *Store, e AuditEntry) error {
			return s.PutNotice(ctx, draft, noticeTo(e))
		}, "notice=drafted listing=confirmed outcome=pending testbuys=0 user=none", "drafted"},
		{"notice.approve", drafted, func(s *Store, e AuditEntry) error {
			_, err := s.ApproveNotice(ctx, "N1", "boss", at, noticeTo(e))
			return err
		}, "notice=drafted approved listing=confirmed outcome=pending testbuys=0 user=none", "drafted"},
		{"notice.sent", drafted, func(s *Store, e AuditEntry) error {
			_, err := s.MarkSent(ctx, "N1", "boss", at, noticeTo(e))
			return err
		}, "notice=sent listing=noticed outcome=pending testbuys=0 user=none", "sent"},
		{"notice.verify", sent, func(s *Store, e AuditEntry) error {
			_, err := s.MarkVerified(ctx, "N1", "L1", true, "http 404", at, noticeTo(e))
			return err
		}, "notice=removed listing=removed outcome=removed testbuys=0 user=none", "removed"},
		{"notice.rejected", sent, func(s *Store, e AuditEntry) error {
			_, err := s.MarkRejected(ctx, "N1", "boss", "wrong mark", at, noticeTo(e))
			return err
		}, "notice=rejected listing=confirmed outcome=pending testbuys=0 user=none", "rejected"},
		{"notice.retracted", sent, func(s *Store, e AuditEntry) error {
			_, err := s.MarkRetracted(ctx, "N1", "boss", "", at, noticeTo(e))
			return err
		}, "notice=retracted listing=confirmed outcome=pending testbuys=0 user=none", "retracted"},
		{"notice.counter_notice", sent, func(s *Store, e AuditEntry) error {
			_, err := s.MarkCounterNotice(ctx, "N1", "boss", "genuine, says the seller", at, noticeTo(e))
			return err
		}, "notice=counter_notice listing=still_up outcome=reinstated testbuys=0 user=none", "counter_notice"},
		{"testbuy.add", nil, func(s *Store, e AuditEntry) error {
			_, err := s.AddTestBuy(ctx, listing.TestBuy{ListingID: "L1", OrderRef: "ORD-1", Analyst: "ana"}, func(tb listing.TestBuy) AuditEntry {
				e.To = string(tb.Outcome)
				return e
			})
			return err
		}, "notice=none listing=confirmed testbuys=1 user=none", "pending"},
		{"user.add", nil, func(s *Store, e AuditEntry) error {
			return s.AddUser(ctx, "bo", RoleApprover, "long enough", userTo(e))
		}, "notice=none listing=confirmed testbuys=0 user=approver sessions=0 tokens=0", "approver disabled=false"},
		{"user.role", withUser, func(s *Store, e AuditEntry) error {
			return s.SetRole(ctx, "bo", RoleAdmin, userTo(e))
		}, "notice=none listing=confirmed testbuys=0 user=admin sessions=1 tokens=0", "admin disabled=false"},
		{"user.disable", withUser, func(s *Store, e AuditEntry) error {
			return s.SetDisabled(ctx, "bo", true, userTo(e))
		}, "notice=none listing=confirmed testbuys=0 user=analyst disabled sessions=0 tokens=0", "analyst disabled=true"},
		{"token.create", withUser, func(s *Store, e AuditEntry) error {
			_, err := s.CreateToken(ctx, "bo", "ci", func(tok Token) AuditEntry { e.To = tok.User + "/" + tok.Label; return e })
			return err
		}, "notice=none listing=confirmed testbuys=0 user=analyst sessions=1 tokens=1", "bo/ci"},
	}
	for _, tt := range tests {
		open := func(t *testing.T) *Store {
			s := openTestStore(t)
			l := listing.Listing{ID: "L1", Marketplace: "shop", URL: "https://shop.example/1", Title: "ACME replica", Status: listing.StatusConfirmed}
			if err := s.PutListing(ctx, l); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t, s)
			}
			// An entry of its own, so that the log is not empty and the
			// failing case has a last entry to break.
			if _, err := s.AppendAudit(ctx, AuditEntry{Actor: "setup", Action: "setup"}); err != nil {
				t.Fatal(err)
			}
			return s
		}
		entry := AuditEntry{At: at, Actor: "boss", Action: tt.name, Target: "T", From: "before", Detail: "why"}

		t.Run(tt.name+" committed", func(t *testing.T) {
			s := open(t)
			before := auditKeys(t, s)
			if err := tt.do(s, entry); err != nil {
				t.Fatalf("%s = %v", tt.name, err)
			}
			if got := auditedState(t, s); got != tt.want {
				t.Errorf("%s: state = %q, want %q", tt.name, got, tt.want)
			}
			if n := auditKeys(t, s); n != before+1 {
				t.Errorf("%s: %d audit entries after, %d before; want one more", tt.name, n, before)
			}
			es, err := s.RecentAudit(ctx, AuditQuery{Limit: 1})
			if err != nil || len(es) != 1 {
				t.Fatalf("RecentAudit = %+v, %v", es, err)
			}
			want := entry
			want.To, want.Seq, want.Prev, want.Hash = tt.wantTo, es[0].Seq, es[0].Prev, es[0].Hash
			if es[0] != want {
				t.Errorf("%s: last audit entry = %+v, want %+v", tt.name, es[0], want)
			}
			if err := s.VerifyAudit(ctx); err != nil {
				t.Errorf("VerifyAudit after %s = %v", tt.name, err)
			}
		})

		t.Run(tt.name+" rolled back", func(t *testing.T) {
			s := open(t)
			// Break the last entry so that the next append fails inside
			// the change's transaction.
			err := s.db.Update(func(tx *bolt.Tx) error {
				k, _ := tx.Bucket(bucketAudit).Cursor().Last()
				return tx.Bucket(bucketAudit).Put(k, []byte("{not json"))
			})
			if err != nil {
				t.Fatal(err)
			}
			before, entries := auditedState(t, s), auditKeys(t, s)
			if err := tt.do(s, entry); err == nil {
				t.Fatalf("%s with a broken audit log = nil error, want the audit failure", tt.name)
			}
			if got := auditedState(t, s); got != before {
				t.Errorf("%s after a failed audit write: state = %q, want %q (rolled back)", tt.name, got, before)
			}
			if n := auditKeys(t, s); n != entries {
				t.Errorf("%s after a failed audit write: %d audit entries, want %d", tt.name, n, entries)
			}
		})
	}
}

// auditedState describes everything TestAuditedChangesAreAtomic's changes
// touch: notice N1, listing L1 and its test buys, account bo with its
// sessions and tokens.
func auditedState(t *testing.T, s *Store) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	n, err := s.Notice(ctx, "N1")
	switch {
	case errors.Is(err, ErrNotFound):
		b.WriteString("notice=none")
	case err != nil:
		t.Fatal(err)
	default:
		fmt.Fprintf(&b, "notice=%s", n.State)
		if NoticeApproved(n) {
			b.WriteString(" approved")
		}
	}
	l, err := s.Listing(ctx, "L1")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, " listing=%s", l.Status)
	if len(n.Listings) > 0 {
		fmt.Fprintf(&b, " outcome=%s", n.Listings[0].Outcome)
	}
	tbs, err := s.TestBuys(ctx, "L1")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, " testbuys=%d", len(tbs))
	u, err := s.User(ctx, "bo")
	switch {
	case errors.Is(err, ErrNotFound):
		b.WriteString(" user=none")
		return b.String()
	case err != nil:
		t.Fatal(err)
	}
	fmt.Fprintf(&b, " user=%s", u.Role)
	if u.Disabled {
		b.WriteString(" disabled")
	}
	sessions := 0
	err = s.db.View(func(tx *bolt.Tx) error {
		if bk := tx.Bucket(bucketSessions); bk != nil {
			sessions = bk.Stats().KeyN
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	toks, err := s.Tokens(ctx, "bo")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, " sessions=%d tokens=%d", sessions, len(toks))
	return b.String()
}

// auditKeys counts the audit log's entries without decoding them, so that
// it works on a log with a broken entry.
func auditKeys(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketAudit); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
