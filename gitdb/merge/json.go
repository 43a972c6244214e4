package merge

import (
	"bytes"
	"regexp"
	"strconv"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// mergeJSON merges three canonical JSON documents member by member: where
// objects are on every side, each member merges on its own, so edits to
// different paths combine. Arrays and scalars are values: changed on both
// sides differently, they conflict at their path. It returns the merge
// with conflicting paths taken from ours, the same taken from theirs, and
// the conflicts. A nil document is absent (a NULL cell is "null").
func mergeJSON(b, t, o []byte) (ours, theirs []byte, conflicts []Cell, err error) {
	var nb, nt, no *serialize.Node
	for _, x := range []struct {
		src []byte
		dst **serialize.Node
	}{{b, &nb}, {t, &nt}, {o, &no}} {
		if x.src == nil {
			continue
		}
		n, err := serialize.Parse(x.src)
		if err != nil {
			return nil, nil, nil, err
		}
		*x.dst = &n
	}
	mo, mt, conflicts := mergeNode(nb, nt, no, "$")
	if ours, err = encode(mo); err != nil {
		return nil, nil, nil, err
	}
	theirs, err = encode(mt)
	return ours, theirs, conflicts, err
}

func encode(n *serialize.Node) ([]byte, error) {
	if n == nil {
		return serialize.NullCell, nil
	}
	return serialize.AppendCanonical(nil, n, "", "")
}

func same(a, b *serialize.Node) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, err1 := serialize.AppendCanonical(nil, a, "", "")
	y, err2 := serialize.AppendCanonical(nil, b, "", "")
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// mergeNode merges one value; nil means absent.
func mergeNode(b, t, o *serialize.Node, path string) (ours, theirs *serialize.Node, conflicts []Cell) {
	switch {
	case same(t, o), same(t, b):
		return o, o, nil
	case same(o, b):
		return t, t, nil
	case b != nil && t != nil && o != nil && b.Kind == serialize.Object && t.Kind == serialize.Object && o.Kind == serialize.Object:
		mo := &serialize.Node{Kind: serialize.Object}
		mt := &serialize.Node{Kind: serialize.Object}
		for _, name := range memberNames(b, t, o) {
			if name == serialize.OrderMember {
				if order := mergeOrder(member(b, name), member(t, name), member(o, name)); order != nil {
					m := serialize.Member{Name: name, Value: *order}
					mo.Members, mt.Members = append(mo.Members, m), append(mt.Members, m)
				}
				continue
			}
			vo, vt, cc := mergeNode(member(b, name), member(t, name), member(o, name), path+pathStep(name))
			if vo != nil {
				mo.Members = append(mo.Members, serialize.Member{Name: name, Value: *vo})
			}
			if vt != nil {
				mt.Members = append(mt.Members, serialize.Member{Name: name, Value: *vt})
			}
			conflicts = append(conflicts, cc...)
		}
		return mo, mt, conflicts
	}
	enc := func(n *serialize.Node) []byte {
		if n == nil {
			return nil
		}
		out, _ := serialize.AppendCanonical(nil, n, "", "")
		return out
	}
	return o, t, []Cell{{Path: path, Base: enc(b), Ours: enc(o), Theirs: enc(t)}}
}

// mergeOrder combines two changed member orders without a conflict: the
// order is a presentation detail, the members themselves merge on their
// own. Theirs comes first, then the names only ours lists.
func mergeOrder(b, t, o *serialize.Node) *serialize.Node {
	v, _, cc := mergeNode(b, t, o, "")
	if len(cc) == 0 {
		return v
	}
	if t == nil || o == nil {
		return nil // one side no longer needs an order: canonical order it is
	}
	out := &serialize.Node{Kind: serialize.Array}
	seen := map[string]bool{}
	for _, side := range []*serialize.Node{t, o} {
		for _, it := range side.Items {
			if !seen[it.Text] {
				seen[it.Text] = true
				out.Items = append(out.Items, it)
			}
		}
	}
	return out
}

func member(n *serialize.Node, name string) *serialize.Node {
	v, _ := n.Get(name)
	return v
}

// memberNames lists the member names of the objects, each once, in the
// order first seen (the canonical encoder sorts them anyway).
func memberNames(objs ...*serialize.Node) []string {
	seen := map[string]bool{}
	var names []string
	for _, o := range objs {
		for _, m := range o.Members {
			if !seen[m.Name] {
				seen[m.Name] = true
				names = append(names, m.Name)
			}
		}
	}
	return names
}

var plainName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// pathStep writes one member step of a JSONPath: .name, or ["odd name"].
func pathStep(name string) string {
	if plainName.MatchString(name) {
		return "." + name
	}
	return "[" + strconv.Quote(name) + "]"
}

// PathChange is one difference between two JSON documents: the value at
// Path (nil where absent) before and after.
type PathChange struct {
	Path          string
	Before, After []byte
}

// JSONChanges lists where two JSON documents differ, member by member
// down through objects (and item by item through arrays of one length),
// so that a change deep inside a large value reads as that change. It
// returns nil when either side is not a JSON object or array.
func JSONChanges(before, after []byte) []PathChange {
	a, errA := serialize.Parse(before)
	b, errB := serialize.Parse(after)
	if errA != nil || errB != nil || !container(&a) || !container(&b) {
		return nil
	}
	var out []PathChange
	jsonChanges(&a, &b, "$", &out)
	return out
}

func container(n *serialize.Node) bool {
	return n != nil && (n.Kind == serialize.Object || n.Kind == serialize.Array)
}

func jsonChanges(a, b *serialize.Node, path string, out *[]PathChange) {
	if same(a, b) {
		return
	}
	enc := func(n *serialize.Node) []byte {
		if n == nil {
			return nil
		}
		out, _ := serialize.AppendCanonical(nil, n, "", "")
		return out
	}
	switch {
	case a != nil && b != nil && a.Kind == serialize.Object && b.Kind == serialize.Object:
		for _, name := range memberNames(a, b) {
			jsonChanges(member(a, name), member(b, name), path+pathStep(name), out)
		}
	case a != nil && b != nil && a.Kind == serialize.Array && b.Kind == serialize.Array && len(a.Items) == len(b.Items):
		for i := range a.Items {
			jsonChanges(&a.Items[i], &b.Items[i], path+"["+strconv.Itoa(i)+"]", out)
		}
	default:
		*out = append(*out, PathChange{Path: path, Before: enc(a), After: enc(b)})
	}
}
