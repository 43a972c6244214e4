// Package postgres is the PostgreSQL dialect, on pgx v5 used directly
// (DESIGN.md measured pgx through database/sql 1.7× slower). URLs are
// libpq's: postgres://user:pass@host:port/db?sslmode=disable (or
// postgresql://), with ?schema=NAME to choose the schema (default: the
// connection's current schema).
//
// Rows are read in the text format, which PostgreSQL prints exactly
// (numerics, shortest-exact floats); every transaction runs in UTC with
// ISO dates and intervals so that values come out in one form whatever the
// server's defaults.
//
// Nothing outlives a transaction on the server's connection, so that the
// dialect works through a pool in transaction mode (PgBouncer's default)
// without leaving settings to the application: the settings above, the
// schema's search_path and lock_timeout are SET LOCAL (set_config(…, true))
// at the start of each transaction; reads outside a write transaction run
// in a short transaction of their own, or in the read-only one SetReadOnly
// opens; statements are never prepared under a name.
package postgres

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/serialize"
)

func init() {
	dialect.Register("postgres", Open)
	dialect.Register("postgresql", Open)
}

// querier is what reads need: a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// reader reads in a transaction: run calls fn with the one to read in.
type reader struct {
	run     func(ctx context.Context, fn func(q querier) error) error
	schema  string
	explain func(error) error // nil: errors as they come
}

// in returns the run of a reader whose reads go in tx.
func in(tx querier) func(context.Context, func(querier) error) error {
	return func(_ context.Context, fn func(querier) error) error { return fn(tx) }
}

// DB is an open PostgreSQL database.
type DB struct {
	reader
	conn *pgx.Conn
	// searchPath is the quoted schema a ?schema= URL names, set in each
	// transaction so that unqualified names (git dbsync's own tables)
	// land in it; "" for the connection's own.
	searchPath  string
	lockTimeout time.Duration // for write transactions; 0: the server's
	// cur is the open transaction: a write one (Begin) or the read-only
	// one of SetReadOnly (then readOnly), which every read runs in.
	cur      pgx.Tx
	readOnly bool
}

// Open connects to the database a URL names.
func Open(ctx context.Context, rawURL, _ string) (dialect.Dialect, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: bad URL %s: %v", dialect.Redact(rawURL), err)
	}
	q := u.Query()
	schema := q.Get("schema")
	q.Del("schema")
	u.RawQuery = q.Encode()
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %v", dialect.Redact(rawURL), err)
	}
	// Only application_name among the startup parameters: PgBouncer
	// refuses the others it does not track (IntervalStyle,
	// extra_float_digits, search_path), and each transaction sets its own.
	cfg.RuntimeParams["application_name"] = "git-dbsync"
	// Unnamed statements only: in a pool's transaction mode a named one
	// outlives the transaction on a server connection the next client
	// gets ("prepared statement … already exists"). Single round trip,
	// the parameters' types taken from their Go types.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connecting to %s: %w", dialect.Redact(rawURL), dialect.RedactError(err))
	}
	d := &DB{conn: conn}
	d.reader = reader{run: d.read, explain: d.explainRead}
	if schema != "" {
		d.searchPath = Quote(schema)
	} else if err := d.read(ctx, func(q querier) error { return q.QueryRow(ctx, "SELECT current_schema()").Scan(&schema) }); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("postgres: %w", err)
	}
	d.schema = schema
	return d, nil
}

// Close ends the read-only transaction, if any, and the connection.
// AppendIndex is the index of a table only ever appended to in the order
// of column (the ledger's row images): a block range (BRIN) index, a few
// pages for millions of rows and almost nothing to keep per row. Writing
// 200,000 row images took 1.4–1.6 s with a primary key's B-tree, 0.5 s
// with it (psql \copy, PostgreSQL 15; 0.4–0.5 s with no index at all).
func (d *DB) AppendIndex(table, column string) string {
	return "CREATE INDEX IF NOT EXISTS " + Quote(table+"_"+column) + " ON " + Quote(table) + " USING brin (" + Quote(column) + ")"
}

