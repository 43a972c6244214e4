// Package serialize defines the canonical files git dbsync writes: logical
// column types, the canonical JSON form of every value, the row and table
// metadata files, and portable file names derived from row keys.
//
// Its contract: the same logical data always gives the same bytes, whatever
// engine it came from, the order rows were read in, or the run; and decoding
// is the exact inverse of encoding (encode → decode → encode is
// byte-identical). It imports nothing from the rest of the project.
package serialize

import (
	"fmt"
	"slices"
)

// Type is a logical column type, independent of any engine's declared type.
type Type string

const (
	Int         Type = "int"         // exact integer, up to 64 bits signed or unsigned
	Float       Type = "float"       // IEEE 754 double (or single)
	Decimal     Type = "decimal"     // exact decimal; Column.Scale digits after the point when known
	Text        Type = "text"        // Unicode text (valid UTF-8)
	Bytes       Type = "bytes"       // binary, written as base64
	Boolean     Type = "bool"        // true / false
	Date        Type = "date"        // calendar date, YYYY-MM-DD
	Time        Type = "time"        // time of day, HH:MM:SS[.fraction]
	Timestamp   Type = "timestamp"   // date and time without a zone
	TimestampTZ Type = "timestamptz" // instant, written in UTC with Z
	JSON        Type = "json"        // a JSON document, embedded as JSON
	UUID        Type = "uuid"        // RFC 4122 UUID, lowercase hyphenated
	// Ref is a reference to a row of a table with a natural key: that
	// row's natural key, one value, or an array of values for a composite
	// key. The database holds the row's surrogate id instead.
	Ref Type = "ref"
)

// Types lists every logical type, in the order the documentation gives them.
var Types = []Type{Int, Float, Decimal, Text, Bytes, Boolean, Date, Time, Timestamp, TimestampTZ, JSON, UUID, Ref}

// ParseType returns the logical type named s.
func ParseType(s string) (Type, error) {
	for _, t := range Types {
		if string(t) == s {
			return t, nil
		}
	}
	return "", fmt.Errorf("unknown logical type %q", s)
}

// Keyable reports whether values of t can identify a row.
func (t Type) Keyable() bool { return t != JSON && t != Float }

// Column is one exported column of a table.
type Column struct {
	Name     string
	Type     Type
	Nullable bool
	Scale    int // decimal places of a Decimal column; -1 when not fixed
	// Codec names how the database's text is decoded into the JSON the
	// file holds ("json", "php"); "" for none.
	Codec string
	// Secret columns hold SecretPlaceholder (or null) in files: their
	// values never leave the database.
	Secret bool
	// Sets are the paths inside a JSON value ($, $.a.b) whose arrays merge
	// as sets.
	Sets []string
}

// SecretPlaceholder stands in files for a secret value.
const SecretPlaceholder = "[secret]"

// SecretCell is the cell of SecretPlaceholder.
var SecretCell = Cell(`"` + SecretPlaceholder + `"`)

// Reference is a foreign key from columns of this table to another table.
type Reference struct {
	Columns []string
	Table   string
	To      []string
	// None lists the values of the column that mean "no row" (such as 0):
	// they are kept as they are in both forms.
	None []string
}

// IsNone reports whether a cell holds one of the values that mean "no row".
func (r *Reference) IsNone(cell Cell) bool { return NoneValue(r.None, cell) }

// NoneValue reports whether a cell (a JSON number or string) holds one of
// the given values.
func NoneValue(none []string, cell Cell) bool {
	if len(none) == 0 {
		return false
	}
	text := string(cell)
	if n, err := Parse(cell); err == nil && n.Kind == String {
		text = n.Text
	}
	return slices.Contains(none, text)
}

// Layout is how a table's rows are laid out on disk.
type Layout string

const (
	LayoutRows  Layout = "rows"  // one pretty-printed file per row
	LayoutLines Layout = "lines" // one file, one canonical row per line, sorted by key
)

// Table is the metadata of one exported table: what the table.json file
// holds, and what is needed to encode and decode its rows.
type Table struct {
	Name    string
	Columns []Column // in the table's column order, excluded columns left out
	Key     []string // columns that identify a row across environments
	// Surrogate is the database's id column of a table with a natural
	// key: not exported, allocated by the target on insert, and what Ref
	// columns of other tables hold in the database.
	Surrogate  string
	References []Reference
	Layout     Layout

	byName   map[string]int
	keyIdx   []int // Columns index of each Key column
	sorted   []int // Columns indexes in canonical member order
	prefixes [][]byte
}

// Prepare validates the metadata and computes what encoding needs. It must
// be called once before the table is used to encode or decode rows.
func (t *Table) Prepare() error {
	if t.Layout == "" {
		t.Layout = LayoutRows
	}
	if t.Layout != LayoutRows && t.Layout != LayoutLines {
		return fmt.Errorf("table %q: unknown layout %q (want rows or lines)", t.Name, t.Layout)
	}
	index := map[string]int{}
	t.byName = index
	for i, c := range t.Columns {
		if _, dup := index[c.Name]; dup {
			return fmt.Errorf("table %q: duplicate column %q", t.Name, c.Name)
		}
		if _, err := ParseType(string(c.Type)); err != nil {
			return fmt.Errorf("table %q: column %q: %w", t.Name, c.Name, err)
		}
		index[c.Name] = i
	}
	if len(t.Key) == 0 {
		return fmt.Errorf("table %q: no key columns", t.Name)
	}
	t.keyIdx = t.keyIdx[:0]
	for _, k := range t.Key {
		i, ok := index[k]
		if !ok {
			return fmt.Errorf("table %q: key column %q is not an exported column", t.Name, k)
		}
		if !t.Columns[i].Type.Keyable() {
			return fmt.Errorf("table %q: key column %q has type %s, which cannot identify a row", t.Name, k, t.Columns[i].Type)
		}
		t.keyIdx = append(t.keyIdx, i)
	}
	t.sorted = make([]int, len(t.Columns))
	for i := range t.sorted {
		t.sorted[i] = i
	}
	sortByName(t.sorted, t.Columns)
	t.prefixes = make([][]byte, len(t.Columns))
	for i, c := range t.Columns {
		t.prefixes[i] = AppendString(nil, c.Name)
	}
	return nil
}

// Index returns the position of the named column, or -1.
func (t *Table) Index(name string) int {
	if i, ok := t.byName[name]; ok {
		return i
	}
	return -1
}

// KeyIndexes returns the Columns positions of the key columns.
func (t *Table) KeyIndexes() []int { return t.keyIdx }
