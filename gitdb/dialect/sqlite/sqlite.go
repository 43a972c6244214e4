// Package sqlite is the SQLite dialect, on modernc.org/sqlite (pure Go, so
// the binary stays static). URLs are sqlite:PATH, PATH relative to the
// repository root unless absolute.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/serialize"
)

func init() { dialect.Register("sqlite", Open) }

// querier is what reads need: the database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// reader implements dialect.Reader on a database or a transaction.
type reader struct{ q querier }

// DB is an open SQLite database.
type DB struct {
	reader
	db   *sql.DB
	Path string
	busy time.Duration // busy_timeout: how long a statement waits for the file
}

// heldFile is what a statement that found the file busy waited for.
const heldFile = "the database file, which another connection holds"

// defaultBusy is the busy timeout before SetLockTimeout.
const defaultBusy = 10 * time.Second

// Open opens the SQLite database an URL names. The file must exist: a
// mistyped path must not silently become an empty database.
func Open(ctx context.Context, url, root string) (dialect.Dialect, error) {
	p := strings.TrimPrefix(url, "sqlite:")
	if rest, ok := strings.CutPrefix(p, "//"); ok {
		// sqlite://user@host/… holds what may be a secret, never a
		// file's name: refused without printing it.
		if host, _, _ := strings.Cut(rest, "/"); strings.Contains(host, "@") {
			return nil, fmt.Errorf("sqlite URL %s names a user: a SQLite file has none (sqlite:PATH or sqlite:///ABSOLUTE/PATH)", dialect.Redact(url))
		}
		p = rest
	}
	if p == "" {
		return nil, fmt.Errorf("sqlite URL %q names no file", url)
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(root, filepath.FromSlash(p))
	}
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("sqlite database %s does not exist", p)
	}
	return OpenFile(p)
}

// OpenFile opens (or creates) an SQLite database file.
func OpenFile(p string) (*DB, error) {
	// Transactions begin IMMEDIATE: they take the write lock at once, so
	// rows read in an apply cannot change before they are written.
	dsn := "file:" + p + fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_txlock=immediate", defaultBusy.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // one connection: transactions and pragmas stay on it
	// Open the connection with a pragma, not Ping: Ping reads the schema,
	// which waits the DSN's busy_timeout for a file another connection
	// holds, before SetLockTimeout could bound the wait.
	if _, err := db.Exec(fmt.Sprintf("PRAGMA busy_timeout = %d", defaultBusy.Milliseconds())); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite %s: %w", p, err)
	}
	return &DB{reader: reader{q: db}, db: db, Path: p, busy: defaultBusy}, nil
}

// SQL returns the underlying database handle.
func (d *DB) SQL() *sql.DB { return d.db }

func (d *DB) Close() error { return d.db.Close() }

// SetLockTimeout sets how long a statement waits for another connection's
// lock on the file (busy_timeout).
func (d *DB) SetLockTimeout(ctx context.Context, timeout time.Duration) error {
	ms := max(timeout.Milliseconds(), 1)
	if _, err := d.db.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", ms)); err != nil {
		return err
	}
	d.busy = time.Duration(ms) * time.Millisecond
	return nil
}

// ReadRows is the reader's, a file another connection held for the whole
// busy timeout a *BusyError.
func (d *DB) ReadRows(ctx context.Context, desc *dialect.Table, columns, key []string, fn func([]any) error) error {
	return d.explainRead(ctx, d.reader.ReadRows(ctx, desc, columns, key, fn))
}

// CountRows is the reader's, a busy file explained as ReadRows's.
func (d *DB) CountRows(ctx context.Context, table string) (int64, error) {
	n, err := d.reader.CountRows(ctx, table)
	return n, d.explainRead(ctx, err)
}

// Query is the reader's, a busy file explained as ReadRows's.
func (d *DB) Query(ctx context.Context, q string, args []any, fn func([]any) error) error {
	return d.explainRead(ctx, d.reader.Query(ctx, q, args, fn))
}

