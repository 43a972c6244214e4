package gitdb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/internal/dbtest"
	"github.com/gitdbsync/git-dbsync/internal/gittest"
)

const refsSchema = `
CREATE TABLE grps (id ${AUTOID}, name VARCHAR(20) NOT NULL UNIQUE);
CREATE TABLE items (
  id ${AUTOID},
  name VARCHAR(20) NOT NULL UNIQUE,
  parent_id INTEGER,
  grp_id INTEGER,
  FOREIGN KEY (parent_id) REFERENCES items (id),
  FOREIGN KEY (grp_id) REFERENCES grps (id)
);
CREATE TABLE item_grps (
  id ${AUTOID},
  item_id INTEGER NOT NULL,
  grp_id INTEGER NOT NULL,
  UNIQUE (item_id, grp_id),
  FOREIGN KEY (item_id) REFERENCES items (id),
  FOREIGN KEY (grp_id) REFERENCES grps (id)
);
`

const refsConfig = `[tables]
	config = grps items item_grps
[table "grps"]
	key = name
[table "items"]
	key = name
[table "item_grps"]
	key = item_id grp_id
`

// world is a random set of groups and items (a forest of parents, a group
// each, extra group memberships), inserted in a random order after a
// random number of discarded rows, so that ids differ between databases.
type world struct {
	groups  []string
	items   []string
	parent  map[string]string
	group   map[string]string
	members [][2]string
}

func randomWorld(r *rand.Rand) *world {
	w := &world{parent: map[string]string{}, group: map[string]string{}}
	for i := 0; i < 8; i++ {
		if r.IntN(3) > 0 {
			w.groups = append(w.groups, fmt.Sprintf("g%d", i))
		}
	}
	for i := 0; i < 12; i++ {
		if r.IntN(3) > 0 {
			w.items = append(w.items, fmt.Sprintf("i%d", i))
		}
	}
	r.Shuffle(len(w.groups), func(i, j int) { w.groups[i], w.groups[j] = w.groups[j], w.groups[i] })
	r.Shuffle(len(w.items), func(i, j int) { w.items[i], w.items[j] = w.items[j], w.items[i] })
	for i, it := range w.items {
		if i > 0 && r.IntN(3) > 0 {
			w.parent[it] = w.items[r.IntN(i)] // an earlier item: no cycles
		}
		if len(w.groups) > 0 && r.IntN(4) > 0 {
			w.group[it] = w.groups[r.IntN(len(w.groups))]
		}
		for _, g := range w.groups {
			if r.IntN(4) == 0 {
				w.members = append(w.members, [2]string{it, g})
			}
		}
	}
	return w
}

// sql writes the world into an empty database of the schema.
func (w *world) sql(r *rand.Rand) string {
	var b strings.Builder
	q := func(s string) string { return "'" + s + "'" }
	for i, n := 0, r.IntN(4); i < n; i++ { // burn ids
		fmt.Fprintf(&b, "INSERT INTO grps (name) VALUES ('x%d'); DELETE FROM grps WHERE name = 'x%d';\n", i, i)
		fmt.Fprintf(&b, "INSERT INTO items (name) VALUES ('x%d'); DELETE FROM items WHERE name = 'x%d';\n", i, i)
	}
	for _, g := range w.groups {
		fmt.Fprintf(&b, "INSERT INTO grps (name) VALUES (%s);\n", q(g))
	}
	for _, it := range w.items {
		parent, grp := "NULL", "NULL"
		if p, ok := w.parent[it]; ok {
			parent = "(SELECT id FROM (SELECT id FROM items WHERE name = " + q(p) + ") x)"
		}
		if g, ok := w.group[it]; ok {
			grp = "(SELECT id FROM grps WHERE name = " + q(g) + ")"
		}
		fmt.Fprintf(&b, "INSERT INTO items (name, parent_id, grp_id) VALUES (%s, %s, %s);\n", q(it), parent, grp)
	}
	for _, m := range w.members {
		fmt.Fprintf(&b, "INSERT INTO item_grps (item_id, grp_id) SELECT i.id, g.id FROM items i, grps g WHERE i.name = %s AND g.name = %s;\n", q(m[0]), q(m[1]))
	}
	return b.String()
}

