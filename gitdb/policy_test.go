package gitdb

import (
	"context"
	"testing"

	"github.com/gitdbsync/git-dbsync/internal/dbtest"
)

// The table policies of .dbsync, through a real apply on every engine:
// create-only only inserts, no-delete never deletes.
func TestMergePolicies(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			dev, prod := dbtest.NewDatabase(t, engine), dbtest.NewDatabase(t, engine)
			schema := "CREATE TABLE seeds (k VARCHAR(10) PRIMARY KEY, v VARCHAR(10)); CREATE TABLE flags (k VARCHAR(10) PRIMARY KEY, v VARCHAR(10));"
			rows := "INSERT INTO seeds VALUES ('a', '1'), ('b', '1'); INSERT INTO flags VALUES ('a', '1'), ('b', '1');"
			for _, u := range []string{dev, prod} {
				if err := dbtest.Exec(u, schema+rows); err != nil {
					t.Fatal(err)
				}
			}
			ws, dir := devProdRepo(t, dev, prod, "[tables]\n\tconfig = seeds flags\n[table \"seeds\"]\n\tmerge = create-only\n[table \"flags\"]\n\tmerge = no-delete\n")
			ctx := context.Background()
			release(t, ws, dir, "v1")
			if _, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v1"}}); err != nil {
				t.Fatal(err)
			}
			dbtest.Exec(dev, "UPDATE seeds SET v = '2' WHERE k = 'a'; DELETE FROM seeds WHERE k = 'b'; INSERT INTO seeds VALUES ('c', '1');"+
				"UPDATE flags SET v = '2' WHERE k = 'a'; DELETE FROM flags WHERE k = 'b'; INSERT INTO flags VALUES ('c', '1');")
			release(t, ws, dir, "v2")
			if _, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v2"}}); err != nil {
				t.Fatal(err)
			}
			for table, want := range map[string]string{
				"seeds": "a\t1\nb\t1\nc\t1\n", // create-only: c inserted; a not updated, b not deleted
				"flags": "a\t2\nb\t1\nc\t1\n", // no-delete: a updated, c inserted, b kept
			} {
				if got, err := dbtest.Query(prod, "SELECT k, v FROM "+table+" ORDER BY k"); err != nil || got != want {
					t.Errorf("%s: %q, want %q (%v)", table, got, want, err)
				}
			}
		})
	}
}
