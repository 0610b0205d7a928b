package notice

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/patrol-dev/patrol/listing"
)

// Thresholds are the accuracy figures a platform's good-faith programme
// demands; Draft warns before a notice would take a brand past them.
type Thresholds struct {
	// MinTakedownRate is the lowest acceptable share of decided listings
	// that were taken down.
	MinTakedownRate float64
	// MaxCounterNoticeRate is the highest acceptable share of filed notices
	// that drew a counter-notice.
	MaxCounterNoticeRate float64
	// Window is the rolling period the programme judges over.
	Window time.Duration
	// MinSample is how many decided listings (or filed notices) a record
	// needs before it is judged; below it every rate is noise.
	MinSample int
}

// DefaultThresholds are Alibaba's Good-Faith programme's: a takedown rate of
// at least 90% and a counter-notice rate of at most 5% over a rolling three
// months.
func DefaultThresholds() Thresholds {
	return Thresholds{MinTakedownRate: 0.9, MaxCounterNoticeRate: 0.05, Window: 90 * 24 * time.Hour, MinSample: 10}
}

func (t Thresholds) withDefaults() Thresholds {
	d := DefaultThresholds()
	if t.MinTakedownRate == 0 {
		t.MinTakedownRate = d.MinTakedownRate
	}
	if t.MaxCounterNoticeRate == 0 {
		t.MaxCounterNoticeRate = d.MaxCounterNoticeRate
	}
	if t.Window == 0 {
		t.Window = d.Window
	}
	if t.MinSample == 0 {
		t.MinSample = d.MinSample
	}
	return t
}

// Figures are the enforcement figures of one platform (and brand, when
// Brand is set).
type Figures struct {
	Platform string `json:"platform"`
	Brand    string `json:"brand,omitempty"`
	// Drafted counts notices not yet filed; Notices those filed.
	Drafted int `json:"drafted"`
	Notices int `json:"notices"`
	// Effective counts filed notices that led to at least one removal.
	Effective      int `json:"effective"`
	Rejected       int `json:"rejected"`
	CounterNotices int `json:"counter_notices"`
	Retracted      int `json:"retracted"`
	// Listings counts the listings cited by filed notices; Decided those
	// whose outcome is known (removed, still up, reinstated, relisted, or
	// cited by a rejected or retracted notice).
	Listings int `json:"listings"`
	Decided  int `json:"decided"`
	Removed  int `json:"removed"`
	Pending  int `json:"pending"`
	// Relisted counts listings verified removed that were found live
	// again: decided, but not taken down, since the takedown did not last.
	Relisted int `json:"relisted"`
	// TakedownRate is Removed/Decided; EffectiveRate the share of decided
	// notices that led to removal; RejectionRate the share of filed notices
	// rejected or retracted; CounterNoticeRate the share that drew a
	// counter-notice. Rates are 0 when their denominator is.
	TakedownRate      float64 `json:"takedown_rate"`
	EffectiveRate     float64 `json:"effective_rate"`
	RejectionRate     float64 `json:"rejection_rate"`
	CounterNoticeRate float64 `json:"counter_notice_rate"`
	// MedianTimeToTakedown runs from filing to the verification that found
	// the listing gone (an upper bound on the platform's delay).
	MedianTimeToTakedown time.Duration `json:"median_time_to_takedown"`
}

// SignalFigures say how notices that cited a signal fared, so that the
// matcher's weights can learn from rejections and counter-notices.
type SignalFigures struct {
	Name     string `json:"name"`
	Listings int    `json:"listings"`
	Removed  int    `json:"removed"`
	// Adverse counts listings reinstated or cited by a rejected,
	// counter-noticed or retracted notice.
	Adverse     int     `json:"adverse"`
	AdverseRate float64 `json:"adverse_rate"`
}

