package backup

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	_ "github.com/gitdbsync/git-dbsync/gitdb/dialect/mysql"
	_ "github.com/gitdbsync/git-dbsync/gitdb/dialect/postgres"
	_ "github.com/gitdbsync/git-dbsync/gitdb/dialect/sqlite"
	"github.com/gitdbsync/git-dbsync/internal/dbtest"
	"github.com/gitdbsync/git-dbsync/serialize"
)

const schema = `CREATE TABLE roles (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50) NOT NULL);
CREATE TABLE tags (name VARCHAR(50) NOT NULL);
INSERT INTO roles VALUES (1, 'admin'), (2, 'editor'), (3, 'author');
INSERT INTO tags VALUES ('a'), ('b');`

// TestTakeAndRestore takes a backup on every engine, changes the tables
// every way (a row updated, one deleted, one added; a table without a
// key), and puts the backup back: the database dumps as before, and only
// the rows that differ were written.
func TestTakeAndRestore(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			u := dbtest.NewDatabase(t, engine)
			if err := dbtest.Exec(u, schema); err != nil {
				t.Fatal(err)
			}
			before, err := dbtest.Dump(u)
			if err != nil {
				t.Fatal(err)
			}
			db, err := dialect.Open(ctx, u, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			dir := t.TempDir()
			m := &Manifest{ID: "20261207T000000.000000Z", Env: "prod", Before: "apply v2", Taken: time.Now().UTC(), LedgerSeq: 4}
			if err := Take(ctx, db, dir, m, []string{"roles", "tags"}); err != nil {
				t.Fatal(err)
			}
			if m.Rows() != 5 || len(m.Tables) != 2 {
				t.Fatalf("backup of %d tables, %d rows; want 2, 5", len(m.Tables), m.Rows())
			}
			list, err := List(dir)
			if err != nil || len(list) != 1 || list[0].ID != m.ID || list[0].LedgerSeq != 4 {
				t.Fatalf("List: %v, %v", list, err)
			}
			if n, err := MaxOf(list[0], "roles", "id"); err != nil || n != 3 {
				t.Errorf("MaxOf(roles.id) = %d, %v; want 3", n, err)
			}
			if n, err := MaxOf(list[0], "absent", "id"); err != nil || n != 0 {
				t.Errorf("MaxOf of a table the backup lacks = %d, %v; want 0", n, err)
			}

			if err := dbtest.Exec(u, `UPDATE roles SET name = 'boss' WHERE id = 1;
DELETE FROM roles WHERE id = 2;
INSERT INTO roles VALUES (9, 'guest');
DELETE FROM tags WHERE name = 'a'`); err != nil {
				t.Fatal(err)
			}
			tx, err := db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := PlanRestore(ctx, tx, list[0])
			if err != nil {
				tx.Rollback()
				t.Fatal(err)
			}
			if d := plan.Deleted()["roles"]; len(d.Keys) != 1 || string(d.Keys[0]) != "9" {
				t.Errorf("deleted keys of roles: %+v, want [9]", d)
			}
			counts, err := plan.Write(ctx, tx)
			if err != nil {
				tx.Rollback()
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if c := counts["roles"]; c != (Counts{Inserted: 1, Updated: 1, Deleted: 1}) {
				t.Errorf("roles: %+v, want 1 inserted, 1 updated, 1 deleted", c)
			}
			if c := counts["tags"]; c != (Counts{Inserted: 2, Deleted: 1}) {
				t.Errorf("tags (no key: put back whole): %+v, want 2 inserted, 1 deleted", c)
			}
			if after, _ := dbtest.Dump(u); after != before {
				t.Errorf("after the restore:\n%s\nwant:\n%s", after, before)
			}
		})
	}
}

// Prune keeps the newest backups.
func TestPrune(t *testing.T) {
	dir := t.TempDir()
	for i, id := range []string{"a", "b", "c"} {
		m := &Manifest{ID: id, Taken: time.Date(2026, 1, 1, i, 0, 0, 0, time.UTC)}
		if err := os.MkdirAll(filepath.Join(dir, id), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := writeManifest(filepath.Join(dir, id), m); err != nil {
			t.Fatal(err)
		}
	}
	// What killed runs left: a backup being taken two hours ago, one
	// being taken now (by a run beside), one whose removal stopped.
	old := filepath.Join(dir, "d.tmp")
	for _, d := range []string{old, filepath.Join(dir, "e.tmp"), filepath.Join(dir, "f")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	hours := time.Now().Add(-2 * time.Hour)
	os.Chtimes(old, hours, hours)
	if list, err := List(dir); err != nil || len(list) != 3 {
		t.Fatalf("List with leftovers: %d backups, %v; want 3", len(list), err)
	}
	left, err := Prune(dir, 2)
	if err != nil || left != 2 {
		t.Fatalf("Prune: %d leftovers removed, %v; want 2", left, err)
	}
	list, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "c" || list[1].ID != "b" {
		t.Errorf("after pruning to 2: %v", list)
	}
	if _, err := os.Stat(filepath.Join(dir, "e.tmp")); err != nil {
		t.Errorf("a backup being taken now was removed: %v", err)
	}
}

// A manifest names its columns' fields in lowercase, as every other file
// does; one written before, with Go's names (Name, Scale), still reads.
func TestManifestKeys(t *testing.T) {
	cols := []serialize.Column{{Name: "price", Type: serialize.Decimal, Nullable: true, Scale: 2}, {Name: "data", Type: serialize.JSON, Codec: "json", Secret: true, Sets: []string{"$.a"}}}
	m := &Manifest{ID: "x", Env: "prod", Tables: []Table{{Name: "items", Columns: cols, Key: []string{"price"}, Rows: 3}}}
	dir := t.TempDir()
	if err := writeManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"name": "price"`, `"scale": 2`, `"nullable": true`, `"codec": "json"`, `"secret": true`, `"sets": [`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("manifest lacks %s:\n%s", want, data)
		}
	}
	if strings.Contains(string(data), `"Name"`) || strings.Contains(string(data), `"Scale"`) {
		t.Errorf("manifest has Go's field names:\n%s", data)
	}
	old := `{"id": "y", "env": "prod", "ledger_seq": 0, "taken": "2026-11-22T10:00:00Z", "bytes": 1,
  "tables": [{"name": "items", "columns": [{"Name": "price", "Type": "decimal", "Nullable": true, "Scale": 2, "Codec": "", "Secret": false, "Sets": null}], "key": ["price"], "rows": 3}]}`
	if err := os.WriteFile(filepath.Join(dir, manifestFile), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Tables[0].Columns[0]; c.Name != "price" || c.Type != serialize.Decimal || !c.Nullable || c.Scale != 2 {
		t.Errorf("old manifest read as %+v", c)
	}
}