// facts lists what the rows mean, by name: each item's parent and group,
// and each membership.
func facts(t *testing.T, u string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, q := range []string{
		"SELECT 'item', i.name, COALESCE(p.name, '-'), COALESCE(g.name, '-') FROM items i LEFT JOIN items p ON p.id = i.parent_id LEFT JOIN grps g ON g.id = i.grp_id",
		"SELECT 'member', i.name, g.name, '+' FROM item_grps x JOIN items i ON i.id = x.item_id JOIN grps g ON g.id = x.grp_id",
	} {
		rows, err := dbtest.Query(u, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(rows), "\n") {
			if line != "" {
				out[line] = true
			}
		}
	}
	return out
}

// TestReferenceTranslationProperty: whatever ids two databases gave their
// rows, applying one's export to the other leaves every reference of the
// exported rows pointing at the row of the same natural key, and the
// target's own rows as they were.
func TestReferenceTranslationProperty(t *testing.T) {
	seeds := map[string]int{"sqlite": 20, "postgres": 5, "mysql": 5}
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			for seed := 0; seed < seeds[engine]; seed++ {
				r := rand.New(rand.NewPCG(uint64(seed), 7))
				dev, prod := dbtest.NewDatabase(t, engine), dbtest.NewDatabase(t, engine)
				devWorld, prodWorld := randomWorld(r), randomWorld(r)
				for u, w := range map[string]*world{dev: devWorld, prod: prodWorld} {
					if err := dbtest.Exec(u, dbtest.Render(refsSchema+w.sql(r), engine)); err != nil {
						t.Fatalf("seed %d: %v", seed, err)
					}
				}
				before := facts(t, prod)
				ws, dir := devProdRepo(t, dev, prod, refsConfig)
				ctx := context.Background()
				release(t, ws, dir, "v1")
				if _, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v1"}}); err != nil {
					t.Fatalf("seed %d: apply: %v", seed, err)
				}
				want := facts(t, dev)
				got := facts(t, prod)
				devItems := map[string]bool{}
				for _, it := range devWorld.items {
					devItems[it] = true
				}
				for f := range want {
					if !got[f] {
						t.Errorf("seed %d: the target lacks %q", seed, f)
					}
				}
				// The target's own items keep their parent and group, unless
				// the revision (which wins on a first apply) has the item.
				for f := range before {
					fields := strings.Split(f, "\t")
					if fields[0] == "item" && !devItems[fields[1]] && !got[f] {
						t.Errorf("seed %d: the target's own %q changed", seed, f)
					}
				}
				if t.Failed() {
					t.Logf("dev:\n%s\nprod:\n%s", strings.Join(slices.Sorted(maps.Keys(want)), "\n"), strings.Join(slices.Sorted(maps.Keys(got)), "\n"))
					return
				}
				// v2: items move, change group, lose and gain memberships; new
				// items arrive. With v1 as the base, the target follows.
				if err := dbtest.Exec(dev, dbtest.Render(devWorld.mutate(r), engine)); err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				release(t, ws, dir, "v2")
				if _, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v2"}}); err != nil {
					t.Fatalf("seed %d: apply v2: %v", seed, err)
				}
				v1 := want
				want, got = facts(t, dev), facts(t, prod)
				for f := range want {
					if !got[f] {
						t.Errorf("seed %d: after v2 the target lacks %q", seed, f)
					}
				}
				for f := range v1 { // what v2 changed or removed is gone, unless the target had it itself
					if !want[f] && !before[f] && got[f] {
						t.Errorf("seed %d: after v2 the target still has %q", seed, f)
					}
				}
			}
		})
	}
}

// mutate changes the world's rows in place and returns the SQL that does
// it: parents and groups reassigned (still a forest), memberships removed
// and added, new items.
func (w *world) mutate(r *rand.Rand) string {
	var b strings.Builder
	q := func(s string) string { return "'" + s + "'" }
	for i, it := range w.items {
		switch r.IntN(3) {
		case 0:
			if i > 0 {
				p := w.items[r.IntN(i)]
				fmt.Fprintf(&b, "UPDATE items SET parent_id = (SELECT id FROM (SELECT id FROM items WHERE name = %s) x) WHERE name = %s;\n", q(p), q(it))
			} else {
				fmt.Fprintf(&b, "UPDATE items SET parent_id = NULL WHERE name = %s;\n", q(it))
			}
		case 1:
			if len(w.groups) > 0 {
				g := w.groups[r.IntN(len(w.groups))]
				fmt.Fprintf(&b, "UPDATE items SET grp_id = (SELECT id FROM grps WHERE name = %s) WHERE name = %s;\n", q(g), q(it))
			}
		}
	}
	for _, m := range w.members {
		if r.IntN(3) == 0 {
			fmt.Fprintf(&b, "DELETE FROM item_grps WHERE item_id = (SELECT id FROM items WHERE name = %s) AND grp_id = (SELECT id FROM grps WHERE name = %s);\n", q(m[0]), q(m[1]))
		}
	}
	for i := 0; i < 3 && len(w.items) > 0; i++ {
		name := fmt.Sprintf("n%d", i)
		p := w.items[r.IntN(len(w.items))]
		fmt.Fprintf(&b, "INSERT INTO items (name, parent_id) VALUES (%s, (SELECT id FROM (SELECT id FROM items WHERE name = %s) x));\n", q(name), q(p))
		for _, g := range w.groups {
			if r.IntN(3) == 0 {
				fmt.Fprintf(&b, "INSERT INTO item_grps (item_id, grp_id) SELECT i.id, g.id FROM items i, grps g WHERE i.name = %s AND g.name = %s;\n", q(name), q(g))
			}
		}
	}
	return b.String()
}

