package postgres

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/internal/dbtest"
)

// A hot standby ($DBSYNC_TEST_PG_STANDBY) is read-only to the preflight;
// a multi-host URL naming the standby first, with
// target_session_attrs=read-write, reaches the primary, which is not.
func TestStandbyIsReadOnly(t *testing.T) {
	ctx := context.Background()
	standby := dbtest.Standby(t)
	d, err := Open(ctx, standby, "")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.SetReadOnly(ctx); err != nil { // reads on a standby still work
		t.Fatal(err)
	}
	if _, err := d.Tables(ctx); err != nil {
		t.Fatal(err)
	}
	if reason, err := dialect.ReadOnly(ctx, d); err != nil || !strings.Contains(reason, "standby") {
		t.Errorf("ReadOnly() of the standby = %q, %v; want a standby", reason, err)
	}

	s, _ := url.Parse(standby)
	p, _ := url.Parse(dbtest.PostgresAdmin())
	s.Host += "," + p.Host
	q := s.Query()
	q.Set("target_session_attrs", "read-write")
	s.RawQuery = q.Encode()
	both, err := Open(ctx, s.String(), "")
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	defer both.Close()
	if reason, err := dialect.ReadOnly(ctx, both); reason != "" || err != nil {
		t.Errorf("ReadOnly() of %s = %q, %v; want the primary, writable", s, reason, err)
	}
}

// Through PgBouncer in transaction mode ($DBSYNC_TEST_PGBOUNCER): a
// ?schema= URL works (search_path is no startup parameter), a lock wait
// that reaches the lock timeout is still a *BusyError, and afterwards the
// pool's server connection has the server's lock_timeout again.
func TestThroughPgBouncer(t *testing.T) {
	ctx := context.Background()
	direct := dbtest.NewDatabase(t, "postgres")
	if err := dbtest.Exec(direct, `CREATE SCHEMA "App"; CREATE TABLE "App".settings (k TEXT PRIMARY KEY, v TEXT); INSERT INTO "App".settings VALUES ('a', 'b');`); err != nil {
		t.Fatal(err)
	}
	pooled := dbtest.Through(t, dbtest.PgBouncer(t), direct)
	sep := "?"
	if strings.Contains(pooled, "?") {
		sep = "&"
	}
	for i := 0; i < 2; i++ { // twice: nothing of the first left on the pool
		d, err := Open(ctx, pooled+sep+"schema=App", "")
		if err != nil {
			t.Fatal(err)
		}
		tables, err := d.Tables(ctx)
		if err != nil || len(tables) != 1 {
			t.Fatalf("Tables() = %q, %v", tables, err)
		}
		d.Close()
	}

	holder, err := pgx.Connect(ctx, direct)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	hold, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(ctx)
	if _, err := hold.Exec(ctx, `UPDATE "App".settings SET v = 'held'`); err != nil {
		t.Fatal(err)
	}
	d, err := Open(ctx, pooled+sep+"schema=App", "")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.SetLockTimeout(ctx, 200*time.Millisecond)
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = dialect.Explain(tx, tx.Exec(ctx, "UPDATE settings SET v = ? WHERE k = ?", "mine", "a"))
	tx.Rollback()
	var busy *dialect.BusyError
	if !errors.As(err, &busy) || !errors.Is(err, dialect.ErrLockTimeout) {
		t.Fatalf("a lock wait past the timeout: %v; want a busy error", err)
	}
	hold.Rollback(ctx)
	out, err := dbtest.Query(pooled, "SHOW lock_timeout")
	if err != nil || strings.TrimSpace(out) != "0" {
		t.Errorf("the pool's server connection keeps lock_timeout = %q, %v; want 0", out, err)
	}
}
