// Package redact rewrites the values pull copies before they reach the
// target: the rules of .dbsync's redact options, and the refusal of a
// column that looks like it holds e-mail addresses, password hashes or
// tokens and has no rule. Derived values (hash, email, name, digits) come
// from a keyed hash of the row's key or the value, so a pull run twice
// writes the same values, and nothing in them can be turned back into the
// original.
package redact

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/gitdbsync/git-dbsync/gitdb/codec"
	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Table redacts the rows of one table.
type Table struct {
	name  string
	key   []byte
	rules []columnRules // per column of the row, in the caller's order
}

type columnRules struct {
	col   serialize.Column
	limit int               // the most characters the target's column holds, 0 for no limit
	codec string            // the codec of a text column whose paths have rules
	whole *config.Redaction // the rule of the whole value, nil for none
	paths []pathRule
	// scoped are rules of some rows only (where <column> in (…)): a
	// key-value table's names, its other rows left to the others.
	scoped []scopedRule
	sniff  bool // no rule for every row: values are checked for what looks sensitive
}

type scopedRule struct {
	rule  *config.Redaction
	where int             // the column whose value picks the rows
	in    map[string]bool // the values that pick them
}

type pathRule struct {
	rule config.Redaction
	path codec.Path
}

// Compile prepares the rules of a table whose rows carry the given columns
// (as the target will hold them). It refuses a rule for a column the table
// lacks, null for a NOT NULL column, a path inside a column that holds no
// JSON, and, without a rule, a column whose name says it holds addresses,
// password hashes or tokens, or that .dbsync names secret.
func Compile(desc *dialect.Table, cols []serialize.Column, opts *config.Table, key []byte) (*Table, error) {
	t := &Table{name: desc.Name, key: key, rules: make([]columnRules, len(cols))}
	index := map[string]int{}
	for i, c := range cols {
		index[c.Name] = i
		t.rules[i] = columnRules{col: c, sniff: c.Type == serialize.Text || c.Type == serialize.JSON || c.Type == serialize.Bytes}
		if dc := desc.Column(c.Name); dc != nil && dc.Type == serialize.Text {
			t.rules[i].limit = dc.Limit
		}
	}
	var rules []config.Redaction
	if opts != nil {
		rules = opts.Redactions
	}
	for j := range rules {
		r := &rules[j]
		i, ok := index[r.Column]
		if !ok {
			return nil, fmt.Errorf("%s: table %q has no column %q to redact", r.Pos, desc.Name, r.Column)
		}
		cr := &t.rules[i]
		dc := desc.Column(r.Column)
		if r.WhereColumn != "" {
			w, ok := index[r.WhereColumn]
			if !ok {
				return nil, fmt.Errorf("%s: table %q has no column %q to pick the rows of a redact rule", r.Pos, desc.Name, r.WhereColumn)
			}
			if r.Path != "" {
				return nil, fmt.Errorf("%s: a redact rule for some rows (where) takes a whole column, not a path", r.Pos)
			}
			if err := checkRule(r, cr.col, dc); err != nil {
				return nil, err
			}
			in := map[string]bool{}
			for _, v := range r.WhereIn {
				in[v] = true
			}
			cr.scoped = append(cr.scoped, scopedRule{rule: r, where: w, in: in})
			continue
		}
		cr.sniff = false
		if r.Path == "" {
			if err := checkRule(r, cr.col, dc); err != nil {
				return nil, err
			}
			cr.whole = r
			continue
		}
		if cr.col.Type != serialize.JSON {
			name := ""
			if opts != nil {
				name = opts.Codecs[r.Column]
			}
			if name == "" || cr.col.Type != serialize.Text {
				return nil, fmt.Errorf("%s: column %q of table %q holds no JSON: a path inside it needs a JSON column or codec = %s:json (or php)", r.Pos, r.Column, desc.Name, r.Column)
			}
			cr.codec = name
		}
		p, err := codec.ParsePath(r.Path)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", r.Pos, err)
		}
		cr.paths = append(cr.paths, pathRule{rule: *r, path: p})
	}
	missing := &MissingRuleError{Table: desc.Name}
	secret := map[string]bool{}
	if opts != nil {
		for _, cp := range opts.Secrets {
			secret[cp.Column] = true
		}
	}
	for _, cr := range t.rules {
		if cr.whole == nil && len(cr.paths) == 0 {
			what := sensitiveName(cr.col.Name)
			if secret[cr.col.Name] {
				what = whatSecret
			}
			if what.many != "" {
				missing.Columns = append(missing.Columns, cr.col.Name)
				missing.What = append(missing.What, what)
			}
		}
	}
	if len(missing.Columns) > 0 {
		return nil, missing
	}
	return t, nil
}

