package notice_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/notice"
)

func TestRemoval(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		marker  string
		matches bool
		want    bool
	}{
		{"404", 404, "", "", true, true},
		{"410", 410, "", "", true, true},
		{"marker", 200, "<p>This listing is No Longer Available</p>", "no longer available", true, true},
		{"no longer matching", 200, "<h1>Plain shoe</h1>", "no longer available", false, true},
		{"still up", 200, "<h1>ACME replica</h1>", "no longer available", true, false},
		{"empty marker ignored", 200, "anything", " ", true, false},
		{"server error is not removal", 503, "", "", false, false},
		{"blocked is not removal", 403, "", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, detail := notice.Removal(tt.status, []byte(tt.body), tt.marker, tt.matches)
			if got != tt.want || detail == "" {
				t.Errorf("Removal(%d, %q, %q, %v) = %v, %q, want %v with a reason", tt.status, tt.body, tt.marker, tt.matches, got, detail, tt.want)
			}
		})
	}
}

func TestWriteReportGolden(t *testing.T) {
	day := 24 * time.Hour
	records := []listing.Notice{
		sent("a", "amazon", now.Add(-10*day), listing.NoticeRemoved, listing.OutcomeRemoved, listing.OutcomeRemoved),
		sent("b", "amazon", now.Add(-5*day), listing.NoticeStillUp, listing.OutcomeRemoved, listing.OutcomeStillUp),
		sent("c", "alibaba", now.Add(-2*day), listing.NoticeCounterNotice, listing.OutcomeReinstated),
		sent("d", "dmca", now.Add(-200*day), listing.NoticeRejected, listing.OutcomePending),
		sent("e", "dmca", now.Add(-20*day), listing.NoticeStillUp, listing.OutcomeRelisted),
	}
	rep := notice.Stats(records, now, 0)
	for _, f := range []notice.Format{notice.Text, notice.CSV, notice.JSON} {
		name := "report." + f.Ext()
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := notice.WriteReport(&buf, rep, f); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			switch f {
			case notice.CSV:
				if _, err := csv.NewReader(bytes.NewReader(got)).ReadAll(); err != nil {
					t.Errorf("WriteReport(csv) is not CSV: %v", err)
				}
			case notice.JSON:
				var back notice.Report
				if err := json.Unmarshal(got, &back); err != nil || len(back.Platforms) != 3 {
					t.Errorf("WriteReport(json) = %v platforms, %v; want 3", len(back.Platforms), err)
				}
			}
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
				t.Errorf("WriteReport(%s) =\n%s\nwant\n%s", f, got, want)
			}
		})
	}
}
