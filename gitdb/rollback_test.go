package gitdb

import (
	"fmt"
	"testing"

	"github.com/gitdbsync/git-dbsync/gitdb/ledger"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// A table's row images stream into the rollback's merge side by side, in
// key order, through the plan's spill file (TestMain spills past 3 ops);
// images out of key order (never recorded so) are sorted first; and a
// before-image's secret placeholder becomes the value the apply wrote.
func TestRollbackImagesInKeyOrder(t *testing.T) {
	meta := &serialize.Table{Name: "t", Key: []string{"k"}, Columns: []serialize.Column{{Name: "k", Type: serialize.Int}, {Name: "v", Type: serialize.Text, Nullable: true}}}
	if err := meta.Prepare(); err != nil {
		t.Fatal(err)
	}
	line := func(k int, v string) []byte {
		return meta.AppendLine(nil, serialize.Row{serialize.Cell(fmt.Sprint(k)), serialize.AppendString(nil, v)})
	}
	secret := serialize.SecretPlaceholder
	images := []ledger.Image{
		{Table: "t", Op: "delete", Before: line(1, "a")},
		{Table: "t", Op: "update", Before: line(2, secret), After: line(2, "written")},
		{Table: "t", Op: "insert", After: line(3, "c")},
		{Table: "t", Op: "update", Before: line(4, "d"), After: line(4, "D")},
		{Table: "t", Op: "insert", After: line(5, "e")},
	}
	rows := func(src merge.Source) string {
		var out string
		for {
			r, ok, err := src()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				return out
			}
			out += fmt.Sprintf("%s=%s ", r[0], r[1])
		}
	}
	for _, c := range []struct {
		name   string
		order  []int
		sorted bool
	}{
		{"recorded in key order", []int{0, 1, 2, 3, 4}, true},
		{"out of order", []int{4, 2, 0, 3, 1}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := &tableImages{sorted: true}
			for _, i := range c.order {
				if err := x.add(meta, images[i]); err != nil {
					t.Fatal(err)
				}
			}
			if x.sorted != c.sorted {
				t.Fatalf("sorted = %v", x.sorted)
			}
			after, before, stop, err := x.sides(meta)
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			if got, want := rows(after), `2="written" 3="c" 4="D" 5="e" `; got != want {
				t.Errorf("after-images %s, want %s", got, want)
			}
			if got, want := rows(before), `1="a" 2="written" 4="d" `; got != want {
				t.Errorf("before-images %s, want %s", got, want)
			}
		})
	}
}