// Ids inside values are written back as the target holds them: JSON
// strings where its rows have strings, numbers otherwise.
func TestIDsInsideValuesKeepTheTargetsKind(t *testing.T) {
	dev, prod := dbtest.NewDatabase(t, "sqlite"), dbtest.NewDatabase(t, "sqlite")
	schema := "CREATE TABLE grps (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE); CREATE TABLE boards (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, settings TEXT NOT NULL);"
	if err := dbtest.Exec(dev, schema+`INSERT INTO grps VALUES (1, 'a'), (2, 'b'); INSERT INTO boards VALUES (1, 'x', '{"g":[1,2]}');`); err != nil {
		t.Fatal(err)
	}
	if err := dbtest.Exec(prod, schema+`INSERT INTO grps VALUES (7, 'b'), (8, 'a'); INSERT INTO boards VALUES (5, 'own', '{"g":["7"]}');`); err != nil {
		t.Fatal(err)
	}
	ws, dir := devProdRepo(t, dev, prod, "[tables]\n\tconfig = grps boards\n[table \"grps\"]\n\tkey = name\n"+
		"[table \"boards\"]\n\tkey = name\n\tcodec = settings:json\n\treference = \"settings.g.# grps\"\n")
	ctx := context.Background()
	release(t, ws, dir, "v1")
	if _, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v1"}}); err != nil {
		t.Fatal(err)
	}
	got, err := dbtest.Query(prod, "SELECT settings FROM boards WHERE name = 'x'")
	if err != nil || strings.TrimSpace(got) != `{"g":["8","7"]}` {
		t.Errorf("board x in prod: %q (%v), want the ids as strings, as prod holds them", got, err)
	}
}

// A reference .dbsync declares (the schema has none) guards the rows it
// points at: an apply that would delete one still referred to, even from a
// content table, is a blocked-delete conflict of its plan, naming the
// row and what refers to it, and writes nothing.
func TestDeclaredReferencesGuardDeletes(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			dev, prod := dbtest.NewDatabase(t, engine), dbtest.NewDatabase(t, engine)
			schema := dbtest.Render("CREATE TABLE templates (id ${AUTOID}, name VARCHAR(20) NOT NULL UNIQUE); CREATE TABLE pages (id ${AUTOID}, template_id INTEGER NOT NULL);", engine)
			for _, u := range []string{dev, prod} {
				if err := dbtest.Exec(u, schema+"INSERT INTO templates (name) VALUES ('home'), ('blog');"); err != nil {
					t.Fatal(err)
				}
			}
			if err := dbtest.Exec(prod, "INSERT INTO pages (template_id) VALUES (2), (2), (1)"); err != nil {
				t.Fatal(err)
			}
			ws, dir := devProdRepo(t, dev, prod, "[tables]\n\tconfig = templates\n\tcontent = pages\n"+
				"[table \"templates\"]\n\tkey = name\n[table \"pages\"]\n\treference = template_id templates\n")
			ctx := context.Background()
			if res := release(t, ws, dir, "v1"); len(res.Warnings) > 0 {
				t.Errorf("warnings: %v", res.Warnings)
			}
			if _, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v1"}}); err != nil {
				t.Fatal(err)
			}
			dbtest.Exec(dev, "DELETE FROM templates WHERE name = 'blog'")
			release(t, ws, dir, "v2")
			_, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v2"}})
			var conflict *ConflictError
			if !errors.As(err, &conflict) {
				t.Fatalf("apply v2: %v, want a conflict", err)
			}
			if c := conflictsOf(conflict.Plan, "templates"); len(c) != 1 || c[0].Kind != merge.BlockedDelete ||
				!slices.Equal(c[0].ReferredBy, []string{`table "pages", column "template_id" (id=1, id=2: 2 rows)`}) {
				t.Fatalf("apply v2: conflicts of templates %+v, want blog's delete blocked by 2 pages", c)
			}
			if got, _ := dbtest.Query(prod, "SELECT name FROM templates ORDER BY name"); got != "blog\nhome\n" {
				t.Errorf("templates in prod after the refused apply: %q", got)
			}
			// Once no page uses it, the template goes.
			dbtest.Exec(prod, "UPDATE pages SET template_id = 1")
			if _, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v2"}}); err != nil {
				t.Fatal(err)
			}
			if got, _ := dbtest.Query(prod, "SELECT name FROM templates ORDER BY name"); got != "home\n" {
				t.Errorf("templates in prod: %q", got)
			}
		})
	}
}