func (d *DB) Close() error {
	ctx := context.Background()
	if d.readOnly && d.cur != nil {
		d.cur.Rollback(ctx)
		d.cur = nil
	}
	return d.conn.Close(ctx)
}

// SetLockTimeout sets the lock_timeout of every later transaction, the
// read-only one of SetReadOnly (set after it) included.
func (d *DB) SetLockTimeout(ctx context.Context, timeout time.Duration) error {
	d.lockTimeout = max(timeout, time.Millisecond)
	return nil
}

// SetReadOnly opens a read-only transaction, a repeatable-read snapshot,
// that every later read runs in until Close: what reads a database (export,
// plan, diff, status) sees one state of it and cannot write to it, and the
// server's connection keeps no read-only setting for its next client.
func (d *DB) SetReadOnly(ctx context.Context) error {
	if d.readOnly {
		return nil
	}
	if d.cur != nil {
		return fmt.Errorf("postgres: a transaction is open")
	}
	tx, err := d.begin(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, false)
	if err != nil {
		return err
	}
	d.cur, d.readOnly = tx, true
	return nil
}

// begin starts a transaction with git dbsync's settings, local to it.
func (d *DB) begin(ctx context.Context, opts pgx.TxOptions, write bool) (pgx.Tx, error) {
	tx, err := d.conn.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("postgres: begin: %w", err)
	}
	q := `SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true),
  set_config('IntervalStyle', 'iso_8601', true), set_config('extra_float_digits', '1', true)`
	var args []any
	set := func(name, value string) {
		args = append(args, value)
		q += fmt.Sprintf(", set_config('%s', $%d, true)", name, len(args))
	}
	if d.searchPath != "" {
		set("search_path", d.searchPath)
	}
	if d.lockTimeout > 0 { // reads wait no longer than writes
		set("lock_timeout", strconv.FormatInt(d.lockTimeout.Milliseconds(), 10))
	}
	if _, err := tx.Exec(ctx, q, args...); err != nil {
		tx.Rollback(ctx)
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return tx, nil
}

// read runs fn in the open transaction, or in a short one of its own.
func (d *DB) read(ctx context.Context, fn func(querier) error) error {
	if d.cur != nil {
		return fn(d.cur)
	}
	tx, err := d.begin(ctx, pgx.TxOptions{}, false)
	if err != nil {
		return err
	}
	d.cur = tx
	defer func() { d.cur = nil }()
	if err := fn(tx); err != nil {
		tx.Rollback(ctx)
		return err
	}
	return tx.Commit(ctx)
}

func (d *DB) explainRead(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "55P03" { // lock_not_available
		return dialect.LockWait(d.lockTimeout, "")
	}
	return err
}

// ReadOnly says why the database cannot take a write: a hot standby, or
// a session whose transactions are read-only by default (a role's or
// database's default_transaction_read_only, or the URL's).
func (d *DB) ReadOnly(ctx context.Context) (string, error) {
	var standby bool
	var def string
	err := d.read(ctx, func(q querier) error {
		return q.QueryRow(ctx, "SELECT pg_is_in_recovery(), current_setting('default_transaction_read_only')").Scan(&standby, &def)
	})
	switch {
	case err != nil:
		return "", fmt.Errorf("postgres: %w", err)
	case standby:
		return "a read-only standby (pg_is_in_recovery)", nil
	case def == "on":
		return "a read-only session (default_transaction_read_only=on)", nil
	}
	return "", nil
}

// Where names the database by its cluster's system identifier (which a
// standby shares with its primary) and its name and schema, whatever host,
// port or pooler the URL went through.
func (d *DB) Where(ctx context.Context) (string, error) {
	var where string
	err := d.read(ctx, func(q querier) error {
		return q.QueryRow(ctx, "SELECT (SELECT system_identifier FROM pg_control_system())::text || '/' || current_database()").Scan(&where)
	})
	if err != nil {
		return "", fmt.Errorf("postgres: %w", err)
	}
	return "postgres:" + where + "/" + d.schema, nil
}

