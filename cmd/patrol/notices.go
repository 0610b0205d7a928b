package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/patrol-dev/patrol/config"
	"github.com/patrol-dev/patrol/crawler"
	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/notice"
	"github.com/patrol-dev/patrol/store"
)

func newNoticesCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "notices", Short: "Draft takedown notices and track them"}
	c.AddCommand(newNoticesDraftCmd(g), newNoticesListCmd(g), newNoticesMarkSentCmd(g), newNoticesMarkCmd(g), newTestBuyCmd(g))
	return c
}

// noticeBrands maps the config's brands to the drafter's: the rights
// holder, the marks, and the brand's photographs as the copyrighted works
// an image claim cites.
func noticeBrands(cfg *config.Config) []notice.Brand {
	var out []notice.Brand
	for _, b := range cfg.Brands {
		nb := notice.Brand{Name: b.Name, Owner: notice.Owner{
			Name: b.Owner.Name, Email: b.Owner.Email, Address: b.Owner.Address, Phone: b.Owner.Phone,
			Signatory: b.Owner.Signatory, Accounts: map[notice.Platform]string{},
		}}
		for p, acct := range map[notice.Platform]string{"alibaba": b.Owner.Accounts.Alibaba, "ebay-vero": b.Owner.Accounts.EbayVero, "amazon": b.Owner.Accounts.Amazon} {
			if acct != "" {
				nb.Owner.Accounts[p] = acct
			}
		}
		for _, tm := range b.Trademarks {
			nb.Trademarks = append(nb.Trademarks, notice.Trademark{Mark: tm.Mark, Registration: tm.Registration, Jurisdiction: tm.Jurisdiction})
		}
		for _, ref := range b.ReferenceImages {
			rel, err := filepath.Rel(cfg.Dir, ref)
			if err != nil {
				rel = filepath.Base(ref)
			}
			nb.Works = append(nb.Works, fmt.Sprintf("%s product photograph (%s)", b.Name, rel))
		}
		out = append(out, nb)
	}
	return out
}

// stillUpChecker re-fetches a listing with the marketplace's crawler (same
// politeness) to confirm it is still up before it goes into a notice.
type stillUpChecker struct {
	a        *app
	crawlers map[string]*crawler.Crawler
}

func (a *app) newChecker() *stillUpChecker {
	return &stillUpChecker{a: a, crawlers: map[string]*crawler.Crawler{}}
}

func (c *stillUpChecker) crawler(name string) (*crawler.Crawler, config.Marketplace, error) {
	m, ok := c.a.cfg.Marketplace(name)
	if !ok {
		return nil, m, fmt.Errorf("marketplace %s is no longer in the config", name)
	}
	if cr, ok := c.crawlers[name]; ok {
		return cr, m, nil
	}
	cr, err := crawler.New(c.a.crawlerOptions(m))
	if err != nil {
		return nil, m, fmt.Errorf("set up crawler for %s: %w", name, err)
	}
	c.crawlers[name] = cr
	return cr, m, nil
}

// refetch fetches l's page again with its marketplace's crawler.
func (c *stillUpChecker) refetch(ctx context.Context, l listing.Listing) (*crawler.Page, config.Marketplace, error) {
	cr, mk, err := c.crawler(l.Marketplace)
	if err != nil {
		return nil, mk, err
	}
	page, err := cr.Fetch(ctx, l.URL)
	if err != nil {
		return nil, mk, fmt.Errorf("re-fetch %s: %w", l.URL, err)
	}
	return page, mk, nil
}

// keepSnapshot stores a re-fetched live page as further evidence of l.
func (a *app) keepSnapshot(ctx context.Context, id listing.ID, page *crawler.Page) error {
	snap := page.Snapshot
	snap.ListingID = id
	return a.store.PutSnapshot(ctx, snap)
}

// StillUp implements notice.Checker. A listing it finds up that an
// earlier notice recorded as removed was relisted: that notice is
// corrected, so a new notice does not stand beside a takedown still counted
// as a success.
func (c *stillUpChecker) StillUp(ctx context.Context, l listing.Listing) (bool, error) {
	page, _, err := c.refetch(ctx, l)
	if err != nil {
		return false, err
	}
	if page.Removed {
		return false, nil
	}
	if err := c.a.keepSnapshot(ctx, l.ID, page); err != nil {
		return false, err
	}
	if err := c.a.relisted(ctx, l.ID, "live again when re-checked for a new notice"); err != nil {
		return false, err
	}
	return true, nil
}

