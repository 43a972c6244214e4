package serialize

import (
	"bytes"
	"testing"
)

// fuzzTable is a table with a column of each kind a row file holds.
func fuzzTable(t testing.TB) *Table {
	meta := &Table{Name: "t", Key: []string{"k"}, Columns: []Column{
		{Name: "k", Type: Text}, {Name: "n", Type: Int, Nullable: true}, {Name: "d", Type: Decimal, Scale: 2, Nullable: true},
		{Name: "j", Type: JSON, Nullable: true}, {Name: "b", Type: Bytes, Nullable: true}, {Name: "at", Type: TimestampTZ, Nullable: true},
		{Name: "s", Type: Text, Secret: true, Nullable: true},
	}}
	if err := meta.Prepare(); err != nil {
		t.Fatal(err)
	}
	return meta
}

// A row file or a line of a lines file decodes to a row whose canonical
// line and pretty file decode back to the same row, or is refused with an
// error; it never panics.
func FuzzDecodeRow(f *testing.F) {
	for _, seed := range []string{
		`{"at":null,"b":null,"d":"1.50","j":{"x":[1,2]},"k":"a","n":3,"s":"[secret]"}`,
		`{"at":"2026-11-22T10:00:00Z","b":"AAE=","d":null,"j":null,"k":"é\u0000","n":-9223372036854775808,"s":null}`,
		`{"k":null}`, `{"k":"a","k":"b"}`, `[]`, `{"at":null,"b":null,"d":"1e400","j":1,"k":"","n":1.5,"s":"x"}`, "",
	} {
		f.Add([]byte(seed))
	}
	meta := fuzzTable(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		row, err := meta.DecodeRow(data)
		if err != nil {
			return
		}
		line := meta.AppendLine(nil, row)
		again, err := meta.DecodeRow(line)
		if err != nil {
			t.Fatalf("the canonical line of %q does not decode: %v\n%s", data, err, line)
		}
		if !bytes.Equal(meta.AppendLine(nil, again), line) {
			t.Fatalf("the canonical line of %q changes on a round trip:\n%s\n%s", data, line, meta.AppendLine(nil, again))
		}
		pretty, err := meta.AppendPretty(nil, row)
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		if back, err := meta.DecodeRow(pretty); err != nil || !bytes.Equal(meta.AppendLine(nil, back), line) {
			t.Fatalf("the row file of %q does not decode to the same row: %v\n%s", data, err, pretty)
		}
	})
}

// A table.json either decodes to metadata that marshals to a file which
// decodes to the same, or is refused; it never panics.
func FuzzUnmarshalMeta(f *testing.F) {
	seed, err := fuzzTable(f).MarshalMeta()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{string(seed), `{"format":1,"name":"x","columns":[],"key":[],"layout":"rows","references":[]}`,
		`{"format":99}`, `{"name":"t","columns":[{"name":"a","type":"nope"}],"key":["a"]}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		meta, err := UnmarshalMeta(data)
		if err != nil {
			return
		}
		out, err := meta.MarshalMeta()
		if err != nil {
			return // metadata that cannot be written again is refused when used
		}
		again, err := UnmarshalMeta(out)
		if err != nil {
			t.Fatalf("%q marshals to a table.json that does not decode: %v\n%s", data, err, out)
		}
		if out2, _ := again.MarshalMeta(); !bytes.Equal(out, out2) {
			t.Fatalf("table.json changes on a round trip:\n%s\n%s", out, out2)
		}
	})
}
