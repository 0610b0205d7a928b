package notice_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/notice"
)

// sent returns a filed notice whose listings have the given outcomes.
func sent(id, platform string, sentAt time.Time, state listing.NoticeState, outcomes ...listing.OutcomeState) listing.Notice {
	n := listing.Notice{ID: id, Platform: platform, Brand: "Acme", State: state, DraftedAt: sentAt.Add(-time.Hour), SentAt: sentAt}
	for i, o := range outcomes {
		l := listing.NoticeListing{ID: listing.ID(fmt.Sprintf("%s-%d", id, i)), Signals: []string{"suspicious_term"}, Outcome: o}
		if i == 0 {
			l.Signals = append(l.Signals, "image_match")
		}
		if o == listing.OutcomeRemoved {
			l.RemovedAt = sentAt.Add(time.Duration(i+1) * 24 * time.Hour)
		}
		n.Listings = append(n.Listings, l)
	}
	return n
}

func TestStats(t *testing.T) {
	day := 24 * time.Hour
	records := []listing.Notice{
		sent("a", "amazon", now.Add(-10*day), listing.NoticeRemoved, listing.OutcomeRemoved, listing.OutcomeRemoved),
		sent("b", "amazon", now.Add(-5*day), listing.NoticeStillUp, listing.OutcomeRemoved, listing.OutcomeStillUp),
		sent("c", "amazon", now.Add(-2*day), listing.NoticeCounterNotice, listing.OutcomeReinstated),
		sent("d", "amazon", now.Add(-1*day), listing.NoticeSent, listing.OutcomePending),
		sent("e", "amazon", now.Add(-200*day), listing.NoticeRejected, listing.OutcomePending, listing.OutcomePending),
		{ID: "f", Platform: "amazon", Brand: "Acme", State: listing.NoticeDrafted, DraftedAt: now, Listings: []listing.NoticeListing{{ID: "f-0"}}},
		sent("g", "dmca", now.Add(-3*day), listing.NoticeRemoved, listing.OutcomeRemoved),
	}
	rep := notice.Stats(records, now, 0)
	if len(rep.Platforms) != 2 || rep.Platforms[0].Platform != "amazon" || rep.Platforms[1].Platform != "dmca" {
		t.Fatalf("Stats platforms = %+v, want amazon and dmca", rep.Platforms)
	}
	a := rep.Platforms[0]
	want := notice.Figures{
		Platform: "amazon", Drafted: 1, Notices: 5, Effective: 2, Rejected: 1, CounterNotices: 1,
		Listings: 8, Decided: 7, Removed: 3, Pending: 1,
		TakedownRate: 3.0 / 7, EffectiveRate: 2.0 / 4, RejectionRate: 1.0 / 5, CounterNoticeRate: 1.0 / 5,
		MedianTimeToTakedown: day, // removals after 1, 2 and 1 days
	}
	if a != want {
		t.Errorf("Stats(amazon) =\n%+v\nwant\n%+v", a, want)
	}
	var recent notice.Figures
	for _, f := range rep.Recent {
		if f.Platform == "amazon" && f.Brand == "Acme" {
			recent = f
		}
	}
	if recent.Notices != 4 || recent.Rejected != 0 || recent.Drafted != 1 {
		t.Errorf("Stats recent amazon/Acme = %+v, want the 200-day-old notice left out", recent)
	}
	sigs := map[string]notice.SignalFigures{}
	for _, s := range rep.Signals {
		sigs[s.Name] = s
	}
	if s := sigs["suspicious_term"]; s.Listings != 9 || s.Removed != 4 || s.Adverse != 3 {
		t.Errorf("Stats signal suspicious_term = %+v, want 9 listings, 4 removed, 3 adverse", s)
	}
}

