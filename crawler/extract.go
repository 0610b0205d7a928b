package crawler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"

	"github.com/patrol-dev/patrol/listing"
)

// Sources of extracted fields, recorded in Listing.Sources so that a wrong
// value can be traced to the rule that produced it.
const (
	SourceSelector  = "selector"
	SourceJSONLD    = "jsonld"
	SourceMicrodata = "microdata"
	SourceOpenGraph = "opengraph"
	// SourceHTML is the page's own <title> or meta description, the last
	// resort for title and description.
	SourceHTML = "html"
)

// Extract runs the extraction on an already fetched page: the configured
// selectors first, then schema.org JSON-LD, microdata and OpenGraph for
// each field they leave empty. body is decoded to UTF-8 according to
// contentType, a BOM or a meta tag. Only the extracted fields are set; the
// caller fills ID, marketplace and fetch data.
func Extract(pageURL string, body []byte, contentType string, sel Selectors) (listing.Listing, error) {
	doc, _, err := parseHTML(body, contentType)
	if err != nil {
		return listing.Listing{}, err
	}
	base, err := url.Parse(pageURL)
	if err != nil {
		return listing.Listing{}, fmt.Errorf("extract: page url: %w", err)
	}
	return extractDoc(doc, base, sel), nil
}

// parseHTML decodes body to UTF-8 (header charset, BOM, then meta prescan,
// as browsers do) and parses it once.
func parseHTML(body []byte, contentType string) (*goquery.Document, []byte, error) {
	utf8Body := body
	if enc := pageEncoding(body, contentType); enc != nil {
		if b, err := enc.NewDecoder().Bytes(body); err == nil {
			utf8Body = b
		}
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(utf8Body))
	if err != nil {
		return nil, nil, fmt.Errorf("parse html: %w", err)
	}
	return doc, utf8Body, nil
}

// pageEncoding returns the encoding body must be decoded from, or nil when
// it is UTF-8 already. x/net/html/charset only prescans the first 1024
// bytes; pages that declare their charset later (long heads are common)
// get a second, longer look before the windows-1252 default applies.
func pageEncoding(body []byte, contentType string) encoding.Encoding {
	enc, name, certain := charset.DetermineEncoding(body, contentType)
	if name == "utf-8" {
		return nil
	}
	if !certain && name == "windows-1252" {
		if utf8.Valid(body) {
			return nil
		}
		head := body[:min(len(body), 16<<10)]
		if m := metaCharset.FindSubmatch(head); m != nil {
			if e, n := charset.Lookup(string(m[1])); e != nil {
				if n == "utf-8" {
					return nil
				}
				return e
			}
		}
	}
	return enc
}

// metaCharset finds a charset declaration in a meta tag.
var metaCharset = regexp.MustCompile(`(?i)<meta[^>]+charset\s*=\s*["']?([a-z0-9_\-:.]+)`)

// splitSelector splits "sel@attr" into the selector and the attribute. An
// "@" inside brackets (an attribute selector) does not count.
func splitSelector(s string) (sel, attr string) {
	s = strings.TrimSpace(s)
	i := strings.LastIndex(s, "@")
	if i < 0 || strings.Contains(s[i:], "]") {
		return s, ""
	}
	return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:])
}

