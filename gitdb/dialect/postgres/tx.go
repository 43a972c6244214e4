package postgres

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Tx is a PostgreSQL write transaction. It holds a transaction-scoped
// advisory lock on the schema, so that two applies never write one
// database at once, and defers every deferrable constraint to COMMIT.
// Writes go in multi-row statements of up to batchRows rows
// (DESIGN.md: about 3× faster than one statement per row).
type Tx struct {
	reader
	tx     pgx.Tx
	db     *DB                          // whose open transaction this is, until it ends
	types  map[string]map[string]string // table → column → declared type, for casts
	staged int                          // staged tables made, to name the next
	// sequences caches sequenceOf: table and column → sequence ("" none).
	sequences map[string]string
	// load is set when the transaction loads with triggers off (the
	// foreign keys' too): written are the tables to check before COMMIT.
	load    bool
	written map[string]bool
}

// batchRows bounds the rows of one statement (and its parameters under
// PostgreSQL's 65535).
const batchRows = 500

// Begin starts a write transaction, failing at once when another apply
// holds the database.
func (d *DB) Begin(ctx context.Context) (dialect.Tx, error) {
	if d.readOnly {
		return nil, fmt.Errorf("postgres: cannot write: the connection was opened to read only")
	}
	if d.cur != nil {
		return nil, fmt.Errorf("postgres: a transaction is open")
	}
	tx, err := d.begin(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, true)
	if err != nil {
		return nil, err
	}
	var got bool
	err = tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock(hashtext('git-dbsync'), hashtext($1))", d.schema).Scan(&got)
	if err == nil && !got {
		tx.Rollback(ctx)
		return nil, &dialect.BusyError{What: fmt.Sprintf("another git dbsync run writes to this database (schema %q) right now", d.schema)}
	}
	if err == nil {
		_, err = tx.Exec(ctx, "SET CONSTRAINTS ALL DEFERRED")
	}
	if err != nil {
		tx.Rollback(ctx)
		return nil, fmt.Errorf("postgres: %w", err)
	}
	d.cur = tx
	t := &Tx{db: d, tx: tx, types: map[string]map[string]string{}, sequences: map[string]string{}}
	t.reader = reader{run: in(tx), schema: d.schema, explain: t.explainRead}
	return t, nil
}

// BeginLoad starts a write transaction in which, when the role may
// (a superuser, as pg_dump --disable-triggers needs too), triggers are off:
// foreign keys are neither enforced nor acted on while rows load, and are
// checked before COMMIT. Otherwise it is Begin: deferrable constraints
// wait for COMMIT, others hold at once.
func (d *DB) BeginLoad(ctx context.Context) (dialect.Tx, error) {
	dtx, err := d.Begin(ctx)
	if err != nil {
		return nil, err
	}
	t := dtx.(*Tx)
	var super bool
	err = t.tx.QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super)
	if err == nil && super {
		_, err = t.tx.Exec(ctx, "SET LOCAL session_replication_role = replica")
		t.load = true
	}
	if err != nil {
		t.tx.Rollback(ctx)
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return t, nil
}

// DeleteWhere deletes the rows that meet filter, all when it is "": then
// with TRUNCATE (transactional here, and without the dead rows DELETE
// leaves to vacuum) unless another table's foreign key refers to it.
func (t *Tx) DeleteWhere(ctx context.Context, table, filter string) (int64, error) {
	t.wrote(table)
	if filter == "" {
		var n int64
		var referred bool
		err := t.tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM `+t.qualified(table)+`),
  EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' AND confrelid = $1::regclass AND conrelid <> confrelid)`, t.qualified(table)).Scan(&n, &referred)
		if err != nil {
			return 0, err
		}
		if !referred {
			_, err = t.tx.Exec(ctx, "TRUNCATE "+t.qualified(table))
			return n, err
		}
	}
	tag, err := t.tx.Exec(ctx, "DELETE FROM "+t.qualified(table)+dialect.Where(&dialect.Table{Filter: filter}))
	return tag.RowsAffected(), err
}

