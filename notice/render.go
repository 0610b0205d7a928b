package notice

import (
	"bytes"
	"embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"
)

//go:embed templates/*.txt.tmpl
var builtinTemplates embed.FS

// loadTemplate returns the text template for p: PLATFORM.txt.tmpl from
// override when it has one, else the embedded one. Templates come from the
// binary or the brand's config dir, never from scraped content.
func loadTemplate(override fs.FS, p Platform) (*template.Template, error) {
	name := string(p) + ".txt.tmpl"
	var src []byte
	var err error
	if override != nil {
		src, err = fs.ReadFile(override, name)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read template %s: %w", name, err)
		}
	}
	if src == nil {
		src, err = builtinTemplates.ReadFile("templates/" + name)
		if err != nil {
			return nil, fmt.Errorf("read built-in template %s: %w", name, err)
		}
	}
	t, err := template.New(name).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", name, err)
	}
	return t, nil
}

// document is what every format renders: the notice's fields with scraped
// text already cleaned. Templates see only this data.
type document struct {
	ID           string          `json:"id"`
	Platform     string          `json:"platform"`
	Title        string          `json:"title"`
	Brand        string          `json:"brand"`
	Marketplace  string          `json:"marketplace,omitempty"`
	Seller       string          `json:"seller,omitempty"`
	IPType       string          `json:"ip_type,omitempty"`
	Part         int             `json:"part"`
	Parts        int             `json:"parts"`
	Date         string          `json:"date"`
	RightsHolder ownerView       `json:"rights_holder"`
	Trademarks   []trademarkView `json:"trademarks,omitempty"`
	Works        []string        `json:"works,omitempty"`
	GoodFaith    string          `json:"good_faith_statement"`
	Accuracy     string          `json:"accuracy_statement,omitempty"`
	Signature    string          `json:"signature"`
	Listings     []listingView   `json:"listings"`
}

