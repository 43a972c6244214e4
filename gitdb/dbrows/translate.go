package dbrows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gitdbsync/git-dbsync/gitdb/codec"
	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/internal/progress"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// A row has two forms: the database's (surrogate ids, references as ids,
// text that holds JSON or PHP values, secrets) and the files' (natural
// keys, references as the referenced row's natural key, decoded values,
// placeholders for secrets, excluded paths left out). Plans and merges
// work on the files' form only; the translator converts rows read from a
// database into it, and the rows to write back.

// columnMapping says how one column's cells differ between the forms.
type columnMapping struct {
	db       serialize.Column // the column as the database types it
	ref      string           // a Ref column: the natural-keyed table it points at
	none     []string         // a Ref column's values that mean "no row"
	codec    string           // text decoded by this codec
	hidden   []hiddenPath     // paths inside the value not in the files
	pathRefs []pathRef        // paths inside the value holding ids
	textRefs []textRef        // ids inside the text, on the rows in scope
	same     bool             // the same cell in both forms
}

type hiddenPath struct {
	path   codec.Path
	secret bool // a placeholder in files; else left out
}

type pathRef struct {
	path  codec.Path
	table string
	none  []string // values that mean "no row"
	// text: the ids are JSON strings ("3"), as set in .dbsync or as seen
	// in the database read; fixed when .dbsync set it.
	text, fixed bool
	// inText, for a reference with formats, finds the id inside the
	// string at the path ("/node/5").
	inText *textRef
}

// json reports a column whose value is parsed to be translated.
func (c *columnMapping) json() bool {
	return c.codec != "" || len(c.hidden) > 0 || len(c.pathRefs) > 0
}

// prepareMapping works out how each column of t translates. meta, opts
// (nil without a [table] section) and desc must be set.
func (t *Table) prepareMapping() error {
	meta := t.Meta
	t.mapping = make([]columnMapping, len(meta.Columns))
	for i, c := range meta.Columns {
		m := &t.mapping[i]
		dc := t.Desc.Column(c.Name)
		if dc == nil {
			return fmt.Errorf("table %q has no column %q", meta.Name, c.Name)
		}
		m.db = serialize.Column{Name: c.Name, Type: dc.Type, Nullable: dc.Nullable, Scale: dc.Scale}
		m.codec = c.Codec
		if portableJSON(c, dc) { // the codec the target needs, if any
			m.codec = map[string]string{"json": "", "": "json"}[c.Codec]
		}
		if c.Type == serialize.Ref {
			for _, r := range meta.References {
				if len(r.Columns) == 1 && r.Columns[0] == c.Name {
					m.ref = r.Table
					m.none = append(m.none, r.None...)
				}
			}
			if m.ref == "" {
				return fmt.Errorf("table %q: column %q is a reference without a table", meta.Name, c.Name)
			}
		}
		if slices.Contains(meta.KeyIndexes(), i) && m.ref != "" {
			t.keyHasRef = true
		}
	}
	if err := t.pathOptions(); err != nil {
		return err
	}
	t.readOrder = append([]int(nil), meta.KeyIndexes()...)
	t.textRefCols = nil
	for i := range t.mapping {
		m := &t.mapping[i]
		m.same = m.ref == "" && !m.json() && len(m.textRefs) == 0 && !meta.Columns[i].Secret
		if !slices.Contains(meta.KeyIndexes(), i) {
			t.readOrder = append(t.readOrder, i)
		}
		if len(m.textRefs) > 0 {
			t.textRefCols = append(t.textRefCols, i)
		}
	}
	return nil
}

