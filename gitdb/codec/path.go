package codec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// Path is a path inside a JSON value, in gjson's syntax: member names
// joined by ".", an item's index, "#" for every item of an array, "*" for
// every member or item, "\." for a dot inside a name.
type Path []string

// ParsePath parses a path; an empty one is an error.
func ParsePath(s string) (Path, error) {
	var p Path
	var seg strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			seg.WriteByte(s[i])
		case c == '.':
			p = append(p, seg.String())
			seg.Reset()
		default:
			seg.WriteByte(c)
		}
	}
	p = append(p, seg.String())
	for _, s := range p {
		if s == "" {
			return nil, fmt.Errorf("path %q has an empty step", strings.Join(p, "."))
		}
	}
	return p, nil
}

func (p Path) String() string { return strings.Join(p, ".") }

// children lists the positions one step reaches in n.
func children(n *serialize.Node, step string) []*serialize.Node {
	var out []*serialize.Node
	switch n.Kind {
	case serialize.Array:
		if step == "#" || step == "*" {
			for i := range n.Items {
				out = append(out, &n.Items[i])
			}
		} else if i, err := strconv.Atoi(step); err == nil && i >= 0 && i < len(n.Items) {
			out = append(out, &n.Items[i])
		}
	case serialize.Object:
		for i := range n.Members {
			if m := &n.Members[i]; step == "*" && m.Name != serialize.OrderMember || m.Name == step {
				out = append(out, &m.Value)
			}
		}
	}
	return out
}

// Each calls fn with every value the path reaches in n.
func (p Path) Each(n *serialize.Node, fn func(*serialize.Node) error) error {
	if len(p) == 0 {
		return fn(n)
	}
	for _, c := range children(n, p[0]) {
		if err := p[1:].Each(c, fn); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes the object members the path reaches in n. Array items
// are kept (removing one would renumber the others): they become null.
func (p Path) Delete(n *serialize.Node) {
	if len(p) > 1 {
		for _, c := range children(n, p[0]) {
			p[1:].Delete(c)
		}
		return
	}
	switch n.Kind {
	case serialize.Object:
		kept := n.Members[:0]
		for _, m := range n.Members {
			if m.Name == serialize.OrderMember || p[0] != "*" && m.Name != p[0] {
				kept = append(kept, m)
			}
		}
		n.Members = kept
	case serialize.Array:
		for _, c := range children(n, p[0]) {
			*c = serialize.Node{Kind: serialize.Null}
		}
	}
}

// Restore copies into dst the values the path reaches in src, where dst
// has the place for them: what Delete removed comes back from src.
func (p Path) Restore(dst, src *serialize.Node) {
	switch {
	case src.Kind == serialize.Object && dst.Kind == serialize.Object:
		for _, m := range src.Members {
			if m.Name == serialize.OrderMember || p[0] != "*" && m.Name != p[0] {
				continue
			}
			d, ok := dst.Get(m.Name)
			switch {
			case len(p) > 1 && ok:
				p[1:].Restore(d, &m.Value)
			case len(p) == 1 && ok:
				*d = m.Value
			case len(p) == 1:
				dst.Members = append(dst.Members, m)
			}
		}
	case src.Kind == serialize.Array && dst.Kind == serialize.Array:
		for i := range src.Items {
			if i >= len(dst.Items) || p[0] != "#" && p[0] != "*" && p[0] != strconv.Itoa(i) {
				continue
			}
			if len(p) > 1 {
				p[1:].Restore(&dst.Items[i], &src.Items[i])
			} else {
				dst.Items[i] = src.Items[i]
			}
		}
	}
}
