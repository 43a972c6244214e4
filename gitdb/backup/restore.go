package backup

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Counts is what a restore changed in one table.
type Counts struct{ Inserted, Updated, Deleted int }

// tableOps turns one table back into its backup.
type tableOps struct {
	t                  *Table
	desc               *dialect.Table
	inserts, updates   [][]serialize.Cell
	deletes            [][]serialize.Cell // keys
	keyCols, valueCols []serialize.Column
	keyIdx, valueIdx   []int
}

// whole reports a table without a primary key: put back whole.
func (o *tableOps) whole() bool { return len(o.t.Key) == 0 }

// RestorePlan is what turns tables back into a backup: planned by
// reading them in the transaction that writes it.
type RestorePlan struct {
	m   *Manifest
	ops []*tableOps // parents first
}

// DeletedKeys are the rows a restore deletes from a table with a single
// column primary key: their keys, as the database holds them.
type DeletedKeys struct {
	Column string
	Keys   []serialize.Cell
}

// PlanRestore works out how to put the backup's tables back in tx,
// exactly: rows are matched by primary key and only those that differ are
// written (a row nothing changed since is not touched, so nothing that
// refers to it cascades); a table without a primary key is replaced whole.
func PlanRestore(ctx context.Context, tx dialect.Tx, m *Manifest) (*RestorePlan, error) {
	p := &RestorePlan{m: m}
	for i := range m.Tables {
		t := &m.Tables[i]
		desc, err := tx.Describe(ctx, t.Name)
		if err != nil {
			return nil, fmt.Errorf("table %q: the database has no such table to restore", t.Name)
		}
		o := &tableOps{t: t, desc: desc}
		for j, c := range t.Columns {
			if slices.Contains(t.Key, c.Name) {
				o.keyCols, o.keyIdx = append(o.keyCols, c), append(o.keyIdx, j)
			} else {
				o.valueCols, o.valueIdx = append(o.valueCols, c), append(o.valueIdx, j)
			}
		}
		if !o.whole() {
			if err := o.diff(ctx, tx, t.dir(m)); err != nil {
				return nil, fmt.Errorf("table %q: %w", t.Name, err)
			}
		}
		p.ops = append(p.ops, o)
	}
	p.ops = dialect.ReferenceOrder(p.ops, func(o *tableOps) (string, []string) {
		var parents []string
		for _, fk := range o.desc.ForeignKeys {
			parents = append(parents, fk.RefTable)
		}
		return o.t.Name, parents
	})
	return p, nil
}

// Deleted lists, per table with a single-column primary key, the rows the
// restore deletes.
func (p *RestorePlan) Deleted() map[string]DeletedKeys {
	out := map[string]DeletedKeys{}
	for _, o := range p.ops {
		if len(o.keyCols) != 1 || len(o.deletes) == 0 {
			continue
		}
		d := DeletedKeys{Column: o.keyCols[0].Name}
		for _, k := range o.deletes {
			d.Keys = append(d.Keys, k[0])
		}
		out[o.t.Name] = d
	}
	return out
}

// Write makes the writes: deletes children first, inserts and updates
// parents first.
func (p *RestorePlan) Write(ctx context.Context, tx dialect.Tx) (map[string]Counts, error) {
	out := map[string]Counts{}
	all := p.ops
	fail := func(o *tableOps, err error) error {
		return fmt.Errorf("table %q: %w", o.t.Name, dialect.Explain(tx, err))
	}
	for i := len(all) - 1; i >= 0; i-- {
		o := all[i]
		c := Counts{Deleted: len(o.deletes)}
		var err error
		if o.whole() {
			var n int64
			n, err = tx.DeleteWhere(ctx, o.t.Name, "")
			c.Deleted = int(n)
		} else if len(o.deletes) > 0 {
			err = tx.Delete(ctx, o.t.Name, o.keyCols, o.deletes)
		}
		if err != nil {
			return nil, fail(o, err)
		}
		out[o.t.Name] = c
	}
	for _, o := range all {
		c := out[o.t.Name]
		var err error
		if o.whole() {
			c.Inserted, err = insertAll(ctx, tx, o.t.dir(p.m), o.t)
		} else {
			if len(o.inserts) > 0 {
				err = tx.Insert(ctx, o.t.Name, o.t.Columns, o.inserts)
			}
			if err == nil && len(o.updates) > 0 {
				keys, vals := make([][]serialize.Cell, len(o.updates)), make([][]serialize.Cell, len(o.updates))
				for i, row := range o.updates {
					keys[i], vals[i] = serialize.Pick(row, o.keyIdx), serialize.Pick(row, o.valueIdx)
				}
				err = tx.Update(ctx, o.t.Name, o.keyCols, keys, o.valueCols, vals)
			}
			c.Inserted, c.Updated = len(o.inserts), len(o.updates)
		}
		if err != nil {
			return nil, fail(o, err)
		}
		out[o.t.Name] = c
	}
	return out, nil
}

