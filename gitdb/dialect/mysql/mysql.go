// Package mysql is the MySQL and MariaDB dialect, on go-sql-driver/mysql.
// URLs are mysql://user:pass@host:port/db[?params], or go-sql-driver's own
// DSN after mysql:// (mysql://user:pass@tcp(host:port)/db).
//
// Rows are read through the text protocol (exact for every type), in a
// session whose time zone is UTC; text keys are ordered by their bytes,
// whatever the column's collation.
//
// The session's own settings (time zone, sql_mode) are set when the
// connection opens and go with it at Close: it is never handed back to a
// pool. What a transaction needs beyond them (its lock waits, foreign key
// checks off) is set back when it ends, and reads after SetReadOnly run in
// a read-only transaction rather than a read-only session.
package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/serialize"
)

func init() {
	dialect.Register("mysql", Open)
	// The driver logs some failures to stderr as well as returning them
	// ("[mysql] packets.go:58 unexpected EOF" from a server that is not
	// MySQL): the error says it, once, in git dbsync's words.
	mysql.SetLogger(log.New(io.Discard, "", 0))
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

type reader struct {
	q       querier
	explain func(error) error // nil: errors as they come
}

// DB is an open MySQL or MariaDB database.
type DB struct {
	reader
	db     *sql.DB
	dbName string
	// lockWait is the lock timeout of write transactions, in seconds (0:
	// the server's).
	lockWait int64
	ro       *sql.Tx // the read-only transaction of SetReadOnly, reads run in
	galera   *galera // the database is a node of a Galera cluster (galera.go)
}

// DSN turns a mysql:// URL into go-sql-driver's DSN, with the session
// settings git dbsync needs.
func DSN(rawURL string) (*mysql.Config, error) {
	rest := strings.TrimPrefix(rawURL, "mysql://")
	var cfg *mysql.Config
	if strings.Contains(rest, "@tcp(") || strings.Contains(rest, "@unix(") || strings.HasPrefix(rest, "tcp(") {
		var err error
		if cfg, err = mysql.ParseDSN(rest); err != nil {
			return nil, err
		}
	} else {
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, err
		}
		cfg = mysql.NewConfig()
		cfg.Net, cfg.Addr, cfg.DBName = "tcp", u.Host, strings.TrimPrefix(u.Path, "/")
		if u.Port() == "" {
			cfg.Addr = u.Hostname() + ":3306"
		}
		if u.User != nil {
			cfg.User = u.User.Username()
			cfg.Passwd, _ = u.User.Password()
		}
		for k, v := range u.Query() {
			if cfg.Params == nil {
				cfg.Params = map[string]string{}
			}
			cfg.Params[k] = v[0]
		}
	}
	if cfg.DBName == "" {
		return nil, fmt.Errorf("no database named")
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	cfg.Params["sql_mode"] = "CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')" // an explicit id 0 stays 0
	cfg.Params["foreign_key_checks"] = "1"
	cfg.ParseTime = false
	cfg.ClientFoundRows = true // UPDATE reports the rows matched, not only those whose bytes changed
	cfg.InterpolateParams = true
	cfg.MultiStatements = false
	return cfg, nil
}

// Open connects to the database a URL names.
func Open(ctx context.Context, rawURL, _ string) (dialect.Dialect, error) {
	cfg, err := DSN(rawURL)
	if err != nil {
		return nil, fmt.Errorf("mysql: bad URL %s: %v", dialect.Redact(rawURL), err)
	}
	d, err := connect(ctx, cfg)
	if errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, driver.ErrBadConn) {
		// The server closed the connection before its greeting: another
		// kind of server on that port (PostgreSQL's 5432, say).
		return nil, fmt.Errorf("mysql: connecting to %s: the server there did not answer as MySQL or MariaDB does (is it the right port?)", dialect.Redact(rawURL))
	}
	if err != nil {
		return nil, fmt.Errorf("mysql: connecting to %s: %w", dialect.Redact(rawURL), dialect.RedactError(err))
	}
	g, err := d.detectGalera(ctx)
	if err == nil && g != nil {
		// A Galera node's session waits for the cluster's latest commit
		// before each read: set when the connection opens, like the
		// time zone, so that a connection made again has it too.
		d.Close()
		cfg.Params["wsrep_sync_wait"] = "1"
		if d, err = connect(ctx, cfg); err == nil {
			d.galera = g
		}
	}
	if err != nil {
		if d != nil {
			d.Close()
		}
		return nil, fmt.Errorf("mysql: %s: %w", dialect.Redact(rawURL), dialect.RedactError(err))
	}
	return d, nil
}

