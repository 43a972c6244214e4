package merge

import (
	"slices"
	"testing"
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