// Describe is the reader's (it reads the schema, which a writer's
// exclusive lock holds too), a busy file explained as ReadRows's.
func (d *DB) Describe(ctx context.Context, table string) (*dialect.Table, error) {
	t, err := d.reader.Describe(ctx, table)
	return t, d.explainRead(ctx, err)
}

// DescribeTables is the reader's, a busy file explained as ReadRows's.
func (d *DB) DescribeTables(ctx context.Context, tables []string) (map[string]*dialect.Table, error) {
	t, err := d.reader.DescribeTables(ctx, tables)
	return t, d.explainRead(ctx, err)
}

// Tables is the reader's, a busy file explained as ReadRows's.
func (d *DB) Tables(ctx context.Context) ([]string, error) {
	t, err := d.reader.Tables(ctx)
	return t, d.explainRead(ctx, err)
}

func (d *DB) explainRead(ctx context.Context, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY {
		return dialect.LockWait(d.busy, heldFile)
	}
	return err
}

// SetReadOnly makes the one connection refuse writes (query_only). The
// connection is this process's own, never pooled, and ends with Close; a
// read transaction would take the write lock (transactions begin
// IMMEDIATE) and keep the application waiting.
func (d *DB) SetReadOnly(ctx context.Context) error {
	_, err := d.db.ExecContext(ctx, "PRAGMA query_only = 1")
	return err
}

// ReadOnly says why the file cannot take a write. Mode bits first: root
// (as tests and many containers run) writes whatever they say, so a file,
// or a directory (where the journal goes), without any write bit is taken
// as read-only on purpose for every user. Then whether this process may
// open the file for writing (another user's permissions, a read-only
// file system) and create a file beside it. (query_only is only ever
// SetReadOnly's, which is no reason.)
// Where names the database file by what it is (its device and inode
// where the system has them), so that two paths to one file are one
// database.
func (d *DB) Where(context.Context) (string, error) {
	fi, err := os.Stat(d.Path)
	if err != nil {
		return "", fmt.Errorf("sqlite: %w", err)
	}
	if id := fileID(fi); id != "" {
		return "sqlite:" + id, nil
	}
	p, err := filepath.EvalSymlinks(d.Path)
	if err != nil {
		return "", fmt.Errorf("sqlite: %w", err)
	}
	abs, err := filepath.Abs(p)
	return "sqlite:" + abs, err
}

func (d *DB) ReadOnly(context.Context) (string, error) {
	dir := filepath.Dir(d.Path)
	fi, err := os.Stat(d.Path)
	if err != nil {
		return "", fmt.Errorf("sqlite: %w", err)
	}
	di, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("sqlite: %w", err)
	}
	const file, folder = "a read-only file (no write permission)", "a file in a read-only directory (no room for its journal)"
	switch {
	case fi.Mode().Perm()&0o222 == 0:
		return file, nil
	case di.Mode().Perm()&0o222 == 0:
		return folder, nil
	}
	f, err := os.OpenFile(d.Path, os.O_WRONLY, 0)
	if err != nil {
		return file, nil
	}
	f.Close()
	probe, err := os.CreateTemp(dir, ".git-dbsync-probe-*")
	if err != nil {
		return folder, nil
	}
	probe.Close()
	os.Remove(probe.Name())
	return "", nil
}

