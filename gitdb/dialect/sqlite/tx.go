package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/serialize"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Tx is an SQLite write transaction: BEGIN IMMEDIATE, with foreign keys
// checked at COMMIT (defer_foreign_keys) so that rows may be written in
// any order inside it, cycles included.
type Tx struct {
	reader
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
	conn  *sql.Conn     // a load's connection, its foreign keys off until it ends
	busy  time.Duration // the busy timeout it was begun with
}

// Begin starts a write transaction.
func (d *DB) Begin(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		if busy := (&Tx{busy: d.busy}).Explain(err); busy != err {
			return nil, busy
		}
		return nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
		tx.Rollback()
		return nil, err
	}
	return &Tx{reader: reader{q: tx}, tx: tx, stmts: map[string]*sql.Stmt{}, busy: d.busy}, nil
}

// BeginLoad starts a write transaction with foreign keys off on its
// connection (SQLite changes that only outside a transaction): nothing
// cascades while rows load, and COMMIT checks every foreign key first, as
// it does after Begin.
func (d *DB) BeginLoad(ctx context.Context) (dialect.Tx, error) {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	var tx *sql.Tx
	if _, err = conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err == nil {
		tx, err = conn.BeginTx(ctx, nil)
	}
	if err != nil {
		restore(conn)
		if busy := (&Tx{busy: d.busy}).Explain(err); busy != err {
			return nil, busy
		}
		return nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	return &Tx{reader: reader{q: tx}, tx: tx, stmts: map[string]*sql.Stmt{}, conn: conn, busy: d.busy}, nil
}

// restore turns a load's connection's foreign keys back on and returns it
// to the pool.
func restore(conn *sql.Conn) {
	conn.ExecContext(context.Background(), "PRAGMA foreign_keys = ON")
	conn.Close()
}

// end returns a load's connection, after COMMIT or ROLLBACK.
func (t *Tx) end() {
	if t.conn != nil {
		restore(t.conn)
		t.conn = nil
	}
}

// DeleteWhere deletes the rows that meet filter, all when it is "".
func (t *Tx) DeleteWhere(ctx context.Context, table, filter string) (int64, error) {
	res, err := t.tx.ExecContext(ctx, "DELETE FROM "+Quote(table)+dialect.Where(&dialect.Table{Filter: filter}))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *Tx) Commit() error {
	defer t.end()
	t.closeStmts()
	// The deferred foreign keys fail COMMIT without saying where: find the
	// first violation first, and name it.
	if err := t.checkForeignKeys(context.Background()); err != nil {
		t.tx.Rollback()
		return err
	}
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// Explain makes the file locked by another connection for the whole busy
// timeout a *BusyError. SQLite's messages name constraints, never values.
func (t *Tx) Explain(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY {
		return dialect.LockWait(t.busy, heldFile)
	}
	return err
}

func (t *Tx) Rollback() error {
	defer t.end()
	t.closeStmts()
	return t.tx.Rollback()
}

func (t *Tx) closeStmts() {
	for _, s := range t.stmts {
		s.Close()
	}
	t.stmts = nil
}

func (t *Tx) Exec(ctx context.Context, query string, args ...any) error {
	_, err := t.tx.ExecContext(ctx, query, args...)
	return err
}

func (reader) Quote(name string) string { return Quote(name) }

func (d reader) Query(ctx context.Context, query string, args []any, fn func([]any) error) error {
	rows, err := d.q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	return dialect.EachRow(rows, fn)
}

// exec runs a statement prepared once per transaction.
func (t *Tx) exec(ctx context.Context, query string, args []any) (sql.Result, error) {
	st := t.stmts[query]
	if st == nil {
		var err error
		if st, err = t.tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		t.stmts[query] = st
	}
	return st.ExecContext(ctx, args...)
}

// insertRows is how many rows one prepared INSERT writes: each call
// through database/sql costs more than SQLite's work on a row, so rows go
// in groups (measured: a first apply of 200,000 rows wrote them 2.4×
// faster than one row per statement; groups of 500 or 2,000 rows were no
// faster than 64 in one transaction), within SQLite's 32,766 parameters.
// The statement is prepared once per transaction (exec) and reused for
// every full group; only a shorter last group has a text of its own.
const insertRows = 64

func (t *Tx) Insert(ctx context.Context, table string, cols []serialize.Column, rows [][]serialize.Cell) error {
	if len(rows) == 0 {
		return nil
	}
	names := make([]string, len(cols))
	marks := make([]string, len(cols))
	for i, c := range cols {
		names[i], marks[i] = Quote(c.Name), "?"
	}
	tuple := "(" + strings.Join(marks, ", ") + ")"
	insert := "INSERT INTO " + Quote(table) + " (" + strings.Join(names, ", ") + ") VALUES "
	statement := func(n int) string { return insert + strings.Repeat(tuple+", ", n-1) + tuple }
	per := max(1, min(insertRows, 32766/len(cols)))
	full := statement(min(per, len(rows)))
	args := make([]any, 0, per*len(cols))
	for lo := 0; lo < len(rows); lo += per {
		hi := min(lo+per, len(rows))
		q := full
		if hi-lo < per && lo > 0 {
			q = statement(hi - lo)
		}
		args = args[:0]
		for _, row := range rows[lo:hi] {
			vals, err := params(cols, row)
			if err != nil {
				return err
			}
			args = append(args, vals...)
		}
		if _, err := t.exec(ctx, q, args); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tx) Update(ctx context.Context, table string, keyCols []serialize.Column, keys [][]serialize.Cell, cols []serialize.Column, vals [][]serialize.Cell) error {
	set := make([]string, len(cols))
	for i, c := range cols {
		set[i] = Quote(c.Name) + " = ?"
	}
	q := "UPDATE " + Quote(table) + " SET " + strings.Join(set, ", ") + " WHERE " + whereKey(keyCols)
	for i := range keys {
		args, err := params(append(append([]serialize.Column(nil), cols...), keyCols...), append(append([]serialize.Cell(nil), vals[i]...), keys[i]...))
		if err != nil {
			return err
		}
		if err := oneRow(t.exec(ctx, q, args)); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tx) Delete(ctx context.Context, table string, keyCols []serialize.Column, keys [][]serialize.Cell) error {
	q := "DELETE FROM " + Quote(table) + " WHERE " + whereKey(keyCols)
	for _, key := range keys {
		args, err := params(keyCols, key)
		if err != nil {
			return err
		}
		if err := oneRow(t.exec(ctx, q, args)); err != nil {
			return err
		}
	}
	return nil
}

func oneRow(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	return dialect.CheckAffected(n, 1)
}

func whereKey(cols []serialize.Column) string {
	conds := make([]string, len(cols))
	for i, c := range cols {
		conds[i] = Quote(c.Name) + " = ?"
	}
	return strings.Join(conds, " AND ")
}

// params converts canonical cells to SQLite values: timestamps in SQLite's
// own text form (space, not T, as its date functions write them),
// booleans as 0 and 1.
func params(cols []serialize.Column, cells []serialize.Cell) ([]any, error) {
	out := make([]any, len(cols))
	for i := range cols {
		v, err := serialize.Value(&cols[i], cells[i])
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", cols[i].Name, err)
		}
		switch cols[i].Type {
		case serialize.Timestamp, serialize.TimestampTZ:
			if s, ok := v.(string); ok {
				v = strings.Replace(s, "T", " ", 1)
			}
		case serialize.Boolean:
			if b, ok := v.(bool); ok {
				v = 0
				if b {
					v = 1
				}
			}
		}
		out[i] = v
	}
	return out, nil
}

func (t *Tx) RaiseTo(ctx context.Context, table, column string, value int64) error {
	_, err := t.tx.ExecContext(ctx, "UPDATE "+Quote(table)+" SET "+Quote(column)+" = ? WHERE "+Quote(column)+" < ?", value, value)
	return err
}

// NextIDs continues past the largest id in the table and, for an
// AUTOINCREMENT table, past the largest id it ever had.
func (t *Tx) NextIDs(ctx context.Context, table, column string, n int) ([]int64, error) {
	var last int64
	if err := t.tx.QueryRowContext(ctx, "SELECT COALESCE(MAX("+Quote(column)+"), 0) FROM "+Quote(table)).Scan(&last); err != nil {
		return nil, err
	}
	var seq sql.NullInt64
	err := t.tx.QueryRowContext(ctx, "SELECT seq FROM sqlite_sequence WHERE name = ?", table).Scan(&seq)
	if err == nil && seq.Int64 > last {
		last = seq.Int64
	}
	return dialect.Consecutive(last, n), nil
}

// checkForeignKeys names the first row of a table that refers, by a
// foreign key, to a row its parent table does not have.
func (t *Tx) checkForeignKeys(ctx context.Context) error {
	var child, parent string
	var rowid sql.NullInt64
	var fkid int
	err := t.tx.QueryRowContext(ctx, "PRAGMA foreign_key_check").Scan(&child, &rowid, &parent, &fkid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	var cols []string
	rows, err := t.tx.QueryContext(ctx, "SELECT \"from\" FROM pragma_foreign_key_list(?) WHERE id = ? ORDER BY seq", child, fkid)
	if err != nil {
		return err
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return err
		}
		cols = append(cols, c)
	}
	rows.Close()
	values := make([]string, len(cols))
	if rowid.Valid && len(cols) > 0 {
		quoted := make([]string, len(cols))
		for i, c := range cols {
			quoted[i] = "quote(" + Quote(c) + ")"
		}
		t.tx.QueryRowContext(ctx, "SELECT "+strings.Join(quoted, " || ', ' || ")+" FROM "+Quote(child)+" WHERE rowid = ?", rowid.Int64).Scan(&values[0])
	}
	return fmt.Errorf("table %q: the row with (%s) = (%s) refers to a row of %q that does not exist (a foreign key): nothing written",
		child, strings.Join(cols, ", "), values[0], parent)
}
