package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/patrol-dev/patrol/listing"
)

// ErrNoticeState is returned when a notice's state does not allow the
// asked-for step (marking a draft removed, re-drafting a sent notice).
var ErrNoticeState = errors.New("notice state does not allow this")

var (
	bucketNotices          = []byte("notices")            // notice id → JSON listing.Notice
	bucketNoticesByListing = []byte("notices_by_listing") // listing id \x00 notice id → nil
	bucketTestBuys         = []byte("test_buys")          // listing id \x00 recordedAt(8) \x00 test buy id → JSON listing.TestBuy
)

// NoticeFilter narrows Notices; zero fields match everything.
type NoticeFilter struct {
	Platform  string
	Brand     string
	States    []listing.NoticeState
	ListingID listing.ID
}

func (f NoticeFilter) match(n listing.Notice) bool {
	if f.Platform != "" && n.Platform != f.Platform {
		return false
	}
	if f.Brand != "" && n.Brand != f.Brand {
		return false
	}
	if len(f.States) > 0 {
		ok := false
		for _, st := range f.States {
			ok = ok || n.State == st
		}
		if !ok {
			return false
		}
	}
	if f.ListingID != "" {
		for _, l := range n.Listings {
			if l.ID == f.ListingID {
				return true
			}
		}
		return false
	}
	return true
}

func noticeBuckets(tx *bolt.Tx) (notices, byListing *bolt.Bucket, err error) {
	if notices, err = tx.CreateBucketIfNotExists(bucketNotices); err != nil {
		return nil, nil, fmt.Errorf("create bucket %s: %w", bucketNotices, err)
	}
	if byListing, err = tx.CreateBucketIfNotExists(bucketNoticesByListing); err != nil {
		return nil, nil, fmt.Errorf("create bucket %s: %w", bucketNoticesByListing, err)
	}
	return notices, byListing, nil
}

func getNotice(b *bolt.Bucket, id string) (listing.Notice, bool, error) {
	var n listing.Notice
	if b == nil {
		return n, false, nil
	}
	v := b.Get([]byte(id))
	if v == nil {
		return n, false, nil
	}
	if err := json.Unmarshal(v, &n); err != nil {
		return n, false, fmt.Errorf("decode notice %s: %w", id, err)
	}
	return n, true, nil
}

func putNotice(b *bolt.Bucket, n listing.Notice) error {
	buf, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encode notice %s: %w", n.ID, err)
	}
	if err := b.Put([]byte(n.ID), buf); err != nil {
		return fmt.Errorf("put notice %s: %w", n.ID, err)
	}
	return nil
}

// deleteNotice removes a notice and its listing index entries.
func deleteNotice(notices, byListing *bolt.Bucket, n listing.Notice) error {
	for _, l := range n.Listings {
		if err := byListing.Delete(join([]byte(l.ID), []byte(n.ID))); err != nil {
			return fmt.Errorf("unindex notice %s: %w", n.ID, err)
		}
	}
	if err := notices.Delete([]byte(n.ID)); err != nil {
		return fmt.Errorf("delete notice %s: %w", n.ID, err)
	}
	return nil
}

// PutNotice stores a drafted notice. Drafting the same listings again
// replaces the draft (notice IDs derive from what they cite); a draft that
// shares a listing with another unsent draft for the same platform
// supersedes it, so a listing is never in two pending drafts. A notice
// already sent cannot be replaced (ErrNoticeState). The audit entry that
// audit builds from the stored draft is appended in the same transaction.
func (s *Store) PutNotice(ctx context.Context, n listing.Notice, audit AuditFunc[listing.Notice]) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if n.ID == "" {
		return errors.New("put notice: empty id")
	}
	if n.State == "" {
		n.State = listing.NoticeDrafted
	}
	if n.State != listing.NoticeDrafted {
		return fmt.Errorf("put notice %s in state %s: only drafts are put: %w", n.ID, n.State, ErrNoticeState)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		notices, byListing, err := noticeBuckets(tx)
		if err != nil {
			return err
		}
		old, had, err := getNotice(notices, n.ID)
		if err != nil {
			return err
		}
		if had && old.State.Filed() {
			return fmt.Errorf("put notice %s: it is %s: %w", n.ID, old.State, ErrNoticeState)
		}
		superseded := map[string]bool{}
		for _, l := range n.Listings {
			prefix := join([]byte(l.ID), nil)
			c := byListing.Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				if id := string(k[len(prefix):]); id != n.ID {
					superseded[id] = true
				}
			}
		}
		if had {
			superseded[n.ID] = true
		}
		for id := range superseded {
			o, ok, err := getNotice(notices, id)
			if err != nil {
				return err
			}
			if ok && o.State == listing.NoticeDrafted && (o.Platform == n.Platform || id == n.ID) {
				if err := deleteNotice(notices, byListing, o); err != nil {
					return err
				}
			}
		}
		for _, l := range n.Listings {
			if err := byListing.Put(join([]byte(l.ID), []byte(n.ID)), nil); err != nil {
				return fmt.Errorf("index notice %s: %w", n.ID, err)
			}
		}
		if err := putNotice(notices, n); err != nil {
			return err
		}
		return audit.appendIn(tx, n)
	})
}

