package matcher

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/patrol-dev/patrol/demomarket"
	"github.com/patrol-dev/patrol/imagehash"
	"github.com/patrol-dev/patrol/listing"
)

// demoCase is one labelled listing of the demo marketplace, hashed.
type demoCase struct {
	l     listing.Listing
	label demomarket.Label
}

// demoCorpus builds the matcher from the demo marketplace's brands, as cmd
// does from the config WriteConfig writes, and its labelled listings with
// their photos hashed.
func demoCorpus(tb testing.TB) (*Matcher, []demoCase) {
	tb.Helper()
	mk := demomarket.New(demomarket.Options{Seed: 1})
	hash := func(name string) listing.Image {
		data, ok := mk.ImageBytes(name)
		if !ok {
			tb.Fatalf("ImageBytes(%q) missing", name)
		}
		h, err := imagehash.Compute(data, imagehash.Limits{})
		if err != nil {
			return listing.Image{URL: name, HashErr: err.Error()}
		}
		img := h.Image()
		img.URL = name
		return img
	}
	var brands []Brand
	for _, b := range demomarket.Brands() {
		mb := Brand{Name: b.Name, Terms: b.Terms, MinPriceRatio: 0.5,
			AuthorizedSellers: b.AuthorizedSellers, NegativeTerms: b.NegativeTerms}
		for _, p := range b.Products {
			mb.Products = append(mb.Products, Product{Name: p.Name, MSRP: p.MSRP, Currency: "USD"})
		}
		for _, r := range b.ReferenceImages {
			mb.RefImages = append(mb.RefImages, RefImage{Name: r, Hash: hash(r)})
		}
		brands = append(brands, mb)
	}
	m, err := New(Options{Brands: brands})
	if err != nil {
		tb.Fatal(err)
	}
	var cases []demoCase
	for _, it := range mk.Items() {
		lb, _ := mk.Label(it.ID)
		l := listing.Listing{ID: listing.ID(it.ID), Marketplace: "demo", Title: it.Title, Description: it.Description,
			Price: it.Price, Currency: it.Currency, Seller: it.Seller}
		for _, name := range it.Images {
			l.Images = append(l.Images, hash(name))
		}
		cases = append(cases, demoCase{l: l, label: lb})
	}
	return m, cases
}

// confusion counts decisions against the truth "is a counterfeit".
type confusion struct{ tp, fp, fn, tn int }

