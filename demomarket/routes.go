package demomarket

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// PageSize is the number of results on one search page.
const PageSize = 12

const robotsTxt = `User-agent: *
Disallow: /account/
Disallow: /cart/
Allow: /
`

// Handler returns the marketplace's HTTP handler.
func (m *Market) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, robotsTxt)
	})
	mux.HandleFunc("GET /{$}", m.handleHome)
	mux.HandleFunc("GET /search", m.handleSearch)
	mux.HandleFunc("GET /item/{id}", m.handleItem)
	mux.HandleFunc("GET /img/{name}", m.handleImage)
	mux.HandleFunc("GET /seller/{name}", m.handleSeller)
	mux.HandleFunc("GET /static/site.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		fmt.Fprint(w, "body{font-family:sans-serif;margin:0}.site-header{display:flex;gap:1em;padding:1em;background:#f4f4f4}.gallery{max-width:100%}.price{font-size:1.6em;font-weight:bold}\n")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		m.render(w, http.StatusNotFound, m.tmpl.notFound, pageData{PageTitle: "Not found"})
	})
	return mux
}

// pageData is what every template's layout needs.
type pageData struct {
	PageTitle string
	Query     string
}

func (m *Market) render(w http.ResponseWriter, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// tokens splits s into lower-case runs of letters and digits.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(c rune) bool {
		return !unicode.IsLetter(c) && !unicode.IsDigit(c)
	})
}

// matches reports whether any query token is a prefix of a token of the
// listing's title or of its seller's hidden keywords.
func matches(q []string, it *Item) bool {
	words := tokens(it.Title)
	for _, k := range it.Keywords {
		words = append(words, tokens(k)...)
	}
	for _, t := range q {
		for _, w := range words {
			if strings.HasPrefix(w, t) {
				return true
			}
		}
	}
	return false
}

// Search returns the listings a query finds, in result order, removed
// ones excluded. It is what /search paginates.
func (m *Market) Search(query string) []Item {
	q := tokens(query)
	var out []Item
	if len(q) == 0 {
		return nil
	}
	for _, e := range m.entries {
		if gone, _ := m.isRemoved(e.item.ID); gone {
			continue
		}
		if matches(q, &e.item) {
			out = append(out, e.item)
		}
	}
	return out
}

type resultRow struct {
	Path, Title, PriceText, Seller, Thumb string
}

func rows(items []Item) []resultRow {
	out := make([]resultRow, len(items))
	for i, it := range items {
		out[i] = resultRow{Path: it.Path, Title: it.Title, PriceText: it.PriceText, Seller: it.Seller, Thumb: it.Images[0]}
	}
	return out
}

func searchURL(q string, page int) string {
	return "/search?" + url.Values{"q": {q}, "page": {strconv.Itoa(page)}}.Encode()
}

func (m *Market) handleSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	page := 1
	if p := r.URL.Query().Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			http.Error(w, "bad page number", http.StatusBadRequest)
			return
		}
		page = max(1, n)
	}
	all := m.Search(q)
	pages := (len(all) + PageSize - 1) / PageSize
	data := struct {
		pageData
		Items       []resultRow
		Total, Page int
		Pages       int
		Prev, Next  string
	}{pageData: pageData{PageTitle: q + " for sale", Query: q}, Total: len(all), Page: page, Pages: pages}
	if page <= pages {
		lo := (page - 1) * PageSize
		data.Items = rows(all[lo:min(len(all), lo+PageSize)])
		if page > 1 {
			data.Prev = searchURL(q, page-1)
		}
		if page < pages {
			data.Next = searchURL(q, page+1)
		}
	}
	m.render(w, http.StatusOK, m.tmpl.search, data)
}

