package notice

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/patrol-dev/patrol/listing"
)

// PreflightResult splits a request's items into those a notice may cite
// and those it must not, with the reasons.
type PreflightResult struct {
	Accepted []Item
	Refused  []Refusal
	// Warnings are things an analyst should know that do not block a
	// notice, such as evidence too old to be re-checked.
	Warnings []string

	accepted []accepted
}

// accepted is an item that passed the check, with what was decided about it.
type accepted struct {
	item        Item
	claim       claim
	snapshotSHA string
	fetchedAt   time.Time
}

// Preflight checks every item of req before anything is drafted: the
// listing is confirmed; its brand has the rights holder's details the
// platform requires; it has a listing URL (not a shop page), a title and an
// evidence snapshot; it has grounds beyond price or resale; no test buy found
// it genuine; the platform's identifiers are present; and it is still online
// (re-checked with req.Checker when its snapshot is older than
// req.MaxSnapshotAge). It returns an error only when ctx ends.
func Preflight(ctx context.Context, req DraftRequest) (PreflightResult, error) {
	r, ok := rules[req.Platform]
	if !ok {
		return PreflightResult{}, fmt.Errorf("preflight: unknown platform %q", req.Platform)
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	brands := brandsByName(req.Brands)
	var res PreflightResult
	brandProblems := map[string][]string{}
	for _, it := range req.Items {
		l := it.Listing
		refuse := func(reasons []string) {
			res.Refused = append(res.Refused, Refusal{ListingID: l.ID, URL: l.URL, Reason: strings.Join(reasons, "; ")})
		}
		var reasons []string
		if l.Status != listing.StatusConfirmed {
			reasons = append(reasons, fmt.Sprintf("status is %q: only confirmed listings are noticed", l.Status))
		}
		has := map[string]bool{}
		for _, s := range l.Signals {
			has[s.Name] = true
		}
		c := classify(has)

		b, known := brands[l.Brand]
		switch {
		case l.Brand == "":
			reasons = append(reasons, "not matched to any brand")
		case !known:
			reasons = append(reasons, fmt.Sprintf("brand %q is not configured", l.Brand))
		default:
			probs, seen := brandProblems[l.Brand]
			if !seen {
				probs = ownerProblems(req.Platform, r, b)
				brandProblems[l.Brand] = probs
			}
			reasons = append(reasons, probs...)
			reasons = append(reasons, claimProblems(req.Platform, b, c)...)
		}

		switch {
		case strings.TrimSpace(l.URL) == "":
			reasons = append(reasons, "no listing URL")
		case isShopURL(l.URL):
			reasons = append(reasons, "URL is a shop or seller page: the platform wants the listing's own URL")
		}
		if strings.TrimSpace(l.Title) == "" {
			reasons = append(reasons, "no title")
		}
		sha, fetched := l.SnapshotSHA256, l.FetchedAt
		if it.Snapshot != nil {
			sha, fetched = it.Snapshot.SHA256, it.Snapshot.FetchedAt
		}
		if sha == "" || fetched.IsZero() {
			reasons = append(reasons, "no evidence snapshot (sha256 and fetch time)")
		}

		if has[sigAuthorized] {
			reasons = append(reasons, "seller is an authorized seller")
		}
		if !hasGrounds(has) {
			reasons = append(reasons, fmt.Sprintf("only grounds are price or resale (%s): lawful resale is not infringement; a notice needs one of %s",
				orNone(signalNames(l.Signals)), strings.Join(groundSignals, ", ")))
		}
		for _, tb := range it.TestBuys {
			if tb.Outcome == listing.TestBuyGenuine {
				reasons = append(reasons, fmt.Sprintf("test buy %s found the item genuine", tb.OrderRef))
			}
		}
		if r.needsItemNumber && ebayItemNumber(l.URL) == "" {
			reasons = append(reasons, "no eBay item number in the listing URL")
		}
		if len(reasons) > 0 {
			refuse(reasons)
			continue
		}

		if req.MaxSnapshotAge > 0 && now.Sub(fetched) > req.MaxSnapshotAge {
			if req.Checker == nil {
				res.Warnings = append(res.Warnings, fmt.Sprintf("listing %s: evidence is from %s, older than %s, and was not re-checked",
					l.ID, fetched.UTC().Format(time.RFC3339), req.MaxSnapshotAge))
			} else {
				up, err := req.Checker.StillUp(ctx, l)
				if ctxErr := ctx.Err(); ctxErr != nil {
					return PreflightResult{}, fmt.Errorf("preflight: %w", ctxErr)
				}
				switch {
				case err != nil:
					refuse([]string{fmt.Sprintf("could not re-check that the listing is still online: %v", err)})
					continue
				case !up:
					refuse([]string{"listing is no longer online"})
					continue
				}
			}
		}
		if has[sigNegativeTerm] {
			res.Warnings = append(res.Warnings, fmt.Sprintf("listing %s: has a negative term (accessory or compatible product): check the claim", l.ID))
		}
		res.Accepted = append(res.Accepted, it)
		res.accepted = append(res.accepted, accepted{item: it, claim: c, snapshotSHA: sha, fetchedAt: fetched})
	}
	var names []string
	for name, probs := range brandProblems {
		if len(probs) > 0 {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		res.Warnings = append(res.Warnings, fmt.Sprintf("brand %s: %s", name, strings.Join(brandProblems[name], "; ")))
	}
	return res, nil
}

// hasGrounds reports whether the signals show infringement rather than
// only a low price or the brand's name (which lawful resale has too).
func hasGrounds(has map[string]bool) bool {
	for _, g := range groundSignals {
		if has[g] {
			return true
		}
	}
	return false
}

// ownerProblems lists the rights holder's details that platform p requires
// and brand b lacks.
func ownerProblems(p Platform, r rule, b Brand) []string {
	var probs []string
	o := b.Owner
	if strings.TrimSpace(o.Name) == "" {
		probs = append(probs, "owner name missing")
	}
	if strings.TrimSpace(o.Email) == "" {
		probs = append(probs, "owner email missing")
	}
	if p != DSA && strings.TrimSpace(o.Address) == "" {
		probs = append(probs, "owner address missing")
	}
	if r.needsAccount && strings.TrimSpace(o.account(p)) == "" {
		probs = append(probs, fmt.Sprintf("rights-holder account for %s missing", p))
	}
	return probs
}

// claimProblems lists what brand b lacks to support claim c on platform p:
// a registered mark for trademark claims (eBay's reason codes and the
// marketplaces' forms require its number), a described work for copyright
// claims.
func claimProblems(p Platform, b Brand, c claim) []string {
	switch c.ipType {
	case ipCopyright:
		if len(b.Works) == 0 {
			return []string{"image claim but the brand lists no copyrighted work (reference images)"}
		}
	default:
		for _, tm := range b.Trademarks {
			if tm.Mark != "" && (tm.Registration != "" || p == DSA) {
				return nil
			}
		}
		return []string{"trademark claim but the brand lists no registered trademark (mark and registration)"}
	}
	return nil
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "no signals"
	}
	return strings.Join(names, ", ")
}
