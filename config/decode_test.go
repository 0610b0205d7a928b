package config

import (
	"reflect"
	"testing"
)

// TestFieldKinds checks that every field of the config structs has a kind
// the decoder handles, so that a field added to types.go cannot make every
// config fail to load.
func TestFieldKinds(t *testing.T) {
	seen := make(map[reflect.Type]bool)
	var walk func(path string, typ reflect.Type)
	walk = func(path string, typ reflect.Type) {
		if typ == durationType {
			return
		}
		switch typ.Kind() {
		case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
		case reflect.Slice:
			walk(path+"[]", typ.Elem())
		case reflect.Struct:
			if seen[typ] {
				return
			}
			seen[typ] = true
			for name, i := range yamlFields(typ) {
				walk(joinKey(path, name), typ.Field(i).Type)
			}
		default:
			t.Errorf("field %s has kind %s, which the decoder does not handle", path, typ.Kind())
		}
	}
	walk("", reflect.TypeFor[Config]())
	if !seen[reflect.TypeFor[Selectors]()] {
		t.Errorf("walk(Config) did not reach Selectors; yamlFields lost fields")
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"terms", "terms", 0},
		{"termz", "terms", 1},
		{"trems", "terms", 2},
		{"", "abc", 3},
		{"dta_dir", "data_dir", 1},
		{"ümlaut", "umlaut", 1},
	}
	for _, tt := range tests {
		t.Run(tt.a+"-"+tt.b, func(t *testing.T) {
			if got := editDistance(tt.a, tt.b); got != tt.want {
				t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestUnknownKeyMsg(t *testing.T) {
	fields := yamlFields(reflect.TypeFor[Rate]())
	tests := []struct {
		key, want string
	}{
		{"bursts", `unknown key (did you mean "burst"?)`},
		{"Burst", `unknown key (did you mean "burst"?)`},
		{"requests_per_sec", `unknown key (did you mean "requests_per_second"?)`},
		{"rps", `unknown key (known keys: burst, requests_per_second)`},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := unknownKeyMsg(tt.key, fields); got != tt.want {
				t.Errorf("unknownKeyMsg(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}