func (t *Tx) wrote(table string) {
	if t.written == nil {
		t.written = map[string]bool{}
	}
	t.written[table] = true
}

func (t *Tx) Commit() error {
	defer t.end()
	if t.load {
		if err := dialect.CheckForeignKeys(context.Background(), t, t.written, t.qualified, Quote); err != nil {
			t.tx.Rollback(context.Background())
			return fmt.Errorf("postgres: %w", err)
		}
	}
	if err := t.tx.Commit(context.Background()); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

func (t *Tx) Rollback() error {
	defer t.end()
	return t.tx.Rollback(context.Background())
}

// end lets the database's reads run in transactions of their own again.
func (t *Tx) end() {
	if t.db.cur == t.tx {
		t.db.cur = nil
	}
}

// Explain makes a lock wait that reached lock_timeout a *BusyError.
// PostgreSQL's messages hold no values (the details that do are not in
// them).
func (t *Tx) Explain(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "55P03" { // lock_not_available
		return dialect.LockWait(t.db.lockTimeout, "")
	}
	return err
}

func (t *Tx) Exec(ctx context.Context, q string, args ...any) error {
	_, err := t.tx.Exec(ctx, rebind(q), args...)
	return err
}

// declared returns the declared types of a table's columns.
func (t *Tx) declared(ctx context.Context, table string) (map[string]string, error) {
	if m := t.types[table]; m != nil {
		return m, nil
	}
	desc, err := t.Describe(ctx, table)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, c := range desc.Columns {
		m[c.Name] = c.DeclType
	}
	t.types[table] = m
	return m, nil
}

// param returns the SQL that reads parameter n as a value of a column, and
// the Go value to send.
func param(n int, c serialize.Column, decl string, cell serialize.Cell) (string, any, error) {
	v, err := wireValue(c, cell)
	return cast("$"+strconv.Itoa(n), c, decl), v, err
}

// wireValue is a cell as it travels: as text (exact for every type, cast
// by the server), bytea as bytes, arrays as JSON arrays.
func wireValue(c serialize.Column, cell serialize.Cell) (any, error) {
	v, err := serialize.Value(&c, cell)
	if err != nil {
		return nil, fmt.Errorf("column %q: %w", c.Name, err)
	}
	switch x := v.(type) {
	case string:
		if strings.IndexByte(x, 0) >= 0 {
			return nil, fmt.Errorf("column %q: the value holds the NUL character (\\u0000), which PostgreSQL's text cannot store", c.Name)
		}
	case bool:
		v = strconv.FormatBool(x)
	case int64:
		v = strconv.FormatInt(x, 10)
	case uint64:
		v = strconv.FormatUint(x, 10)
	case float64:
		v = strings.Trim(string(serialize.AppendFloat(nil, x, 64)), `"`)
	}
	return v, nil
}

// CheckCell refuses a text cell holding the NUL character, which
// PostgreSQL's text cannot store: cheap for the others, which hold no
// \u0000 escape.
func (r reader) CheckCell(c serialize.Column, cell serialize.Cell) error {
	if c.Type != serialize.Text || !bytes.Contains(cell, []byte(`\u0000`)) {
		return nil
	}
	_, err := wireValue(c, cell)
	return err
}

// cast is the SQL that reads a value sent by wireValue (a parameter, a
// column of a staged table) as the column's declared type.
func cast(ref string, c serialize.Column, decl string) string {
	switch {
	case c.Type == serialize.Bytes:
		return ref + "::bytea"
	case strings.HasSuffix(decl, "[]"):
		return "(SELECT COALESCE(array_agg(e), '{}') FROM json_array_elements_text(" + ref + "::text::json) e)::" + decl
	}
	return ref + "::text::" + decl
}

// values builds a VALUES list for rows of cells of cols, with parameters.
func values(cols []serialize.Column, decl map[string]string, rows [][]serialize.Cell) (string, []any, error) {
	var b strings.Builder
	args := make([]any, 0, len(rows)*len(cols))
	for i, row := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, c := range cols {
			if j > 0 {
				b.WriteString(", ")
			}
			expr, v, err := param(len(args)+1, c, decl[c.Name], row[j])
			if err != nil {
				return "", nil, err
			}
			b.WriteString(expr)
			args = append(args, v)
		}
		b.WriteByte(')')
	}
	return b.String(), args, nil
}

