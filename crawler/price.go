package crawler

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// currencyTokens maps the currency marks marketplaces print to ISO 4217
// codes. Longer marks are tried first so "US $" wins over "$" and "R$"
// over "$". A bare "$" means USD and a bare "¥" JPY: the common reading on
// the marketplaces patrol crawls; a page's structured data overrides it.
var currencyTokens = []struct{ mark, code string }{
	{"us $", "USD"}, {"us$", "USD"}, {"usd", "USD"},
	{"c $", "CAD"}, {"ca $", "CAD"}, {"ca$", "CAD"}, {"c$", "CAD"}, {"cad", "CAD"},
	{"au $", "AUD"}, {"au$", "AUD"}, {"a $", "AUD"}, {"a$", "AUD"}, {"aud", "AUD"},
	{"nz $", "NZD"}, {"nz$", "NZD"}, {"nzd", "NZD"},
	{"hk $", "HKD"}, {"hk$", "HKD"}, {"hkd", "HKD"},
	{"s $", "SGD"}, {"s$", "SGD"}, {"sgd", "SGD"},
	{"mx $", "MXN"}, {"mx$", "MXN"}, {"mxn", "MXN"},
	{"r $", "BRL"}, {"r$", "BRL"}, {"brl", "BRL"},
	{"cn ¥", "CNY"}, {"cn¥", "CNY"}, {"rmb", "CNY"}, {"cny", "CNY"}, {"元", "CNY"}, {"￥", "CNY"},
	{"eur", "EUR"}, {"€", "EUR"},
	{"gbp", "GBP"}, {"£", "GBP"},
	{"jpy", "JPY"}, {"円", "JPY"}, {"¥", "JPY"},
	{"inr", "INR"}, {"₹", "INR"},
	{"pkr", "PKR"}, {"rs.", "PKR"}, {"rs", "PKR"},
	{"krw", "KRW"}, {"₩", "KRW"},
	{"rub", "RUB"}, {"₽", "RUB"}, {"руб", "RUB"},
	{"try", "TRY"}, {"₺", "TRY"},
	{"pln", "PLN"}, {"zł", "PLN"},
	{"chf", "CHF"},
	{"sek", "SEK"}, {"nok", "NOK"}, {"dkk", "DKK"}, {"kr", "SEK"},
	{"php", "PHP"}, {"₱", "PHP"},
	{"thb", "THB"}, {"฿", "THB"},
	{"vnd", "VND"}, {"₫", "VND"},
	{"ils", "ILS"}, {"₪", "ILS"},
	{"aed", "AED"}, {"zar", "ZAR"}, {"idr", "IDR"}, {"myr", "MYR"}, {"rm", "MYR"},
	{"usd", "USD"}, {"$", "USD"},
}

// ErrNoPrice means the text holds no price ("Free", "Make an offer").
var ErrNoPrice = errors.New("no price")

// ParsePrice reads a price as marketplaces print it ("US $1,299.00",
// "23,50 €", "€ 1.299,00", "R$ 99,90", "$10.99 - $15.99") and returns the
// amount and the ISO 4217 currency ("" when the text names none). For a
// range it returns the low end. Text without a number, such as "Free",
// is ErrNoPrice.
func ParsePrice(s string) (amount float64, currency string, err error) {
	if len(s) > 256 {
		s = s[:256]
	}
	start, end := findNumber(s)
	if start < 0 {
		return 0, "", fmt.Errorf("parse price %q: %w", s, ErrNoPrice)
	}
	amount, err = parseAmount(s[start:end])
	if err != nil {
		return 0, "", fmt.Errorf("parse price %q: %w", s, err)
	}
	// The currency is next to the first number: before or after it.
	currency = currencyOf(s[:start])
	if currency == "" {
		rest := s[end:]
		if i := strings.IndexAny(rest, "-–—"); i >= 0 {
			rest = rest[:i]
		}
		currency = currencyOf(rest)
	}
	if currency == "" {
		currency = currencyOf(s)
	}
	return amount, currency, nil
}

