// Package store keeps patrol's state in one bbolt file: listings, their
// evidence snapshots, image bytes, sweeps with their frontier, and analysts'
// verdicts. It is the only package that touches the file, and every write
// happens in one transaction so that a crash leaves either the old or the new
// state, never half of each.
package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
	bolt "go.etcd.io/bbolt"

	"github.com/patrol-dev/patrol/listing"
)

// ErrNotFound is returned when the asked-for record does not exist.
var ErrNotFound = errors.New("not found")

// Bucket names. Keys are chosen so that bbolt's byte order is the order the
// readers want (time-ordered where it matters). The listings and their
// evidence are in the buckets described in layout.go.
var (
	bucketImages    = []byte("images")     // sha256 → bytes
	bucketSweeps    = []byte("sweeps")     // sweep id → JSON listing.Sweep
	bucketFailures  = []byte("failures")   // sweep id \x00 seq(8) → JSON listing.Failure
	bucketVerdicts  = []byte("verdicts")   // id \x00 at(8) → JSON listing.Verdict
	bucketFrontier  = []byte("frontier")   // sweep id → nested: url → JSON frontierEntry
	bucketQueryDone = []byte("query_done") // sweep id \x00 marketplace \x00 query → nil
)

var coreBuckets = [][]byte{
	bucketImages, bucketSweeps, bucketFailures, bucketVerdicts, bucketFrontier, bucketQueryDone,
}

// maxSweepFailures bounds the failures kept inline in a sweep record; all of
// them stay in the failures bucket.
const maxSweepFailures = 200

// Store is patrol's database.
type Store struct {
	db   *bolt.DB
	path string
	// gz holds idle gzip writers for gzipAppend. A flate compressor
	// allocates and clears about half a megabyte; a sync.Pool loses its
	// writers at every garbage collection, which the page buffers of a
	// sweep (or of a benchmark) set off every few batches, so most
	// snapshots paid for a new one.
	gz chan *kgzip.Writer
}

// maxIdleGzip bounds the idle gzip writers a Store keeps (each holds
// about half a megabyte).
const maxIdleGzip = 8

// Options tunes how the file is opened.
type Options struct {
	// Timeout bounds the wait for another process's lock on the file.
	Timeout time.Duration
	// NoSync skips fsync per transaction; only for benchmarks and tests
	// that measure something else.
	NoSync bool
}

// Open opens (creating if needed) the database at path.
func Open(path string) (*Store, error) {
	return OpenWith(path, Options{})
}

// OpenWith opens the database at path with opts.
func OpenWith(path string, opts Options) (*Store, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create store directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, NoSync: opts.NoSync, FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open store %s: in use by another patrol process (is patrol serve running? use its \"sweep now\"): %w", path, err)
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range coreBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return createLayout(tx)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return &Store{db: db, path: path, gz: make(chan *kgzip.Writer, min(runtime.GOMAXPROCS(0), maxIdleGzip))}, nil
}

// Close merges the recently added IDs into by_id, so that a file at rest
// has the layout that an older patrol reads, and closes the file.
func (s *Store) Close() error {
	err := s.mergeRecentIDs()
	if cerr := s.db.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close store: %w", cerr))
	}
	return err
}

// mergeRecentIDs merges by_id_recent into by_id when it holds anything:
// an empty write transaction would still cost an fsync.
func (s *Store) mergeRecentIDs() error {
	empty := true
	s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketRecentIDs).Cursor().First()
		empty = k == nil
		return nil
	})
	if empty {
		return nil
	}
	if err := s.db.Update(mergeRecentIDs); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Path is the file the store lives in.
func (s *Store) Path() string { return s.path }

func be64(v int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	return b[:]
}

func join(parts ...[]byte) []byte {
	return bytes.Join(parts, []byte{0})
}

func ctxErr(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	return ctx.Err()
}

// ---- listings ----

func getListing(tx *bolt.Tx, id listing.ID) (listing.Listing, bool, error) {
	var l listing.Listing
	seq, err := listingSeq(tx, id)
	if err != nil || seq == 0 {
		return l, false, err
	}
	v := tx.Bucket(bucketListingRecs).Get(seqKey(seq))
	if v == nil {
		return l, false, nil
	}
	if err := json.Unmarshal(v, &l); err != nil {
		return l, false, fmt.Errorf("decode listing %s: %w", id, err)
	}
	return l, true, nil
}