func names(cols []serialize.Column) string { return dialect.QuoteNames(cols, Quote) }

func batches(n int, fn func(lo, hi int) error) error { return dialect.Batches(n, batchRows, fn) }

func (t *Tx) Insert(ctx context.Context, table string, cols []serialize.Column, rows [][]serialize.Cell) error {
	t.wrote(table)
	decl, err := t.declared(ctx, table)
	if err != nil {
		return err
	}
	insert := "INSERT INTO " + t.qualified(table) + " (" + names(cols) + ") OVERRIDING SYSTEM VALUE "
	switch {
	case len(rows) >= bulkRows && !hasArray(cols, decl):
		err = t.copyInto(ctx, table, cols, rows)
	case len(rows) >= bulkRows:
		err = t.bulk(ctx, cols, decl, rows, func(staged string, exprs []string) (int64, error) {
			tag, err := t.tx.Exec(ctx, insert+"SELECT "+strings.Join(exprs, ", ")+" FROM "+staged+" AS v")
			return tag.RowsAffected(), err
		})
	default:
		err = batches(len(rows), func(lo, hi int) error {
			vals, args, err := values(cols, decl, rows[lo:hi])
			if err != nil {
				return err
			}
			_, err = t.tx.Exec(ctx, insert+"VALUES "+vals, args...)
			return err
		})
	}
	if err != nil {
		return err
	}
	return t.advanceSequences(ctx, table, cols)
}

// advanceSequences moves the sequences behind serial and identity columns
// past the largest value now in the table, so that the application's next
// insert does not collide with an id the apply inserted.
func (t *Tx) advanceSequences(ctx context.Context, table string, cols []serialize.Column) error {
	for _, c := range cols {
		if c.Type != serialize.Int {
			continue
		}
		seq, err := t.sequenceOf(ctx, table, c.Name)
		if err != nil || seq == "" {
			return err
		}
		_, err = t.tx.Exec(ctx, `SELECT setval($1, m) FROM (SELECT max(`+Quote(c.Name)+`) AS m FROM `+t.qualified(table)+`) x
WHERE m IS NOT NULL AND m >= COALESCE(pg_sequence_last_value($1::regclass), 0)`, seq)
		if err != nil {
			return fmt.Errorf("advancing the sequence of %q: %w", c.Name, err)
		}
	}
	return nil
}

// sequenceOf returns the sequence behind a serial or identity column, ""
// for none; asked once per column and transaction (a column without one
// needs no max() over the table after every write).
func (t *Tx) sequenceOf(ctx context.Context, table, column string) (string, error) {
	key := table + "\x00" + column
	if seq, ok := t.sequences[key]; ok {
		return seq, nil
	}
	var seq *string
	if err := t.tx.QueryRow(ctx, "SELECT pg_get_serial_sequence($1, $2)", t.qualified(table), column).Scan(&seq); err != nil {
		return "", err
	}
	t.sequences[key] = ""
	if seq != nil {
		t.sequences[key] = *seq
	}
	return t.sequences[key], nil
}