// Quote quotes an identifier.
func Quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func (d reader) Tables(ctx context.Context) ([]string, error) {
	rows, err := d.q.QueryContext(ctx,
		`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

func (d reader) Describe(ctx context.Context, table string) (*dialect.Table, error) {
	ts, err := d.DescribeTables(ctx, []string{table})
	if err != nil {
		return nil, err
	}
	return ts[table], nil
}

// DescribeTables reads the catalog of several tables with four queries,
// the table-valued pragmas joined to the list of names: one table at a
// time, the queries cost 0.1 s for 200 tables.
func (d reader) DescribeTables(ctx context.Context, tables []string) (map[string]*dialect.Table, error) {
	names, err := json.Marshal(tables)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*dialect.Table, len(tables))
	for _, name := range tables {
		out[name] = &dialect.Table{Name: name}
	}
	// On an error, the table named is the first of those asked for: the
	// one a single Describe names.
	failed := func(err error) error { return fmt.Errorf("sqlite: table %q: %w", tables[0], err) }
	type pk struct {
		name string
		seq  int
	}
	pks := map[*dialect.Table][]pk{}
	err = d.query(ctx, `SELECT t.value, x.name, x.type, x."notnull", x.pk, x.hidden FROM json_each(?) t, pragma_table_xinfo(t.value) x ORDER BY t.key, x.cid`, []any{string(names)},
		func(r *sql.Rows) error {
			var table, name, decl string
			var notNull, pkSeq, hidden int
			if err := r.Scan(&table, &name, &decl, &notNull, &pkSeq, &hidden); err != nil {
				return err
			}
			t := out[table]
			typ, scale := LogicalType(decl)
			t.Columns = append(t.Columns, dialect.Column{
				Name: name, DeclType: decl, Type: typ, Scale: scale,
				Nullable: notNull == 0 && pkSeq == 0, Generated: hidden == 2 || hidden == 3,
			})
			if pkSeq > 0 {
				pks[t] = append(pks[t], pk{name, pkSeq})
			}
			return nil
		})
	if err != nil {
		return nil, failed(err)
	}
	for _, name := range tables {
		t := out[name]
		if len(t.Columns) == 0 {
			return nil, fmt.Errorf("sqlite: no table %q", name)
		}
		for seq := 1; seq <= len(pks[t]); seq++ {
			for _, p := range pks[t] {
				if p.seq == seq {
					t.PrimaryKey = append(t.PrimaryKey, p.name)
				}
			}
		}
	}
	// Unique indexes, but those on an expression (a column without a name).
	type index struct {
		t    *dialect.Table
		name string
		cols []string
		expr bool
	}
	var indexes []*index
	err = d.query(ctx, `SELECT t.value, l.name, i.name FROM json_each(?) t, pragma_index_list(t.value) l, pragma_index_info(l.name) i
WHERE l."unique" = 1 AND l.partial = 0 AND l.origin != 'pk' ORDER BY t.key, l.name, i.seqno`, []any{string(names)},
		func(r *sql.Rows) error {
			var table, name string
			var col sql.NullString // NULL for an expression
			if err := r.Scan(&table, &name, &col); err != nil {
				return err
			}
			t := out[table]
			if n := len(indexes); n == 0 || indexes[n-1].t != t || indexes[n-1].name != name {
				indexes = append(indexes, &index{t: t, name: name})
			}
			idx := indexes[len(indexes)-1]
			idx.cols, idx.expr = append(idx.cols, col.String), idx.expr || !col.Valid
			return nil
		})
	if err != nil {
		return nil, failed(err)
	}
	for _, idx := range indexes {
		if !idx.expr {
			idx.t.Unique = append(idx.t.Unique, idx.cols)
		}
	}
	type fkey struct {
		t  *dialect.Table
		id int
		fk dialect.ForeignKey
	}
	var fks []*fkey
	err = d.query(ctx, `SELECT t.value, f.id, f."table", f."from", f."to" FROM json_each(?) t, pragma_foreign_key_list(t.value) f ORDER BY t.key, f.id, f.seq`, []any{string(names)},
		func(r *sql.Rows) error {
			var table, ref, from string
			var id int
			var to sql.NullString // NULL: the parent's primary key
			if err := r.Scan(&table, &id, &ref, &from, &to); err != nil {
				return err
			}
			t := out[table]
			if n := len(fks); n == 0 || fks[n-1].t != t || fks[n-1].id != id {
				fks = append(fks, &fkey{t: t, id: id, fk: dialect.ForeignKey{RefTable: ref}})
			}
			fk := &fks[len(fks)-1].fk
			fk.Columns = append(fk.Columns, from)
			fk.RefColumns = append(fk.RefColumns, to.String)
			return nil
		})
	if err != nil {
		return nil, failed(err)
	}
	for _, k := range fks {
		if k.fk.RefColumns[0] == "" { // implicit: the parent's primary key
			parent := out[k.fk.RefTable]
			if parent == nil {
				if parent, err = d.Describe(ctx, k.fk.RefTable); err != nil {
					return nil, err
				}
			}
			k.fk.RefColumns = parent.PrimaryKey
		}
		k.t.ForeignKeys = append(k.t.ForeignKeys, k.fk)
	}
	return out, nil
}

func (d reader) query(ctx context.Context, q string, args []any, fn func(*sql.Rows) error) error {
	rows, err := d.q.QueryContext(ctx, q, args...)
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

func (d reader) CountRows(ctx context.Context, table string) (int64, error) {
	var n int64
	err := d.q.QueryRowContext(ctx, "SELECT count(*) FROM "+Quote(table)).Scan(&n)
	return n, err
}

// ReadRows selects date and time columns as +col, an expression with no
// declared type, so that the driver hands over the stored text or number
// instead of its own time.Time conversion; serialize then normalizes it.
func (d reader) ReadRows(ctx context.Context, desc *dialect.Table, columns, key []string, fn func([]any) error) error {
	table := desc.Name
	sel := make([]string, len(columns))
	for i, c := range columns {
		col := desc.Column(c)
		if col == nil {
			return fmt.Errorf("sqlite: table %q has no column %q", table, c)
		}
		sel[i] = Quote(c)
		switch col.Type {
		case serialize.Date, serialize.Time, serialize.Timestamp, serialize.TimestampTZ:
			sel[i] = "+" + sel[i]
		}
	}
	order := make([]string, len(key))
	for i, k := range key {
		order[i] = Quote(k) + " COLLATE BINARY"
	}
	where, args := dialect.ReadWhere(desc, key, Quote, dialect.Question)
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + Quote(table) + where
	if len(order) > 0 {
		q += " ORDER BY " + strings.Join(order, ", ")
	}
	q += dialect.ReadLimit(desc)
	rows, err := d.q.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("sqlite: table %q: %w", table, err)
	}
	return dialect.EachRow(rows, fn)
}

var typeArgs = regexp.MustCompile(`\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)`)

// LogicalType maps a declared SQLite column type to a logical type, by
// name first and then by SQLite's own affinity rules
// (https://www.sqlite.org/datatype3.html §3.1).
func LogicalType(decl string) (serialize.Type, int) {
	d := strings.ToUpper(strings.TrimSpace(decl))
	base := strings.TrimSpace(typeArgs.ReplaceAllString(d, ""))
	has := func(s string) bool { return strings.Contains(d, s) }
	switch {
	case base == "JSON" || base == "JSONB":
		return serialize.JSON, -1
	case base == "UUID":
		return serialize.UUID, -1
	case base == "BOOL" || base == "BOOLEAN":
		return serialize.Boolean, -1
	case base == "DATE":
		return serialize.Date, -1
	case base == "TIME":
		return serialize.Time, -1
	case base == "DATETIME" || base == "TIMESTAMP" || base == "TIMESTAMP WITHOUT TIME ZONE":
		return serialize.Timestamp, -1
	case base == "TIMESTAMPTZ" || base == "TIMESTAMP WITH TIME ZONE":
		return serialize.TimestampTZ, -1
	case has("INT"):
		return serialize.Int, -1
	case has("CHAR") || has("CLOB") || has("TEXT") || d == "":
		return serialize.Text, -1
	case has("BLOB") || has("BINARY") || base == "BYTEA":
		return serialize.Bytes, -1
	case has("REAL") || has("FLOA") || has("DOUB"):
		return serialize.Float, -1
	}
	if m := typeArgs.FindStringSubmatch(d); m != nil && m[2] != "" {
		s, _ := strconv.Atoi(m[2])
		return serialize.Decimal, s
	} else if m != nil && (base == "DECIMAL" || base == "NUMERIC") {
		return serialize.Decimal, 0
	}
	return serialize.Decimal, -1
}
