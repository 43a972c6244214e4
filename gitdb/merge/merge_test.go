package merge

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/serialize"
)

func table(t *testing.T) *serialize.Table {
	m := &serialize.Table{Name: "settings", Key: []string{"k"}, Columns: []serialize.Column{
		{Name: "k", Type: serialize.Text}, {Name: "a", Type: serialize.Text, Nullable: true},
		{Name: "b", Type: serialize.Int, Nullable: true}, {Name: "j", Type: serialize.JSON, Nullable: true},
	}}
	if err := m.Prepare(); err != nil {
		t.Fatal(err)
	}
	return m
}

// row builds a row from "a,b,j" cell texts ("-" for absent: no row).
func row(spec string) serialize.Row {
	if spec == "-" {
		return nil
	}
	parts := strings.SplitN(spec, ",", 3)
	r := serialize.Row{serialize.Cell(`"x"`)}
	for _, p := range parts {
		r = append(r, serialize.Cell(p))
	}
	return r
}

func one(r serialize.Row) Source {
	if r == nil {
		return Empty
	}
	return Rows([]serialize.Row{r})
}

func fmtRow(r serialize.Row) string {
	if r == nil {
		return "-"
	}
	var parts []string
	for _, c := range r[1:] {
		parts = append(parts, string(c))
	}
	return strings.Join(parts, ",")
}