// pathOptions adds the .dbsync options on paths inside values: secret,
// exclude-paths and reference.
func (t *Table) pathOptions() error {
	meta := t.Meta
	if t.Options == nil {
		return nil
	}
	add := func(cp config.ColumnPath, fn func(m *columnMapping, p codec.Path)) error {
		i := meta.Index(cp.Column)
		if cp.Path == "" || i < 0 && t.keyOnly {
			return nil // whole columns: the metadata says Secret, or Ref; a key table has only its key
		}
		if i < 0 {
			return &config.Error{Pos: cp.Pos, Msg: fmt.Sprintf("table %q has no exported column %q", meta.Name, cp.Column)}
		}
		if meta.Columns[i].Type != serialize.JSON {
			return &config.Error{Pos: cp.Pos, Msg: fmt.Sprintf("column %q of table %q holds no JSON (set a codec for it)", cp.Column, meta.Name)}
		}
		p, err := codec.ParsePath(cp.Path)
		if err != nil {
			return &config.Error{Pos: cp.Pos, Msg: err.Error()}
		}
		fn(&t.mapping[i], p)
		return nil
	}
	for _, cp := range t.Options.Secrets {
		if err := add(cp, func(m *columnMapping, p codec.Path) { m.hidden = append(m.hidden, hiddenPath{p, true}) }); err != nil {
			return err
		}
	}
	for _, cp := range t.Options.ExcludePaths {
		if err := add(cp, func(m *columnMapping, p codec.Path) { m.hidden = append(m.hidden, hiddenPath{p, false}) }); err != nil {
			return err
		}
	}
	for _, r := range t.Options.References {
		if r.InText() {
			if t.keyOnly {
				continue // only the key is read
			}
			if err := t.addTextRef(r); err != nil {
				return err
			}
			continue
		}
		ref := pathRef{table: r.Table, none: r.None, text: r.As == "text", fixed: r.As != ""}
		if len(r.Formats) > 0 {
			ref.inText = newTextRef(r)
		}
		if err := add(r.ColumnPath, func(m *columnMapping, p codec.Path) { ref.path = p; m.pathRefs = append(m.pathRefs, ref) }); err != nil {
			return err
		}
	}
	return nil
}

// keyMap pairs the surrogate ids of a natural-keyed table's rows in one
// database with their natural keys (as a Ref cell holds them).
type keyMap struct {
	byID  map[int64]string
	byKey map[string]int64
	// ambiguous lists, per key, the rows of a referable content table
	// that share it: a reference to one of them cannot travel by key.
	ambiguous map[string][]int64
}

// Translator converts rows between the forms for one database.
type Translator struct {
	db     dialect.Reader
	tables map[string]*Table
	keys   map[string]*keyMap
	// kept holds, per table and row key, the database's cells of the
	// columns with hidden paths, to put those values back when the row is
	// written.
	kept map[string]map[string][]serialize.Cell
	// Meter counts the rows read and written, for a progress display.
	Meter  *progress.Meter
	mu     sync.Mutex
	asText []keptValues // values a codec kept as their text, per column
}

// keptValues counts the values of one column a codec kept as text.
type keptValues struct {
	table, column, codec, why string
	n                         int
}

// keptAsText notes a value its codec could not decode exactly and kept
// as its text: it merges as a whole value.
func (tr *Translator) keptAsText(table, column, codecName, why string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for i := range tr.asText {
		if k := &tr.asText[i]; k.table == table && k.column == column {
			k.n++
			return
		}
	}
	tr.asText = append(tr.asText, keptValues{table: table, column: column, codec: codecName, why: why, n: 1})
}

// KeptAsText says, per column, how many values its codec kept as their
// text (each merged as a whole value, never altered), and why the first.
func (tr *Translator) KeptAsText() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []string
	for _, k := range tr.asText {
		what := "a value"
		if k.n > 1 {
			what = fmt.Sprintf("%d values", k.n)
		}
		out = append(out, fmt.Sprintf("table %q, column %q: %s kept as text, merged as a whole (the %s codec: %s)", k.table, k.column, what, k.codec, k.why))
	}
	return out
}

func NewTranslator(db dialect.Reader, tables []*Table) *Translator {
	tr := &Translator{db: db, tables: map[string]*Table{}, keys: map[string]*keyMap{}, kept: map[string]map[string][]serialize.Cell{}}
	for _, t := range tables {
		tr.tables[t.Meta.Name] = t
	}
	return tr
}

