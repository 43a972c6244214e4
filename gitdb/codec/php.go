package codec

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// The JSON form of a PHP value. Arrays whose keys are 0…n-1 in order are
// JSON arrays; other arrays are objects, int keys written as their digits,
// with serialize.OrderMember listing the keys when PHP's order is not the
// canonical one. Values JSON has no form for are objects with one
// reserved member: {"@float": "0.1"} (the digits as PHP wrote them),
// {"@bytes": base64} (a string that is not UTF-8), {"@r": n} and
// {"@R": n} (references), {"@enum": "Suit:Hearts"}. Objects carry
// "@class"; classes with their own format also "@data". A top-level
// scalar is wrapped as {"@php": value}, since a plain JSON string is text
// that was not serialized at all. Keys that start with "@" are written
// with one more "@".
const (
	tagPHP   = "@php"
	tagFloat = "@float"
	tagBytes = "@bytes"
	tagRef   = "@r"
	tagRefR  = "@R"
	tagEnum  = "@enum"
	tagClass = "@class"
	tagData  = "@data"
)

const maxDepth = 512

// looksSerialized is WordPress's is_serialized test in its strict form,
// rule for rule: text that does not pass it is plain text to WordPress,
// and so it is here.
func looksSerialized(s string) bool {
	if s == "N;" {
		return true
	}
	if len(s) < 4 || s[1] != ':' || s[len(s)-1] != ';' && s[len(s)-1] != '}' {
		return false
	}
	switch s[0] {
	case 's':
		if s[len(s)-2] != '"' {
			return false
		}
		fallthrough
	case 'a', 'O', 'E':
		return serializedHead.MatchString(s)
	case 'b', 'i', 'd':
		return serializedScalar.MatchString(s)
	}
	return false
}

var (
	serializedHead   = regexp.MustCompile(`^[saOE]:[0-9]+:`)
	serializedScalar = regexp.MustCompile(`^[bid]:[0-9.E+-]+;$`)
)

func decodePHP(text string) (serialize.Node, error) {
	if !looksSerialized(text) {
		if !utf8.ValidString(text) {
			return serialize.Node{}, fmt.Errorf("neither UTF-8 text nor a PHP-serialized value")
		}
		return serialize.Node{Kind: serialize.String, Text: text}, nil
	}
	p := &phpParser{s: text}
	v, structured, err := p.value(0)
	if err == nil && p.pos != len(text) {
		err = p.fail("unexpected data after the value")
	}
	if err != nil {
		return serialize.Node{}, fmt.Errorf("corrupt PHP-serialized value: %v", err)
	}
	if !structured {
		v = object(serialize.Member{Name: tagPHP, Value: v})
	}
	if back, err := encodePHP(&v); err != nil || back != text {
		return serialize.Node{}, fmt.Errorf("PHP-serialized value is not in the form PHP writes: it would not re-serialize to the same bytes")
	}
	return v, nil
}

type phpParser struct {
	s   string
	pos int
}