// diff walks the table's rows and the backup's, both in key order, and
// collects what turns the table back into the backup. Only the ops are
// held, not the rows that are the same.
func (o *tableOps) diff(ctx context.Context, tx dialect.Tx, dir string) error {
	meta := &serialize.Table{Name: o.t.Name, Columns: o.t.Columns, Key: o.t.Key}
	if err := meta.Prepare(); err != nil {
		return err
	}
	saved, err := openRows(dir, o.t)
	if err != nil {
		return err
	}
	defer saved.close()
	next, err := saved.next()
	if err != nil {
		return err
	}
	names := make([]string, len(o.t.Columns))
	for i, c := range o.t.Columns {
		names[i] = c.Name
	}
	err = tx.ReadRows(ctx, o.desc, names, o.t.Key, func(values []any) error {
		row := make(serialize.Row, len(values))
		for i, v := range values {
			cell, err := serialize.AppendCell(nil, &o.t.Columns[i], v)
			if err != nil {
				return fmt.Errorf("column %q: %w", names[i], err)
			}
			row[i] = cell
		}
		for next != nil && meta.CompareKeys(next, row) < 0 {
			o.inserts = append(o.inserts, next)
			if next, err = saved.next(); err != nil {
				return err
			}
		}
		if next != nil && meta.CompareKeys(next, row) == 0 {
			if !sameRow(next, row) {
				o.updates = append(o.updates, next)
			}
			next, err = saved.next()
			return err
		}
		o.deletes = append(o.deletes, serialize.Pick(row, o.keyIdx))
		return nil
	})
	for err == nil && next != nil {
		o.inserts = append(o.inserts, next)
		next, err = saved.next()
	}
	return err
}

func sameRow(a, b serialize.Row) bool {
	return slices.EqualFunc(a, b, func(x, y serialize.Cell) bool { return string(x) == string(y) })
}

// insertAll inserts every row of a table's backup, a batch at a time.
func insertAll(ctx context.Context, tx dialect.Tx, dir string, t *Table) (int, error) {
	saved, err := openRows(dir, t)
	if err != nil {
		return 0, err
	}
	defer saved.close()
	n := 0
	var batch [][]serialize.Cell
	for {
		row, err := saved.next()
		if err != nil {
			return n, err
		}
		if row != nil {
			batch = append(batch, row)
		}
		if len(batch) > 0 && (row == nil || len(batch) == 10000) {
			if err := tx.Insert(ctx, t.Name, t.Columns, batch); err != nil {
				return n, err
			}
			n, batch = n+len(batch), nil
		}
		if row == nil {
			return n, nil
		}
	}
}

// rowFile reads a table's rows from its backup file.
type rowFile struct {
	f    *os.File
	sc   *bufio.Scanner
	meta *serialize.Table
	line int
}

func openRows(dir string, t *Table) (*rowFile, error) {
	f, err := os.Open(tableFile(dir, t.Name))
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<30)
	return &rowFile{f: f, sc: sc, meta: &serialize.Table{Name: t.Name, Columns: t.Columns}}, nil
}

// next returns the next row, nil at the end.
func (r *rowFile) next() (serialize.Row, error) {
	if !r.sc.Scan() {
		return nil, r.sc.Err()
	}
	r.line++
	line := r.sc.Bytes()
	var row serialize.Row
	if gjson.ValidBytes(line) {
		gjson.ParseBytes(line).ForEach(func(_, v gjson.Result) bool {
			row = append(row, serialize.Cell(v.Raw)) // as the backup wrote it: canonical
			return true
		})
	}
	if len(row) != len(r.meta.Columns) {
		return nil, fmt.Errorf("%s line %d: not a row of the backup", r.f.Name(), r.line)
	}
	return row, nil
}

func (r *rowFile) close() { r.f.Close() }

// MaxOf returns the largest value of an integer column in a table of the
// backup; 0 when the backup does not hold the table.
func MaxOf(m *Manifest, table, column string) (int64, error) {
	i := slices.IndexFunc(m.Tables, func(t Table) bool { return t.Name == table })
	if i < 0 {
		return 0, nil
	}
	t := &m.Tables[i]
	col := slices.IndexFunc(t.Columns, func(c serialize.Column) bool { return c.Name == column })
	if col < 0 {
		return 0, fmt.Errorf("backup %s: table %q has no column %q", m.ID, table, column)
	}
	r, err := openRows(m.Dir, t)
	if err != nil {
		return 0, err
	}
	defer r.close()
	var top int64
	for {
		row, err := r.next()
		if row == nil || err != nil {
			return top, err
		}
		n, err := strconv.ParseInt(strings.Trim(string(row[col]), `"`), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s line %d: column %q: %w", r.f.Name(), r.line, column, err)
		}
		top = max(top, n)
	}
}
