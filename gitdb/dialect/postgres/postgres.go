// Package postgres is the PostgreSQL dialect, on pgx v5 used directly
// (DESIGN.md measured pgx through database/sql 1.7× slower). URLs are
// libpq's: postgres://user:pass@host:port/db?sslmode=disable (or
// postgresql://), with ?schema=NAME to choose the schema (default: the
// connection's current schema).
//
// Rows are read in the text format, which PostgreSQL prints exactly
// (numerics, shortest-exact floats); the session runs in UTC with ISO
// dates so that timestamps come out in one form.
package postgres

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
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

// querier is what reads need: the connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

type reader struct {
	q      querier
	schema string
}

// DB is an open PostgreSQL database.
type DB struct {
	reader
	conn *pgx.Conn
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
	for k, v := range map[string]string{"timezone": "UTC", "datestyle": "ISO, YMD", "intervalstyle": "iso_8601", "extra_float_digits": "1",
		"application_name": "git-dbsync"} {
		cfg.RuntimeParams[k] = v
	}
	if schema != "" {
		// Unqualified names (git dbsync's own tables) land in the schema too.
		cfg.RuntimeParams["search_path"] = Quote(schema)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connecting to %s: %w", dialect.Redact(rawURL), err)
	}
	if schema == "" {
		if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			conn.Close(ctx)
			return nil, err
		}
	}
	return &DB{reader: reader{q: conn, schema: schema}, conn: conn}, nil
}

func (d *DB) Close() error { return d.conn.Close(context.Background()) }

// SetLockTimeout sets lock_timeout for the session.
func (d *DB) SetLockTimeout(ctx context.Context, timeout time.Duration) error {
	_, err := d.conn.Exec(ctx, fmt.Sprintf("SET lock_timeout = %d", max(timeout.Milliseconds(), 1)))
	return err
}

// SetReadOnly makes every later transaction of the session, and each
// statement outside one, read-only.
func (d *DB) SetReadOnly(ctx context.Context) error {
	_, err := d.conn.Exec(ctx, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
	return err
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
	rows, err := r.q.Query(ctx, sql, args...)
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

func (r reader) Describe(ctx context.Context, table string) (*dialect.Table, error) {
	var oid uint32
	err := r.q.(interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}).QueryRow(ctx, `SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`, r.schema, table).Scan(&oid)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: no table %q in schema %q", table, r.schema)
	}
	if err != nil {
		return nil, err
	}
	t := &dialect.Table{Name: table}
	err = r.each(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), b.typname, b.typtype, b.typcategory, a.atttypmod,
  a.attnotnull, a.attgenerated <> ''
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, []any{oid}, func(row pgx.Rows) error {
		var name string
		var pt pgType
		var typmod int32
		var notNull, generated bool
		if err := row.Scan(&name, &pt.format, &pt.name, &pt.kind, &pt.category, &typmod, &notNull, &generated); err != nil {
			return err
		}
		pt.typmod = int(typmod)
		typ, scale := logicalType(pt)
		// GENERATED ALWAYS AS IDENTITY columns are written with OVERRIDING
		// SYSTEM VALUE; only computed columns are never written.
		t.Columns = append(t.Columns, dialect.Column{Name: name, DeclType: pt.format, Type: typ, Scale: scale,
			Nullable: !notNull, Generated: generated, Limit: limit(pt)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: table %q: %w", table, err)
	}
	err = r.each(ctx, `SELECT con.contype::text,
  ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord) JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord),
  COALESCE(ref.relname, ''),
  ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, ord) JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord)
FROM pg_constraint con LEFT JOIN pg_class ref ON ref.oid = con.confrelid
WHERE con.conrelid = $1 AND con.contype IN ('p', 'u', 'f') ORDER BY con.conname COLLATE "C"`, []any{oid}, func(row pgx.Rows) error {
		var kind, ref string
		var cols, refCols []string
		if err := row.Scan(&kind, &cols, &ref, &refCols); err != nil {
			return err
		}
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
		return nil, fmt.Errorf("postgres: table %q: %w", table, err)
	}
	// Unique indexes that are not constraints (and not partial or on
	// expressions) identify rows too.
	err = r.each(ctx, `SELECT ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num ORDER BY k.ord)
FROM pg_index i WHERE i.indrelid = $1 AND i.indisunique AND NOT i.indisprimary AND i.indpred IS NULL AND i.indexprs IS NULL
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY i.indexrelid`, []any{oid}, func(row pgx.Rows) error {
		var cols []string
		if err := row.Scan(&cols); err != nil {
			return err
		}
		t.Unique = append(t.Unique, cols)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: table %q: %w", table, err)
	}
	return t, nil
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

func (r reader) CountRows(ctx context.Context, table string) (int64, error) {
	var n int64
	err := r.each(ctx, "SELECT count(*) FROM "+r.qualified(table), nil, func(row pgx.Rows) error { return row.Scan(&n) })
	return n, err
}

// ReadRows reads with results in text: exact, and read without conversion
// but for bytea (hex), timestamptz (the UTC offset) and arrays (selected as
// JSON). The extended protocol runs one statement whatever a row scope's
// predicate holds (the simple protocol would run several).
func (r reader) ReadRows(ctx context.Context, desc *dialect.Table, columns, key []string, fn func([]any) error) error {
	sel := make([]string, len(columns))
	conv := make([]func([]byte) (any, error), len(columns))
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
			conv[i] = timestamptzValue
		}
	}
	order := make([]string, len(key))
	for i, k := range key {
		order[i] = Quote(k)
		if c := desc.Column(k); c != nil && (c.Type == serialize.Text || c.Type == serialize.UUID) {
			order[i] += ` COLLATE "C"`
		}
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + r.qualified(desc.Name) + dialect.Where(desc)
	if len(order) > 0 {
		q += " ORDER BY " + strings.Join(order, ", ")
	}
	rows, err := r.q.Query(ctx, q, pgx.QueryExecModeExec)
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
			if values[i], err = conv[i](raw); err != nil {
				return fmt.Errorf("postgres: table %q, column %q: %w", desc.Name, columns[i], err)
			}
		}
		if err := fn(values); err != nil {
			return err
		}
	}
	return rows.Err()
}

func byteaValue(b []byte) (any, error) {
	s := string(b)
	if !strings.HasPrefix(s, `\x`) {
		return nil, fmt.Errorf("bytea %q is not in hex format", s)
	}
	return hex.DecodeString(s[2:])
}

// timestampUTC is a timestamptz in the UTC session: "… 10:00:00.5+00".
var timestampUTC = regexp.MustCompile(`\+00(:00)?$`)

func timestamptzValue(b []byte) (any, error) {
	if !timestampUTC.Match(b) {
		return nil, fmt.Errorf("timestamptz %q is not in UTC", b)
	}
	return timestampUTC.ReplaceAllString(string(b), ""), nil
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

func (r reader) Query(ctx context.Context, q string, args []any, fn func([]any) error) error {
	return r.each(ctx, rebind(q), args, func(rows pgx.Rows) error {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		return fn(vals)
	})
}