// natKey returns a row's natural key as a Ref cell holds it: the key cell,
// or an array of the key cells.
func natKey(meta *serialize.Table, r serialize.Row) string {
	idx := meta.KeyIndexes()
	if len(idx) == 1 {
		return string(r[idx[0]])
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, k := range idx {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(r[k])
	}
	b.WriteByte(']')
	return b.String()
}

// keyMap reads (once) the ids and natural keys of every row of a
// natural-keyed table, row scopes aside: a reference may point at any row.
func (tr *Translator) keyMap(ctx context.Context, table string) (*keyMap, error) {
	if km := tr.keys[table]; km != nil {
		if km.byID == nil {
			return nil, fmt.Errorf("table %q: its natural key refers back to itself through other keys", table)
		}
		return km, nil
	}
	t := tr.tables[table]
	if t == nil || t.Meta.Surrogate == "" {
		return nil, fmt.Errorf("table %q is not exported with a natural key", table)
	}
	tr.keys[table] = &keyMap{} // building: a cycle finds byID nil
	km, err := tr.readKeyMap(ctx, t)
	if err != nil {
		delete(tr.keys, table)
		return nil, fmt.Errorf("table %q: %w", table, err)
	}
	tr.keys[table] = km
	return km, nil
}

// readKeyMap reads the ids and key columns of every row of t, then works
// out each row's natural key. A key column may refer to t itself (a
// parent in a tree: key = parent_id name): the parent's key is worked out
// first, from the rows in memory.
func (tr *Translator) readKeyMap(ctx context.Context, t *Table) (*keyMap, error) {
	meta := t.Meta
	var others []int // key columns that translate through other tables
	for _, k := range meta.KeyIndexes() {
		if t.mapping[k].ref != meta.Name {
			others = append(others, k)
		}
	}
	if err := tr.prepare(ctx, t, others); err != nil {
		return nil, err
	}
	idCol := serialize.Column{Name: meta.Surrogate, Type: serialize.Int}
	type raw struct{ cells []serialize.Cell } // the key columns as the database holds them
	rows := map[int64]raw{}
	var order []int64
	cols := append([]string{meta.Surrogate}, meta.Key...)
	err := tr.db.ReadRows(ctx, t.Desc, cols, []string{meta.Surrogate}, func(values []any) error {
		cell, err := serialize.AppendCell(nil, &idCol, values[0])
		if err != nil {
			return fmt.Errorf("column %q: %w", meta.Surrogate, err)
		}
		id, err := strconv.ParseInt(string(cell), 10, 64)
		if err != nil {
			return fmt.Errorf("column %q: id %s is not a 64-bit integer", meta.Surrogate, cell)
		}
		r := raw{cells: make([]serialize.Cell, len(meta.Key))}
		for j, k := range meta.KeyIndexes() {
			if r.cells[j], err = serialize.AppendCell(nil, &t.mapping[k].db, values[1+j]); err != nil {
				return fmt.Errorf("row %s=%d: column %q: %w", meta.Surrogate, id, meta.Key[j], err)
			}
		}
		rows[id] = r
		order = append(order, id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	km := &keyMap{byID: map[int64]string{}, byKey: map[string]int64{}}
	visiting := map[int64]bool{}
	var resolve func(id int64) (string, error)
	resolve = func(id int64) (string, error) {
		if key, ok := km.byID[id]; ok {
			return key, nil
		}
		r, ok := rows[id]
		if !ok {
			return "", fmt.Errorf("references %s=%d in %q, which has no such row", meta.Surrogate, id, meta.Name)
		}
		if visiting[id] {
			return "", fmt.Errorf("row %s=%d: its key refers back to itself", meta.Surrogate, id)
		}
		visiting[id] = true
		defer delete(visiting, id)
		row := make(serialize.Row, len(meta.Columns))
		for j, k := range meta.KeyIndexes() {
			cell, m := r.cells[j], &t.mapping[k]
			switch {
			case string(cell) == string(serialize.NullCell) || m.ref == "":
				row[k] = cell
			case m.ref == meta.Name:
				parent, err := strconv.ParseInt(string(cell), 10, 64)
				if _, isRow := rows[parent]; !isRow && serialize.NoneValue(m.none, cell) {
					row[k] = cell // a root: its parent is "none"
					break
				}
				if err != nil {
					return "", fmt.Errorf("row %s=%d: column %q: %s is not an id", meta.Surrogate, id, meta.Key[j], cell)
				}
				key, err := resolve(parent)
				if err != nil {
					return "", err
				}
				row[k] = serialize.Cell(key)
			default:
				key, err := tr.refToFile(ctx, m.ref, m.none, cell)
				if err != nil {
					return "", fmt.Errorf("row %s=%d: column %q: %w", meta.Surrogate, id, meta.Key[j], err)
				}
				row[k] = key
			}
		}
		key := natKey(meta, row)
		if other, dup := km.byKey[key]; dup {
			if !t.keyOnly {
				return "", fmt.Errorf("natural key (%s) is not unique: rows %s=%d and %s=%d both have %s",
					strings.Join(meta.Key, ", "), meta.Surrogate, other, meta.Surrogate, id, key)
			}
			// Content's key need only be unique where config refers to
			// it (WordPress's drafts share an empty post_name).
			if km.ambiguous == nil {
				km.ambiguous = map[string][]int64{}
			}
			if len(km.ambiguous[key]) == 0 {
				km.ambiguous[key] = []int64{other}
			}
			km.ambiguous[key] = append(km.ambiguous[key], id)
		}
		km.byID[id], km.byKey[key] = key, id
		return key, nil
	}
	for _, id := range order {
		if _, err := resolve(id); err != nil {
			return nil, err
		}
	}
	return km, nil
}

// prepare reads the key maps the given columns of t translate through
// (all columns when none are given) before t's rows are read: one
// connection cannot run a second query while it streams the first.
func (tr *Translator) prepare(ctx context.Context, t *Table, cols []int) error {
	if cols == nil {
		for i := range t.mapping {
			cols = append(cols, i)
		}
	}
	for _, i := range cols {
		m := &t.mapping[i]
		var tables []string
		if m.ref != "" {
			tables = append(tables, m.ref)
		}
		for _, pr := range m.pathRefs {
			tables = append(tables, pr.table)
		}
		for _, r := range m.textRefs {
			tables = append(tables, r.table)
		}
		for _, ref := range tables {
			if _, err := tr.keyMap(ctx, ref); err != nil {
				return err
			}
		}
	}
	return nil
}

// refToFile turns an id (a database cell) into the natural key of the
// row it references; a value that means "no row" stays as it is.
func (tr *Translator) refToFile(ctx context.Context, table string, none []string, id serialize.Cell) (serialize.Cell, error) {
	if isNone, err := tr.noneRef(ctx, table, none, id); isNone || err != nil {
		return id, err
	}
	km, err := tr.keyMap(ctx, table)
	if err != nil {
		return nil, err
	}
	n, err := strconv.ParseInt(string(id), 10, 64)
	key, ok := km.byID[n]
	if ids := km.ambiguous[key]; ok && len(ids) > 0 {
		return nil, km.ambiguity(tr.tables[table].Meta, key)
	}
	if err != nil || !ok {
		msg := fmt.Sprintf("references %s=%s in %q, which has no such row", tr.tables[table].Meta.Surrogate, id, table)
		if slices.Contains([]string{"0", "-1", `""`}, string(id)) {
			msg += fmt.Sprintf(`; if %s means "no row" here, declare it in .dbsync: reference = <column> %s none=%s`, id, table, strings.Trim(string(id), `"`))
		}
		return nil, errors.New(msg)
	}
	return serialize.Cell(key), nil
}

// noneRef reports a cell (in either form) holding one of the values that
// mean "no row", and refuses one that also names a row of the table: it
// could not be told apart.
func (tr *Translator) noneRef(ctx context.Context, table string, none []string, cell serialize.Cell) (bool, error) {
	if !serialize.NoneValue(none, cell) {
		return false, nil
	}
	km, err := tr.keyMap(ctx, table)
	if err != nil {
		return false, err
	}
	id, err := strconv.ParseInt(strings.Trim(string(cell), `"`), 10, 64)
	_, isID := km.byID[id]
	_, isKey := km.byKey[string(cell)]
	if err == nil && isID || isKey {
		return false, fmt.Errorf(`%s means "no row" (none= in .dbsync), but %q has a row %s: the two cannot be told apart`, cell, table, cell)
	}
	return true, nil
}

// RefError is a reference to a row that neither the revision nor the
// target has: found before anything is written.
type RefError struct {
	Table, Row, Column, RefTable, Key string
	// Content: RefTable is referable content (never in a revision), and
	// the target lacks the row: a conflict of the target's data.
	Content bool
}

func (e *RefError) Error() string {
	if e.Content {
		return fmt.Sprintf("table %q, row %s: column %q refers to %s in %q, which the target does not have: nothing written\nhint: create that row of %q on the target (or change the reference in the revision), then apply again",
			e.Table, e.Row, e.Column, e.Key, e.RefTable, e.RefTable)
	}
	return fmt.Sprintf("table %q, row %s: column %q references %s in %q, which is neither in the revision nor in the target",
		e.Table, e.Row, e.Column, e.Key, e.RefTable)
}

// idOf returns the target's id of a natural-keyed row.
func (tr *Translator) idOf(ctx context.Context, table, key string) (int64, bool, error) {
	km, err := tr.keyMap(ctx, table)
	if err != nil {
		return 0, false, err
	}
	id, ok := km.byKey[key]
	if len(km.ambiguous[key]) > 0 {
		return 0, false, km.ambiguity(tr.tables[table].Meta, key)
	}
	return id, ok, nil
}

// ambiguity refuses a reference to a key that rows of a referable table
// share: by key, it could land on any of them.
func (km *keyMap) ambiguity(meta *serialize.Table, key string) error {
	var ids []string
	for _, id := range km.ambiguous[key] {
		ids = append(ids, fmt.Sprintf("%s=%d", meta.Surrogate, id))
	}
	return fmt.Errorf("refers to %s in %q, which rows %s all have: a reference travels by key, and this one names no single row (make the key unique, or declare a longer key for %q)",
		key, meta.Name, strings.Join(ids, ", "), meta.Name)
}