func (t *Tx) Update(ctx context.Context, table string, keyCols []serialize.Column, keys [][]serialize.Cell, cols []serialize.Column, vals [][]serialize.Cell) error {
	t.wrote(table)
	decl, err := t.declared(ctx, table)
	if err != nil {
		return err
	}
	all := append(append([]serialize.Column(nil), keyCols...), cols...)
	rowsOf := func(lo, hi int) [][]serialize.Cell {
		rows := make([][]serialize.Cell, 0, hi-lo)
		for i := lo; i < hi; i++ {
			rows = append(rows, append(append([]serialize.Cell(nil), keys[i]...), vals[i]...))
		}
		return rows
	}
	if len(keys) >= bulkRows {
		return t.bulk(ctx, all, decl, rowsOf(0, len(keys)), func(staged string, exprs []string) (int64, error) {
			var set, on []string
			for i, c := range keyCols {
				on = append(on, "t."+Quote(c.Name)+" = "+exprs[i])
			}
			for i, c := range cols {
				set = append(set, Quote(c.Name)+" = "+exprs[len(keyCols)+i])
			}
			tag, err := t.tx.Exec(ctx, "UPDATE "+t.qualified(table)+" AS t SET "+strings.Join(set, ", ")+" FROM "+staged+" AS v WHERE "+strings.Join(on, " AND "))
			return tag.RowsAffected(), err
		})
	}
	var set, on, alias []string
	for i := range keyCols {
		alias = append(alias, "k"+strconv.Itoa(i))
		on = append(on, "t."+Quote(keyCols[i].Name)+" = v.k"+strconv.Itoa(i))
	}
	for i := range cols {
		alias = append(alias, "c"+strconv.Itoa(i))
		set = append(set, Quote(cols[i].Name)+" = v.c"+strconv.Itoa(i))
	}
	return batches(len(keys), func(lo, hi int) error {
		list, args, err := values(all, decl, rowsOf(lo, hi))
		if err != nil {
			return err
		}
		tag, err := t.tx.Exec(ctx, "UPDATE "+t.qualified(table)+" AS t SET "+strings.Join(set, ", ")+
			" FROM (VALUES "+list+") AS v("+strings.Join(alias, ", ")+") WHERE "+strings.Join(on, " AND "), args...)
		return affected(tag.RowsAffected(), err, hi-lo)
	})
}

func (t *Tx) Delete(ctx context.Context, table string, keyCols []serialize.Column, keys [][]serialize.Cell) error {
	t.wrote(table)
	decl, err := t.declared(ctx, table)
	if err != nil {
		return err
	}
	if len(keys) >= bulkRows {
		return t.bulk(ctx, keyCols, decl, keys, func(staged string, exprs []string) (int64, error) {
			var on []string
			for i, c := range keyCols {
				on = append(on, "t."+Quote(c.Name)+" = "+exprs[i])
			}
			tag, err := t.tx.Exec(ctx, "DELETE FROM "+t.qualified(table)+" AS t USING "+staged+" AS v WHERE "+strings.Join(on, " AND "))
			return tag.RowsAffected(), err
		})
	}
	var on, alias []string
	for i := range keyCols {
		alias = append(alias, "k"+strconv.Itoa(i))
		on = append(on, "t."+Quote(keyCols[i].Name)+" = v.k"+strconv.Itoa(i))
	}
	return batches(len(keys), func(lo, hi int) error {
		list, args, err := values(keyCols, decl, keys[lo:hi])
		if err != nil {
			return err
		}
		tag, err := t.tx.Exec(ctx, "DELETE FROM "+t.qualified(table)+" AS t USING (VALUES "+list+") AS v("+strings.Join(alias, ", ")+") WHERE "+strings.Join(on, " AND "), args...)
		return affected(tag.RowsAffected(), err, hi-lo)
	})
}

func affected(n int64, err error, want int) error {
	if err != nil {
		return err
	}
	return dialect.CheckAffected(n, want)
}

func (t *Tx) RaiseTo(ctx context.Context, table, column string, value int64) error {
	_, err := t.tx.Exec(ctx, "UPDATE "+t.qualified(table)+" SET "+Quote(column)+" = $1 WHERE "+Quote(column)+" < $1", value)
	return err
}

