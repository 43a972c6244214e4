package dbrows

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Applications keep ids inside text: a key-value table's value that is a
// page's id on some rows only (WordPress's page_on_front), or a link
// that names a node ("entity:node/5", Drupal's menu links). A text
// reference translates the id inside such text, on the rows its scope
// names, into the referenced row's key and back; the column stays text,
// and text of no format passes through as it is.

// textRef is a reference to ids inside a whole text column.
type textRef struct {
	table   string
	none    []string
	formats []textFormat
	where   int      // index of the scoping column in the row; -1 for every row
	whereIn []string // the values of the scoping column that hold ids
}

// textFormat is the text around the id: "entity:node/" and "".
type textFormat struct{ prefix, suffix string }

// addTextRef adds .dbsync's reference to ids inside column r.Column.
func (t *Table) addTextRef(r config.Reference) error {
	meta := t.Meta
	i := meta.Index(r.Column)
	if i < 0 {
		return &config.Error{Pos: r.Pos, Msg: fmt.Sprintf("table %q has no exported column %q", meta.Name, r.Column)}
	}
	// Text, or a value decoded (a codec's, or JSON) whose string the id
	// is in; a JSON value's ids in its members are paths: <column>.<path>.
	if typ := meta.Columns[i].Type; typ != serialize.Text && typ != serialize.JSON {
		return &config.Error{Pos: r.Pos, Msg: fmt.Sprintf("column %q of table %q holds no text: format= and where find ids inside text", r.Column, meta.Name)}
	}
	ref := newTextRef(r)
	if r.WhereColumn != "" {
		if ref.where = meta.Index(r.WhereColumn); ref.where < 0 {
			return &config.Error{Pos: r.Pos, Msg: fmt.Sprintf("table %q has no exported column %q", meta.Name, r.WhereColumn)}
		}
	}
	t.mapping[i].textRefs = append(t.mapping[i].textRefs, *ref)
	return nil
}

// newTextRef reads a reference's formats (none: the whole text is the
// id), for every row.
func newTextRef(r config.Reference) *textRef {
	ref := &textRef{table: r.Table, none: r.None, where: -1, whereIn: r.WhereIn}
	for _, f := range r.Formats {
		prefix, suffix, _ := strings.Cut(f, "{}")
		ref.formats = append(ref.formats, textFormat{prefix, suffix})
	}
	if len(ref.formats) == 0 {
		ref.formats = []textFormat{{}}
	}
	return ref
}

// applies reports whether the reference covers a row (in the files'
// form: the scoping column's cell is the same in both forms).
func (r *textRef) applies(row serialize.Row) bool {
	if r.where < 0 {
		return true
	}
	n, err := serialize.Parse(row[r.where])
	return err == nil && n.Kind == serialize.String && slices.Contains(r.whereIn, n.Text)
}

// split finds the id (or key) inside text: the part between the first
// format's prefix and suffix that the text has.
func (r *textRef) split(text string) (f textFormat, inner string, ok bool) {
	for _, f := range r.formats {
		if len(text) >= len(f.prefix)+len(f.suffix) && strings.HasPrefix(text, f.prefix) && strings.HasSuffix(text, f.suffix) {
			if inner = text[len(f.prefix) : len(text)-len(f.suffix)]; inner != "" {
				return f, inner, true
			}
		}
	}
	return textFormat{}, "", false
}

// textToFile turns the ids inside column i of a row read from the
// database (its other cells in the files' form already) into keys: a
// single column's text, or a composite key's JSON array (["page","home"]).
func (tr *Translator) textToFile(ctx context.Context, t *Table, i int, row serialize.Row) (serialize.Cell, error) {
	return tr.translateText(t, i, row, tr.idToKey(ctx))
}

// idToKey returns the function that turns an id found inside text into
// the referenced row's key.
func (tr *Translator) idToKey(ctx context.Context) func(r *textRef, inner string) (string, error) {
	return func(r *textRef, inner string) (string, error) {
		if _, err := strconv.ParseInt(inner, 10, 64); err != nil {
			return inner, nil // no id: text that only looks like the format
		}
		key, err := tr.refToFile(ctx, r.table, nil, serialize.Cell(inner))
		if err != nil {
			return "", err
		}
		n, err := serialize.Parse(key)
		if err != nil || n.Kind != serialize.String {
			return string(key), err
		}
		return n.Text, nil
	}
}

// textToDB turns the keys inside column i of a row in the files' form
// back into the target's ids; a key the target lacks is a RefError.
func (tr *Translator) textToDB(ctx context.Context, t *Table, i int, row serialize.Row, refErr func(table, key string) error) (serialize.Cell, error) {
	return tr.translateText(t, i, row, tr.keyToID(ctx, refErr))
}

// keyToID returns the function that turns a key found inside text back
// into the target's id.
func (tr *Translator) keyToID(ctx context.Context, refErr func(table, key string) error) func(r *textRef, key string) (string, error) {
	return func(r *textRef, key string) (string, error) {
		cell := key // a composite key as its JSON array
		if ref := tr.tables[r.table]; ref != nil && len(ref.Meta.Key) == 1 {
			cell = string(serialize.AppendString(nil, key))
		}
		id, ok, err := tr.idOf(ctx, r.table, cell)
		switch {
		case err != nil:
			return "", err
		case !ok:
			return "", refErr(r.table, key)
		}
		return strconv.FormatInt(id, 10), nil
	}
}

// translateText rewrites the part of column i's text that a reference in
// scope finds, with fn; "no row" values and other text pass through.
func (tr *Translator) translateText(t *Table, i int, row serialize.Row, fn func(r *textRef, inner string) (string, error)) (serialize.Cell, error) {
	for j := range t.mapping[i].textRefs {
		if r := &t.mapping[i].textRefs[j]; r.applies(row) {
			if out, done, err := r.rewrite(row[i], fn); done || err != nil {
				return out, err
			}
		}
	}
	return row[i], nil
}

// rewrite rewrites the id (or key) inside a JSON string cell with fn;
// done is false for a cell the reference does not find one in.
func (r *textRef) rewrite(cell serialize.Cell, fn func(r *textRef, inner string) (string, error)) (out serialize.Cell, done bool, err error) {
	n, err := serialize.Parse(cell)
	if err != nil || n.Kind != serialize.String {
		return cell, false, err // null, or not text
	}
	f, inner, ok := r.split(n.Text)
	if !ok || slices.Contains(r.none, inner) {
		return cell, false, nil
	}
	text, err := fn(r, inner)
	if err != nil {
		return nil, false, err
	}
	return serialize.AppendString(nil, f.prefix+text+f.suffix), true, nil
}

// RepointText rewrites the id that a reference to ids inside text finds in
// text (its row in scope: the caller checks where) with to; text of no
// format, and "no row" values, stay. changed is false when nothing did.
func RepointText(r config.Reference, text string, to func(id int64) (int64, error)) (out string, changed bool, err error) {
	ref := newTextRef(r)
	f, inner, ok := ref.split(text)
	if !ok || slices.Contains(ref.none, inner) {
		return text, false, nil
	}
	id, err := strconv.ParseInt(inner, 10, 64)
	if err != nil {
		return text, false, nil // no id: text that only looks like the format
	}
	n, err := to(id)
	if err != nil || n == id {
		return text, false, err
	}
	return f.prefix + strconv.FormatInt(n, 10) + f.suffix, true, nil
}
