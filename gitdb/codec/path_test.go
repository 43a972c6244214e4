package codec

import (
	"testing"

	"github.com/tidwall/gjson"
)

func TestPathDeleteRestore(t *testing.T) {
	for _, c := range []struct{ path, doc, deleted string }{
		{"a.b", `{"a":{"b":1,"c":2}}`, `{"a":{"c":2}}`},
		{"list.#.secret", `{"list":[{"secret":"x","k":1},{"k":2}]}`, `{"list":[{"k":1},{"k":2}]}`},
		{"*.title", `{"2":{"title":"t","x":1},"3":{"title":"u"}}`, `{"2":{"x":1},"3":{}}`},
		{`a\.b`, `{"a.b":1,"a":{"b":2}}`, `{"a":{"b":2}}`},
		{"list.1", `{"list":[1,2,3]}`, `{"list":[1,null,3]}`},
		// Names that are gjson syntax, and numeric names of an object.
		{`w\*.x`, `{"w*":{"x":1,"y":2}}`, `{"w*":{"y":2}}`},
		{`@order.1`, `{"1":"a","@order":{"1":2}}`, `{"1":"a","@order":{}}`},
		{"m.10", `{"m":{"10":"ten","9":"nine"}}`, `{"m":{"9":"nine"}}`},
		{"k.#", `{"k":{"#":1,"|":2,"?":3}}`, `{"k":{"|":2,"?":3}}`},
	} {
		p, err := ParsePath(c.path)
		if err != nil {
			t.Fatal(err)
		}
		deleted, err := p.Delete([]byte(c.doc))
		if err != nil || string(deleted) != c.deleted {
			t.Errorf("%s: delete gave %s (%v), want %s", c.path, deleted, err, c.deleted)
		}
		restored, err := p.Restore(deleted, []byte(c.doc))
		if err != nil || !sameJSON(string(restored), c.doc) {
			t.Errorf("%s: restore gave %s (%v), want %s", c.path, restored, err, c.doc)
		}
	}
	if _, err := ParsePath("a..b"); err == nil {
		t.Error("empty step accepted")
	}
}

// Every path operation keeps the bytes it does not touch: numbers as
// written (a 2^53+1 integer, a decimal's trailing zero, an exponent) and
// the order of members.
func TestPathsKeepNumbersAndOrder(t *testing.T) {
	doc := `{"z":9007199254740993,"price":12.30,"big":1E+400,"list":[{"id":3,"n":0.10},{"id":4,"n":-0}],"a":{"secret":"s","keep":1.0}}`
	must := func(out []byte, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	ids, _ := ParsePath("list.#.id")
	got := must(ids.Replace([]byte(doc), func(v gjson.Result) ([]byte, error) { return []byte(`"key-` + v.Raw + `"`), nil }))
	want := `{"z":9007199254740993,"price":12.30,"big":1E+400,"list":[{"id":"key-3","n":0.10},{"id":"key-4","n":-0}],"a":{"secret":"s","keep":1.0}}`
	if got != want {
		t.Errorf("replace:\n got %s\nwant %s", got, want)
	}
	secret, _ := ParsePath("a.secret")
	deleted := must(secret.Delete([]byte(doc)))
	if want := `{"z":9007199254740993,"price":12.30,"big":1E+400,"list":[{"id":3,"n":0.10},{"id":4,"n":-0}],"a":{"keep":1.0}}`; deleted != want {
		t.Errorf("delete:\n got %s\nwant %s", deleted, want)
	}
	if restored := must(secret.Restore([]byte(deleted), []byte(doc))); !sameJSON(restored, doc) || gjson.Get(restored, "z").Raw != "9007199254740993" {
		t.Errorf("restore: %s", restored)
	}
	all, _ := ParsePath("*")
	if locs := all.Locate([]byte(doc)); len(locs) != 5 || locs[0].Path != "z" || locs[4].Path != "a" {
		t.Errorf("locate * in document order: %+v", locs)
	}
}

// sameJSON compares two documents member by member, numbers as written.
func sameJSON(a, b string) bool {
	ra, rb := gjson.Parse(a), gjson.Parse(b)
	if ra.IsObject() != rb.IsObject() || ra.IsArray() != rb.IsArray() {
		return false
	}
	if !ra.IsObject() && !ra.IsArray() {
		return ra.Raw == rb.Raw
	}
	ma, mb := map[string]string{}, map[string]string{}
	ra.ForEach(func(k, v gjson.Result) bool { ma[k.String()] = v.Raw; return true })
	rb.ForEach(func(k, v gjson.Result) bool { mb[k.String()] = v.Raw; return true })
	if len(ma) != len(mb) {
		return false
	}
	for k, v := range ma {
		if w, ok := mb[k]; !ok || !sameJSON(v, w) {
			return false
		}
	}
	return true
}
