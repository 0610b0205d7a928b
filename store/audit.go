package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/patrol-dev/patrol/listing"
)

// bucketAudit holds the audit log: seq(8, big-endian) → JSON AuditEntry.
// The store offers no way to change or delete an entry.
var bucketAudit = []byte("audit")

// ErrAuditTampered is returned by VerifyAudit when the hash chain is broken.
var ErrAuditTampered = errors.New("audit log tampered")

// AuditEntry is one recorded action: who did what to which thing, from
// which state to which. Entries are chained by hash, so an entry changed or
// removed in the file is detected by VerifyAudit.
type AuditEntry struct {
	Seq    uint64    `json:"seq"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target,omitempty"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to,omitempty"`
	Detail string    `json:"detail,omitempty"`
	// Prev is the Hash of the entry before; Hash covers this entry's
	// fields and Prev.
	Prev string `json:"prev,omitempty"`
	Hash string `json:"hash"`
}

func (e AuditEntry) digest() string {
	c := e
	c.Hash = ""
	buf, _ := json.Marshal(c)
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:])
}

// AuditQuery narrows RecentAudit.
type AuditQuery struct {
	// Target, Actor and Action select entries with exactly that value when
	// set.
	Target string
	Actor  string
	Action string
	// Limit bounds the entries returned (newest first); 0 means 100.
	Limit int
}

func (q AuditQuery) match(e AuditEntry) bool {
	return (q.Target == "" || e.Target == q.Target) &&
		(q.Actor == "" || e.Actor == q.Actor) &&
		(q.Action == "" || e.Action == q.Action)
}

// AppendAudit adds e to the end of the audit log and returns it as stored
// (with its sequence number, time and hash).
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	if err := validAudit(e); err != nil {
		return e, err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		e, err = appendAudit(tx, e)
		return err
	})
	if err != nil {
		return e, fmt.Errorf("append audit %s: %w", e.Action, err)
	}
	return e, nil
}

func validAudit(e AuditEntry) error {
	if e.Actor == "" || e.Action == "" {
		return fmt.Errorf("append audit: actor and action are required: %w", ErrInvalid)
	}
	return nil
}

// appendAudit chains e onto the log inside tx, so that a change and its
// audit entry can commit (or fail) together.
func appendAudit(tx *bolt.Tx, e AuditEntry) (AuditEntry, error) {
	if err := validAudit(e); err != nil {
		return e, err
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = e.At.UTC()
	b, err := tx.CreateBucketIfNotExists(bucketAudit)
	if err != nil {
		return e, fmt.Errorf("create bucket %s: %w", bucketAudit, err)
	}
	e.Prev = ""
	if k, v := b.Cursor().Last(); k != nil {
		var last AuditEntry
		if err := json.Unmarshal(v, &last); err != nil {
			return e, fmt.Errorf("decode last audit entry: %w", err)
		}
		e.Prev = last.Hash
	}
	seq, err := b.NextSequence()
	if err != nil {
		return e, fmt.Errorf("audit sequence: %w", err)
	}
	e.Seq = seq
	e.Hash = e.digest()
	buf, err := json.Marshal(e)
	if err != nil {
		return e, fmt.Errorf("encode audit entry: %w", err)
	}
	var key [8]byte
	binary.BigEndian.PutUint64(key[:], seq)
	if err := b.Put(key[:], buf); err != nil {
		return e, fmt.Errorf("put audit entry: %w", err)
	}
	return e, nil
}

// AuditFunc builds the audit entry of a change from what the change
// produced: the notice as changed, the test buy or account as stored. The
// store methods that take one call it inside the change's write
// transaction and append its entry there, so that the change and its entry
// commit together or not at all: a crash, or an audit write that fails,
// can then neither keep an action without its record nor record one that
// did not happen, which the change followed by AppendAudit could. It runs
// under the store's write lock, so it must only build the entry, never
// call the store. A nil AuditFunc appends nothing.
type AuditFunc[T any] func(T) AuditEntry

// appendIn appends the entry f builds from v inside tx.
func (f AuditFunc[T]) appendIn(tx *bolt.Tx, v T) error {
	if f == nil {
		return nil
	}
	e := f(v)
	if _, err := appendAudit(tx, e); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// RecordVerdict records an analyst's verdict, moves the listing to its
// status and appends the audit entry (action by v.Analyst on the listing,
// from the previous status to the new one, with the note) in one
// transaction: a crash or a failed write can then neither keep a decision
// without its audit entry nor audit a decision that was not made, which
// SetStatus followed by AppendAudit could. Previous is filled from the
// stored listing, At defaults to now.
func (s *Store) RecordVerdict(ctx context.Context, v listing.Verdict, action string) (listing.Verdict, error) {
	if err := ctxErr(ctx); err != nil {
		return v, err
	}
	if !v.Status.Valid() {
		return v, fmt.Errorf("record verdict on %s: unknown status %q: %w", v.ListingID, v.Status, ErrInvalid)
	}
	if v.Analyst == "" || action == "" {
		return v, fmt.Errorf("record verdict on %s: analyst and action are required: %w", v.ListingID, ErrInvalid)
	}
	v.At = stamp(v.At)
	err := s.db.Update(func(tx *bolt.Tx) error {
		l, ok, err := getListing(tx, v.ListingID)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		v.Previous = l.Status
		l.Status = v.Status
		if err := putListing(tx, l); err != nil {
			return err
		}
		if err := putVerdict(tx, v); err != nil {
			return err
		}
		_, err = appendAudit(tx, AuditEntry{
			At: v.At, Actor: v.Analyst, Action: action, Target: string(v.ListingID),
			From: string(v.Previous), To: string(v.Status), Detail: v.Note,
		})
		return err
	})
	if err != nil {
		return v, fmt.Errorf("record verdict on %s: %w", v.ListingID, err)
	}
	return v, nil
}

// putVerdict appends v to its listing's verdict history in tx.
func putVerdict(tx *bolt.Tx, v listing.Verdict) error {
	buf, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode verdict: %w", err)
	}
	if err := tx.Bucket(bucketVerdicts).Put(join([]byte(v.ListingID), be64(v.At.UnixNano())), buf); err != nil {
		return fmt.Errorf("put verdict of %s: %w", v.ListingID, err)
	}
	return nil
}

// Audit calls fn for every audit entry, oldest first (for `patrol audit
// --format jsonl`). An error from fn stops the walk and is returned.
func (s *Store) Audit(ctx context.Context, fn func(AuditEntry) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			var e AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode audit entry %x: %w", k, err)
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// RecentAudit returns the newest entries matching q, newest first.
func (s *Store) RecentAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	var out []AuditEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		n := 0
		for k, v := c.Last(); k != nil && len(out) < q.Limit; k, v = c.Prev() {
			if n++; n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			var e AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode audit entry %x: %w", k, err)
			}
			if q.match(e) {
				out = append(out, e)
			}
		}
		return nil
	})
	return out, err
}

