package demomarket

import (
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// The shapes below mirror the keys of patrol.yaml (package config) for the
// parts WriteConfig fills in; demomarket does not import config.

type yamlConfig struct {
	DataDir      string            `yaml:"data_dir"`
	Brands       []yamlBrand       `yaml:"brands"`
	Marketplaces []yamlMarketplace `yaml:"marketplaces"`
	Schedule     string            `yaml:"schedule"`
}

type yamlBrand struct {
	Name              string          `yaml:"name"`
	Terms             []string        `yaml:"terms"`
	Products          []yamlProduct   `yaml:"products"`
	MinPriceRatio     float64         `yaml:"min_price_ratio"`
	ReferenceImages   []string        `yaml:"reference_images"`
	AuthorizedSellers []string        `yaml:"authorized_sellers"`
	NegativeTerms     []string        `yaml:"negative_terms"`
	Owner             yamlOwner       `yaml:"owner"`
	Trademarks        []yamlTrademark `yaml:"trademarks"`
}

type yamlProduct struct {
	Name     string  `yaml:"name"`
	MSRP     float64 `yaml:"msrp"`
	Currency string  `yaml:"currency"`
}

type yamlOwner struct {
	Name    string `yaml:"name"`
	Email   string `yaml:"email"`
	Address string `yaml:"address"`
}

type yamlTrademark struct {
	Mark         string `yaml:"mark"`
	Registration string `yaml:"registration"`
	Jurisdiction string `yaml:"jurisdiction"`
}

type yamlMarketplace struct {
	Name           string        `yaml:"name"`
	SearchURL      string        `yaml:"search_url"`
	AllowedDomains []string      `yaml:"allowed_domains"`
	Rate           yamlRate      `yaml:"rate"`
	Concurrency    int           `yaml:"concurrency"`
	MaxPages       int           `yaml:"max_pages"`
	RespectRobots  bool          `yaml:"respect_robots"`
	RemovedMarker  string        `yaml:"removed_marker"`
	Selectors      yamlSelectors `yaml:"selectors"`
}

type yamlRate struct {
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	Burst             int     `yaml:"burst"`
}

type yamlSelectors struct {
	ResultLink  string `yaml:"result_link"`
	NextPage    string `yaml:"next_page"`
	Title       string `yaml:"title"`
	Price       string `yaml:"price"`
	Seller      string `yaml:"seller"`
	Images      string `yaml:"images"`
	Description string `yaml:"description"`
}

// Config returns the patrol.yaml content for the demo market at baseURL
// (e.g. "http://127.0.0.1:43127"), with reference images under refs/.
func Config(baseURL string) ([]byte, error) {
	c := yamlConfig{DataDir: "./data", Schedule: "@every 6h"}
	for _, b := range Brands() {
		yb := yamlBrand{
			Name: b.Name, Terms: b.Terms, MinPriceRatio: 0.5,
			AuthorizedSellers: b.AuthorizedSellers, NegativeTerms: b.NegativeTerms,
			Owner: yamlOwner{Name: b.Owner.Name, Email: b.Owner.Email, Address: b.Owner.Address},
		}
		for _, p := range b.Products {
			yb.Products = append(yb.Products, yamlProduct{Name: p.Name, MSRP: p.MSRP, Currency: "USD"})
		}
		for _, img := range b.ReferenceImages {
			yb.ReferenceImages = append(yb.ReferenceImages, "refs/"+b.Slug+"/"+img)
		}
		for _, t := range b.Trademarks {
			yb.Trademarks = append(yb.Trademarks, yamlTrademark{Mark: t.Mark, Registration: t.Registration, Jurisdiction: t.Jurisdiction})
		}
		c.Brands = append(c.Brands, yb)
	}
	c.Marketplaces = []yamlMarketplace{{
		Name:           "demo",
		SearchURL:      baseURL + "/search?q={query}&page={page}",
		AllowedDomains: []string{"127.0.0.1"},
		Rate:           yamlRate{RequestsPerSecond: 200, Burst: 20},
		Concurrency:    4,
		MaxPages:       20,
		RespectRobots:  true,
		RemovedMarker:  RemovedMarker,
		Selectors: yamlSelectors{
			ResultLink: "a.item-link", NextPage: "a.next", Title: "h1.title", Price: ".price",
			Seller: ".seller a", Images: "img.gallery@src", Description: "#desc",
		},
	}}
	out, err := yaml.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("marshal demo config: %w", err)
	}
	header := "# patrol.yaml for the bundled demo marketplace (package demomarket).\n"
	return append([]byte(header), out...), nil
}

// WriteConfig writes dir/patrol.yaml for the demo market at baseURL and the
// brands' reference photos under dir/refs/<brand>/, and returns the
// config's path.
func WriteConfig(dir, baseURL string) (string, error) {
	data, err := Config(baseURL)
	if err != nil {
		return "", err
	}
	// The brand photos do not depend on the seed: a market holding only
	// them serves the same bytes as every full one.
	m := &Market{images: map[string]*imageEntry{}, cache: map[string][]byte{}}
	addBrandPhotos(&photoSet{m: m})
	for _, b := range Brands() {
		rd := filepath.Join(dir, "refs", b.Slug)
		if err := os.MkdirAll(rd, 0o755); err != nil {
			return "", fmt.Errorf("write demo config: %w", err)
		}
		for _, name := range b.ReferenceImages {
			img, ok := m.ImageBytes(name)
			if !ok {
				return "", fmt.Errorf("write demo config: reference image %s missing", name)
			}
			if err := os.WriteFile(filepath.Join(rd, name), img, 0o644); err != nil {
				return "", fmt.Errorf("write demo config: %w", err)
			}
		}
	}
	path := filepath.Join(dir, "patrol.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", fmt.Errorf("write demo config: %w", err)
	}
	return path, nil
}