// connect opens the one session of a DB.
func connect(ctx context.Context, cfg *mysql.Config) (*DB, error) {
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(1) // one session: its lock, settings and transaction
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	d := &DB{db: db, dbName: cfg.DBName}
	d.reader = reader{q: db, explain: d.explainRead}
	return d, nil
}

// Close ends the read-only transaction, if any, and the connection (with
// it the session variables set when it opened).
func (d *DB) Close() error {
	if d.ro != nil {
		d.ro.Rollback()
		d.ro = nil
		d.db.ExecContext(context.Background(), "SET SESSION innodb_lock_wait_timeout = DEFAULT, SESSION lock_wait_timeout = DEFAULT")
	}
	return d.db.Close()
}

// SetLockTimeout sets how long write transactions (and reads, after SetReadOnly) wait for row locks
// (innodb_lock_wait_timeout) and table locks (lock_wait_timeout), in whole
// seconds: set when one begins, back to the server's default when it ends.
func (d *DB) SetLockTimeout(ctx context.Context, timeout time.Duration) error {
	d.lockWait = max(int64(timeout/time.Second), 1)
	return nil
}

// SetReadOnly starts a read-only transaction (START TRANSACTION READ ONLY,
// repeatable read: one snapshot) that every later read runs in until
// Close; the session's own characteristics are left as they were, but
// for its lock waits (a table another session locked, LOCK TABLES … WRITE,
// makes a read wait lock_wait_timeout), which SetLockTimeout, called
// before, bounds until Close sets them back.
func (d *DB) SetReadOnly(ctx context.Context) error {
	if d.ro != nil {
		return nil
	}
	if d.lockWait > 0 {
		if _, err := d.db.ExecContext(ctx, fmt.Sprintf("SET SESSION innodb_lock_wait_timeout = %d, SESSION lock_wait_timeout = %d", d.lockWait, d.lockWait)); err != nil {
			return fmt.Errorf("mysql: %w", err)
		}
	}
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("mysql: %w", err)
	}
	d.ro, d.reader = tx, reader{q: tx, explain: d.explainRead}
	return nil
}

func (d *DB) explainRead(err error) error {
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1205 { // ER_LOCK_WAIT_TIMEOUT
		return dialect.LockWait(time.Duration(d.lockWait)*time.Second, "")
	}
	return err
}

// ReadOnly says why the database cannot take a write: a replica's
// read_only or super_read_only (git dbsync must not write a replica, even
// as a user whose privileges would let it), or a session whose
// transactions are read-only (transaction_read_only, tx_read_only before
// MariaDB 11.1).
func (d *DB) ReadOnly(ctx context.Context) (string, error) {
	on := map[string]bool{}
	err := d.each(ctx, "SHOW VARIABLES WHERE Variable_name IN ('read_only', 'super_read_only', 'transaction_read_only', 'tx_read_only')", nil, func(v []any) error {
		on[string(v[0].([]byte))] = strings.EqualFold(string(v[1].([]byte)), "ON") || string(v[1].([]byte)) == "1"
		return nil
	})
	switch {
	case err != nil:
		return "", fmt.Errorf("mysql: %w", err)
	case on["super_read_only"]:
		return "a read-only replica (super_read_only=ON)", nil
	case on["read_only"]:
		return "a read-only replica (read_only=ON)", nil
	case on["transaction_read_only"] || on["tx_read_only"]:
		return "a read-only session (transaction_read_only=ON)", nil
	}
	return "", nil
}