// VerifyAudit walks the log and checks every entry's hash and its link to
// the one before; it returns ErrAuditTampered naming the first bad entry.
func (s *Store) VerifyAudit(ctx context.Context) error {
	prev := ""
	var want uint64 = 1
	return s.Audit(ctx, func(e AuditEntry) error {
		if e.Seq != want || e.Prev != prev || e.Hash != e.digest() {
			return fmt.Errorf("audit entry %d: %w", e.Seq, ErrAuditTampered)
		}
		prev = e.Hash
		want++
		return nil
	})
}

// ApproveNotice records that an approver allowed a drafted notice to be
// sent: a NoticeEvent in state drafted with Note "approved" and By set. The
// state stays drafted until MarkSent. Approving twice, or a notice no
// longer drafted, is ErrNoticeState. The audit entry that audit builds from
// the approved notice is appended in the same transaction.
func (s *Store) ApproveNotice(ctx context.Context, id, by string, at time.Time, audit AuditFunc[listing.Notice]) (listing.Notice, error) {
	if by == "" {
		return listing.Notice{}, fmt.Errorf("approve notice %s: approver required: %w", id, ErrInvalid)
	}
	at = stamp(at)
	return s.updateNotice(ctx, id, audit, func(tx *bolt.Tx, n *listing.Notice) error {
		if n.State != listing.NoticeDrafted {
			return fmt.Errorf("approve notice %s: it is %s: %w", id, n.State, ErrNoticeState)
		}
		if NoticeApproved(*n) {
			return fmt.Errorf("approve notice %s: already approved: %w", id, ErrNoticeState)
		}
		n.Events = append(n.Events, listing.NoticeEvent{At: at, State: listing.NoticeDrafted, By: by, Note: "approved"})
		return nil
	})
}

// NoticeApproved reports whether n carries an approval (see ApproveNotice)
// and by whom.
func NoticeApproved(n listing.Notice) bool {
	_, ok := NoticeApprover(n)
	return ok
}

// NoticeApprover returns who approved n, if anyone did.
func NoticeApprover(n listing.Notice) (string, bool) {
	for _, e := range n.Events {
		if e.State == listing.NoticeDrafted && e.Note == "approved" {
			return e.By, true
		}
	}
	return "", false
}
