package notice_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/notice"
)

var update = flag.Bool("update", false, "rewrite golden files")

var (
	now     = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	fetched = time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC)
)

const hostileTitle = "=HYPERLINK(\"http://evil.example\",\"click\") {{.Owner.Email}}{{template \"x\"}}\nSignature: /s/ Mallory"

func acme() notice.Brand {
	return notice.Brand{
		Name: "Acme",
		Owner: notice.Owner{
			Name:      "Acme Inc.",
			Email:     "legal@acme.example",
			Address:   "1 Main St, Springfield",
			Phone:     "+1 555 0100",
			Signatory: "Jane Roe, Counsel",
		},
		Trademarks: []notice.Trademark{{Mark: "ACME", Registration: "US 1234567", Jurisdiction: "US"}},
		Works:      []string{"Acme product photographs (refs/acme/trailblazer.jpg)"},
	}
}

// urlFor returns a listing URL of the shape platform p's identifiers need.
func urlFor(p notice.Platform, n int) string {
	switch p {
	case notice.EbayVeRO:
		return fmt.Sprintf("https://www.ebay.example/itm/%012d", 100000000000+n)
	case notice.Amazon:
		return fmt.Sprintf("https://www.amazon.example/dp/B0ACME%04d", n)
	}
	return fmt.Sprintf("https://market.example/listing/%d", n)
}

func sig(name, detail string, w float64) listing.Signal {
	return listing.Signal{Name: name, Detail: detail, Weight: w}
}

func item(p notice.Platform, n int, seller, title string, sigs ...listing.Signal) notice.Item {
	return notice.Item{Listing: listing.Listing{
		ID:             listing.ID(fmt.Sprintf("l%03d", n)),
		Marketplace:    "market",
		URL:            urlFor(p, n),
		Title:          title,
		Seller:         seller,
		Price:          39.5,
		Currency:       "USD",
		Brand:          "Acme",
		Status:         listing.StatusConfirmed,
		Signals:        sigs,
		SnapshotSHA256: fmt.Sprintf("%064x", n),
		FetchedAt:      fetched,
	}}
}

// fixture is the listing set every platform is drafted from: three that
// qualify (two counterfeits from one seller, one image theft), one hostile
// title that qualifies, and refusals of every kind.
func fixture(p notice.Platform) []notice.Item {
	counterfeit := item(p, 1, "Cheap Kicks", "ACME Trailblazer 3 mirror grade",
		sig("brand_term", "title has \"acme\"", 0.3), sig("suspicious_term", "\"mirror grade\"", 0.4), sig("price_below_msrp", "39.50 < 0.5 × 180", 0.2))
	counterfeit.TestBuys = []listing.TestBuy{{
		ID: "tb1", ListingID: "l001", OrderRef: "112-0000001-0000001", Date: time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC),
		Outcome: listing.TestBuyCounterfeit, Photos: []string{"testbuys/tb1-box.jpg"}, Note: "fake hologram",
	}}
	disguised := item(p, 2, "Cheap Kicks", "Acmee Trail blazer running shoe",
		sig("brand_disguised", "\"acmee\" is a variant of \"acme\"", 0.4), sig("image_match", "matches refs/acme/trailblazer.jpg (distance 4)", 0.4))
	photo := item(p, 3, "Photo Thief", "Trail running shoe",
		sig("image_match", "matches refs/acme/trailblazer.jpg (distance 2)", 0.5), sig("negative_term", "", -0.1))
	hostile := item(p, 4, "=cmd|' /C calc'!A0", hostileTitle,
		sig("suspicious_term", "+SUM(1,2)\r\n@evil", 0.4))
	resale := item(p, 5, "Honest Reseller", "ACME Trailblazer 3 used",
		sig("brand_term", "title has \"acme\"", 0.3), sig("price_below_msrp", "39.50 < 0.5 × 180", 0.2))
	authorized := item(p, 6, "Acme Official Store", "ACME Trailblazer 3 replica-proof",
		sig("suspicious_term", "\"replica\"", 0.4), sig("authorized_seller", "", -0.5))
	unconfirmed := item(p, 7, "Cheap Kicks", "ACME 1:1 copy", sig("suspicious_term", "\"1:1\"", 0.4))
	unconfirmed.Listing.Status = listing.StatusNew
	noEvidence := item(p, 8, "Cheap Kicks", "ACME AAA quality", sig("suspicious_term", "\"AAA\"", 0.4))
	noEvidence.Listing.SnapshotSHA256 = ""
	shop := item(p, 9, "Cheap Kicks", "Cheap Kicks shop", sig("repeat_infringer", "3 prior notices", 0.3))
	shop.Listing.URL = "https://market.example/shop/cheapkicks"
	return []notice.Item{counterfeit, disguised, photo, hostile, resale, authorized, unconfirmed, noEvidence, shop}
}