// findNumber locates the first run of digits and group/decimal separators.
func findNumber(s string) (start, end int) {
	start = -1
	for i, r := range s {
		if r >= '0' && r <= '9' {
			start = i
			break
		}
	}
	if start < 0 {
		return -1, -1
	}
	end = start
	for i := start; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= 0x80 {
			r, size = decodeRune(s[i:])
		}
		switch {
		case r >= '0' && r <= '9':
			end = i + size
		case r == ',' || r == '.' || r == '\'' || r == ' ' || r == '\u00a0' || r == '\u202f' || r == '\u2009':
			// A separator counts only when a digit follows.
			if i+size < len(s) && s[i+size] >= '0' && s[i+size] <= '9' {
				// A space separates groups only before exactly three digits.
				if r == ' ' || r == '\u00a0' || r == '\u202f' || r == '\u2009' {
					if !threeDigits(s[i+size:]) {
						return start, end
					}
				}
				i += size
				continue
			}
			return start, end
		default:
			return start, end
		}
		i += size
	}
	return start, end
}

func decodeRune(s string) (rune, int) {
	for i, r := range s {
		if i == 0 {
			n := len(string(r))
			return r, n
		}
	}
	return unicode.ReplacementChar, 1
}

// threeDigits reports whether s starts with exactly three digits.
func threeDigits(s string) bool {
	if len(s) < 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) == 3 || s[3] < '0' || s[3] > '9'
}

// parseAmount reads a number with group and decimal separators in either
// convention. The last of "," and "." is the decimal mark when both
// appear; a lone mark followed by exactly three digits groups thousands
// ("1,299", "1.299"), otherwise it is the decimal mark ("23,50").
func parseAmount(n string) (float64, error) {
	n = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u00a0', '\u202f', '\u2009', '\'':
			return -1
		}
		return r
	}, n)
	lastDot, lastComma := strings.LastIndexByte(n, '.'), strings.LastIndexByte(n, ',')
	dec := byte(0)
	switch {
	case lastDot >= 0 && lastComma >= 0:
		if lastDot > lastComma {
			dec = '.'
		} else {
			dec = ','
		}
	case lastDot >= 0 || lastComma >= 0:
		mark := byte('.')
		pos := lastDot
		if lastComma >= 0 {
			mark, pos = ',', lastComma
		}
		count := strings.Count(n, string(mark))
		digitsAfter := len(n) - pos - 1
		leadingZero := n[0] == '0' && pos == 1
		if count == 1 && (digitsAfter != 3 || leadingZero) {
			dec = mark
		}
	}
	var b strings.Builder
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == dec && i == strings.LastIndexByte(n, dec):
			b.WriteByte('.')
		}
	}
	v, err := strconv.ParseFloat(b.String(), 64)
	if err != nil {
		return 0, fmt.Errorf("amount %q: %w", n, err)
	}
	if math.IsInf(v, 0) || math.IsNaN(v) || v < 0 {
		return 0, fmt.Errorf("amount %q out of range", n)
	}
	return v, nil
}

// currencyOf finds a currency mark or ISO code in s; "" when none. An
// upper-case three-letter word that is not in the table is taken as an
// ISO code too.
func currencyOf(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	low := strings.ToLower(s)
	for _, t := range currencyTokens {
		i := strings.Index(low, t.mark)
		if i < 0 {
			continue
		}
		// Letter marks must stand alone, so "Trying" is not TRY and
		// "Shipping" no krona.
		if isLetters(t.mark) {
			j := i + len(t.mark)
			if (i > 0 && isLetterByte(low[i-1])) || (j < len(low) && isLetterByte(low[j])) {
				if !containsWord(low, t.mark) {
					continue
				}
			}
		}
		return t.code
	}
	if len(s) == 3 && isUpperASCII(s) {
		return s
	}
	return ""
}

func containsWord(s, w string) bool {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && r != '$' && r != '.' }) {
		if strings.TrimSuffix(f, ".") == strings.TrimSuffix(w, ".") || f == w {
			return true
		}
	}
	return false
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isLetterByte(s[i]) && s[i] != '.' {
			return false
		}
	}
	return true
}

func isLetterByte(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isUpperASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
