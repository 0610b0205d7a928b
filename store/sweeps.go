package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
	bolt "go.etcd.io/bbolt"

	"github.com/patrol-dev/patrol/listing"
)

// NewSweepID returns a sweep ID that sorts by start time.
func NewSweepID(t time.Time) string {
	var b [3]byte
	rand.Read(b[:])
	return t.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b[:])
}

func putSweep(tx *bolt.Tx, sw listing.Sweep) error {
	buf, err := json.Marshal(sw)
	if err != nil {
		return fmt.Errorf("encode sweep %s: %w", sw.ID, err)
	}
	if err := tx.Bucket(bucketSweeps).Put([]byte(sw.ID), buf); err != nil {
		return fmt.Errorf("put sweep %s: %w", sw.ID, err)
	}
	return nil
}

func getSweep(tx *bolt.Tx, id string) (listing.Sweep, error) {
	var sw listing.Sweep
	v := tx.Bucket(bucketSweeps).Get([]byte(id))
	if v == nil {
		return sw, fmt.Errorf("sweep %s: %w", id, ErrNotFound)
	}
	if err := json.Unmarshal(v, &sw); err != nil {
		return sw, fmt.Errorf("decode sweep %s: %w", id, err)
	}
	return sw, nil
}

// PutSweep writes a sweep record.
func (s *Store) PutSweep(ctx context.Context, sw listing.Sweep) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putSweep(tx, sw) })
}

// UpdateSweep applies fn to the stored sweep in one transaction.
func (s *Store) UpdateSweep(ctx context.Context, id string, fn func(*listing.Sweep)) (listing.Sweep, error) {
	var out listing.Sweep
	err := s.db.Update(func(tx *bolt.Tx) error {
		sw, err := getSweep(tx, id)
		if err != nil {
			return err
		}
		fn(&sw)
		out = sw
		return putSweep(tx, sw)
	})
	return out, err
}

// Sweep returns one sweep record.
func (s *Store) Sweep(ctx context.Context, id string) (listing.Sweep, error) {
	var sw listing.Sweep
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		sw, err = getSweep(tx, id)
		return err
	})
	return sw, err
}

// Sweeps returns up to limit sweeps, newest first (limit <= 0: all).
func (s *Store) Sweeps(ctx context.Context, limit int) ([]listing.Sweep, error) {
	var out []listing.Sweep
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSweeps).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var sw listing.Sweep
			if err := json.Unmarshal(v, &sw); err != nil {
				return fmt.Errorf("decode sweep %s: %w", k, err)
			}
			out = append(out, sw)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// Unfinished returns the newest sweep that is still marked running or was
// interrupted: a process that died mid-sweep leaves it running, one that
// was stopped by a signal marks it interrupted. ok is false when there is
// none.
func (s *Store) Unfinished(ctx context.Context) (sw listing.Sweep, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSweeps).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var cand listing.Sweep
			if err := json.Unmarshal(v, &cand); err != nil {
				return fmt.Errorf("decode sweep %s: %w", k, err)
			}
			if cand.State == listing.SweepRunning || cand.State == listing.SweepInterrupted {
				sw, ok = cand, true
			}
			// Only the newest sweep can be resumed: an older unfinished one
			// was superseded by a later sweep.
			return nil
		}
		return nil
	})
	return sw, ok, err
}

// AddFailure records a per-page failure against a sweep: all failures go
// to the failures bucket, the first ones also inline in the sweep record.
func (s *Store) AddFailure(ctx context.Context, sweepID string, f listing.Failure) error {
	if f.At.IsZero() {
		f.At = time.Now().UTC()
	}
	return s.db.Batch(func(tx *bolt.Tx) error {
		sw, err := getSweep(tx, sweepID)
		if err != nil {
			return err
		}
		b := tx.Bucket(bucketFailures)
		seq, err := b.NextSequence()
		if err != nil {
			return fmt.Errorf("sequence failure: %w", err)
		}
		buf, err := json.Marshal(f)
		if err != nil {
			return fmt.Errorf("encode failure: %w", err)
		}
		if err := b.Put(join([]byte(sweepID), be64(int64(seq))), buf); err != nil {
			return fmt.Errorf("put failure: %w", err)
		}
		if len(sw.Failures) < maxSweepFailures {
			sw.Failures = append(sw.Failures, f)
		}
		return putSweep(tx, sw)
	})
}

