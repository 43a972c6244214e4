package codec

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// encodePHP writes the JSON form back as text: a string is plain text,
// anything else a serialized value.
func encodePHP(n *serialize.Node) (string, error) {
	var b strings.Builder
	switch {
	case n.Kind == serialize.String:
		return n.Text, nil
	case n.Kind == serialize.Object && len(n.Members) == 1 && n.Members[0].Name == tagPHP:
		if err := writePHP(&b, &n.Members[0].Value, 0); err != nil {
			return "", err
		}
	case n.Kind == serialize.Array || n.Kind == serialize.Object:
		if err := writePHP(&b, n, 0); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("a php value is text, an array, an object or {%q: value}", tagPHP)
	}
	return b.String(), nil
}

func writePHP(b *strings.Builder, n *serialize.Node, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("nested too deeply")
	}
	switch n.Kind {
	case serialize.Null:
		b.WriteString("N;")
	case serialize.Bool:
		b.WriteString(map[string]string{"true": "b:1;", "false": "b:0;"}[n.Text])
	case serialize.Number:
		if _, err := strconv.ParseInt(n.Text, 10, 64); err != nil {
			return fmt.Errorf("%s is not a PHP integer (floats are written {%q: \"%s\"})", n.Text, tagFloat, n.Text)
		}
		fmt.Fprintf(b, "i:%s;", n.Text)
	case serialize.String:
		writeString(b, 's', n.Text)
	case serialize.Array:
		fmt.Fprintf(b, "a:%d:{", len(n.Items))
		for i := range n.Items {
			fmt.Fprintf(b, "i:%d;", i)
			if err := writePHP(b, &n.Items[i], depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case serialize.Object:
		return writeObject(b, n, depth)
	}
	return nil
}

func writeString(b *strings.Builder, kind byte, s string) {
	fmt.Fprintf(b, "%c:%d:\"%s\";", kind, len(s), s)
}

func writeObject(b *strings.Builder, n *serialize.Node, depth int) error {
	if len(n.Members) == 1 {
		m := &n.Members[0]
		switch m.Name {
		case tagFloat:
			if m.Value.Kind != serialize.String {
				return fmt.Errorf("%s holds the float's digits as a string", tagFloat)
			}
			if _, err := strconv.ParseFloat(m.Value.Text, 64); err != nil && m.Value.Text != "INF" && m.Value.Text != "-INF" && m.Value.Text != "NAN" {
				return fmt.Errorf("%q is not a float", m.Value.Text)
			}
			fmt.Fprintf(b, "d:%s;", m.Value.Text)
			return nil
		case tagBytes:
			raw, err := base64.StdEncoding.DecodeString(m.Value.Text)
			if err != nil || m.Value.Kind != serialize.String {
				return fmt.Errorf("%s holds base64", tagBytes)
			}
			writeString(b, 's', string(raw))
			return nil
		case tagRef, tagRefR:
			if _, err := strconv.ParseInt(m.Value.Text, 10, 64); err != nil || m.Value.Kind != serialize.Number {
				return fmt.Errorf("%s holds an integer", m.Name)
			}
			fmt.Fprintf(b, "%s:%s;", m.Name[1:], m.Value.Text)
			return nil
		case tagEnum:
			if m.Value.Kind != serialize.String {
				return fmt.Errorf("%s holds a string", tagEnum)
			}
			writeString(b, 'E', m.Value.Text)
			return nil
		}
	}
	class, hasClass := n.Get(tagClass)
	if hasClass && class.Kind != serialize.String {
		return fmt.Errorf("%s holds the class name", tagClass)
	}
	if data, ok := n.Get(tagData); ok {
		if !hasClass || len(n.Members) != 2 {
			return fmt.Errorf("%s goes with %s alone", tagData, tagClass)
		}
		raw := data.Text
		if inner, ok := data.Get(tagBytes); ok {
			dec, err := base64.StdEncoding.DecodeString(inner.Text)
			if err != nil {
				return fmt.Errorf("%s holds base64", tagBytes)
			}
			raw = string(dec)
		}
		fmt.Fprintf(b, "C:%d:\"%s\":%d:{%s}", len(class.Text), class.Text, len(raw), raw)
		return nil
	}
	var order []string
	if o, ok := n.Get(serialize.OrderMember); ok {
		for _, it := range o.Items {
			order = append(order, it.Text)
		}
	}
	names, err := memberOrder(n, order)
	if err != nil {
		return err
	}
	if hasClass {
		fmt.Fprintf(b, "O:%d:\"%s\":%d:{", len(class.Text), class.Text, len(names))
	} else {
		fmt.Fprintf(b, "a:%d:{", len(names))
	}
	for _, name := range names {
		key := unescapeKey(name)
		if isIntKey(key) && !hasClass {
			fmt.Fprintf(b, "i:%s;", key)
		} else {
			writeString(b, 's', key)
		}
		v, _ := n.Get(name)
		if err := writePHP(b, v, depth+1); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

// memberOrder lists the keys of an array object in PHP order: those the
// order member names, then any others in canonical order.
func memberOrder(n *serialize.Node, order []string) ([]string, error) {
	present := map[string]bool{}
	var rest []string
	for _, m := range n.Members {
		switch {
		case m.Name == serialize.OrderMember || m.Name == tagClass:
		case strings.HasPrefix(m.Name, "@") && !strings.HasPrefix(m.Name, "@@"):
			return nil, fmt.Errorf("unknown member %q (names that start with @ are the codec's; a PHP key %q is written %q)", m.Name, m.Name, "@"+m.Name)
		default:
			present[m.Name] = true
			rest = append(rest, m.Name)
		}
	}
	var names []string
	for _, name := range order {
		if present[name] {
			names = append(names, name)
			delete(present, name)
		}
	}
	slices.SortFunc(rest, serialize.CompareNames)
	for _, name := range rest {
		if present[name] {
			names = append(names, name)
		}
	}
	return names, nil
}

// isIntKey reports a key PHP stores as an integer: decimal digits without
// a leading zero or "+", within 64 bits.
func isIntKey(k string) bool {
	i, err := strconv.ParseInt(k, 10, 64)
	return err == nil && strconv.FormatInt(i, 10) == k
}
