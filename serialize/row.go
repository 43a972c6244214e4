package serialize

import (
	"bytes"
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// Row is one row of a table: a cell per Table.Columns entry, in that order.
type Row []Cell

func sortByName(idx []int, cols []Column) {
	slices.SortFunc(idx, func(a, b int) int { return compareUTF16(cols[a].Name, cols[b].Name) })
}

// AppendLine appends the row as one canonical compact JSON object and a
// newline: the form of a row in the lines layout.
func (t *Table) AppendLine(dst []byte, r Row) []byte {
	dst = append(dst, '{')
	for i, c := range t.sorted {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, t.prefixes[c]...)
		dst = append(dst, ':')
		dst = append(dst, r[c]...)
	}
	return append(dst, '}', '\n')
}

// AppendPretty appends the row as a pretty-printed canonical JSON object,
// one column per line, JSON cells indented inside: the form of a row file.
func (t *Table) AppendPretty(dst []byte, r Row) ([]byte, error) {
	dst = append(dst, '{')
	for i, c := range t.sorted {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, "\n  "...)
		dst = append(dst, t.prefixes[c]...)
		dst = append(dst, ':', ' ')
		cell := r[c]
		if t.Columns[c].Type == JSON && len(cell) > 0 && (cell[0] == '{' || cell[0] == '[') && len(cell) > 2 {
			n, err := Parse(cell)
			if err != nil {
				return dst, fmt.Errorf("column %q: %w", t.Columns[c].Name, err)
			}
			if dst, err = AppendCanonical(dst, &n, "  ", "  "); err != nil {
				return dst, err
			}
			continue
		}
		dst = append(dst, cell...)
	}
	return append(dst, "\n}\n"...), nil
}

// RowError names the column of a row that could not be decoded.
type RowError struct {
	Column string
	Err    error
}

