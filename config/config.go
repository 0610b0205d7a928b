package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Defaults applied to keys absent from patrol.yaml.
const (
	DefaultDataDir           = "./patrol-data"
	DefaultMaxSnapshotAge    = 72 * time.Hour
	DefaultVariantQueries    = 3
	DefaultRequestsPerSecond = 1.0
	DefaultBurst             = 1
	DefaultConcurrency       = 2
	DefaultMaxPages          = 10
	DefaultTimeout           = 30 * time.Second
	DefaultMaxBodyBytes      = 8 << 20
	DefaultMinPriceRatio     = 0.5
	DefaultThreshold         = 0.6
	DefaultCurrency          = "USD"
)

// ErrInvalid is wrapped by every error that is the config's fault rather
// than the machine's, so the CLI can exit with the "bad config" code.
var ErrInvalid = errors.New("invalid config")

// Error is one mistake in a config file, located precisely enough that the
// person who wrote the file can fix it without guessing.
type Error struct {
	File string
	Line int
	// Key is the path of the offending key, e.g. "brands[0].terms".
	Key string
	Msg string
}

// Error returns "FILE:LINE: KEY: MSG", leaving out the parts that are
// unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		b.WriteString(": ")
		b.WriteString(e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) true for every config error.
func (e *Error) Unwrap() error { return ErrInvalid }

// errorList collects the errors of one file, at most one per key: a value
// that could not be decoded is not reported again as missing.
type errorList struct {
	file   string
	errs   []*Error
	byKeys map[string]bool
}

func (l *errorList) add(line int, key, format string, args ...any) {
	if l.byKeys[key] {
		return
	}
	if l.byKeys == nil {
		l.byKeys = make(map[string]bool)
	}
	l.byKeys[key] = true
	l.errs = append(l.errs, &Error{File: l.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// err joins the errors in line order, or returns nil when there are none.
func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	sort.SliceStable(l.errs, func(i, j int) bool { return l.errs[i].Line < l.errs[j].Line })
	errs := make([]error, len(l.errs))
	for i, e := range l.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// Load reads, defaults and validates the config file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse defaults and validates data, the contents of the config file at
// path. path names the file in errors, and relative paths inside the file
// are resolved against its directory. Every mistake found is reported, one
// *Error per line, joined with errors.Join.
func Parse(path string, data []byte) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolve config path: %w", err)
	}
	c := &Config{Path: path, Dir: filepath.Dir(abs)}
	errs := &errorList{file: path}
	root, err := parseYAML(data)
	if err != nil {
		errs.errs = append(errs.errs, yamlError(path, err))
		return nil, errs.err()
	}
	d := &decoder{errs: errs, seen: make(map[string]int)}
	if root != nil && !isNull(root) {
		d.decode(root, reflect.ValueOf(c).Elem(), "")
	} else if root == nil {
		root = &yaml.Node{Line: 1}
	}
	c.applyDefaults(d.seen)
	v := &validator{errs: errs, seen: d.seen, rootLine: max(root.Line, 1)}
	v.config(c)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// parseYAML returns the root node of the single document in data, or nil
// for an empty file.
func parseYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, &Error{Line: next.Line, Msg: "a second YAML document is not allowed"}
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		return doc.Content[0], nil
	}
	return nil, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns a parser error into an *Error carrying its line.
func yamlError(file string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		e.File = file
		return e
	}
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: line, Msg: m[2]}
	}
	return &Error{File: file, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// applyDefaults fills the keys absent from the file (seen holds the present
// ones) and resolves relative paths against the file's directory. An
// explicit zero is left alone for validation to reject.
func (c *Config) applyDefaults(seen map[string]int) {
	if _, ok := seen["data_dir"]; !ok {
		c.DataDir = DefaultDataDir
	}
	if c.DataDir != "" {
		c.DataDir = c.resolvePath(c.DataDir)
	}
	if _, ok := seen["notices.max_snapshot_age"]; !ok {
		c.Notices.MaxSnapshotAge = DefaultMaxSnapshotAge
	}
	if c.Notices.Templates != "" {
		c.Notices.Templates = c.resolvePath(c.Notices.Templates)
	}
	for i := range c.Brands {
		b := &c.Brands[i]
		p := fmt.Sprintf("brands[%d]", i)
		if _, ok := seen[p+".min_price_ratio"]; !ok {
			b.MinPriceRatio = DefaultMinPriceRatio
		}
		if _, ok := seen[p+".threshold"]; !ok {
			b.Threshold = DefaultThreshold
		}
		if _, ok := seen[p+".variant_queries"]; !ok {
			b.VariantQueries = DefaultVariantQueries
		}
		for j := range b.Products {
			if _, ok := seen[fmt.Sprintf("%s.products[%d].currency", p, j)]; !ok {
				b.Products[j].Currency = DefaultCurrency
			}
			b.Products[j].Currency = strings.ToUpper(b.Products[j].Currency)
		}
		for j, img := range b.ReferenceImages {
			if img != "" {
				b.ReferenceImages[j] = c.resolvePath(img)
			}
		}
	}
	for i := range c.Marketplaces {
		m := &c.Marketplaces[i]
		p := fmt.Sprintf("marketplaces[%d]", i)
		absent := func(key string) bool {
			_, ok := seen[p+"."+key]
			return !ok
		}
		if absent("allowed_domains") {
			m.AllowedDomains = nil
			if h := searchHost(m.SearchURL); h != "" {
				m.AllowedDomains = []string{h}
			}
		}
		for j, dom := range m.AllowedDomains {
			m.AllowedDomains[j] = strings.ToLower(dom)
		}
		if absent("rate.requests_per_second") {
			m.Rate.RequestsPerSecond = DefaultRequestsPerSecond
		}
		if absent("rate.burst") {
			m.Rate.Burst = DefaultBurst
		}
		if absent("concurrency") {
			m.Concurrency = DefaultConcurrency
		}
		if absent("max_pages") {
			m.MaxPages = DefaultMaxPages
		}
		if absent("respect_robots") {
			m.RespectRobots = true
		}
		if absent("timeout") {
			m.Timeout = DefaultTimeout
		}
		if absent("max_body_bytes") {
			m.MaxBodyBytes = DefaultMaxBodyBytes
		}
		if m.UserAgent == "" {
			m.UserAgent = c.UserAgent
		}
	}
}

// resolvePath makes p absolute, relative to the config file's directory.
func (c *Config) resolvePath(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(c.Dir, p)
}

// Brand returns the brand called name, compared without regard to case as
// brand names are unique that way.
func (c *Config) Brand(name string) (Brand, bool) {
	for _, b := range c.Brands {
		if strings.EqualFold(b.Name, name) {
			return b, true
		}
	}
	return Brand{}, false
}

// Marketplace returns the marketplace called name.
func (c *Config) Marketplace(name string) (Marketplace, bool) {
	for _, m := range c.Marketplaces {
		if m.Name == name {
			return m, true
		}
	}
	return Marketplace{}, false
}

// SearchURLFor returns the search page URL for query and page: {query} is
// replaced by the query-escaped query and {page} by the page number.
func (m Marketplace) SearchURLFor(query string, page int) string {
	return strings.NewReplacer(
		"{query}", url.QueryEscape(query),
		"{page}", strconv.Itoa(page),
	).Replace(m.SearchURL)
}
