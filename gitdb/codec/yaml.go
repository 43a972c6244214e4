package codec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// The JSON form of a YAML document as Ruby's Psych writes it (Rails'
// serialized columns). A mapping is an object (its keys' order in
// serialize.OrderMember when not the canonical one; symbol keys written
// ":name"), a sequence an array, a string, integer, true, false or null
// itself. What JSON has no form for is an object with reserved members:
// {"@sym": "name"} for a symbol, {"@float": "1.5"} for a float (its digits
// as written), "@tag" beside the members of a tagged mapping
// (!ruby/hash:ActiveSupport::HashWithIndifferentAccess, !ruby/object:…),
// {"@tag": t, "@items": [...]} for a tagged sequence and {"@tag": t,
// "@value": text} for a tagged scalar. Keys that start with "@" are
// written with one more "@".
//
// Only mappings and sequences are decoded: a scalar document gains nothing
// from it. A document the emitter here would not write back byte for byte
// (anchors, wrapped or unusual quoting, comments) is kept as its text, a
// JSON string, which Encode writes back as it is.
const (
	tagYAMLSym   = "@sym"
	tagYAMLTag   = "@tag"
	tagYAMLItems = "@items"
	tagYAMLValue = "@value"
)

// decodeYAML returns a document's JSON form, or its text as a string with
// why it was kept so ("" for a scalar document, kept by design).
func decodeYAML(text string) (serialize.Node, string) {
	kept := str(text)
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return kept, "not YAML: " + firstLine(err.Error())
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return kept, ""
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode && root.Kind != yaml.SequenceNode {
		return kept, ""
	}
	n, err := fromYAML(root, 0)
	if err != nil {
		return kept, err.Error()
	}
	if out, err := encodeYAML(&n); err != nil || out != text {
		return kept, "it would not be written back byte for byte"
	}
	return n, ""
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// fromYAML converts a parsed node.
func fromYAML(y *yaml.Node, depth int) (serialize.Node, error) {
	if depth > maxDepth {
		return serialize.Node{}, fmt.Errorf("nested deeper than %d", maxDepth)
	}
	if y.Anchor != "" || y.Kind == yaml.AliasNode {
		return serialize.Node{}, fmt.Errorf("it holds anchors and aliases (&, *)")
	}
	if y.HeadComment != "" || y.LineComment != "" || y.FootComment != "" {
		return serialize.Node{}, fmt.Errorf("it holds comments")
	}
	tag := ""
	if y.Style&yaml.TaggedStyle != 0 {
		tag = y.Tag
	}
	switch y.Kind {
	case yaml.MappingNode:
		out := object()
		if tag != "" {
			out.Members = append(out.Members, serialize.Member{Name: tagYAMLTag, Value: str(tag)})
		}
		var names []string
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, v := y.Content[i], y.Content[i+1]
			name, err := yamlKey(k)
			if err != nil {
				return serialize.Node{}, err
			}
			if slices.Contains(names, name) {
				return serialize.Node{}, fmt.Errorf("key %q is given twice", name)
			}
			val, err := fromYAML(v, depth+1)
			if err != nil {
				return serialize.Node{}, err
			}
			names = append(names, name)
			out.Members = append(out.Members, serialize.Member{Name: name, Value: val})
		}
		if !slices.IsSortedFunc(names, serialize.CompareNames) {
			order := serialize.Node{Kind: serialize.Array}
			for _, name := range names {
				order.Items = append(order.Items, str(name))
			}
			out.Members = append(out.Members, serialize.Member{Name: serialize.OrderMember, Value: order})
		}
		return out, nil
	case yaml.SequenceNode:
		arr := serialize.Node{Kind: serialize.Array, Items: []serialize.Node{}}
		for _, it := range y.Content {
			v, err := fromYAML(it, depth+1)
			if err != nil {
				return serialize.Node{}, err
			}
			arr.Items = append(arr.Items, v)
		}
		if tag != "" {
			return object(serialize.Member{Name: tagYAMLItems, Value: arr}, serialize.Member{Name: tagYAMLTag, Value: str(tag)}), nil
		}
		return arr, nil
	case yaml.ScalarNode:
		if tag != "" {
			return object(serialize.Member{Name: tagYAMLTag, Value: str(tag)}, serialize.Member{Name: tagYAMLValue, Value: str(y.Value)}), nil
		}
		if y.Style != 0 { // quoted or a block: a string
			return str(y.Value), nil
		}
		return plainScalar(y.Value), nil
	}
	return serialize.Node{}, fmt.Errorf("unexpected YAML node")
}

// yamlKey is the member name of a mapping key: its text, ":name" for a
// symbol, "@"-escaped.
func yamlKey(k *yaml.Node) (string, error) {
	if k.Kind != yaml.ScalarNode || k.Style&yaml.TaggedStyle != 0 {
		return "", fmt.Errorf("it has a key that is not a plain string or symbol")
	}
	if k.Style != 0 && strings.HasPrefix(k.Value, ":") {
		return "", fmt.Errorf("it has a string key that reads like a symbol (%q)", k.Value)
	}
	return escapeKey(k.Value), nil
}

