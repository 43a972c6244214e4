package gitdb

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dbrows"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// A pull that replaces a referable content table (pages, with a key in
// .dbsync) writes the source's rows under the source's ids. The target's
// configuration that points at them (a menu item's page_id) would point
// at the old ids: it is re-pointed, through the rows' key, in the pull's
// transaction. A key the pulled rows lack stops the pull.

// repoint is a referable table a pull replaces, with the target's ids and
// keys before the pull and the configuration columns that refer to it.
type repoint struct {
	table string
	old   map[int64]string
	refs  []referringColumn
}

type referringColumn struct {
	desc   *dialect.Table
	column string
	// text is the reference of a column that holds the id inside its
	// text (format=, where): nil for a column that holds the id.
	text *config.Reference
}

// planRepoints reads, before the pull writes, the keys of the referable
// tables it replaces and the configuration columns (not pulled) that
// refer to them, by foreign key or a declared reference.
func (w *Workspace) planRepoints(ctx context.Context, tx dialect.Tx, copies []*tableCopy) ([]*repoint, error) {
	pulled := map[string]bool{}
	for _, c := range copies {
		pulled[c.result.Table] = true
	}
	names, err := tx.Tables(ctx)
	if err != nil {
		return nil, err
	}
	// The configuration not pulled along (pulled, its ids are the
	// source's too), described once.
	var descs []*dialect.Table
	for _, name := range w.Config.OfClass(names, config.ClassConfig) {
		if pulled[name] {
			continue
		}
		desc, err := tx.Describe(ctx, name)
		if err != nil {
			return nil, err
		}
		descs = append(descs, desc)
	}
	var out []*repoint
	for _, c := range copies {
		rp := &repoint{table: c.result.Table}
		for _, desc := range descs {
			refs := w.columnRefs(desc)
			for _, col := range slices.Sorted(maps.Keys(refs)) {
				if refs[col].Table == rp.table {
					rp.refs = append(rp.refs, referringColumn{desc: desc, column: col})
				}
			}
			if opts := w.Config.Tables[desc.Name]; opts != nil {
				for i, r := range opts.References {
					if r.Table == rp.table && r.InText() && desc.Column(r.Column) != nil {
						rp.refs = append(rp.refs, referringColumn{desc: desc, column: r.Column, text: &opts.References[i]})
					}
				}
			}
		}
		if len(rp.refs) == 0 {
			continue // nothing points at it: its keys are not read
		}
		old, _, ok, err := dbrows.KeyIDs(ctx, tx, w.Config, rp.table)
		switch {
		case err != nil:
			return nil, fmt.Errorf("table %q: %w", rp.table, err)
		case !ok:
			continue // not referable (no key): the foreign key check decides
		}
		rp.old = old
		out = append(out, rp)
	}
	return out, nil
}

// columnRefs maps the columns of a table that hold ids of rows of other
// tables, whole, to the reference: its single-column foreign keys, and
// the references .dbsync declares (which say the "no row" values).
func (w *Workspace) columnRefs(desc *dialect.Table) map[string]config.Reference {
	refs := map[string]config.Reference{}
	for _, fk := range desc.ForeignKeys {
		if len(fk.Columns) == 1 {
			refs[fk.Columns[0]] = config.Reference{ColumnPath: config.ColumnPath{Column: fk.Columns[0]}, Table: fk.RefTable}
		}
	}
	if opts := w.Config.Tables[desc.Name]; opts != nil {
		for _, r := range opts.References {
			if r.Path == "" && !r.InText() && desc.Column(r.Column) != nil {
				refs[r.Column] = r
			}
		}
	}
	return refs
}

// apply re-points the referring columns, after the pull wrote the new
// rows, and returns how many rows it changed.
func (rp *repoint) apply(ctx context.Context, tx dialect.Tx, cfg *config.Config) (int, error) {
	_, now, _, err := dbrows.KeyIDs(ctx, tx, cfg, rp.table)
	if err != nil {
		return 0, fmt.Errorf("table %q: %w", rp.table, err)
	}
	changed := 0
	for _, ref := range rp.refs {
		n, err := rp.applyTo(ctx, tx, ref, now)
		if err != nil {
			return 0, err
		}
		changed += n
	}
	return changed, nil
}

