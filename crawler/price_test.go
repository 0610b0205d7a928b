package crawler

import (
	"errors"
	"math"
	"testing"
)

func TestParsePrice(t *testing.T) {
	tests := []struct {
		in       string
		amount   float64
		currency string
		wantErr  bool
	}{
		{"US $1,299.00", 1299, "USD", false},
		{"$23.50", 23.5, "USD", false},
		{"23,50 €", 23.5, "EUR", false},
		{"€ 1.299,00", 1299, "EUR", false},
		{"£12", 12, "GBP", false},
		{"¥3,200", 3200, "JPY", false},
		{"R$ 99,90", 99.9, "BRL", false},
		{"$10.99 - $15.99", 10.99, "USD", false},
		{"£10.99 to £15.99", 10.99, "GBP", false},
		{"Free", 0, "", true},
		{"", 0, "", true},
		{"Make an offer", 0, "", true},
		{"1 299,00 €", 1299, "EUR", false},
		{"EUR 12,00", 12, "EUR", false},
		{"12.00 EUR", 12, "EUR", false},
		{"C $45.10", 45.1, "CAD", false},
		{"AU $7.95", 7.95, "AUD", false},
		{"Rs 23,450", 23450, "PKR", false},
		{"23.450", 23450, "", false},
		{"0.125", 0.125, "", false},
		{"CHF 1'299.50", 1299.5, "CHF", false},
		{"₹ 1,23,456", 123456, "INR", false},
		{"US $0.99", 0.99, "USD", false},
		{"48,00", 48, "", false},
		{"1,234,567.89", 1234567.89, "", false},
		{"1.234.567,89 €", 1234567.89, "EUR", false},
		{"Price: 1899", 1899, "", false},
		{"￥128.00", 128, "CNY", false},
		{"5 100 €", 5100, "EUR", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			amount, cur, err := ParsePrice(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Errorf("ParsePrice(%q) = %v, %q, nil; want error", tt.in, amount, cur)
				} else if !errors.Is(err, ErrNoPrice) {
					t.Errorf("ParsePrice(%q) error = %v, want ErrNoPrice", tt.in, err)
				}
				return
			}
			if err != nil || math.Abs(amount-tt.amount) > 1e-9 || cur != tt.currency {
				t.Errorf("ParsePrice(%q) = %v, %q, %v; want %v, %q", tt.in, amount, cur, err, tt.amount, tt.currency)
			}
		})
	}
}

func FuzzParsePrice(f *testing.F) {
	for _, s := range []string{"US $1,299.00", "23,50 €", "€ 1.299,00", "R$ 99,90", "$10.99 - $15.99", "Free", "1 299,00", "₹ 1,23,456", "9" + string(make([]byte, 400))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		amount, cur, err := ParsePrice(s)
		if err != nil {
			return
		}
		if amount < 0 || math.IsNaN(amount) || math.IsInf(amount, 0) {
			t.Errorf("ParsePrice(%q) = %v", s, amount)
		}
		if cur != "" && len(cur) != 3 {
			t.Errorf("ParsePrice(%q) currency %q is not ISO 4217", s, cur)
		}
	})
}

func BenchmarkParsePrice(b *testing.B) {
	for b.Loop() {
		ParsePrice("US $1,299.00")
	}
}