func putListing(tx *bolt.Tx, l listing.Listing) error {
	if l.ID == "" {
		return errors.New("put listing: empty id")
	}
	buf, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("encode listing %s: %w", l.ID, err)
	}
	return putListingJSON(tx, l, buf)
}

// sellerFields is the part of a stored listing the seller index needs;
// decoding only it skips the signals, images and text of the old record.
type sellerFields struct {
	Marketplace string `json:"marketplace"`
	Seller      string `json:"seller"`
}

// putListingJSON writes l, already encoded as buf, and keeps by_id and the
// seller index in step with it.
func putListingJSON(tx *bolt.Tx, l listing.Listing, buf []byte) error {
	e, err := loadIDEntry(tx, l.ID)
	if err != nil {
		return err
	}
	isNew := e.listing == 0
	if err := putListingEntry(tx, l, buf, &e); err != nil {
		return err
	}
	if isNew {
		return storeIDEntry(tx, l.ID, e)
	}
	return nil
}

// putListingEntry is putListingJSON for a caller that holds the by_id
// entry e of l and stores it afterwards. A listing keeps the record number
// it was first given, so only a new listing changes e.
func putListingEntry(tx *bolt.Tx, l listing.Listing, buf []byte, e *idEntry) error {
	recs := listingRecs(tx)
	bs := tx.Bucket(bucketSellerSeqs)
	indexed := false
	if e.listing == 0 {
		var err error
		if e.listing, err = recs.NextSequence(); err != nil {
			return fmt.Errorf("number listing %s: %w", l.ID, err)
		}
	} else if v := recs.Get(seqKey(e.listing)); v != nil {
		var old sellerFields
		if err := json.Unmarshal(v, &old); err != nil {
			return fmt.Errorf("decode listing %s: %w", l.ID, err)
		}
		indexed = old.Seller == l.Seller && old.Marketplace == l.Marketplace
		if !indexed {
			if err := bs.Delete(sellerKey(old.Marketplace, old.Seller, e.listing)); err != nil {
				return fmt.Errorf("unindex seller of %s: %w", l.ID, err)
			}
		}
	}
	// A put of an unchanged key still rewrites its page: skip it when the
	// seller is the one already indexed (the common case in a re-sweep).
	if !indexed {
		if err := bs.Put(sellerKey(l.Marketplace, l.Seller, e.listing), nil); err != nil {
			return fmt.Errorf("index seller of %s: %w", l.ID, err)
		}
	}
	if err := recs.Put(seqKey(e.listing), buf); err != nil {
		return fmt.Errorf("put listing %s: %w", l.ID, err)
	}
	return nil
}

// PutListing writes l, replacing the stored listing with the same ID.
func (s *Store) PutListing(ctx context.Context, l listing.Listing) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error { return putListing(tx, l) })
}

// PutListings writes ls in one transaction (used by rescore).
func (s *Store) PutListings(ctx context.Context, ls []listing.Listing) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, l := range ls {
			if err := putListing(tx, l); err != nil {
				return err
			}
		}
		return nil
	})
}

// Listing returns the listing with id, or ErrNotFound.
func (s *Store) Listing(ctx context.Context, id listing.ID) (listing.Listing, error) {
	var l listing.Listing
	if err := ctxErr(ctx); err != nil {
		return l, err
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		var ok bool
		var err error
		l, ok, err = getListing(tx, id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("listing %s: %w", id, ErrNotFound)
		}
		return nil
	})
	return l, err
}

// EachListing calls fn for every stored listing in ID order; an error from
// fn stops the walk and is returned.
func (s *Store) EachListing(ctx context.Context, fn func(listing.Listing) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		recs := tx.Bucket(bucketListingRecs)
		n := 0
		return eachIDEntry(tx, func(k, e []byte) error {
			if n++; n%1024 == 0 {
				if err := ctxErr(ctx); err != nil {
					return err
				}
			}
			seq, w := binary.Uvarint(e)
			if w <= 0 {
				return fmt.Errorf("read index of %s: %w", k, errBadIDEntry)
			}
			if seq == 0 {
				return nil // evidence without a listing
			}
			v := recs.Get(seqKey(seq))
			if v == nil {
				return nil
			}
			var l listing.Listing
			if err := json.Unmarshal(v, &l); err != nil {
				return fmt.Errorf("decode listing %s: %w", k, err)
			}
			return fn(l)
		})
	})
}

