// Package index keeps every listing searchable for analysts and the web UI.
//
// It wraps a Bleve index with an explicit, lean mapping: title and
// description analysed for English, a "folded" field that makes disguised
// spellings of a brand (homoglyphs, leetspeak) findable, keyword fields for
// the filters and facets, and nothing stored beyond what sorting and faceting
// need. The store stays the source of truth: Reconcile repairs the index from
// it after a crash between the two writes, and a rebuild is a Reconcile into
// an empty directory. Bleve types never leave this package.
package index

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"

	"github.com/patrol-dev/patrol/listing"
)

// ErrNoLookup is returned by Search when highlights are asked for but the
// index was opened without Options.Lookup: the index keeps no text of its
// own, so it cannot build fragments without the store.
var ErrNoLookup = errors.New("highlight needs Options.Lookup")

// Options configures an Index. The zero value is usable.
type Options struct {
	// Fold normalises text so that disguised spellings of a brand meet the
	// plain one (package fold provides it; the index must not import it).
	// Nil means strings.ToLower.
	Fold func(string) string
	// Lookup returns a listing from the store. Search calls it only to
	// build highlighted fragments, because the index does not store text:
	// keeping a second copy of every description would double the index.
	Lookup func(ctx context.Context, id listing.ID) (listing.Listing, error)
}

// Index is an open search index. It is safe for concurrent use.
type Index struct {
	bi     bleve.Index
	an     analyzers
	fold   func(string) string
	lookup func(ctx context.Context, id listing.ID) (listing.Listing, error)
	// exactTotalUpTo is ExactTotalUpTo; tests lower it.
	exactTotalUpTo uint64
}

// Open opens the index at path, creating it with the explicit mapping when
// the directory does not exist yet.
func Open(path string, opts Options) (*Index, error) {
	fold := opts.Fold
	if fold == nil {
		fold = strings.ToLower
	}
	var bi bleve.Index
	_, err := os.Stat(path)
	switch {
	case err == nil:
		bi, err = bleve.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open index %s: %w", path, err)
		}
	case errors.Is(err, os.ErrNotExist):
		m, merr := newMapping()
		if merr != nil {
			return nil, fmt.Errorf("create index %s: %w", path, merr)
		}
		bi, err = bleve.New(path, m)
		if err != nil {
			return nil, fmt.Errorf("create index %s: %w", path, err)
		}
	default:
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	an, err := newAnalyzers(bi.Mapping())
	if err != nil {
		bi.Close()
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	return &Index{bi: bi, an: an, fold: fold, lookup: opts.Lookup, exactTotalUpTo: ExactTotalUpTo}, nil
}

// Close releases the index; every Put and Delete that returned is on disk.
func (ix *Index) Close() error {
	if err := ix.bi.Close(); err != nil {
		return fmt.Errorf("close index: %w", err)
	}
	return nil
}

// Put indexes ls in one batch. A listing whose ID is already indexed is
// replaced. Put returns once the batch is persisted.
func (ix *Index) Put(ctx context.Context, ls []listing.Listing) error {
	if len(ls) == 0 {
		return nil
	}
	b := ix.bi.NewBatch()
	for i := range ls {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("index listings: %w", err)
			}
		}
		if ls[i].ID == "" {
			return fmt.Errorf("index listing %q: empty id", ls[i].URL)
		}
		if err := b.IndexAdvanced(ix.newDoc(&ls[i])); err != nil {
			return fmt.Errorf("index listing %s: %w", ls[i].ID, err)
		}
	}
	if err := ix.bi.Batch(b); err != nil {
		return fmt.Errorf("index %d listings: %w", len(ls), err)
	}
	return nil
}

// Delete removes the listings with the given IDs in one batch; IDs that
// are not indexed are ignored.
func (ix *Index) Delete(ctx context.Context, ids []listing.ID) error {
	if len(ids) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete listings: %w", err)
	}
	b := ix.bi.NewBatch()
	for _, id := range ids {
		b.Delete(string(id))
	}
	if err := ix.bi.Batch(b); err != nil {
		return fmt.Errorf("delete %d listings: %w", len(ids), err)
	}
	return nil
}

// Count returns how many listings are indexed.
func (ix *Index) Count() (uint64, error) {
	n, err := ix.bi.DocCount()
	if err != nil {
		return 0, fmt.Errorf("count listings: %w", err)
	}
	return n, nil
}

// Stamp is what a listing's indexed version must follow: it changes when
// the content, the status or the score changes, so that any of those left
// unindexed by a crash shows up as a mismatch in Versions.
func Stamp(l listing.Listing) string {
	return l.ContentHash + "|" + string(l.Status) + "|" + strconv.FormatFloat(l.Score, 'f', 4, 64)
}

// Version is the version of l that Versions reports once l is indexed:
// its fetch time to the second, its score and its status as the index
// already keeps them for sorting and filtering, plus contentCheck for the
// rest of the content. Content only changes with a fetch, which moves the
// fetch time too, so a short check is enough.
//
// It used to be a 64-bit hash of Stamp in a keyword of its own. Unique to
// every listing, that keyword cost some 55 bytes a listing (the term
// dictionary and its doc value), about a tenth of the whole index.
func Version(l listing.Listing) string {
	return version(l.FetchedAt.UTC().Format(sortTimeLayout), scoreKey(l.Score), string(l.Status), contentCheck(l))
}

// version joins the parts of a Version.
func version(fetched, score, status, check string) string {
	return fetched + "|" + score + "|" + status + "|" + check
}

