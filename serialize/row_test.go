package serialize

import (
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCompareKeysNumbersAndText(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 20000; i++ {
		x, y := rng.Int63n(2000)-1000, rng.Int63n(2000)-1000
		if i%3 == 0 {
			x, y = rng.Int63()-rng.Int63(), rng.Int63()-rng.Int63()
		}
		got := compareCells(Int, Cell(strconv.FormatInt(x, 10)), Cell(strconv.FormatInt(y, 10)))
		want := 0
		if x < y {
			want = -1
		} else if x > y {
			want = 1
		}
		if got != want {
			t.Fatalf("compare %d, %d = %d", x, y, got)
		}
	}
	texts := []string{"", " ", "!", "a", "a ", "a!", "a\"", "a\\", "a\n", "ab", "b", "é"}
	for i, a := range texts {
		for j, b := range texts {
			got := compareCells(Text, AppendString(nil, a), AppendString(nil, b))
			want := 0
			if a < b {
				want = -1
			} else if a > b {
				want = 1
			}
			if got != want {
				t.Errorf("compare %q, %q = %d, want %d (%d %d)", a, b, got, want, i, j)
			}
		}
	}
}

func TestParseISOAgreesWithTimeParse(t *testing.T) {
	for _, s := range []string{"2026-11-22", "2026-11-22 10:00", "2026-11-22T10:00:05", "2026-11-22 10:00:05.5",
		"2026-11-22 10:00:05.123456789", "2024-02-29 23:59:59", "0001-01-01 00:00:00"} {
		got, ok := parseISO(s)
		var want time.Time
		var err error
		for _, layout := range timeInputs {
			if want, err = time.Parse(layout, s); err == nil {
				break
			}
		}
		if !ok || err != nil || !got.Equal(want) {
			t.Errorf("parseISO(%q) = %v, %v; time.Parse %v, %v", s, got, ok, want, err)
		}
	}
	for _, s := range []string{"2026-02-30", "2026-13-01", "2026-11-22 25:00", "2026-11-22 10:00:05.", "2026-11-22X10:00",
		"2026-11-22 10:00:05+01:00", "2026-11-22 10:00:05.1234567891"} {
		if got, ok := parseISO(s); ok {
			t.Errorf("parseISO(%q) = %v, want false", s, got)
		}
	}
}

// Rows written by hand in a non-canonical form decode to canonical cells;
// a column given twice is an error.
func TestDecodeRowCanonicalizes(t *testing.T) {
	tbl := &Table{Name: "t", Key: []string{"id"}, Columns: []Column{
		{Name: "id", Type: Int}, {Name: "s", Type: Text}, {Name: "d", Type: Decimal, Scale: 2}, {Name: "j", Type: JSON},
	}}
	if err := tbl.Prepare(); err != nil {
		t.Fatal(err)
	}
	r, err := tbl.DecodeRow([]byte(` { "s" : "\u0041\/b" , "id" : -0, "j": {"b": 1.0, "a": [ ]}, "d": 1.5 } `))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(tbl.AppendLine(nil, r)); got != `{"d":1.50,"id":0,"j":{"a":[],"b":1},"s":"A/b"}`+"\n" {
		t.Errorf("got %s", got)
	}
	if _, err := tbl.DecodeRow([]byte(`{"id":1,"s":"a","s":"b","d":1,"j":null}`)); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("duplicate member: %v", err)
	}
	for _, bad := range []string{`{"id":1,"s":"a","d":1,"j":null} x`, `[1]`, `{"id":1,"s":"a","d":1,"j":null`, `{"id":00,"s":"a","d":1,"j":null}`} {
		if _, err := tbl.DecodeRow([]byte(bad)); err == nil {
			t.Errorf("DecodeRow(%s) succeeded", bad)
		}
	}
}
