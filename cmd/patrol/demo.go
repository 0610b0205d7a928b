package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"time"

	"github.com/spf13/cobra"

	"github.com/patrol-dev/patrol/config"
	"github.com/patrol-dev/patrol/demomarket"
	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/store"
)

func newDemoCmd(g *globals) *cobra.Command {
	var dir, addr string
	var serve bool
	var seed int64
	c := &cobra.Command{
		Use:   "demo",
		Short: "Sweep the bundled demo marketplace on loopback and print the suspects",
		Long: `demo starts the bundled demo marketplace on a loopback port, writes a
config for it into a temporary directory (or --dir), sweeps it and prints the
suspects table, then how the verdicts compare with the demo's known labels.
With --serve it then opens the analysts' UI on --addr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if dir == "" {
				d, err := os.MkdirTemp("", "patrol-demo-")
				if err != nil {
					return fmt.Errorf("create demo dir: %w", err)
				}
				dir = d
			}
			market := demomarket.New(demomarket.Options{Seed: seed})
			srv, err := demomarket.Start(ctx, market, "127.0.0.1:0")
			if err != nil {
				return fmt.Errorf("start demo marketplace: %w", err)
			}
			defer srv.Close()
			cfgPath, err := demomarket.WriteConfig(dir, srv.URL())
			if err != nil {
				return fmt.Errorf("write demo config: %w", err)
			}
			fmt.Fprintf(g.stdout, "demo marketplace at %s (%s)\nconfig %s\n\n", srv.URL(), market.Stats(), cfgPath)
			cfg, err := config.Load(cfgPath)
			if err != nil {
				return fmt.Errorf("load demo config: %w", err)
			}
			a, err := openApp(ctx, g, cfg, true)
			if err != nil {
				return err
			}
			defer a.close()
			start := time.Now()
			sw, err := a.runSweep(ctx, nil, nil, true)
			printSweepSummary(g.stdout, sw)
			if err != nil {
				return err
			}
			ls, err := allListings(ctx, a.store, func(l listing.Listing) bool { return l.Flagged })
			if err != nil {
				return fmt.Errorf("read suspects: %w", err)
			}
			fmt.Fprintf(g.stdout, "\n%d suspects (sweep took %s):\n", len(ls), time.Since(start).Round(time.Millisecond))
			printSuspects(g.stdout, ls)
			if err := printDemoAccuracy(ctx, g.stdout, a, market); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "\nnext: patrol --config %s review list | export | search QUERY\n", cfgPath)
			if serve {
				// The UI needs an account; the demo makes one and says so.
				pw := rand.Text()[:16]
				if err := a.store.AddUser(ctx, "demo", store.RoleAdmin, pw, nil); err != nil {
					return fmt.Errorf("create demo account: %w", err)
				}
				fmt.Fprintf(g.stdout, "\nlog in as demo / %s\n", pw)
				return a.serve(ctx, addr)
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "directory for the demo config and data (default: a new temporary directory)")
	c.Flags().BoolVar(&serve, "serve", false, "open the analysts' UI after the sweep")
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "UI address with --serve")
	c.Flags().Int64Var(&seed, "seed", 1, "demo catalogue seed")
	return c
}

// printDemoAccuracy compares the verdicts with the demo's labels: the demo
// knows which listings are counterfeit, so it can say how patrol did.
func printDemoAccuracy(ctx context.Context, w io.Writer, a *app, market *demomarket.Market) error {
	byPath := map[string]demomarket.Label{}
	for _, lb := range market.Labels() {
		byPath[lb.Path] = lb
	}
	var tp, fp, fn, tn int
	var missed []string
	err := a.store.EachListing(ctx, func(l listing.Listing) error {
		lb, ok := byPath[urlPath(l.URL)]
		if !ok {
			return nil
		}
		fake := lb.Class == demomarket.ClassCounterfeit
		switch {
		case fake && l.Flagged:
			tp++
		case fake:
			fn++
			missed = append(missed, l.Title)
		case l.Flagged:
			fp++
		default:
			tn++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read listings: %w", err)
	}
	prec, rec := ratio(tp, tp+fp), ratio(tp, tp+fn)
	fmt.Fprintf(w, "\nagainst the demo's labels: %d counterfeits flagged, %d missed, %d false alarms, %d others left alone (precision %.2f, recall %.2f)\n",
		tp, fn, fp, tn, prec, rec)
	for i, t := range missed {
		if i == 10 {
			fmt.Fprintf(w, "  … and %d more\n", len(missed)-10)
			break
		}
		fmt.Fprintf(w, "  missed: %s\n", t)
	}
	return nil
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func urlPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return path.Clean(u.Path)
}