// checkRule refuses a rule the column cannot hold.
func checkRule(r *config.Redaction, c serialize.Column, dc *dialect.Column) error {
	switch r.Rule {
	case "null":
		if dc != nil && !dc.Nullable {
			return fmt.Errorf("%s: column %q is NOT NULL: redact it with constant:<text> or another rule than null", r.Pos, r.Column)
		}
	case "constant":
		if _, err := serialize.AppendCell(nil, &c, r.Text); err != nil {
			return fmt.Errorf("%s: %q cannot be written to column %q (%s): %v", r.Pos, r.Text, r.Column, c.Type, err)
		}
	case "digits":
		if c.Type != serialize.Text && c.Type != serialize.Int && c.Type != serialize.Decimal {
			return fmt.Errorf("%s: digits redacts text or numbers; column %q is %s", r.Pos, r.Column, c.Type)
		}
	case "email", "hash", "name":
		if c.Type != serialize.Text {
			return fmt.Errorf("%s: %s redacts text; column %q is %s", r.Pos, r.Rule, r.Column, c.Type)
		}
	}
	return nil
}

// MissingRuleError names the pulled columns that look sensitive and have
// no rule: by their names, or by a value (in Row).
type MissingRuleError struct {
	Table   string
	Columns []string
	What    []kind
	Row     string // the row whose value gave a column away; "" when names did
	// Inside: the value was found inside a JSON value or a BLOB, which
	// the text rules cannot rewrite whole: the hint names a path rule.
	Inside bool
	// Rule is the column's rule that rewrites only part of the value
	// (digits, email) and left the rest: the hint names a whole rule.
	Rule string
}

func (e *MissingRuleError) Error() string {
	var b strings.Builder
	for i, c := range e.Columns {
		if e.Row != "" {
			fmt.Fprintf(&b, "table %q, column %q: the value in row %s looks like %s", e.Table, c, e.Row, e.What[i].one)
		} else {
			fmt.Fprintf(&b, "table %q, column %q: its name says it holds %s", e.Table, c, e.What[i].many)
		}
		if e.Rule != "" {
			fmt.Fprintf(&b, ", which its redact rule %q leaves as it is", e.Rule)
		} else {
			b.WriteString(", and .dbsync has no redact rule for it")
		}
		if i == 0 {
			b.WriteString(": nothing written")
		}
		b.WriteString("\n")
	}
	if e.Rule != "" {
		c := e.Columns[0]
		fmt.Fprintf(&b, "hint: in [table %q] of .dbsync, redact the whole value: 'redact = %s hash' or 'redact = %s null' (or 'redact = %s keep' to copy it as it is)", e.Table, c, c, c)
		return b.String()
	}
	fmt.Fprintf(&b, "hint: add to [table %q] of .dbsync", e.Table)
	for i, c := range e.Columns {
		if e.Inside {
			fmt.Fprintf(&b, " 'redact = %s.<path> %s' for each value inside it that gives it away, or 'redact = %s null'", c, e.What[i].rule, c)
			continue
		}
		fmt.Fprintf(&b, " 'redact = %s %s'", c, e.What[i].rule)
	}
	fmt.Fprintf(&b, " (or 'redact = <column> keep' to copy a column as it is)")
	return b.String()
}

