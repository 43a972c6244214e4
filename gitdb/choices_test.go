package gitdb

import "testing"

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
			if m, row := got.rowKey(c.wholeText, ""); !m || !row {
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
