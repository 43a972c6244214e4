package serialize

import (
	"strings"
	"testing"
)

func TestNormalizeNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "0"},
		{"-0", "0"},
		{"-0.0e5", "0"},
		{"1", "1"},
		{"1.0", "1"},
		{"12.30", "12.3"},
		{"1e2", "100"},
		{"1E+2", "100"},
		{"100e-2", "1"},
		{"9007199254740993", "9007199254740993"}, // 2^53+1 stays exact
		{"-9223372036854775808", "-9223372036854775808"},
		{"18446744073709551615", "18446744073709551615"},
		{"123456789012345678901", "123456789012345678901"},        // 21 digits: plain
		{"1234567890123456789012", "1.234567890123456789012e+21"}, // 22 digits: exponent
		{"1e21", "1e+21"},
		{"1e20", "100000000000000000000"},
		{"0.000001", "0.000001"},
		{"0.0000001", "1e-7"},
		{"-1.5e-10", "-1.5e-10"},
		{"3.14159265358979323846264338327950288", "3.14159265358979323846264338327950288"},
		{"0.1", "0.1"},
		{"5e-324", "5e-324"},
		{"1.7976931348623157e308", "1.7976931348623157e+308"},
	}
	for _, tt := range tests {
		got, err := NormalizeNumber(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeNumber(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "-", "1e", "e5", "1x", "1e99999999999"} {
		if got, err := NormalizeNumber(bad); err == nil {
			t.Errorf("NormalizeNumber(%q) = %q, want an error", bad, got)
		}
	}
}

func TestAppendStringEscapesOneWay(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`q"b\`, `"q\"b\\"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"\x7f", "\"\x7f\""},
		{"/ < > &", `"/ < > &"`}, // no HTML escaping
		{"é € 😀 \u2028", "\"é € 😀 \u2028\""},
	}
	for _, tt := range tests {
		if got := string(AppendString(nil, tt.in)); got != tt.want {
			t.Errorf("AppendString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		// Every escape must decode back to the input.
		n, err := Parse([]byte(tt.want))
		if err != nil || n.Text != tt.in {
			t.Errorf("Parse(%s) = %q, %v; want %q", tt.want, n.Text, err, tt.in)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"duplicate member": `{"a":1,"a":2}`,
		"lone surrogate":   `"\ud800"`,
		"bad pair":         `"\ud800\u0041"`,
		"invalid utf-8":    "\"\xff\"",
		"control char":     "\"a\nb\"",
		"trailing data":    `{} {}`,
		"leading zero":     `01`,
		"bare dot":         `1.`,
		"single quotes":    `'a'`,
		"unterminated":     `{"a":`,
		"too deep":         strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2),
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: Parse(%.40q) succeeded, want an error", name, in)
		}
	}
}

func TestCanonicalSortsByUTF16(t *testing.T) {
	// RFC 8785 §3.2.3: "\u20ac" (€, U+20AC) < "\ud83d\ude00" (😀) < "\ufb33" (U+FB33)
	// in UTF-16 order, although 😀 has the largest code point.
	in := `{"` + "\ufb33" + `":3,"😀":2,"€":1,"b":0,"a":{"z":1,"y":[3,{"d":1,"c":2}]}}`
	n, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	got, err := AppendCanonical(nil, &n, "", "")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":{"y":[3,{"c":2,"d":1}],"z":1},"b":0,"€":1,"😀":2,"` + "\ufb33" + `":3}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestCanonicalPretty(t *testing.T) {
	n, _ := Parse([]byte(`{"b":[1,{}],"a":[]}`))
	got, _ := AppendCanonical(nil, &n, "  ", "")
	want := "{\n  \"a\": [],\n  \"b\": [\n    1,\n    {}\n  ]\n}"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