func (p *phpParser) fail(format string, args ...any) error {
	return fmt.Errorf("at byte %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *phpParser) expect(lit string) error {
	if !strings.HasPrefix(p.s[p.pos:], lit) {
		return p.fail("want %q", lit)
	}
	p.pos += len(lit)
	return nil
}

// until returns the text up to the next stop byte and moves past it.
func (p *phpParser) until(stop byte) (string, error) {
	i := strings.IndexByte(p.s[p.pos:], stop)
	if i < 0 {
		return "", p.fail("want %q", stop)
	}
	out := p.s[p.pos : p.pos+i]
	p.pos += i + 1
	return out, nil
}

func (p *phpParser) integer(stop byte) (string, error) {
	start := p.pos
	t, err := p.until(stop)
	if err != nil {
		return "", err
	}
	if i, err := strconv.ParseInt(t, 10, 64); err != nil || strconv.FormatInt(i, 10) != t {
		p.pos = start
		return "", p.fail("want an integer")
	}
	return t, nil
}

func (p *phpParser) length(stop byte) (int, error) {
	t, err := p.integer(stop)
	if err != nil {
		return 0, err
	}
	n, _ := strconv.Atoi(t)
	if n < 0 || n > len(p.s)-p.pos {
		return 0, p.fail("length %d runs past the end", n)
	}
	return n, nil
}

// quoted reads `"<n bytes>"` after a length n.
func (p *phpParser) quoted(n int) (string, error) {
	if err := p.expect(`"`); err != nil {
		return "", err
	}
	if p.pos+n > len(p.s) {
		return "", p.fail("string runs past the end")
	}
	out := p.s[p.pos : p.pos+n]
	p.pos += n
	return out, p.expect(`"`)
}

// value parses one value; structured reports an array or object.
func (p *phpParser) value(depth int) (v serialize.Node, structured bool, err error) {
	if depth > maxDepth {
		return v, false, p.fail("nested too deeply")
	}
	if p.pos+2 > len(p.s) {
		return v, false, p.fail("unexpected end")
	}
	kind := p.s[p.pos]
	if kind == 'N' {
		return serialize.Node{Kind: serialize.Null}, false, p.expect("N;")
	}
	if err := p.expect(string(kind) + ":"); err != nil {
		return v, false, err
	}
	switch kind {
	case 'b':
		t, err := p.until(';')
		if err != nil || t != "0" && t != "1" {
			return v, false, p.fail("want b:0; or b:1;")
		}
		return serialize.Node{Kind: serialize.Bool, Text: strconv.FormatBool(t == "1")}, false, nil
	case 'i':
		t, err := p.integer(';')
		return serialize.Node{Kind: serialize.Number, Text: t}, false, err
	case 'd':
		t, err := p.until(';')
		if err != nil {
			return v, false, err
		}
		if _, perr := strconv.ParseFloat(t, 64); perr != nil && t != "INF" && t != "-INF" && t != "NAN" {
			return v, false, p.fail("%q is not a float", t)
		}
		return tagged(tagFloat, str(t)), false, nil
	case 'r', 'R':
		t, err := p.integer(';')
		tag := tagRef
		if kind == 'R' {
			tag = tagRefR
		}
		return tagged(tag, serialize.Node{Kind: serialize.Number, Text: t}), false, err
	case 's', 'E':
		n, err := p.length(':')
		if err != nil {
			return v, false, err
		}
		s, err := p.quoted(n)
		if err == nil {
			err = p.expect(";")
		}
		if kind == 'E' {
			if err == nil && !utf8.ValidString(s) {
				err = p.fail("enum case %q is not UTF-8", s)
			}
			return tagged(tagEnum, str(s)), false, err
		}
		return stringNode(s), false, err
	case 'a':
		return p.members(depth, nil)
	case 'O', 'C':
		n, err := p.length(':')
		if err != nil {
			return v, false, err
		}
		class, err := p.quoted(n)
		if err == nil {
			err = p.expect(":")
		}
		if err != nil {
			return v, false, err
		}
		if !utf8.ValidString(class) {
			return v, false, p.fail("class name is not UTF-8")
		}
		head := serialize.Member{Name: tagClass, Value: str(class)}
		if kind == 'O' {
			return p.members(depth, &head)
		}
		n, err = p.length(':')
		if err != nil {
			return v, false, err
		}
		if err := p.expect("{"); err != nil {
			return v, false, err
		}
		if p.pos+n > len(p.s) {
			return v, false, p.fail("data runs past the end")
		}
		data := p.s[p.pos : p.pos+n]
		p.pos += n
		return object(head, serialize.Member{Name: tagData, Value: stringNode(data)}), true, p.expect("}")
	}
	p.pos -= 2
	return v, false, p.fail("unknown type %q", kind)
}

// members parses `n:{key value …}` of an array, or of an object when head
// holds its class.
func (p *phpParser) members(depth int, head *serialize.Member) (serialize.Node, bool, error) {
	n, err := p.length(':')
	if err == nil {
		err = p.expect("{")
	}
	if err != nil {
		return serialize.Node{}, false, err
	}
	var names []string
	var vals []serialize.Node
	list := head == nil
	for i := 0; i < n; i++ {
		if p.pos+2 > len(p.s) {
			return serialize.Node{}, false, p.fail("unexpected end")
		}
		var name string
		switch p.s[p.pos] {
		case 'i':
			p.pos += 2
			if name, err = p.integer(';'); err != nil {
				return serialize.Node{}, false, err
			}
			list = list && name == strconv.Itoa(i)
		case 's':
			p.pos += 2
			l, err := p.length(':')
			if err != nil {
				return serialize.Node{}, false, err
			}
			if name, err = p.quoted(l); err == nil {
				err = p.expect(";")
			}
			if err != nil {
				return serialize.Node{}, false, err
			}
			if !utf8.ValidString(name) {
				return serialize.Node{}, false, p.fail("key %q is not UTF-8", name)
			}
			list = false
		default:
			return serialize.Node{}, false, p.fail("want an i: or s: key")
		}
		v, _, err := p.value(depth + 1)
		if err != nil {
			return serialize.Node{}, false, err
		}
		names, vals = append(names, escapeKey(name)), append(vals, v)
	}
	if err := p.expect("}"); err != nil {
		return serialize.Node{}, false, err
	}
	if list {
		return serialize.Node{Kind: serialize.Array, Items: append([]serialize.Node{}, vals...)}, true, nil
	}
	out := serialize.Node{Kind: serialize.Object}
	if head != nil {
		out.Members = append(out.Members, *head)
	}
	seen := map[string]bool{}
	for i, name := range names {
		if seen[name] {
			return serialize.Node{}, false, p.fail("key %q is given twice", unescapeKey(name))
		}
		seen[name] = true
		out.Members = append(out.Members, serialize.Member{Name: name, Value: vals[i]})
	}
	if !slices.IsSortedFunc(names, serialize.CompareNames) {
		order := serialize.Node{Kind: serialize.Array}
		for _, name := range names {
			order.Items = append(order.Items, str(name))
		}
		out.Members = append(out.Members, serialize.Member{Name: serialize.OrderMember, Value: order})
	}
	return out, true, nil
}

func escapeKey(k string) string {
	if strings.HasPrefix(k, "@") {
		return "@" + k
	}
	return k
}

func unescapeKey(k string) string { return strings.TrimPrefix(k, "@") }

func str(s string) serialize.Node { return serialize.Node{Kind: serialize.String, Text: s} }

func stringNode(s string) serialize.Node {
	if utf8.ValidString(s) {
		return str(s)
	}
	return tagged(tagBytes, str(base64.StdEncoding.EncodeToString([]byte(s))))
}

func object(ms ...serialize.Member) serialize.Node {
	return serialize.Node{Kind: serialize.Object, Members: ms}
}

func tagged(tag string, v serialize.Node) serialize.Node {
	return object(serialize.Member{Name: tag, Value: v})
}
