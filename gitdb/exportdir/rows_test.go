package exportdir

import (
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// files opens texts by name, as a tree opens blobs by ID.
type files map[string]string

func (f files) Open(id string) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(f[id])), nil
}

func changedRows(t *testing.T, base, theirs string) (b, th []string, same int, err error) {
	t.Helper()
	meta := &serialize.Table{Name: "t", Key: []string{"id"}, Columns: []serialize.Column{{Name: "id", Type: serialize.Int}, {Name: "v", Type: serialize.Text}}}
	if err := meta.Prepare(); err != nil {
		t.Fatal(err)
	}
	tree := files{"base": base, "theirs": theirs}
	bs, ts, n, closeAll, err := ChangedRows(tree, tree, meta, &Blob{Path: "db/t/rows.jsonl", ID: "base"}, &Blob{Path: "db/t/rows.jsonl", ID: "theirs"}, "v1", "v2")
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	drain := func(src merge.Source) ([]string, error) {
		var out []string
		for {
			r, ok, err := src()
			if err != nil || !ok {
				return out, err
			}
			out = append(out, string(meta.AppendLine(nil, r)))
		}
	}
	// One stream read after the other: each keeps its rows, whatever the
	// reader read since.
	if b, err = drain(bs); err == nil {
		th, err = drain(ts)
	}
	return b, th, *n, err
}

func line(id int, v string) string { return `{"id":` + strconv.Itoa(id) + `,"v":"` + v + `"}` + "\n" }

// The changed rows of two lines files, lines longer than the reader's
// buffer among them, come whole and unchanged by what is read after them.
func TestChangedRowsLongLines(t *testing.T) {
	long := strings.Repeat("x", 200_000)
	base := line(1, "a") + line(2, long) + line(3, "c") + line(4, long+"y") + line(5, "e")
	theirs := line(1, "a") + line(2, long) + line(3, "C") + line(4, long+"z") + line(6, "f")
	b, th, same, err := changedRows(t, base, theirs)
	if err != nil {
		t.Fatal(err)
	}
	want := func(got, want []string) {
		t.Helper()
		if strings.Join(got, "") != strings.Join(want, "") {
			t.Errorf("got %d rows %.60q, want %d rows %.60q", len(got), got, len(want), want)
		}
	}
	want(b, []string{line(3, "c"), line(4, long+"y"), line(5, "e")})
	want(th, []string{line(3, "C"), line(4, long+"z"), line(6, "f")})
	if same != 2 {
		t.Errorf("same lines: %d, want 2", same)
	}
}

// A key repeated right after a line both files share is out of order,
// though the shared line is never decoded for itself.
func TestChangedRowsRepeatedKeyAfterSameLine(t *testing.T) {
	_, _, _, err := changedRows(t, line(1, "a")+line(2, "b"), line(1, "a")+line(1, "again")+line(2, "b"))
	if err == nil || !strings.Contains(err.Error(), "out of key order or repeated") {
		t.Fatalf("got %v", err)
	}
}