// cleanText collapses runs of white space, as a reader sees the text.
func cleanText(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// selectorValues returns the trimmed, non-empty values selector picks:
// texts, or attribute values with "@attr".
func selectorValues(doc *goquery.Document, selector string, first bool) []string {
	if selector == "" {
		return nil
	}
	sel, attr := splitSelector(selector)
	var out []string
	doc.Find(sel).EachWithBreak(func(_ int, s *goquery.Selection) bool {
		var v string
		if attr != "" {
			v, _ = s.Attr(attr)
		} else {
			v = s.Text()
		}
		if v = cleanText(v); v != "" {
			out = append(out, v)
		}
		return !(first && len(out) > 0)
	})
	return out
}

// structured is what the schema.org and OpenGraph sources say about the
// product; each field keeps the first source that had it, in the order
// JSON-LD, microdata, OpenGraph.
type structured struct {
	vals map[string]string   // field -> value
	srcs map[string]string   // field -> source
	imgs map[string][]string // source -> image URLs
}

func (s *structured) set(field, value, src string) {
	value = cleanText(value)
	if value == "" || s.vals[field] != "" {
		return
	}
	s.vals[field] = value
	s.srcs[field] = src
}

// extractDoc fills the listing fields from doc.
func extractDoc(doc *goquery.Document, base *url.URL, sel Selectors) listing.Listing {
	l := listing.Listing{Sources: map[string]string{}}
	var st *structured
	fallback := func() *structured {
		if st == nil {
			st = readStructured(doc, base)
		}
		return st
	}
	pick := func(field, selector string) string {
		if v := selectorValues(doc, selector, true); len(v) > 0 {
			l.Sources[field] = SourceSelector
			return v[0]
		}
		s := fallback()
		if v := s.vals[field]; v != "" {
			l.Sources[field] = s.srcs[field]
			return v
		}
		return ""
	}
	l.Title = pick("title", sel.Title)
	l.Description = pick("description", sel.Description)
	l.Seller = pick("seller", sel.Seller)

	// Price: the selector's text when it parses, else structured data.
	if v := selectorValues(doc, sel.Price, true); len(v) > 0 {
		if amount, cur, err := ParsePrice(v[0]); err == nil {
			l.Price, l.Currency, l.PriceText = amount, cur, v[0]
			l.Sources["price"] = SourceSelector
			if cur != "" {
				l.Sources["currency"] = SourceSelector
			}
		}
	}
	if l.Sources["price"] == "" {
		s := fallback()
		if v := s.vals["price"]; v != "" {
			if amount, cur, err := parseStructuredPrice(v); err == nil {
				l.Price, l.PriceText = amount, v
				l.Sources["price"] = s.srcs["price"]
				if cur != "" && l.Currency == "" {
					l.Currency = cur
					l.Sources["currency"] = s.srcs["price"]
				}
			}
		}
	}
	if v := selectorValues(doc, sel.Currency, true); len(v) > 0 {
		if cur := currencyOf(v[0]); cur != "" {
			l.Currency = cur
			l.Sources["currency"] = SourceSelector
		}
	}
	if l.Currency == "" {
		s := fallback()
		if v := s.vals["currency"]; v != "" {
			if cur := currencyOf(v); cur != "" {
				l.Currency = cur
				l.Sources["currency"] = s.srcs["currency"]
			}
		}
	}

	// Images.
	var imgs []string
	if sel.Images != "" {
		imgs = selectorImages(doc, base, sel.Images)
		if len(imgs) > 0 {
			l.Sources["images"] = SourceSelector
		}
	}
	if len(imgs) == 0 {
		s := fallback()
		for _, src := range []string{SourceJSONLD, SourceMicrodata, SourceOpenGraph} {
			if len(s.imgs[src]) > 0 {
				imgs = s.imgs[src]
				l.Sources["images"] = src
				break
			}
		}
	}
	for _, u := range imgs {
		l.Images = append(l.Images, listing.Image{URL: u})
	}
	return l
}

// selectorImages reads image URLs with the images selector, understanding
// lazy-loading attributes: with no attribute, or when the named one holds
// a placeholder, data-src, data-original and the largest srcset candidate
// are tried.
func selectorImages(doc *goquery.Document, base *url.URL, selector string) []string {
	sel, attr := splitSelector(selector)
	var out []string
	seen := map[string]bool{}
	doc.Find(sel).Each(func(_ int, s *goquery.Selection) {
		var v string
		if attr != "" && attr != "src" {
			v, _ = s.Attr(attr)
			if attr == "srcset" || attr == "data-srcset" {
				v = largestSrcset(v)
			}
		} else {
			v = imageURLOf(s)
		}
		if u := resolve(base, v); u != "" && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	})
	return out
}

// imageURLOf returns the real image URL of an <img>-like element.
func imageURLOf(s *goquery.Selection) string {
	for _, a := range []string{"data-src", "data-original", "data-lazy-src", "data-zoom-image"} {
		if v, ok := s.Attr(a); ok && strings.TrimSpace(v) != "" {
			return v
		}
	}
	for _, a := range []string{"srcset", "data-srcset"} {
		if v, ok := s.Attr(a); ok {
			if u := largestSrcset(v); u != "" {
				return u
			}
		}
	}
	if v, ok := s.Attr("src"); ok && !strings.HasPrefix(strings.TrimSpace(v), "data:") {
		return v
	}
	if v, ok := s.Attr("content"); ok {
		return v
	}
	if v, ok := s.Attr("href"); ok {
		return v
	}
	return ""
}

// largestSrcset picks the candidate with the largest width (w) or density
// (x) descriptor from a srcset attribute.
func largestSrcset(v string) string {
	best, bestSize := "", -1.0
	for _, cand := range strings.Split(v, ",") {
		f := strings.Fields(cand)
		if len(f) == 0 {
			continue
		}
		size := 1.0
		if len(f) > 1 {
			d := f[len(f)-1]
			if n, err := strconv.ParseFloat(d[:len(d)-1], 64); err == nil && (strings.HasSuffix(d, "w") || strings.HasSuffix(d, "x")) {
				size = n
			}
		}
		if size > bestSize {
			best, bestSize = f[0], size
		}
	}
	return best
}

// readStructured collects what JSON-LD, microdata and OpenGraph say.
func readStructured(doc *goquery.Document, base *url.URL) *structured {
	s := &structured{vals: map[string]string{}, srcs: map[string]string{}, imgs: map[string][]string{}}
	readJSONLD(doc, base, s)
	readMicrodata(doc, base, s)
	readOpenGraph(doc, base, s)
	// Last resorts for the text fields.
	s.set("title", doc.Find("title").First().Text(), SourceHTML)
	if v, ok := doc.Find(`meta[name="description"]`).Attr("content"); ok {
		s.set("description", v, SourceHTML)
	}
	return s
}

// readJSONLD reads the first schema.org Product in the page's JSON-LD,
// including @graph containers and offers (Offer, AggregateOffer, lists).
func readJSONLD(doc *goquery.Document, base *url.URL, s *structured) {
	doc.Find(`script[type="application/ld+json"]`).EachWithBreak(func(_ int, sc *goquery.Selection) bool {
		var v any
		raw := strings.TrimSpace(sc.Text())
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			// Hand-written JSON-LD often has raw line breaks in strings.
			if err := json.Unmarshal([]byte(strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(raw)), &v); err != nil {
				return true
			}
		}
		p := findProduct(v, 0)
		if p == nil {
			return true
		}
		s.set("title", str(p["name"]), SourceJSONLD)
		s.set("description", str(p["description"]), SourceJSONLD)
		for _, img := range jsonImages(p["image"]) {
			if u := resolve(base, img); u != "" {
				s.imgs[SourceJSONLD] = append(s.imgs[SourceJSONLD], u)
			}
		}
		for _, o := range asList(p["offers"]) {
			om, ok := o.(map[string]any)
			if !ok {
				continue
			}
			price := str(om["price"])
			if price == "" {
				price = str(om["lowPrice"])
			}
			if price == "" {
				if ps, ok := om["priceSpecification"].(map[string]any); ok {
					price = str(ps["price"])
					if s.vals["currency"] == "" {
						s.set("currency", str(ps["priceCurrency"]), SourceJSONLD)
					}
				}
			}
			s.set("price", price, SourceJSONLD)
			s.set("currency", str(om["priceCurrency"]), SourceJSONLD)
			if seller, ok := om["seller"].(map[string]any); ok {
				s.set("seller", str(seller["name"]), SourceJSONLD)
			} else {
				s.set("seller", str(om["seller"]), SourceJSONLD)
			}
			if s.vals["price"] != "" {
				break
			}
		}
		return false
	})
}

