package matcher

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

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
// with photos compared against every reference image. Each is a
// sub-benchmark reporting titles/s by the wall clock; the table beside
// them comes from interleaved rounds instead, each timing the three in
// turn by the process's CPU time, and gives the medians: on a shared
// machine, wall-clock runs minutes apart measure the load as much as the
// code, while the ratio within a round does not.
func benchThroughput(b *testing.B, m *Matcher, cases []demoCase) {
	var terms []string
	for _, br := range m.brands {
		for _, t := range br.terms {
			terms = append(terms, strings.ToLower(t.raw))
		}
	}
	type scorer struct {
		name  string
		score func(c *demoCase) bool
	}
	scorers := []scorer{
		{"text/floor-contains", func(c *demoCase) bool {
			t := strings.ToLower(c.l.Title)
			for _, term := range terms {
				if strings.Contains(t, term) {
					return true
				}
			}
			return false
		}},
		{"text/triage", func(c *demoCase) bool {
			return m.Triage(c.l.Title, c.l.Price, c.l.Currency, c.l.Seller).Flagged
		}},
		{"text+images/score", func(c *demoCase) bool {
			l := c.l
			m.Score(&l, nil)
			return l.Flagged
		}},
	}
	hits := 0
	for _, s := range scorers {
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if s.score(&cases[n%len(cases)]) {
					hits++
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "titles/s")
		})
	}

	// Interleaved rounds: every scorer passes over all titles until it has
	// used minCPU, in an order that rotates, so that each round compares
	// the three under the same load.
	const rounds, minCPU = 15, 20 * time.Millisecond
	rates := make([][]float64, len(scorers))  // titles per CPU second
	ratios := make([][]float64, len(scorers)) // floor's rate / this rate
	for r := range rounds {
		round := make([]float64, len(scorers))
		for k := range scorers {
			i := (k + r) % len(scorers)
			n, t0 := 0, cpuTime()
			for cpuTime()-t0 < minCPU {
				for c := range cases {
					if scorers[i].score(&cases[c]) {
						hits++
					}
				}
				n += len(cases)
			}
			round[i] = float64(n) / (cpuTime() - t0).Seconds()
		}
		for i := range scorers {
			rates[i] = append(rates[i], round[i])
			ratios[i] = append(ratios[i], round[0]/round[i])
		}
	}
	if hits < 0 {
		b.Fatal("unreachable")
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "\nscoring throughput, one goroutine, %d demo titles (%d brand terms), medians of %d interleaved rounds by CPU time\n", len(cases), len(terms), rounds)
	fmt.Fprintf(&sb, "%-22s %12s %10s %12s\n", "", "titles/s", "× floor", "allocs/title")
	for i, s := range scorers {
		allocs := testing.AllocsPerRun(200, func() {
			for c := range cases {
				s.score(&cases[c])
			}
		}) / float64(len(cases))
		fmt.Fprintf(&sb, "%-22s %12.0f %10.2f %12.2f\n", s.name, median(rates[i]), median(ratios[i]), allocs)
	}
	fmt.Print(sb.String())
}

// median returns the middle of xs, which it sorts.
func median(xs []float64) float64 {
	sort.Float64s(xs)
	n := len(xs)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
