package merge

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// spillEvery runs the rest of a test with lists that spill past n ops.
func spillEvery(t *testing.T, n int) {
	old := SpillAt
	SpillAt = n
	t.Cleanup(func() { SpillAt = old })
}

// Ops read back from the file are the ops written: rows absent, nil
// cells, empty cells and bytes of every value, in order, with the counts.
func TestOpListSpillsAndReadsBack(t *testing.T) {
	spillEvery(t, 3)
	var want []Op
	for i := range 10 {
		key := serialize.Cell(fmt.Sprint(i))
		odd := serialize.Cell{0, 1, '\n', 0xff, '"'}
		switch i % 3 {
		case 0:
			want = append(want, Op{Kind: Insert, After: serialize.Row{key, nil, serialize.Cell{}, odd}})
		case 1:
			want = append(want, Op{Kind: Update, Before: serialize.Row{key, serialize.NullCell}, After: serialize.Row{key, serialize.Cell(`"x"`)}})
		case 2:
			want = append(want, Op{Kind: Delete, Before: serialize.Row{key}})
		}
	}
	l := OpsOf(want...)
	if l.file == nil || l.Len() != 10 || l.Count(Insert) != 4 || l.Count(Update) != 3 || l.Count(Delete) != 3 {
		t.Fatalf("spilled %v, len %d, counts %v", l.file != nil, l.Len(), l.counts)
	}
	for range 2 { // read twice: the file stays readable
		got, err := l.Collect()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("read back\n%q\nwant\n%q", got, want)
		}
		if got[0].After[1] != nil || got[0].After[2] == nil {
			t.Fatal("nil and empty cells were not told apart")
		}
	}
	var sizes []int
	for batch, err := range l.Batches(4) {
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(batch))
	}
	if fmt.Sprint(sizes) != "[4 4 2]" {
		t.Errorf("batches of %v", sizes)
	}
}

// Rewrite and Insert keep a spilled list in order and counted.
func TestOpListRewriteAndInsert(t *testing.T) {
	spillEvery(t, 2)
	op := func(k Kind, key string) Op {
		row := serialize.Row{serialize.Cell(key)}
		if k == Delete {
			return Op{Kind: k, Before: row}
		}
		return Op{Kind: k, After: row}
	}
	l := OpsOf(op(Insert, "1"), op(Delete, "3"), op(Insert, "5"), op(Delete, "7"))
	compare := func(a, b *Op) int { return strings.Compare(string(a.Row()[0]), string(b.Row()[0])) }
	if err := l.Insert(compare, op(Update, "0"), op(Update, "3"), op(Update, "9")); err != nil {
		t.Fatal(err)
	}
	if err := l.Rewrite(func(o *Op) (bool, error) { return o.Kind != Delete, nil }); err != nil {
		t.Fatal(err)
	}
	got, err := l.Collect()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range got {
		keys = append(keys, string(o.Kind[0])+string(o.Row()[0]))
	}
	if fmt.Sprint(keys) != "[u0 i1 u3 i5 u9]" || l.Count(Delete) != 0 || l.Count(Update) != 3 || l.Len() != 5 {
		t.Errorf("got %v, counts %v", keys, l.counts)
	}
}

// The merge decides the same through lists that spill at every op.
func TestMergeThroughSpilledOps(t *testing.T) {
	spillEvery(t, 1)
	t.Run("streams", TestStreamsByKey)
	t.Run("policies", TestPolicies)
	t.Run("block", TestBlock)
	t.Run("resolutions", TestResolutionsAndPrune)
}