// Quote quotes an identifier.
func Quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func (r reader) qualified(table string) string { return Quote(r.schema) + "." + Quote(table) }

func (r reader) Tables(ctx context.Context) ([]string, error) {
	var names []string
	err := r.each(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname COLLATE "C"`, []any{r.schema}, func(row pgx.Rows) error {
		var n string
		names = append(names, n)
		return row.Scan(&names[len(names)-1])
	})
	return names, err
}

func (r reader) each(ctx context.Context, sql string, args []any, fn func(pgx.Rows) error) error {
	return r.run(ctx, func(q querier) error { return each(ctx, q, sql, args, fn) })
}

func each(ctx context.Context, q querier, sql string, args []any, fn func(pgx.Rows) error) error {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// pgType is what Describe learns of a column's type.
type pgType struct {
	format   string // format_type(): the type as SQL writes it
	name     string // the base type's name
	kind     string // typtype: b base, e enum, …
	category string // typcategory: A array, …
	typmod   int
}

// Describe reads the catalog in one transaction.
func (r reader) Describe(ctx context.Context, table string) (*dialect.Table, error) {
	ts, err := r.DescribeTables(ctx, []string{table})
	if err != nil {
		return nil, err
	}
	return ts[table], nil
}

// DescribeTables reads the catalog of several tables in one transaction
// and four queries, whatever their number (an export of 200 tables made
// 800 round trips one table at a time).
func (r reader) DescribeTables(ctx context.Context, tables []string) (map[string]*dialect.Table, error) {
	var ts map[string]*dialect.Table
	err := r.run(ctx, func(q querier) error {
		var err error
		ts, err = reader{run: in(q), schema: r.schema}.describe(ctx, tables)
		return err
	})
	return ts, err
}

func (r reader) describe(ctx context.Context, tables []string) (map[string]*dialect.Table, error) {
	byOID := map[uint32]*dialect.Table{}
	out := make(map[string]*dialect.Table, len(tables))
	var oids []uint32
	err := r.each(ctx, `SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind IN ('r', 'p')`, []any{r.schema, tables}, func(row pgx.Rows) error {
		var oid uint32
		var name string
		if err := row.Scan(&oid, &name); err != nil {
			return err
		}
		t := &dialect.Table{Name: name}
		byOID[oid], out[name] = t, t
		oids = append(oids, oid)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, table := range tables {
		if out[table] == nil {
			return nil, fmt.Errorf("postgres: no table %q in schema %q", table, r.schema)
		}
	}
	// On an error, the table named is the first of those asked for: the
	// one a single Describe names.
	failed := func(err error) error { return fmt.Errorf("postgres: table %q: %w", tables[0], err) }
	err = r.each(ctx, `SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), b.typname, b.typtype, b.typcategory, a.atttypmod,
  a.attnotnull, a.attgenerated <> ''
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum`, []any{oids}, func(row pgx.Rows) error {
		var oid uint32
		var name string
		var pt pgType
		var typmod int32
		var notNull, generated bool
		if err := row.Scan(&oid, &name, &pt.format, &pt.name, &pt.kind, &pt.category, &typmod, &notNull, &generated); err != nil {
			return err
		}
		pt.typmod = int(typmod)
		typ, scale := logicalType(pt)
		// GENERATED ALWAYS AS IDENTITY columns are written with OVERRIDING
		// SYSTEM VALUE; only computed columns are never written.
		t := byOID[oid]
		t.Columns = append(t.Columns, dialect.Column{Name: name, DeclType: pt.format, Type: typ, Scale: scale,
			Nullable: !notNull, Generated: generated, Limit: limit(pt)})
		return nil
	})
	if err != nil {
		return nil, failed(err)
	}
	err = r.each(ctx, `SELECT con.conrelid, con.contype::text,
  ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord) JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord),
  COALESCE(ref.relname, ''),
  ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, ord) JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord)