// relisted records that listing id is live after a notice recorded it
// removed (see store.MarkRelisted) and says which notices that corrected.
func (a *app) relisted(ctx context.Context, id listing.ID, detail string) error {
	ns, err := a.store.MarkRelisted(ctx, id, detail, time.Now().UTC())
	if err != nil {
		return err
	}
	for _, n := range ns {
		fmt.Fprintf(a.g.stderr, "notice %s: listing %s was relisted; the notice is %s again\n", n.ID, id, n.State)
	}
	if len(ns) > 0 {
		a.reindexListings(ctx, []listing.ID{id})
	}
	return nil
}

func newNoticesDraftCmd(g *globals) *cobra.Command {
	var platform, format, out, brand string
	c := &cobra.Command{
		Use:   "draft",
		Short: "Draft notices for confirmed listings (--platform dmca|alibaba|ebay-vero|amazon|dsa)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := notice.ParsePlatform(platform)
			if err != nil {
				return usageError{err}
			}
			f, err := notice.ParseFormat(format)
			if err != nil {
				return usageError{err}
			}
			return g.withApp(cmd, false, func(ctx context.Context, a *app) error {
				req := notice.DraftRequest{
					Platform: p, Format: f, Brands: noticeBrands(a.cfg), Now: time.Now().UTC(),
					Checker: a.newChecker(), MaxSnapshotAge: a.cfg.Notices.MaxSnapshotAge,
				}
				tdir := a.cfg.Notices.Templates
				if tdir == "" {
					tdir = filepath.Join(a.cfg.Dir, "templates")
				}
				if st, err := os.Stat(tdir); err == nil && st.IsDir() {
					req.Templates = os.DirFS(tdir)
				}
				if req.History, err = a.store.Notices(ctx, store.NoticeFilter{}); err != nil {
					return fmt.Errorf("read notice history: %w", err)
				}
				ls, err := allListings(ctx, a.store, func(l listing.Listing) bool {
					return l.Status == listing.StatusConfirmed && (brand == "" || strings.EqualFold(l.Brand, brand))
				})
				if err != nil {
					return fmt.Errorf("read confirmed listings: %w", err)
				}
				for _, l := range ls {
					it := notice.Item{Listing: l}
					snaps, err := a.store.Snapshots(ctx, l.ID)
					if err != nil {
						return err
					}
					if len(snaps) > 0 {
						it.Snapshot = &snaps[0]
					}
					if it.TestBuys, err = a.store.TestBuys(ctx, l.ID); err != nil {
						return err
					}
					req.Items = append(req.Items, it)
				}
				if len(req.Items) == 0 {
					fmt.Fprintln(g.stderr, "no confirmed listings to draft notices for (patrol review confirm ID)")
					return nil
				}
				res, err := notice.Draft(ctx, req)
				if err != nil {
					return fmt.Errorf("draft notices: %w", err)
				}
				for _, n := range res.Notices {
					err := a.store.PutNotice(ctx, n.Record, func(listing.Notice) store.AuditEntry {
						return store.AuditEntry{Actor: actor(), Action: "notice.draft", Target: n.ID, To: string(listing.NoticeDrafted),
							Detail: fmt.Sprintf("%s, %d listings", n.Platform, len(n.ListingIDs))}
					})
					if err != nil {
						return fmt.Errorf("record notice %s: %w", n.ID, err)
					}
				}
				for _, r := range res.Refused {
					fmt.Fprintf(g.stderr, "refused %s (%s): %s\n", r.ListingID, r.URL, r.Reason)
				}
				for _, w := range res.Warnings {
					fmt.Fprintf(g.stderr, "warning: %s\n", w)
				}
				if out != "" {
					files, err := notice.WriteDir(out, res.Notices)
					if err != nil {
						return fmt.Errorf("write notices: %w", err)
					}
					for _, f := range files {
						fmt.Fprintln(g.stdout, f)
					}
					return nil
				}
				return notice.WriteAll(g.stdout, res.Notices)
			})
		},
	}
	c.Flags().StringVar(&platform, "platform", "dmca", "dmca, alibaba, ebay-vero, amazon or dsa")
	c.Flags().StringVar(&format, "format", "text", "text, csv or json")
	c.Flags().StringVar(&out, "out", "", "write one file per notice into this directory instead of stdout")
	c.Flags().StringVar(&brand, "brand", "", "only this brand")
	return c
}

func actor() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "cli"
}