// The merge rules as a truth table: base, theirs, ours → outcome.
// Outcome: "=" unchanged, "insert X", "update X", "delete", or
// "conflict KIND cells; ours→X; theirs→Y" (X, Y the resolutions' rows,
// "=" for no change).
func TestTruthTable(t *testing.T) {
	const o1 = `"a",1,{"p":1,"q":1}`
	tests := []struct {
		name              string
		base, theirs, our string
		noBase            bool
		want              string
	}{
		{"nothing changed", o1, o1, o1, false, "="},
		{"theirs changed a cell", o1, `"A",1,{"p":1,"q":1}`, o1, false, `update "A",1,{"p":1,"q":1}`},
		{"ours changed a cell", o1, o1, `"a",2,{"p":1,"q":1}`, false, "="},
		{"both changed different cells", o1, `"A",1,{"p":1,"q":1}`, `"a",2,{"p":1,"q":1}`, false, `update "A",2,{"p":1,"q":1}`},
		{"both changed a cell the same way", o1, `"A",1,{"p":1,"q":1}`, `"A",1,{"p":1,"q":1}`, false, "="},
		{"both changed a cell differently", o1, `"A",1,{"p":1,"q":1}`, `"B",1,{"p":1,"q":1}`, false,
			`conflict both-changed a; ours→=; theirs→"A",1,{"p":1,"q":1}`},
		{"both changed different JSON paths", o1, `"a",1,{"p":2,"q":1}`, `"a",1,{"p":1,"q":3}`, false, `update "a",1,{"p":2,"q":3}`},
		{"JSON member added on one side, changed on the other", o1, `"a",1,{"p":1,"q":1,"r":5}`, `"a",1,{"p":9,"q":1}`, false, `update "a",1,{"p":9,"q":1,"r":5}`},
		{"both changed one JSON path differently", o1, `"a",1,{"p":2,"q":1}`, `"a",1,{"p":3,"q":1}`, false,
			`conflict both-changed j$.p; ours→=; theirs→"a",1,{"p":2,"q":1}`},
		{"JSON path deleted vs changed", o1, `"a",1,{"q":1}`, `"a",1,{"p":3,"q":1}`, false,
			`conflict both-changed j$.p; ours→=; theirs→"a",1,{"q":1}`},
		{"JSON conflict beside a clean cell change", o1, `"A",1,{"p":2,"q":1}`, `"a",1,{"p":3,"q":1}`, false,
			`conflict both-changed j$.p; ours→"A",1,{"p":3,"q":1}; theirs→"A",1,{"p":2,"q":1}`},
		{"theirs deleted an unchanged row", o1, "-", o1, false, "delete"},
		{"theirs deleted a row ours changed", o1, "-", `"a",2,{"p":1,"q":1}`, false, "conflict deleted-changed ; ours→=; theirs→delete"},
		{"ours deleted an unchanged row", o1, o1, "-", false, "="},
		{"ours deleted a row theirs changed", o1, `"A",1,{"p":1,"q":1}`, "-", false, `conflict changed-deleted ; ours→=; theirs→insert "A",1,{"p":1,"q":1}`},
		{"both deleted", o1, "-", "-", false, "="},
		{"theirs added", "-", o1, "-", false, `insert "a",1,{"p":1,"q":1}`},
		{"ours added", "-", "-", o1, false, "="},
		{"both added the same", "-", o1, o1, false, "="},
		{"both added differently", "-", o1, `"a",2,{"p":1,"q":1}`, false, `conflict both-added b; ours→=; theirs→"a",1,{"p":1,"q":1}`},
		{"first apply: the revision wins", "-", o1, `"a",2,{"p":1,"q":1}`, true, `update "a",1,{"p":1,"q":1}`},
		{"first apply: target-only row is untracked", "-", "-", o1, true, "untracked"},
		{"column new in base: the revision wins", `"a",1`, `"a",1,{"n":1}`, `"a",1,{"n":2}`, false, `update "a",1,{"n":1}`},
		{"NULL to value on one side", `"a",null,null`, `"a",null,{"p":1}`, `"a",5,null`, false, `update "a",5,{"p":1}`},
	}
	meta := table(t)
	for _, tt := range tests {
		b, th, o := row(tt.base), row(tt.theirs), row(tt.our)
		if b != nil && len(b) < len(meta.Columns) { // a column base did not have
			b = append(b, nil)
		}
		p, err := Table(meta, one(b), one(th), one(o), Options{NoBase: tt.noBase})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := outcome(p); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func outcome(p *TablePlan) string {
	switch {
	case len(p.Conflicts) == 1:
		c := p.Conflicts[0]
		var cells []string
		for _, cc := range c.Cells {
			cells = append(cells, cc.Column+strings.TrimPrefix(cc.Path, "$ "))
		}
		res := func(op *Op) string {
			switch {
			case op == nil:
				return "="
			case op.Kind == Delete:
				return "delete"
			case op.Kind == Insert:
				return "insert " + fmtRow(op.After)
			}
			return fmtRow(op.After)
		}
		return "conflict " + string(c.Kind) + " " + strings.Join(cells, ",") + "; ours→" + res(c.IfOurs) + "; theirs→" + res(c.IfTheirs)
	case p.Untracked.Len() == 1:
		return "untracked"
	case p.Ops.Len() == 0 && p.Unchanged == 1:
		return "="
	case p.Ops.Len() == 1:
		op := opsOf(p)[0]
		if op.Kind == Delete {
			return "delete"
		}
		return string(op.Kind) + " " + fmtRow(op.After)
	}
	return "?"
}

func TestResolutionsAndPrune(t *testing.T) {
	meta := table(t)
	b, th, o := row(`"a",1,null`), row(`"A",1,null`), row(`"B",1,null`)
	for _, res := range []Resolution{Ours, Theirs} {
		p, _ := Table(meta, one(b), one(th), one(o), Options{Resolve: res})
		if p.Unresolved() != 0 || len(p.Conflicts) != 1 {
			t.Fatalf("%s: %+v", res, p)
		}
		if ops := opsOf(p); res == Ours && len(ops) != 0 || res == Theirs && (len(ops) != 1 || string(ops[0].After[1]) != `"A"`) {
			t.Errorf("%s: ops %+v", res, ops)
		}
	}
	p, _ := Table(meta, Empty, Empty, one(o), Options{NoBase: true, Prune: true})
	if ops := opsOf(p); p.Untracked.Len() != 1 || len(ops) != 1 || ops[0].Kind != Delete {
		t.Errorf("prune: %+v", p)
	}
}

// Many keys stream through in order, each decided on its own.
func TestStreamsByKey(t *testing.T) {
	meta := table(t)
	mk := func(k, a string) serialize.Row {
		return serialize.Row{serialize.Cell(`"` + k + `"`), serialize.Cell(`"` + a + `"`), serialize.Cell("1"), serialize.NullCell}
	}
	base := []serialize.Row{mk("a", "1"), mk("b", "1"), mk("c", "1"), mk("e", "1")}
	theirs := []serialize.Row{mk("a", "2"), mk("c", "1"), mk("d", "1"), mk("e", "1")}
	ours := []serialize.Row{mk("a", "1"), mk("b", "1"), mk("c", "1"), mk("e", "9"), mk("f", "1")}
	p, err := Table(meta, Rows(base), Rows(theirs), Rows(ours), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range opsOf(p) {
		r := op.After
		if r == nil {
			r = op.Before
		}
		got = append(got, string(op.Kind)+" "+string(r[0]))
	}
	if strings.Join(got, "; ") != `update "a"; delete "b"; insert "d"` || p.Unchanged != 3 {
		t.Errorf("got %v, unchanged %d", got, p.Unchanged)
	}
	_, err = Table(meta, Rows([]serialize.Row{mk("b", "1"), mk("a", "1")}), Empty, Empty, Options{})
	if err == nil {
		t.Error("rows out of order were accepted")
	}
}

// create-only inserts and nothing else; no-delete does all but delete;
// the conflicts they forbid keep the target's rows.
func TestPolicies(t *testing.T) {
	meta := table(t)
	mk := func(k, a string) serialize.Row {
		return serialize.Row{serialize.Cell(`"` + k + `"`), serialize.Cell(`"` + a + `"`), serialize.Cell("1"), serialize.NullCell}
	}
	base := []serialize.Row{mk("a", "1"), mk("b", "1"), mk("c", "1")}
	theirs := []serialize.Row{mk("a", "2"), mk("c", "3"), mk("d", "1")}
	ours := []serialize.Row{mk("a", "1"), mk("b", "1"), mk("c", "9")}
	kinds := func(p *TablePlan) string {
		var out []string
		for _, op := range opsOf(p) {
			out = append(out, string(op.Kind)+" "+string(rowOfOp(op)[0]))
		}
		return strings.Join(out, "; ")
	}
	for policy, want := range map[Policy]string{
		Everything: `update "a"; delete "b"; insert "d"`,
		CreateOnly: `insert "d"`,
		NoDelete:   `update "a"; insert "d"`,
	} {
		p, err := Table(meta, Rows(base), Rows(theirs), Rows(ours), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Restrict(policy); err != nil {
			t.Fatal(err)
		}
		if got := kinds(p); got != want {
			t.Errorf("%q: %s, want %s", policy, got, want)
		}
		// c changed on both sides: create-only keeps the target's; the
		// others leave the choice to the user.
		if want := map[Policy]int{Everything: 1, CreateOnly: 0, NoDelete: 1}[policy]; p.Unresolved() != want {
			t.Errorf("%q leaves %d conflicts, want %d", policy, p.Unresolved(), want)
		}
	}
}

func rowOfOp(op Op) serialize.Row {
	if op.After != nil {
		return op.After
	}
	return op.Before
}

func TestMergeOrderMember(t *testing.T) {
	b := []byte(`{"@order":["c","a"],"a":1,"c":1}`)
	th := []byte(`{"@order":["c","a","b"],"a":1,"b":2,"c":1}`)
	o := []byte(`{"@order":["c","a","d"],"a":1,"c":1,"d":3}`)
	ours, theirs, conflicts, err := mergeJSON(b, th, o, nil)
	if err != nil || len(conflicts) != 0 {
		t.Fatalf("conflicts %v, err %v", conflicts, err)
	}
	want := `{"@order":["c","a","b","d"],"a":1,"b":2,"c":1,"d":3}`
	if string(ours) != want || string(theirs) != want {
		t.Errorf("got %s / %s, want %s", ours, theirs, want)
	}
}

func TestJSONChanges(t *testing.T) {
	got := JSONChanges([]byte(`{"a":{"b":1,"c":[1,2]},"d":[1],"e":"x"}`), []byte(`{"a":{"b":2,"c":[1,3]},"d":[1,2],"f":true,"e":"x"}`))
	want := []PathChange{
		{Path: "$.a.b", Before: []byte("1"), After: []byte("2")},
		{Path: "$.a.c[1]", Before: []byte("2"), After: []byte("3")},
		{Path: "$.d", Before: []byte("[1]"), After: []byte("[1,2]")},
		{Path: "$.f", After: []byte("true")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if JSONChanges([]byte(`"a"`), []byte(`{"a":1}`)) != nil {
		t.Error("a string and an object: want the cell shown whole")
	}
}

// A set changes by members, not by position; a new order is no change.
func TestJSONChangesSets(t *testing.T) {
	for _, tc := range []struct {
		name, before, after string
		sets                []string
		want                string
	}{
		{"a member replaced", `{"p":["a","b","c"]}`, `{"p":["a","b","d"]}`, []string{"$.p"}, `[{$.p [] [] true ["\"d\""] ["\"c\""]}]`},
		{"root set, one added and one removed", `["x","y"]`, `["y","z","w"]`, []string{"$"}, `[{$ [] [] true ["\"z\"" "\"w\""] ["\"x\""]}]`},
		{"reordered only", `{"p":["a","b"]}`, `{"p":["b","a"]}`, []string{"$.p"}, `[]`},
		{"not a set: by position", `{"p":["a","b","c"]}`, `{"p":["a","b","d"]}`, nil, `[{$.p[2] ["\"c\""] ["\"d\""] false [] []}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var parts []string
			for _, c := range JSONChanges([]byte(tc.before), []byte(tc.after), tc.sets...) {
				q := func(l [][]byte) string {
					var s []string
					for _, b := range l {
						s = append(s, strconv.Quote(string(b)))
					}
					return "[" + strings.Join(s, " ") + "]"
				}
				before, after := "[]", "[]"
				if !c.Set {
					before, after = q([][]byte{c.Before}), q([][]byte{c.After})
				}
				parts = append(parts, fmt.Sprintf("{%s %s %s %v %s %s}", c.Path, before, after, c.Set, q(c.Added), q(c.Removed)))
			}
			if got := "[" + strings.Join(parts, " ") + "]"; got != tc.want {
				t.Errorf("got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// opsOf is a plan's ops in a slice.
func opsOf(p *TablePlan) []Op {
	ops, err := p.Ops.Collect()
	if err != nil {
		panic(err)
	}
	return ops
}