// Where names the database by the server's host name and port and the
// database's name, whatever address the URL used.
func (d *DB) Where(ctx context.Context) (string, error) {
	var where string
	err := d.each(ctx, "SELECT CONCAT(@@hostname, ':', @@port, '/', DATABASE())", nil, func(v []any) error {
		where = dialect.Text(v[0])
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("mysql: %w", err)
	}
	return "mysql:" + where, nil
}

// DDLCommits: in MySQL and MariaDB, CREATE TABLE ends the transaction.
func (d *DB) DDLCommits() bool { return true }

// LongText is the type of git dbsync's own large text columns.
func (d *DB) LongText() string { return "LONGTEXT" }

// Quote quotes an identifier.
func Quote(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }

func (r reader) each(ctx context.Context, q string, args []any, fn func([]any) error) error {
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	return dialect.EachRow(rows, fn)
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
	return r.each(ctx, q, args, fn)
}

func (r reader) Tables(ctx context.Context) ([]string, error) {
	var names []string
	err := r.each(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'`, nil,
		func(v []any) error {
			names = append(names, dialect.Text(v[0]))
			return nil
		})
	slices.Sort(names) // by bytes, not by the server's collation
	return names, err
}

var jsonCheck = regexp.MustCompile("(?i)json_valid\\(`((?:[^`]|``)+)`\\)")

func (r reader) Describe(ctx context.Context, table string) (*dialect.Table, error) {
	ts, err := r.DescribeTables(ctx, []string{table})
	if err != nil {
		return nil, err
	}
	return ts[table], nil
}

// describeBatch bounds the tables one catalog query names.
const describeBatch = 500

// DescribeTables reads the catalog of several tables with four queries
// for up to describeBatch tables (an export of 200 tables made 800 round
// trips one table at a time).
func (r reader) DescribeTables(ctx context.Context, tables []string) (map[string]*dialect.Table, error) {
	out := make(map[string]*dialect.Table, len(tables))
	for len(tables) > 0 {
		n := min(len(tables), describeBatch)
		if err := r.describe(ctx, tables[:n], out); err != nil {
			return nil, err
		}
		tables = tables[n:]
	}
	return out, nil
}

func (r reader) describe(ctx context.Context, tables []string, out map[string]*dialect.Table) error {
	// information_schema compares names as the server does (without case
	// on some systems): a name it returns finds the table asked for.
	asked := map[string]*dialect.Table{}
	args := make([]any, len(tables))
	for i, name := range tables {
		t := &dialect.Table{Name: name}
		out[name], asked[name], args[i] = t, t, name
	}
	table := func(v any) *dialect.Table {
		name := dialect.Text(v)
		if t := asked[name]; t != nil {
			return t
		}
		for n, t := range asked {
			if strings.EqualFold(n, name) {
				return t
			}
		}
		return nil
	}
	in := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(tables)), ", ") + ")"
	// On an error, the table named is the first of those asked for: the
	// one a single Describe names.
	failed := func(err error) error { return fmt.Errorf("mysql: table %q: %w", tables[0], err) }
	jsonCols := map[*dialect.Table]map[string]bool{} // MariaDB's JSON is LONGTEXT with a json_valid check
	err := r.each(ctx, `SELECT table_name, check_clause FROM information_schema.check_constraints WHERE constraint_schema = DATABASE() AND table_name IN `+in,
		args, func(v []any) error {
			t := table(v[0])
			if t == nil {
				return nil
			}
			for _, m := range jsonCheck.FindAllStringSubmatch(dialect.Text(v[1]), -1) {
				if jsonCols[t] == nil {
					jsonCols[t] = map[string]bool{}
				}
				jsonCols[t][strings.ReplaceAll(m[1], "``", "`")] = true
			}
			return nil
		})
	if err != nil && !strings.Contains(err.Error(), "check_constraints") { // MySQL before 8.0.16 has no such view
		return err
	}
	err = r.each(ctx, `SELECT table_name, column_name, column_type, data_type, is_nullable, extra, COALESCE(numeric_scale, -1)
FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name IN `+in+` ORDER BY table_name, ordinal_position`, args,
		func(v []any) error {
			t := table(v[0])
			if t == nil {
				return nil
			}
			name, colType, dataType := dialect.Text(v[1]), strings.ToLower(dialect.Text(v[2])), strings.ToLower(dialect.Text(v[3]))
			typ, scale := logicalType(colType, dataType, dialect.Text(v[6]))
			if jsonCols[t][name] {
				typ, scale = serialize.JSON, -1
			}
			extra := strings.ToUpper(dialect.Text(v[5]))
			t.Columns = append(t.Columns, dialect.Column{Name: name, DeclType: colType, Type: typ, Scale: scale,
				Nullable: dialect.Text(v[4]) == "YES", Generated: strings.Contains(extra, "GENERATED") || strings.Contains(extra, "PERSISTENT") || extra == "VIRTUAL",
				Limit: limit(colType)})
			return nil
		})
	if err != nil {
		return failed(err)
	}
	for _, name := range tables {
		if len(out[name].Columns) == 0 {
			return fmt.Errorf("mysql: no table %q", name)
		}
	}
	indexes := map[*dialect.Table]map[string][]string{}
	order := map[*dialect.Table][]string{}
	err = r.each(ctx, `SELECT table_name, index_name, column_name FROM information_schema.statistics
WHERE table_schema = DATABASE() AND table_name IN `+in+` AND non_unique = 0 AND column_name IS NOT NULL ORDER BY table_name, index_name, seq_in_index`, args,
		func(v []any) error {
			t := table(v[0])
			if t == nil {
				return nil
			}
			if indexes[t] == nil {
				indexes[t] = map[string][]string{}
			}
			name := dialect.Text(v[1])
			if _, ok := indexes[t][name]; !ok {
				order[t] = append(order[t], name)
			}
			indexes[t][name] = append(indexes[t][name], dialect.Text(v[2]))
			return nil
		})
	if err != nil {
		return failed(err)
	}
	for t, names := range order {
		for _, name := range names {
			if name == "PRIMARY" {
				t.PrimaryKey = indexes[t][name]
			} else {
				t.Unique = append(t.Unique, indexes[t][name])
			}
		}
	}
	fks := map[*dialect.Table]map[string]*dialect.ForeignKey{}
	fkOrder := map[*dialect.Table][]string{}
	err = r.each(ctx, `SELECT table_name, constraint_name, column_name, referenced_table_name, referenced_column_name FROM information_schema.key_column_usage
WHERE table_schema = DATABASE() AND table_name IN `+in+` AND referenced_table_name IS NOT NULL AND referenced_table_schema = DATABASE()
ORDER BY table_name, constraint_name, ordinal_position`, args, func(v []any) error {
		t := table(v[0])
		if t == nil {
			return nil
		}
		if fks[t] == nil {
			fks[t] = map[string]*dialect.ForeignKey{}
		}
		name := dialect.Text(v[1])
		fk := fks[t][name]
		if fk == nil {
			fk = &dialect.ForeignKey{RefTable: dialect.Text(v[3])}
			fks[t][name] = fk
			fkOrder[t] = append(fkOrder[t], name)
		}
		fk.Columns = append(fk.Columns, dialect.Text(v[2]))
		fk.RefColumns = append(fk.RefColumns, dialect.Text(v[4]))
		return nil
	})
	if err != nil {
		return failed(err)
	}
	for t, names := range fkOrder {
		for _, name := range names {
			t.ForeignKeys = append(t.ForeignKeys, *fks[t][name])
		}
	}
	return nil
}

