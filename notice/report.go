package notice

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"
)

// WriteReport writes the enforcement report for `patrol report` in format
// f: text tables for people, CSV (one row per platform figure, all-time
// rows with period "all", rolling-window rows with period "recent") and
// JSON for programs.
func WriteReport(w io.Writer, rep Report, f Format) error {
	switch f {
	case JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		return nil
	case CSV:
		cw := csv.NewWriter(w)
		cw.Write([]string{"period", "platform", "brand", "drafted", "notices", "listings", "decided", "removed", "pending",
			"rejected", "counter_notices", "retracted", "takedown_rate", "effective_rate", "rejection_rate", "counter_notice_rate", "median_time_to_takedown_hours",
			"relisted"})
		row := func(period string, f Figures) {
			cw.Write([]string{period, csvSafe(f.Platform), csvSafe(f.Brand), itoa(f.Drafted), itoa(f.Notices), itoa(f.Listings), itoa(f.Decided),
				itoa(f.Removed), itoa(f.Pending), itoa(f.Rejected), itoa(f.CounterNotices), itoa(f.Retracted),
				ftoa(f.TakedownRate), ftoa(f.EffectiveRate), ftoa(f.RejectionRate), ftoa(f.CounterNoticeRate),
				ftoa(f.MedianTimeToTakedown.Hours()), itoa(f.Relisted)})
		}
		for _, f := range rep.Platforms {
			row("all", f)
		}
		for _, f := range rep.Recent {
			row("recent", f)
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		return nil
	case Text:
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "Enforcement, all time\n")
		fmt.Fprintf(tw, "PLATFORM\tNOTICES\tLISTINGS\tREMOVED\tRELISTED\tPENDING\tTAKEDOWN\tREJECTED\tCOUNTER\tMEDIAN TIME\n")
		for _, f := range rep.Platforms {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", clean(f.Platform), f.Notices, f.Listings, f.Removed, f.Relisted, f.Pending,
				pct(f.TakedownRate), pct(f.RejectionRate), pct(f.CounterNoticeRate), humanDuration(f.MedianTimeToTakedown))
		}
		fmt.Fprintf(tw, "\nAccuracy record, last %d days\n", int(rep.Window/(24*time.Hour)))
		fmt.Fprintf(tw, "PLATFORM\tBRAND\tNOTICES\tDECIDED\tTAKEDOWN\tEFFECTIVE\tREJECTED\tCOUNTER\n")
		for _, f := range rep.Recent {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", clean(f.Platform), clean(f.Brand), f.Notices, f.Decided,
				pct(f.TakedownRate), pct(f.EffectiveRate), pct(f.RejectionRate), pct(f.CounterNoticeRate))
		}
		if len(rep.Signals) > 0 {
			fmt.Fprintf(tw, "\nSignals behind noticed listings\n")
			fmt.Fprintf(tw, "SIGNAL\tLISTINGS\tREMOVED\tADVERSE\tADVERSE RATE\n")
			for _, s := range rep.Signals {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", clean(s.Name), s.Listings, s.Removed, s.Adverse, pct(s.AdverseRate))
			}
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		return nil
	}
	return fmt.Errorf("write report: unknown format %q", f)
}

func itoa(n int) string { return strconv.Itoa(n) }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 4, 64) }

// humanDuration shows a takedown delay in days and hours, "-" when none.
func humanDuration(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	days := int(d / (24 * time.Hour))
	hours := int((d % (24 * time.Hour)) / time.Hour)
	if days == 0 {
		return fmt.Sprintf("%dh", hours)
	}
	return fmt.Sprintf("%dd%dh", days, hours)
}
