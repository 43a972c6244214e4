package serialize

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is the kind of a parsed JSON value.
type Kind uint8

const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

// Node is a parsed JSON value. Numbers keep their exact source text, so
// that no integer or decimal is ever rounded through float64.
type Node struct {
	Kind    Kind
	Text    string // String: the decoded string; Number: the literal; Bool: "true"/"false"
	Items   []Node
	Members []Member
}

// Member is one name/value pair of an object, in source order.
type Member struct {
	Name  string
	Value Node
}

// Get returns the member named name and whether it exists.
func (n *Node) Get(name string) (*Node, bool) {
	for i := range n.Members {
		if n.Members[i].Name == name {
			return &n.Members[i].Value, true
		}
	}
	return nil, false
}

// SyntaxError reports malformed JSON at a byte offset.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 512

// Parse parses one JSON value; trailing non-space bytes are an error.
// Duplicate object member names are rejected (I-JSON, RFC 7493).
func Parse(data []byte) (Node, error) {
	p := parser{data: data}
	p.space()
	n, err := p.value(0)
	if err != nil {
		return Node{}, err
	}
	p.space()
	if p.pos != len(p.data) {
		return Node{}, p.fail("unexpected data after the value")
	}
	return n, nil
}

type parser struct {
	data []byte
	pos  int
}

func (p *parser) fail(format string, args ...any) error {
	return &SyntaxError{Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) literal(word string) bool {
	if bytes.HasPrefix(p.data[p.pos:], []byte(word)) {
		p.pos += len(word)
		return true
	}
	return false
}

func (p *parser) value(depth int) (Node, error) {
	if depth > maxDepth {
		return Node{}, p.fail("nested deeper than %d levels", maxDepth)
	}
	if p.pos >= len(p.data) {
		return Node{}, p.fail("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		return Node{Kind: String, Text: s}, err
	case c == '-' || (c >= '0' && c <= '9'):
		lit, err := p.number()
		return Node{Kind: Number, Text: lit}, err
	case p.literal("true"):
		return Node{Kind: Bool, Text: "true"}, nil
	case p.literal("false"):
		return Node{Kind: Bool, Text: "false"}, nil
	case p.literal("null"):
		return Node{Kind: Null}, nil
	default:
		return Node{}, p.fail("unexpected character %q", c)
	}
}

func (p *parser) object(depth int) (Node, error) {
	n := Node{Kind: Object}
	p.pos++ // {
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return n, nil
	}
	seen := map[string]bool{}
	for {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return n, p.fail("expected a member name")
		}
		name, err := p.str()
		if err != nil {
			return n, err
		}
		if seen[name] {
			return n, p.fail("duplicate member %q", name)
		}
		seen[name] = true
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return n, p.fail("expected ':' after member %q", name)
		}
		p.pos++
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return n, err
		}
		n.Members = append(n.Members, Member{Name: name, Value: v})
		p.space()
		if p.pos < len(p.data) && p.data[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.data) && p.data[p.pos] == '}' {
			p.pos++
			return n, nil
		}
		return n, p.fail("expected ',' or '}'")
	}
}

func (p *parser) array(depth int) (Node, error) {
	n := Node{Kind: Array}
	p.pos++ // [
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return n, nil
	}
	for {
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return n, err
		}
		n.Items = append(n.Items, v)
		p.space()
		if p.pos < len(p.data) && p.data[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.data) && p.data[p.pos] == ']' {
			p.pos++
			return n, nil
		}
		return n, p.fail("expected ',' or ']'")
	}
}

// number scans a JSON number and returns its literal text.
func (p *parser) number() (string, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.data[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.data) && p.data[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return "", p.fail("malformed number")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return "", p.fail("malformed number")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return "", p.fail("malformed number")
		}
	}
	return string(p.data[start:p.pos]), nil
}