// findProduct finds a Product object in decoded JSON-LD.
func findProduct(v any, depth int) map[string]any {
	if depth > 6 {
		return nil
	}
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			if p := findProduct(e, depth+1); p != nil {
				return p
			}
		}
	case map[string]any:
		if isProductType(t["@type"]) {
			return t
		}
		for _, k := range []string{"@graph", "mainEntity", "itemOffered"} {
			if p := findProduct(t[k], depth+1); p != nil {
				return p
			}
		}
	}
	return nil
}

func isProductType(v any) bool {
	for _, t := range asList(v) {
		s, _ := t.(string)
		s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(s, "http://schema.org/"), "https://schema.org/"), "schema:")
		switch s {
		case "Product", "IndividualProduct", "ProductModel", "Vehicle", "Car":
			return true
		}
	}
	return false
}

func asList(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	default:
		return []any{t}
	}
}

// str renders a JSON-LD scalar as text.
func str(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case map[string]any:
		if n, ok := t["name"].(string); ok {
			return n
		}
		if n, ok := t["@value"]; ok {
			return str(n)
		}
	case []any:
		if len(t) > 0 {
			return str(t[0])
		}
	}
	return ""
}

// jsonImages reads schema.org image: a URL, a list, or ImageObjects.
func jsonImages(v any) []string {
	var out []string
	for _, e := range asList(v) {
		switch t := e.(type) {
		case string:
			out = append(out, t)
		case map[string]any:
			if u := str(t["contentUrl"]); u != "" {
				out = append(out, u)
			} else if u := str(t["url"]); u != "" {
				out = append(out, u)
			}
		}
	}
	return out
}

