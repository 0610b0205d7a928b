package config

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Describe writes what was understood from the file, defaults included, so
// that `patrol config check` shows the person who wrote it what patrol will
// actually do. The output is stable: the same config always prints the same
// text.
func (c *Config) Describe(w io.Writer) error {
	p := &printer{w: w}
	p.field(0, "data dir", c.DataDir)
	if c.Schedule == "" {
		p.field(0, "schedule", "none (sweeps run only when started by hand)")
	} else {
		p.field(0, "schedule", c.Schedule)
	}
	p.field(0, "user agent", orDefault(c.UserAgent, "crawler default"))

	p.line("")
	p.line("brands (%d):", len(c.Brands))
	for _, b := range c.Brands {
		p.line("  %s", b.Name)
		p.field(2, "terms", quoteList(b.Terms))
		if len(b.Products) == 0 {
			p.field(2, "products", "none (no price signal)")
		}
		for i, prod := range b.Products {
			label := ""
			if i == 0 {
				label = "products"
			}
			p.field(2, label, fmt.Sprintf("%s: MSRP %s %s", prod.Name, formatFloat(prod.MSRP), prod.Currency))
		}
		p.field(2, "threshold", fmt.Sprintf("%s (flagged when score >= threshold)", formatFloat(b.Threshold)))
		p.field(2, "min price ratio", fmt.Sprintf("%s (a price below %s%% of MSRP is a signal)", formatFloat(b.MinPriceRatio), formatFloat(b.MinPriceRatio*100)))
		p.field(2, "variant queries", fmt.Sprintf("%d disguised spellings searched besides the terms", b.VariantQueries))
		if len(b.ReferenceImages) == 0 {
			p.field(2, "reference images", "none")
		}
		for i, img := range b.ReferenceImages {
			label := ""
			if i == 0 {
				label = "reference images"
			}
			p.field(2, label, img)
		}
		p.field(2, "authorized sellers", quoteList(b.AuthorizedSellers))
		p.field(2, "negative terms", quoteList(b.NegativeTerms))
		p.field(2, "suspicious terms", quoteList(b.SuspiciousTerms)+" (besides the built-in list)")
		p.field(2, "owner", describeOwner(b.Owner))
		if len(b.Trademarks) == 0 {
			p.field(2, "trademarks", "none")
		}
		for i, tm := range b.Trademarks {
			label := ""
			if i == 0 {
				label = "trademarks"
			}
			var parts []string
			for _, s := range []string{tm.Registration, tm.Jurisdiction} {
				if s != "" {
					parts = append(parts, s)
				}
			}
			desc := tm.Mark
			if len(parts) > 0 {
				desc += " (" + strings.Join(parts, ", ") + ")"
			}
			p.field(2, label, desc)
		}
	}

	p.line("")
	p.line("marketplaces (%d):", len(c.Marketplaces))
	for _, m := range c.Marketplaces {
		p.line("  %s", m.Name)
		p.field(2, "search url", m.SearchURL)
		p.field(2, "allowed domains", strings.Join(m.AllowedDomains, ", "))
		p.field(2, "rate", fmt.Sprintf("%s requests/s, burst %d", formatFloat(m.Rate.RequestsPerSecond), m.Rate.Burst))
		p.field(2, "concurrency", strconv.Itoa(m.Concurrency))
		p.field(2, "max pages", strconv.Itoa(m.MaxPages))
		p.field(2, "respect robots", yesNo(m.RespectRobots))
		p.field(2, "timeout", m.Timeout.String())
		p.field(2, "max body", formatBytes(m.MaxBodyBytes))
		p.field(2, "user agent", orDefault(m.UserAgent, "crawler default"))
		if m.RemovedMarker != "" {
			p.field(2, "removed marker", strconv.Quote(m.RemovedMarker))
		}
		if m.Schedule != "" {
			p.field(2, "schedule", m.Schedule)
		}
		p.line("    selectors:")
		for _, s := range []struct{ name, sel string }{
			{"result_link", m.Selectors.ResultLink},
			{"next_page", orDefault(m.Selectors.NextPage, "none: {page} counts up until a page has no results")},
			{"title", m.Selectors.Title},
			{"price", m.Selectors.Price},
			{"currency", m.Selectors.Currency},
			{"seller", m.Selectors.Seller},
			{"images", m.Selectors.Images},
			{"description", m.Selectors.Description},
		} {
			p.field(3, s.name, orDefault(s.sel, "none: structured data only"))
		}
	}
	c.describeOperations(p)
	return p.err
}

// describeOperations prints the sections beyond brands and marketplaces,
// secrets left out.
func (c *Config) describeOperations(p *printer) {
	p.line("")
	p.field(0, "notices", fmt.Sprintf("evidence older than %s is re-fetched before it is cited; templates %s",
		c.Notices.MaxSnapshotAge, orDefault(c.Notices.Templates, "built in (or <config dir>/templates)")))
	var rx []string
	for _, w := range c.Alerts.Webhooks {
		rx = append(rx, "webhook "+orDefault(w.Name, orDefault(w.Format, "json")))
	}
	if c.Alerts.Email.Host != "" {
		rx = append(rx, fmt.Sprintf("email to %s via %s", strings.Join(c.Alerts.Email.To, ", "), c.Alerts.Email.Host))
	}
	if len(rx) == 0 {
		p.field(0, "alerts", "none")
	} else {
		p.field(0, "alerts", strings.Join(rx, "; ")+fmt.Sprintf(" (min score %s)", formatFloat(c.Alerts.MinScore)))
	}
	if c.Metrics.Token != "" {
		p.field(0, "metrics", "/metrics needs a bearer token")
	} else {
		p.field(0, "metrics", "/metrics open (no token)")
	}
	if c.Retention.DismissedAfter == 0 && c.Retention.UnchangedAfter == 0 {
		p.field(0, "retention", "keep everything")
	} else {
		p.field(0, "retention", fmt.Sprintf("dismissed after %s, unchanged after %s, %s",
			orDefault(durationOrNever(c.Retention.DismissedAfter), ""), orDefault(durationOrNever(c.Retention.UnchangedAfter), ""),
			orDefault(c.Retention.Schedule, "@daily")))
	}
}

func durationOrNever(d time.Duration) string {
	if d == 0 {
		return "never"
	}
	return d.String()
}

// printer writes indented lines and keeps the first write error, so
// Describe need not check every line.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) line(format string, args ...any) {
	if p.err != nil {
		return
	}
	_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
}

// field writes "label: value" with values aligned at each depth.
func (p *printer) field(depth int, label, value string) {
	indent := strings.Repeat("  ", depth)
	if label != "" {
		label += ":"
	}
	p.line("%s%-*s %s", indent, 24-len(indent), label, value)
}

func quoteList(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func describeOwner(o Owner) string {
	var parts []string
	switch {
	case o.Name != "" && o.Email != "":
		parts = append(parts, o.Name+" <"+o.Email+">")
	case o.Name != "":
		parts = append(parts, o.Name)
	case o.Email != "":
		parts = append(parts, "<"+o.Email+">")
	}
	if o.Address != "" {
		parts = append(parts, o.Address)
	}
	if o.Phone != "" {
		parts = append(parts, o.Phone)
	}
	if len(parts) == 0 {
		return "none (notices will lack the rights holder)"
	}
	return strings.Join(parts, ", ")
}

func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
