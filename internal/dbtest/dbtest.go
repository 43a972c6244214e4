// Package dbtest gives tests a fresh database of each engine — an SQLite
// file, a PostgreSQL database, a MySQL/MariaDB database — dropped when the
// test ends, and SQL fixtures written once for all three.
//
// The servers are those of $DBSYNC_TEST_POSTGRES and $DBSYNC_TEST_MYSQL
// (defaults: postgres@127.0.0.1:5432 and root@127.0.0.1:3306, as on the
// project's machines). A server that cannot be reached fails the test:
// database tests never skip.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/internal/fixture"
	"github.com/gitdbsync/git-dbsync/internal/sqltool"
)

// Engines lists the engines every dialect test runs on: all three, or
// those $DBSYNC_TEST_ENGINES lists (make unit sets "sqlite", which needs
// no server). A test asking for an engine not listed fails.
var Engines = func() []string {
	if list := os.Getenv("DBSYNC_TEST_ENGINES"); list != "" {
		return strings.Split(list, ",")
	}
	return []string{"sqlite", "postgres", "mysql"}
}()

// PostgresAdmin and MySQLAdmin return the URLs tests create databases with.
func PostgresAdmin() string {
	if u := os.Getenv("DBSYNC_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

func MySQLAdmin() string {
	if u := os.Getenv("DBSYNC_TEST_MYSQL"); u != "" {
		return u
	}
	return "mysql://root@127.0.0.1:3306/test"
}

func randomName() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "dbsync_test_" + hex.EncodeToString(b)
}

// NewDatabase creates an empty database of an engine and returns its URL;
// it is dropped when the test ends.
func NewDatabase(t testing.TB, engine string) string {
	t.Helper()
	if !slices.Contains(Engines, engine) {
		t.Fatalf("this run covers the engines %s (DBSYNC_TEST_ENGINES), not %s", strings.Join(Engines, ", "), engine)
	}
	switch engine {
	case "sqlite":
		return "sqlite:" + filepath.Join(t.TempDir(), randomName()+".db")
	case "postgres":
		name := randomName()
		admin := PostgresAdmin()
		if err := Exec(admin, "CREATE DATABASE "+name); err != nil {
			t.Fatalf("PostgreSQL at %s: %v (is the server running? .ci/run starts it)", admin, err)
		}
		t.Cleanup(func() { Exec(admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
		u, _ := url.Parse(admin)
		u.Path = "/" + name
		return u.String()
	case "mysql":
		name := randomName()
		admin := MySQLAdmin()
		if err := Exec(admin, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"); err != nil {
			t.Fatalf("MySQL/MariaDB at %s: %v (is the server running? .ci/run starts it)", admin, err)
		}
		t.Cleanup(func() { Exec(admin, "DROP DATABASE IF EXISTS "+name) })
		u, _ := url.Parse(admin)
		u.Path = "/" + name
		return u.String()
	}
	t.Fatalf("unknown engine %q", engine)
	return ""
}

// Engine returns the engine of a URL.
func Engine(u string) string {
	scheme, _, _ := strings.Cut(u, ":")
	if scheme == "postgresql" {
		return "postgres"
	}
	return scheme
}

// Exec runs a script of statements on the database of a URL.
func Exec(u, script string) error {
	ctx := context.Background()
	switch Engine(u) {
	case "sqlite":
		return sqltool.Exec(strings.TrimPrefix(u, "sqlite:"), script)
	case "postgres":
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, script, pgx.QueryExecModeSimpleProtocol)
		return err
	case "mysql":
		db, err := openMySQL(u, true)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.Exec(script)
		return err
	}
	return fmt.Errorf("unknown engine in %q", u)
}

func openMySQL(u string, multi bool) (*sql.DB, error) {
	p, err := url.Parse(u)
	if err != nil {
		return nil, err
	}
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.DBName = "tcp", p.Host, strings.TrimPrefix(p.Path, "/")
	if p.User != nil {
		cfg.User = p.User.Username()
		cfg.Passwd, _ = p.User.Password()
	}
	cfg.MultiStatements = multi
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	for k, v := range p.Query() { // session variables (wsrep_sync_wait)
		cfg.Params[k] = v[0]
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(conn), nil
}

// Query runs a query and returns its rows as tab-separated text lines,
// NULL as NULL.
func Query(u, q string) (string, error) {
	ctx := context.Background()
	var b strings.Builder
	line := func(vals []any) { b.WriteString(sqltool.FormatRow(vals)) }
	switch Engine(u) {
	case "sqlite":
		err := sqltool.Query(strings.TrimPrefix(u, "sqlite:"), q, &b)
		return b.String(), err
	case "postgres":
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			return "", err
		}
		defer conn.Close(ctx)
		rows, err := conn.Query(ctx, q, pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			return "", err
		}
		defer rows.Close()
		for rows.Next() {
			vals := make([]any, len(rows.RawValues()))
			for i, raw := range rows.RawValues() {
				if raw != nil {
					vals[i] = string(raw)
				}
			}
			line(vals)
		}
		return b.String(), rows.Err()
	case "mysql":
		db, err := openMySQL(u, false)
		if err != nil {
			return "", err
		}
		defer db.Close()
		rows, err := db.Query(q)
		if err != nil {
			return "", err
		}
		err = dialect.EachRow(rows, func(vals []any) error {
			line(vals)
			return nil
		})
		return b.String(), err
	}
	return "", fmt.Errorf("unknown engine in %q", u)
}

// Render writes a fixture for an engine (see package fixture).
func Render(sql, engine string) string { return fixture.Render(sql, engine) }

// Copy copies every table of one database into another, empty one of the
// same engine, with its rows (a production made from a development copy).
func Copy(from, to string) error {
	switch Engine(from) {
	case "sqlite":
		data, err := os.ReadFile(strings.TrimPrefix(from, "sqlite:"))
		if err != nil {
			return err
		}
		return os.WriteFile(strings.TrimPrefix(to, "sqlite:"), data, 0o644)
	case "postgres":
		src, dst := dbName(from), dbName(to)
		if err := Exec(PostgresAdmin(), "DROP DATABASE IF EXISTS "+dst+" WITH (FORCE)"); err != nil {
			return err
		}
		return Exec(PostgresAdmin(), "CREATE DATABASE "+dst+" TEMPLATE "+src)
	case "mysql":
		tables, err := Query(from, "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'")
		if err != nil {
			return err
		}
		script := "SET foreign_key_checks = 0;"
		for _, t := range strings.Fields(tables) {
			create, err := Query(from, "SHOW CREATE TABLE `"+t+"`")
			if err != nil {
				return err
			}
			_, ddl, _ := strings.Cut(strings.TrimSuffix(create, "\n"), "\t")
			script += "DROP TABLE IF EXISTS `" + t + "`; " + ddl + "; INSERT INTO `" + t + "` SELECT * FROM `" + dbName(from) + "`.`" + t + "`;"
		}
		return Exec(to, script+"SET foreign_key_checks = 1;")
	}
	return fmt.Errorf("unknown engine in %q", from)
}

func dbName(u string) string {
	p, _ := url.Parse(u)
	return strings.TrimPrefix(p.Path, "/")
}

// Dump returns every row of every table of a database, git dbsync's own
// included: each table's name, then its rows as Query prints them, sorted.
// Two dumps are equal when nothing was written.
func Dump(u string) (string, error) {
	list := map[string]string{
		"sqlite":   "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
		"postgres": "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename",
		"mysql":    "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name",
	}[Engine(u)]
	names, err := Query(u, list)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, t := range strings.Fields(names) {
		q := `"` + t + `"`
		if Engine(u) == "mysql" {
			q = "`" + t + "`"
		}
		rows, err := Query(u, "SELECT * FROM "+q)
		if err != nil {
			return "", err
		}
		lines := strings.Split(strings.TrimSuffix(rows, "\n"), "\n")
		slices.Sort(lines)
		b.WriteString("== " + t + "\n" + strings.Join(lines, "\n") + "\n")
	}
	return b.String(), nil
}

// Hold runs statements in a transaction of a session of its own and keeps
// it open, as an application holding locks would, until release is called.
func Hold(u, script string) (release func(), err error) {
	ctx := context.Background()
	switch Engine(u) {
	case "sqlite":
		db, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(u, "sqlite:")+"?_txlock=immediate")
		if err != nil {
			return nil, err
		}
		tx, err := db.BeginTx(ctx, nil)
		if err == nil {
			_, err = tx.Exec(script)
		}
		if err != nil {
			db.Close()
			return nil, err
		}
		return func() { tx.Rollback(); db.Close() }, nil
	case "postgres":
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			return nil, err
		}
		tx, err := conn.Begin(ctx)
		if err == nil {
			_, err = tx.Exec(ctx, script)
		}
		if err != nil {
			conn.Close(ctx)
			return nil, err
		}
		return func() { tx.Rollback(ctx); conn.Close(ctx) }, nil
	case "mysql":
		db, err := openMySQL(u, false)
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		tx, err := db.BeginTx(ctx, nil)
		if err == nil {
			_, err = tx.Exec(script)
		}
		if err != nil {
			db.Close()
			return nil, err
		}
		return func() { tx.Rollback(); db.Close() }, nil
	}
	return nil, fmt.Errorf("unknown engine in %q", u)
}

// ReadOnlyURL returns a URL to the database of u through which it takes no
// write, for the preflight's tests: PostgreSQL with the session's
// default_transaction_read_only on, MariaDB with tx_read_only set (MySQL 8
// would name it transaction_read_only), SQLite a copy of the file with no
// write permission (the check goes by the mode bits, which root, as tests
// often run, would write through).
func ReadOnlyURL(t testing.TB, u string) string {
	t.Helper()
	switch Engine(u) {
	case "sqlite":
		src := strings.TrimPrefix(u, "sqlite:")
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(t.TempDir(), "read-only.db")
		if err := os.WriteFile(dst, b, 0o444); err != nil {
			t.Fatal(err)
		}
		return "sqlite:" + dst
	case "postgres":
		return withParam(t, u, "default_transaction_read_only", "on")
	case "mysql":
		return withParam(t, u, "tx_read_only", "1")
	}
	t.Fatalf("unknown engine in %q", u)
	return ""
}

func withParam(t testing.TB, u, name, value string) string {
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := p.Query()
	q.Set(name, value)
	p.RawQuery = q.Encode()
	return p.String()
}

// PgBouncer returns the admin URL of a PgBouncer in transaction mode in
// front of the PostgreSQL server ($DBSYNC_TEST_PGBOUNCER, which
// testdata/servers/start.sh starts and .ci/run exports), and Standby that
// of a hot standby of it ($DBSYNC_TEST_PG_STANDBY). Unset or unreachable,
// the test fails: the tests that need them never skip.
func PgBouncer(t testing.TB) string { return server(t, "DBSYNC_TEST_PGBOUNCER", "PgBouncer") }

func Standby(t testing.TB) string {
	return server(t, "DBSYNC_TEST_PG_STANDBY", "the PostgreSQL standby")
}

func server(t testing.TB, env, what string) string {
	t.Helper()
	u := os.Getenv(env)
	if u == "" {
		t.Fatalf("$%s is not set: this test needs %s (sh testdata/servers/start.sh starts it and prints the variable; .ci/run exports it)", env, what)
	}
	if _, err := Query(u, "SELECT 1"); err != nil {
		t.Fatalf("%s at %s ($%s): %v (sh testdata/servers/start.sh starts it)", what, u, env, err)
	}
	return u
}

// Through returns the URL of the database of u reached through the server
// (a pool) of via: u's database and user, via's host and port.
func Through(t testing.TB, via, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	v, err := url.Parse(via)
	if err != nil {
		t.Fatal(err)
	}
	p.Host = v.Host
	return p.String()
}

// HoldTable holds a lock on a table of u from a second connection, as an
// application would, until release: one that lets no other session read
// it (PostgreSQL's ACCESS EXCLUSIVE, MariaDB's LOCK TABLES … WRITE, and,
// SQLite locking whole files, an exclusive transaction on the file).
func HoldTable(u, table string) (release func(), err error) {
	switch Engine(u) {
	case "sqlite":
		db, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(u, "sqlite:")+"?_txlock=exclusive")
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		tx, err := db.Begin()
		if err != nil {
			db.Close()
			return nil, err
		}
		return func() { tx.Rollback(); db.Close() }, nil
	case "postgres":
		return Hold(u, `LOCK TABLE "`+table+`" IN ACCESS EXCLUSIVE MODE`)
	case "mysql":
		return Hold(u, "LOCK TABLES `"+table+"` WRITE")
	}
	return nil, fmt.Errorf("unknown engine in %q", u)
}
