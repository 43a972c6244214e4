package gitdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gitdbsync/git-dbsync/internal/gittest"
	"github.com/gitdbsync/git-dbsync/internal/sqltool"
)

// The plan's fast paths (a table whose files did not change is not read;
// lines that did not change are not decoded) make the same plan as the
// full three-way merge, whatever the target did to those rows.
func TestPlanFastPathsMatchTheFullMerge(t *testing.T) {
	dir := gittest.Init(t)
	dev, prod := filepath.Join(dir, "dev.db"), filepath.Join(dir, "prod.db")
	schema := `CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, n INTEGER);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 400) INSERT INTO items SELECT i, 'item ' || i, i FROM s;
CREATE TABLE small (k TEXT PRIMARY KEY, v TEXT); INSERT INTO small VALUES ('a', '1'), ('b', '2');`
	if err := sqltool.Exec(dev, schema); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = sqlite:dev.db\n[env \"prod\"]\n\turl = sqlite:prod.db\n[tables]\n\tconfig = items small\n[table \"items\"]\n\tlayout = lines\n"), 0o644)
	ctx := context.Background()
	ws, err := OpenWorkspace(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Export(ctx, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "v1")
	gitIn(t, dir, "tag", "v1")
	copyTestFile(t, dev, prod)
	if _, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v1"}}); err != nil {
		t.Fatal(err)
	}
	// The revision: changes, inserts and deletes spread through the keys,
	// the first and last rows among them.
	sqltool.Exec(dev, `UPDATE items SET name = name || ' v2' WHERE id % 37 = 1 OR id = 400;
DELETE FROM items WHERE id % 53 = 2;
INSERT INTO items VALUES (0, 'zero', 0), (401, 'after', 1), (1000, 'far', 2);`)
	if _, err := ws.Export(ctx, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, "commit", "-q", "-am", "v2")
	gitIn(t, dir, "tag", "v2")
	// The target: edits on rows the revision left alone, on rows it
	// changed (conflicts and clean merges), deletes and inserts of its own.
	sqltool.Exec(prod, `UPDATE items SET n = n + 1000 WHERE id % 41 = 3 OR id = 38;
UPDATE items SET name = 'prod ' || id WHERE id = 75;
DELETE FROM items WHERE id % 61 = 4 OR id = 112;
INSERT INTO items VALUES (500, 'prod only', 5);
UPDATE small SET v = 'prod' WHERE k = 'a';`)
	plan := func(fast, workTree bool) *Plan {
		fastPaths = fast
		defer func() { fastPaths = true }()
		p, err := ws.Plan(ctx, PlanOptions{Env: "prod", Revision: "v2", WorkTree: workTree})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	full := plan(false, false).Save()
	if len(full.Tables) != 2 || full.Summary.Updates == 0 || full.Summary.Conflicts == 0 {
		t.Fatalf("the scenario does not exercise the merge: %+v", full.Summary)
	}
	// The working tree's files (v2's) against the base's in a commit: a
	// file's ID is a path on one side and a hash on the other.
	for _, workTree := range []bool{false, true} {
		samePlan(t, full, plan(true, workTree).Save())
	}
}

func samePlan(t *testing.T, full, fast *SavedPlan) {
	t.Helper()
	for i := range full.Tables {
		f, q := full.Tables[i], fast.Tables[i]
		if !reflect.DeepEqual(f.Ops, q.Ops) || !reflect.DeepEqual(f.Conflicts, q.Conflicts) {
			t.Errorf("table %s: the fast paths plan\n%s\nthe full merge\n%s", f.Table, dump(q), dump(f))
		}
	}
	if full.Summary != fast.Summary {
		t.Errorf("summaries: full %+v, fast %+v", full.Summary, fast.Summary)
	}
}

func dump(t SavedTable) string { return fmt.Sprintf("ops %+v\nconflicts %+v", t.Ops, t.Conflicts) }

func copyTestFile(t *testing.T, from, to string) {
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(to, data, 0o644)
}
