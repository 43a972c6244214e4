package dbrows

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/internal/fault"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Writer writes the ops of a plan into a transaction, in the database's
// form.
type Writer struct {
	Tx dialect.Tx
	// Tr is the translator that read the target rows the ops were
	// planned from, in the same transaction: it knows their ids and the
	// hidden values to put back.
	Tr *Translator
	// Refs is the .dbsync whose declared references are checked after the
	// writes (nil for none).
	Refs *config.Config
	// Sequences are the target's tables of class sequence, advanced past
	// the ids the writes insert.
	Sequences []string
}

// Write writes the ops of every table, in batches: deletes first,
// children before parents; then inserts and updates (grouped by the
// columns they change), parents before children. tables must be ordered
// parents first. The ops are translated into the database's form a
// batch at a time, just before they are written, so that the memory a
// change takes does not grow with it; a row that cannot be translated (a
// reference nothing satisfies) fails the change's one transaction, so
// nothing is written all the same. After the writes, the references
// .dbsync declares are checked, and the counters of sequence tables
// advanced.
func (w *Writer) Write(ctx context.Context, tables []*merge.TablePlan) error {
	if c := dialect.ClusterOf(w.Tx); c != nil {
		if err := w.checkCluster(c, tables); err != nil {
			return err
		}
	}
	maxID, err := w.allocateIDs(ctx, tables)
	if err != nil {
		return err
	}
	total := 0
	for _, t := range tables {
		total += t.Ops.Len()
	}
	w.Tr.Meter.Start("writing", int64(total))
	deleted := map[string][]serialize.Cell{} // per table with a one-column key a declared reference names
	referred := declaredTargets(w.Refs)
	for i := len(tables) - 1; i >= 0; i-- {
		err := w.eachBatch(ctx, tables[i], merge.Delete, func(t *dbTable) error {
			if len(t.keyCols) == 1 && referred[t.name] {
				for _, k := range t.deletes {
					deleted[t.name] = append(deleted[t.name], k[0])
				}
			}
			return w.inChunks(ctx, t.deleted, func(lo, hi int) error {
				return w.Tx.Delete(ctx, t.name, t.keyCols, t.deletes[lo:hi])
			})
		})
		if err != nil {
			return err
		}
	}
	fault.Point("mid-write")
	for _, tp := range tables {
		err := w.eachBatch(ctx, tp, merge.Insert, func(t *dbTable) error {
			return w.inChunks(ctx, t.inserted, func(lo, hi int) error {
				return w.Tx.Insert(ctx, t.name, t.insertCols, t.inserts[lo:hi])
			})
		})
		if err != nil {
			return err
		}
		err = w.eachBatch(ctx, tp, merge.Update, func(t *dbTable) error {
			for _, g := range t.updates {
				err := w.inChunks(ctx, g.rows, func(lo, hi int) error {
					return w.Tx.Update(ctx, t.name, t.keyCols, g.keys[lo:hi], g.cols, g.vals[lo:hi])
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := checkDeclaredRefs(ctx, w.Tx, w.Refs, deleted); err != nil {
		return err
	}
	return w.advanceCounters(ctx, tables, maxID)
}

// eachBatch translates a table's ops of one kind, chunkRows ops of the
// plan at a time, and has write write them. A plan of no such ops is not
// read: a big one is read back from its file each time.
func (w *Writer) eachBatch(ctx context.Context, tp *merge.TablePlan, kind merge.Kind, write func(*dbTable) error) error {
	if tp.Count(kind) == 0 {
		return nil
	}
	for ops, err := range tp.Ops.Batches(chunkRows) {
		if err != nil {
			return err
		}
		t, err := w.Tr.dbTable(ctx, tp.Meta, ops, kind)
		if err != nil {
			return err
		}
		if err := write(t); err != nil {
			if !errors.As(err, new(*rowError)) {
				err = dialect.Explain(w.Tx, err)
			}
			return fmt.Errorf("table %q: %s: %w", tp.Meta.Name, kind, err)
		}
	}
	return nil
}

// chunkRows is how many rows one call to the database writes at most: the
// engines batch within a call, and the progress display moves between
// calls.
const chunkRows = 10000

// inChunks calls write for successive ranges of the rows (described in
// rows), counting them. Each range is written under a savepoint: when
// the engine refuses one (a NOT NULL or CHECK constraint), its rows are
// written again one at a time to name the row the error is about.
func (w *Writer) inChunks(ctx context.Context, rows []string, write func(lo, hi int) error) error {
	n := len(rows)
	for lo := 0; lo < n; lo += chunkRows {
		hi := min(lo+chunkRows, n)
		if err := w.Tx.Exec(ctx, "SAVEPOINT dbsync_rows"); err != nil {
			return err
		}
		if err := write(lo, hi); err != nil {
			return w.blame(ctx, rows, lo, hi, write, err)
		}
		if err := w.Tx.Exec(ctx, "RELEASE SAVEPOINT dbsync_rows"); err != nil {
			return err
		}
		w.Tr.Meter.Add(hi - lo)
	}
	return nil
}

// blame finds which row of rows[lo:hi] the engine refused, writing them
// again one at a time after rolling the range back, and names it in err;
// err as it is when the wait for a lock, not a row, failed, or when no
// row fails alone. The change fails all the same: nothing is kept.
func (w *Writer) blame(ctx context.Context, rows []string, lo, hi int, write func(lo, hi int) error, err error) error {
	if errors.As(dialect.Explain(w.Tx, err), new(*dialect.BusyError)) {
		return err
	}
	if hi-lo == 1 {
		return &rowError{rows[lo], dialect.Explain(w.Tx, err)}
	}
	if w.Tx.Exec(ctx, "ROLLBACK TO SAVEPOINT dbsync_rows") != nil {
		return err
	}
	for i := lo; i < hi; i++ {
		if one := write(i, i+1); one != nil {
			return &rowError{rows[i], dialect.Explain(w.Tx, one)}
		}
	}
	return err
}

// rowError is an engine's error about one row, explained already.
type rowError struct {
	row string
	err error
}

func (e *rowError) Error() string { return "row " + e.row + ": " + e.err.Error() }
func (e *rowError) Unwrap() error { return e.err }

// dbKey returns a row's key as the database holds it: its id for a table
// with a natural key, else its key cells.
func (tr *Translator) dbKey(ctx context.Context, t *Table, r serialize.Row) ([]serialize.Cell, error) {
	meta := t.Meta
	if meta.Surrogate != "" {
		id, ok, err := tr.idOf(ctx, meta.Name, natKey(meta, r))
		if err == nil && !ok {
			err = fmt.Errorf("row %s is not in the target", meta.DescribeKey(r))
		}
		return []serialize.Cell{serialize.Cell(strconv.FormatInt(id, 10))}, err
	}
	cells := make([]serialize.Cell, 0, len(meta.Key))
	for _, k := range meta.KeyIndexes() {
		c, err := tr.cellToDB(ctx, t, k, r, nil)
		if err != nil {
			return nil, err
		}
		cells = append(cells, c)
	}
	return cells, nil
}

// allocateIDs gives every row a natural-keyed table inserts a new id of
// the target, before any row is translated: references to rows inserted
// by the same apply (parents, self-references, cycles) then resolve.
func (w *Writer) allocateIDs(ctx context.Context, tables []*merge.TablePlan) (int64, error) {
	var maxID int64
	for _, t := range tables {
		if t.Meta.Surrogate == "" || t.Count(merge.Insert) == 0 {
			continue
		}
		var keys []string
		for op, err := range t.Ops.All() {
			if err != nil {
				return 0, err
			}
			if op.Kind == merge.Insert {
				keys = append(keys, natKey(t.Meta, op.After))
			}
		}
		if len(keys) == 0 {
			continue
		}
		km, err := w.Tr.keyMap(ctx, t.Meta.Name)
		if err != nil {
			return 0, err
		}
		ids, err := w.Tx.NextIDs(ctx, t.Meta.Name, t.Meta.Surrogate, len(keys))
		if err != nil {
			return 0, fmt.Errorf("table %q: allocating ids: %w", t.Meta.Name, err)
		}
		for j, key := range keys {
			km.byKey[key], km.byID[ids[j]] = ids[j], key
			maxID = max(maxID, ids[j])
		}
	}
	return maxID, nil
}

// dbTable is one table's writes in the database's form.
type dbTable struct {
	name       string
	keyCols    []serialize.Column
	deletes    [][]serialize.Cell
	insertCols []serialize.Column
	inserts    [][]serialize.Cell
	updates    []*updateGroup
	// deleted and inserted describe the rows of deletes and inserts, in
	// the files' form, for messages.
	deleted, inserted []string
}

// updateGroup is the updates that change the same columns.
type updateGroup struct {
	cols       []serialize.Column
	keys, vals [][]serialize.Cell
	rows       []string // the rows described, for messages
}

// dbTable translates a table's ops of one kind into the database's form.
func (tr *Translator) dbTable(ctx context.Context, meta *serialize.Table, ops []merge.Op, kind merge.Kind) (*dbTable, error) {
	t := tr.tables[meta.Name]
	w := &dbTable{name: meta.Name}
	idCol := serialize.Column{Name: meta.Surrogate, Type: serialize.Int}
	if meta.Surrogate != "" {
		w.keyCols = []serialize.Column{idCol}
		w.insertCols = append(w.insertCols, idCol)
	} else {
		for _, k := range meta.KeyIndexes() {
			w.keyCols = append(w.keyCols, t.mapping[k].db)
		}
	}
	for i, c := range meta.Columns {
		if !c.Secret { // never written: the target keeps its own
			w.insertCols = append(w.insertCols, t.mapping[i].db)
		}
	}
	key := func(r serialize.Row) ([]serialize.Cell, error) { return tr.dbKey(ctx, t, r) }
	byCols := map[string]*updateGroup{}
	for j := range ops {
		op := &ops[j]
		if op.Kind != kind {
			continue
		}
		switch op.Kind {
		case merge.Delete:
			k, err := key(op.Before)
			if err != nil {
				return nil, err
			}
			w.deletes, w.deleted = append(w.deletes, k), append(w.deleted, meta.DescribeKey(op.Before))
		case merge.Insert:
			var row []serialize.Cell
			if meta.Surrogate != "" {
				k, err := key(op.After)
				if err != nil {
					return nil, err
				}
				row = append(row, k[0])
			}
			for i, c := range meta.Columns {
				if c.Secret {
					continue
				}
				cell, err := tr.cellToDB(ctx, t, i, op.After, nil)
				if err == nil {
					err = t.fits(i, cell, op.After)
				}
				if err != nil {
					return nil, err
				}
				row = append(row, cell)
			}
			if err := tr.fitsStatement(t, row, w.insertCols, op.After); err != nil {
				return nil, err
			}
			w.inserts, w.inserted = append(w.inserts, row), append(w.inserted, meta.DescribeKey(op.After))
		case merge.Update:
			k, err := key(op.After)
			if err != nil {
				return nil, err
			}
			kept := tr.kept[meta.Name][meta.KeyOf(op.After)]
			var cols []serialize.Column
			var vals []serialize.Cell
			for _, i := range op.Changed() {
				if meta.Columns[i].Secret {
					continue
				}
				var was serialize.Cell
				if kept != nil {
					was = kept[i]
				}
				cell, err := tr.cellToDB(ctx, t, i, op.After, was)
				if err == nil {
					err = t.fits(i, cell, op.After)
				}
				if err != nil {
					return nil, err
				}
				cols, vals = append(cols, t.mapping[i].db), append(vals, cell)
			}
			if len(cols) == 0 {
				continue
			}
			if err := tr.fitsStatement(t, vals, cols, op.After); err != nil {
				return nil, err
			}
			id := fmt.Sprint(op.Changed())
			g := byCols[id]
			if g == nil {
				g = &updateGroup{cols: cols}
				byCols[id] = g
				w.updates = append(w.updates, g)
			}
			g.keys, g.vals, g.rows = append(g.keys, k), append(g.vals, vals), append(g.rows, meta.DescribeKey(op.After))
		}
	}
	return w, nil
}

// advanceCounters raises the counter of every table of class sequence
// (one integer column, as Drupal 7's sequences) to at least the largest
// integer id the apply inserted, so that the application's next id does
// not collide with one the apply wrote. Engine sequences behind serial and
// identity columns are the dialects' business.
func (w *Writer) advanceCounters(ctx context.Context, tables []*merge.TablePlan, allocated int64) error {
	max := allocated
	for _, t := range tables {
		if len(t.Meta.Key) != 1 || t.Meta.Columns[t.Meta.KeyIndexes()[0]].Type != serialize.Int || t.Count(merge.Insert) == 0 {
			continue
		}
		for op, err := range t.Ops.All() {
			if err != nil {
				return err
			}
			if op.Kind == merge.Insert {
				if n, err := strconv.ParseInt(string(op.After[t.Meta.KeyIndexes()[0]]), 10, 64); err == nil && n > max {
					max = n
				}
			}
		}
	}
	return RaiseCounters(ctx, w.Tx, w.Sequences, max)
}

// RaiseCounters raises the counter of each sequence-class table (one
// integer column; others are left alone) to at least max: the largest id
// a change wrote, so that the application's next id does not collide.
func RaiseCounters(ctx context.Context, tx dialect.Tx, sequences []string, max int64) error {
	if max == 0 {
		return nil
	}
	for _, name := range sequences {
		desc, err := tx.Describe(ctx, name)
		if err != nil {
			return err
		}
		var ints []string
		for _, c := range desc.Columns {
			if c.Type == serialize.Int {
				ints = append(ints, c.Name)
			}
		}
		if len(ints) != 1 {
			continue // not a plain counter: left alone
		}
		if err := tx.RaiseTo(ctx, name, ints[0], max); err != nil {
			return fmt.Errorf("advancing the counter %q.%q: %w", name, ints[0], err)
		}
	}
	return nil
}

// fits checks a cell to write against the most its column holds, so that
// a value too large is refused naming the row and the column (engines name
// neither: "numeric field overflow", "value too long for type …").
func (t *Table) fits(i int, cell serialize.Cell, r serialize.Row) error {
	dc := t.Desc.Column(t.Meta.Columns[i].Name)
	if dc == nil || dc.Limit == 0 || string(cell) == string(serialize.NullCell) {
		return nil
	}
	var got int
	var unit string
	switch dc.Type {
	case serialize.Decimal:
		whole, _, _ := strings.Cut(strings.TrimPrefix(string(cell), "-"), ".")
		got, unit = len(strings.TrimLeft(whole, "0")), "digits before the point"
	case serialize.Text:
		n, err := serialize.Parse(cell)
		if err != nil || n.Kind != serialize.String {
			return nil
		}
		got, unit = utf8.RuneCountInString(n.Text), "characters"
	default:
		return nil
	}
	if got <= dc.Limit {
		return nil
	}
	return fmt.Errorf("table %q, row %s: column %q: the value has %d %s, but %s holds at most %d: nothing written",
		t.Meta.Name, t.Meta.DescribeKey(r), dc.Name, got, unit, dc.DeclType, dc.Limit)
}

// fitsStatement checks the cells of a row to write against what one
// statement of the engine may hold, if it bounds it.
func (tr *Translator) fitsStatement(t *Table, cells []serialize.Cell, cols []serialize.Column, r serialize.Row) error {
	lim, ok := tr.db.(dialect.RowLimiter)
	if !ok {
		return nil
	}
	size, big := 0, 0
	for i, c := range cells {
		size += len(c)
		if len(c) > len(cells[big]) {
			big = i
		}
	}
	if max := lim.MaxRowBytes(); size > max {
		return fmt.Errorf("table %q, row %s: the row takes %d bytes (column %q alone %d), more than one statement of this server holds (%d, half its max_allowed_packet): nothing written\nhint: raise max_allowed_packet on the server, or keep such a value out of the configuration",
			t.Meta.Name, t.Meta.DescribeKey(r), size, cols[big].Name, len(cells[big]), max)
	}
	return nil
}