// TestStatsRelisted: a listing verified removed and found live again is
// decided but not taken down, so a relisting lowers the takedown rate
// instead of counting as a success, and a notice whose only removal did not
// last is not effective.
func TestStatsRelisted(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name    string
		records []listing.Notice
		want    notice.Figures
	}{
		{"one of two relisted", []listing.Notice{
			sent("a", "dmca", now.Add(-3*day), listing.NoticeStillUp, listing.OutcomeRemoved, listing.OutcomeRelisted),
		}, notice.Figures{Platform: "dmca", Notices: 1, Effective: 1, Listings: 2, Decided: 2, Removed: 1, Relisted: 1,
			TakedownRate: 0.5, EffectiveRate: 1, MedianTimeToTakedown: day}},
		{"only removal relisted", []listing.Notice{
			sent("a", "dmca", now.Add(-3*day), listing.NoticeRemoved, listing.OutcomeRemoved),
			sent("b", "dmca", now.Add(-2*day), listing.NoticeStillUp, listing.OutcomeRelisted),
		}, notice.Figures{Platform: "dmca", Notices: 2, Effective: 1, Listings: 2, Decided: 2, Removed: 1, Relisted: 1,
			TakedownRate: 0.5, EffectiveRate: 0.5, MedianTimeToTakedown: day}},
		{"relisted then counter-noticed", []listing.Notice{
			sent("a", "dmca", now.Add(-3*day), listing.NoticeCounterNotice, listing.OutcomeRelisted),
		}, notice.Figures{Platform: "dmca", Notices: 1, CounterNotices: 1, Listings: 1, Decided: 1,
			CounterNoticeRate: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := notice.Stats(tt.records, now, 0)
			if len(rep.Platforms) != 1 || rep.Platforms[0] != tt.want {
				t.Errorf("Stats(%s) =\n%+v\nwant\n%+v", tt.name, rep.Platforms, tt.want)
			}
			for _, s := range rep.Signals {
				if s.Adverse != 0 && tt.want.CounterNotices == 0 {
					t.Errorf("Stats(%s) signal %s adverse = %d, want 0: a relisting is not the notice's fault", tt.name, s.Name, s.Adverse)
				}
			}
		})
	}
}

func TestAccuracyWarnings(t *testing.T) {
	day := 24 * time.Hour
	history := func(removed, stillUp, counter int) []listing.Notice {
		var ns []listing.Notice
		for i := 0; i < removed; i++ {
			ns = append(ns, sent(fmt.Sprint("r", i), "alibaba", now.Add(-day), listing.NoticeRemoved, listing.OutcomeRemoved))
		}
		for i := 0; i < stillUp; i++ {
			ns = append(ns, sent(fmt.Sprint("s", i), "alibaba", now.Add(-day), listing.NoticeStillUp, listing.OutcomeStillUp))
		}
		for i := 0; i < counter; i++ {
			ns = append(ns, sent(fmt.Sprint("c", i), "alibaba", now.Add(-day), listing.NoticeCounterNotice, listing.OutcomeReinstated))
		}
		return ns
	}
	tests := []struct {
		name    string
		history []listing.Notice
		want    []string
	}{
		{"no history", nil, nil},
		{"good record", history(100, 0, 0), nil},
		{"below takedown rate", history(17, 3, 0), []string{"takedown rate 85.0% (17 of 20) is already below 90.0%"}},
		{"draft could take it below", history(19, 1, 0), []string{"unless at least 3 of these 4 listings come down"}},
		{"counter-notice rate above", history(30, 0, 3), []string{"unless at least 4 of these 4", "counter-notice rate 9.1% (3 of 33) is already above 5.0%"}},
		{"old record ignored", append(history(0, 0, 0), sent("old", "alibaba", now.Add(-100*day), listing.NoticeStillUp, listing.OutcomeStillUp)), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request(notice.Alibaba, notice.Text)
			req.History = tt.history
			res, err := notice.Draft(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			var acc []string
			for _, w := range res.Warnings {
				if strings.HasPrefix(w, "accuracy record") {
					acc = append(acc, w)
				}
			}
			if len(acc) != len(tt.want) {
				t.Fatalf("Draft(%s) accuracy warnings = %q, want %d", tt.name, acc, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(acc[i], w) {
					t.Errorf("Draft(%s) warning = %q, want it to contain %q", tt.name, acc[i], w)
				}
			}
		})
	}
}