// Apply redacts one row in place. key is the row's key as text (its
// primary key's values), from which derived values are made; label names
// the row in messages.
func (t *Table) Apply(key string, label func(key string) string, cells []serialize.Cell) error {
	for i := range t.rules {
		cr := &t.rules[i]
		cell := cells[i]
		if string(cell) == string(serialize.NullCell) {
			continue
		}
		var err error
		r, as := cr.pick(cells)
		if r == nil {
			r, as = cr.whole, cr.col.Name
		}
		switch {
		case r != nil:
			if cells[i], err = t.value(r, cr, as, key, cell); err == nil {
				// A rule that rewrites part of a value (its digits, its
				// addresses) leaves the rest, which must give nothing away.
				if what := sensitiveCellBut(cr.col.Type, cr.col.Name, cells[i], r.Rule); (r.Rule == "digits" || r.Rule == "email") && what.many != "" {
					return &MissingRuleError{Table: t.name, Columns: []string{cr.col.Name}, What: []kind{what}, Row: label(key), Rule: r.Rule}
				}
			}
		case len(cr.paths) > 0:
			// The paths the rules name are rewritten; the rest of the
			// value is scanned as a column without rules would be.
			rest, structured := cr.document(cell)
			if structured {
				for _, pr := range cr.paths {
					rest, _ = pr.path.Delete(rest)
				}
			}
			typ := serialize.JSON
			if !structured {
				typ = cr.col.Type
			}
			if what := sensitiveCell(typ, cr.col.Name, rest); what.many != "" {
				return &MissingRuleError{Table: t.name, Columns: []string{cr.col.Name}, What: []kind{what}, Row: label(key), Inside: true}
			}
			cells[i], err = t.paths(cr, key, cell)
		case cr.sniff:
			if what := sensitiveCell(cr.col.Type, cr.col.Name, cell); what.many != "" {
				return &MissingRuleError{Table: t.name, Columns: []string{cr.col.Name}, What: []kind{what}, Row: label(key),
					Inside: cr.col.Type == serialize.JSON || cr.col.Type == serialize.Bytes}
			}
		}
		if err != nil {
			return fmt.Errorf("table %q, row %s, column %q: %w", t.name, label(key), cr.col.Name, err)
		}
	}
	return nil
}

// pick returns the row-scoped rule that picks this row, or nil, and what
// the row's value is (the scoping column's value: a key-value table's
// first_name), which shapes a made-up name as a column's name would.
func (cr *columnRules) pick(cells []serialize.Cell) (*config.Redaction, string) {
	for _, sr := range cr.scoped {
		if what := cellText(cells[sr.where]); sr.in[what] {
			return sr.rule, what
		}
	}
	return nil, ""
}

// value applies a rule to a whole cell (not null); as names what the
// value is (a column's name), for the shape of a made-up name.
func (t *Table) value(r *config.Redaction, cr *columnRules, as, key string, cell serialize.Cell) (serialize.Cell, error) {
	c := &cr.col
	switch r.Rule {
	case "keep":
		return cell, nil
	case "null":
		return serialize.NullCell, nil
	case "constant":
		return serialize.AppendCell(nil, c, r.Text)
	}
	text := cellText(cell)
	if text == "" && r.Rule != "digits" {
		return cell, nil // nothing to hide
	}
	var out string
	if r.Rule == "name" {
		out = fakeName(as, key, t.sum(c.Name, key))
	} else {
		out = t.derive(r.Rule, c.Name, key, text, cr.limit)
	}
	if c.Type == serialize.Text {
		return serialize.AppendString(nil, out), nil
	}
	return serialize.AppendCell(nil, c, out)
}

// paths applies the path rules of a column to its JSON value.
func (t *Table) paths(cr *columnRules, key string, cell serialize.Cell) (serialize.Cell, error) {
	doc, structured := cr.document(cell)
	if !structured {
		return cell, nil // no path to reach
	}
	for _, pr := range cr.paths {
		var err error
		doc, err = pr.path.Replace(doc, func(v gjson.Result) ([]byte, error) {
			switch {
			case v.Type == gjson.Null:
				return []byte(v.Raw), nil
			case pr.rule.Rule == "keep":
				return []byte(v.Raw), nil
			case pr.rule.Rule == "null":
				return []byte("null"), nil
			case pr.rule.Rule == "constant":
				return serialize.AppendString(nil, pr.rule.Text), nil
			}
			text := v.String()
			if text == "" {
				return []byte(v.Raw), nil
			}
			out := t.derive(pr.rule.Rule, cr.col.Name+"."+pr.path.String(), key, text, 0)
			if v.Type == gjson.Number && pr.rule.Rule == "digits" {
				return []byte(out), nil
			}
			return serialize.AppendString(nil, out), nil
		})
		if err != nil {
			return nil, err
		}
	}
	if cr.codec == "" {
		return doc, nil
	}
	n, err := serialize.Parse(doc)
	if err != nil {
		return nil, err
	}
	text, err := codec.Encode(cr.codec, &n)
	if err != nil {
		return nil, err
	}
	return serialize.AppendString(nil, text), nil
}

