package dbrows

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/gitdbsync/git-dbsync/gitdb/codec"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// The cells of one row between the forms. A JSON value's paths (ids
// inside it, secret and excluded paths) are located and edited in its
// canonical bytes (codec.Path); the result is made canonical again.

// cellToFile converts a driver value of column i into the files' cell.
func (tr *Translator) cellToFile(ctx context.Context, t *Table, i int, v any) (serialize.Cell, error) {
	m := &t.mapping[i]
	cell, err := serialize.AppendCell(nil, &m.db, v)
	if err != nil || string(cell) == string(serialize.NullCell) {
		return cell, err
	}
	switch {
	case t.Meta.Columns[i].Secret:
		return serialize.SecretCell, nil
	case m.ref != "":
		return tr.refToFile(ctx, m.ref, m.none, cell)
	case !m.json():
		return cell, nil
	}
	doc, note, err := tr.decode(m, cell)
	if err != nil {
		return nil, err
	}
	if note != "" {
		tr.keptAsText(t.Meta.Name, m.db.Name, m.codec, note)
	}
	for j := range m.pathRefs {
		pr := &m.pathRefs[j]
		doc, err = replaceRefs(doc, pr, func(v gjson.Result) ([]byte, error) {
			if pr.inText != nil {
				out, _, err := pr.inText.rewrite(serialize.Cell(v.Raw), tr.idToKey(ctx))
				return out, err
			}
			if v.Type == gjson.String && !pr.fixed {
				pr.text = true // written back as this database holds them
			}
			id := v.Raw
			if v.Type == gjson.String {
				id = v.Str
				if serialize.NoneValue(pr.none, serialize.Cell(v.Raw)) {
					id = v.Raw // kept as it is, a string
				}
			}
			return tr.refToFile(ctx, pr.table, pr.none, serialize.Cell(id))
		})
		if err != nil {
			return nil, err
		}
	}
	for _, h := range m.hidden {
		if h.secret {
			doc, err = h.path.Replace(doc, func(gjson.Result) ([]byte, error) { return serialize.SecretCell, nil })
		} else {
			doc, err = h.path.Delete(doc)
		}
		if err != nil {
			return nil, err
		}
	}
	return canonical(doc)
}

// replaceRefs replaces every value other than null that a path reference
// reaches in doc by what fn returns for it.
func replaceRefs(doc []byte, pr *pathRef, fn func(gjson.Result) ([]byte, error)) ([]byte, error) {
	return pr.path.Replace(doc, func(v gjson.Result) ([]byte, error) {
		if v.Type == gjson.Null {
			return []byte(v.Raw), nil
		}
		raw, err := fn(v)
		if err != nil {
			return nil, fmt.Errorf("at %s: %w", pr.path, err)
		}
		return raw, nil
	})
}

// canonical returns a JSON document in the canonical form.
func canonical(doc []byte) (serialize.Cell, error) {
	n, err := serialize.Parse(doc)
	if err != nil {
		return nil, err
	}
	return serialize.AppendCanonical(nil, &n, "", "")
}

// decode returns the canonical JSON of a database cell of a JSON-holding
// column: the cell itself, or the value its codec decodes, and why the
// codec kept it as text when it did.
func (tr *Translator) decode(m *columnMapping, cell serialize.Cell) ([]byte, string, error) {
	if m.codec == "" {
		return cell, "", nil
	}
	n, err := serialize.Parse(cell)
	if err != nil {
		return nil, "", err
	}
	text := n.Text
	if m.db.Type == serialize.Bytes {
		raw, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			return nil, "", err
		}
		text = string(raw)
	}
	n, note, err := codec.DecodeNote(m.codec, text)
	if err != nil {
		return nil, "", err
	}
	doc, err := serialize.AppendCanonical(nil, &n, "", "")
	return doc, note, err
}