func (rp *repoint) applyTo(ctx context.Context, tx dialect.Tx, ref referringColumn, now map[string]int64) (int, error) {
	desc := ref.desc
	if len(desc.PrimaryKey) == 0 {
		return 0, fmt.Errorf("table %q refers to %q, which this pull replaces, and has no primary key to re-point its rows by", desc.Name, rp.table)
	}
	keyCols := make([]serialize.Column, len(desc.PrimaryKey))
	for i, k := range desc.PrimaryKey {
		c := desc.Column(k)
		keyCols[i] = serialize.Column{Name: c.Name, Type: c.Type}
	}
	dc := desc.Column(ref.column)
	col := serialize.Column{Name: dc.Name, Type: dc.Type, Nullable: dc.Nullable}
	read := append(slices.Clone(desc.PrimaryKey), ref.column)
	where := -1 // the index of a text reference's scoping column in read
	if ref.text != nil && ref.text.WhereColumn != "" {
		if where = slices.Index(read, ref.text.WhereColumn); where < 0 {
			where, read = len(read), append(read, ref.text.WhereColumn)
		}
	}
	var keys, vals [][]serialize.Cell
	err := tx.ReadRows(ctx, desc, read, desc.PrimaryKey, func(values []any) error {
		key := make([]serialize.Cell, len(keyCols))
		var err error
		for i := range keyCols {
			if key[i], err = serialize.AppendCell(nil, &keyCols[i], values[i]); err != nil {
				return err
			}
		}
		// The target's id of the row of the key the old id stood for.
		to := func(id int64) (int64, error) {
			natural, had := rp.old[id]
			if !had {
				return id, nil // ids the target had no row for stay
			}
			newID, ok := now[natural]
			if !ok {
				var row []string
				for i, c := range keyCols {
					row = append(row, c.Name+"="+string(key[i]))
				}
				return 0, fmt.Errorf("table %q, row %s: column %q refers to %s in %q, which the pulled rows of %q lack: nothing written\nhint: pull with --config to bring the configuration along, or create that row where you pull from",
					desc.Name, strings.Join(row, ", "), ref.column, natural, rp.table, rp.table)
			}
			return newID, nil
		}
		v, err := textOf(&col, values[len(desc.PrimaryKey)])
		if err != nil || v == "" {
			return err // null, or empty text: no id
		}
		var now serialize.Cell
		if ref.text == nil {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil // not an id ("no row" values of text columns)
			}
			newID, err := to(id)
			if err != nil || newID == id {
				return err
			}
			now = serialize.Cell(strconv.FormatInt(newID, 10))
			if col.Type == serialize.Text { // ids kept as text
				now = serialize.AppendString(nil, string(now))
			}
		} else {
			if where >= 0 {
				wc := desc.Column(ref.text.WhereColumn)
				scope, err := textOf(&serialize.Column{Name: wc.Name, Type: wc.Type}, values[where])
				if err != nil || !slices.Contains(ref.text.WhereIn, scope) {
					return err
				}
			}
			text, changed, err := dbrows.RepointText(*ref.text, v, to)
			if err != nil || !changed {
				return err
			}
			now = serialize.AppendString(nil, text)
		}
		keys = append(keys, key)
		vals = append(vals, []serialize.Cell{now})
		return nil
	})
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	return len(keys), tx.Update(ctx, desc.Name, keyCols, keys, []serialize.Column{col}, vals)
}

// textOf is a driver value of a column as text: a number's digits, a
// text's characters; "" for null.
func textOf(col *serialize.Column, v any) (string, error) {
	cell, err := serialize.AppendCell(nil, col, v)
	if err != nil || string(cell) == string(serialize.NullCell) {
		return "", err
	}
	if n, err := serialize.Parse(cell); err == nil && n.Kind == serialize.String {
		return n.Text, nil
	}
	return string(cell), nil
}