// document returns a cell's value as the JSON its paths are in: the
// cell of a JSON column, or what its codec decodes; ok is false for a
// value that is not structured.
func (cr *columnRules) document(cell serialize.Cell) (doc []byte, ok bool) {
	if cr.codec == "" {
		return cell, cr.col.Type == serialize.JSON
	}
	n, err := codec.Decode(cr.codec, cellText(cell))
	if err != nil {
		return cell, false
	}
	if doc, err = serialize.AppendCanonical(nil, &n, "", ""); err != nil {
		return cell, false
	}
	return doc, true
}

// derive makes the value of a derived rule. Addresses and names come from
// the row's key (one per row, unique by it); hashes and digits from the
// value (equal values stay equal, so joins on them still hold).
func (t *Table) derive(rule, column, key, text string, limit int) string {
	switch rule {
	case "email":
		if _, err := strconv.ParseInt(key, 10, 64); err == nil {
			return "user" + key + "@example.invalid"
		}
		return "user-" + hex.EncodeToString(t.sum(column, key)[:8]) + "@example.invalid"
	case "name":
		return fakeName(column, key, t.sum(column, key))
	case "digits":
		return digits(text, t.sum(column, text))
	}
	h := hex.EncodeToString(t.sum(column, text))
	if limit > 0 && limit < len(h) {
		h = h[:limit]
	}
	return h
}

// sum is the keyed hash of a value of a column of this table.
func (t *Table) sum(column, value string) []byte {
	m := hmac.New(sha256.New, t.key)
	fmt.Fprintf(m, "%s\x00%s\x00%s", t.name, column, value)
	return m.Sum(nil)
}

// digits replaces every digit of text by one drawn from seed, keeping the
// rest (separators, letters, length) and a leading digit other than 0.
func digits(text string, seed []byte) string {
	b := []byte(text)
	n := uint64(0)
	for i := range b {
		if b[i] < '0' || b[i] > '9' {
			continue
		}
		if n%8 == 0 {
			m := sha256.Sum256(append(seed, byte(n/8)))
			seed = m[:]
		}
		d := seed[n%8] % 10
		if n == 0 && d == 0 && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '9' {
			d = 1 + seed[n%8]%9
		}
		b[i] = '0' + d
		n++
	}
	return string(b)
}

var (
	firstNames = []string{"Alex", "Billie", "Casey", "Dana", "Eli", "Frankie", "Gale", "Harper", "Indy", "Jordan", "Kai", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Riley", "Sage", "Taylor", "Uma", "Val", "Wren", "Yael"}
	lastNames  = []string{"Abbott", "Berg", "Castell", "Doyle", "Ekman", "Fischer", "Garza", "Holm", "Ibarra", "Jansen", "Kowal", "Lind", "Moreau", "Novak", "Okafor", "Petrov", "Quist", "Rossi", "Sato", "Tamm", "Ueda", "Varga", "Weber", "Young"}
)

// fakeName is a first name, a last name or both, as the column's name
// suggests, drawn from seed; a login (unique in most applications) ends
// with the row's key when that is a number.
func fakeName(column, key string, seed []byte) string {
	n := binary.BigEndian.Uint64(seed)
	first, last := firstNames[n%uint64(len(firstNames))], lastNames[(n>>16)%uint64(len(lastNames))]
	c := strings.ToLower(column)
	switch {
	case strings.Contains(c, "first") || strings.Contains(c, "given"):
		return first
	case strings.Contains(c, "last") || strings.Contains(c, "sur") || strings.Contains(c, "family"):
		return last
	case strings.Contains(c, "login") || strings.Contains(c, "user") || strings.Contains(c, "nick"):
		if _, err := strconv.ParseUint(key, 10, 64); err == nil {
			return strings.ToLower(first + "." + last + key)
		}
		return strings.ToLower(first+"."+last) + strconv.FormatUint((n>>32)%100000, 10)
	}
	return first + " " + last
}

// cellText is the text of a cell: a JSON string's contents, else the cell.
func cellText(cell serialize.Cell) string {
	if len(cell) < 2 || cell[0] != '"' {
		return string(cell)
	}
	if inner := cell[1 : len(cell)-1]; bytes.IndexByte(inner, '\\') < 0 {
		return string(inner)
	}
	return gjson.ParseBytes(cell).Str
}