// NextIDs takes ids from the column's sequence (serial, identity), so that
// they never collide with the application's; a column without one
// continues past the largest id.
func (t *Tx) NextIDs(ctx context.Context, table, column string, n int) ([]int64, error) {
	seq, err := t.sequenceOf(ctx, table, column)
	if err != nil {
		return nil, err
	}
	if seq == "" {
		var last int64
		if err := t.tx.QueryRow(ctx, "SELECT COALESCE(MAX("+Quote(column)+"), 0) FROM "+t.qualified(table)).Scan(&last); err != nil {
			return nil, err
		}
		return dialect.Consecutive(last, n), nil
	}
	// Rows inserted with explicit ids leave the sequence behind them.
	if err := t.advanceSequences(ctx, table, []serialize.Column{{Name: column, Type: serialize.Int}}); err != nil {
		return nil, err
	}
	ids := make([]int64, 0, n)
	rows, err := t.tx.Query(ctx, "SELECT nextval($1::regclass) FROM generate_series(1, $2)", seq, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// bulkRows is how many rows make a write go through a staged table (COPY
// into a temporary table, then one set-based statement) rather than
// multi-row statements: below it, creating the table costs more than it
// saves.
const bulkRows = 1000

// stage copies rows of cells of cols into a new temporary table, its
// columns c0, c1, … holding the values as wireValue sends them, and
// returns the table's name and, per column, the SQL that reads it (as v)
// in the target's type. The table goes at COMMIT, or when unstage drops it.
func (t *Tx) stage(ctx context.Context, cols []serialize.Column, decl map[string]string, rows [][]serialize.Cell) (string, []string, error) {
	t.staged++
	name := "dbsync_stage_" + strconv.Itoa(t.staged)
	defs := make([]string, len(cols))
	names := make([]string, len(cols))
	exprs := make([]string, len(cols))
	for i, c := range cols {
		names[i] = "c" + strconv.Itoa(i)
		typ := "text"
		if c.Type == serialize.Bytes {
			typ = "bytea"
		}
		defs[i] = names[i] + " " + typ
		exprs[i] = cast("v."+names[i], c, decl[c.Name])
	}
	if _, err := t.tx.Exec(ctx, "CREATE TEMPORARY TABLE "+name+" ("+strings.Join(defs, ", ")+") ON COMMIT DROP"); err != nil {
		return "", nil, err
	}
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(rows) {
			return nil, nil
		}
		vals := make([]any, len(cols))
		for j, c := range cols {
			v, err := wireValue(c, rows[i][j])
			if err != nil {
				return nil, err
			}
			vals[j] = v
		}
		i++
		return vals, nil
	})
	if _, err := t.tx.CopyFrom(ctx, pgx.Identifier{name}, names, src); err != nil {
		return "", nil, err
	}
	return name, exprs, nil
}

// bulk stages rows, runs the statement write makes of the staged table
// and drops it; write must touch exactly one row per staged row.
func (t *Tx) bulk(ctx context.Context, cols []serialize.Column, decl map[string]string, rows [][]serialize.Cell, write func(staged string, exprs []string) (int64, error)) error {
	name, exprs, err := t.stage(ctx, cols, decl, rows)
	if err != nil {
		return err
	}
	// The staged rows are joined to the table through its key's index,
	// never by a scan of the whole table into a hash or a sort: a table
	// just loaded has no statistics, and the planner then scanned a
	// million rows for each batch of 10,000 (a rollback of a first apply
	// of 1M rows spent 37 s deleting, 0.43 s a batch). The settings are
	// the transaction's, put back after the statement.
	var hash, merge string
	err = t.tx.QueryRow(ctx, `SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin'),
  set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)`).Scan(&hash, &merge, new(string), new(string))
	if err != nil {
		return err
	}
	n, err := write(name, exprs)
	if err := affected(n, err, len(rows)); err != nil {
		return err
	}
	if _, err := t.tx.Exec(ctx, "SELECT set_config('enable_hashjoin', $1, true), set_config('enable_mergejoin', $2, true)", hash, merge); err != nil {
		return err
	}
	_, err = t.tx.Exec(ctx, "DROP TABLE "+name)
	return err
}

