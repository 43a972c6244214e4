package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Tx is a MySQL/MariaDB write transaction. It holds a named lock
// (GET_LOCK) on the database so that two applies never write it at once.
// Foreign key checks are off inside it, so that rows may be written in any
// order (cycles included); before COMMIT every foreign key of the tables
// written is checked explicitly, and a violation rolls everything back.
type Tx struct {
	reader
	tx      *sql.Tx
	db      *sql.DB // the one connection: back in the pool after COMMIT
	lock    string
	written map[string]bool
	packet  int           // max_allowed_packet, bytes
	galera  *galera       // a node of a Galera cluster: the lock row is written first
	noLoad  bool          // inserts never go through LOAD DATA (see load)
	wait    time.Duration // the lock timeout it was begun with (0: the server's)
}

// batchRows bounds the rows of one statement.
const batchRows = 500

// Begin starts a write transaction, failing at once when another apply
// holds the database.
func (d *DB) Begin(ctx context.Context) (dialect.Tx, error) { return d.begin(ctx, true) }

// BeginDDL is Begin for DDL alone. On Galera it writes no lock row: DDL
// commits the row at once and runs on every node in total order anyway,
// and the row names the node of the last change (LastWriter), which a
// losing run's CREATE TABLE IF NOT EXISTS, committed after the winner's
// change, would otherwise claim.
func (d *DB) BeginDDL(ctx context.Context) (dialect.Tx, error) { return d.begin(ctx, false) }

// begin starts a write transaction; change says it writes rows, and on
// Galera takes the cluster's lock row first.
func (d *DB) begin(ctx context.Context, change bool) (dialect.Tx, error) {
	if d.ro != nil {
		return nil, fmt.Errorf("mysql: cannot write: the connection was opened to read only")
	}
	lock := "git-dbsync:" + d.dbName
	if len(lock) > 64 {
		lock = lock[:64]
	}
	var got sql.NullInt64
	if err := d.db.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", lock).Scan(&got); err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	if got.Int64 != 1 {
		return nil, &dialect.BusyError{What: fmt.Sprintf("another git dbsync run writes to database %q right now", d.dbName)}
	}
	if d.galera != nil && change {
		if err := d.ensureLockTable(ctx); err != nil {
			(&Tx{db: d.db, lock: lock}).end()
			return nil, fmt.Errorf("mysql: %w", err)
		}
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err == nil {
		_, err = tx.ExecContext(ctx, "SET foreign_key_checks = 0")
	}
	if err == nil && d.lockWait > 0 {
		// Session variables (MySQL has no SET STATEMENT for every write):
		// end() sets them back to the server's defaults.
		_, err = tx.ExecContext(ctx, fmt.Sprintf("SET SESSION innodb_lock_wait_timeout = %d, SESSION lock_wait_timeout = %d", d.lockWait, d.lockWait))
	}
	if err != nil {
		if tx != nil {
			tx.Rollback()
		}
		(&Tx{db: d.db, lock: lock}).end()
		return nil, fmt.Errorf("mysql: begin: %w", err)
	}
	var packet int
	if err := tx.QueryRowContext(ctx, "SELECT @@max_allowed_packet").Scan(&packet); err != nil {
		tx.Rollback()
		(&Tx{db: d.db, lock: lock}).end()
		return nil, fmt.Errorf("mysql: %w", err)
	}
	t := &Tx{tx: tx, db: d.db, lock: lock, written: map[string]bool{}, packet: packet, galera: d.galera, wait: time.Duration(d.lockWait) * time.Second}
	if t.galera != nil {
		var split sql.NullString
		if tx.QueryRowContext(ctx, "SELECT @@wsrep_load_data_splitting").Scan(&split) != nil || split.String != "0" && split.String != "OFF" {
			t.noLoad = true // a load would commit in parts, outside this transaction
		}
	}
	t.reader = reader{q: tx, explain: t.explainRead}
	if t.galera != nil && change {
		// GET_LOCK is this node's only: the row is the cluster's lock.
		if err := takeClusterLock(ctx, t); err != nil {
			tx.Rollback()
			t.end()
			return nil, fmt.Errorf("mysql: begin: %w", t.Explain(err))
		}
	}
	return t, nil
}

// BeginLoad is Begin: foreign key checks are off in every write
// transaction, and with them the cascades.
func (d *DB) BeginLoad(ctx context.Context) (dialect.Tx, error) { return d.Begin(ctx) }

