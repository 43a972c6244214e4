package codec

import (
	"testing"

	"github.com/gitdbsync/git-dbsync/serialize"
)

func parse(t *testing.T, s string) serialize.Node {
	t.Helper()
	n, err := serialize.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func canon(t *testing.T, n *serialize.Node) string {
	t.Helper()
	out, err := serialize.AppendCanonical(nil, n, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestPathDeleteRestore(t *testing.T) {
	for _, c := range []struct{ path, doc, deleted string }{
		{"a.b", `{"a":{"b":1,"c":2}}`, `{"a":{"c":2}}`},
		{"list.#.secret", `{"list":[{"secret":"x","k":1},{"k":2}]}`, `{"list":[{"k":1},{"k":2}]}`},
		{"*.title", `{"2":{"title":"t","x":1},"3":{"title":"u"}}`, `{"2":{"x":1},"3":{}}`},
		{`a\.b`, `{"a.b":1,"a":{"b":2}}`, `{"a":{"b":2}}`},
		{"list.1", `{"list":[1,2,3]}`, `{"list":[1,null,3]}`},
	} {
		p, err := ParsePath(c.path)
		if err != nil {
			t.Fatal(err)
		}
		orig := parse(t, c.doc)
		n := parse(t, c.doc)
		p.Delete(&n)
		if got := canon(t, &n); got != c.deleted {
			t.Errorf("%s: delete gave %s, want %s", c.path, got, c.deleted)
		}
		p.Restore(&n, &orig)
		if got, want := canon(t, &n), canon(t, &orig); got != want {
			t.Errorf("%s: restore gave %s, want %s", c.path, got, want)
		}
	}
	if _, err := ParsePath("a..b"); err == nil {
		t.Error("empty step accepted")
	}
}
