package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/patrol-dev/patrol/notice"
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
			f, err := notice.ParseFormat(format)
			if err != nil {
				return usageError{err}
			}
			ctx := cmd.Context()
			a, err := g.open(ctx, false)
			if err != nil {
				return err
			}
			defer a.close()
			ns, err := a.store.Notices(ctx, store.NoticeFilter{})
			if err != nil {
				return fmt.Errorf("read notices: %w", err)
			}
			return notice.WriteReport(g.stdout, notice.Stats(ns, time.Now().UTC(), window), f)
		},
	}
	c.Flags().StringVar(&format, "format", "text", "text, csv or json")
	c.Flags().DurationVar(&window, "window", 0, "rolling window of the accuracy record (default 90 days)")
	return c
}
