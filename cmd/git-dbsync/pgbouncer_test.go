package main

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/internal/dbtest"
)

// TestPgBouncerScripts runs the scripts of testdata/script/pgbouncer on
// PostgreSQL through PgBouncer in transaction pool mode, its settings
// Debian's defaults ($DBSYNC_TEST_PGBOUNCER, which testdata/servers/start.sh
// starts): dev, prod and staging are fresh databases reached through the
// pool, $DEV_DIRECT and so on the same reached directly. It runs where the
// run covers PostgreSQL (not in make unit), and fails when the pool is
// missing.
func TestPgBouncerScripts(t *testing.T) {
	if !slices.Contains(dbtest.Engines, "postgres") {
		return
	}
	pool := dbtest.PgBouncer(t)
	standby, err := url.Parse(dbtest.Standby(t))
	if err != nil {
		t.Fatal(err)
	}
	standbyHost := standby.Host
	p := scriptParams(t, "../../testdata/script/pgbouncer", "postgres")
	setup := p.Setup
	p.Setup = func(env *testscript.Env) error {
		if err := setup(env); err != nil {
			return err
		}
		for _, name := range []string{"dev", "prod", "staging"} {
			direct := env.Getenv(config.EnvVar(name))
			env.Setenv(strings.ToUpper(name)+"_DIRECT", direct)
			env.Setenv(config.EnvVar(name), dbtest.Through(t, pool, direct))
		}
		// prod by a multi-host URL: the standby first, then the primary.
		u, err := url.Parse(env.Getenv("PROD_DIRECT"))
		if err != nil {
			return err
		}
		q := u.Query()
		q.Set("target_session_attrs", "read-write")
		u.Host, u.RawQuery = standbyHost+","+u.Host, q.Encode()
		env.Setenv("PROD_MULTIHOST", u.String())
		return nil
	}
	p.Cmds["pooled"] = cmdPooled
	testscript.Run(t, p)
}

// pooledSettings are what no git dbsync command may leave on a server
// connection of the pool: each must read as in a fresh session.
var pooledSettings = []string{"lock_timeout", "statement_timeout", "default_transaction_read_only", "transaction_read_only",
	"default_transaction_isolation", "IntervalStyle", "DateStyle", "TimeZone", "extra_float_digits", "search_path", "session_replication_role"}

// pooled ENV SQL checks every server connection the pool keeps for ENV's
// database (the backends of the database but the check's own): through the
// pool, as many application connections as there are server connections
// each open a transaction, so that together they hold every one of them;
// each must read the settings of a fresh session and run SQL (an INSERT
// of the application) before it commits.
func cmdPooled(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: pooled ENV SQL")
	}
	ctx := context.Background()
	pooled := envURL(ts, args[0])
	direct := ts.Getenv(strings.ToUpper(args[0]) + "_DIRECT")
	query := "SELECT pg_backend_pid()"
	for _, name := range pooledSettings {
		query += fmt.Sprintf(", current_setting('%s')", name)
	}
	read := func(q interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}) (int32, []string) {
		var pid int32
		vals := make([]string, len(pooledSettings))
		dst := []any{&pid}
		for i := range vals {
			dst = append(dst, &vals[i])
		}
		ts.Check(q.QueryRow(ctx, query, pgx.QueryExecModeSimpleProtocol).Scan(dst...))
		return pid, vals
	}

	admin, err := pgx.Connect(ctx, direct)
	ts.Check(err)
	defer admin.Close(ctx)
	_, fresh := read(admin)
	servers := map[int32]bool{}
	rows, err := admin.Query(ctx, `SELECT pid FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`, pgx.QueryExecModeSimpleProtocol)
	ts.Check(err)
	for rows.Next() {
		var pid int32
		ts.Check(rows.Scan(&pid))
		servers[pid] = true
	}
	ts.Check(rows.Err())
	if len(servers) == 0 {
		ts.Fatalf("the pool keeps no server connection to the database")
	}

	seen := map[int32]bool{}
	var txs []pgx.Tx
	for range servers {
		conn, err := pgx.Connect(ctx, pooled)
		ts.Check(err)
		defer conn.Close(ctx)
		tx, err := conn.Begin(ctx)
		ts.Check(err)
		txs = append(txs, tx)
		pid, vals := read(tx)
		seen[pid] = true
		for i, name := range pooledSettings {
			if vals[i] != fresh[i] {
				ts.Fatalf("server connection %d keeps %s = %q, where a fresh session has %q", pid, name, vals[i], fresh[i])
			}
		}
		if _, err := tx.Exec(ctx, args[1], pgx.QueryExecModeSimpleProtocol); err != nil {
			ts.Fatalf("server connection %d: %v", pid, err)
		}
	}
	for pid := range servers {
		if !seen[pid] {
			ts.Fatalf("server connection %d was not checked (seen %v)", pid, seen)
		}
	}
	for _, tx := range txs {
		ts.Check(tx.Commit(ctx))
	}
	fmt.Fprintf(ts.Stdout(), "server connections checked: %d, each as a fresh session; the SQL ran on each\n", len(servers))
}