// Notice returns the notice with id, or ErrNotFound.
func (s *Store) Notice(ctx context.Context, id string) (listing.Notice, error) {
	var n listing.Notice
	if err := ctxErr(ctx); err != nil {
		return n, err
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		var ok bool
		var err error
		n, ok, err = getNotice(tx.Bucket(bucketNotices), id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("notice %s: %w", id, ErrNotFound)
		}
		return nil
	})
	return n, err
}

// Notices returns the notices f matches, oldest draft first.
func (s *Store) Notices(ctx context.Context, f NoticeFilter) ([]listing.Notice, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out []listing.Notice
	err := s.db.View(func(tx *bolt.Tx) error {
		notices := tx.Bucket(bucketNotices)
		if notices == nil {
			return nil
		}
		if f.ListingID != "" {
			byListing := tx.Bucket(bucketNoticesByListing)
			prefix := join([]byte(f.ListingID), nil)
			c := byListing.Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				n, ok, err := getNotice(notices, string(k[len(prefix):]))
				if err != nil {
					return err
				}
				if ok && f.match(n) {
					out = append(out, n)
				}
			}
			return nil
		}
		return notices.ForEach(func(k, v []byte) error {
			var n listing.Notice
			if err := json.Unmarshal(v, &n); err != nil {
				return fmt.Errorf("decode notice %s: %w", k, err)
			}
			if f.match(n) {
				out = append(out, n)
			}
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].DraftedAt.Equal(out[j].DraftedAt) {
			return out[i].DraftedAt.Before(out[j].DraftedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}

// updateNotice applies fn to the stored notice id inside one write
// transaction, together with whatever listing updates fn makes and the
// audit entry that audit builds from the changed notice. On error it
// returns the zero notice: nothing of the change was kept.
func (s *Store) updateNotice(ctx context.Context, id string, audit AuditFunc[listing.Notice], fn func(tx *bolt.Tx, n *listing.Notice) error) (listing.Notice, error) {
	var n listing.Notice
	if err := ctxErr(ctx); err != nil {
		return n, err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		notices, _, err := noticeBuckets(tx)
		if err != nil {
			return err
		}
		var ok bool
		n, ok, err = getNotice(notices, id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("notice %s: %w", id, ErrNotFound)
		}
		if err := fn(tx, &n); err != nil {
			return err
		}
		if err := putNotice(notices, n); err != nil {
			return err
		}
		return audit.appendIn(tx, n)
	})
	if err != nil {
		return listing.Notice{}, err
	}
	return n, nil
}

// moveListing sets a listing's status with a verdict in tx, when its current
// status is one of from; a listing that is gone or elsewhere is left alone.
func moveListing(tx *bolt.Tx, id listing.ID, to listing.Status, by, note string, at time.Time, from ...listing.Status) error {
	l, ok, err := getListing(tx, id)
	if err != nil || !ok || l.Status == to {
		return err
	}
	allowed := false
	for _, st := range from {
		allowed = allowed || l.Status == st
	}
	if !allowed {
		return nil
	}
	v := listing.Verdict{ListingID: id, Status: to, Previous: l.Status, Analyst: by, Note: note, At: at}
	l.Status = to
	if err := putListing(tx, l); err != nil {
		return err
	}
	return putVerdict(tx, v)
}

func stamp(at time.Time) time.Time {
	if at.IsZero() {
		return time.Now().UTC()
	}
	return at.UTC()
}

func byOrPatrol(by string) string {
	if by == "" {
		return "patrol"
	}
	return by
}

// MarkSent records that a drafted notice was filed with the platform, and
// moves its confirmed listings to noticed in the same transaction. A cited
// listing dismissed since the draft makes it fail: the notice must be
// drafted again. The audit entry that audit builds from the sent notice is
// appended in the same transaction.
func (s *Store) MarkSent(ctx context.Context, id, by string, at time.Time, audit AuditFunc[listing.Notice]) (listing.Notice, error) {
	at = stamp(at)
	by = byOrPatrol(by)
	return s.updateNotice(ctx, id, audit, func(tx *bolt.Tx, n *listing.Notice) error {
		if n.State != listing.NoticeDrafted {
			return fmt.Errorf("mark notice %s sent: it is %s: %w", id, n.State, ErrNoticeState)
		}
		for _, nl := range n.Listings {
			l, ok, err := getListing(tx, nl.ID)
			if err != nil {
				return err
			}
			if ok && (l.Status == listing.StatusDismissed || l.Status == listing.StatusNew) {
				return fmt.Errorf("mark notice %s sent: listing %s is %s since the draft, draft again: %w", id, nl.ID, l.Status, ErrNoticeState)
			}
			if err := moveListing(tx, nl.ID, listing.StatusNoticed, by, "notice "+id+" sent", at, listing.StatusConfirmed); err != nil {
				return err
			}
		}
		n.State = listing.NoticeSent
		n.SentAt = at
		n.Events = append(n.Events, listing.NoticeEvent{At: at, State: listing.NoticeSent, By: by})
		return nil
	})
}

// MarkVerified records what a re-check of one listing of a sent notice
// found: removed (404/410, the marketplace's removal marker, or no longer
// matching) or still up, with detail saying which. The listing's status
// moves to removed or still_up in the same transaction; the notice becomes
// removed once every listing is, still_up once every listing was checked
// and some are up. A listing found up after it was verified removed is
// relisted, here and in every other notice that recorded it removed (see
// MarkRelisted). The audit entry that audit builds from the notice as
// verified is appended in the same transaction, after the relistings'
// entries.
func (s *Store) MarkVerified(ctx context.Context, id string, listingID listing.ID, removed bool, detail string, at time.Time, audit AuditFunc[listing.Notice]) (listing.Notice, error) {
	at = stamp(at)
	return s.updateNotice(ctx, id, audit, func(tx *bolt.Tx, n *listing.Notice) error {
		switch n.State {
		case listing.NoticeSent, listing.NoticeRemoved, listing.NoticeStillUp:
		default:
			return fmt.Errorf("verify notice %s: it is %s: %w", id, n.State, ErrNoticeState)
		}
		i := -1
		for j := range n.Listings {
			if n.Listings[j].ID == listingID {
				i = j
			}
		}
		if i < 0 {
			return fmt.Errorf("verify notice %s: listing %s: %w", id, listingID, ErrNotFound)
		}
		nl := &n.Listings[i]
		nl.CheckedAt, nl.Detail = at, detail
		status := listing.StatusStillUp
		relisted := false
		switch {
		case removed:
			status = listing.StatusRemoved
			if nl.Outcome != listing.OutcomeRemoved {
				nl.RemovedAt = at
			}
			nl.Outcome = listing.OutcomeRemoved
		case nl.Outcome == listing.OutcomeRemoved || nl.Outcome == listing.OutcomeRelisted:
			// RemovedAt stays: when the takedown happened is part of
			// the record of a relisting.
			relisted = nl.Outcome == listing.OutcomeRemoved
			nl.Outcome = listing.OutcomeRelisted
		default:
			nl.Outcome = listing.OutcomeStillUp
			nl.RemovedAt = time.Time{}
		}
		note := "verified for notice " + id
		if detail != "" {
			note += ": " + detail
		}
		if err := moveListing(tx, listingID, status, "patrol", note, at,
			listing.StatusNoticed, listing.StatusRemoved, listing.StatusStillUp, listing.StatusConfirmed); err != nil {
			return err
		}
		if !removed {
			if _, err := relistNotices(tx, listingID, id, "live again, found by verification of notice "+id, at); err != nil {
				return err
			}
		}
		n.VerifiedAt = at
		from := n.State
		settleNotice(n, at)
		switch {
		case relisted:
			n.Events = append(n.Events, listing.NoticeEvent{At: at, State: n.State, By: "patrol", Note: relistedNote(listingID, detail)})
		case n.State != from:
			n.Events = append(n.Events, listing.NoticeEvent{At: at, State: n.State, By: "patrol", Note: detail})
		}
		return nil
	})
}

// settleNotice derives a filed, verified notice's state from its listings'
// outcomes: removed once every listing is, still_up once every listing was
// checked and some are up (still up, reinstated or relisted), sent while
// some are unchecked.
func settleNotice(n *listing.Notice, at time.Time) {
	state := listing.NoticeRemoved
	for _, l := range n.Listings {
		switch l.Outcome {
		case listing.OutcomeRemoved:
		case listing.OutcomeStillUp, listing.OutcomeReinstated, listing.OutcomeRelisted:
			if state == listing.NoticeRemoved {
				state = listing.NoticeStillUp
			}
		default:
			state = listing.NoticeSent
		}
	}
	n.State = state
	if state == listing.NoticeRemoved {
		n.ClosedAt = at
	} else {
		n.ClosedAt = time.Time{}
	}
}

func relistedNote(id listing.ID, detail string) string {
	note := "listing " + string(id) + " relisted"
	if detail != "" {
		note += ": " + detail
	}
	return note
}

// relistNotices marks listing id relisted in every filed notice (but skip)
// that recorded it removed and that no platform or seller has closed
// otherwise, settles each notice's state again, and audits each change in
// tx. It returns the notices it changed.
func relistNotices(tx *bolt.Tx, id listing.ID, skip, detail string, at time.Time) ([]listing.Notice, error) {
	notices, byListing, err := noticeBuckets(tx)
	if err != nil {
		return nil, err
	}
	var ids []string
	prefix := join([]byte(id), nil)
	c := byListing.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if nid := string(k[len(prefix):]); nid != skip {
			ids = append(ids, nid)
		}
	}
	var changed []listing.Notice
	for _, nid := range ids {
		n, ok, err := getNotice(notices, nid)
		if err != nil {
			return nil, err
		}
		if !ok || !n.State.Filed() || n.State.Adverse() {
			continue
		}
		hit := false
		for i := range n.Listings {
			if nl := &n.Listings[i]; nl.ID == id && nl.Outcome == listing.OutcomeRemoved {
				nl.Outcome, nl.CheckedAt, nl.Detail = listing.OutcomeRelisted, at, detail
				hit = true
			}
		}
		if !hit {
			continue
		}
		from := n.State
		settleNotice(&n, at)
		n.Events = append(n.Events, listing.NoticeEvent{At: at, State: n.State, By: "patrol", Note: relistedNote(id, detail)})
		if err := putNotice(notices, n); err != nil {
			return nil, err
		}
		_, err = appendAudit(tx, AuditEntry{
			At: at, Actor: "patrol", Action: "notice.relisted", Target: n.ID,
			From: string(from), To: string(n.State), Detail: relistedNote(id, detail),
		})
		if err != nil {
			return nil, err
		}
		changed = append(changed, n)
	}
	return changed, nil
}

// MarkRelisted records that listing id, verified removed after a notice,
// is live again (a sweep or a re-check found it, as detail says). In one
// transaction the listing goes from removed back to still_up with a
// verdict, every filed notice that recorded it removed now records it
// relisted (the notice goes back to still_up, with an event saying why),
// and each notice's change is audited ("notice.relisted" by "patrol"), so
// that the enforcement record stops counting a takedown that did not
// last. A listing in another status keeps it; its notices are still
// corrected. It returns the notices that changed.
func (s *Store) MarkRelisted(ctx context.Context, id listing.ID, detail string, at time.Time) ([]listing.Notice, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	at = stamp(at)
	var changed []listing.Notice
	err := s.db.Update(func(tx *bolt.Tx) error {
		if _, ok, err := getListing(tx, id); err != nil {
			return err
		} else if !ok {
			return ErrNotFound
		}
		if err := moveListing(tx, id, listing.StatusStillUp, "patrol", "relisted: "+detail, at, listing.StatusRemoved); err != nil {
			return err
		}
		var err error
		changed, err = relistNotices(tx, id, "", detail, at)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("mark %s relisted: %w", id, err)
	}
	return changed, nil
}

// MarkRejected records that the platform refused the notice. Its listings
// go back to confirmed, for an analyst to correct and draft again, or to
// dismiss; the rejection counts against the accuracy record. The audit
// entry that audit builds from the closed notice is appended in the same
// transaction.
func (s *Store) MarkRejected(ctx context.Context, id, by, note string, at time.Time, audit AuditFunc[listing.Notice]) (listing.Notice, error) {
	return s.closeAdverse(ctx, id, listing.NoticeRejected, listing.StatusConfirmed, by, note, at, audit)
}

// MarkRetracted records that the rights holder withdrew the notice. Its
// listings go back to confirmed for review; the retraction counts against
// the accuracy record. The audit entry that audit builds from the closed
// notice is appended in the same transaction.
func (s *Store) MarkRetracted(ctx context.Context, id, by, note string, at time.Time, audit AuditFunc[listing.Notice]) (listing.Notice, error) {
	return s.closeAdverse(ctx, id, listing.NoticeRetracted, listing.StatusConfirmed, by, note, at, audit)
}

// MarkCounterNotice records that the seller answered the notice with a
// counter-notice: its listings count as reinstated and are still up. The
// audit entry that audit builds from the closed notice is appended in the
// same transaction.
func (s *Store) MarkCounterNotice(ctx context.Context, id, by, note string, at time.Time, audit AuditFunc[listing.Notice]) (listing.Notice, error) {
	return s.closeAdverse(ctx, id, listing.NoticeCounterNotice, listing.StatusStillUp, by, note, at, audit)
}

func (s *Store) closeAdverse(ctx context.Context, id string, state listing.NoticeState, to listing.Status, by, note string, at time.Time, audit AuditFunc[listing.Notice]) (listing.Notice, error) {
	at = stamp(at)
	by = byOrPatrol(by)
	return s.updateNotice(ctx, id, audit, func(tx *bolt.Tx, n *listing.Notice) error {
		if !n.State.Filed() || n.State.Adverse() {
			return fmt.Errorf("mark notice %s %s: it is %s: %w", id, state, n.State, ErrNoticeState)
		}
		for i := range n.Listings {
			nl := &n.Listings[i]
			if state == listing.NoticeCounterNotice {
				nl.Outcome = listing.OutcomeReinstated
				nl.RemovedAt = time.Time{}
			}
			if err := moveListing(tx, nl.ID, to, by, fmt.Sprintf("notice %s %s", id, state), at,
				listing.StatusNoticed, listing.StatusRemoved, listing.StatusStillUp); err != nil {
				return err
			}
		}
		n.State = state
		n.ClosedAt = at
		n.Events = append(n.Events, listing.NoticeEvent{At: at, State: state, By: by, Note: note})
		return nil
	})
}

// AddTestBuy attaches an analyst's test purchase to a stored listing,
// giving it an ID and a recording time when it has none. The audit entry
// that audit builds from the recorded test buy is appended in the same
// transaction.
func (s *Store) AddTestBuy(ctx context.Context, tb listing.TestBuy, audit AuditFunc[listing.TestBuy]) (listing.TestBuy, error) {
	if err := ctxErr(ctx); err != nil {
		return tb, err
	}
	if tb.OrderRef == "" {
		return tb, fmt.Errorf("add test buy to %s: empty order reference", tb.ListingID)
	}
	if tb.Outcome == "" {
		tb.Outcome = listing.TestBuyPending
	}
	if !tb.Outcome.Valid() {
		return tb, fmt.Errorf("add test buy to %s: unknown outcome %q", tb.ListingID, tb.Outcome)
	}
	tb.RecordedAt = stamp(tb.RecordedAt)
	if tb.ID == "" {
		tb.ID = fmt.Sprintf("TB%x", tb.RecordedAt.UnixNano())
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if _, ok, err := getListing(tx, tb.ListingID); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("add test buy to %s: %w", tb.ListingID, ErrNotFound)
		}
		b, err := tx.CreateBucketIfNotExists(bucketTestBuys)
		if err != nil {
			return fmt.Errorf("create bucket %s: %w", bucketTestBuys, err)
		}
		buf, err := json.Marshal(tb)
		if err != nil {
			return fmt.Errorf("encode test buy: %w", err)
		}
		key := join([]byte(tb.ListingID), be64(tb.RecordedAt.UnixNano()), []byte(tb.ID))
		if err := b.Put(key, buf); err != nil {
			return fmt.Errorf("put test buy of %s: %w", tb.ListingID, err)
		}
		return audit.appendIn(tx, tb)
	})
	return tb, err
}

// TestBuys returns the test purchases recorded for a listing, oldest first.
func (s *Store) TestBuys(ctx context.Context, id listing.ID) ([]listing.TestBuy, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out []listing.TestBuy
	prefix := join([]byte(id), nil)
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTestBuys)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var tb listing.TestBuy
			if err := json.Unmarshal(v, &tb); err != nil {
				return fmt.Errorf("decode test buy %q: %w", k, err)
			}
			out = append(out, tb)
		}
		return nil
	})
	return out, err
}
