// Package config loads, defaults and validates patrol.yaml. Every error names
// the file, the line and the key, because a brand team edits this file by
// hand and a sweep that silently ignores a typo misses counterfeits.
package config

import "time"

// Config is the whole of patrol.yaml after defaults were applied and every
// relative path was resolved against the file's directory.
type Config struct {
	// Path is the file the config was read from; Dir its directory.
	Path string `yaml:"-" json:"-"`
	Dir  string `yaml:"-" json:"-"`

	DataDir      string        `yaml:"data_dir" json:"data_dir"`
	UserAgent    string        `yaml:"user_agent" json:"user_agent"`
	Brands       []Brand       `yaml:"brands" json:"brands"`
	Marketplaces []Marketplace `yaml:"marketplaces" json:"marketplaces"`
	Schedule     string        `yaml:"schedule" json:"schedule"`
	// Notices tunes the takedown drafter.
	Notices Notices `yaml:"notices" json:"notices"`
}

// Notices tunes how takedown notices are drafted.
type Notices struct {
	// MaxSnapshotAge: a confirmed listing whose evidence is older than this
	// is re-fetched before it goes into a notice (default 72h), so notices
	// never cite listings that are already gone.
	MaxSnapshotAge time.Duration `yaml:"max_snapshot_age" json:"max_snapshot_age"`
	// Templates is a directory whose PLATFORM.txt.tmpl files replace the
	// built-in notice templates (default: <config dir>/templates when it
	// exists).
	Templates string `yaml:"templates" json:"templates,omitempty"`
}

// Brand is a protected brand and the rules a listing is judged by.
type Brand struct {
	Name              string      `yaml:"name" json:"name"`
	Terms             []string    `yaml:"terms" json:"terms"`
	Products          []Product   `yaml:"products" json:"products"`
	MinPriceRatio     float64     `yaml:"min_price_ratio" json:"min_price_ratio"`
	ReferenceImages   []string    `yaml:"reference_images" json:"reference_images"`
	AuthorizedSellers []string    `yaml:"authorized_sellers" json:"authorized_sellers"`
	NegativeTerms     []string    `yaml:"negative_terms" json:"negative_terms"`
	SuspiciousTerms   []string    `yaml:"suspicious_terms" json:"suspicious_terms"`
	Threshold         float64     `yaml:"threshold" json:"threshold"`
	Owner             Owner       `yaml:"owner" json:"owner"`
	Trademarks        []Trademark `yaml:"trademarks" json:"trademarks"`
}

// Product is one of a brand's products with its list price, the yardstick
// for "price far below MSRP".
type Product struct {
	Name     string  `yaml:"name" json:"name"`
	MSRP     float64 `yaml:"msrp" json:"msrp"`
	Currency string  `yaml:"currency" json:"currency"`
}

// Owner is the rights holder named in takedown notices.
type Owner struct {
	Name    string `yaml:"name" json:"name"`
	Email   string `yaml:"email" json:"email"`
	Address string `yaml:"address" json:"address"`
	Phone   string `yaml:"phone" json:"phone,omitempty"`
	// Signatory is the person who signs notices (default Name).
	Signatory string `yaml:"signatory" json:"signatory,omitempty"`
	// Accounts are the rights holder's accounts with platforms whose
	// notices must name one (default: the email).
	Accounts Accounts `yaml:"accounts" json:"accounts"`
}

// Accounts names the rights holder's platform accounts.
type Accounts struct {
	Alibaba  string `yaml:"alibaba" json:"alibaba,omitempty"`
	EbayVero string `yaml:"ebay_vero" json:"ebay_vero,omitempty"`
	Amazon   string `yaml:"amazon" json:"amazon,omitempty"`
}

// Trademark is a registered mark cited in notices.
type Trademark struct {
	Mark         string `yaml:"mark" json:"mark"`
	Registration string `yaml:"registration" json:"registration"`
	Jurisdiction string `yaml:"jurisdiction" json:"jurisdiction"`
}

// Marketplace describes one site to crawl: where its search is, how fast it
// may be asked, and where on its pages the fields are.
type Marketplace struct {
	Name           string    `yaml:"name" json:"name"`
	SearchURL      string    `yaml:"search_url" json:"search_url"`
	AllowedDomains []string  `yaml:"allowed_domains" json:"allowed_domains"`
	Rate           Rate      `yaml:"rate" json:"rate"`
	Concurrency    int       `yaml:"concurrency" json:"concurrency"`
	MaxPages       int       `yaml:"max_pages" json:"max_pages"`
	RespectRobots  bool      `yaml:"respect_robots" json:"respect_robots"`
	Selectors      Selectors `yaml:"selectors" json:"selectors"`
	// UserAgent overrides the top-level user_agent for this marketplace.
	UserAgent string `yaml:"user_agent" json:"user_agent,omitempty"`
	// Timeout bounds one request (default 30s).
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// MaxBodyBytes bounds one decompressed response body (default 8 MiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes" json:"max_body_bytes"`
	// RemovedMarker is text a listing page shows once the listing was taken
	// down, for `patrol verify` (in addition to HTTP 404/410).
	RemovedMarker string `yaml:"removed_marker" json:"removed_marker,omitempty"`
}

// Rate is a token bucket shared by every request to one marketplace,
// images included.
type Rate struct {
	RequestsPerSecond float64 `yaml:"requests_per_second" json:"requests_per_second"`
	Burst             int     `yaml:"burst" json:"burst"`
}

// Selectors are CSS selectors for the fields of search and listing pages.
// "selector@attr" takes an attribute instead of the text.
type Selectors struct {
	ResultLink  string `yaml:"result_link" json:"result_link"`
	NextPage    string `yaml:"next_page" json:"next_page,omitempty"`
	Title       string `yaml:"title" json:"title,omitempty"`
	Price       string `yaml:"price" json:"price,omitempty"`
	Currency    string `yaml:"currency" json:"currency,omitempty"`
	Seller      string `yaml:"seller" json:"seller,omitempty"`
	Images      string `yaml:"images" json:"images,omitempty"`
	Description string `yaml:"description" json:"description,omitempty"`
}