var (
	yamlInt   = regexp.MustCompile(`^(0|-?[1-9][0-9]*)$`)
	yamlFloat = regexp.MustCompile(`^-?[0-9]+\.[0-9]+([eE][-+]?[0-9]+)?$`)
	yamlSym   = regexp.MustCompile(`^:[A-Za-z_][A-Za-z0-9_]*[?!=]?$`)
)

// plainScalar resolves an unquoted scalar as Psych does for the forms it
// writes: null, true, false, integers, floats, symbols; strings else.
func plainScalar(s string) serialize.Node {
	switch {
	case s == "" || s == "~" || s == "null":
		return serialize.Node{Kind: serialize.Null}
	case s == "true" || s == "false":
		return serialize.Node{Kind: serialize.Bool, Text: s}
	case yamlInt.MatchString(s):
		return serialize.Node{Kind: serialize.Number, Text: s}
	case yamlFloat.MatchString(s):
		return tagged(tagFloat, str(s))
	case yamlSym.MatchString(s):
		return tagged(tagYAMLSym, str(s[1:]))
	}
	return str(s)
}

// encodeYAML writes a document as Psych writes it. A string is a document
// kept as text: written back as it is.
func encodeYAML(n *serialize.Node) (string, error) {
	if n.Kind == serialize.String {
		return n.Text, nil
	}
	var b strings.Builder
	b.WriteString("---")
	if err := writeYAMLValue(&b, n, 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

// writeYAMLValue writes a value after "key:", "-" or "---": a scalar or an
// empty collection on the same line, a collection on the lines below at
// indent (a sequence in a mapping is not indented further).
func writeYAMLValue(b *strings.Builder, n *serialize.Node, indent int) error {
	tag, items, members, err := yamlShape(n)
	if err != nil {
		return err
	}
	if tag != "" {
		b.WriteString(" " + tag)
	}
	switch {
	case items != nil && len(items) == 0:
		b.WriteString(" []\n")
	case items != nil:
		b.WriteString("\n")
		return writeYAMLItems(b, items, indent)
	case members != nil && len(members) == 0:
		b.WriteString(" {}\n")
	case members != nil:
		b.WriteString("\n")
		return writeYAMLMembers(b, n, members, indent)
	default:
		s, err := yamlScalar(n, indent)
		if err != nil {
			return err
		}
		if s != "" {
			b.WriteString(" " + s)
		}
		b.WriteString("\n")
	}
	return nil
}

// yamlShape tells a value's tag and, for a collection, its items or its
// member names in order (nil for a scalar).
func yamlShape(n *serialize.Node) (tag string, items []serialize.Node, members []string, err error) {
	switch n.Kind {
	case serialize.Array:
		if n.Items == nil {
			return "", []serialize.Node{}, nil, nil
		}
		return "", n.Items, nil, nil
	case serialize.Object:
	default:
		return "", nil, nil, nil
	}
	if t, ok := n.Get(tagYAMLTag); ok {
		if t.Kind != serialize.String || !strings.HasPrefix(t.Text, "!") {
			return "", nil, nil, fmt.Errorf("%s holds a tag such as !ruby/object:Name", tagYAMLTag)
		}
		tag = t.Text
		if it, ok := n.Get(tagYAMLItems); ok {
			if len(n.Members) != 2 || it.Kind != serialize.Array {
				return "", nil, nil, fmt.Errorf("%s goes with %s alone, an array", tagYAMLItems, tagYAMLTag)
			}
			return tag, append([]serialize.Node{}, it.Items...), nil, nil
		}
		if _, ok := n.Get(tagYAMLValue); ok {
			return tag, nil, nil, nil
		}
	} else if len(n.Members) == 1 && (n.Members[0].Name == tagYAMLSym || n.Members[0].Name == tagFloat) {
		return "", nil, nil, nil
	}
	var order []string
	if o, ok := n.Get(serialize.OrderMember); ok {
		for _, it := range o.Items {
			order = append(order, it.Text)
		}
	}
	names, err := memberOrder(withoutTag(n), order)
	if err != nil {
		return "", nil, nil, err
	}
	if names == nil {
		names = []string{}
	}
	return tag, nil, names, nil
}

func withoutTag(n *serialize.Node) *serialize.Node {
	out := *n
	out.Members = slices.DeleteFunc(slices.Clone(n.Members), func(m serialize.Member) bool { return m.Name == tagYAMLTag })
	return &out
}

func writeYAMLMembers(b *strings.Builder, n *serialize.Node, names []string, indent int) error {
	for _, name := range names {
		v, _ := n.Get(name)
		key := unescapeKey(name)
		if !yamlSym.MatchString(key) {
			key = yamlString(key, -1)
		}
		b.WriteString(strings.Repeat(" ", indent) + key + ":")
		next := indent + 2
		if v.Kind == serialize.Array {
			next = indent // a sequence in a mapping is not indented
		}
		if err := writeYAMLValue(b, v, next); err != nil {
			return err
		}
	}
	return nil
}

func writeYAMLItems(b *strings.Builder, items []serialize.Node, indent int) error {
	for i := range items {
		b.WriteString(strings.Repeat(" ", indent) + "-")
		it := &items[i]
		tag, sub, members, err := yamlShape(it)
		if err != nil {
			return err
		}
		switch {
		case tag == "" && len(sub) > 0:
			// "- - a": the nested sequence starts on this line
			var nested strings.Builder
			if err := writeYAMLItems(&nested, sub, indent+2); err != nil {
				return err
			}
			b.WriteString(" " + strings.TrimPrefix(nested.String(), strings.Repeat(" ", indent+2)))
		case tag == "" && len(members) > 0:
			var nested strings.Builder
			if err := writeYAMLMembers(&nested, it, members, indent+2); err != nil {
				return err
			}
			b.WriteString(" " + strings.TrimPrefix(nested.String(), strings.Repeat(" ", indent+2)))
		default:
			if err := writeYAMLValue(b, it, indent+2); err != nil {
				return err
			}
		}
	}
	return nil
}

// yamlScalar writes a scalar value ("" for null).
func yamlScalar(n *serialize.Node, indent int) (string, error) {
	switch n.Kind {
	case serialize.Null:
		return "", nil
	case serialize.Bool:
		return n.Text, nil
	case serialize.Number:
		if !yamlInt.MatchString(n.Text) {
			return "", fmt.Errorf("%s is not an integer (floats are {%q: digits})", n.Text, tagFloat)
		}
		return n.Text, nil
	case serialize.String:
		return yamlString(n.Text, indent), nil
	}
	if v, ok := n.Get(tagYAMLSym); ok && len(n.Members) == 1 && yamlSym.MatchString(":"+v.Text) {
		return ":" + v.Text, nil
	}
	if v, ok := n.Get(tagFloat); ok && len(n.Members) == 1 && yamlFloat.MatchString(v.Text) {
		return v.Text, nil
	}
	if v, ok := n.Get(tagYAMLValue); ok && len(n.Members) == 2 && v.Kind == serialize.String {
		return yamlString(v.Text, indent), nil
	}
	return "", fmt.Errorf("an object with reserved members that YAML has no form for")
}

// Psych's rules for a string: a literal block for several lines; double
// quotes for y and n, for text that starts with neither a letter, a digit
// nor _ (and has no "), and for what plain YAML cannot hold; single quotes
// for text YAML would read as another type, or that plain YAML cannot
// hold; plain otherwise.
var (
	yamlOtherType = regexp.MustCompile(`^(~|null|Null|NULL|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF` +
		`|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?0[0-7_]+|[-+]?0b[01_]+|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?` +
		`|[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)` +
		`|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?|<<)$`)
)

func yamlString(s string, indent int) string {
	switch {
	case indent >= 0 && innerLineBreak(s) && !hasControl(s) && !strings.HasPrefix(s, " ") && !strings.Contains(s, " \n") && !strings.HasSuffix(s, " "):
		return yamlLiteral(s, indent)
	case s == "y" || s == "Y" || s == "n" || s == "N":
		return yamlDouble(s)
	case s != "" && !isWordRune([]rune(s)[0]) && !strings.Contains(s, `"`):
		return yamlDouble(s)
	case hasControl(s) || strings.Contains(s, "\n"):
		return yamlDouble(s)
	case s == "" || yamlOtherType.MatchString(s) || !plainAllowed(s):
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return s
}

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// innerLineBreak reports a line break other than a final one (Ruby's
// /\n(?!\Z)/, which Psych writes as a literal block).
func innerLineBreak(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && s[i+1:] != "" && s[i+1:] != "\n" {
			return true
		}
	}
	return false
}

// hasControl reports characters only double quotes hold: tabs and other
// control characters than the line break.
func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\n' || r == 0x7f || r == 0xFEFF {
			return true
		}
	}
	return false
}

// plainAllowed reports text plain YAML holds as it is.
func plainAllowed(s string) bool {
	if strings.TrimSpace(s) != s || strings.Contains(s, ": ") || strings.Contains(s, " #") || strings.HasSuffix(s, ":") {
		return false
	}
	return !strings.ContainsAny(s[:1], "-?:,[]{}#&*!|>'\"%@`")
}

func yamlDouble(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case 0x07:
			b.WriteString(`\a`)
		case 0x1b:
			b.WriteString(`\e`)
		case 0:
			b.WriteString(`\0`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\x%02X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// yamlLiteral writes text of several lines as a literal block: |- without
// a final line break, | with one.
func yamlLiteral(s string, indent int) string {
	head := "|-"
	if strings.HasSuffix(s, "\n") {
		head, s = "|", strings.TrimSuffix(s, "\n")
	}
	pad := strings.Repeat(" ", indent)
	var b strings.Builder
	b.WriteString(head)
	for _, line := range strings.Split(s, "\n") {
		b.WriteString("\n")
		if line != "" {
			b.WriteString(pad + line)
		}
	}
	return b.String()
}
