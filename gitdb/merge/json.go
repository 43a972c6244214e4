package merge

import (
	"bytes"
	"regexp"
	"slices"
	"strconv"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// mergeJSON merges three canonical JSON documents member by member: where
// objects are on every side, each member merges on its own, so edits to
// different paths combine. Arrays merge as git merges lines (mergeList),
// or as sets at the paths sets names (mergeSet). Scalars are values:
// changed on both sides differently, they conflict at their path. It
// returns the merge with conflicting paths taken from ours, the same taken
// from theirs, and the conflicts. A nil document is absent (a NULL cell is
// "null").
func mergeJSON(b, t, o []byte, sets []string) (ours, theirs []byte, conflicts []Cell, err error) {
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
	m := &jsonMerge{sets: sets}
	mo, mt, conflicts := m.node(nb, nt, no, "$")
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

// jsonMerge merges the values of one JSON cell.
type jsonMerge struct {
	sets []string // paths ($.a.b) whose arrays are sets
}

// node merges one value; nil means absent.
func (m *jsonMerge) node(b, t, o *serialize.Node, path string) (ours, theirs *serialize.Node, conflicts []Cell) {
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
			vo, vt, cc := m.node(member(b, name), member(t, name), member(o, name), path+pathStep(name))
			if vo != nil {
				mo.Members = append(mo.Members, serialize.Member{Name: name, Value: *vo})
			}
			if vt != nil {
				mt.Members = append(mt.Members, serialize.Member{Name: name, Value: *vt})
			}
			conflicts = append(conflicts, cc...)
		}
		return mo, mt, conflicts
	case isArray(b) && isArray(t) && isArray(o) && slices.Contains(m.sets, path):
		return mergeSet(b, t, o), mergeSet(b, t, o), nil
	case isArray(b) && isArray(t) && isArray(o):
		return mergeList(b, t, o, path)
	}
	return o, t, []Cell{{Path: path, Base: enc(b), Ours: enc(o), Theirs: enc(t)}}
}

func enc(n *serialize.Node) []byte {
	if n == nil {
		return nil
	}
	out, _ := serialize.AppendCanonical(nil, n, "", "")
	return out
}

func isArray(n *serialize.Node) bool { return n != nil && n.Kind == serialize.Array }

// mergeSet merges arrays that are sets (WordPress's active plugins, a
// role's permissions): the items each side added or removed, compared by
// value, all count. The order is theirs, then the items only ours added.
func mergeSet(b, t, o *serialize.Node) *serialize.Node {
	in := func(n *serialize.Node) map[string]bool {
		set := map[string]bool{}
		for i := range n.Items {
			set[string(enc(&n.Items[i]))] = true
		}
		return set
	}
	inB, inT, inO := in(b), in(t), in(o)
	out := &serialize.Node{Kind: serialize.Array, Items: []serialize.Node{}}
	seen := map[string]bool{}
	add := func(item serialize.Node, k string) {
		if !seen[k] {
			seen[k] = true
			out.Items = append(out.Items, item)
		}
	}
	for _, item := range t.Items {
		if k := string(enc(&item)); !inB[k] || inO[k] { // not removed by ours
			add(item, k)
		}
	}
	for _, item := range o.Items {
		if k := string(enc(&item)); !inB[k] && !inT[k] { // added by ours
			add(item, k)
		}
	}
	return out
}

// mergeList merges ordinary arrays as git merges the lines of a file
// (diff3): between the items unchanged on both sides, a stretch changed on
// one side takes that change, the same change on both is taken once, and
// different changes to the same stretch conflict at its index.
func mergeList(b, t, o *serialize.Node, path string) (ours, theirs *serialize.Node, conflicts []Cell) {
	keys := func(n *serialize.Node) []string {
		out := make([]string, len(n.Items))
		for i := range n.Items {
			out[i] = string(enc(&n.Items[i]))
		}
		return out
	}
	kb, kt, ko := keys(b), keys(t), keys(o)
	mt, mo := lcs(kb, kt), lcs(kb, ko) // base index → index on that side, or -1
	mergedO := &serialize.Node{Kind: serialize.Array, Items: []serialize.Node{}}
	mergedT := &serialize.Node{Kind: serialize.Array, Items: []serialize.Node{}}
	i, jt, jo := 0, 0, 0
	chunk := func(ib, it, io int) { // base[i:ib], theirs[jt:it], ours[jo:io]
		cb, ct, co := kb[i:ib], kt[jt:it], ko[jo:io]
		switch {
		case slices.Equal(co, cb), slices.Equal(co, ct):
			mergedO.Items = append(mergedO.Items, t.Items[jt:it]...)
			mergedT.Items = append(mergedT.Items, t.Items[jt:it]...)
		case slices.Equal(ct, cb):
			mergedO.Items = append(mergedO.Items, o.Items[jo:io]...)
			mergedT.Items = append(mergedT.Items, o.Items[jo:io]...)
		default:
			at := len(mergedO.Items)
			arr := func(n *serialize.Node, lo, hi int) []byte {
				return enc(&serialize.Node{Kind: serialize.Array, Items: append([]serialize.Node{}, n.Items[lo:hi]...)})
			}
			conflicts = append(conflicts, Cell{Path: path + "[" + strconv.Itoa(at) + "]", Base: arr(b, i, ib), Ours: arr(o, jo, io), Theirs: arr(t, jt, it)})
			mergedO.Items = append(mergedO.Items, o.Items[jo:io]...)
			mergedT.Items = append(mergedT.Items, t.Items[jt:it]...)
		}
	}
	for k := range kb {
		if mt[k] < jt || mo[k] < jo { // not kept on both sides, in order
			continue
		}
		chunk(k, mt[k], mo[k])
		mergedO.Items = append(mergedO.Items, b.Items[k])
		mergedT.Items = append(mergedT.Items, b.Items[k])
		i, jt, jo = k+1, mt[k]+1, mo[k]+1
	}
	chunk(len(kb), len(kt), len(ko))
	return mergedO, mergedT, conflicts
}

