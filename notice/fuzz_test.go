package notice_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/patrol-dev/patrol/notice"
)

// FuzzDraftNeutralises drafts a listing with arbitrary scraped title and
// seller and checks that no format lets them act: the CSV parses with no
// formula cell, the JSON parses, and the text keeps each listing field on
// its own line.
func FuzzDraftNeutralises(f *testing.F) {
	f.Add(hostileTitle, "=cmd|' /C calc'!A0")
	f.Add("{{define \"x\"}}{{end}}", "@SUM(A1)")
	f.Add("\u202egnp.exe\r\n-1+1", "\t=1")
	f.Add("＝HYPERLINK(1)", " +1")
	f.Fuzz(func(t *testing.T, title, seller string) {
		for _, format := range []notice.Format{notice.Text, notice.CSV, notice.JSON} {
			req := request(notice.Alibaba, format)
			req.Items = req.Items[:1]
			req.Items[0].Listing.Title = "x" + title
			req.Items[0].Listing.Seller = seller
			res, err := notice.Draft(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Notices) != 1 {
				t.Fatalf("Draft gave %d notices, want 1", len(res.Notices))
			}
			body := res.Notices[0].Body
			switch format {
			case notice.CSV:
				rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
				if err != nil {
					t.Fatalf("Draft(csv) is not CSV: %v", err)
				}
				for _, row := range rows {
					for _, cell := range row {
						c := strings.TrimLeft(cell, " ")
						if c != "" && strings.ContainsAny(c[:1], "=+-@\t\r") {
							t.Errorf("Draft(csv) cell %q would be a formula", cell)
						}
					}
				}
			case notice.JSON:
				if !json.Valid(body) {
					t.Errorf("Draft(json) is not JSON:\n%s", body)
				}
			case notice.Text:
				if n := strings.Count(string(body), "\n       Title: "); n != 1 {
					t.Errorf("Draft(text) has %d title lines, want 1", n)
				}
				if n := strings.Count(string(body), "\n/s/ "); n != 1 {
					t.Errorf("Draft(text) has %d signature lines, want 1:\n%s", n, body)
				}
			}
		}
	})
}
