package gitdb

import (
	"fmt"
	"testing"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// --resolve reads a row, a column or a path; a key may hold ':' or '='.
func TestParseChoice(t *testing.T) {
	for _, c := range []struct {
		in                  string
		key, column, path   string
		side                Resolution
		wholeKey, wholeText string // a row key that the whole of it names
	}{
		{in: "settings:posts_per_page=ours", key: "posts_per_page", side: Ours},
		{in: "settings:theme:data=theirs", key: "theme", column: "data", side: Theirs},
		{in: "settings:theme:data.colors.accent=ours", key: "theme", column: "data", path: "$.colors.accent", side: Ours},
		{in: `settings:theme:data["a b"]=ours`, key: "theme", column: "data", path: `$["a b"]`, side: Ours},
		{in: "config:system:site=theirs", key: "system", column: "site", side: Theirs, wholeText: "system:site"},
		{in: "t:a=b=ours", key: "a=b", side: Ours},
		{in: `config:"system:site"=ours`, key: `"system:site"`, side: Ours},
		{in: `config:"system:site":value.a=ours`, key: `"system:site"`, column: "value", path: "$.a", side: Ours},
		{in: `menus:"main, About"=theirs`, key: `"main, About"`, side: Theirs},
		{in: `menus:main, About:title=theirs`, key: "main, About", column: "title", side: Theirs},
	} {
		got, err := ParseChoice(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if got.Key != c.key || got.Column != c.column || got.Path != c.path || got.Side != c.side {
			t.Errorf("%s: got %+v", c.in, got)
		}
		if got.String() != c.in {
			t.Errorf("%s: String() = %s", c.in, got.String())
		}
		if c.wholeText != "" {
			if m, row := got.rowKey(c.wholeText, c.wholeText, ""); !m || !row {
				t.Errorf("%s: does not name the row %q", c.in, c.wholeText)
			}
		}
	}
	for _, bad := range []string{"settings=ours", "settings:x=mine", ":x=ours", "settings:x"} {
		if _, err := ParseChoice(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// A row's key is spelled one way, as plan shows it, and --resolve takes
// that spelling, the key quoted whole, or (for a key holding ':') the key
// unquoted; other keys are not the row's.
func TestChoiceNamesKey(t *testing.T) {
	for _, c := range []struct {
		name      string
		key       []string
		spelled   string
		names     []string
		notNames  []string
		wholeKeys bool
	}{
		{name: "plain", key: []string{"editor"}, spelled: "editor", names: []string{"editor", `"editor"`}, notNames: []string{"Editor", "edit"}},
		{name: "composite", key: []string{"main", "About"}, spelled: "main, About",
			names: []string{"main, About", `"main, About"`}, notNames: []string{"main/About", "main,About", "main"}},
		{name: "colon", key: []string{"system:site"}, spelled: `"system:site"`, names: []string{`"system:site"`, "system:site"}},
		{name: "comma in a part", key: []string{"a, b", "c"}, spelled: `"a, b", c`,
			names: []string{`"a, b", c`, `"\"a, b\", c"`}, notNames: []string{"a, b"}},
		{name: "padded", key: []string{" x"}, spelled: `" x"`, names: []string{`" x"`}, notNames: []string{"x"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			meta := &serialize.Table{Name: "t", Key: keyColumns(len(c.key))}
			for _, k := range meta.Key {
				meta.Columns = append(meta.Columns, serialize.Column{Name: k, Type: serialize.Text})
			}
			if err := meta.Prepare(); err != nil {
				t.Fatal(err)
			}
			var row serialize.Row
			for _, k := range c.key {
				row = append(row, serialize.AppendString(nil, k))
			}
			if got := keyText(meta, row); got != c.spelled {
				t.Errorf("keyText = %s, want %s", got, c.spelled)
			}
			for _, typed := range c.names {
				ch, err := ParseChoice("t:" + typed + "=ours")
				if err != nil {
					t.Fatal(err)
				}
				if m, whole := ch.rowKey(rowKeys(meta, row)); !m || !whole {
					t.Errorf("--resolve t:%s=ours does not name the row %s", typed, c.spelled)
				}
			}
			for _, typed := range c.notNames {
				ch, _ := ParseChoice("t:" + typed + "=ours")
				if m, _ := ch.rowKey(rowKeys(meta, row)); m {
					t.Errorf("--resolve t:%s=ours names the row %s", typed, c.spelled)
				}
			}
		})
	}
}

func keyColumns(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("k%d", i))
	}
	return out
}