// str scans a JSON string and returns it decoded. Lone surrogates and
// invalid UTF-8 are rejected: canonical output is always valid UTF-8.
func (p *parser) str() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	// Fast path: no escapes.
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '"' {
			s := p.data[start:p.pos]
			if !utf8.Valid(s) {
				return "", p.fail("invalid UTF-8 in string")
			}
			p.pos++
			return string(s), nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", p.fail("control character in string")
		}
		p.pos++
	}
	buf := append([]byte(nil), p.data[start:p.pos]...)
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			if !utf8.Valid(buf) {
				return "", p.fail("invalid UTF-8 in string")
			}
			return string(buf), nil
		case c < 0x20:
			return "", p.fail("control character in string")
		case c != '\\':
			buf = append(buf, c)
			p.pos++
			continue
		}
		p.pos++
		if p.pos >= len(p.data) {
			break
		}
		e := p.data[p.pos]
		p.pos++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, err := p.hex4()
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(r) {
				if !p.literal(`\u`) {
					return "", p.fail("lone surrogate in string")
				}
				r2, err := p.hex4()
				if err != nil {
					return "", err
				}
				r = utf16.DecodeRune(r, r2)
				if r == utf8.RuneError {
					return "", p.fail("invalid surrogate pair in string")
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.fail("invalid escape \\%c", e)
		}
	}
	return "", p.fail("unterminated string")
}

func (p *parser) hex4() (rune, error) {
	if p.pos+4 > len(p.data) {
		return 0, p.fail("short \\u escape")
	}
	v, err := strconv.ParseUint(string(p.data[p.pos:p.pos+4]), 16, 32)
	if err != nil {
		return 0, p.fail("bad \\u escape")
	}
	p.pos += 4
	return rune(v), nil
}

// AppendString appends s as a canonical JSON string: only '"', '\\' and
// control characters are escaped, with the short escapes where JSON has
// them and lowercase \u00xx otherwise (RFC 8785 §3.2.2.2).
func AppendString(dst []byte, s string) []byte { return appendString(dst, s) }

func appendString[T string | []byte](dst []byte, s T) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			const hex = "0123456789abcdef"
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// errNumber is returned for a number literal that is not valid JSON.
var errNumber = errors.New("malformed number")

// NormalizeNumber returns the canonical text of a JSON number literal: the
// same decimal value, formatted by the rules ECMAScript uses for doubles
// (RFC 8785 §3.2.2.3) but applied to the exact decimal digits, so that
// integers beyond 2^53 and long fractions are never rounded.
func NormalizeNumber(lit string) (string, error) {
	out, err := appendNumber(nil, lit)
	return string(out), err
}

// appendNumber appends what NormalizeNumber returns, dst unchanged on an
// error.
func appendNumber[T string | []byte](dst []byte, lit T) ([]byte, error) {
	neg := false
	i := 0
	if i < len(lit) && lit[i] == '-' {
		neg = true
		i++
	}
	var buf [32]byte // the digits of a float's literal, off the heap
	digits := buf[:0]
	point := -1 // number of digits before the decimal point
	for ; i < len(lit); i++ {
		c := lit[i]
		if c >= '0' && c <= '9' {
			digits = append(digits, c)
		} else if c == '.' && point < 0 {
			point = len(digits)
		} else {
			break
		}
	}
	if len(digits) == 0 {
		return dst, errNumber
	}
	if point < 0 {
		point = len(digits)
	}
	exp := 0
	if i < len(lit) {
		if lit[i] != 'e' && lit[i] != 'E' {
			return dst, errNumber
		}
		e, err := strconv.Atoi(string(lit[i+1:]))
		if err != nil || e > 1e9 || e < -1e9 {
			return dst, errNumber
		}
		exp = e
	}
	// Strip leading zeros (moving the point) and trailing zeros.
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
		point--
	}
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 {
		return append(dst, '0'), nil
	}
	// value = 0.digits × 10^n
	k, n := len(digits), point+exp
	out := dst
	if neg {
		out = append(out, '-')
	}
	switch {
	case k <= n && n <= 21:
		out = append(out, digits...)
		out = appendZeros(out, n-k)
	case 0 < n && n <= 21:
		out = append(out, digits[:n]...)
		out = append(out, '.')
		out = append(out, digits[n:]...)
	case -6 < n && n <= 0:
		out = append(out, '0', '.')
		out = appendZeros(out, -n)
		out = append(out, digits...)
	default:
		out = append(out, digits[0])
		if k > 1 {
			out = append(out, '.')
			out = append(out, digits[1:]...)
		}
		out = append(out, 'e')
		if n-1 >= 0 {
			out = append(out, '+')
		}
		out = strconv.AppendInt(out, int64(n-1), 10)
	}
	return out, nil
}