// readMicrodata reads itemprop values that belong to a Product (or its
// Offer): an itemprop inside a nested item such as a breadcrumb's ListItem
// names that item, not the product.
func readMicrodata(doc *goquery.Document, base *url.URL, s *structured) {
	props := doc.Find("[itemprop]")
	if props.Length() == 0 {
		return
	}
	hasProduct := doc.Find(`[itemtype*="schema.org/Product"],[itemtype*="schema.org/IndividualProduct"]`).Length() > 0
	props.Each(func(_ int, el *goquery.Selection) {
		owner := el.Parent().Closest("[itemscope]")
		if hasProduct || owner.Length() > 0 {
			t, _ := owner.Attr("itemtype")
			if !strings.Contains(t, "schema.org/Product") && !strings.Contains(t, "schema.org/IndividualProduct") &&
				!strings.Contains(t, "schema.org/Offer") && !strings.Contains(t, "schema.org/AggregateOffer") {
				return
			}
		}
		value := func() string {
			if v, ok := el.Attr("content"); ok {
				return v
			}
			return el.Text()
		}
		for _, name := range strings.Fields(el.AttrOr("itemprop", "")) {
			switch name {
			case "price", "lowPrice":
				s.set("price", value(), SourceMicrodata)
			case "priceCurrency":
				s.set("currency", value(), SourceMicrodata)
			case "name":
				if _, nested := el.Attr("itemscope"); !nested {
					s.set("title", value(), SourceMicrodata)
				}
			case "description":
				s.set("description", value(), SourceMicrodata)
			case "image":
				if u := resolve(base, imageURLOf(el)); u != "" {
					s.imgs[SourceMicrodata] = append(s.imgs[SourceMicrodata], u)
				}
			}
		}
	})
}

// readOpenGraph reads og: and product: meta tags.
func readOpenGraph(doc *goquery.Document, base *url.URL, s *structured) {
	doc.Find("meta[property],meta[name]").Each(func(_ int, m *goquery.Selection) {
		p, ok := m.Attr("property")
		if !ok {
			p, _ = m.Attr("name")
		}
		v, _ := m.Attr("content")
		switch strings.ToLower(p) {
		case "og:title":
			s.set("title", v, SourceOpenGraph)
		case "og:description":
			s.set("description", v, SourceOpenGraph)
		case "product:price:amount", "og:price:amount":
			s.set("price", v, SourceOpenGraph)
		case "product:price:currency", "og:price:currency":
			s.set("currency", v, SourceOpenGraph)
		case "og:image", "og:image:url", "og:image:secure_url":
			if u := resolve(base, v); u != "" {
				for _, have := range s.imgs[SourceOpenGraph] {
					if have == u {
						return
					}
				}
				s.imgs[SourceOpenGraph] = append(s.imgs[SourceOpenGraph], u)
			}
		}
	})
}

// parseStructuredPrice reads a price from structured data, which is
// usually machine-formatted ("1.299" is one point three there), before
// falling back to ParsePrice for the hand-formatted rest ("48,00").
func parseStructuredPrice(v string) (float64, string, error) {
	if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && !math.IsInf(f, 0) {
		return f, "", nil
	}
	return ParsePrice(v)
}