// rowToFile converts the driver values of a row read from the database
// (one per Meta column) into the files' form, key columns first so that
// errors can name the row. Cells that need no translation are appended
// to buf, which the caller reuses from row to row.
func (tr *Translator) rowToFile(ctx context.Context, t *Table, values []any, row serialize.Row, buf []byte, keepHidden bool) ([]byte, error) {
	meta := t.Meta
	buf = buf[:0]
	cell := func(i int) (err error) {
		if !t.mapping[i].same {
			row[i], err = tr.cellToFile(ctx, t, i, values[i])
			return err
		}
		start := len(buf)
		buf, err = serialize.AppendCell(buf, &t.mapping[i].db, values[i])
		// Earlier cells stay valid if append moves buf: they keep the old array.
		row[i] = buf[start:len(buf):len(buf)]
		return err
	}
	keys := len(meta.KeyIndexes())
	var kept []serialize.Cell
	for n, i := range t.readOrder {
		if err := cell(i); err != nil {
			if n < keys {
				return buf, fmt.Errorf("row with %s = %s: column %q: %w", meta.Columns[i].Name, serialize.Preview(values[i]), meta.Columns[i].Name, err)
			}
			return buf, fmt.Errorf("row %s: column %q: %w", meta.DescribeKey(row), meta.Columns[i].Name, err)
		}
		if keepHidden && n >= keys && len(t.mapping[i].hidden) > 0 {
			if kept == nil {
				kept = make([]serialize.Cell, len(meta.Columns))
			}
			kept[i], _ = serialize.AppendCell(nil, &t.mapping[i].db, values[i])
		}
	}
	// Ids inside text last: a reference's scope reads other columns.
	for _, i := range t.textRefCols {
		var err error
		if row[i], err = tr.textToFile(ctx, t, i, row); err != nil {
			return buf, fmt.Errorf("row %s: column %q: %w", meta.DescribeKey(row), meta.Columns[i].Name, err)
		}
	}
	if kept != nil {
		if tr.kept[meta.Name] == nil {
			tr.kept[meta.Name] = map[string][]serialize.Cell{}
		}
		tr.kept[meta.Name][meta.KeyOf(row)] = kept
	}
	return buf, nil
}