// lcs pairs the items of a with those of b along a longest common
// subsequence: for each index of a, its index in b, or -1.
func lcs(a, b []string) []int {
	n, m := len(a), len(b)
	l := make([][]int, n+1)
	for i := range l {
		l[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	pair := make([]int, n)
	for i := range pair {
		pair[i] = -1
	}
	for i, j := 0, 0; i < n && j < m; {
		switch {
		case a[i] == b[j]:
			pair[i] = j
			i, j = i+1, j+1
		case l[i+1][j] >= l[i][j+1]:
			i++
		default:
			j++
		}
	}
	return pair
}

// mergeOrder combines two changed member orders without a conflict: the
// order is a presentation detail, the members themselves merge on their
// own. Theirs comes first, then the names only ours lists.
func mergeOrder(b, t, o *serialize.Node) *serialize.Node {
	v, _, cc := (&jsonMerge{}).node(b, t, o, "")
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
// PathOf names the member reached through names, as conflicts name paths:
// $.a["b c"].
func PathOf(names ...string) string {
	p := "$"
	for _, n := range names {
		p += pathStep(n)
	}
	return p
}

func pathStep(name string) string {
	if plainName.MatchString(name) {
		return "." + name
	}
	return "[" + strconv.Quote(name) + "]"
}

// PathChange is one difference between two JSON documents: the value at
// Path (nil where absent) before and after. At a path whose arrays are
// sets, Set is true and Added and Removed hold the members that came and
// went, as a set has no positions to name.
type PathChange struct {
	Path           string
	Before, After  []byte
	Set            bool
	Added, Removed [][]byte
}

// JSONChanges lists where two JSON documents differ, member by member
// down through objects (and item by item through arrays of one length),
// so that a change deep inside a large value reads as that change; the
// arrays at the paths sets names ($, $.a.b) differ by the members added
// and removed. It returns nil when either side is not a JSON object or
// array.
func JSONChanges(before, after []byte, sets ...string) []PathChange {
	a, errA := serialize.Parse(before)
	b, errB := serialize.Parse(after)
	if errA != nil || errB != nil || !container(&a) || !container(&b) {
		return nil
	}
	var out []PathChange
	jsonChanges(&a, &b, "$", sets, &out)
	return out
}

// setChange is the difference of two arrays that are sets, by value.
func setChange(a, b *serialize.Node, path string) PathChange {
	members := func(n *serialize.Node) (list [][]byte, in map[string]bool) {
		in = map[string]bool{}
		for i := range n.Items {
			e := enc(&n.Items[i])
			if !in[string(e)] {
				in[string(e)] = true
				list = append(list, e)
			}
		}
		return list, in
	}
	la, inA := members(a)
	lb, inB := members(b)
	c := PathChange{Path: path, Before: enc(a), After: enc(b), Set: true}
	for _, e := range lb {
		if !inA[string(e)] {
			c.Added = append(c.Added, e)
		}
	}
	for _, e := range la {
		if !inB[string(e)] {
			c.Removed = append(c.Removed, e)
		}
	}
	return c
}

func container(n *serialize.Node) bool {
	return n != nil && (n.Kind == serialize.Object || n.Kind == serialize.Array)
}

func jsonChanges(a, b *serialize.Node, path string, sets []string, out *[]PathChange) {
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
			jsonChanges(member(a, name), member(b, name), path+pathStep(name), sets, out)
		}
	case isArray(a) && isArray(b) && slices.Contains(sets, path):
		if c := setChange(a, b, path); len(c.Added)+len(c.Removed) > 0 { // a new order is no change to a set
			*out = append(*out, c)
		}
	case a != nil && b != nil && a.Kind == serialize.Array && b.Kind == serialize.Array && len(a.Items) == len(b.Items):
		for i := range a.Items {
			jsonChanges(&a.Items[i], &b.Items[i], path+"["+strconv.Itoa(i)+"]", sets, out)
		}
	default:
		*out = append(*out, PathChange{Path: path, Before: enc(a), After: enc(b)})
	}
}
