package mysql

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/go-sql-driver/mysql"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// loadRows is how many rows make an insert go through LOAD DATA LOCAL
// INFILE, streamed from memory, rather than multi-row INSERTs. Measured
// on MariaDB 10.11 (BenchmarkFirstApply/mysql: a first apply of 200,000
// rows, and as many ledger images; the best of three runs, each kind in
// turn, on a shared 2-core machine): INSERTs of 500 rows 4.7 s, of 5,000
// rows 4.9 s, LOAD DATA 3.4 s. Below it, the savepoint and the check
// after the load cost more than they save.
const loadRows = 1000

// loads names each stream the driver reads a LOAD DATA from: its handlers
// are global.
var loads atomic.Int64

// load inserts rows with LOAD DATA LOCAL INFILE from a reader the driver
// asks for by name (no file is opened: allowAllFiles stays off). It
// reports false, with nothing written, where the server refuses the load
// (local_infile off) or turned a refusal of a row into a warning, as
// LOAD DATA LOCAL does (a duplicate key skipped, a NULL in a NOT NULL
// column stored as a default): then the caller inserts the rows with
// INSERT, whose error names the fault. It is one statement in the
// change's transaction, replicated by Galera in its writeset, unless the
// node splits loads into transactions of their own
// (wsrep_load_data_splitting), where it is not used.
func (t *Tx) load(ctx context.Context, table string, cols []serialize.Column, rows [][]serialize.Cell) (bool, error) {
	if t.noLoad {
		return false, nil
	}
	if _, err := t.tx.ExecContext(ctx, "SAVEPOINT dbsync_load"); err != nil {
		return false, err
	}
	name := "dbsync-" + strconv.FormatInt(loads.Add(1), 10)
	enc := dialect.NewEncoder(func(w *bufio.Writer) error { return loadText(w, cols, rows) })
	mysql.RegisterReaderHandler(name, enc.Reader) // asked for once the server takes the load
	defer mysql.DeregisterReaderHandler(name)
	// Tab, backslash and newline as hexadecimal literals: the same under
	// any sql_mode (NO_BACKSLASH_ESCAPES).
	fields, set := make([]string, len(cols)), []string(nil)
	for i, c := range cols {
		fields[i] = Quote(c.Name)
		if c.Type == serialize.Bytes {
			fields[i] = "@v" + strconv.Itoa(i)
			set = append(set, Quote(c.Name)+" = UNHEX(@v"+strconv.Itoa(i)+")")
		}
	}
	q := "LOAD DATA LOCAL INFILE 'Reader::" + name + "' INTO TABLE " + Quote(table) +
		" CHARACTER SET utf8mb4 FIELDS TERMINATED BY X'09' ESCAPED BY X'5C' LINES TERMINATED BY X'0A' (" + strings.Join(fields, ", ") + ")"
	if len(set) > 0 {
		q += " SET " + strings.Join(set, ", ")
	}
	res, err := t.tx.ExecContext(ctx, q)
	if encErr := enc.Close(); encErr != nil {
		t.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT dbsync_load")
		return false, encErr
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) && (me.Number == 1148 || me.Number == 3948 || me.Number == 4166) {
		// ER_NOT_ALLOWED_COMMAND, ER_CLIENT_LOCAL_FILES_DISABLED: local_infile is off.
		t.noLoad = true
		return false, nil
	}
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	var warnings int
	if err := t.tx.QueryRowContext(ctx, "SELECT @@warning_count").Scan(&warnings); err != nil {
		return false, err
	}
	if warnings > 0 || n != int64(len(rows)) {
		if _, err := t.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT dbsync_load"); err != nil {
			return false, err
		}
		return false, nil
	}
	_, err = t.tx.ExecContext(ctx, "RELEASE SAVEPOINT dbsync_load")
	return err == nil, err
}

// loadText writes rows in LOAD DATA's default text form: fields
// separated by tabs, lines by newlines, backslash escapes, \N for NULL;
// bytes in hexadecimal (the statement UNHEXes them).
func loadText(w *bufio.Writer, cols []serialize.Column, rows [][]serialize.Cell) error {
	for _, row := range rows {
		for j, c := range cols {
			if j > 0 {
				w.WriteByte('\t')
			}
			v, err := value(c, row[j])
			if err != nil {
				return err
			}
			switch x := v.(type) {
			case nil:
				w.WriteString(`\N`)
			case []byte:
				w.WriteString(hex.EncodeToString(x))
			case string:
				dialect.WriteTabText(w, x, true)
			case int:
				w.WriteString(strconv.Itoa(x))
			case int64:
				w.WriteString(strconv.FormatInt(x, 10))
			case uint64:
				w.WriteString(strconv.FormatUint(x, 10))
			case float64:
				w.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
			default:
				return fmt.Errorf("column %q: cannot load a value of this kind", c.Name)
			}
		}
		if err := w.WriteByte('\n'); err != nil {
			return err
		}
	}
	return nil
}