// DeleteWhere deletes the rows that meet filter, all when it is "".
func (t *Tx) DeleteWhere(ctx context.Context, table, filter string) (int64, error) {
	t.written[table] = true
	res, err := t.tx.ExecContext(ctx, "DELETE FROM "+Quote(table)+dialect.Where(&dialect.Table{Filter: filter}))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// end restores the session and releases the lock, after COMMIT or
// ROLLBACK: no setting of the transaction outlives it on the connection.
func (t *Tx) end() {
	ctx := context.Background()
	t.db.ExecContext(ctx, "SET foreign_key_checks = 1, SESSION innodb_lock_wait_timeout = DEFAULT, SESSION lock_wait_timeout = DEFAULT")
	t.db.ExecContext(ctx, "SELECT RELEASE_LOCK(?)", t.lock)
}

func (t *Tx) Commit() error {
	ctx := context.Background()
	if err := t.checkForeignKeys(ctx); err != nil {
		t.tx.Rollback()
		t.end()
		return err
	}
	if _, err := t.tx.ExecContext(ctx, "SET foreign_key_checks = 1"); err != nil {
		t.tx.Rollback()
		t.end()
		return err
	}
	err := t.tx.Commit()
	t.end()
	if err != nil {
		return fmt.Errorf("mysql: commit: %w", err)
	}
	return nil
}

// Explain makes a lock wait that timed out a *BusyError, and hides the
// values MySQL and MariaDB echo in their messages ("Duplicate entry
// 'x-y' for key …", "Incorrect integer value: '…'"): a unique key may
// hold a secret column.
func (t *Tx) Explain(err error) error {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return err
	}
	switch me.Number {
	case 1205: // ER_LOCK_WAIT_TIMEOUT
		return dialect.LockWait(t.wait, "")
	case 1213: // ER_LOCK_DEADLOCK
		return &dialect.BusyError{What: "a deadlock with another session: nothing written"}
	}
	if t.galera != nil && (me.Number == 1180 || strings.Contains(strings.ToLower(me.Message), "writeset")) {
		// Galera's own refusal at COMMIT (1180, or 1105 "Maximum writeset
		// size exceeded"), where the estimate before the writes fell short.
		return fmt.Errorf("the transaction outgrew what the Galera cluster takes in one writeset (wsrep_max_ws_rows = %s, wsrep_max_ws_size = %s): nothing written (%s)",
			dialect.Thousands(t.galera.MaxRows), dialect.Thousands(t.galera.MaxBytes), me.Message)
	}
	hidden := *me
	hidden.Message = echoedValue.ReplaceAllString(me.Message, "${1}'(value not shown)'")
	return &hidden
}

// echoedValue matches a quoted value after the words that introduce one in
// MySQL's and MariaDB's messages.
var echoedValue = regexp.MustCompile(`((?i:entry|value:?|values?)\s+)'(?:[^'\\]|\\.|'')*'`)

func (t *Tx) Rollback() error {
	err := t.tx.Rollback()
	t.end()
	return err
}

// checkForeignKeys proves, with foreign key checks off, that every foreign
// key from or to a table written still finds its parent row.
func (t *Tx) checkForeignKeys(ctx context.Context) error {
	if err := dialect.CheckForeignKeys(ctx, t, t.written, Quote, Quote); err != nil {
		return fmt.Errorf("mysql: %w", err)
	}
	return nil
}

func (t *Tx) Exec(ctx context.Context, q string, args ...any) error {
	_, err := t.tx.ExecContext(ctx, q, args...)
	return err
}

// value converts a cell to the value MySQL reads for its column type.
func value(c serialize.Column, cell serialize.Cell) (any, error) {
	v, err := serialize.Value(&c, cell)
	if err != nil {
		return nil, fmt.Errorf("column %q: %w", c.Name, err)
	}
	switch x := v.(type) {
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case string:
		switch c.Type {
		case serialize.Timestamp, serialize.TimestampTZ:
			return strings.Replace(strings.TrimSuffix(x, "Z"), "T", " ", 1), nil
		}
	}
	return v, nil
}