FROM pg_constraint con LEFT JOIN pg_class ref ON ref.oid = con.confrelid
WHERE con.conrelid = ANY($1::oid[]) AND con.contype IN ('p', 'u', 'f') ORDER BY con.conrelid, con.conname COLLATE "C"`, []any{oids}, func(row pgx.Rows) error {
		var oid uint32
		var kind, ref string
		var cols, refCols []string
		if err := row.Scan(&oid, &kind, &cols, &ref, &refCols); err != nil {
			return err
		}
		t := byOID[oid]
		switch kind {
		case "p":
			t.PrimaryKey = cols
		case "u":
			t.Unique = append(t.Unique, cols)
		case "f":
			t.ForeignKeys = append(t.ForeignKeys, dialect.ForeignKey{Columns: cols, RefTable: ref, RefColumns: refCols})
		}
		return nil
	})
	if err != nil {
		return nil, failed(err)
	}
	// Unique indexes that are not constraints (and not partial or on
	// expressions) identify rows too.
	err = r.each(ctx, `SELECT i.indrelid, ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num ORDER BY k.ord)
FROM pg_index i WHERE i.indrelid = ANY($1::oid[]) AND i.indisunique AND NOT i.indisprimary AND i.indpred IS NULL AND i.indexprs IS NULL
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY i.indrelid, i.indexrelid`, []any{oids}, func(row pgx.Rows) error {
		var oid uint32
		var cols []string
		if err := row.Scan(&oid, &cols); err != nil {
			return err
		}
		byOID[oid].Unique = append(byOID[oid].Unique, cols)
		return nil
	})
	if err != nil {
		return nil, failed(err)
	}
	return out, nil
}

// logicalType maps a PostgreSQL type to a logical type.
// limit returns what a numeric(p,s) (p-s digits before the point) or a
// varchar(n) or char(n) (n characters) holds at most.
func limit(t pgType) int {
	switch {
	case t.typmod < 4:
		return 0
	case t.name == "numeric":
		p, s := (t.typmod-4)>>16&0xffff, (t.typmod-4)&0xffff
		return max(p-s, 0)
	case t.name == "varchar" || t.name == "bpchar":
		return t.typmod - 4
	}
	return 0
}

func logicalType(t pgType) (serialize.Type, int) {
	if t.category == "A" {
		return serialize.JSON, -1 // arrays are read and written as JSON arrays
	}
	if t.kind == "e" {
		return serialize.Text, -1
	}
	switch t.name {
	case "int2", "int4", "int8", "oid":
		return serialize.Int, -1
	case "numeric":
		if t.typmod >= 4 {
			return serialize.Decimal, (t.typmod - 4) & 0xffff
		}
		return serialize.Decimal, -1
	case "float4", "float8":
		return serialize.Float, -1
	case "bool":
		return serialize.Boolean, -1
	case "bytea":
		return serialize.Bytes, -1
	case "date":
		return serialize.Date, -1
	case "time":
		return serialize.Time, -1
	case "timestamp":
		return serialize.Timestamp, -1
	case "timestamptz":
		return serialize.TimestampTZ, -1
	case "json", "jsonb":
		return serialize.JSON, -1
	case "uuid":
		return serialize.UUID, -1
	}
	return serialize.Text, -1 // text, varchar, char, citext, interval, inet, …: their text form
}

func (r reader) countRows(ctx context.Context, table string) (int64, error) {
	var n int64
	err := r.each(ctx, "SELECT count(*) FROM "+r.qualified(table), nil, func(row pgx.Rows) error { return row.Scan(&n) })
	return n, err
}

// readRows reads with results in text: exact, and read without conversion
// but for bytea (hex), timestamptz (the UTC offset) and arrays (selected as
// JSON). The extended protocol runs one statement whatever a row scope's
// predicate holds (the simple protocol would run several).
func (r reader) readRows(ctx context.Context, desc *dialect.Table, columns, key []string, fn func([]any) error) error {
	sel := make([]string, len(columns))
	conv := make([]convert, len(columns))
	for i, name := range columns {
		c := desc.Column(name)
		if c == nil {
			return fmt.Errorf("postgres: table %q has no column %q", desc.Name, name)
		}
		sel[i] = Quote(name) // text as it comes (conv nil), or converted
		switch {
		case strings.HasSuffix(c.DeclType, "[]"):
			sel[i] = "to_json(" + Quote(name) + ")"
		case c.Type == serialize.Bytes:
			conv[i] = byteaValue
		case c.Type == serialize.TimestampTZ:
			conv[i] = utcText
		}
	}
	order := make([]string, len(key))
	for i, k := range key {
		order[i] = Quote(k)
		if c := desc.Column(k); c != nil && (c.Type == serialize.Text || c.Type == serialize.UUID) {
			order[i] += ` COLLATE "C"`
		}
	}
	where, args := dialect.ReadWhere(desc, key, Quote, func(n int) string { return "$" + strconv.Itoa(n) })
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + r.qualified(desc.Name) + where
	if len(order) > 0 {
		q += " ORDER BY " + strings.Join(order, ", ")
	}
	q += dialect.ReadLimit(desc)
	return r.run(ctx, func(tx querier) error { return readRows(ctx, tx, q, args, desc, columns, conv, fn) })
}

// convert turns the text of a value (never NULL) into what ReadRows hands
// over: a value, or slot set to other text and returned.
type convert func(raw []byte, slot *[]byte) (any, error)

func readRows(ctx context.Context, tx querier, q string, args []any, desc *dialect.Table, columns []string, conv []convert, fn func([]any) error) error {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("postgres: table %q: %w", desc.Name, err)
	}
	defer rows.Close()
	values := make([]any, len(columns))
	slots := make([][]byte, len(columns)) // text values, passed as *[]byte: no boxing per value
	for rows.Next() {
		for i, raw := range rows.RawValues() {
			if conv[i] == nil {
				slots[i], values[i] = raw, &slots[i]
				continue
			}
			if raw == nil {
				values[i] = nil
				continue
			}
			if values[i], err = conv[i](raw, &slots[i]); err != nil {
				return fmt.Errorf("postgres: table %q, column %q: %w", desc.Name, columns[i], err)
			}
		}
		if err := fn(values); err != nil {
			return err
		}
	}
	return rows.Err()
}

func byteaValue(b []byte, _ *[]byte) (any, error) {
	s := string(b)
	if !strings.HasPrefix(s, `\x`) {
		return nil, fmt.Errorf("bytea %q is not in hex format", s)
	}
	return hex.DecodeString(s[2:])
}

// utcText hands over the text of a timestamptz in the UTC session
// ("… 10:00:00.5+00") without its offset: what serialize reads as UTC.
func utcText(b []byte, slot *[]byte) (any, error) {
	for _, offset := range []string{"+00:00", "+00"} {
		if text, ok := bytes.CutSuffix(b, []byte(offset)); ok {
			*slot = text
			return slot, nil
		}
	}
	return nil, fmt.Errorf("timestamptz %q is not in UTC", b)
}

// rebind turns "?" placeholders into $1, $2, ….
func rebind(q string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func (reader) Quote(name string) string { return Quote(name) }

// The reads, their errors explained when explain is set: a wait for a
// lock that timed out a *BusyError, for the session or transaction the
// reader reads in.
func (r reader) ReadRows(ctx context.Context, desc *dialect.Table, columns, key []string, fn func([]any) error) error {
	return r.explained(r.readRows(ctx, desc, columns, key, fn))
}

func (r reader) CountRows(ctx context.Context, table string) (int64, error) {
	n, err := r.countRows(ctx, table)
	return n, r.explained(err)
}

func (r reader) Query(ctx context.Context, q string, args []any, fn func([]any) error) error {
	return r.explained(r.query(ctx, q, args, fn))
}

func (r reader) explained(err error) error {
	if err == nil || r.explain == nil {
		return err
	}
	return r.explain(err)
}

func (r reader) query(ctx context.Context, q string, args []any, fn func([]any) error) error {
	return r.each(ctx, rebind(q), args, func(rows pgx.Rows) error {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		return fn(vals)
	})
}