// Report is the enforcement record for `patrol report` and the dashboard.
type Report struct {
	Now    time.Time     `json:"now"`
	Window time.Duration `json:"window"`
	// Platforms are all-time figures per platform, all brands together.
	Platforms []Figures `json:"platforms"`
	// Recent are per platform × brand over the Window ending at Now: the
	// record good-faith programmes decide on.
	Recent  []Figures       `json:"recent"`
	Signals []SignalFigures `json:"signals"`
}

// Stats computes the enforcement report over the notices on record at now;
// window 0 means the default three months.
func Stats(records []listing.Notice, now time.Time, window time.Duration) Report {
	if window <= 0 {
		window = DefaultThresholds().Window
	}
	rep := Report{Now: now, Window: window}
	rep.Platforms = group(records, func(n listing.Notice) (figKey, bool) { return figKey{platform: n.Platform}, true })
	from := now.Add(-window)
	rep.Recent = group(records, func(n listing.Notice) (figKey, bool) {
		at := n.SentAt
		if !n.State.Filed() {
			at = n.DraftedAt
		}
		return figKey{n.Platform, n.Brand}, !at.Before(from) && !at.After(now)
	})
	rep.Signals = signalFigures(records)
	return rep
}

// figKey is what Figures are grouped by.
type figKey struct{ platform, brand string }

// group computes Figures per key over the records key accepts, sorted by key.
func group(records []listing.Notice, key func(listing.Notice) (figKey, bool)) []Figures {
	by := map[figKey][]listing.Notice{}
	var keys []figKey
	for _, n := range records {
		k, ok := key(n)
		if !ok {
			continue
		}
		if _, seen := by[k]; !seen {
			keys = append(keys, k)
		}
		by[k] = append(by[k], n)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].platform != keys[j].platform {
			return keys[i].platform < keys[j].platform
		}
		return keys[i].brand < keys[j].brand
	})
	out := make([]Figures, 0, len(keys))
	for _, k := range keys {
		f := figures(by[k])
		f.Platform, f.Brand = k.platform, k.brand
		out = append(out, f)
	}
	return out
}

// figures computes the figures of one set of notices.
func figures(records []listing.Notice) Figures {
	var f Figures
	var delays []time.Duration
	decidedNotices := 0
	for _, n := range records {
		if !n.State.Filed() {
			f.Drafted++
			continue
		}
		f.Notices++
		switch n.State {
		case listing.NoticeRejected:
			f.Rejected++
		case listing.NoticeCounterNotice:
			f.CounterNotices++
		case listing.NoticeRetracted:
			f.Retracted++
		}
		removedAny, decidedAny := false, n.State.Adverse()
		for _, l := range n.Listings {
			f.Listings++
			switch {
			case l.Outcome == listing.OutcomeRemoved:
				f.Removed++
				f.Decided++
				removedAny, decidedAny = true, true
				if !l.RemovedAt.IsZero() && !n.SentAt.IsZero() {
					delays = append(delays, l.RemovedAt.Sub(n.SentAt))
				}
			case l.Outcome == listing.OutcomeRelisted && !n.State.Adverse():
				f.Relisted++
				f.Decided++
				decidedAny = true
			case l.Outcome == listing.OutcomeStillUp || l.Outcome == listing.OutcomeReinstated || n.State.Adverse():
				f.Decided++
				decidedAny = true
			default:
				f.Pending++
			}
		}
		if decidedAny {
			decidedNotices++
		}
		if removedAny {
			f.Effective++
		}
	}
	f.TakedownRate = ratio(f.Removed, f.Decided)
	f.EffectiveRate = ratio(f.Effective, decidedNotices)
	f.RejectionRate = ratio(f.Rejected+f.Retracted, f.Notices)
	f.CounterNoticeRate = ratio(f.CounterNotices, f.Notices)
	f.MedianTimeToTakedown = median(delays)
	return f
}