// logicalType maps a MySQL column type to a logical type.
// limit returns what a decimal(p,s) (p-s digits before the point) or a
// varchar(n) or char(n) (n characters) holds at most.
func limit(colType string) int {
	var p, s int
	switch {
	case strings.HasPrefix(colType, "decimal("), strings.HasPrefix(colType, "numeric("):
		_, after, _ := strings.Cut(colType, "(")
		fmt.Sscanf(after, "%d,%d", &p, &s)
		return max(p-s, 0)
	case strings.HasPrefix(colType, "varchar("), strings.HasPrefix(colType, "char("):
		_, after, _ := strings.Cut(colType, "(")
		fmt.Sscanf(after, "%d", &p)
		return p
	}
	return 0
}

func logicalType(colType, dataType, scale string) (serialize.Type, int) {
	switch dataType {
	case "tinyint":
		if strings.HasPrefix(colType, "tinyint(1)") {
			return serialize.Boolean, -1
		}
		return serialize.Int, -1
	case "smallint", "mediumint", "int", "integer", "bigint", "year":
		return serialize.Int, -1
	case "decimal", "numeric":
		var s int
		fmt.Sscan(scale, &s)
		return serialize.Decimal, s
	case "float", "double", "real":
		return serialize.Float, -1
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "bit":
		return serialize.Bytes, -1
	case "date":
		return serialize.Date, -1
	case "time":
		return serialize.Time, -1
	case "datetime":
		return serialize.Timestamp, -1
	case "timestamp":
		return serialize.TimestampTZ, -1 // stored in UTC, read in a UTC session
	case "json":
		return serialize.JSON, -1
	case "uuid":
		return serialize.UUID, -1
	}
	return serialize.Text, -1 // char, varchar, *text, enum, set, inet6, …
}