func (e *RowError) Error() string {
	if e.Column == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("column %q: %v", e.Column, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// DecodeRow parses a row in either form (pretty or compact) and returns its
// canonical cells. Every exported column must be present, no other member
// may be, and every value must be of its column's logical type. Cells may
// share data's memory.
func (t *Table) DecodeRow(data []byte) (Row, error) {
	p := parser{data: data}
	p.space()
	if p.pos >= len(data) || data[p.pos] != '{' {
		return nil, &RowError{Err: fmt.Errorf("a row must be a JSON object")}
	}
	p.pos++
	row := make(Row, len(t.Columns))
	for first := true; ; first = false {
		p.space()
		if first && p.pos < len(data) && data[p.pos] == '}' {
			p.pos++
			break
		}
		if p.pos >= len(data) || data[p.pos] != '"' {
			return nil, &RowError{Err: p.fail("expected a member name")}
		}
		name, err := p.str()
		if err != nil {
			return nil, &RowError{Err: err}
		}
		p.space()
		if p.pos >= len(data) || data[p.pos] != ':' {
			return nil, &RowError{Err: p.fail("expected ':' after member %q", name)}
		}
		p.pos++
		p.space()
		start := p.pos
		n, err := p.value(0)
		if err != nil {
			return nil, &RowError{Column: name, Err: err}
		}
		i, ok := t.byName[name]
		if !ok {
			return nil, &RowError{Column: name, Err: fmt.Errorf("not a column of table %q", t.Name)}
		}
		if row[i] != nil {
			return nil, &RowError{Column: name, Err: fmt.Errorf("given twice")}
		}
		if row[i], err = decodeCell(&t.Columns[i], &n, data[start:p.pos]); err != nil {
			return nil, &RowError{Column: name, Err: err}
		}
		p.space()
		if p.pos < len(data) && data[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(data) && data[p.pos] == '}' {
			p.pos++
			break
		}
		return nil, &RowError{Err: p.fail("expected ',' or '}'")}
	}
	p.space()
	if p.pos != len(data) {
		return nil, &RowError{Err: p.fail("unexpected data after the row")}
	}
	for i, c := range t.Columns {
		if row[i] == nil {
			return nil, &RowError{Column: c.Name, Err: fmt.Errorf("missing")}
		}
	}
	return row, nil
}

// decodeCell validates a parsed value against its column and returns the
// canonical cell: the raw bytes themselves when they are already canonical
// (strings without escapes, plain integers, booleans, null), which is what
// files written by export hold.
func decodeCell(c *Column, n *Node, raw []byte) (Cell, error) {
	switch {
	case c.Secret:
		if n.Kind == Null || n.Kind == String && n.Text == SecretPlaceholder {
			return canonicalCell(c, n)
		}
		return nil, fmt.Errorf("secret column holds a value: files hold %q in its place", SecretPlaceholder)
	case n.Kind == Null && !c.Nullable:
		return nil, fmt.Errorf("is null, but table.json says the column is not nullable")
	case n.Kind == Null:
		return NullCell, nil
	case c.Type == Text && n.Kind == String && bytes.IndexByte(raw, '\\') < 0:
		return raw, nil
	case c.Type == Boolean && n.Kind == Bool:
		return raw, nil
	case c.Type == Int && n.Kind == Number && plainInt(raw):
		return raw, nil
	}
	if _, err := nodeValue(c, n); err != nil {
		return nil, err
	}
	return canonicalCell(c, n)
}

// plainInt reports whether raw is an integer literal in canonical form
// within 64 bits: no fraction or exponent, no leading zero, not "-0".
func plainInt[T string | []byte](raw T) bool {
	digits := raw
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 20 || digits[0] == '0' && (len(digits) > 1 || len(raw) > 1) {
		return false
	}
	if !allDigits(digits) {
		return false
	}
	if len(digits) < 19 {
		return true
	}
	s := string(raw)
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return true
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// canonicalCell re-encodes a parsed, validated cell in canonical form.
func canonicalCell(c *Column, n *Node) (Cell, error) {
	if n.Kind == Null {
		return NullCell, nil
	}
	switch c.Type {
	case Int:
		v, err := nodeValue(c, n)
		if err != nil {
			return nil, err
		}
		return AppendCell(nil, c, v)
	case Decimal:
		if n.Kind == Number {
			d, err := NormalizeDecimal(n.Text, c.Scale)
			return Cell(d), err
		}
	case Float:
		if n.Kind == Number {
			v, err := nodeValue(c, n)
			if err != nil {
				return nil, err
			}
			return AppendFloat(nil, v.(float64), 64), nil
		}
	case Date, Time, Timestamp, TimestampTZ, UUID:
		v, err := nodeValue(c, n) // normalized text
		if err != nil {
			return nil, err
		}
		return AppendString(nil, v.(string)), nil
	}
	out, err := AppendCanonical(nil, n, "", "")
	return Cell(out), err
}

// KeyOf returns the row's key cells joined by NUL: a string that is equal
// for two rows exactly when their keys are equal (map keys, ledgers).
func (t *Table) KeyOf(r Row) string {
	if len(t.keyIdx) == 1 {
		return string(r[t.keyIdx[0]])
	}
	var b strings.Builder
	for i, k := range t.keyIdx {
		if i > 0 {
			b.WriteByte(0)
		}
		b.Write(r[k])
	}
	return b.String()
}

// CompareKeys orders rows by key, column by column: numbers by value,
// strings and bytes by their UTF-8 or binary bytes. This is the order of
// the lines layout, the same on every engine.
func (t *Table) CompareKeys(a, b Row) int {
	for _, k := range t.keyIdx {
		if c := compareCells(t.Columns[k].Type, a[k], b[k]); c != 0 {
			return c
		}
	}
	return 0
}

func compareCells(typ Type, a, b Cell) int {
	if bytes.Equal(a, b) {
		return 0
	}
	an, bn := bytes.Equal(a, NullCell), bytes.Equal(b, NullCell)
	if an || bn { // NULL sorts first, as in SQLite and MySQL
		if an {
			return -1
		}
		return 1
	}
	switch typ {
	case Int:
		if c, ok := compareIntText(a, b); ok {
			return c
		}
		fallthrough
	case Decimal, Float:
		x, okx := new(big.Rat).SetString(string(a))
		y, oky := new(big.Rat).SetString(string(b))
		if okx && oky {
			return x.Cmp(y)
		}
	case Text, Bytes:
		if typ == Bytes { // compare the binary values, not their base64
			return bytes.Compare(cellBytes(a), cellBytes(b))
		}
		if bytes.IndexByte(a, '\\') < 0 && bytes.IndexByte(b, '\\') < 0 {
			return bytes.Compare(a[1:len(a)-1], b[1:len(b)-1])
		}
		return strings.Compare(cellString(a), cellString(b))
	}
	return bytes.Compare(a, b)
}

// compareIntText orders two canonical integer literals without parsing:
// more digits is larger, the same number of digits compares as bytes.
func compareIntText(a, b Cell) (int, bool) {
	if len(a) == 0 || len(b) == 0 || a[0] == '"' || b[0] == '"' {
		return 0, false
	}
	an, bn := a[0] == '-', b[0] == '-'
	switch {
	case an && !bn:
		return -1, true
	case !an && bn:
		return 1, true
	}
	c := cmp.Compare(len(a), len(b))
	if c == 0 {
		c = bytes.Compare(a, b)
	}
	if an {
		c = -c
	}
	return c, true
}

func cellString(c Cell) string {
	n, err := Parse(c)
	if err != nil || n.Kind != String {
		return string(c)
	}
	return n.Text
}

func cellBytes(c Cell) []byte {
	v, err := Value(&Column{Type: Bytes}, c)
	if b, ok := v.([]byte); ok && err == nil {
		return b
	}
	return c
}

// SpellKey is how people read and type a row's key (plan, status,
// conflict reports, --resolve, row globs): its parts (KeyText) joined by
// ", ", a part that holds a comma, a colon or a quote, or is empty or
// padded with spaces, quoted as a Go string ("system:site"). File names
// only encode it (FileName).
func SpellKey(parts []string) string {
	out := make([]string, len(parts))
	for i, part := range parts {
		out[i] = part
		if q := strconv.Quote(part); part == "" || q != `"`+part+`"` || strings.ContainsAny(part, ",:") || strings.TrimSpace(part) != part {
			out[i] = q
		}
	}
	return strings.Join(out, ", ")
}

// KeyText returns the text of each key cell used to name the row's file:
// a string's content, a number's literal.
//
// A reference to a composite natural key gives one part per value, so
// that its files read editors,blog,post,add_post.json.
func (t *Table) KeyText(r Row) []string {
	parts := make([]string, 0, len(t.keyIdx))
	for _, k := range t.keyIdx {
		cell := r[k]
		switch {
		case len(cell) > 0 && cell[0] == '"':
			parts = append(parts, cellString(cell))
		case len(cell) > 0 && cell[0] == '[' && t.Columns[k].Type == Ref:
			if n, err := Parse(cell); err == nil {
				parts = appendLeaves(parts, &n)
				continue
			}
			fallthrough
		default:
			parts = append(parts, string(cell))
		}
	}
	return parts
}

func appendLeaves(parts []string, n *Node) []string {
	switch n.Kind {
	case Array:
		for i := range n.Items {
			parts = appendLeaves(parts, &n.Items[i])
		}
		return parts
	case String:
		return append(parts, n.Text)
	}
	out, _ := AppendCanonical(nil, n, "", "")
	return append(parts, string(out))
}

// DecodeKey parses a row and returns a Row holding only its key cells (the
// other cells nil), enough for KeyOf, KeyText and CompareKeys. It reads
// rows written with other columns than the table now has.
func (t *Table) DecodeKey(data []byte) (Row, error) {
	n, err := Parse(data)
	if err != nil {
		return nil, &RowError{Err: err}
	}
	row := make(Row, len(t.Columns))
	for _, k := range t.keyIdx {
		c := &t.Columns[k]
		v, ok := n.Get(c.Name)
		if !ok {
			return nil, &RowError{Column: c.Name, Err: fmt.Errorf("missing")}
		}
		if row[k], err = canonicalCell(c, v); err != nil {
			return nil, &RowError{Column: c.Name, Err: err}
		}
	}
	return row, nil
}

// Pick returns the cells of row at the given indexes, in their order.
func Pick(row []Cell, idx []int) []Cell {
	out := make([]Cell, len(idx))
	for i, j := range idx {
		out[i] = row[j]
	}
	return out
}