// CountListings returns how many listings are stored.
func (s *Store) CountListings(ctx context.Context) (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketListingRecs).Stats().KeyN
		return nil
	})
	return n, err
}

// ListingsBySeller returns every listing of seller on marketplace, in ID
// order.
func (s *Store) ListingsBySeller(ctx context.Context, marketplace, seller string) ([]listing.Listing, error) {
	var out []listing.Listing
	prefix := join([]byte(marketplace), []byte(seller), nil)
	err := s.db.View(func(tx *bolt.Tx) error {
		recs := tx.Bucket(bucketListingRecs)
		c := tx.Bucket(bucketSellerSeqs).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			// A longer key belongs to a seller whose name starts with
			// this one's and a NUL.
			if len(k) != len(prefix)+8 {
				continue
			}
			v := recs.Get(k[len(prefix):])
			if v == nil {
				continue
			}
			var l listing.Listing
			if err := json.Unmarshal(v, &l); err != nil {
				return fmt.Errorf("decode listing of seller %s: %w", seller, err)
			}
			out = append(out, l)
		}
		return nil
	})
	// The index is in the order the listings were first stored; callers
	// had them in ID order before it was.
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// SellerConfirmed counts the listings of seller on marketplace that an
// analyst confirmed as infringing (confirmed, noticed, removed or still up):
// the repeat-infringer figure.
func (s *Store) SellerConfirmed(ctx context.Context, marketplace, seller string) (int, error) {
	ls, err := s.ListingsBySeller(ctx, marketplace, seller)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range ls {
		if IsConfirmed(l.Status) {
			n++
		}
	}
	return n, nil
}

// IsConfirmed reports whether st means an analyst judged the listing
// infringing.
func IsConfirmed(st listing.Status) bool {
	switch st {
	case listing.StatusConfirmed, listing.StatusNoticed, listing.StatusRemoved, listing.StatusStillUp:
		return true
	}
	return false
}

// DeleteListing removes a listing and its seller entry; its snapshots and
// verdicts stay (evidence is never dropped silently; retention purges them
// explicitly).
func (s *Store) DeleteListing(ctx context.Context, id listing.ID) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		e, err := loadIDEntry(tx, id)
		if err != nil || e.listing == 0 {
			return err
		}
		if err := deleteListingRecord(tx, id, e.listing); err != nil {
			return err
		}
		e.listing = 0
		return storeIDEntry(tx, id, e)
	})
}

// deleteListingRecord removes the record stored under seq for id and its
// seller entry; the caller updates by_id.
func deleteListingRecord(tx *bolt.Tx, id listing.ID, seq uint64) error {
	recs := listingRecs(tx)
	if v := recs.Get(seqKey(seq)); v != nil {
		var l sellerFields
		if err := json.Unmarshal(v, &l); err != nil {
			return fmt.Errorf("decode listing %s: %w", id, err)
		}
		if err := tx.Bucket(bucketSellerSeqs).Delete(sellerKey(l.Marketplace, l.Seller, seq)); err != nil {
			return fmt.Errorf("unindex seller of %s: %w", id, err)
		}
	}
	if err := recs.Delete(seqKey(seq)); err != nil {
		return fmt.Errorf("delete listing %s: %w", id, err)
	}
	return nil
}

// ---- verdicts ----

// SetStatus records an analyst's verdict and moves the listing to its
// status in one transaction. Previous is filled from the stored listing.
func (s *Store) SetStatus(ctx context.Context, v listing.Verdict) (listing.Verdict, error) {
	if !v.Status.Valid() {
		return v, fmt.Errorf("set status of %s: unknown status %q", v.ListingID, v.Status)
	}
	if v.At.IsZero() {
		v.At = time.Now().UTC()
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		l, ok, err := getListing(tx, v.ListingID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("set status of %s: %w", v.ListingID, ErrNotFound)
		}
		v.Previous = l.Status
		l.Status = v.Status
		if err := putListing(tx, l); err != nil {
			return err
		}
		buf, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode verdict: %w", err)
		}
		key := join([]byte(v.ListingID), be64(v.At.UnixNano()))
		if err := tx.Bucket(bucketVerdicts).Put(key, buf); err != nil {
			return fmt.Errorf("put verdict of %s: %w", v.ListingID, err)
		}
		return nil
	})
	return v, err
}