func request(p notice.Platform, f notice.Format) notice.DraftRequest {
	return notice.DraftRequest{
		Platform: p,
		Format:   f,
		Brands:   []notice.Brand{acme()},
		Items:    fixture(p),
		Now:      now,
	}
}

func draft(t *testing.T, req notice.DraftRequest) notice.DraftResult {
	t.Helper()
	res, err := notice.Draft(context.Background(), req)
	if err != nil {
		t.Fatalf("Draft(%s, %s) error: %v", req.Platform, req.Format, err)
	}
	return res
}

func all(t *testing.T, res notice.DraftResult) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := notice.WriteAll(&buf, res.Notices); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDraftGolden(t *testing.T) {
	for _, p := range notice.Platforms() {
		for _, f := range []notice.Format{notice.Text, notice.CSV, notice.JSON} {
			name := string(p) + "." + f.Ext()
			t.Run(name, func(t *testing.T) {
				got := all(t, draft(t, request(p, f)))
				golden := filepath.Join("testdata", name+".golden")
				if *update {
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("Draft(%s) =\n%s\nwant\n%s", name, got, want)
				}
			})
		}
	}
}

func TestDraftRefusals(t *testing.T) {
	res := draft(t, request(notice.DMCA, notice.Text))
	want := map[listing.ID]string{
		"l005": "only grounds are price or resale",
		"l006": "authorized seller",
		"l007": "only confirmed listings",
		"l008": "no evidence snapshot",
		"l009": "shop or seller page",
	}
	got := map[listing.ID]string{}
	for _, r := range res.Refused {
		got[r.ListingID] = r.Reason
	}
	for id, reason := range want {
		if !strings.Contains(got[id], reason) {
			t.Errorf("Draft refusal of %s = %q, want it to contain %q", id, got[id], reason)
		}
	}
	if len(got) != len(want) {
		t.Errorf("Draft refused %v, want exactly %d listings", got, len(want))
	}
	var cited []listing.ID
	for _, n := range res.Notices {
		cited = append(cited, n.ListingIDs...)
	}
	if fmt.Sprint(cited) != "[l001 l002 l003 l004]" {
		t.Errorf("Draft cited %v, want [l001 l002 l003 l004]", cited)
	}
}

// TestDMCAElements checks every element 17 U.S.C. §512(c)(3)(A) requires.
func TestDMCAElements(t *testing.T) {
	res := draft(t, request(notice.DMCA, notice.Text))
	if len(res.Notices) != 1 {
		t.Fatalf("Draft(dmca) gave %d notices, want 1", len(res.Notices))
	}
	body := string(res.Notices[0].Body)
	elements := []struct{ name, want string }{
		{"(i) signature of an authorized person", "/s/ Jane Roe, Counsel, for Acme Inc."},
		{"(ii) identification of the mark", "Trademark ACME, registration US 1234567 (US)"},
		{"(ii) identification of the work", "Copyrighted work: Acme product photographs"},
		{"(iii) infringing material located by URL", urlFor(notice.DMCA, 1)},
		{"(iii) infringing material located by URL", urlFor(notice.DMCA, 2)},
		{"(iii) infringing material located by URL", urlFor(notice.DMCA, 3)},
		{"(iii) infringing material located by URL", urlFor(notice.DMCA, 4)},
		{"(iv) contact address", "1 Main St, Springfield"},
		{"(iv) contact telephone", "+1 555 0100"},
		{"(iv) contact email", "legal@acme.example"},
		{"(v) good-faith statement", "good faith belief that use of the material in the manner complained of is not authorized by the copyright or trademark owner, its agent, or the law"},
		{"(vi) accuracy statement", "information in this notification is accurate"},
		{"(vi) authority under penalty of perjury", "under penalty of perjury, I am authorized to act on behalf of the owner of an exclusive right that is allegedly infringed"},
		{"evidence", "snapshot sha256 " + fmt.Sprintf("%064x", 1) + ", fetched 2026-03-01T08:30:00Z"},
	}
	for _, e := range elements {
		if !strings.Contains(body, e.want) {
			t.Errorf("Draft(dmca) lacks %s: %q not in\n%s", e.name, e.want, body)
		}
	}
}

