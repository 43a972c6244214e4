package serialize

import (
	"fmt"
	"strconv"
)

// FormatVersion is written in every table.json; a reader refuses files of
// a newer format than it knows.
const FormatVersion = 1

// MarshalMeta returns the canonical table.json of t.
func (t *Table) MarshalMeta() ([]byte, error) {
	cols := Node{Kind: Array}
	for _, c := range t.Columns {
		col := obj(
			"name", str(c.Name),
			"type", str(string(c.Type)),
			"nullable", boolean(c.Nullable),
		)
		if c.Type == Decimal && c.Scale >= 0 {
			col.Members = append(col.Members, Member{"scale", num(c.Scale)})
		}
		if c.Codec != "" {
			col.Members = append(col.Members, Member{"codec", str(c.Codec)})
		}
		if c.Secret {
			col.Members = append(col.Members, Member{"secret", boolean(true)})
		}
		if len(c.Sets) > 0 {
			col.Members = append(col.Members, Member{"sets", strs(c.Sets)})
		}
		cols.Items = append(cols.Items, col)
	}
	refs := Node{Kind: Array}
	for _, r := range t.References {
		ref := obj("columns", strs(r.Columns), "table", str(r.Table), "to", strs(r.To))
		if len(r.None) > 0 {
			ref.Members = append(ref.Members, Member{"none", strs(r.None)})
		}
		refs.Items = append(refs.Items, ref)
	}
	n := obj(
		"format", num(FormatVersion),
		"name", str(t.Name),
		"columns", cols,
		"key", strs(t.Key),
		"layout", str(string(t.Layout)),
		"references", refs,
	)
	if t.Surrogate != "" {
		n.Members = append(n.Members, Member{"surrogate", str(t.Surrogate)})
	}
	out, err := AppendCanonical(nil, &n, "  ", "")
	return append(out, '\n'), err
}

// UnmarshalMeta parses a table.json and prepares the table.
func UnmarshalMeta(data []byte) (*Table, error) {
	n, err := Parse(data)
	if err != nil {
		return nil, err
	}
	r := metaReader{}
	t := &Table{}
	if v := r.int(&n, "format"); r.err == nil && v > FormatVersion {
		return nil, fmt.Errorf("format %d is newer than this git-dbsync understands (%d): upgrade git-dbsync", v, FormatVersion)
	}
	t.Name = r.str(&n, "name")
	t.Layout = Layout(r.str(&n, "layout"))
	t.Key = r.strs(&n, "key")
	if _, ok := n.Get("surrogate"); ok {
		t.Surrogate = r.str(&n, "surrogate")
	}
	for _, c := range r.items(&n, "columns") {
		col := Column{Name: r.str(&c, "name"), Type: Type(r.str(&c, "type")), Scale: -1}
		col.Nullable = r.bool(&c, "nullable")
		if _, ok := c.Get("scale"); ok {
			col.Scale = r.int(&c, "scale")
		}
		if _, ok := c.Get("codec"); ok {
			col.Codec = r.str(&c, "codec")
		}
		if _, ok := c.Get("secret"); ok {
			col.Secret = r.bool(&c, "secret")
		}
		if _, ok := c.Get("sets"); ok {
			col.Sets = r.strs(&c, "sets")
		}
		t.Columns = append(t.Columns, col)
	}
	for _, ref := range r.items(&n, "references") {
		reference := Reference{Columns: r.strs(&ref, "columns"), Table: r.str(&ref, "table"), To: r.strs(&ref, "to")}
		if _, ok := ref.Get("none"); ok {
			reference.None = r.strs(&ref, "none")
		}
		t.References = append(t.References, reference)
	}
	if r.err != nil {
		return nil, r.err
	}
	return t, t.Prepare()
}

func obj(kv ...any) Node {
	n := Node{Kind: Object}
	for i := 0; i < len(kv); i += 2 {
		n.Members = append(n.Members, Member{kv[i].(string), kv[i+1].(Node)})
	}
	return n
}

func str(s string) Node   { return Node{Kind: String, Text: s} }
func num(i int) Node      { return Node{Kind: Number, Text: strconv.Itoa(i)} }
func boolean(b bool) Node { return Node{Kind: Bool, Text: strconv.FormatBool(b)} }

func strs(ss []string) Node {
	n := Node{Kind: Array, Items: []Node{}}
	for _, s := range ss {
		n.Items = append(n.Items, str(s))
	}
	return n
}

// metaReader reads typed members, keeping the first error.
type metaReader struct{ err error }

func (r *metaReader) get(n *Node, name string, k Kind) *Node {
	if r.err != nil {
		return nil
	}
	v, ok := n.Get(name)
	if !ok || v.Kind != k {
		r.err = fmt.Errorf("member %q is missing or of the wrong kind", name)
		return nil
	}
	return v
}

func (r *metaReader) str(n *Node, name string) string {
	if v := r.get(n, name, String); v != nil {
		return v.Text
	}
	return ""
}

func (r *metaReader) bool(n *Node, name string) bool {
	v := r.get(n, name, Bool)
	return v != nil && v.Text == "true"
}

func (r *metaReader) int(n *Node, name string) int {
	if v := r.get(n, name, Number); v != nil {
		i, err := strconv.Atoi(v.Text)
		if err != nil {
			r.err = fmt.Errorf("member %q: %v", name, err)
		}
		return i
	}
	return 0
}

func (r *metaReader) items(n *Node, name string) []Node {
	if v := r.get(n, name, Array); v != nil {
		return v.Items
	}
	return nil
}

func (r *metaReader) strs(n *Node, name string) []string {
	var out []string
	for _, it := range r.items(n, name) {
		if it.Kind != String {
			r.err = fmt.Errorf("member %q must hold strings", name)
			return nil
		}
		out = append(out, it.Text)
	}
	return out
}