// Verdicts returns the verdict history of a listing, oldest first.
func (s *Store) Verdicts(ctx context.Context, id listing.ID) ([]listing.Verdict, error) {
	var out []listing.Verdict
	prefix := join([]byte(id), nil)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketVerdicts).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var vd listing.Verdict
			if err := json.Unmarshal(v, &vd); err != nil {
				return fmt.Errorf("decode verdict %q: %w", k, err)
			}
			out = append(out, vd)
		}
		return nil
	})
	return out, err
}

// ---- snapshots and images ----

// Fetched is one processed listing page with everything that must land
// together: the listing, its evidence and its image bytes.
type Fetched struct {
	Listing  listing.Listing
	Snapshot *listing.Snapshot
	// Images maps sha256 (hex) to bytes; each is stored once.
	Images map[string][]byte
	// SweepID and FrontierURL, when set, mark that frontier entry done in
	// the same transaction, so a crash can neither lose nor repeat it.
	SweepID     string
	FrontierURL string
}

// SaveFetched stores f atomically. Concurrent callers are coalesced into
// shared transactions (bbolt's Batch), which is what makes the sweep's
// write rate independent of fsync latency. Hashing, compression and
// encoding happen in the caller's goroutine before the transaction, so
// that the one writer only puts bytes.
func (s *Store) SaveFetched(ctx context.Context, f Fetched) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	p, err := s.prepare(f)
	if err != nil {
		return err
	}
	return s.db.Batch(func(tx *bolt.Tx) error { return p.write(tx) })
}

// SaveFetchedBatch stores many pages in one transaction. The pages are
// prepared (hashed, compressed, encoded) in parallel before it begins, so
// that the writer lock is held only to put bytes.
func (s *Store) SaveFetchedBatch(ctx context.Context, fs []Fetched) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	ps, err := s.prepareAll(ctx, fs)
	if err != nil {
		return err
	}
	// In ID order the puts walk by_id once, left to right, instead of
	// jumping about it. The sort is stable, so a listing given twice
	// keeps its order.
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].f.Listing.ID < ps[j].f.Listing.ID })
	return s.db.Update(func(tx *bolt.Tx) error {
		for i := range ps {
			if err := ps[i].write(tx); err != nil {
				return err
			}
		}
		return nil
	})
}

// preparedFetched is a Fetched with all the work that needs no
// transaction done: the listing encoded and its snapshot hashed,
// compressed and encoded.
type preparedFetched struct {
	f       *Fetched
	listing []byte
	snap    *preparedSnapshot
}

// preparedSnapshot is a snapshot ready to put: its record, the encoded
// listing.Snapshot and the compressed HTML in one value, so that a new
// snapshot is one appended record.
type preparedSnapshot struct {
	id     listing.ID
	sha    string
	record []byte
}

// prepare does the transaction-free part of saving f.
func (s *Store) prepare(f Fetched) (preparedFetched, error) {
	p := preparedFetched{f: &f}
	if f.Listing.ID == "" {
		return p, errors.New("put listing: empty id")
	}
	buf, err := json.Marshal(f.Listing)
	if err != nil {
		return p, fmt.Errorf("encode listing %s: %w", f.Listing.ID, err)
	}
	p.listing = buf
	if f.Snapshot != nil {
		ps, err := s.prepareSnapshot(*f.Snapshot)
		if err != nil {
			return p, err
		}
		p.snap = &ps
	}
	return p, nil
}

// prepareAll prepares fs on up to GOMAXPROCS goroutines. Once ctx is
// done they stop between pages and prepareAll returns its error: a large
// batch of large pages takes long enough to be worth stopping.
func (s *Store) prepareAll(ctx context.Context, fs []Fetched) ([]preparedFetched, error) {
	ps := make([]preparedFetched, len(fs))
	workers := min(runtime.GOMAXPROCS(0), (len(fs)+15)/16)
	if workers <= 1 {
		for i := range fs {
			if err := ctxErr(ctx); err != nil {
				return nil, err
			}
			var err error
			if ps[i], err = s.prepare(fs[i]); err != nil {
				return nil, err
			}
		}
		return ps, nil
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	chunk := (len(fs) + workers - 1) / workers
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, len(fs))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				if ctxErr(ctx) != nil {
					return
				}
				var err error
				if ps[i], err = s.prepare(fs[i]); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return ps, nil
}

