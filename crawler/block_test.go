package crawler

import (
	"strings"
	"testing"
)

// fieldsLower is the reference appendLowerFields must match.
func fieldsLower(s string) string {
	var b strings.Builder
	for _, f := range strings.Fields(s) {
		b.WriteString(strings.ToLower(f))
		b.WriteByte(' ')
	}
	return b.String()
}

// FuzzAppendLowerFields checks the allocation-free lower-casing of the
// block check against strings.Fields and strings.ToLower.
func FuzzAppendLowerFields(f *testing.F) {
	for _, s := range []string{"", " a  B\tc\n", "ÄÖ Ü x\u00a0y\u2003Z", "\xff\xfe AB", "İstanbul KELVIN \u212a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, trimmed := appendLowerFields(nil, s)
		if want := fieldsLower(s); string(got) != want {
			t.Fatalf("appendLowerFields(%q) = %q, want %q", s, got, want)
		}
		if want := len(strings.TrimSpace(s)); trimmed != want {
			t.Fatalf("appendLowerFields(%q) trimmed = %d, want %d", s, trimmed, want)
		}
	})
}