func (c confusion) precision() float64 { return ratio(c.tp, c.tp+c.fp) }
func (c confusion) recall() float64    { return ratio(c.tp, c.tp+c.fn) }
func (c confusion) f1() float64 {
	p, r := c.precision(), c.recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// detection scores every labelled listing and returns the confusion
// overall, per class and per trick, plus the listings it got wrong.
func detection(m *Matcher, cases []demoCase, h History) (all confusion, byClass map[demomarket.Class]*confusion, byTrick map[string]*confusion, wrong []string) {
	byClass = map[demomarket.Class]*confusion{}
	byTrick = map[string]*confusion{}
	for _, c := range cases {
		l := c.l
		m.Score(&l, h)
		want := c.label.Class == demomarket.ClassCounterfeit
		cc := byClass[c.label.Class]
		if cc == nil {
			cc = &confusion{}
			byClass[c.label.Class] = cc
		}
		for _, k := range []*confusion{&all, cc} {
			switch {
			case want && l.Flagged:
				k.tp++
			case want:
				k.fn++
			case l.Flagged:
				k.fp++
			default:
				k.tn++
			}
		}
		for _, t := range c.label.Tricks {
			ct := byTrick[t]
			if ct == nil {
				ct = &confusion{}
				byTrick[t] = ct
			}
			if l.Flagged {
				ct.tp++
			} else {
				ct.fn++
			}
		}
		if want != l.Flagged {
			var sig []string
			for _, s := range l.Signals {
				sig = append(sig, fmt.Sprintf("%s(%.2f: %s)", s.Name, s.Weight, s.Detail))
			}
			wrong = append(wrong, fmt.Sprintf("%-11s %-8s score %.2f %q price %.0f seller %q tricks %v %v signals %s",
				c.label.Class, c.label.Brand, l.Score, l.Title, l.Price, l.Seller, c.label.Tricks, c.label.Details, strings.Join(sig, " ")))
		}
	}
	return all, byClass, byTrick, wrong
}

// BenchmarkDemo measures the matcher over the demo marketplace's labelled
// listings: detection quality (see benchDetection) and scoring throughput
// (see benchThroughput), each beside its baseline. The corpus is built
// once: hashing its photos is the slow part.
func BenchmarkDemo(b *testing.B) {
	m, cases := demoCorpus(b)
	b.Run("detection", func(b *testing.B) { benchDetection(b, m, cases) })
	benchThroughput(b, m, cases)
}

// benchDetection prints precision, recall and F1 over the demo
// marketplace's labelled listings, overall, per class and per disguise
// family, beside the baseline of flagging every listing that names a brand
// term plainly (lower-case strings.Contains).
func benchDetection(b *testing.B, m *Matcher, cases []demoCase) {
	var all confusion
	var byClass map[demomarket.Class]*confusion
	var byTrick map[string]*confusion
	var wrong []string
	for b.Loop() {
		all, byClass, byTrick, wrong = detection(m, cases, nil)
	}
	var base confusion
	for _, c := range cases {
		t := strings.ToLower(c.l.Title)
		hit := strings.Contains(t, "nordvik") || strings.Contains(t, "lumora")
		want := c.label.Class == demomarket.ClassCounterfeit
		switch {
		case want && hit:
			base.tp++
		case want:
			base.fn++
		case hit:
			base.fp++
		default:
			base.tn++
		}
	}
	b.ReportMetric(all.precision(), "precision")
	b.ReportMetric(all.recall(), "recall")
	b.ReportMetric(all.f1(), "F1")
	var sb strings.Builder
	fmt.Fprintf(&sb, "\ndetection over the demo marketplace (seed 1, %d labelled listings)\n", len(cases))
	fmt.Fprintf(&sb, "%-28s %5s %5s %5s %5s %9s %7s %6s\n", "", "TP", "FP", "FN", "TN", "precision", "recall", "F1")
	row := func(name string, c confusion) {
		fmt.Fprintf(&sb, "%-28s %5d %5d %5d %5d %9.3f %7.3f %6.3f\n", name, c.tp, c.fp, c.fn, c.tn, c.precision(), c.recall(), c.f1())
	}
	row("matcher, overall", all)
	row("baseline: brand substring", base)
	fmt.Fprintf(&sb, "per class (flagged / listings):\n")
	for _, cl := range demomarket.Classes() {
		c := byClass[cl]
		if c == nil {
			continue
		}
		n := c.tp + c.fp + c.fn + c.tn
		fmt.Fprintf(&sb, "  %-12s %3d / %3d flagged", cl, c.tp+c.fp, n)
		if cl == demomarket.ClassCounterfeit {
			fmt.Fprintf(&sb, "   recall %.3f\n", c.recall())
		} else {
			fmt.Fprintf(&sb, "   correctly passed %.3f\n", ratio(c.tn, n))
		}
	}
	fmt.Fprintf(&sb, "per disguise family (counterfeits caught / using it):\n")
	var tricks []string
	for t := range byTrick {
		tricks = append(tricks, t)
	}
	sort.Strings(tricks)
	for _, t := range tricks {
		c := byTrick[t]
		fmt.Fprintf(&sb, "  %-16s %3d / %3d   recall %.3f\n", t, c.tp, c.tp+c.fn, c.recall())
	}
	if len(wrong) > 0 {
		fmt.Fprintf(&sb, "misjudged:\n  %s\n", strings.Join(wrong, "\n  "))
	}
	fmt.Print(sb.String())
}

// benchThroughput measures scoring speed on one goroutine over the demo
// titles: the floor (lower-case each title and strings.Contains every brand
// term), Triage (every text signal, the allocation-free hot path) and Score
// with photos compared against every reference image. It prints a table of
// titles per second with the ratio to the floor.
func benchThroughput(b *testing.B, m *Matcher, cases []demoCase) {
	var terms []string
	for _, br := range m.brands {
		for _, t := range br.terms {
			terms = append(terms, strings.ToLower(t.raw))
		}
	}
	type result struct {
		name   string
		rate   float64
		allocs float64
	}
	var results []result
	run := func(name string, score func(c *demoCase) bool) {
		var r result
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			n, hits := 0, 0
			for b.Loop() {
				if score(&cases[n%len(cases)]) {
					hits++
				}
				n++
			}
			r = result{name: name, rate: float64(n) / b.Elapsed().Seconds()}
			b.ReportMetric(r.rate, "titles/s")
			if hits < 0 {
				b.Fatal("unreachable")
			}
		})
		r.allocs = testing.AllocsPerRun(200, func() {
			for i := range cases {
				score(&cases[i])
			}
		}) / float64(len(cases))
		results = append(results, r)
	}
	run("text/floor-contains", func(c *demoCase) bool {
		t := strings.ToLower(c.l.Title)
		for _, term := range terms {
			if strings.Contains(t, term) {
				return true
			}
		}
		return false
	})
	run("text/triage", func(c *demoCase) bool {
		return m.Triage(c.l.Title, c.l.Price, c.l.Currency, c.l.Seller).Flagged
	})
	run("text+images/score", func(c *demoCase) bool {
		l := c.l
		m.Score(&l, nil)
		return l.Flagged
	})
	var sb strings.Builder
	fmt.Fprintf(&sb, "\nscoring throughput, one goroutine, %d demo titles (%d brand terms)\n", len(cases), len(terms))
	fmt.Fprintf(&sb, "%-22s %12s %10s %12s\n", "", "titles/s", "× floor", "allocs/title")
	for _, r := range results {
		fmt.Fprintf(&sb, "%-22s %12.0f %10.2f %12.2f\n", r.name, r.rate, results[0].rate/r.rate, r.allocs)
	}
	fmt.Print(sb.String())
}