// TestNeutralised checks that scraped text carrying template syntax, line
// breaks or spreadsheet formulas is only ever data, in every format.
func TestNeutralised(t *testing.T) {
	for _, p := range notice.Platforms() {
		t.Run(string(p)+"/text", func(t *testing.T) {
			body := string(all(t, draft(t, request(p, notice.Text))))
			if !strings.Contains(body, `=HYPERLINK("http://evil.example","click") {{.Owner.Email}}{{template "x"}}`) {
				t.Errorf("Draft(%s, text) did not keep the template syntax literally:\n%s", p, body)
			}
			for _, line := range strings.Split(body, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "Signature: /s/ Mallory") || strings.HasPrefix(strings.TrimSpace(line), "@evil") {
					t.Errorf("Draft(%s, text) let scraped text start a line: %q", p, line)
				}
			}
		})
		t.Run(string(p)+"/csv", func(t *testing.T) {
			body := all(t, draft(t, request(p, notice.CSV)))
			rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
			if err != nil {
				t.Fatalf("Draft(%s, csv) is not CSV: %v", p, err)
			}
			found := false
			for _, row := range rows {
				for _, cell := range row {
					if c := strings.TrimLeft(cell, " "); c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
						t.Errorf("Draft(%s, csv) cell %q would be evaluated as a formula", p, cell)
					}
					if strings.Contains(cell, "=HYPERLINK(") {
						found = true
						if !strings.HasPrefix(cell, "'=HYPERLINK(") {
							t.Errorf("Draft(%s, csv) cell %q not quoted", p, cell)
						}
					}
				}
			}
			if !found {
				t.Errorf("Draft(%s, csv) lost the hostile listing:\n%s", p, body)
			}
		})
		t.Run(string(p)+"/json", func(t *testing.T) {
			body := all(t, draft(t, request(p, notice.JSON)))
			var docs []struct {
				Listings []struct {
					Title  string `json:"title"`
					Seller string `json:"seller"`
				} `json:"listings"`
			}
			if err := json.Unmarshal(body, &docs); err != nil {
				t.Fatalf("Draft(%s, json) is not JSON: %v", p, err)
			}
			want := `=HYPERLINK("http://evil.example","click") {{.Owner.Email}}{{template "x"}} Signature: /s/ Mallory`
			found := false
			for _, d := range docs {
				for _, l := range d.Listings {
					if l.Title == want {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("Draft(%s, json) has no listing titled %q:\n%s", p, want, body)
			}
		})
	}
}

