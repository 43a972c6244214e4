package serialize

import (
	"math"
	"strconv"
	"testing"
)

// The plain-form fast path of decimals writes what NormalizeDecimal
// writes, or leaves the text to it.
func TestPlainDecimalAsNormalize(t *testing.T) {
	inputs := []string{"0", "-0", "00", "0.00", "-0.00", "-0.001", "12.5", "12.50", "12.500", "-12.5", "007.10", ".5", "-.5", "5.", "-5.",
		"1.239", "1.230", "123456789012345678901234567890.12", "-", ".", "", "1..2", "1.2.3", "+5", "-+5", "1e3", "NaN", "Infinity", "12a", " 1", "١٢"}
	for _, in := range inputs {
		for _, scale := range []int{-1, 0, 1, 2, 3} {
			checkPlainDecimal(t, in, scale)
		}
	}
}

func checkPlainDecimal(t *testing.T, in string, scale int) {
	t.Helper()
	want, err := NormalizeDecimal(in, scale)
	got, ok := appendPlainDecimal([]byte("x"), in, scale)
	gotBytes, okBytes := appendPlainDecimal([]byte("x"), []byte(in), scale)
	if string(got) != string(gotBytes) || ok != okBytes {
		t.Fatalf("%q scale %d: string %q %v, bytes %q %v", in, scale, got, ok, gotBytes, okBytes)
	}
	if !ok {
		if string(got) != "x" {
			t.Fatalf("%q scale %d: appended %q though it fell back", in, scale, got)
		}
		return
	}
	if err != nil || "x"+want != string(got) {
		t.Fatalf("%q scale %d: fast path %q, NormalizeDecimal %q (%v)", in, scale, got, want, err)
	}
}

func FuzzPlainDecimal(f *testing.F) {
	for _, s := range []string{"0", "-0.00", "12.50", ".5", "1e3", "-+1"} {
		f.Add(s, 2)
	}
	f.Fuzz(func(t *testing.T, in string, scale int) {
		checkPlainDecimal(t, in, scale%8)
	})
}

// Floats and integers, as SQLite hands decimals over, take the fast path
// to the same text.
func TestDecimalCellFromNumbers(t *testing.T) {
	for _, v := range []any{int64(0), int64(-7), int64(1234567), 0.0, math.Copysign(0, -1), 12.5, -0.005, 99.99, 1e20, 1.5e-7} {
		for _, scale := range []int{-1, 0, 2, 4} {
			var s string
			switch x := v.(type) {
			case int64:
				s = strconv.FormatInt(x, 10)
			case float64:
				s = strconv.FormatFloat(x, 'f', scale, 64)
			}
			want, werr := NormalizeDecimal(s, scale)
			got, err := AppendCell(nil, &Column{Type: Decimal, Scale: scale}, v)
			if (err != nil) != (werr != nil) || err == nil && string(got) != want {
				t.Errorf("%v scale %d: %q %v, want %q %v", v, scale, got, err, want, werr)
			}
		}
	}
}