// cellToDB converts column i of a row in the files' form into the cell
// the database stores. kept is the target's current cell of a column with
// hidden paths (nil for an insert): those values are put back.
func (tr *Translator) cellToDB(ctx context.Context, t *Table, i int, r serialize.Row, kept serialize.Cell) (serialize.Cell, error) {
	m := &t.mapping[i]
	cell := r[i]
	if string(cell) == string(serialize.NullCell) {
		return cell, nil
	}
	refErr := func(table, key string) error {
		ref := tr.tables[table]
		return &RefError{Table: t.Meta.Name, Row: t.Meta.DescribeKey(r), Column: t.Meta.Columns[i].Name, RefTable: table, Key: key,
			Content: ref != nil && ref.keyOnly}
	}
	switch {
	case m.ref != "":
		if isNone, err := tr.noneRef(ctx, m.ref, m.none, cell); isNone || err != nil {
			return cell, err
		}
		id, ok, err := tr.idOf(ctx, m.ref, string(cell))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, refErr(m.ref, string(cell))
		}
		return serialize.Cell(strconv.FormatInt(id, 10)), nil
	case len(m.textRefs) > 0 && !m.json():
		return tr.textToDB(ctx, t, i, r, refErr)
	case !m.json():
		return cell, nil
	}
	doc := []byte(cell)
	var err error
	if len(m.textRefs) > 0 { // a decoded value that is a string holding an id
		if doc, err = tr.textToDB(ctx, t, i, r, refErr); err != nil {
			return nil, err
		}
	}
	for j := range m.pathRefs {
		pr := &m.pathRefs[j]
		doc, err = replaceRefs(doc, pr, func(v gjson.Result) ([]byte, error) {
			if pr.inText != nil {
				out, _, err := pr.inText.rewrite(serialize.Cell(v.Raw), tr.keyToID(ctx, refErr))
				return out, err
			}
			if isNone, err := tr.noneRef(ctx, pr.table, pr.none, serialize.Cell(v.Raw)); isNone || err != nil {
				return []byte(v.Raw), err
			}
			id, ok, err := tr.idOf(ctx, pr.table, v.Raw) // canonical: the natural key as the files hold it
			if err == nil && !ok {
				err = refErr(pr.table, v.Raw)
			}
			if pr.text {
				return strconv.AppendQuote(nil, strconv.FormatInt(id, 10)), err
			}
			return strconv.AppendInt(nil, id, 10), err
		})
		if err != nil {
			return nil, err
		}
	}
	if len(m.hidden) > 0 {
		var target []byte
		if kept != nil && string(kept) != string(serialize.NullCell) {
			if target, _, err = tr.decode(m, kept); err != nil {
				return nil, fmt.Errorf("the target's value: %w", err)
			}
		}
		for _, h := range m.hidden {
			if doc, err = h.path.Delete(doc); err == nil && target != nil {
				doc, err = h.path.Restore(doc, target)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	n, err := serialize.Parse(doc)
	if err != nil {
		return nil, err
	}
	if hasPlaceholder(&n) {
		return nil, fmt.Errorf("table %q, row %s: column %q: the value holds %q where this revision's .dbsync names no secret: it is never written",
			t.Meta.Name, t.Meta.DescribeKey(r), t.Meta.Columns[i].Name, serialize.SecretPlaceholder)
	}
	if m.codec == "" {
		return serialize.AppendCanonical(nil, &n, "", "")
	}
	text, err := codec.Encode(m.codec, &n)
	if err != nil {
		return nil, fmt.Errorf("table %q, row %s: column %q: %w", t.Meta.Name, t.Meta.DescribeKey(r), t.Meta.Columns[i].Name, err)
	}
	if m.db.Type == serialize.Bytes {
		text = base64.StdEncoding.EncodeToString([]byte(text))
	}
	return serialize.AppendString(nil, text), nil
}

// hasPlaceholder reports a secret's placeholder anywhere in a value: a
// guard against writing it into a database.
func hasPlaceholder(n *serialize.Node) bool {
	switch n.Kind {
	case serialize.String:
		return n.Text == serialize.SecretPlaceholder
	case serialize.Array:
		return slices.ContainsFunc(n.Items, func(c serialize.Node) bool { return hasPlaceholder(&c) })
	case serialize.Object:
		return slices.ContainsFunc(n.Members, func(m serialize.Member) bool { return hasPlaceholder(&m.Value) })
	}
	return false
}

// FitSecrets makes each op of a table's plan say what its write leaves in
// the database at secret paths inside values: a write never changes them
// (the target keeps its own), so the row written holds the target's
// placeholders where the target has values and nothing where it has none.
// An update left with nothing to change is dropped. Plans, ledger images
// and what status compares then agree with the database.
func (t *Table) FitSecrets(tp *merge.TablePlan) error {
	var secret []int
	for i := range t.mapping {
		for _, h := range t.mapping[i].hidden {
			if h.secret {
				secret = append(secret, i)
				break
			}
		}
	}
	if len(secret) == 0 {
		return nil
	}
	return tp.Ops.Rewrite(func(op *merge.Op) (bool, error) {
		if op.After != nil {
			after := slices.Clone(op.After)
			for _, i := range secret {
				var before serialize.Cell
				if op.Before != nil {
					before = op.Before[i]
				}
				cell, err := t.fitSecretPaths(i, after[i], before)
				if err != nil {
					return false, fmt.Errorf("row %s: column %q: %w", t.Meta.DescribeKey(after), t.Meta.Columns[i].Name, err)
				}
				after[i] = cell
			}
			op.After = after
			if op.Kind == merge.Update && len(op.Changed()) == 0 {
				return false, nil
			}
		}
		return true, nil
	})
}

// WithoutSecrets returns a row without its values' secret paths: what can
// be compared of it, as files hold placeholders there.
func (t *Table) WithoutSecrets(r serialize.Row) (serialize.Row, error) {
	out, cloned := r, false
	for i := range t.mapping {
		for _, h := range t.mapping[i].hidden {
			if !h.secret || string(r[i]) == string(serialize.NullCell) {
				continue
			}
			if !cloned {
				out, cloned = slices.Clone(r), true
			}
			doc, err := h.path.Delete(out[i])
			if err == nil {
				out[i], err = canonical(doc)
			}
			if err != nil {
				return nil, fmt.Errorf("row %s: column %q: %w", t.Meta.DescribeKey(r), t.Meta.Columns[i].Name, err)
			}
		}
	}
	return out, nil
}

// fitSecretPaths returns after with its secret paths as before has them.
func (t *Table) fitSecretPaths(i int, after, before serialize.Cell) (serialize.Cell, error) {
	if string(after) == string(serialize.NullCell) {
		return after, nil
	}
	doc := []byte(after)
	var err error
	for _, h := range t.mapping[i].hidden {
		if !h.secret {
			continue
		}
		if doc, err = h.path.Delete(doc); err != nil {
			return nil, err
		}
		if before != nil && string(before) != string(serialize.NullCell) {
			if doc, err = h.path.Restore(doc, before); err != nil {
				return nil, err
			}
		}
	}
	return canonical(doc)
}
