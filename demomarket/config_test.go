package demomarket

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/patrol-dev/patrol/config"
)

func TestWriteConfig(t *testing.T) {
	dir := t.TempDir()
	path, err := WriteConfig(dir, "http://127.0.0.1:8088")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c config.Config
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode %s with known fields: %v\n%s", path, err, data)
	}
	if c.DataDir != "./data" || len(c.Brands) != 2 || len(c.Marketplaces) != 1 {
		t.Fatalf("config = %+v", c)
	}
	mp := c.Marketplaces[0]
	if mp.Name != "demo" || mp.SearchURL != "http://127.0.0.1:8088/search?q={query}&page={page}" || !mp.RespectRobots ||
		mp.Rate.RequestsPerSecond != 200 || mp.Rate.Burst != 20 || mp.Concurrency != 4 || mp.MaxPages != 20 {
		t.Errorf("marketplace = %+v", mp)
	}
	want := config.Selectors{ResultLink: "a.item-link", NextPage: "a.next", Title: "h1.title", Price: ".price",
		Seller: ".seller a", Images: "img.gallery@src", Description: "#desc"}
	if mp.Selectors != want {
		t.Errorf("selectors = %+v, want %+v", mp.Selectors, want)
	}
	m := shared()
	for _, b := range c.Brands {
		if len(b.Products) != 4 || b.MinPriceRatio != 0.5 || len(b.AuthorizedSellers) != 2 || b.Owner.Email == "" || len(b.Trademarks) != 1 {
			t.Errorf("brand %s = %+v", b.Name, b)
		}
		for _, p := range b.Products {
			if p.Currency != "USD" || p.MSRP <= 0 || !strings.HasPrefix(p.Name, b.Name+" ") {
				t.Errorf("product %+v", p)
			}
		}
		for _, ref := range b.ReferenceImages {
			got, err := os.ReadFile(filepath.Join(dir, ref))
			if err != nil {
				t.Fatal(err)
			}
			served, ok := m.ImageBytes(filepath.Base(ref))
			if !ok || !bytes.Equal(got, served) {
				t.Errorf("reference image %s differs from the one the market serves", ref)
			}
		}
	}
}