func rowArgs(cols []serialize.Column, cells []serialize.Cell, args []any) ([]any, error) {
	for i, c := range cols {
		v, err := value(c, cells[i])
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	return args, nil
}

func tuple(n int) string { return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")" }

func names(cols []serialize.Column) string { return dialect.QuoteNames(cols, Quote) }

// MaxRowBytes is what one row's cells may take: a statement must fit in
// max_allowed_packet, with room for its text.
func (t *Tx) MaxRowBytes() int { return t.packet/2 - 1024 }

// batches calls fn with consecutive ranges [lo, hi) of rows that fit one
// statement: at most batchRows rows, and cells within half of
// max_allowed_packet (an update sends each value and key twice).
func (t *Tx) batches(rows [][]serialize.Cell, fn func(lo, hi int) error) error {
	budget := max(t.packet/4, 1)
	for lo := 0; lo < len(rows); {
		hi, size := lo, 0
		for hi < len(rows) && hi-lo < batchRows {
			n := 64
			for _, c := range rows[hi] {
				n += len(c)
			}
			if hi > lo && size+n > budget {
				break
			}
			size += n
			hi++
		}
		if err := fn(lo, hi); err != nil {
			return err
		}
		lo = hi
	}
	return nil
}

func (t *Tx) Insert(ctx context.Context, table string, cols []serialize.Column, rows [][]serialize.Cell) error {
	t.written[table] = true
	if len(rows) >= loadRows {
		if loaded, err := t.load(ctx, table, cols, rows); loaded || err != nil {
			return err
		}
	}
	return t.batches(rows, func(lo, hi int) error {
		var args []any
		var err error
		list := make([]string, 0, hi-lo)
		for _, row := range rows[lo:hi] {
			if args, err = rowArgs(cols, row, args); err != nil {
				return err
			}
			list = append(list, tuple(len(cols)))
		}
		_, err = t.tx.ExecContext(ctx, "INSERT INTO "+Quote(table)+" ("+names(cols)+") VALUES "+strings.Join(list, ", "), args...)
		return err
	})
}

// Update writes a batch with one statement per column set: SET c =
// CASE WHEN key = ? THEN ? … END, on the rows WHERE (key) IN (…). It does
// not use INSERT … ON DUPLICATE KEY UPDATE, which fires on any unique key
// and can update the wrong row (DESIGN.md).
func (t *Tx) Update(ctx context.Context, table string, keyCols []serialize.Column, keys [][]serialize.Cell, cols []serialize.Column, vals [][]serialize.Cell) error {
	t.written[table] = true
	var match []string
	for _, k := range keyCols {
		match = append(match, Quote(k.Name)+" = ?")
	}
	when := "WHEN " + strings.Join(match, " AND ") + " THEN ?"
	return t.batches(vals, func(lo, hi int) error {
		var args []any
		var set []string
		for j, c := range cols {
			cases := make([]string, 0, hi-lo)
			for i := lo; i < hi; i++ {
				var err error
				if args, err = rowArgs(keyCols, keys[i], args); err != nil {
					return err
				}
				if args, err = rowArgs(cols[j:j+1], vals[i][j:j+1], args); err != nil {
					return err
				}
				cases = append(cases, when)
			}
			set = append(set, Quote(c.Name)+" = CASE "+strings.Join(cases, " ")+" END")
		}
		in, inArgs, err := keyList(keyCols, keys[lo:hi])
		if err != nil {
			return err
		}
		res, err := t.tx.ExecContext(ctx, "UPDATE "+Quote(table)+" SET "+strings.Join(set, ", ")+" WHERE "+in, append(args, inArgs...)...)
		return affected(res, err, hi-lo)
	})
}

// keyList is "(k1, k2) IN ((?, ?), …)" for a batch of keys.
func keyList(keyCols []serialize.Column, keys [][]serialize.Cell) (string, []any, error) {
	var args []any
	list := make([]string, len(keys))
	for i, key := range keys {
		var err error
		if args, err = rowArgs(keyCols, key, args); err != nil {
			return "", nil, err
		}
		list[i] = tuple(len(keyCols))
	}
	return "(" + names(keyCols) + ") IN (" + strings.Join(list, ", ") + ")", args, nil
}

func (t *Tx) Delete(ctx context.Context, table string, keyCols []serialize.Column, keys [][]serialize.Cell) error {
	t.written[table] = true
	return t.batches(keys, func(lo, hi int) error {
		in, args, err := keyList(keyCols, keys[lo:hi])
		if err != nil {
			return err
		}
		res, err := t.tx.ExecContext(ctx, "DELETE FROM "+Quote(table)+" WHERE "+in, args...)
		return affected(res, err, hi-lo)
	})
}

func affected(res sql.Result, err error, want int) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	return dialect.CheckAffected(n, want)
}

func (t *Tx) RaiseTo(ctx context.Context, table, column string, value int64) error {
	_, err := t.tx.ExecContext(ctx, "UPDATE "+Quote(table)+" SET "+Quote(column)+" = ? WHERE "+Quote(column)+" < ?", value, value)
	return err
}

// NextIDs continues past the largest id in the table (locking its end, so
// that concurrent inserts wait) and past the table's AUTO_INCREMENT.
func (t *Tx) NextIDs(ctx context.Context, table, column string, n int) ([]int64, error) {
	var last int64
	if err := t.tx.QueryRowContext(ctx, "SELECT COALESCE(MAX("+Quote(column)+"), 0) FROM "+Quote(table)+" FOR UPDATE").Scan(&last); err != nil {
		return nil, err
	}
	var auto sql.NullInt64
	err := t.tx.QueryRowContext(ctx, "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", table).Scan(&auto)
	if err == nil && auto.Valid && auto.Int64-1 > last {
		last = auto.Int64 - 1
	}
	return dialect.Consecutive(last, n), nil
}

// explainRead explains a read's error as a write's: a read in the
// change's transaction (its plan) meets an application's lock too.
func (t *Tx) explainRead(err error) error {
	if err == nil {
		return nil
	}
	return t.Explain(err)
}
