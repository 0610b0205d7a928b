package crawler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/patrol-dev/patrol/listing"
)

// searchURL fills the SearchURL template for query and page.
func (c *Crawler) searchURL(query string, page int) string {
	q := url.QueryEscape(query)
	if c.tmplQueryInPath {
		q = url.PathEscape(query)
	}
	return strings.NewReplacer("{query}", q, "{page}", strconv.Itoa(page)).Replace(c.opts.SearchURL)
}

// Search walks the search result pages for query and calls found for each
// listing URL (absolute, canonical, deduplicated within this call).
//
// Pagination follows the NextPage link when the selector is set and
// matches; otherwise, when the template has {page}, the page number is
// incremented until a page yields no new results. MaxPages bounds the
// walk and a page seen before ends it. Per-page failures go to the result
// and do not stop the walk; a block page, an open circuit or an error from
// found does. The returned error is found's error or the context's.
func (c *Crawler) Search(ctx context.Context, query string, found func(url string) error) (SearchResult, error) {
	var res SearchResult
	if c.opts.SearchURL == "" {
		return res, fmt.Errorf("search %s: no search url", c.opts.Name)
	}
	hasPage := strings.Contains(c.opts.SearchURL, "{page}")
	seenPages := map[string]bool{}
	seenLinks := map[string]bool{}
	pageNum := 1
	next := c.searchURL(query, pageNum)
	for res.Pages < c.opts.MaxPages && next != "" {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		key := next
		if cu, err := listing.CanonicalURL(next); err == nil {
			key = cu
		}
		if seenPages[key] {
			c.log.Debug("pagination loop", "marketplace", c.opts.Name, "url", next)
			break
		}
		seenPages[key] = true
		res.Pages++
		pageURL := next
		next = ""
		links, nextLink, err := c.searchPage(ctx, pageURL)
		if err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			kind := "fetch"
			switch {
			case errors.Is(err, ErrBlocked):
				kind = "blocked"
				res.Blocked = true
			case errors.Is(err, ErrDisallowed):
				kind = "robots"
			}
			res.Failures = append(res.Failures, listing.Failure{URL: pageURL, Kind: kind, Error: err.Error(), At: time.Now().UTC()})
			if res.Blocked || errors.Is(err, ErrCircuitOpen) || errors.Is(err, ErrDisallowed) {
				break
			}
			// Without a next link to follow, a numbered page may still
			// lead on.
			if hasPage {
				pageNum++
				next = c.searchURL(query, pageNum)
			}
			continue
		}
		fresh := 0
		for _, l := range links {
			if seenLinks[l] {
				continue
			}
			seenLinks[l] = true
			fresh++
			if err := found(l); err != nil {
				return res, err
			}
		}
		switch {
		case nextLink != "":
			next = nextLink
		case hasPage && fresh > 0:
			pageNum++
			next = c.searchURL(query, pageNum)
		}
	}
	return res, nil
}

// searchPage fetches one search page and returns its canonical result
// links and its next-page link.
func (c *Crawler) searchPage(ctx context.Context, pageURL string) (links []string, next string, err error) {
	resp, err := c.get(ctx, pageURL, c.opts.MaxBodyBytes)
	if err != nil {
		return nil, "", err
	}
	doc, _, err := parseHTML(resp.body, resp.contentType)
	if err != nil {
		return nil, "", err
	}
	if isBlockPage(doc) {
		c.blocked()
		return nil, "", ErrBlocked
	}
	if resp.status != http.StatusOK {
		return nil, "", &statusError{code: resp.status}
	}
	base, err := url.Parse(resp.finalURL)
	if err != nil {
		return nil, "", fmt.Errorf("final url: %w", err)
	}
	links = resultLinks(doc, base, c.opts.Selectors.ResultLink)
	if c.opts.Selectors.NextPage != "" {
		if n := firstLink(doc, base, c.opts.Selectors.NextPage); n != "" {
			if u, err := url.Parse(n); err == nil && c.hostAllowed(u.Hostname()) {
				next = n
			}
		}
	}
	return links, next, nil
}

// resultLinks returns the canonical, deduplicated listing URLs that
// selector ("sel" or "sel@attr", default attribute href) finds on a search
// page, resolved against base.
func resultLinks(doc *goquery.Document, base *url.URL, selector string) []string {
	if selector == "" {
		return nil
	}
	sel, attr := splitSelector(selector)
	if attr == "" {
		attr = "href"
	}
	var out []string
	seen := map[string]bool{}
	doc.Find(sel).Each(func(_ int, s *goquery.Selection) {
		v, ok := s.Attr(attr)
		if !ok {
			// A selector naming a container: take its first link.
			v, ok = s.Find("a[href]").First().Attr("href")
			if !ok {
				return
			}
		}
		abs := resolve(base, v)
		if abs == "" {
			return
		}
		cu, err := listing.CanonicalURL(abs)
		if err != nil || seen[cu] {
			return
		}
		seen[cu] = true
		out = append(out, cu)
	})
	return out
}

// firstLink resolves the first match of selector (default attribute href).
func firstLink(doc *goquery.Document, base *url.URL, selector string) string {
	sel, attr := splitSelector(selector)
	if attr == "" {
		attr = "href"
	}
	v, ok := doc.Find(sel).First().Attr(attr)
	if !ok {
		return ""
	}
	return resolve(base, v)
}

// resolve makes ref absolute against base; "" for unusable references.
func resolve(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" || strings.HasPrefix(ref, "#") || strings.HasPrefix(strings.ToLower(ref), "javascript:") || strings.HasPrefix(strings.ToLower(ref), "data:") {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	return u.String()
}
