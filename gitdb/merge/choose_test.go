package merge

import (
	"slices"
	"testing"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// A path as mergeJSON names a conflict reads back as its member names,
// odd names included, and copying it takes theirs' value, or takes the
// member away where theirs has none.
func TestCopyPath(t *testing.T) {
	names, err := pathNames(`$.a["b c"]["x\"]y"].d`)
	if err != nil || !slices.Equal(names, []string{"a", "b c", `x"]y`, "d"}) {
		t.Fatalf("pathNames: %q, %v", names, err)
	}
	for _, bad := range []string{"", "$", "a.b", `$["b`} {
		if _, err := pathNames(bad); err == nil {
			t.Errorf("pathNames(%q) took a bad path", bad)
		}
	}
	for _, c := range []struct{ dst, src, path, want string }{
		{`{"a":{"b":1,"c":2}}`, `{"a":{"b":9,"c":8}}`, "$.a.b", `{"a":{"b":9,"c":2}}`},
		{`{"a":{"b":1,"c":2}}`, `{"a":{"c":8}}`, "$.a.b", `{"a":{"c":2}}`},
		{`{"a":{"c":2}}`, `{"a":{"b c":[1],"c":8}}`, `$.a["b c"]`, `{"a":{"b c":[1],"c":2}}`},
	} {
		got, err := copyPath([]byte(c.dst), []byte(c.src), c.path)
		if err != nil || string(got) != c.want {
			t.Errorf("copyPath(%s, %s, %s) = %s, %v; want %s", c.dst, c.src, c.path, got, err, c.want)
		}
	}
}

// A delete that rows outside the plan still refer to leaves the ops and
// becomes a blocked-delete conflict, unresolved, whose theirs is the
// delete; a delete-vs-edit conflict resolved to the delete becomes it; a
// row the plan does not delete is not blocked.
func TestBlock(t *testing.T) {
	meta := table(t)
	by := []string{`table "posts", column "type_id" (2 rows)`}
	cases := []struct {
		name                string
		base, theirs, ours  serialize.Row
		resolve             Resolution
		blocked             bool
		wantBase, wantFirst bool // the conflict keeps the base; it was one before
	}{
		{name: "plain delete", base: row(`"a",1,null`), theirs: nil, ours: row(`"a",1,null`), blocked: true},
		{name: "deleted-changed resolved to the delete", base: row(`"a",1,null`), theirs: nil, ours: row(`"B",1,null`),
			resolve: Theirs, blocked: true, wantBase: true, wantFirst: true},
		{name: "deleted-changed kept", base: row(`"a",1,null`), theirs: nil, ours: row(`"B",1,null`), resolve: Ours},
		{name: "an update", base: row(`"a",1,null`), theirs: row(`"A",1,null`), ours: row(`"a",1,null`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Table(meta, one(c.base), one(c.theirs), one(c.ours), Options{Resolve: c.resolve})
			if err != nil {
				t.Fatal(err)
			}
			had := len(p.Conflicts)
			got, err := p.Block([]Blocked{{Row: c.ours, ReferredBy: by}})
			if err != nil || (got == 1) != c.blocked {
				t.Fatalf("Block = %v, %v, want %v", got, err, c.blocked)
			}
			if !c.blocked {
				if len(p.Conflicts) != had || p.Unresolved() != 0 {
					t.Errorf("a row not deleted was blocked: %+v", p.Conflicts)
				}
				return
			}
			if p.Ops.Len() != 0 || len(p.Conflicts) != 1 || p.Unresolved() != 1 {
				t.Fatalf("ops %+v, conflicts %+v", opsOf(p), p.Conflicts)
			}
			bc := p.Conflicts[0]
			if bc.Kind != BlockedDelete || !slices.Equal(bc.ReferredBy, by) || bc.IfOurs != nil ||
				bc.IfTheirs == nil || bc.IfTheirs.Kind != Delete || (bc.Base != nil) != c.wantBase || (had == 1) != c.wantFirst {
				t.Errorf("conflict %+v", bc)
			}
		})
	}
}