// Failures returns every failure recorded for a sweep.
func (s *Store) Failures(ctx context.Context, sweepID string) ([]listing.Failure, error) {
	var out []listing.Failure
	prefix := join([]byte(sweepID), nil)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketFailures).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var f listing.Failure
			if err := json.Unmarshal(v, &f); err != nil {
				return fmt.Errorf("decode failure: %w", err)
			}
			out = append(out, f)
		}
		return nil
	})
	return out, err
}

// ---- frontier ----

// Frontier states.
const (
	frontierPending = "pending"
	frontierLeased  = "leased"
	frontierDone    = "done"
	frontierFailed  = "failed"
)

// FrontierEntry is one listing URL a sweep has found and must process.
type FrontierEntry struct {
	URL         string    `json:"url"`
	Marketplace string    `json:"marketplace"`
	Queries     []string  `json:"queries,omitempty"`
	State       string    `json:"state"`
	Attempts    int       `json:"attempts,omitempty"`
	LeaseUntil  time.Time `json:"lease_until,omitempty"`
	Error       string    `json:"error,omitempty"`
}

func frontierBucket(tx *bolt.Tx, sweepID string, create bool) (*bolt.Bucket, error) {
	root := tx.Bucket(bucketFrontier)
	if !create {
		return root.Bucket([]byte(sweepID)), nil
	}
	b, err := root.CreateBucketIfNotExists([]byte(sweepID))
	if err != nil {
		return nil, fmt.Errorf("frontier of %s: %w", sweepID, err)
	}
	return b, nil
}

func frontierKey(marketplace, url string) []byte {
	return join([]byte(marketplace), []byte(url))
}

func frontierMark(tx *bolt.Tx, sweepID, marketplace, url, state, errText string) error {
	b, err := frontierBucket(tx, sweepID, true)
	if err != nil {
		return err
	}
	k := frontierKey(marketplace, url)
	v := b.Get(k)
	if v == nil {
		return nil
	}
	var e FrontierEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return fmt.Errorf("decode frontier entry: %w", err)
	}
	e.State, e.Error, e.LeaseUntil = state, errText, time.Time{}
	buf, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode frontier entry: %w", err)
	}
	if err := b.Put(k, buf); err != nil {
		return fmt.Errorf("mark frontier entry: %w", err)
	}
	return nil
}

// FrontierAdd adds the listing URLs a search found, found by query, to the
// sweep's frontier. URLs already there keep their state (a listing found by
// two queries is processed once); it returns how many were new.
func (s *Store) FrontierAdd(ctx context.Context, sweepID, marketplace, query string, urls []string) (int, error) {
	added := 0
	err := s.db.Batch(func(tx *bolt.Tx) error {
		added = 0
		b, err := frontierBucket(tx, sweepID, true)
		if err != nil {
			return err
		}
		for _, u := range urls {
			k := frontierKey(marketplace, u)
			var e FrontierEntry
			if v := b.Get(k); v != nil {
				if err := json.Unmarshal(v, &e); err != nil {
					return fmt.Errorf("decode frontier entry: %w", err)
				}
				if contains(e.Queries, query) {
					continue
				}
				e.Queries = append(e.Queries, query)
			} else {
				e = FrontierEntry{URL: u, Marketplace: marketplace, Queries: []string{query}, State: frontierPending}
				added++
			}
			buf, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("encode frontier entry: %w", err)
			}
			if err := b.Put(k, buf); err != nil {
				return fmt.Errorf("put frontier entry: %w", err)
			}
		}
		return nil
	})
	return added, err
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// FrontierLease hands out up to n entries of marketplace that are pending
// or whose lease ran out, leasing them until now+lease. A worker that dies
// holding a lease gives its entries back when the lease expires.
func (s *Store) FrontierLease(ctx context.Context, sweepID, marketplace string, n int, now time.Time, lease time.Duration) ([]FrontierEntry, error) {
	var out []FrontierEntry
	err := s.db.Update(func(tx *bolt.Tx) error {
		out = out[:0]
		b, err := frontierBucket(tx, sweepID, true)
		if err != nil {
			return err
		}
		prefix := join([]byte(marketplace), nil)
		c := b.Cursor()
		var keys [][]byte
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < n; k, v = c.Next() {
			var e FrontierEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode frontier entry: %w", err)
			}
			if e.State == frontierPending || (e.State == frontierLeased && now.After(e.LeaseUntil)) {
				e.State = frontierLeased
				e.LeaseUntil = now.Add(lease)
				e.Attempts++
				out = append(out, e)
				keys = append(keys, append([]byte(nil), k...))
			}
		}
		for i, e := range out {
			buf, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("encode frontier entry: %w", err)
			}
			if err := b.Put(keys[i], buf); err != nil {
				return fmt.Errorf("lease frontier entry: %w", err)
			}
		}
		return nil
	})
	return out, err
}