func appendZeros(dst []byte, n int) []byte {
	for ; n > 0; n-- {
		dst = append(dst, '0')
	}
	return dst
}

// AppendCanonical appends n in canonical form: members sorted by their
// UTF-16 code units (RFC 8785 §3.2.3), numbers normalized, no whitespace
// when indent is empty, else one member or item per line.
func AppendCanonical(dst []byte, n *Node, indent, prefix string) ([]byte, error) {
	switch n.Kind {
	case Null:
		return append(dst, "null"...), nil
	case Bool:
		return append(dst, n.Text...), nil
	case Number:
		s, err := NormalizeNumber(n.Text)
		if err != nil {
			return dst, err
		}
		return append(dst, s...), nil
	case String:
		return AppendString(dst, n.Text), nil
	case Array:
		if len(n.Items) == 0 {
			return append(dst, "[]"...), nil
		}
		dst = append(dst, '[')
		inner := prefix + indent
		for i := range n.Items {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = newline(dst, indent, inner)
			var err error
			if dst, err = AppendCanonical(dst, &n.Items[i], indent, inner); err != nil {
				return dst, err
			}
		}
		dst = newline(dst, indent, prefix)
		return append(dst, ']'), nil
	case Object:
		if len(n.Members) == 0 {
			return append(dst, "{}"...), nil
		}
		order := make([]int, len(n.Members))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return compareUTF16(n.Members[a].Name, n.Members[b].Name) })
		dst = append(dst, '{')
		inner := prefix + indent
		for i, m := range order {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = newline(dst, indent, inner)
			dst = AppendString(dst, n.Members[m].Name)
			dst = append(dst, ':')
			if indent != "" {
				dst = append(dst, ' ')
			}
			var err error
			if dst, err = AppendCanonical(dst, &n.Members[m].Value, indent, inner); err != nil {
				return dst, err
			}
		}
		dst = newline(dst, indent, prefix)
		return append(dst, '}'), nil
	}
	return dst, fmt.Errorf("unknown JSON kind %d", n.Kind)
}

func newline(dst []byte, indent, prefix string) []byte {
	if indent == "" {
		return dst
	}
	dst = append(dst, '\n')
	return append(dst, prefix...)
}

// compareUTF16 orders strings by their UTF-16 code units, as RFC 8785
// sorts object member names. It differs from byte order only for
// characters above U+FFFF against those in U+E000–U+FFFF.
func compareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			return cmp.Compare(utf16Key(ra), utf16Key(rb))
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}

// utf16Key maps a rune to a value that sorts like its first UTF-16 unit
// (then by the rune, which breaks ties among surrogate pairs correctly).
func utf16Key(r rune) int64 {
	if r >= 0x10000 {
		hi, _ := utf16.EncodeRune(r)
		return int64(hi)<<21 | int64(r)
	}
	return int64(r) << 21
}

// CompareNames orders member names as canonical JSON writes them.
func CompareNames(a, b string) int { return compareUTF16(a, b) }

// OrderMember names the member that lists, in order, the names of its
// object's other members where that order matters and is not the
// canonical one (PHP arrays keep their insertion order). The merge
// combines two changed orders instead of reporting a conflict.
const OrderMember = "@order"