func newNoticesListCmd(g *globals) *cobra.Command {
	var asJSON bool
	var platform string
	c := &cobra.Command{
		Use:   "list",
		Short: "Notices on record with their state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withApp(cmd, false, func(_ context.Context, a *app) error {
				ns, err := a.store.Notices(cmd.Context(), store.NoticeFilter{Platform: platform})
				if err != nil {
					return fmt.Errorf("read notices: %w", err)
				}
				if asJSON {
					enc := json.NewEncoder(g.stdout)
					enc.SetEscapeHTML(false)
					for _, n := range ns {
						n.Body = ""
						if err := enc.Encode(n); err != nil {
							return err
						}
					}
					return nil
				}
				fmt.Fprintf(g.stdout, "%-24s %-10s %-10s %-14s %8s  %s\n", "ID", "PLATFORM", "BRAND", "STATE", "LISTINGS", "DRAFTED")
				for _, n := range ns {
					fmt.Fprintf(g.stdout, "%-24s %-10s %-10s %-14s %8d  %s\n", n.ID, n.Platform, truncate(n.Brand, 10), n.State, len(n.Listings), n.DraftedAt.Format(time.DateTime))
				}
				return nil
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "one JSON object per line")
	c.Flags().StringVar(&platform, "platform", "", "only this platform")
	return c
}

func newNoticesMarkSentCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "mark-sent ID...",
		Short: "Record that notices were filed with the platform",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withApp(cmd, true, func(ctx context.Context, a *app) error {
				for _, id := range args {
					n, err := a.store.MarkSent(ctx, id, actor(), time.Now().UTC(), func(n listing.Notice) store.AuditEntry {
						return store.AuditEntry{Actor: actor(), Action: "notice.sent", Target: id, From: string(listing.NoticeDrafted), To: string(n.State)}
					})
					if err != nil {
						if errors.Is(err, store.ErrNotFound) {
							return usagef("mark-sent %s: no such notice", id)
						}
						return fmt.Errorf("mark-sent %s: %w", id, err)
					}
					a.reindexListings(ctx, n.ListingIDs())
					fmt.Fprintf(g.stdout, "notice %s sent (%d listings)\n", id, len(n.Listings))
				}
				return nil
			})
		},
	}
}

// reindexListings brings the index in step after a store change of status.
func (a *app) reindexListings(ctx context.Context, ids []listing.ID) {
	if a.index == nil {
		return
	}
	var ls []listing.Listing
	for _, id := range ids {
		if l, err := a.store.Listing(ctx, id); err == nil {
			ls = append(ls, l)
		}
	}
	if err := a.index.Put(ctx, ls); err != nil {
		a.log.Warn("index update failed; repaired on next start", "err", err)
	}
	if a.ui != nil {
		a.ui.Updated(ls...)
	}
}

func newNoticesMarkCmd(g *globals) *cobra.Command {
	var rejected, counter, retracted bool
	var note string
	c := &cobra.Command{
		Use:   "mark ID --rejected|--counter-notice|--retracted",
		Short: "Record a platform's rejection, a seller's counter-notice, or a retraction",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n := 0
			for _, b := range []bool{rejected, counter, retracted} {
				if b {
					n++
				}
			}
			if n != 1 {
				return usagef("give exactly one of --rejected, --counter-notice, --retracted")
			}
			return g.withApp(cmd, true, func(ctx context.Context, a *app) error {
				id, now := args[0], time.Now().UTC()
				var rec listing.Notice
				var action string
				var err error
				audit := func(n listing.Notice) store.AuditEntry {
					return store.AuditEntry{Actor: actor(), Action: action, Target: id, To: string(n.State), Detail: note}
				}
				switch {
				case rejected:
					action = "notice.rejected"
					rec, err = a.store.MarkRejected(ctx, id, actor(), note, now, audit)
				case counter:
					action = "notice.counter_notice"
					rec, err = a.store.MarkCounterNotice(ctx, id, actor(), note, now, audit)
				default:
					action = "notice.retracted"
					rec, err = a.store.MarkRetracted(ctx, id, actor(), note, now, audit)
				}
				if err != nil {
					if errors.Is(err, store.ErrNotFound) {
						return usagef("mark %s: no such notice", id)
					}
					return fmt.Errorf("mark %s: %w", id, err)
				}
				a.reindexListings(ctx, rec.ListingIDs())
				fmt.Fprintf(g.stdout, "notice %s is now %s\n", id, rec.State)
				return nil
			})
		},
	}
	c.Flags().BoolVar(&rejected, "rejected", false, "the platform rejected the notice")
	c.Flags().BoolVar(&counter, "counter-notice", false, "the seller filed a counter-notice")
	c.Flags().BoolVar(&retracted, "retracted", false, "the brand withdrew the notice")
	c.Flags().StringVar(&note, "note", "", "why, for the record")
	return c
}

