package merge

import "testing"

// Arrays merge as git merges lines; at the paths named sets, as sets.
func TestListsAndSets(t *testing.T) {
	for _, c := range []struct {
		name, b, t, o string
		sets          []string
		want          string // the merge with conflicts as ours; "" when it conflicts
		conflictAt    string
	}{
		{"set: both activate a plugin", `["a","b"]`, `["a","b","t"]`, `["a","b","o"]`, []string{"$"}, `["a","b","t","o"]`, ""},
		{"set: one removes, one adds", `["a","b"]`, `["a"]`, `["a","b","o"]`, []string{"$"}, `["a","o"]`, ""},
		{"set: both remove the same", `["a","b"]`, `["b"]`, `["b","a2"]`, []string{"$"}, `["b","a2"]`, ""},
		{"set inside a member", `{"p":["x"],"q":1}`, `{"p":["x","t"],"q":1}`, `{"p":["o"],"q":2}`, []string{"$.p"}, `{"p":["t","o"],"q":2}`, ""},
		{"list: inserts at different places", `[1,2,3,4]`, `[0,1,2,3,4]`, `[1,2,3,4,5]`, nil, `[0,1,2,3,4,5]`, ""},
		{"list: a delete and an insert apart", `[1,2,3,4]`, `[1,3,4]`, `[1,2,3,4,5]`, nil, `[1,3,4,5]`, ""},
		{"list: the same change on both sides", `[1,2,3]`, `[1,9,3]`, `[1,9,3,4]`, nil, `[1,9,3,4]`, ""},
		{"list: overlapping changes conflict at their index", `[1,2,3]`, `[1,8,3]`, `[1,9,3]`, nil, "", "$[1]"},
		{"list that is not a set conflicts where a set would not", `["a","b"]`, `["a","b","t"]`, `["a","b","o"]`, nil, "", "$[2]"},
	} {
		ours, theirs, cc, err := mergeJSON([]byte(c.b), []byte(c.t), []byte(c.o), c.sets)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		switch {
		case c.want != "" && (len(cc) != 0 || string(ours) != c.want || string(theirs) != c.want):
			t.Errorf("%s: got %s / %s, conflicts %+v; want %s", c.name, ours, theirs, cc, c.want)
		case c.want == "" && (len(cc) != 1 || cc[0].Path != c.conflictAt):
			t.Errorf("%s: conflicts %+v; want one at %s", c.name, cc, c.conflictAt)
		}
	}
}
