package fold

// The look-alike tables below map single code points to the Latin letter
// they are drawn like. They are a hand-checked subset of Unicode's
// confusables data (https://www.unicode.org/Public/security/latest/
// confusables.txt, UTS #39), restricted to the entries whose skeleton is one
// ASCII letter and whose source is Cyrillic, Greek, Armenian, IPA or a small
// capital: the scripts counterfeit listings actually mix into Latin brand
// names. A few letters that confusables.txt leaves out but that render as a
// Latin letter in the sans-serif fonts marketplaces use (Cyrillic к, в, н, т,
// г, п, ь) are added, because a listing is read by a shopper, not by a font
// engineer. Fullwidth and mathematical letters are not listed: NFKD already
// maps them (see Fold). Keys are case-sensitive because an upper-case
// Cyrillic В looks like Latin B while its lower-case в is drawn like a small
// capital b.

// cyrillic maps U+0400..U+052F to a Latin letter, 0 when the letter does not
// look like one.
var cyrillic = [0x130]byte{
	0x0405 - 0x400: 's', // Ѕ
	0x0406 - 0x400: 'i', // І
	0x0408 - 0x400: 'j', // Ј
	0x0404 - 0x400: 'e', // Є
	0x0410 - 0x400: 'a', // А
	0x0412 - 0x400: 'b', // В
	0x0415 - 0x400: 'e', // Е
	0x041A - 0x400: 'k', // К
	0x041C - 0x400: 'm', // М
	0x041D - 0x400: 'h', // Н
	0x041E - 0x400: 'o', // О
	0x0420 - 0x400: 'p', // Р
	0x0421 - 0x400: 'c', // С
	0x0422 - 0x400: 't', // Т
	0x0423 - 0x400: 'y', // У
	0x0425 - 0x400: 'x', // Х
	0x042C - 0x400: 'b', // Ь
	0x0430 - 0x400: 'a', // а
	0x0432 - 0x400: 'b', // в
	0x0433 - 0x400: 'r', // г
	0x0435 - 0x400: 'e', // е
	0x043A - 0x400: 'k', // к
	0x043C - 0x400: 'm', // м
	0x043D - 0x400: 'h', // н
	0x043E - 0x400: 'o', // о
	0x043F - 0x400: 'n', // п
	0x0440 - 0x400: 'p', // р
	0x0441 - 0x400: 'c', // с
	0x0442 - 0x400: 't', // т
	0x0443 - 0x400: 'y', // у
	0x0445 - 0x400: 'x', // х
	0x044C - 0x400: 'b', // ь
	0x0454 - 0x400: 'e', // є
	0x0455 - 0x400: 's', // ѕ
	0x0456 - 0x400: 'i', // і
	0x0458 - 0x400: 'j', // ј
	0x0491 - 0x400: 'r', // ґ
	0x04AE - 0x400: 'y', // Ү
	0x04AF - 0x400: 'y', // ү
	0x04BA - 0x400: 'h', // Һ
	0x04BB - 0x400: 'h', // һ
	0x04C0 - 0x400: 'l', // Ӏ
	0x04CF - 0x400: 'l', // ӏ
	0x0500 - 0x400: 'd', // Ԁ
	0x0501 - 0x400: 'd', // ԁ
	0x051A - 0x400: 'q', // Ԛ
	0x051B - 0x400: 'q', // ԛ
	0x051C - 0x400: 'w', // Ԝ
	0x051D - 0x400: 'w', // ԝ
}

// greek maps U+0370..U+03FF to a Latin letter, 0 when none.
var greek = [0x90]byte{
	0x037F - 0x370: 'j', // Ϳ
	0x0391 - 0x370: 'a', // Α
	0x0392 - 0x370: 'b', // Β
	0x0395 - 0x370: 'e', // Ε
	0x0396 - 0x370: 'z', // Ζ
	0x0397 - 0x370: 'h', // Η
	0x0399 - 0x370: 'i', // Ι
	0x039A - 0x370: 'k', // Κ
	0x039C - 0x370: 'm', // Μ
	0x039D - 0x370: 'n', // Ν
	0x039F - 0x370: 'o', // Ο
	0x03A1 - 0x370: 'p', // Ρ
	0x03A4 - 0x370: 't', // Τ
	0x03A5 - 0x370: 'y', // Υ
	0x03A7 - 0x370: 'x', // Χ
	0x03B1 - 0x370: 'a', // α
	0x03B2 - 0x370: 'b', // β
	0x03B3 - 0x370: 'y', // γ
	0x03B5 - 0x370: 'e', // ε
	0x03B7 - 0x370: 'n', // η
	0x03B9 - 0x370: 'i', // ι
	0x03BA - 0x370: 'k', // κ
	0x03BC - 0x370: 'u', // μ
	0x03BD - 0x370: 'v', // ν
	0x03BF - 0x370: 'o', // ο
	0x03C1 - 0x370: 'p', // ρ
	0x03C3 - 0x370: 'o', // σ
	0x03C4 - 0x370: 't', // τ
	0x03C5 - 0x370: 'u', // υ
	0x03C7 - 0x370: 'x', // χ
	0x03C9 - 0x370: 'w', // ω
	0x03F2 - 0x370: 'c', // ϲ
	0x03F3 - 0x370: 'j', // ϳ
	0x03F9 - 0x370: 'c', // Ϲ
}

