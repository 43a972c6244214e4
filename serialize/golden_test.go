package serialize

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./serialize -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// edgeTable has one column of every logical type.
func edgeTable(t *testing.T) *Table {
	tbl := &Table{Name: "edge", Key: []string{"id"}, Columns: []Column{
		{Name: "id", Type: Int},
		{Name: "f", Type: Float, Nullable: true},
		{Name: "d", Type: Decimal, Nullable: true, Scale: 2},
		{Name: "dn", Type: Decimal, Nullable: true, Scale: -1},
		{Name: "s", Type: Text, Nullable: true},
		{Name: "b", Type: Bytes, Nullable: true},
		{Name: "ok", Type: Boolean, Nullable: true},
		{Name: "day", Type: Date, Nullable: true},
		{Name: "tod", Type: Time, Nullable: true},
		{Name: "ts", Type: Timestamp, Nullable: true},
		{Name: "tz", Type: TimestampTZ, Nullable: true},
		{Name: "j", Type: JSON, Nullable: true},
		{Name: "u", Type: UUID, Nullable: true},
	}}
	if err := tbl.Prepare(); err != nil {
		t.Fatal(err)
	}
	return tbl
}

// edgeValues are driver values at the edges of every type, one row each.
var edgeValues = [][]any{
	{int64(1), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
	{int64(math.MinInt64), 0.0, "0", "0", "", []byte{}, false, "0001-01-01", "00:00:00", "0001-01-01 00:00:00", "1970-01-01T00:00:00Z", "{}", "00000000-0000-0000-0000-000000000000"},
	{int64(math.MaxInt64), math.Copysign(0, -1), "-0.00", "-0", "\x00\x01\x1f\"\\/", []byte{0, 255, 254}, true, "9999-12-31", "23:59:59.999999", "9999-12-31 23:59:59.999999999", "2026-06-01T02:00:00+02:00", "[]", "550E8400-E29B-41D4-A716-446655440000"},
	{uint64(math.MaxUint64), 0.1, "12.3", "12.30", "é € 😀 \u2028 \ufeff", []byte("hello"), int64(1), time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "12:30:00.5", time.Date(2024, 2, 29, 12, 30, 0, 120000000, time.UTC), time.Date(2024, 2, 29, 12, 30, 0, 0, time.FixedZone("x", -5*3600)), `{"z":1,"a":[1,2.50,{"k":"v"}],"big":9007199254740993,"e":1E3}`, []byte{0x55, 0x0e, 0x84, 0, 0xe2, 0x9b, 0x41, 0xd4, 0xa7, 0x16, 0x44, 0x66, 0x55, 0x44, 0, 0}},
	{int64(-42), 1e21, int64(7), "-000123.4500", "line1\nline2\ttab", "text as bytes", "f", "2024-02-29", "07:08:09", "2024-02-29T12:30", int64(0), `"just a string"`, "{550e8400-e29b-41d4-a716-446655440000}"},
	{int64(5), 5e-324, 4.5, 1e-7, int64(42), nil, "yes", nil, nil, int64(1700000000), "2024-02-29 12:30:00.000001-00:30", `[1e400,-0,0.000001,1e-7,"\u00e9"]`, nil},
	{int64(6), math.NaN(), "NaN", "Infinity", 2.5, nil, nil, nil, nil, nil, nil, "null", nil},
	{int64(7), math.Inf(-1), nil, nil, nil, nil, nil, nil, nil, nil, nil, `{"nested":{"deep":[[[]]],"":""}}`, nil},
	{int64(8), float32(0.1), nil, nil, nil, nil, nil, nil, nil, nil, nil, "true", nil},
}

func edgeRows(t *testing.T, tbl *Table) []Row {
	var rows []Row
	for _, vals := range edgeValues {
		row := make(Row, len(vals))
		for i, v := range vals {
			cell, err := AppendCell(nil, &tbl.Columns[i], v)
			if err != nil {
				t.Fatalf("row %v column %s: %v", vals[0], tbl.Columns[i].Name, err)
			}
			row[i] = cell
		}
		rows = append(rows, row)
	}
	return rows
}

func TestGoldenEveryType(t *testing.T) {
	tbl := edgeTable(t)
	rows := edgeRows(t, tbl)
	var lines, pretty []byte
	for _, r := range rows {
		lines = tbl.AppendLine(lines, r)
		pretty = append(pretty, "== "+tbl.RowPath(r)+"\n"...)
		var err error
		if pretty, err = tbl.AppendPretty(pretty, r); err != nil {
			t.Fatal(err)
		}
	}
	golden(t, "edge.lines.golden", lines)
	golden(t, "edge.rows.golden", pretty)
	meta, err := tbl.MarshalMeta()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "edge.table.golden", meta)
}