func newTestBuyCmd(g *globals) *cobra.Command {
	var tb listing.TestBuy
	var date string
	c := &cobra.Command{
		Use:   "test-buy LISTING_ID --order REF --outcome counterfeit|genuine|not_received|pending",
		Short: "Attach a test-buy record to a listing (cited by Amazon and Alibaba notices)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			tb.ListingID = listing.ID(args[0])
			if date != "" {
				d, err := time.Parse("2006-01-02", date)
				if err != nil {
					return usagef("--date %q: want 2006-01-02", date)
				}
				tb.Date = d
			}
			if tb.Analyst == "" {
				tb.Analyst = actor()
			}
			a, err := g.open(ctx, false)
			if err != nil {
				return err
			}
			defer a.close()
			got, err := a.store.AddTestBuy(ctx, tb, func(got listing.TestBuy) store.AuditEntry {
				return store.AuditEntry{Actor: got.Analyst, Action: "testbuy.add", Target: string(got.ListingID), To: string(got.Outcome), Detail: got.OrderRef}
			})
			if err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return usagef("test-buy: no listing %s", tb.ListingID)
				}
				return fmt.Errorf("record test buy: %w", err)
			}
			fmt.Fprintf(g.stdout, "test buy %s recorded for %s\n", got.ID, got.ListingID)
			return nil
		},
	}
	c.Flags().StringVar(&tb.OrderRef, "order", "", "the platform's order reference")
	c.Flags().StringVar(&date, "date", "", "order date (2006-01-02)")
	c.Flags().StringVar((*string)(&tb.Outcome), "outcome", "pending", "counterfeit, genuine, not_received or pending")
	c.Flags().StringSliceVar(&tb.Photos, "photo", nil, "photo of the item received (repeatable)")
	c.Flags().StringVar(&tb.Note, "note", "", "a note")
	return c
}

func newVerifyCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Re-check listings with sent notices; record taken down or still up",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withApp(cmd, true, func(ctx context.Context, a *app) error {
				m, err := a.matcher()
				if err != nil {
					return err
				}
				ns, err := a.store.Notices(ctx, store.NoticeFilter{States: []listing.NoticeState{listing.NoticeSent, listing.NoticeStillUp, listing.NoticeRemoved}})
				if err != nil {
					return fmt.Errorf("read sent notices: %w", err)
				}
				chk := a.newChecker()
				var removed, up, unsure, relisted int
				for _, n := range ns {
					for _, nl := range n.Listings {
						if nl.Outcome == listing.OutcomeRemoved {
							// Removed listings are not fetched again (sweeps
							// find relistings), but a notice recorded before
							// sweeps corrected notices may still count one
							// that a sweep has since found live.
							l, err := a.store.Listing(ctx, nl.ID)
							if err != nil && !errors.Is(err, store.ErrNotFound) {
								return fmt.Errorf("read listing %s: %w", nl.ID, err)
							}
							if err == nil && l.Status == listing.StatusStillUp {
								if err := a.relisted(ctx, l.ID, "found live by a sweep after it was verified removed"); err != nil {
									return fmt.Errorf("record relisting of %s: %w", l.ID, err)
								}
								relisted++
							}
							continue
						}
						l, err := a.store.Listing(ctx, nl.ID)
						if err != nil {
							return fmt.Errorf("read listing %s: %w", nl.ID, err)
						}
						page, mk, err := chk.refetch(ctx, l)
						if err != nil {
							fmt.Fprintf(g.stderr, "verify %s: %v (not recorded)\n", l.URL, err)
							unsure++
							continue
						}
						status := page.Snapshot.Status
						if page.Removed && status < 400 && mk.RemovedMarker == "" {
							status = 410
						}
						fresh := page.Listing
						m.Score(&fresh, nil)
						gone, detail := notice.Removal(status, page.Snapshot.HTML, mk.RemovedMarker, fresh.Brand != "")
						if strings.HasPrefix(detail, "inconclusive") {
							fmt.Fprintf(g.stderr, "verify %s: %s (not recorded)\n", l.URL, detail)
							unsure++
							continue
						}
						if !page.Removed {
							if err := a.keepSnapshot(ctx, l.ID, page); err != nil {
								return err
							}
						}
						_, err = a.store.MarkVerified(ctx, n.ID, l.ID, gone, detail, time.Now().UTC(), func(rec listing.Notice) store.AuditEntry {
							return store.AuditEntry{Actor: actor(), Action: "notice.verify", Target: n.ID, From: string(n.State), To: string(rec.State), Detail: string(l.ID) + ": " + detail}
						})
						if err != nil {
							return fmt.Errorf("record verification of %s: %w", l.ID, err)
						}
						a.reindexListings(ctx, []listing.ID{l.ID})
						if gone {
							removed++
						} else {
							up++
						}
						fmt.Fprintf(g.stdout, "%s %s: %s\n", l.ID, l.URL, detail)
					}
				}
				fmt.Fprintf(g.stdout, "verified: %d removed, %d still up, %d could not be checked", removed, up, unsure)
				if relisted > 0 {
					fmt.Fprintf(g.stdout, "; %d relisted after removal", relisted)
				}
				fmt.Fprintln(g.stdout)
				return nil
			})
		},
	}
}
