package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/notice"
	"github.com/patrol-dev/patrol/report"
	"github.com/patrol-dev/patrol/store"
)

func newReportCmd(g *globals) *cobra.Command {
	var format string
	var window time.Duration
	c := &cobra.Command{
		Use:   "report",
		Short: "Trends and enforcement figures (--format text|csv|json)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			nf, err := notice.ParseFormat(format)
			if err != nil {
				return usageError{err}
			}
			return g.withApp(cmd, false, func(ctx context.Context, a *app) error {
				rep, err := buildReport(ctx, a.store, time.Now().UTC(), window)
				if err != nil {
					return err
				}
				stats := rep.Enforcement.(notice.Report)
				rep.WriteEnforcement = func(w io.Writer, _ string) error { return notice.WriteReport(w, stats, nf) }
				return rep.Write(g.stdout, format)
			})
		},
	}
	c.Flags().StringVar(&format, "format", "text", "text, csv or json")
	c.Flags().DurationVar(&window, "window", 0, "rolling window of the accuracy record (default 90 days)")
	return c
}

// buildReport gathers sweeps, listings and notices into the trends and
// enforcement report that `patrol report` prints and the UI shows.
func buildReport(ctx context.Context, st *store.Store, now time.Time, window time.Duration) (report.Report, error) {
	sweeps, err := st.Sweeps(ctx, 0)
	if err != nil {
		return report.Report{}, fmt.Errorf("read sweeps: %w", err)
	}
	var ls []listing.Listing
	if err := st.EachListing(ctx, func(l listing.Listing) error { ls = append(ls, l); return nil }); err != nil {
		return report.Report{}, fmt.Errorf("read listings: %w", err)
	}
	ns, err := st.Notices(ctx, store.NoticeFilter{})
	if err != nil {
		return report.Report{}, fmt.Errorf("read notices: %w", err)
	}
	rep := report.Build(sweeps, ls, now)
	rep.Enforcement = notice.Stats(ns, now, window)
	return rep, nil
}