// write puts a prepared page in tx: images, snapshot, listing and frontier
// mark.
func (p *preparedFetched) write(tx *bolt.Tx) error {
	f := p.f
	bi := tx.Bucket(bucketImages)
	for sha, data := range f.Images {
		if bi.Get([]byte(sha)) != nil {
			continue
		}
		if err := bi.Put([]byte(sha), data); err != nil {
			return fmt.Errorf("put image %s: %w", sha, err)
		}
	}
	// The listing and its snapshot share one by_id entry: read and
	// write it once.
	e, err := loadIDEntry(tx, f.Listing.ID)
	if err != nil {
		return err
	}
	changed := e.listing == 0
	switch {
	case p.snap == nil:
	case p.snap.id == f.Listing.ID:
		added, err := p.snap.add(tx, &e)
		if err != nil {
			return err
		}
		changed = changed || added
	default: // evidence filed under another listing
		if err := p.snap.write(tx); err != nil {
			return err
		}
	}
	if err := putListingEntry(tx, f.Listing, p.listing, &e); err != nil {
		return err
	}
	if changed {
		if err := storeIDEntry(tx, f.Listing.ID, e); err != nil {
			return err
		}
	}
	if f.SweepID != "" && f.FrontierURL != "" {
		if err := frontierMark(tx, f.SweepID, f.Listing.Marketplace, f.FrontierURL, frontierDone, ""); err != nil {
			return err
		}
	}
	return nil
}

// prepareSnapshot hashes (when the caller did not), compresses and
// encodes snap.
func (s *Store) prepareSnapshot(snap listing.Snapshot) (preparedSnapshot, error) {
	if snap.ListingID == "" {
		return preparedSnapshot{}, errors.New("put snapshot: empty listing id")
	}
	if snap.SHA256 == "" {
		sum := sha256.Sum256(snap.HTML)
		snap.SHA256 = hex.EncodeToString(sum[:])
	}
	p := preparedSnapshot{id: snap.ListingID, sha: snap.SHA256}
	meta := snap
	meta.HTML = nil
	buf, err := json.Marshal(meta)
	if err != nil {
		return p, fmt.Errorf("encode snapshot of %s: %w", snap.ListingID, err)
	}
	// JSON never holds a raw NUL byte, so the first one ends the metadata.
	buf = append(buf, 0)
	if p.record, err = s.gzipAppend(buf, snap.HTML); err != nil {
		return p, fmt.Errorf("compress snapshot of %s: %w", snap.ListingID, err)
	}
	return p, nil
}

// write appends the snapshot unless the same bytes are already kept for
// the listing: evidence is never overwritten.
func (p *preparedSnapshot) write(tx *bolt.Tx) error {
	e, err := loadIDEntry(tx, p.id)
	if err != nil {
		return err
	}
	added, err := p.add(tx, &e)
	if err != nil || !added {
		return err
	}
	return storeIDEntry(tx, p.id, e)
}

// add is write for a caller that holds the by_id entry e of the listing
// and stores it afterwards; added says whether e changed.
func (p *preparedSnapshot) add(tx *bolt.Tx, e *idEntry) (added bool, err error) {
	if findSnapshot(tx, p.id, *e, p.sha) != nil {
		return false, nil
	}
	b := snapshotRecs(tx)
	seq, err := b.NextSequence()
	if err != nil {
		return false, fmt.Errorf("number snapshot of %s: %w", p.id, err)
	}
	if err := b.Put(seqKey(seq), p.record); err != nil {
		return false, fmt.Errorf("put snapshot of %s: %w", p.id, err)
	}
	e.snaps = append(e.snaps, seq)
	return true, nil
}