func TestPlatformRules(t *testing.T) {
	many := func(p notice.Platform, n int, seller func(i int) string, image func(i int) bool) []notice.Item {
		var items []notice.Item
		for i := 1; i <= n; i++ {
			s := sig("suspicious_term", "\"replica\"", 0.4)
			if image(i) {
				s = sig("image_match", "matches reference", 0.5)
			}
			items = append(items, item(p, i, seller(i), "listing", s))
		}
		return items
	}
	one := func(int) string { return "Cheap Kicks" }
	never := func(int) bool { return false }
	tests := []struct {
		name     string
		platform notice.Platform
		items    []notice.Item
		want     []int // listings per notice
		wantIP   []string
	}{
		{"amazon splits at 50", notice.Amazon, many(notice.Amazon, 120, one, never), []int{50, 50, 20}, []string{"trademark", "trademark", "trademark"}},
		{"amazon one ip type per notice", notice.Amazon, many(notice.Amazon, 6, one, func(i int) bool { return i%2 == 0 }), []int{3, 3}, []string{"copyright", "trademark"}},
		{"alibaba splits at 300", notice.Alibaba, many(notice.Alibaba, 301, one, never), []int{300, 1}, []string{"trademark", "trademark"}},
		{"alibaba per seller", notice.Alibaba, many(notice.Alibaba, 4, func(i int) string { return fmt.Sprint("seller", i%2) }, never), []int{2, 2}, []string{"trademark", "trademark"}},
		{"dmca one notice", notice.DMCA, many(notice.DMCA, 400, func(i int) string { return fmt.Sprint("seller", i%2) }, func(i int) bool { return i%2 == 0 }), []int{400}, []string{""}},
		{"ebay mixes reason codes", notice.EbayVeRO, many(notice.EbayVeRO, 4, one, func(i int) bool { return i%2 == 0 }), []int{4}, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := notice.DraftRequest{Platform: tt.platform, Format: notice.CSV, Brands: []notice.Brand{acme()}, Items: tt.items, Now: now}
			res := draft(t, req)
			var got []int
			var gotIP []string
			seen := map[string]bool{}
			for _, n := range res.Notices {
				got = append(got, len(n.ListingIDs))
				gotIP = append(gotIP, n.IPType)
				if seen[n.ID] {
					t.Errorf("Draft(%s) repeated notice ID %s", tt.name, n.ID)
				}
				seen[n.ID] = true
				if n.Parts != len(res.Notices) && tt.platform != notice.Alibaba && tt.name != "amazon one ip type per notice" {
					t.Errorf("Draft(%s) notice %s Parts = %d, want %d", tt.name, n.ID, n.Parts, len(res.Notices))
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || fmt.Sprint(gotIP) != fmt.Sprint(tt.wantIP) {
				t.Errorf("Draft(%s) notices = %v %v, want %v %v", tt.name, got, gotIP, tt.want, tt.wantIP)
			}
			if len(res.Refused) != 0 {
				t.Errorf("Draft(%s) refused %v", tt.name, res.Refused)
			}
		})
	}
}

func TestDraftIDsStable(t *testing.T) {
	a := draft(t, request(notice.Amazon, notice.JSON))
	req := request(notice.Amazon, notice.Text)
	req.Now = now.Add(time.Hour)
	b := draft(t, req)
	for i := range a.Notices {
		if a.Notices[i].ID != b.Notices[i].ID {
			t.Errorf("Draft notice %d ID = %s then %s, want the same for the same listings", i, a.Notices[i].ID, b.Notices[i].ID)
		}
	}
}

func TestPreflightFields(t *testing.T) {
	tests := []struct {
		name     string
		platform notice.Platform
		edit     func(*notice.DraftRequest)
		want     string // substring of the refusal of l001
	}{
		{"owner email", notice.DMCA, func(r *notice.DraftRequest) { r.Brands[0].Owner.Email = "" }, "owner email missing"},
		{"owner address", notice.Amazon, func(r *notice.DraftRequest) { r.Brands[0].Owner.Address = "" }, "owner address missing"},
		{"trademark registration", notice.EbayVeRO, func(r *notice.DraftRequest) { r.Brands[0].Trademarks[0].Registration = "" }, "no registered trademark"},
		{"unknown brand", notice.DMCA, func(r *notice.DraftRequest) { r.Items[0].Listing.Brand = "Other" }, "not configured"},
		{"no ebay item number", notice.EbayVeRO, func(r *notice.DraftRequest) { r.Items[0].Listing.URL = "https://www.ebay.example/sch/acme" }, "no eBay item number"},
		{"genuine test buy", notice.Amazon, func(r *notice.DraftRequest) { r.Items[0].TestBuys[0].Outcome = listing.TestBuyGenuine }, "found the item genuine"},
		{"no title", notice.DSA, func(r *notice.DraftRequest) { r.Items[0].Listing.Title = " " }, "no title"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request(tt.platform, notice.Text)
			tt.edit(&req)
			pf, err := notice.Preflight(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			for _, r := range pf.Refused {
				if r.ListingID == "l001" {
					got = r.Reason
				}
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("Preflight(%s) refusal of l001 = %q, want it to contain %q", tt.name, got, tt.want)
			}
		})
	}
	t.Run("image claim without works", func(t *testing.T) {
		req := request(notice.DMCA, notice.Text)
		req.Brands[0].Works = nil
		pf, err := notice.Preflight(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range pf.Refused {
			if r.ListingID == "l003" && strings.Contains(r.Reason, "no copyrighted work") {
				return
			}
		}
		t.Errorf("Preflight refused %v, want l003 refused for lack of a copyrighted work", pf.Refused)
	})
}

type fakeChecker map[listing.ID]error

func (f fakeChecker) StillUp(_ context.Context, l listing.Listing) (bool, error) {
	err, ok := f[l.ID]
	if !ok {
		return true, nil
	}
	return false, err
}

func TestPreflightStillUp(t *testing.T) {
	tests := []struct {
		name        string
		checker     notice.Checker
		maxAge      time.Duration
		wantRefused map[listing.ID]string
		wantWarning string
	}{
		{"fresh evidence is not re-checked", fakeChecker{"l001": nil}, 48 * time.Hour, nil, ""},
		{"stale and gone", fakeChecker{"l001": nil}, time.Hour, map[listing.ID]string{"l001": "no longer online"}, ""},
		{"stale and check failed", fakeChecker{"l002": errors.New("timeout")}, time.Hour, map[listing.ID]string{"l002": "could not re-check"}, ""},
		{"stale without checker", nil, time.Hour, nil, "not re-checked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request(notice.DMCA, notice.Text)
			req.Items = req.Items[:4]
			req.Checker = tt.checker
			req.MaxSnapshotAge = tt.maxAge
			pf, err := notice.Preflight(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if len(pf.Refused) != len(tt.wantRefused) {
				t.Errorf("Preflight(%s) refused %v, want %v", tt.name, pf.Refused, tt.wantRefused)
			}
			for _, r := range pf.Refused {
				if !strings.Contains(r.Reason, tt.wantRefused[r.ListingID]) || tt.wantRefused[r.ListingID] == "" {
					t.Errorf("Preflight(%s) refused %s: %q, want %q", tt.name, r.ListingID, r.Reason, tt.wantRefused[r.ListingID])
				}
			}
			warned := strings.Join(pf.Warnings, "\n")
			if tt.wantWarning != "" && !strings.Contains(warned, tt.wantWarning) {
				t.Errorf("Preflight(%s) warnings = %q, want %q", tt.name, warned, tt.wantWarning)
			}
		})
	}
}

func TestTestBuys(t *testing.T) {
	tests := []struct {
		platform notice.Platform
		want     bool
	}{
		{notice.Amazon, true}, {notice.Alibaba, true}, {notice.DMCA, false}, {notice.EbayVeRO, false}, {notice.DSA, false},
	}
	for _, tt := range tests {
		for _, f := range []notice.Format{notice.Text, notice.CSV, notice.JSON} {
			body := string(all(t, draft(t, request(tt.platform, f))))
			if got := strings.Contains(body, "112-0000001-0000001"); got != tt.want {
				t.Errorf("Draft(%s, %s) cites the test buy = %v, want %v", tt.platform, f, got, tt.want)
			}
		}
	}
}

func TestEbayReasonCodes(t *testing.T) {
	res := draft(t, request(notice.EbayVeRO, notice.JSON))
	var doc struct {
		Listings []struct {
			ID         string `json:"id"`
			ItemNumber string `json:"item_number"`
			ReasonCode string `json:"reason_code"`
		} `json:"listings"`
	}
	if err := json.Unmarshal(res.Notices[0].Body, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"l001": "3.1", "l002": "3.1", "l003": "2.2", "l004": "3.1"}
	for _, l := range doc.Listings {
		if l.ReasonCode != want[l.ID] || l.ItemNumber == "" {
			t.Errorf("Draft(ebay-vero) listing %s = code %q item %q, want code %q and an item number", l.ID, l.ReasonCode, l.ItemNumber, want[l.ID])
		}
	}
}

func TestTemplateOverride(t *testing.T) {
	req := request(notice.DMCA, notice.Text)
	req.Templates = fstest.MapFS{"dmca.txt.tmpl": {Data: []byte("custom {{.ID}} {{len .Listings}}\n")}}
	res := draft(t, req)
	if got := string(res.Notices[0].Body); got != "custom "+res.Notices[0].ID+" 4\n" {
		t.Errorf("Draft with override = %q", got)
	}
	req.Templates = fstest.MapFS{"dmca.txt.tmpl": {Data: []byte("{{.Nope")}}
	if _, err := notice.Draft(context.Background(), req); err == nil {
		t.Errorf("Draft with a broken template succeeded, want an error")
	}
	req.Templates = fstest.MapFS{"amazon.txt.tmpl": {Data: []byte("unused")}}
	if res := draft(t, req); !strings.Contains(string(res.Notices[0].Body), "DMCA notice") {
		t.Errorf("Draft(dmca) used another platform's override")
	}
}

func TestWriteDir(t *testing.T) {
	dir := t.TempDir()
	res := draft(t, request(notice.Alibaba, notice.CSV))
	paths, err := notice.WriteDir(dir, res.Notices)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != len(res.Notices) || len(paths) < 2 {
		t.Fatalf("WriteDir wrote %v, want one file for each of %d notices", paths, len(res.Notices))
	}
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, res.Notices[i].Body) || filepath.Base(p) != res.Notices[i].ID+".csv" {
			t.Errorf("WriteDir file %s does not hold notice %s", p, res.Notices[i].ID)
		}
	}
	var buf bytes.Buffer
	if err := notice.WriteAll(&buf, res.Notices); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "notice_id,"); n != 1 {
		t.Errorf("WriteAll(csv) has %d header rows, want 1", n)
	}
}

func TestDraftRequestErrors(t *testing.T) {
	for _, req := range []notice.DraftRequest{
		{Platform: "myspace", Format: notice.Text},
		{Platform: notice.DMCA, Format: "pdf"},
	} {
		if _, err := notice.Draft(context.Background(), req); err == nil {
			t.Errorf("Draft(%s, %s) succeeded, want an error", req.Platform, req.Format)
		}
	}
	if _, err := notice.ParsePlatform("ebay-vero"); err != nil {
		t.Errorf("ParsePlatform(ebay-vero) = %v", err)
	}
}
