package serialize

import (
	"bytes"
	"testing"
)

// textTypes are the columns the fast path of engines' text is tried on.
var textTypes = []Column{{Type: Int}, {Type: Float}, {Type: Decimal, Scale: -1}, {Type: Decimal, Scale: 0}, {Type: Decimal, Scale: 2},
	{Type: Decimal, Scale: 30}, {Type: Text}, {Type: Bytes}, {Type: Boolean}, {Type: Date}, {Type: Time}, {Type: Timestamp},
	{Type: TimestampTZ}, {Type: JSON}, {Type: UUID}}

// sameAsGeneral checks that whatever appendTextFast writes of a text, as
// a string and as bytes, is what appendValue, the general conversion,
// writes of it, and returns whether the fast path took it.
func sameAsGeneral(t *testing.T, c *Column, text string) bool {
	t.Helper()
	took := false
	for _, v := range []any{text, []byte(text)} {
		var fast []byte
		var ok bool
		switch x := v.(type) {
		case string:
			fast, ok = appendTextFast([]byte("x"), c, x)
		case []byte:
			fast, ok = appendTextFast([]byte("x"), c, x)
		}
		if !ok {
			if string(fast) != "x" {
				t.Fatalf("%s %q (%T): the fast path declined but appended %q", c.Type, text, v, fast)
			}
			continue
		}
		took = true
		general, err := appendValue([]byte("x"), c, v)
		if err != nil || !bytes.Equal(fast, general) {
			t.Fatalf("%s (scale %d) %q (%T): fast path %q, general %q %v", c.Type, c.Scale, text, v, fast, general, err)
		}
	}
	return took
}

// The fast path writes the general conversion's cells, and takes the
// forms engines commonly write; the awkward rest it leaves to it.
func TestTextFastPathIsGeneral(t *testing.T) {
	for _, tc := range []struct {
		c    Column
		fast []string // taken by the fast path
		rest []string // left to the general conversion, which may refuse them
	}{
		{Column{Type: Int}, []string{"0", "-1", "9223372036854775807", "-9223372036854775808", "18446744073709551615"},
			[]string{"-0", "007", "+1", "1e3", " 1", "", "18446744073709551616", "-9223372036854775809", "1.0"}},
		{Column{Type: Float}, []string{"0.1", "-0", "5e-324", "1.7976931348623157e308", "3.4028235e38", "1e21", "1e-7", "123456789012345678901",
			".5", "5.", "NaN", "Infinity", "-Infinity", "inf", "0x1p-2", "1E+2", "1_000"}, []string{"1e400", "-1e400", "", "abc", "1e", "--1"}},
		{Column{Type: Decimal, Scale: -1}, []string{"-12345678901234567890123456789012345.123456789012345678901234567890", "-0.00", ".5", "5.", "0001.10", "0", "-0", "1.999"},
			[]string{"+1", "1e3", "NaN", "Infinity", "", "1.2.3", "-"}},
		{Column{Type: Decimal, Scale: 2}, []string{"-12.5", "-0.00", ".5", "5.", "0001.10", "99999999.99", "1.2000"},
			[]string{"1.999", "+1", "1e3", "NaN", "", "1.2.3"}},
		{Column{Type: Decimal, Scale: 0}, []string{"7", "-7", "7.000"}, []string{"7.5", "1e3"}},
		{Column{Type: Decimal, Scale: 30}, []string{"-12345678901234567890123456789012345.123456789012345678901234567890", "0.000000000000000000000000000001"},
			[]string{"0.0000000000000000000000000000001"}},
		{Column{Type: Text}, []string{"é\n\t\"'\\ ☃ 𝄞", "\x00", "", "\u2028", "\x7f"}, []string{"\xff", "a\xc3"}},
		{Column{Type: Boolean}, []string{"t", "f", "0", "1"}, []string{"true", "TRUE", "yes", "off", "2", "", "tt"}},
		{Column{Type: Date}, []string{"2024-02-29", "0000-01-01", "9999-12-31"},
			[]string{"2023-02-29", "2024-1-01", "2024-02-29 10:00:00", "2024-02-29T00:00:00", "", "2024-13-01", "20240229"}},
		{Column{Type: Time}, []string{"10:00:00", "23:59:59.999999999", "00:00:00.000000", "10:00:00.500", "00:00:00.5"},
			[]string{"24:00:00", "1:00:00", "10:00", "10:00:00.", "10:00:00,5", "10:00:00.1234567891", "-838:59:59", "838:59:59", "10:60:00",
				"10:00:60", "10:00:00Z", "", "1a:00:00", "10:00:00.5x"}},
		{Column{Type: Timestamp}, []string{"2024-02-29 10:00:00", "2024-02-29T10:00:00.120000", "2024-02-29 10:00:00.000", "0000-01-01 00:00:00", "9999-12-31 23:59:59.999999999"},
			[]string{"2024-02-29 10:00", "2024-02-29 24:00:00", "0000-00-00 00:00:00", "2024-02-29 10:00:00+02", "2024-02-29 10:00:00Z",
				"2024-02-29 10:00:00.1234567890", "2024-02-30 10:00:00", "2024-02-29", "2024-02-29 10:00:00."}},
		{Column{Type: TimestampTZ}, []string{"2024-02-29 10:00:00", "2024-02-29T10:00:00.120000", "1970-01-01 00:00:01.5"},
			[]string{"2024-02-29 10:00:00+02", "2024-02-29T10:00:00Z", "2024-02-29 10:00:00+00:00", "2024-02-29", "0000-00-00 00:00:00"}},
		{Column{Type: UUID}, []string{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "00000000-0000-0000-0000-000000000000"},
			[]string{"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "a0eebc999c0b4ef8bb6d6bb9bd380a11",
				"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g", "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"}},
		{Column{Type: JSON}, nil, []string{`{"b": 1, "a": [2.50, "é"]}`, `1e400`, `null`, `[`}},
	} {
		for _, s := range tc.fast {
			if !sameAsGeneral(t, &tc.c, s) {
				t.Errorf("%s (scale %d) %q: not taken by the fast path", tc.c.Type, tc.c.Scale, s)
			}
		}
		for _, s := range tc.rest {
			if sameAsGeneral(t, &tc.c, s) {
				t.Errorf("%s (scale %d) %q: taken by the fast path", tc.c.Type, tc.c.Scale, s)
			}
		}
	}
	// Bytes: as bytes, whatever they hold.
	for _, s := range []string{"", "\x00\xff", "é"} {
		if !sameAsGeneral(t, &Column{Type: Bytes}, s) {
			t.Errorf("bytes %q: not taken by the fast path", s)
		}
	}
}

// Whatever the text, the fast path writes what the general conversion
// does, or leaves it to it.
func FuzzTextFastPath(f *testing.F) {
	for i, s := range []string{"12", "-0", "0.1", "1e400", "12.30", "é\n", "t", "2024-02-29", "23:59:59.5", "2024-02-29 10:00:00.120",
		"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", `{"a":1}`, "\xff"} {
		f.Add(uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, typ uint8, text string) {
		c := textTypes[int(typ)%len(textTypes)]
		sameAsGeneral(t, &c, text)
	})
}