// hasArray reports a column declared as an array: COPY's text form of
// arrays is not JSON, so those rows go through a staged table.
func hasArray(cols []serialize.Column, decl map[string]string) bool {
	for _, c := range cols {
		if strings.HasSuffix(decl[c.Name], "[]") {
			return true
		}
	}
	return false
}

// copyInto writes rows with COPY FROM in text form straight into the
// table: each value is parsed by its column type's input function, as the
// ::type casts of the statements do, and identity columns take the values
// given (COPY overrides GENERATED ALWAYS). The rows are encoded through a
// pipe while the server parses those before them, not all first.
func (t *Tx) copyInto(ctx context.Context, table string, cols []serialize.Column, rows [][]serialize.Cell) error {
	enc := dialect.NewEncoder(func(w *bufio.Writer) error { return copyRows(w, cols, rows) })
	tag, err := t.tx.Conn().PgConn().CopyFrom(ctx, enc.Reader(), "COPY "+t.qualified(table)+" ("+names(cols)+") FROM STDIN")
	if encErr := enc.Close(); encErr != nil && err != nil {
		err = encErr // the value that could not be encoded, not the COPY it cut short
	}
	if err != nil {
		return err
	}
	return dialect.CheckAffected(tag.RowsAffected(), len(rows))
}

// copyRows writes rows in COPY's text form.
func copyRows(w *bufio.Writer, cols []serialize.Column, rows [][]serialize.Cell) error {
	for _, row := range rows {
		for j, c := range cols {
			if j > 0 {
				w.WriteByte('\t')
			}
			if copyPlain(w, c, row[j]) {
				continue
			}
			v, err := wireValue(c, row[j])
			if err != nil {
				return err
			}
			switch x := v.(type) {
			case nil:
				w.WriteString(`\N`)
			case []byte:
				w.WriteString(`\\x`)
				w.WriteString(hex.EncodeToString(x))
			case string:
				dialect.WriteTabText(w, x, false)
			default:
				return fmt.Errorf("column %q: cannot copy a value of this kind", c.Name)
			}
		}
		if err := w.WriteByte('\n'); err != nil {
			return err
		}
	}
	return nil
}

// copyPlain writes the commonest cells in COPY's text form straight from
// their canonical JSON, as wireValue and WriteTabText would: null, a number
// of a numeric column, and a string of a text, date or time column whose
// escapes COPY reads as JSON does (\\, \n, \r, \t, \b, \f; \" and \/
// written unescaped), as in the ledger's row images. It reports false for
// the others (a \u escape).
func copyPlain(w *bufio.Writer, c serialize.Column, cell serialize.Cell) bool {
	switch {
	case string(cell) == "null":
		w.WriteString(`\N`)
	case len(cell) == 0:
		return false
	case cell[0] != '"':
		if c.Type != serialize.Int && c.Type != serialize.Decimal && c.Type != serialize.Boolean {
			return false
		}
		w.Write(cell)
	default:
		switch c.Type {
		case serialize.Text, serialize.Date, serialize.Time, serialize.Timestamp, serialize.TimestampTZ, serialize.UUID:
		default:
			return false
		}
		inner := cell[1 : len(cell)-1]
		if bytes.Contains(inner, []byte(`\u`)) {
			return false
		}
		for {
			i := bytes.IndexByte(inner, '\\')
			if i < 0 || i+1 == len(inner) {
				w.Write(inner)
				break
			}
			w.Write(inner[:i])
			switch e := inner[i+1]; e {
			case '"', '/':
				w.WriteByte(e)
			default: // the same two bytes in COPY's form
				w.Write(inner[i : i+2])
			}
			inner = inner[i+2:]
		}
	}
	return true
}

// explainRead explains a read's error as a write's: a read in the
// change's transaction (its plan) meets an application's lock too.
func (t *Tx) explainRead(err error) error {
	if err == nil {
		return nil
	}
	return t.Explain(err)
}