// FrontierRelease returns every leased entry of the sweep to pending: the
// process that resumes a sweep is the only one holding the file, so leases
// left by a dead process are void.
func (s *Store) FrontierRelease(ctx context.Context, sweepID string) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := frontierBucket(tx, sweepID, false)
		if err != nil || b == nil {
			return err
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var e FrontierEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode frontier entry: %w", err)
			}
			if e.State != frontierLeased {
				continue
			}
			e.State, e.LeaseUntil = frontierPending, time.Time{}
			buf, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("encode frontier entry: %w", err)
			}
			if err := b.Put(k, buf); err != nil {
				return fmt.Errorf("release frontier entry: %w", err)
			}
			n++
		}
		return nil
	})
	return n, err
}

// FrontierFinish marks an entry done (ok) or failed with errText, for pages
// that did not end in SaveFetched (unchanged, blocked, broken).
func (s *Store) FrontierFinish(ctx context.Context, sweepID, marketplace, url string, ok bool, errText string) error {
	state := frontierDone
	if !ok {
		state = frontierFailed
	}
	return s.db.Batch(func(tx *bolt.Tx) error {
		return frontierMark(tx, sweepID, marketplace, url, state, errText)
	})
}

// FrontierCounts returns how many entries of a sweep are in each state.
func (s *Store) FrontierCounts(ctx context.Context, sweepID string) (map[string]int, error) {
	out := map[string]int{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b, err := frontierBucket(tx, sweepID, false)
		if err != nil || b == nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			var e FrontierEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode frontier entry: %w", err)
			}
			out[e.State]++
			return nil
		})
	})
	return out, err
}

// DropFrontier deletes a finished sweep's frontier; it is only needed to
// resume.
func (s *Store) DropFrontier(ctx context.Context, sweepID string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketFrontier)
		if root.Bucket([]byte(sweepID)) == nil {
			return nil
		}
		if err := root.DeleteBucket([]byte(sweepID)); err != nil {
			return fmt.Errorf("drop frontier of %s: %w", sweepID, err)
		}
		return nil
	})
}

// MarkQueryDone records that a sweep has walked every search page of query
// on marketplace, so a resumed sweep does not search it again.
func (s *Store) MarkQueryDone(ctx context.Context, sweepID, marketplace, query string) error {
	return s.db.Batch(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketQueryDone).Put(join([]byte(sweepID), []byte(marketplace), []byte(query)), nil)
	})
}

// QueryDone reports whether MarkQueryDone was called for these.
func (s *Store) QueryDone(ctx context.Context, sweepID, marketplace, query string) (bool, error) {
	done := false
	err := s.db.View(func(tx *bolt.Tx) error {
		done = tx.Bucket(bucketQueryDone).Get(join([]byte(sweepID), []byte(marketplace), []byte(query))) != nil
		return nil
	})
	return done, err
}

// ---- compression ----

// gzipAppend appends p, compressed, to dst with a reused writer: a new
// flate compressor allocates about half a megabyte, which dominated the
// write rate before writers were reused. The writer is klauspost's: at
// its fastest level it compresses a page about twice as fast as
// compress/gzip at BestSpeed, to about the same size, and writes
// standard gzip, which gunzipBytes reads with compress/gzip.
func (s *Store) gzipAppend(dst, p []byte) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	buf.Grow(len(p)/4 + 64)
	var zw *kgzip.Writer
	select {
	case zw = <-s.gz:
		zw.Reset(buf)
	default:
		var err error
		if zw, err = kgzip.NewWriterLevel(buf, kgzip.BestSpeed); err != nil {
			return nil, err
		}
	}
	defer func() {
		select {
		case s.gz <- zw:
		default: // enough idle writers already
		}
	}()
	if _, err := zw.Write(p); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func gunzipBytes(p []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(p))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(zr)
}
