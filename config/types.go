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
	Notices   Notices   `yaml:"notices" json:"notices"`
	Alerts    Alerts    `yaml:"alerts" json:"alerts"`
	Metrics   Metrics   `yaml:"metrics" json:"metrics"`
	Retention Retention `yaml:"retention" json:"retention"`
}

// Alerts say who hears about new suspects after a sweep.
type Alerts struct {
	// MinScore: only suspects scoring at least this are alerted (default:
	// every new flagged listing).
	MinScore float64 `yaml:"min_score" json:"min_score"`
	// MaxListed bounds the suspects named in one alert (default 20).
	MaxListed int `yaml:"max_listed" json:"max_listed"`
	// BaseURL is the UI's address, for links in alerts.
	BaseURL  string    `yaml:"base_url" json:"base_url,omitempty"`
	Webhooks []Webhook `yaml:"webhooks" json:"webhooks"`
	// Email is used when its Host is set.
	Email Email      `yaml:"email" json:"email"`
	Retry AlertRetry `yaml:"retry" json:"retry"`
}

// Webhook is an HTTP receiver of alerts. Secrets may come from the
// environment (url_env, secret_env) so the config file can be shared.
type Webhook struct {
	Name      string `yaml:"name" json:"name,omitempty"`
	URL       string `yaml:"url" json:"-"`
	URLEnv    string `yaml:"url_env" json:"url_env,omitempty"`
	Format    string `yaml:"format" json:"format"` // json (default) or slack
	Secret    string `yaml:"secret" json:"-"`
	SecretEnv string `yaml:"secret_env" json:"secret_env,omitempty"`
}

// Email is an SMTP receiver of alerts.
type Email struct {
	Host        string   `yaml:"host" json:"host"`
	Port        int      `yaml:"port" json:"port"` // default 587; 465 = implicit TLS
	From        string   `yaml:"from" json:"from"`
	To          []string `yaml:"to" json:"to"`
	Username    string   `yaml:"username" json:"username,omitempty"`
	Password    string   `yaml:"password" json:"-"`
	PasswordEnv string   `yaml:"password_env" json:"password_env,omitempty"`
}

// AlertRetry bounds delivery attempts.
type AlertRetry struct {
	Attempts int           `yaml:"attempts" json:"attempts"` // default 5
	Base     time.Duration `yaml:"base" json:"base"`         // default 2s
	Max      time.Duration `yaml:"max" json:"max"`           // default 1m
}

// Metrics configures /metrics.
type Metrics struct {
	// Token, when set, is required as a bearer token on /metrics.
	Token    string `yaml:"token" json:"-"`
	TokenEnv string `yaml:"token_env" json:"token_env,omitempty"`
}

// Retention says when old listings and their snapshots are purged; zero
// durations keep everything. Evidence cited by a notice is never purged.
type Retention struct {
	DismissedAfter time.Duration `yaml:"dismissed_after" json:"dismissed_after"`
	UnchangedAfter time.Duration `yaml:"unchanged_after" json:"unchanged_after"`
	Schedule       string        `yaml:"schedule" json:"schedule,omitempty"` // default "@daily"
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
	// VariantQueries adds this many of the most common disguised spellings
	// of the brand (leetspeak, spacing, look-alikes, typos) as extra search
	// queries per sweep (default 3; 0 = only the terms).
	VariantQueries int `yaml:"variant_queries" json:"variant_queries"`
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
	// MaxRedirects bounds the redirects followed (default 5); MaxImageBytes
	// bounds one image (default 10 MiB).
	MaxRedirects  int   `yaml:"max_redirects" json:"max_redirects,omitempty"`
	MaxImageBytes int64 `yaml:"max_image_bytes" json:"max_image_bytes,omitempty"`
	// Schedule overrides the top-level schedule for this marketplace (cron
	// syntax or @every); "off" sweeps it only on demand.
	Schedule string `yaml:"schedule" json:"schedule,omitempty"`
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