// lookalike returns the Latin letter(s) r is drawn like and whether the
// replacement is a homoglyph (another script) or a stroked or ligatured
// Latin letter that NFKD does not decompose (ø, ł, ß, æ…), which counts as a
// diacritic.
func lookalike(r rune) (latin string, homoglyph bool) {
	switch {
	case r >= 0x400 && r < 0x530:
		if c := cyrillic[r-0x400]; c != 0 {
			return asciiLetters[c-'a' : c-'a'+1], true
		}
		return "", false
	case r >= 0x370 && r < 0x400:
		if c := greek[r-0x370]; c != 0 {
			return asciiLetters[c-'a' : c-'a'+1], true
		}
		return "", false
	}
	switch r {
	// Armenian.
	case 0x0585:
		return "o", true // օ
	case 0x0578:
		return "n", true // ո
	case 0x057D:
		return "u", true // ս
	case 0x0570:
		return "h", true // հ
	case 0x0566:
		return "q", true // զ
	case 0x0581:
		return "g", true // ց
	// Latin look-alikes from IPA and small capitals.
	case 0x0131:
		return "i", true // ı
	case 0x0237:
		return "j", true // ȷ
	case 0x0251:
		return "a", true // ɑ
	case 0x0261, 0x0262:
		return "g", true // ɡ ɢ
	case 0x026A:
		return "i", true // ɪ
	case 0x029F, 0x01C0:
		return "l", true // ʟ ǀ
	case 0x0274:
		return "n", true // ɴ
	case 0x0280:
		return "r", true // ʀ
	case 0x028F:
		return "y", true // ʏ
	case 0x0299:
		return "b", true // ʙ
	case 0x029C:
		return "h", true // ʜ
	case 0x1D00:
		return "a", true // ᴀ
	case 0x1D04:
		return "c", true // ᴄ
	case 0x1D05:
		return "d", true // ᴅ
	case 0x1D07:
		return "e", true // ᴇ
	case 0x1D0A:
		return "j", true // ᴊ
	case 0x1D0B:
		return "k", true // ᴋ
	case 0x1D0D:
		return "m", true // ᴍ
	case 0x1D0F:
		return "o", true // ᴏ
	case 0x1D18:
		return "p", true // ᴘ
	case 0x1D1B:
		return "t", true // ᴛ
	case 0x1D1C:
		return "u", true // ᴜ
	case 0x1D20:
		return "v", true // ᴠ
	case 0x1D21:
		return "w", true // ᴡ
	case 0x1D22:
		return "z", true // ᴢ
	case 0xA731:
		return "s", true // ꜱ
	// Stroked and ligatured Latin letters without a canonical decomposition.
	case 0x00D8, 0x00F8:
		return "o", false // Ø ø
	case 0x0110, 0x0111, 0x00D0, 0x00F0:
		return "d", false // Đ đ Ð ð
	case 0x0141, 0x0142:
		return "l", false // Ł ł
	case 0x0126, 0x0127:
		return "h", false // Ħ ħ
	case 0x0166, 0x0167:
		return "t", false // Ŧ ŧ
	case 0x0180:
		return "b", false // ƀ
	case 0x0268:
		return "i", false // ɨ
	case 0x01B5, 0x01B6:
		return "z", false // Ƶ ƶ
	case 0x00DF, 0x1E9E:
		return "ss", false // ß ẞ
	case 0x00C6, 0x00E6:
		return "ae", false // Æ æ
	case 0x0152, 0x0153:
		return "oe", false // Œ œ
	case 0x00DE, 0x00FE:
		return "th", false // Þ þ
	}
	return "", false
}

const asciiLetters = "abcdefghijklmnopqrstuvwxyz"
