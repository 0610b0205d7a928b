package sweep

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/patrol-dev/patrol/listing"
)

// CheckResult is one URL given to Check.
type CheckResult struct {
	URL     string
	Listing listing.Listing
	Removed bool
	Err     error
}

// Check fetches listing pages directly, with the same politeness, evidence
// and scoring as a sweep: for URLs that arrive from a platform's inquiry, a
// customer or a test buy. Each URL goes to the marketplace whose allowed
// domains contain its host (match returns the marketplace or false).
func (r *Runner) Check(ctx context.Context, urls []string, match func(host string) (string, bool)) []CheckResult {
	hist, err := newHistory(ctx, r.opts.Store)
	out := make([]CheckResult, 0, len(urls))
	for _, raw := range urls {
		res := CheckResult{URL: raw}
		if err != nil {
			res.Err = err
			out = append(out, res)
			continue
		}
		u, perr := url.Parse(raw)
		if perr != nil || u.Host == "" {
			res.Err = fmt.Errorf("check %q: not an absolute URL", raw)
			out = append(out, res)
			continue
		}
		name, ok := match(strings.ToLower(u.Hostname()))
		if !ok {
			res.Err = fmt.Errorf("check %s: no marketplace in the config allows host %s", raw, u.Hostname())
			out = append(out, res)
			continue
		}
		var m Marketplace
		for _, cand := range r.opts.Marketplaces {
			if cand.Name == name {
				m = cand
			}
		}
		if m.Fetcher == nil {
			res.Err = fmt.Errorf("check %s: marketplace %s is not configured", raw, name)
			out = append(out, res)
			continue
		}
		l, ferr := r.fetchListing(ctx, m, raw, nil, nil, hist)
		res.Listing = l
		if errors.Is(ferr, ErrRemoved) {
			res.Removed = true
		} else {
			res.Err = ferr
		}
		if ferr == nil && l.Flagged {
			hist.addFlagged(l)
		}
		out = append(out, res)
	}
	return out
}

// Rescore re-runs the matcher over every stored listing, without crawling,
// after the brand rules changed. It returns how many listings were scored
// and how many changed their score or flag.
func (r *Runner) Rescore(ctx context.Context) (scored, changed int, err error) {
	hist, err := newHistory(ctx, r.opts.Store)
	if err != nil {
		return 0, 0, err
	}
	scored, changed, _, err = r.rescore(ctx, hist, nil)
	return scored, changed, err
}

// rescore re-judges the stored listings keep selects (nil: all) with hist.
// flaggedDelta is how many more listings are flagged afterwards.
func (r *Runner) rescore(ctx context.Context, hist *history, keep func(listing.Listing) bool) (scored, changed, flaggedDelta int, err error) {
	st := r.opts.Store
	var batch []listing.Listing
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := st.PutListings(ctx, batch); err != nil {
			return fmt.Errorf("store rescored listings: %w", err)
		}
		if r.opts.Index != nil {
			if err := r.opts.Index.Put(ctx, batch); err != nil {
				return fmt.Errorf("index rescored listings: %w", err)
			}
		}
		batch = batch[:0]
		return nil
	}
	var all []listing.Listing
	if err := st.EachListing(ctx, func(l listing.Listing) error {
		if keep == nil || keep(l) {
			all = append(all, l)
		}
		return nil
	}); err != nil {
		return 0, 0, 0, fmt.Errorf("read listings: %w", err)
	}
	for _, l := range all {
		before := l
		r.opts.Matcher.Score(&l, hist)
		scored++
		if l.Score != before.Score || l.Flagged != before.Flagged || l.Brand != before.Brand || !sameSignals(l.Signals, before.Signals) {
			changed++
			if l.Flagged && !before.Flagged {
				flaggedDelta++
				hist.addFlagged(l)
			} else if !l.Flagged && before.Flagged {
				flaggedDelta--
			}
			batch = append(batch, l)
			if len(batch) >= 500 {
				if err := flush(); err != nil {
					return scored, changed, flaggedDelta, err
				}
			}
		}
	}
	return scored, changed, flaggedDelta, flush()
}

func sameSignals(a, b []listing.Signal) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