// contentCheck is 12 bits of the SHA-256 of Stamp(l), as two characters
// of URL-safe base64: Bleve separates the terms of a doc value with 0xff,
// so raw bytes cannot be used. A few thousand distinct values keep the
// term dictionary small.
func contentCheck(l listing.Listing) string {
	sum := sha256.Sum256([]byte(Stamp(l)))
	return base64.RawURLEncoding.EncodeToString(sum[:2])[:2]
}

// Versions returns every indexed ID with the version (see Version) it was
// indexed at, so the caller can detect and repair a mismatch with the store
// after a crash between the two writes. An index written before versions
// took this form reports versions that match nothing, so the next
// Reconcile re-indexes every listing once.
func (ix *Index) Versions(ctx context.Context) (map[listing.ID]string, error) {
	out := map[listing.ID]string{}
	err := ix.scan(ctx, true, func(id listing.ID, ver string) { out[id] = ver })
	if err != nil {
		return nil, fmt.Errorf("read versions: %w", err)
	}
	return out, nil
}

// IDs returns every indexed ID, in no particular order.
func (ix *Index) IDs(ctx context.Context) ([]listing.ID, error) {
	var out []listing.ID
	err := ix.scan(ctx, false, func(id listing.ID, _ string) { out = append(out, id) })
	if err != nil {
		return nil, fmt.Errorf("read ids: %w", err)
	}
	return out, nil
}

// scan calls fn for every indexed document, with its stamp when withVer.
func (ix *Index) scan(ctx context.Context, withVer bool, fn func(id listing.ID, ver string)) error {
	adv, err := ix.bi.Advanced()
	if err != nil {
		return err
	}
	r, err := adv.Reader()
	if err != nil {
		return err
	}
	defer r.Close()
	all, err := r.DocIDReaderAll()
	if err != nil {
		return err
	}
	defer all.Close()
	fields := []string{sortFetched, sortScore, fieldStatus, fieldVer}
	dvr, err := r.DocValueReader(fields)
	if err != nil {
		return err
	}
	// The doc values of a listing, in the order of fields; reused, since
	// Versions runs at every start over every listing.
	parts := make([][]byte, len(fields))
	visit := func(field string, term []byte) {
		if i := slices.Index(fields, field); i >= 0 {
			parts[i] = append(parts[i], term...)
		}
	}
	for i := 0; ; i++ {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		iid, err := all.Next()
		if err != nil {
			return err
		}
		if iid == nil {
			return nil
		}
		ext, err := r.ExternalID(iid)
		if err != nil {
			return err
		}
		ver := ""
		if withVer {
			for i := range parts {
				parts[i] = parts[i][:0]
			}
			if err = dvr.VisitDocValues(iid, visit); err != nil {
				return fmt.Errorf("version of %s: %w", ext, err)
			}
			ver = version(string(parts[0]), string(parts[1]), string(parts[2]), string(parts[3]))
		}
		fn(listing.ID(ext), ver)
	}
}

// reconcileBatch is how many listings Reconcile re-indexes at a time.
const reconcileBatch = 1000

// compactAfter is how many changes make Reconcile compact the index when
// it is done: a rebuild leaves a hundred small segments that slow every
// query until the background merger has caught up.
const compactAfter = 10_000

// Reconcile makes the index agree with the store, whose listings all
// yields: listings missing from the index are added, listings indexed at an
// older stamp are re-indexed, and indexed IDs the store no longer has are
// deleted. Run it at start-up; on an empty index it is a full rebuild
// (`patrol reindex`: open a fresh directory, Reconcile, then swap it in).
func (ix *Index) Reconcile(ctx context.Context, all func(yield func(listing.Listing) bool)) (added, updated, deleted int, err error) {
	have, err := ix.Versions(ctx)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("reconcile: %w", err)
	}
	var pending []listing.Listing
	flush := func() error {
		if err := ix.Put(ctx, pending); err != nil {
			return err
		}
		pending = pending[:0]
		return nil
	}
	all(func(l listing.Listing) bool {
		if err = ctx.Err(); err != nil {
			return false
		}
		ver, ok := have[l.ID]
		delete(have, l.ID)
		switch {
		case !ok:
			added++
		case ver != Version(l):
			updated++
		default:
			return true
		}
		pending = append(pending, l)
		if len(pending) >= reconcileBatch {
			err = flush()
		}
		return err == nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return added, updated, 0, fmt.Errorf("reconcile: %w", err)
	}
	if len(have) > 0 {
		ids := make([]listing.ID, 0, len(have))
		for id := range have {
			ids = append(ids, id)
		}
		if err := ix.Delete(ctx, ids); err != nil {
			return added, updated, 0, fmt.Errorf("reconcile: %w", err)
		}
	}
	if added+updated+len(have) >= compactAfter {
		if err := ix.Compact(ctx); err != nil {
			return added, updated, len(have), fmt.Errorf("reconcile: %w", err)
		}
	}
	return added, updated, len(have), nil
}

// Compact merges the index into as few segments as Bleve allows. Call it
// after a rebuild or a large Reconcile: a freshly bulk-loaded index is made
// of many small segments, which makes every query visit each of them and
// keeps background merging busy for minutes.
func (ix *Index) Compact(ctx context.Context) error {
	adv, err := ix.bi.Advanced()
	if err != nil {
		return fmt.Errorf("compact index: %w", err)
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil
	}
	if err := s.ForceMerge(ctx, &mergeplan.SingleSegmentMergePlanOptions); err != nil {
		return fmt.Errorf("compact index: %w", err)
	}
	return nil
}