// A row the target added to a config table, referring through a declared
// reference to a row the revision deletes, is caught after the writes (the
// plan does not see it: its table is one the plan writes), and the apply
// writes nothing.
func TestDeclaredReferencesCheckedAfterTheWrites(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			dev, prod := dbtest.NewDatabase(t, engine), dbtest.NewDatabase(t, engine)
			schema := dbtest.Render("CREATE TABLE parents (id ${AUTOID}, name VARCHAR(20) NOT NULL UNIQUE); CREATE TABLE children (name VARCHAR(20) NOT NULL PRIMARY KEY, parent_id INTEGER NOT NULL);", engine)
			for _, u := range []string{dev, prod} {
				if err := dbtest.Exec(u, schema+"INSERT INTO parents (name) VALUES ('keep'), ('gone'); INSERT INTO children VALUES ('a', 1);"); err != nil {
					t.Fatal(err)
				}
			}
			ws, dir := devProdRepo(t, dev, prod, "[tables]\n\tconfig = parents children\n"+
				"[table \"parents\"]\n\tkey = name\n[table \"children\"]\n\treference = parent_id parents\n")
			ctx := context.Background()
			release(t, ws, dir, "v1")
			if _, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v1"}}); err != nil {
				t.Fatal(err)
			}
			dbtest.Exec(prod, "INSERT INTO children VALUES ('prod-only', 2)")
			dbtest.Exec(dev, "DELETE FROM parents WHERE name = 'gone'")
			release(t, ws, dir, "v2")
			_, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v2"}})
			if err == nil || !strings.Contains(err.Error(), `table "children": column "parent_id" still refers to rows of "parents" that this apply deletes: 2 (name=prod-only: 1 row)`) {
				t.Fatalf("apply v2: %v", err)
			}
			if got, _ := dbtest.Query(prod, "SELECT name FROM parents ORDER BY name"); got != "gone\nkeep\n" {
				t.Errorf("parents in prod after the refused apply: %q", got)
			}
		})
	}
}

// release exports the development database, commits the files and tags
// the commit: what a developer does to cut a release.
func release(t *testing.T, ws *Workspace, dir, tag string) *ExportResult {
	t.Helper()
	res, err := ws.Export(context.Background(), ExportOptions{})
	if err != nil {
		t.Fatalf("%s: export: %v", tag, err)
	}
	gittest.Run(t, dir, "add", "-A")
	gittest.Run(t, dir, "commit", "-q", "--allow-empty", "-m", tag)
	gittest.Run(t, dir, "tag", tag)
	return res
}

// devProdRepo makes a repository whose .dbsync names the dev and prod
// databases, followed by tables (the rest of .dbsync).
func devProdRepo(t *testing.T, dev, prod, tables string) (*Workspace, string) {
	t.Helper()
	dir := gittest.Init(t)
	cfg := fmt.Sprintf("[env \"dev\"]\n\turl = %s\n[env \"prod\"]\n\turl = %s\n%s", dev, prod, tables)
	if err := os.WriteFile(filepath.Join(dir, ".dbsync"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ws, err := OpenWorkspace(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ws, dir
}

// conflictsOf returns the conflicts of a table of a plan.
func conflictsOf(p *Plan, table string) []merge.Conflict {
	for _, tp := range p.Tables {
		if tp.Meta.Name == table {
			return tp.Conflicts
		}
	}
	return nil
}
