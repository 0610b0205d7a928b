package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/andybalholm/cascadia"
	"github.com/robfig/cron/v3"
)

var (
	slugRE        = regexp.MustCompile(`^[a-z0-9_-]+$`)
	currencyRE    = regexp.MustCompile(`^[A-Z]{3}$`)
	placeholderRE = regexp.MustCompile(`\{[^{}]*\}`)
	attrRE        = regexp.MustCompile(`^[A-Za-z_:][-A-Za-z0-9_:.]*$`)
	hostLabelRE   = regexp.MustCompile(`^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$`)
)

// validator checks a decoded, defaulted config and reports each problem at
// the line of the key it concerns.
type validator struct {
	errs     *errorList
	seen     map[string]int
	rootLine int
}

// line returns the line of path, or of its nearest present ancestor when
// the key itself is absent (a missing "name" is reported at its brand).
func (v *validator) line(path string) int {
	for path != "" {
		if l, ok := v.seen[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return v.rootLine
}

func (v *validator) add(path, format string, args ...any) {
	v.errs.add(v.line(path), path, format, args...)
}

func (v *validator) present(path string) bool {
	_, ok := v.seen[path]
	return ok
}

func (v *validator) config(c *Config) {
	if c.DataDir == "" {
		v.add("data_dir", "must not be empty")
	}
	if c.Schedule != "" {
		if err := checkSchedule(c.Schedule); err != nil {
			v.add("schedule", `invalid schedule %q: %v (want cron syntax such as "0 */6 * * *" or a descriptor such as "@every 6h" or "@daily")`, c.Schedule, err)
		}
	}
	if c.Retention.Schedule != "" {
		if err := checkSchedule(c.Retention.Schedule); err != nil {
			v.add("retention.schedule", "invalid schedule %q: %v", c.Retention.Schedule, err)
		}
	}
	if c.Retention.DismissedAfter < 0 || c.Retention.UnchangedAfter < 0 {
		v.add("retention", "durations must not be negative")
	}
	v.alerts(&c.Alerts)
	if len(c.Brands) == 0 {
		v.add("brands", "at least one brand is required")
	}
	brandLines := make(map[string]int)
	for i := range c.Brands {
		v.brand(fmt.Sprintf("brands[%d]", i), &c.Brands[i], brandLines)
	}
	if len(c.Marketplaces) == 0 {
		v.add("marketplaces", "at least one marketplace is required")
	}
	marketLines := make(map[string]int)
	for i := range c.Marketplaces {
		v.marketplace(fmt.Sprintf("marketplaces[%d]", i), &c.Marketplaces[i], marketLines)
	}
}

func (v *validator) brand(p string, b *Brand, names map[string]int) {
	switch key := strings.ToLower(strings.TrimSpace(b.Name)); {
	case key == "":
		v.add(p+".name", "required")
	case names[key] != 0:
		v.add(p+".name", "duplicate brand name %q (first at line %d)", b.Name, names[key])
	default:
		names[key] = v.line(p + ".name")
	}
	if len(b.Terms) == 0 {
		v.add(p+".terms", "at least one search term is required")
	}
	v.nonBlank(p+".terms", b.Terms)
	v.nonBlank(p+".authorized_sellers", b.AuthorizedSellers)
	v.nonBlank(p+".negative_terms", b.NegativeTerms)
	v.nonBlank(p+".suspicious_terms", b.SuspiciousTerms)
	for j, prod := range b.Products {
		pp := fmt.Sprintf("%s.products[%d]", p, j)
		if strings.TrimSpace(prod.Name) == "" {
			v.add(pp+".name", "required")
		}
		if !v.present(pp+".msrp") && prod.MSRP == 0 {
			v.add(pp+".msrp", "required (the list price, greater than 0)")
		} else if prod.MSRP <= 0 {
			v.add(pp+".msrp", "must be greater than 0, got %g", prod.MSRP)
		}
		if !currencyRE.MatchString(prod.Currency) {
			v.add(pp+".currency", "want a 3-letter ISO 4217 code such as USD or EUR, got %q", prod.Currency)
		}
	}
	v.ratio(p+".min_price_ratio", b.MinPriceRatio)
	v.ratio(p+".threshold", b.Threshold)
	for j, img := range b.ReferenceImages {
		ip := fmt.Sprintf("%s.reference_images[%d]", p, j)
		if img == "" {
			v.add(ip, "must not be empty")
			continue
		}
		if err := checkReadableFile(img); err != nil {
			v.add(ip, "unreadable reference image: %v", err)
		}
	}
	if b.Owner.Email != "" && !validEmail(b.Owner.Email) {
		v.add(p+".owner.email", "%q is not an email address", b.Owner.Email)
	}
	for j, tm := range b.Trademarks {
		if strings.TrimSpace(tm.Mark) == "" {
			v.add(fmt.Sprintf("%s.trademarks[%d].mark", p, j), "required")
		}
	}
}

func (v *validator) marketplace(p string, m *Marketplace, names map[string]int) {
	if m.Schedule != "" && m.Schedule != "off" && m.Schedule != "-" {
		if err := checkSchedule(m.Schedule); err != nil {
			v.add(p+".schedule", "invalid schedule %q: %v (or \"off\" for on demand only)", m.Schedule, err)
		}
	}
	switch {
	case m.Name == "":
		v.add(p+".name", "required")
	case !slugRE.MatchString(m.Name):
		v.add(p+".name", "%q must be a slug of a-z, 0-9, _ and - (it becomes part of listing IDs and URLs)", m.Name)
	case names[m.Name] != 0:
		v.add(p+".name", "duplicate marketplace name %q (first at line %d)", m.Name, names[m.Name])
	default:
		names[m.Name] = v.line(p + ".name")
	}
	if m.SearchURL == "" {
		v.add(p+".search_url", "required")
	} else if msg := checkSearchURL(m.SearchURL); msg != "" {
		v.add(p+".search_url", "%s", msg)
	}
	validDomains := true
	for j, dom := range m.AllowedDomains {
		if !validHostname(dom) {
			v.add(fmt.Sprintf("%s.allowed_domains[%d]", p, j), "%q is not a hostname (no scheme, port or path)", dom)
			validDomains = false
		}
	}
	if host := searchHost(m.SearchURL); host != "" && validDomains && !slices.Contains(m.AllowedDomains, host) {
		v.add(p+".allowed_domains", "does not include %q, the host of search_url", host)
	}
	if !(m.Rate.RequestsPerSecond > 0) {
		v.add(p+".rate.requests_per_second", "must be greater than 0, got %g", m.Rate.RequestsPerSecond)
	}
	if m.Rate.Burst < 1 {
		v.add(p+".rate.burst", "must be at least 1, got %d", m.Rate.Burst)
	}
	if m.Concurrency < 1 {
		v.add(p+".concurrency", "must be at least 1, got %d", m.Concurrency)
	}
	if m.MaxPages < 1 {
		v.add(p+".max_pages", "must be at least 1, got %d", m.MaxPages)
	}
	if m.Timeout <= 0 {
		v.add(p+".timeout", "must be greater than 0, got %s", m.Timeout)
	}
	if m.MaxBodyBytes <= 0 {
		v.add(p+".max_body_bytes", "must be greater than 0, got %d", m.MaxBodyBytes)
	}
	if m.Selectors.ResultLink == "" {
		v.add(p+".selectors.result_link", "required (the CSS selector of listing links on search pages)")
	}
	for _, f := range []struct{ key, sel string }{
		{"result_link", m.Selectors.ResultLink},
		{"next_page", m.Selectors.NextPage},
		{"title", m.Selectors.Title},
		{"price", m.Selectors.Price},
		{"currency", m.Selectors.Currency},
		{"seller", m.Selectors.Seller},
		{"images", m.Selectors.Images},
		{"description", m.Selectors.Description},
	} {
		key, sel := f.key, f.sel
		if sel == "" {
			continue
		}
		if err := checkSelector(sel); err != nil {
			v.add(p+".selectors."+key, "invalid CSS selector %q: %v", sel, err)
		}
	}
}

// nonBlank reports blank entries of a list of words.
func (v *validator) nonBlank(p string, list []string) {
	for j, s := range list {
		if strings.TrimSpace(s) == "" {
			v.add(fmt.Sprintf("%s[%d]", p, j), "must not be empty")
		}
	}
}

// ratio reports a value outside (0, 1].
func (v *validator) ratio(p string, f float64) {
	if !(f > 0 && f <= 1) {
		v.add(p, "must be greater than 0 and at most 1, got %g", f)
	}
}

// checkSchedule parses s as cron does. robfig/cron panics on a time zone
// prefix without a schedule after it, so that case is rejected first.
func checkSchedule(s string) error {
	if (strings.HasPrefix(s, "TZ=") || strings.HasPrefix(s, "CRON_TZ=")) && !strings.Contains(s, " ") {
		return fmt.Errorf("time zone without a schedule")
	}
	_, err := cron.ParseStandard(s)
	return err
}

// checkSearchURL returns what is wrong with a search URL template, or "".
func checkSearchURL(tmpl string) string {
	if !strings.Contains(tmpl, "{query}") {
		return fmt.Sprintf("%q must contain {query}, where the search term goes", tmpl)
	}
	for _, ph := range placeholderRE.FindAllString(tmpl, -1) {
		if ph != "{query}" && ph != "{page}" {
			return fmt.Sprintf("unknown placeholder %s in %q (only {query} and {page} are replaced)", ph, tmpl)
		}
	}
	u, err := url.Parse(fillTemplate(tmpl))
	if err != nil {
		return fmt.Sprintf("%q is not a URL: %v", tmpl, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Sprintf("%q must be an absolute http or https URL", tmpl)
	}
	if u.Hostname() == "" {
		return fmt.Sprintf("%q has no host", tmpl)
	}
	if strings.Contains(u.Host, "patrolquery") || strings.Contains(u.Host, "{") {
		return fmt.Sprintf("%q must not put a placeholder in the host", tmpl)
	}
	return ""
}

// fillTemplate replaces the placeholders with plausible values so that the
// template can be parsed as a URL.
func fillTemplate(tmpl string) string {
	return strings.NewReplacer("{query}", "patrolquery", "{page}", "1").Replace(tmpl)
}

// searchHost returns the lower-case hostname of a search URL template, or
// "" when it has none.
func searchHost(tmpl string) string {
	u, err := url.Parse(fillTemplate(tmpl))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// validHostname reports whether s is a bare hostname or IP address.
func validHostname(s string) bool {
	if net.ParseIP(s) != nil {
		return true
	}
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if !hostLabelRE.MatchString(label) {
			return false
		}
	}
	return true
}

// SplitSelector splits "selector@attr" into the CSS selector and the
// attribute to take; attr is "" when the text is wanted. An "@" followed by
// something that is not an attribute name (as in a[href*="@"]) belongs to
// the selector.
func SplitSelector(s string) (css, attr string) {
	i := strings.LastIndex(s, "@")
	if i < 0 || !attrRE.MatchString(s[i+1:]) {
		return s, ""
	}
	return s[:i], s[i+1:]
}

func checkSelector(s string) error {
	css, _ := SplitSelector(s)
	if strings.TrimSpace(css) == "" {
		return fmt.Errorf("empty selector")
	}
	_, err := cascadia.Compile(css)
	return err
}

// checkReadableFile reports why path cannot be read as a regular file.
func checkReadableFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	return nil
}

func validEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s {
		return false
	}
	_, domain, ok := strings.Cut(s, "@")
	return ok && domain != "" && !strings.ContainsAny(s, " <>")
}

// alerts checks the alert receivers and resolves secrets given by
// environment variable name.
func (v *validator) alerts(a *Alerts) {
	for i := range a.Webhooks {
		w := &a.Webhooks[i]
		p := fmt.Sprintf("alerts.webhooks[%d]", i)
		if w.URLEnv != "" {
			w.URL = os.Getenv(w.URLEnv)
			if w.URL == "" {
				v.add(p+".url_env", "environment variable %s is empty or unset", w.URLEnv)
				continue
			}
		}
		if w.SecretEnv != "" {
			w.Secret = os.Getenv(w.SecretEnv)
		}
		u, err := url.Parse(w.URL)
		if w.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.add(p+".url", "must be an absolute http(s) URL")
		}
		switch w.Format {
		case "", "json", "slack":
		default:
			v.add(p+".format", "must be json or slack, not %q", w.Format)
		}
	}
	e := &a.Email
	if e.PasswordEnv != "" {
		e.Password = os.Getenv(e.PasswordEnv)
	}
	if e.Host != "" {
		if e.From == "" {
			v.add("alerts.email.from", "required when alerts.email.host is set")
		}
		if len(e.To) == 0 {
			v.add("alerts.email.to", "at least one recipient is required")
		}
		if e.Port < 0 || e.Port > 65535 {
			v.add("alerts.email.port", "must be a TCP port")
		}
	}
	if a.MinScore < 0 || a.MinScore > 1 {
		v.add("alerts.min_score", "must be in [0,1]")
	}
	if a.Retry.Attempts < 0 || a.Retry.Base < 0 || a.Retry.Max < 0 {
		v.add("alerts.retry", "must not be negative")
	}
}