func (r reader) countRows(ctx context.Context, table string) (int64, error) {
	var n int64
	err := r.each(ctx, "SELECT count(*) FROM "+Quote(table), nil, func(v []any) error {
		fmt.Sscan(dialect.Text(v[0]), &n)
		return nil
	})
	return n, err
}

// readRows orders text keys by their bytes (CAST … AS BINARY): MySQL's
// usual collations are case- and accent-insensitive.
func (r reader) readRows(ctx context.Context, desc *dialect.Table, columns, key []string, fn func([]any) error) error {
	sel := make([]string, len(columns))
	asText := make([]bool, len(columns))
	for i, name := range columns {
		c := desc.Column(name)
		if c == nil {
			return fmt.Errorf("mysql: table %q has no column %q", desc.Name, name)
		}
		sel[i] = Quote(name)
		asText[i] = c.Type != serialize.Int && c.Type != serialize.Float && c.Type != serialize.Boolean
	}
	order := make([]string, len(key))
	for i, k := range key {
		order[i] = Quote(k)
		if c := desc.Column(k); c != nil && (c.Type == serialize.Text || c.Type == serialize.UUID) {
			order[i] = "CAST(" + Quote(k) + " AS BINARY)"
		}
	}
	where, args := dialect.ReadWhere(desc, key, Quote, dialect.Question)
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + Quote(desc.Name) + where
	if len(order) > 0 {
		q += " ORDER BY " + strings.Join(order, ", ")
	}
	q += dialect.ReadLimit(desc)
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	return eachRow(rows, asText, fn)
}

// eachRow calls fn with each row of a read, the values of the columns
// asText as a *[]byte into the driver's buffer, valid until fn returns
// (database/sql would copy each into an any), NULL as nil, the way
// PostgreSQL's reader passes its text; the other columns' values
// (numbers, which the driver parses) as the driver returns them.
func eachRow(rows *sql.Rows, asText []bool, fn func([]any) error) error {
	defer rows.Close()
	raw := make([]sql.RawBytes, len(asText))
	dest := make([]any, len(asText))
	values := make([]any, len(asText))
	for i, text := range asText {
		dest[i] = &values[i]
		if text {
			dest[i] = &raw[i]
		}
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		for i, text := range asText {
			if text {
				values[i] = nil
				if raw[i] != nil {
					values[i] = (*[]byte)(&raw[i])
				}
			}
		}
		if err := fn(values); err != nil {
			return err
		}
	}
	return rows.Err()
}