// jsonLD is a schema.org Product; fields are in a fixed order so that pages
// are byte-for-byte deterministic.
type jsonLD struct {
	Context     string   `json:"@context"`
	Type        string   `json:"@type"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Image       []string `json:"image"`
	SKU         string   `json:"sku"`
	Brand       *ldBrand `json:"brand,omitempty"`
	Offers      ldOffer  `json:"offers"`
}

type ldBrand struct {
	Type string `json:"@type"`
	Name string `json:"name"`
}

type ldOffer struct {
	Type          string          `json:"@type"`
	URL           string          `json:"url"`
	Price         json.RawMessage `json:"price"`
	PriceCurrency string          `json:"priceCurrency"`
	Availability  string          `json:"availability"`
	ItemCondition string          `json:"itemCondition"`
	Seller        ldBrand         `json:"seller"`
}

func (e *entry) condition() string {
	if e.label.Class == ClassResale {
		return "Used"
	}
	return "New"
}

func feedback(seller string) string {
	h := fnv.New32a()
	h.Write([]byte(seller))
	return fmt.Sprintf("%.1f%%", 90+float64(h.Sum32()%100)/10)
}

func (m *Market) itemJSONLD(e *entry) (template.JS, error) {
	price := fmt.Sprintf("%.2f", e.item.Price)
	raw := json.RawMessage(strconv.Quote(price))
	if e.page.jsonNumber {
		raw = json.RawMessage(price)
	}
	ld := jsonLD{
		Context: "https://schema.org", Type: "Product",
		Name: e.item.Title, Description: e.item.Description, SKU: e.item.ID,
		Offers: ldOffer{
			Type: "Offer", URL: e.item.Path, Price: raw, PriceCurrency: e.item.Currency,
			Availability:  "https://schema.org/InStock",
			ItemCondition: "https://schema.org/" + e.condition() + "Condition",
			Seller:        ldBrand{Type: "Organization", Name: e.item.Seller},
		},
	}
	for _, img := range e.item.Images {
		ld.Image = append(ld.Image, "/img/"+img)
	}
	if e.item.Brand != "" {
		ld.Brand = &ldBrand{Type: "Brand", Name: e.item.Brand}
	}
	b, err := json.Marshal(ld)
	if err != nil {
		return "", fmt.Errorf("marshal json-ld of %s: %w", e.item.ID, err)
	}
	return template.JS(b), nil
}

func (m *Market) handleItem(w http.ResponseWriter, r *http.Request) {
	e, ok := m.byID[r.PathValue("id")]
	if !ok {
		m.render(w, http.StatusNotFound, m.tmpl.notFound, pageData{PageTitle: "Not found"})
		return
	}
	if gone, style := m.isRemoved(e.item.ID); gone {
		switch style {
		case RemovedGone:
			m.render(w, http.StatusGone, m.tmpl.removed, pageData{PageTitle: RemovedMarker})
		case RemovedNotice:
			m.render(w, http.StatusOK, m.tmpl.removed, pageData{PageTitle: RemovedMarker})
		default:
			m.render(w, http.StatusNotFound, m.tmpl.notFound, pageData{PageTitle: "Not found"})
		}
		return
	}
	ld, err := m.itemJSONLD(e)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var imgs []string
	for _, n := range e.item.Images {
		imgs = append(imgs, "/img/"+n)
	}
	shipping := "Free shipping"
	if e.label.Class == ClassCounterfeit && e.item.Price < 100 {
		shipping = "Ships from overseas in 10-20 days"
	}
	crumb := "jackets"
	if strings.Contains(strings.ToLower(e.label.Brand), "lumora") {
		crumb = "watches"
	} else if e.label.Brand == "" {
		crumb = "home"
	}
	data := struct {
		pageData
		Item        Item
		Images      []string
		Lazy        string
		PriceHidden bool
		SellerSlug  string
		Feedback    string
		Condition   string
		Shipping    string
		Crumb       string
		Paras       []string
		JSONLD      template.JS
	}{
		pageData: pageData{PageTitle: e.item.Title}, Item: e.item, Images: imgs, Lazy: e.page.lazy,
		PriceHidden: e.page.priceHidden, SellerSlug: slug(e.item.Seller), Feedback: feedback(e.item.Seller),
		Condition: e.condition(), Shipping: shipping, Crumb: crumb, Paras: strings.Split(e.item.Description, "\n"), JSONLD: ld,
	}
	m.render(w, http.StatusOK, m.tmpl.item, data)
}

func (m *Market) handleImage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	b, ok := m.ImageBytes(name)
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", contentType(name))
	w.Header().Set("Cache-Control", "public, max-age=86400")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

func (m *Market) handleSeller(w http.ResponseWriter, r *http.Request) {
	s := r.PathValue("name")
	var name string
	var items []Item
	for _, e := range m.entries {
		if slug(e.item.Seller) != s {
			continue
		}
		name = e.item.Seller
		if gone, _ := m.isRemoved(e.item.ID); !gone {
			items = append(items, e.item)
		}
	}
	if name == "" {
		m.render(w, http.StatusNotFound, m.tmpl.notFound, pageData{PageTitle: "Not found"})
		return
	}
	m.render(w, http.StatusOK, m.tmpl.seller, struct {
		pageData
		Name  string
		Items []resultRow
	}{pageData{PageTitle: name}, name, rows(items)})
}

func (m *Market) handleHome(w http.ResponseWriter, r *http.Request) {
	var items []Item
	for _, e := range m.entries {
		if len(items) == PageSize {
			break
		}
		if e.label.Class == ClassGenuine || e.label.Class == ClassUnrelated {
			if gone, _ := m.isRemoved(e.item.ID); !gone {
				items = append(items, e.item)
			}
		}
	}
	m.render(w, http.StatusOK, m.tmpl.home, struct {
		pageData
		Items []resultRow
	}{pageData{PageTitle: "Bazario"}, rows(items)})
}