func signalFigures(records []listing.Notice) []SignalFigures {
	by := map[string]*SignalFigures{}
	for _, n := range records {
		if !n.State.Filed() {
			continue
		}
		for _, l := range n.Listings {
			for _, name := range l.Signals {
				s := by[name]
				if s == nil {
					s = &SignalFigures{Name: name}
					by[name] = s
				}
				s.Listings++
				switch {
				case l.Outcome == listing.OutcomeReinstated || n.State.Adverse():
					s.Adverse++
				case l.Outcome == listing.OutcomeRemoved:
					s.Removed++
				}
			}
		}
	}
	out := make([]SignalFigures, 0, len(by))
	for _, s := range by {
		s.AdverseRate = ratio(s.Adverse, s.Listings)
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	m := len(ds) / 2
	if len(ds)%2 == 1 {
		return ds[m]
	}
	return (ds[m-1] + ds[m]) / 2
}

// accuracyWarnings warns, per brand the draft concerns, when the brand's
// record on the platform over the window is already past a threshold, or
// when the new notices could take it past one: the takedown rate if too few
// of the new listings come down, the counter-notice rate if one of the new
// notices draws a counter-notice.
func accuracyWarnings(req DraftRequest, drafted []Notice, now time.Time) []string {
	th := req.Thresholds.withDefaults()
	newListings := map[string]int{}
	newNotices := map[string]int{}
	ids := map[string]bool{}
	var brands []string
	for _, n := range drafted {
		if newNotices[n.Brand] == 0 {
			brands = append(brands, n.Brand)
		}
		newNotices[n.Brand]++
		newListings[n.Brand] += len(n.ListingIDs)
		ids[n.ID] = true
	}
	from := now.Add(-th.Window)
	var warnings []string
	for _, brand := range brands {
		var past []listing.Notice
		for _, n := range req.History {
			if n.Platform != string(req.Platform) || n.Brand != brand || !n.State.Filed() || ids[n.ID] {
				continue
			}
			if n.SentAt.Before(from) || n.SentAt.After(now) {
				continue
			}
			past = append(past, n)
		}
		f := figures(past)
		days := int(th.Window / (24 * time.Hour))
		prefix := fmt.Sprintf("accuracy record of %s on %s (last %d days)", brand, req.Platform, days)
		m := newListings[brand]
		switch {
		case f.Decided >= th.MinSample && f.TakedownRate < th.MinTakedownRate:
			warnings = append(warnings, fmt.Sprintf("%s: takedown rate %s (%d of %d) is already below %s",
				prefix, pct(f.TakedownRate), f.Removed, f.Decided, pct(th.MinTakedownRate)))
		case f.Decided+m >= th.MinSample && ratio(f.Removed, f.Decided+m) < th.MinTakedownRate:
			need := int(math.Ceil(th.MinTakedownRate*float64(f.Decided+m)-1e-9)) - f.Removed
			warnings = append(warnings, fmt.Sprintf("%s: takedown rate %s (%d of %d); unless at least %d of these %d listings come down it falls below %s",
				prefix, pct(f.TakedownRate), f.Removed, f.Decided, need, m, pct(th.MinTakedownRate)))
		}
		k := newNotices[brand]
		switch {
		case f.Notices >= th.MinSample && f.CounterNoticeRate > th.MaxCounterNoticeRate:
			warnings = append(warnings, fmt.Sprintf("%s: counter-notice rate %s (%d of %d) is already above %s",
				prefix, pct(f.CounterNoticeRate), f.CounterNotices, f.Notices, pct(th.MaxCounterNoticeRate)))
		case f.Notices+k >= th.MinSample && ratio(f.CounterNotices+1, f.Notices+k) > th.MaxCounterNoticeRate:
			warnings = append(warnings, fmt.Sprintf("%s: counter-notice rate %s (%d of %d); one counter-notice against these %d notices takes it above %s",
				prefix, pct(f.CounterNoticeRate), f.CounterNotices, f.Notices, k, pct(th.MaxCounterNoticeRate)))
		}
	}
	return warnings
}

func pct(r float64) string {
	return fmt.Sprintf("%.1f%%", r*100)
}