type ownerView struct {
	Name      string `json:"name"`
	Email     string `json:"email"`
	Address   string `json:"address,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Signatory string `json:"signatory"`
	Account   string `json:"account,omitempty"`
}

type trademarkView struct {
	Mark         string `json:"mark"`
	Registration string `json:"registration,omitempty"`
	Jurisdiction string `json:"jurisdiction,omitempty"`
}

type listingView struct {
	N              int           `json:"-"`
	ID             string        `json:"id"`
	URL            string        `json:"url"`
	Title          string        `json:"title"`
	Seller         string        `json:"seller"`
	Price          string        `json:"price"`
	Currency       string        `json:"currency,omitempty"`
	Signals        []signalView  `json:"signals"`
	SnapshotSHA256 string        `json:"snapshot_sha256"`
	FetchedAt      string        `json:"fetched_at"`
	Infringement   string        `json:"infringement_type"`
	IPType         string        `json:"ip_type"`
	Registration   string        `json:"registration,omitempty"`
	Work           string        `json:"work,omitempty"`
	Reasoning      string        `json:"reasoning"`
	ItemNumber     string        `json:"item_number,omitempty"`
	ASIN           string        `json:"asin,omitempty"`
	ReasonCode     string        `json:"reason_code,omitempty"`
	Reason         string        `json:"reason,omitempty"`
	TestBuys       []testBuyView `json:"test_buys,omitempty"`
	Evidence       string        `json:"evidence"`
}

type signalView struct {
	Name   string `json:"name"`
	Detail string `json:"detail,omitempty"`
}

type testBuyView struct {
	OrderRef string   `json:"order_ref"`
	Date     string   `json:"date"`
	Outcome  string   `json:"outcome"`
	Photos   []string `json:"photos,omitempty"`
	Note     string   `json:"note,omitempty"`
}

// newDocument builds the view of one notice.
func newDocument(n Notice, b Brand, r rule, part []accepted, now time.Time) document {
	o := b.Owner
	d := document{
		ID:          n.ID,
		Platform:    string(n.Platform),
		Title:       r.title,
		Brand:       clean(n.Brand),
		Marketplace: clean(n.Marketplace),
		Seller:      clean(n.Seller),
		IPType:      n.IPType,
		Part:        n.Part,
		Parts:       n.Parts,
		Date:        now.Format("2006-01-02"),
		RightsHolder: ownerView{
			Name:      clean(o.Name),
			Email:     clean(o.Email),
			Address:   clean(o.Address),
			Phone:     clean(o.Phone),
			Signatory: clean(o.signatory()),
		},
		GoodFaith: r.goodFaith,
		Accuracy:  r.accuracy,
	}
	if r.needsAccount {
		d.RightsHolder.Account = clean(o.account(n.Platform))
	}
	d.Signature = "/s/ " + d.RightsHolder.Signatory
	if d.RightsHolder.Signatory != d.RightsHolder.Name {
		d.Signature += ", for " + d.RightsHolder.Name
	}
	var regs []string
	for _, tm := range b.Trademarks {
		tv := trademarkView{Mark: clean(tm.Mark), Registration: clean(tm.Registration), Jurisdiction: clean(tm.Jurisdiction)}
		d.Trademarks = append(d.Trademarks, tv)
		if tv.Registration != "" {
			regs = append(regs, tv.Registration)
		}
	}
	marks := make([]string, 0, len(d.Trademarks))
	for _, tm := range d.Trademarks {
		marks = append(marks, tm.Mark)
	}
	for _, w := range b.Works {
		d.Works = append(d.Works, clean(w))
	}
	for i, a := range part {
		l := a.item.Listing
		lv := listingView{
			N:              i + 1,
			ID:             string(l.ID),
			URL:            clean(l.URL),
			Title:          clean(l.Title),
			Seller:         clean(l.Seller),
			Price:          fmt.Sprintf("%.2f", l.Price),
			Currency:       clean(l.Currency),
			SnapshotSHA256: clean(a.snapshotSHA),
			FetchedAt:      a.fetchedAt.UTC().Format(time.RFC3339),
			Infringement:   infringementLabel(n.Platform, a.claim),
			IPType:         a.claim.ipType,
		}
		for _, s := range l.Signals {
			if s.Weight < 0 {
				continue
			}
			lv.Signals = append(lv.Signals, signalView{Name: clean(s.Name), Detail: clean(s.Detail)})
		}
		if a.claim.ipType == ipCopyright {
			lv.Work = strings.Join(d.Works, "; ")
		} else {
			lv.Registration = strings.Join(regs, "; ")
		}
		lv.Reasoning = reasoning(d.Brand, strings.Join(marks, ", "), lv)
		switch n.Platform {
		case EbayVeRO:
			rc := veroReason(a.claim)
			lv.ItemNumber = ebayItemNumber(l.URL)
			lv.ReasonCode, lv.Reason = rc.code, rc.text
		case Amazon:
			lv.ASIN = asin(l.URL)
		}
		lv.Evidence = fmt.Sprintf("snapshot sha256 %s fetched %s", lv.SnapshotSHA256, lv.FetchedAt)
		if r.testBuys {
			for _, tb := range a.item.TestBuys {
				tv := testBuyView{
					OrderRef: clean(tb.OrderRef),
					Date:     tb.Date.UTC().Format("2006-01-02"),
					Outcome:  clean(string(tb.Outcome)),
					Note:     clean(tb.Note),
				}
				for _, p := range tb.Photos {
					tv.Photos = append(tv.Photos, clean(p))
				}
				lv.TestBuys = append(lv.TestBuys, tv)
				lv.Evidence += fmt.Sprintf("; test buy order %s on %s: %s", tv.OrderRef, tv.Date, tv.Outcome)
				if len(tv.Photos) > 0 {
					lv.Evidence += " (photos: " + strings.Join(tv.Photos, ", ") + ")"
				}
			}
		}
		d.Listings = append(d.Listings, lv)
	}
	return d
}

// reasoning is the explanation of why one listing infringes, for the
// platforms that ask for one (Alibaba's reasoning, the DSA's reasons).
func reasoning(brand, marks string, lv listingView) string {
	var ev []string
	for _, s := range lv.Signals {
		if s.Detail != "" {
			ev = append(ev, s.Name+": "+s.Detail)
		} else {
			ev = append(ev, s.Name)
		}
	}
	evidence := strings.Join(ev, "; ")
	if marks == "" {
		marks = brand
	}
	switch lv.Infringement {
	case "counterfeit":
		return fmt.Sprintf("The listing offers counterfeit %s goods under the %s trademark (%s) without the rights holder's authorization. Evidence: %s.", brand, marks, lv.Registration, evidence)
	case "trademark infringement":
		return fmt.Sprintf("The listing uses the %s trademark (%s) without the rights holder's authorization. Evidence: %s.", marks, lv.Registration, evidence)
	default:
		return fmt.Sprintf("The listing uses %s's copyrighted product photographs without authorization. Evidence: %s.", brand, evidence)
	}
}

// render writes d in format f.
func render(t *template.Template, f Format, d document) ([]byte, error) {
	switch f {
	case Text:
		var buf bytes.Buffer
		if err := t.Execute(&buf, d); err != nil {
			return nil, fmt.Errorf("render text: %w", err)
		}
		return buf.Bytes(), nil
	case JSON:
		b, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("render json: %w", err)
		}
		return append(b, '\n'), nil
	case CSV:
		return renderCSV(d)
	}
	return nil, fmt.Errorf("render: unknown format %q", f)
}

// column is one column of a platform's bulk-upload sheet.
type column struct {
	header string
	value  func(d document, l listingView) string
}

func col(header string, value func(d document, l listingView) string) column {
	return column{header, value}
}

var (
	colNoticeID = col("notice_id", func(d document, _ listingView) string { return d.ID })
	colListing  = col("listing_id", func(_ document, l listingView) string { return l.ID })
	colURL      = col("listing_url", func(_ document, l listingView) string { return l.URL })
	colTitle    = col("title", func(_ document, l listingView) string { return l.Title })
	colSeller   = col("seller", func(_ document, l listingView) string { return l.Seller })
	colPrice    = col("price", func(_ document, l listingView) string { return l.Price })
	colCurrency = col("currency", func(_ document, l listingView) string { return l.Currency })
	colInfType  = col("infringement_type", func(_ document, l listingView) string { return l.Infringement })
	colSignals  = col("signals", func(_ document, l listingView) string { return joinSignals(l.Signals) })
	colSHA      = col("snapshot_sha256", func(_ document, l listingView) string { return l.SnapshotSHA256 })
	colFetched  = col("fetched_at", func(_ document, l listingView) string { return l.FetchedAt })
	colHolder   = col("rights_holder", func(d document, _ listingView) string { return d.RightsHolder.Name })
	colEmail    = col("rights_holder_email", func(d document, _ listingView) string { return d.RightsHolder.Email })
	colAccount  = col("rights_holder_account", func(d document, _ listingView) string { return d.RightsHolder.Account })
	colReg      = col("registration", func(_ document, l listingView) string { return l.Registration })
	colWork     = col("copyrighted_work", func(_ document, l listingView) string { return l.Work })
	colReason   = col("reasoning", func(_ document, l listingView) string { return l.Reasoning })
)

// csvColumns are the columns of each platform's sheet.
var csvColumns = map[Platform][]column{
	DMCA: {colNoticeID, colListing, colURL, colTitle, colSeller, colPrice, colCurrency, colInfType, colReg, colWork, colSignals, colSHA, colFetched,
		colHolder, colEmail,
		col("rights_holder_address", func(d document, _ listingView) string { return d.RightsHolder.Address }),
		col("rights_holder_phone", func(d document, _ listingView) string { return d.RightsHolder.Phone }),
		col("signature", func(d document, _ listingView) string { return d.Signature }),
	},
	Alibaba: {colNoticeID, colAccount, colHolder,
		col("ipr_type", func(_ document, l listingView) string { return l.IPType }),
		col("ipr_registration", func(_ document, l listingView) string { return firstNonEmpty(l.Registration, l.Work) }),
		colListing, colURL, colTitle, colSeller, colPrice, colCurrency, colInfType, colReason,
		col("evidence", func(_ document, l listingView) string { return l.Evidence }),
		colSignals, colSHA, colFetched,
	},
	EbayVeRO: {colNoticeID,
		col("item_number", func(_ document, l listingView) string { return l.ItemNumber }),
		col("reason_code", func(_ document, l listingView) string { return l.ReasonCode }),
		col("reason", func(_ document, l listingView) string { return l.Reason }),
		colListing, colURL, colTitle, colSeller, colPrice, colCurrency, colReg, colWork, colAccount, colHolder, colEmail,
		colSignals, colSHA, colFetched,
	},
	Amazon: {colNoticeID,
		col("asin", func(_ document, l listingView) string { return l.ASIN }),
		colListing, colURL, colTitle, colSeller, colPrice, colCurrency,
		col("ip_type", func(_ document, l listingView) string { return l.IPType }),
		colInfType,
		col("trademark_registration", func(_ document, l listingView) string { return l.Registration }),
		colWork,
		col("test_buy_order_id", func(_ document, l listingView) string {
			var refs []string
			for _, tb := range l.TestBuys {
				refs = append(refs, tb.OrderRef)
			}
			return strings.Join(refs, "; ")
		}),
		colAccount, colSignals, colSHA, colFetched,
	},
	DSA: {colNoticeID, colListing, colURL, colTitle, colSeller, colPrice, colCurrency, colInfType,
		col("reasons", func(_ document, l listingView) string { return l.Reasoning }),
		col("notifier_name", func(d document, _ listingView) string { return d.RightsHolder.Name }),
		col("notifier_email", func(d document, _ listingView) string { return d.RightsHolder.Email }),
		colSignals, colSHA, colFetched,
	},
}

// renderCSV writes one row per listing, every cell made safe for
// spreadsheets.
func renderCSV(d document) ([]byte, error) {
	cols := csvColumns[Platform(d.Platform)]
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	row := make([]string, len(cols))
	for i, c := range cols {
		row[i] = c.header
	}
	if err := w.Write(row); err != nil {
		return nil, fmt.Errorf("render csv: %w", err)
	}
	for _, l := range d.Listings {
		for i, c := range cols {
			row[i] = csvSafe(c.value(d, l))
		}
		if err := w.Write(row); err != nil {
			return nil, fmt.Errorf("render csv: %w", err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("render csv: %w", err)
	}
	return buf.Bytes(), nil
}

func joinSignals(sigs []signalView) string {
	parts := make([]string, len(sigs))
	for i, s := range sigs {
		parts[i] = s.Name
		if s.Detail != "" {
			parts[i] += ": " + s.Detail
		}
	}
	return strings.Join(parts, " | ")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// maxField bounds one scraped field in a notice; a listing title is never
// legitimately longer, and a huge one would swamp the notice.
const maxField = 500

// clean makes scraped text safe to place in a notice: control characters
// (newlines included, which could forge lines of the notice), bidirectional
// overrides and invalid UTF-8 become spaces, runs of spaces shrink to one,
// and the result is bounded.
func clean(s string) string {
	var b strings.Builder
	space := false
	n := 0
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		if r == utf8.RuneError || unicode.IsControl(r) || isBidi(r) || r == '\u2028' || r == '\u2029' || unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			n++
		}
		space = false
		if n >= maxField {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

func isBidi(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') || r == '\u200e' || r == '\u200f' || r == '\u061c'
}

// csvSafe quotes a cell that a spreadsheet would evaluate as a formula
// (starting with = + - @, a tab or a carriage return, or their full-width
// forms, also after leading spaces) by prefixing a single quote.
func csvSafe(s string) string {
	t := strings.TrimLeft(s, " ")
	if t == "" {
		return s
	}
	switch r, _ := utf8.DecodeRuneInString(t); r {
	case '=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠':
		return "'" + s
	}
	return s
}
