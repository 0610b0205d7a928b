package config

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder fills a value from a YAML node tree by reflection, so that the
// keys a file may use are exactly the yaml tags of the config structs: a
// field added to types.go is known at once, and a misspelt key is an error
// instead of silence.
type decoder struct {
	errs *errorList
	// seen maps the key path of every key present with a non-null value to
	// its line. Defaults use it to tell an absent key from an explicit zero,
	// validation to name the line of a bad value.
	seen map[string]int
}

var durationType = reflect.TypeFor[time.Duration]()

// decode stores n into v, whose key path is path. Errors are collected, not
// returned, so one run reports every mistake in the file.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	n = resolve(n)
	if n == nil || isNull(n) {
		return
	}
	if v.Type() == durationType {
		d.decodeDuration(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.errs.add(n.Line, path, "want a string, got %s", describeNode(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.errs.add(n.Line, path, "want true or false, got %s", describeNode(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			d.errs.add(n.Line, path, "want an integer, got %s", describeNode(n))
			return
		}
		if v.OverflowInt(i) {
			d.errs.add(n.Line, path, "%d is out of range", i)
			return
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		var f float64
		tag := n.ShortTag()
		if n.Kind != yaml.ScalarNode || (tag != "!!float" && tag != "!!int") || n.Decode(&f) != nil {
			d.errs.add(n.Line, path, "want a number, got %s", describeNode(n))
			return
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			d.errs.add(n.Line, path, "want a finite number, got %s", n.Value)
			return
		}
		v.SetFloat(f)
	default:
		// Only reached when a field of an unsupported kind is added to
		// types.go; the test of every field's kind catches it first.
		d.errs.add(n.Line, path, "cannot decode into %s", v.Type())
	}
}

func (d *decoder) decodeDuration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		d.errs.add(n.Line, path, `want a duration such as "30s" or "1m30s", got %s`, describeNode(n))
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.errs.add(n.Line, path, `want a duration such as "30s" or "1m30s", got %q`, n.Value)
		return
	}
	v.SetInt(int64(dur))
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.errs.add(n.Line, path, "want a list, got %s", describeNode(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		if r := resolve(item); r != nil && !isNull(r) {
			d.seen[p] = item.Line
		}
		d.decode(item, s.Index(i), p)
	}
	v.Set(s)
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errs.add(n.Line, path, "want a mapping of keys to values, got %s", describeNode(n))
		return
	}
	fields := yamlFields(v.Type())
	// Merge keys ("<<: *defaults") go first so that the mapping's own keys
	// override what they bring in, whatever the order in the file.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			d.merge(n.Content[i+1], v, path)
		}
	}
	firstLine := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), n.Content[i+1]
		if k == nil {
			continue
		}
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errs.add(k.Line, path, "keys must be plain words, got %s", describeNode(k))
			continue
		}
		p := joinKey(path, k.Value)
		idx, ok := fields[k.Value]
		if !ok {
			d.errs.add(k.Line, p, "%s", unknownKeyMsg(k.Value, fields))
			continue
		}
		if line, dup := firstLine[k.Value]; dup {
			d.errs.add(k.Line, p, "duplicate key (first at line %d)", line)
			continue
		}
		firstLine[k.Value] = k.Line
		if r := resolve(val); r != nil && !isNull(r) {
			d.seen[p] = k.Line
		}
		d.decode(val, v.Field(idx), p)
	}
}

// merge applies the value of a "<<" key: a mapping or a list of mappings.
func (d *decoder) merge(n *yaml.Node, v reflect.Value, path string) {
	n = resolve(n)
	if n == nil {
		return
	}
	if n.Kind == yaml.SequenceNode {
		// Earlier mappings in the list take precedence, so apply them last.
		for i := len(n.Content) - 1; i >= 0; i-- {
			d.decodeStruct(resolve(n.Content[i]), v, path)
		}
		return
	}
	d.decodeStruct(n, v, path)
}

// yamlFields maps each key a struct accepts to its field index.
func yamlFields(t reflect.Type) map[string]int {
	fields := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = i
	}
	return fields
}

// unknownKeyMsg says a key is unknown and suggests the nearest known one
// when it is a likely typo.
func unknownKeyMsg(key string, fields map[string]int) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	best, bestDist := "", math.MaxInt
	for _, name := range names {
		if dist := editDistance(strings.ToLower(key), name); dist < bestDist {
			best, bestDist = name, dist
		}
	}
	if best != "" && bestDist <= max(1, len(best)/3) {
		return fmt.Sprintf("unknown key (did you mean %q?)", best)
	}
	return fmt.Sprintf("unknown key (known keys: %s)", strings.Join(names, ", "))
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode && depth < 100; depth++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describeNode names what a node holds, for "want X, got Y" messages.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return fmt.Sprintf("the string %q", n.Value)
		case "!!int", "!!float":
			return fmt.Sprintf("the number %s", n.Value)
		case "!!bool":
			return fmt.Sprintf("the boolean %s", n.Value)
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an empty value"
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
