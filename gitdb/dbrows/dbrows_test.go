package dbrows

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	_ "github.com/gitdbsync/git-dbsync/gitdb/dialect/mysql"
	_ "github.com/gitdbsync/git-dbsync/gitdb/dialect/postgres"
	_ "github.com/gitdbsync/git-dbsync/gitdb/dialect/sqlite"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/internal/dbtest"
	"github.com/gitdbsync/git-dbsync/serialize"
)

const schema = `CREATE TABLE roles (id ${AUTOID}, name VARCHAR(50) NOT NULL UNIQUE);
CREATE TABLE grants (id ${AUTOID}, role_id INTEGER NOT NULL REFERENCES roles (id), perm VARCHAR(50) NOT NULL UNIQUE);`

const dotDbsync = `[tables]
	config = roles grants
[table "roles"]
	key = name
[table "grants"]
	key = perm
`

// catalog opens a database of the engine with the schema and the rows of
// script, and reads its catalog through .dbsync.
func catalog(t *testing.T, engine, rows string) (dialect.Dialect, *Catalog, string) {
	t.Helper()
	u := dbtest.NewDatabase(t, engine)
	if err := dbtest.Exec(u, dbtest.Render(schema, engine)+"\n"+rows); err != nil {
		t.Fatal(err)
	}
	db, err := dialect.Open(context.Background(), u, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg, err := config.Parse(t.TempDir(), ".dbsync", []byte(dotDbsync))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := ReadCatalog(context.Background(), cfg, db)
	if err != nil {
		t.Fatal(err)
	}
	return db, cat, u
}

func table(t *testing.T, cat *Catalog, name string) *Table {
	t.Helper()
	for _, tb := range cat.Config {
		if tb.Meta.Name == name {
			return tb
		}
	}
	t.Fatalf("the catalog has no config table %q", name)
	return nil
}

// rows reads a table in the files' form, one line a row.
func rows(t *testing.T, tr *Translator, tb *Table) []string {
	t.Helper()
	var out []string
	src := NewSource(tb, tr, false)
	err := src.Ordered(func() error {
		out = out[:0]
		return src.Each(context.Background(), func(r serialize.Row) error {
			out = append(out, string(tb.Meta.AppendLine(nil, r)))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRoundTrip reads rows in the files' form from one database, where a
// grant refers to its role by id, and writes them into another whose ids
// differ, on every engine: the surrogate ids stay out of the files, the
// reference travels as the role's name and lands on the other database's
// id for it, and both read back the same.
func TestRoundTrip(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			src, srcCat, _ := catalog(t, engine, `INSERT INTO roles (id, name) VALUES (7, 'editor'), (9, 'admin');
INSERT INTO grants (id, role_id, perm) VALUES (1, 9, 'delete'), (2, 7, 'edit');`)
			roles, grants := table(t, srcCat, "roles"), table(t, srcCat, "grants")
			if roles.Meta.Surrogate != "id" || grants.Meta.Surrogate != "id" {
				t.Fatalf("surrogates: roles %q, grants %q; want id", roles.Meta.Surrogate, grants.Meta.Surrogate)
			}
			tr := NewTranslator(src, srcCat.Config)
			want := rows(t, tr, grants)
			if len(want) != 2 || !strings.Contains(want[0], `"admin"`) || !strings.Contains(want[1], `"editor"`) || strings.Contains(strings.Join(want, ""), `9`) {
				t.Fatalf("grants in the files' form: %q (the role by name, no ids)", want)
			}
			wantRoles := rows(t, tr, roles)

			// The other database: admin and editor exist with other ids.
			dst, dstCat, dstURL := catalog(t, engine, `INSERT INTO roles (id, name) VALUES (1, 'admin'), (2, 'editor');`)
			tx, err := dst.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var ops []merge.Op
			src2 := NewSource(grants, tr, false)
			if err := src2.Each(ctx, func(r serialize.Row) error {
				ops = append(ops, merge.Op{Kind: merge.Insert, After: CloneRow(r)})
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			w := &Writer{Tx: tx, Tr: NewTranslator(tx, dstCat.Config)}
			err = w.Write(ctx, []*merge.TablePlan{{Meta: table(t, dstCat, "roles").Meta}, {Meta: table(t, dstCat, "grants").Meta, Ops: merge.OpsOf(ops...)}})
			if err != nil {
				tx.Rollback()
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			got, err := dbtest.Query(dstURL, "SELECT perm, role_id FROM grants ORDER BY perm")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Fields(got)[1] != "1" || strings.Fields(got)[3] != "2" {
				t.Errorf("grants in the other database: %q; want delete → admin (1), edit → editor (2)", got)
			}
			dtr := NewTranslator(dst, dstCat.Config)
			if back := rows(t, dtr, table(t, dstCat, "grants")); strings.Join(back, "\n") != strings.Join(want, "\n") {
				t.Errorf("read back:\n%s\nwant:\n%s", strings.Join(back, "\n"), strings.Join(want, "\n"))
			}
			if back := rows(t, dtr, table(t, dstCat, "roles")); strings.Join(back, "\n") != strings.Join(wantRoles, "\n") {
				t.Errorf("roles read back:\n%s\nwant:\n%s", strings.Join(back, "\n"), strings.Join(wantRoles, "\n"))
			}
		})
	}
}

// A reference to a key the target does not have fails before anything is
// written, naming the table and the key.
func TestWriteRefusesAMissingReference(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			db, cat, u := catalog(t, engine, `INSERT INTO roles (id, name) VALUES (1, 'admin');`)
			grants := table(t, cat, "grants")
			row := make(serialize.Row, len(grants.Meta.Columns))
			for i, c := range grants.Meta.Columns {
				switch c.Name {
				case "role_id":
					row[i] = serialize.Cell(`"nobody"`)
				case "perm":
					row[i] = serialize.Cell(`"edit"`)
				default:
					t.Fatalf("unexpected column %q in the files' form", c.Name)
				}
			}
			tx, err := db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			w := &Writer{Tx: tx, Tr: NewTranslator(tx, cat.Config)}
			err = w.Write(ctx, []*merge.TablePlan{{Meta: table(t, cat, "roles").Meta}, {Meta: grants.Meta, Ops: merge.OpsOf(merge.Op{Kind: merge.Insert, After: row})}})
			tx.Rollback()
			var refErr *RefError
			if !errors.As(err, &refErr) || !strings.Contains(err.Error(), "nobody") {
				t.Fatalf("write of a grant to a role the target lacks: %v; want a reference error naming it", err)
			}
			if got, _ := dbtest.Query(u, "SELECT count(*) FROM grants"); strings.TrimSpace(got) != "0" {
				t.Errorf("grants written: %s", got)
			}
		})
	}
}