// Encode → decode → encode is byte-identical, in both layouts, and a cell
// converted to a Go value and back gives the same cell.
func TestRoundTrip(t *testing.T) {
	tbl := edgeTable(t)
	for _, r := range edgeRows(t, tbl) {
		line := tbl.AppendLine(nil, r)
		pretty, err := tbl.AppendPretty(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		for _, enc := range [][]byte{line, pretty} {
			back, err := tbl.DecodeRow(enc)
			if err != nil {
				t.Fatalf("DecodeRow(%s): %v", enc, err)
			}
			if again := tbl.AppendLine(nil, back); !bytes.Equal(again, line) {
				t.Errorf("round trip changed the row:\n got %s\nwant %s", again, line)
			}
			again, _ := tbl.AppendPretty(nil, back)
			if !bytes.Equal(again, pretty) {
				t.Errorf("round trip changed the pretty row:\n got %s\nwant %s", again, pretty)
			}
		}
		for i, cell := range r {
			c := &tbl.Columns[i]
			v, err := Value(c, cell)
			if err != nil {
				t.Fatalf("Value(%s, %s): %v", c.Name, cell, err)
			}
			again, err := AppendCell(nil, c, v)
			if err != nil || !bytes.Equal(again, cell) {
				t.Errorf("column %s: cell %s → %#v → %s, %v", c.Name, cell, v, again, err)
			}
		}
	}
	meta, _ := tbl.MarshalMeta()
	back, err := UnmarshalMeta(meta)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := back.MarshalMeta(); !bytes.Equal(again, meta) {
		t.Errorf("table.json round trip:\n%s\nvs\n%s", again, meta)
	}
}

func TestDecodeRowErrorsNameTheColumn(t *testing.T) {
	tbl := edgeTable(t)
	good := string(tbl.AppendLine(nil, edgeRows(t, tbl)[1]))
	tests := []struct{ name, in, col string }{
		{"int as string", strings.Replace(good, `"id":-9223372036854775808`, `"id":"1"`, 1), "id"},
		{"int with fraction", strings.Replace(good, `"id":-9223372036854775808`, `"id":1.5`, 1), "id"},
		{"unknown column", strings.Replace(good, `{`, `{"zz":1,`, 1), "zz"},
		{"missing column", strings.Replace(good, `"ok":false,`, ``, 1), "ok"},
		{"bad base64", strings.Replace(good, `"b":""`, `"b":"***"`, 1), "b"},
		{"bad date", strings.Replace(good, `"day":"0001-01-01"`, `"day":"2024-13-01"`, 1), "day"},
		{"bad uuid", strings.Replace(good, `"u":"00000000-0000-0000-0000-000000000000"`, `"u":"xyz"`, 1), "u"},
		{"bool as int", strings.Replace(good, `"ok":false`, `"ok":0`, 1), "ok"},
		{"too many decimals", strings.Replace(good, `"d":0.00`, `"d":0.001`, 1), "d"},
	}
	for _, tt := range tests {
		if tt.in == good {
			t.Fatalf("%s: the replacement did not apply to %s", tt.name, good)
		}
		_, err := tbl.DecodeRow([]byte(tt.in))
		var re *RowError
		if err == nil || !asRowError(err, &re) || re.Column != tt.col {
			t.Errorf("%s: DecodeRow error = %v, want one naming column %q", tt.name, err, tt.col)
		}
	}
}

func asRowError(err error, target **RowError) bool {
	re, ok := err.(*RowError)
	*target = re
	return ok
}

func TestAppendCellRejects(t *testing.T) {
	tests := []struct {
		typ Type
		v   any
	}{
		{Int, "12a"},
		{Int, 1.5},
		{Text, "\xff\xfe"},
		{Boolean, int64(2)},
		{Date, "2024-02-29 10:00:00"},
		{Decimal, "1.2.3"},
		{JSON, `{"a":1,"a":2}`},
		{UUID, "not-a-uuid"},
		{Timestamp, "yesterday"},
	}
	for _, tt := range tests {
		if cell, err := AppendCell(nil, &Column{Name: "c", Type: tt.typ, Scale: -1}, tt.v); err == nil {
			t.Errorf("AppendCell(%s, %#v) = %s, want an error", tt.typ, tt.v, cell)
		}
	}
}