// findSnapshot returns the stored record of the snapshot of id (whose
// by_id entry is e) with sha, or nil. A listing has few snapshots, so
// reading them is cheap.
func findSnapshot(tx *bolt.Tx, id listing.ID, e idEntry, sha string) []byte {
	b := tx.Bucket(bucketSnapshots)
	for _, seq := range e.snaps {
		if v := b.Get(seqKey(seq)); v != nil && snapshotSHA(v) == sha {
			return v
		}
	}
	var found []byte
	want := len(id) + 1 + 8 + 1 + len(sha)
	oldSnapshots(tx, id, func(k, v []byte) bool {
		if len(k) == want && string(k[want-len(sha):]) == sha {
			found = v
		}
		return found == nil
	})
	return found
}

// snapshotSHA returns the sha256 a snapshot record was stored with,
// decoding only that field.
func snapshotSHA(rec []byte) string {
	meta, _ := splitSnapshot(rec)
	var m struct {
		SHA256 string `json:"sha256"`
	}
	if json.Unmarshal(meta, &m) != nil {
		return ""
	}
	return m.SHA256
}

// splitSnapshot splits a snapshot record into the encoded metadata and
// the compressed HTML (nil in records written without it).
func splitSnapshot(v []byte) (meta, gz []byte) {
	if i := bytes.IndexByte(v, 0); i >= 0 {
		return v[:i], v[i+1:]
	}
	return v, nil
}

// PutSnapshot stores a snapshot unless the same bytes are already kept for
// that listing.
func (s *Store) PutSnapshot(ctx context.Context, snap listing.Snapshot) error {
	p, err := s.prepareSnapshot(snap)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error { return p.write(tx) })
}

// Snapshots returns the snapshot records of a listing (without HTML),
// newest first.
func (s *Store) Snapshots(ctx context.Context, id listing.ID) ([]listing.Snapshot, error) {
	var out []listing.Snapshot
	add := func(v []byte) error {
		var sn listing.Snapshot
		meta, _ := splitSnapshot(v)
		if err := json.Unmarshal(meta, &sn); err != nil {
			return fmt.Errorf("decode snapshot of %s: %w", id, err)
		}
		out = append(out, sn)
		return nil
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		oldSnapshots(tx, id, func(_, v []byte) bool {
			err = add(v)
			return err == nil
		})
		if err != nil {
			return err
		}
		e, err := loadIDEntry(tx, id)
		if err != nil {
			return err
		}
		b := tx.Bucket(bucketSnapshots)
		for _, seq := range e.snaps {
			if v := b.Get(seqKey(seq)); v != nil {
				if err := add(v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	// Ties in time go by hash, the order snapshots were listed in when
	// their keys held the time and the hash.
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].FetchedAt.Equal(out[j].FetchedAt) {
			return out[i].FetchedAt.After(out[j].FetchedAt)
		}
		return out[i].SHA256 < out[j].SHA256
	})
	return out, err
}

// SnapshotHTML returns the uncompressed HTML of one snapshot.
func (s *Store) SnapshotHTML(ctx context.Context, id listing.ID, sha string) ([]byte, error) {
	var gz []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		e, err := loadIDEntry(tx, id)
		if err != nil {
			return err
		}
		var v []byte
		if rec := findSnapshot(tx, id, e, sha); rec != nil {
			_, v = splitSnapshot(rec)
		}
		if b := tx.Bucket(bucketOldSnapHTML); v == nil && b != nil {
			v = b.Get(join([]byte(id), []byte(sha)))
		}
		if v == nil {
			return fmt.Errorf("snapshot %s of %s: %w", sha, id, ErrNotFound)
		}
		gz = append([]byte(nil), v...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	html, err := gunzipBytes(gz)
	if err != nil {
		return nil, fmt.Errorf("decompress snapshot %s of %s: %w", sha, id, err)
	}
	return html, nil
}

// Image returns stored image bytes by sha256.
func (s *Store) Image(ctx context.Context, sha string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketImages).Get([]byte(sha))
		if v == nil {
			return fmt.Errorf("image %s: %w", sha, ErrNotFound)
		}
		out = append([]byte(nil), v...)
		return nil
	})
	return out, err
}

// HasImage reports whether image bytes with sha are stored.
func (s *Store) HasImage(ctx context.Context, sha string) bool {
	found := false
	s.db.View(func(tx *bolt.Tx) error {
		found = tx.Bucket(bucketImages).Get([]byte(sha)) != nil
		return nil
	})
	return found
}
