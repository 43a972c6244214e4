package postgres

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/internal/dbtest"
)

// ?schema= chooses the schema: its tables are listed, and unqualified
// names (git dbsync's own tables) land in it.
func TestSchemaSelection(t *testing.T) {
	url := dbtest.NewDatabase(t, "postgres")
	if err := dbtest.Exec(url, `CREATE SCHEMA "App"; CREATE TABLE "App".settings (k TEXT PRIMARY KEY); CREATE TABLE public.other (k TEXT PRIMARY KEY);`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	d, err := Open(ctx, url+sep+"schema=App", "")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tables, err := d.Tables(ctx)
	if err != nil || !reflect.DeepEqual(tables, []string{"settings"}) {
		t.Fatalf("tables %q %v", tables, err)
	}
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Exec(ctx, "CREATE TABLE dbsync_probe (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	if out, _ := dbtest.Query(url, `SELECT table_schema FROM information_schema.tables WHERE table_name = 'dbsync_probe'`); out != "App\n" {
		t.Errorf("unqualified table went to %q", out)
	}
}

// Passwords never appear in messages.
func TestPasswordNotPrinted(t *testing.T) {
	_, err := Open(context.Background(), "postgres://postgres:s3cret@127.0.0.1:1/nodb?sslmode=disable&connect_timeout=1", "")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v", err)
	}
}
