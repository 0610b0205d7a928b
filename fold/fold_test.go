package fold

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	tests := []struct {
		family, in, want string
		flags            Flags // flags the first token must carry
	}{
		{"plain", "Lumora Halo 3", "lumora halo 3", 0},
		{"case", "LUMORA", "lumora", 0},
		{"spaces", "  lumora \t\n halo  ", "lumora halo", 0},
		{"punctuation", "Lumora™ - Halo!!", "lumora halo", 0},
		{"diacritic", "Lumorá Hèrmes", "lumora hermes", Diacritic},
		{"stroke", "Lumøra", "lumora", Diacritic},
		{"sharp s", "Straße", "strasse", Diacritic},
		{"cyrillic", "Lumоra", "lumora", Homoglyph},
		{"cyrillic upper", "LUMОRА", "lumora", Homoglyph},
		{"all cyrillic", "асме", "acme", Homoglyph},
		{"greek", "ΝΙΚΕ", "nike", Homoglyph},
		{"russian word kept", "Кроссовки", "кроссовки", 0},
		{"fullwidth", "ＬＵＭＯＲＡ", "lumora", Compat},
		{"math bold", "𝐋𝐔𝐌𝐎𝐑𝐀", "lumora", Compat},
		{"circled", "Ⓛⓤⓜⓞⓡⓐ", "lumora", Compat},
		{"ligature", "ﬁne", "fine", Compat},
		{"leet inner", "Lum0ra", "lumora", Leet},
		{"leet many", "N1K3", "nike", Leet},
		{"leet lead", "1umora", "iumora", Leet},
		{"leet symbol", "L@mora", "lamora", Leet},
		{"leet dollar", "$ony", "sony", Leet},
		{"price", "$50", "50", 0},
		{"model number", "iPhone13 X100", "iphone13 x100", 0},
		{"size", "4K 128GB", "4k 128gb", 0},
		{"exclamation", "great!", "great", 0},
		{"dots", "N.I.K.E", "nike", Separated},
		{"spaces spread", "N I K E shoes", "nike shoes", Separated},
		{"hyphens", "N-i-k-e", "nike", Separated},
		{"two letters", "A B", "a b", 0},
		{"zero width", "Lu\u200bmo\u200dra", "lumora", Separated},
		{"soft hyphen", "Lu\u00admora", "lumora", Separated},
		{"combining", "Lumo\u0301ra", "lumora", Diacritic},
		{"ratio", "1:1", "1 1", 0},
		{"cjk", "高仿耐克", "高仿耐克", 0},
		{"empty", "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.family, func(t *testing.T) {
			if got := Fold(tt.in); got != tt.want {
				t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
			}
			var f Folder
			f.Fold(tt.in)
			if tt.flags != 0 && (len(f.Tokens()) == 0 || f.Tokens()[0].Flags&tt.flags == 0) {
				t.Errorf("Folder.Fold(%q) tokens = %+v, want flags %b", tt.in, f.Tokens(), tt.flags)
			}
		})
	}
}

func TestFoldKeepDigits(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Lum0ra", "lum0ra"},
		{"L@mora", "lamora"},
		{"N1K3 Air 90", "n1k3 air 90"},
	}
	for _, tt := range tests {
		if got := FoldKeepDigits(tt.in); got != tt.want {
			t.Errorf("FoldKeepDigits(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFolderSource(t *testing.T) {
	in := "Best LUMОRA deal"
	var f Folder
	f.Fold(in)
	toks := f.Tokens()
	if len(toks) != 3 {
		t.Fatalf("Fold(%q) tokens = %d, want 3", in, len(toks))
	}
	if got := in[toks[1].Src:toks[1].SrcEnd]; got != "LUMОRA" {
		t.Errorf("token 1 source = %q, want %q", got, "LUMОRA")
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"Lumora", "N.I.K.E", "ＬＵＭＯＲＡ", "Lum0ra $50", "асме", "Lu\u200bmora", "高仿", "\xff\xfe", "a b c d", "ß", "ǅ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Fold(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Fold(%q) = %q, not valid UTF-8", s, got)
		}
		// Folding again may only join more spread letters, never split
		// or change case.
		if again := Fold(got); len(again) > len(got) {
			t.Fatalf("Fold(Fold(%q)) = %q, longer than %q", s, again, got)
		}
		for i := 0; i < len(got); i++ {
			if c := got[i]; c >= 'A' && c <= 'Z' || i > 0 && c == ' ' && got[i-1] == ' ' {
				t.Fatalf("Fold(%q) = %q, has upper case or double space", s, got)
			}
		}
		if len(got) > 0 && (got[0] == ' ' || got[len(got)-1] == ' ') {
			t.Fatalf("Fold(%q) = %q, has outer space", s, got)
		}
		var fl Folder
		fl.Fold(s)
		for _, tk := range fl.Tokens() {
			if tk.Src < 0 || tk.SrcEnd > len(s) || tk.Src > tk.SrcEnd || tk.Start >= tk.End {
				t.Fatalf("Fold(%q) token %+v out of range", s, tk)
			}
		}
	})
}

// BenchmarkFold measures folding marketplace titles into a reused Folder
// beside strings.ToLower over the same titles, the cheapest normalisation.
func BenchmarkFold(b *testing.B) {
	titles := []string{
		"Lumora Meridian Automatic 40 - automatic dress watch - new with tags",
		"Réplica Lumοrа Meridian Automatic 40 calidad premium",
		"N.O.R.D.V.I.K Storm Parka insulated winter parka",
		"ＮＯＲＤＶＩＫ Fjell Shell Jacket 1:1 AAA",
		"Used Nordvik Vidde Fleece Jacket, size S, no damage",
	}
	b.Run("strings.ToLower", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			_ = strings.ToLower(titles[n%len(titles)])
			n++
		}
	})
	b.Run("Folder.Fold", func(b *testing.B) {
		b.ReportAllocs()
		var f Folder
		n := 0
		for b.Loop() {
			f.Fold(titles[n%len(titles)])
			n++
		}
	})
}
