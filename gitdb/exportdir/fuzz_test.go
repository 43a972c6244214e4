package exportdir

import (
	"bytes"
	"testing"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// A lines file yields rows in strictly increasing key order, each a valid
// row of its table, or an error naming its line; it never panics.
func FuzzLines(f *testing.F) {
	meta := &serialize.Table{Name: "t", Key: []string{"a", "b"}, Columns: []serialize.Column{
		{Name: "a", Type: serialize.Int}, {Name: "b", Type: serialize.Text}, {Name: "v", Type: serialize.JSON, Nullable: true},
	}}
	if err := meta.Prepare(); err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		"{\"a\":1,\"b\":\"x\",\"v\":null}\n{\"a\":1,\"b\":\"y\",\"v\":[1]}\n{\"a\":2,\"b\":\"\",\"v\":{\"k\":1}}\n",
		"{\"a\":2,\"b\":\"x\",\"v\":null}\n{\"a\":1,\"b\":\"x\",\"v\":null}\n",
		"{\"a\":1,\"b\":\"x\",\"v\":null}\n{\"a\":1,\"b\":\"x\",\"v\":null}\n",
		"{\"a\":1,\"b\":\"x\",\"v\":null}", "\n\n", "{",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src := lineRows(meta, bytes.NewReader(data), "db/t/rows.jsonl", "fuzz")
		var prev serialize.Row
		for {
			row, ok, err := src()
			if err != nil {
				if !bytes.Contains([]byte(err.Error()), []byte("db/t/rows.jsonl:")) {
					t.Fatalf("the error does not name the line: %v", err)
				}
				return
			}
			if !ok {
				return
			}
			if prev != nil && meta.CompareKeys(prev, row) >= 0 {
				t.Fatalf("rows out of key order: %s then %s", meta.KeyOf(prev), meta.KeyOf(row))
			}
			if _, err := meta.DecodeRow(meta.AppendLine(nil, row)); err != nil {
				t.Fatalf("a row yielded does not decode again: %v", err)
			}
			prev = row
		}
	})
}
