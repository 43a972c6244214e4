package gitdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/internal/dbtest"
	"github.com/gitdbsync/git-dbsync/internal/gittest"
	"github.com/gitdbsync/git-dbsync/internal/progress"
)

// pathTable is a table of the scenario below, by the SQL that finds its
// row number i.
type pathTable struct {
	name, schema string
	key          func(i int) string // the key's values, as SQL literals
	where        func(i int) string // the condition that finds row i
}

var pathTables = []pathTable{
	{"items", "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(40), n INTEGER);",
		func(i int) string { return fmt.Sprint(i) }, func(i int) string { return fmt.Sprintf("id = %d", i) }},
	// Text keys whose byte order is not a case-folding collation's (MariaDB's).
	{"words", "CREATE TABLE words (k VARCHAR(40) PRIMARY KEY, name VARCHAR(40), n INTEGER);",
		func(i int) string { return "'" + word(i) + "'" }, func(i int) string { return "k = '" + word(i) + "'" }},
	{"pairs", "CREATE TABLE pairs (a INTEGER NOT NULL, b VARCHAR(20) NOT NULL, name VARCHAR(40), n INTEGER, PRIMARY KEY (a, b));",
		func(i int) string { return fmt.Sprintf("%d, 'b%d'", i%7, i) }, func(i int) string { return fmt.Sprintf("a = %d AND b = 'b%d'", i%7, i) }},
}

func word(i int) string {
	if i%2 == 0 {
		return fmt.Sprintf("W%03d", i)
	}
	return fmt.Sprintf("w%03d", i)
}

// The plan reads only the target's rows a release changes (change-driven)
// and decodes only the lines that changed, and makes the same plan as the
// full three-way merge of whole tables, on every engine, for every case
// of the merge's truth table: on integer, text and two-column keys.
func TestPlanPathsMatchEveryMergeCase(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) { testPlanPaths(t, engine) })
	}
}

func testPlanPaths(t *testing.T, engine string) {
	const n = 400
	dir := gittest.Init(t)
	dev, prod := dbtest.NewDatabase(t, engine), dbtest.NewDatabase(t, engine)
	var load strings.Builder
	for _, tb := range pathTables {
		load.WriteString(tb.schema)
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&load, "INSERT INTO %s VALUES (%s, 'row %d', %d);\n", tb.name, tb.key(i), i, i)
		}
	}
	load.WriteString("CREATE TABLE small (k VARCHAR(10) PRIMARY KEY, v VARCHAR(10)); INSERT INTO small VALUES ('a', '1'), ('b', '2');")
	if err := dbtest.Exec(dev, load.String()); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte(fmt.Sprintf(`[env "dev"]
	url = %s
[env "prod"]
	url = %s
	backup = none
[tables]
	config = items words pairs small
[table "items"]
	layout = lines
[table "words"]
	layout = lines
[table "pairs"]
	layout = lines
`, dev, prod)), 0o644)
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
	if err := dbtest.Copy(dev, prod); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v1"}, Baseline: true}); err != nil {
		t.Fatal(err)
	}
	// Each row number i%20 is a case of the truth table: what the
	// revision (dev) does to the row, and what the target (prod) did.
	var v2, edits strings.Builder
	for _, tb := range pathTables {
		set := func(b *strings.Builder, i int, what string) {
			fmt.Fprintf(b, "UPDATE %s SET %s WHERE %s;\n", tb.name, what, tb.where(i))
		}
		del := func(b *strings.Builder, i int) { fmt.Fprintf(b, "DELETE FROM %s WHERE %s;\n", tb.name, tb.where(i)) }
		ins := func(b *strings.Builder, i int, name string) {
			fmt.Fprintf(b, "INSERT INTO %s VALUES (%s, '%s', %d);\n", tb.name, tb.key(i), name, i)
		}
		for i := 1; i <= n; i++ {
			switch i % 20 {
			case 1: // the revision changes it: an update
				set(&v2, i, "name = 'v2'")
			case 2: // both change other cells: a clean merge
				set(&v2, i, "name = 'v2'")
				set(&edits, i, "n = n + 1000")
			case 3: // both change a cell differently: a conflict
				set(&v2, i, "name = 'v2'")
				set(&edits, i, "name = 'prod'")
			case 4: // both change it the same way
				set(&v2, i, "name = 'same'")
				set(&edits, i, "name = 'same'")
			case 5: // the revision deletes it: a delete
				del(&v2, i)
			case 6: // deleted there, changed here: a conflict
				del(&v2, i)
				set(&edits, i, "n = n + 1000")
			case 7: // deleted on both sides
				del(&v2, i)
				del(&edits, i)
			case 8: // changed there, deleted here: a conflict
				set(&v2, i, "name = 'v2'")
				del(&edits, i)
			case 9: // only the target deletes it: kept so
				del(&edits, i)
			case 10: // only the target changes it: kept so
				set(&edits, i, "n = n + 1000")
			}
		}
		set(&v2, n, "name = 'last'") // the first and the last keys change too
		set(&v2, 1, "n = 0")
		ins(&v2, n+1, "new")              // an insert
		ins(&v2, n+2, "new")              // added on both sides alike
		ins(&edits, n+2, "new")           //
		ins(&v2, n+3, "new")              // added on both sides differently: a conflict
		ins(&edits, n+3, "prod")          //
		ins(&edits, n+4, "prod only")     // the target's own row
		ins(&v2, 1000, "far")             // a key past every other
		ins(&edits, n+5, "prod only too") //
	}
	edits.WriteString("UPDATE small SET v = 'prod' WHERE k = 'a';")
	if err := dbtest.Exec(dev, v2.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Export(ctx, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, "commit", "-q", "-am", "v2")
	gitIn(t, dir, "tag", "v2")
	if err := dbtest.Exec(prod, edits.String()); err != nil {
		t.Fatal(err)
	}
	plan := func(fast, workTree bool) (*Plan, int64) {
		fastPaths = fast
		defer func() { fastPaths = true }()
		ws.Meter = new(progress.Meter)
		defer func() { ws.Meter = nil }()
		p, err := ws.Plan(ctx, PlanOptions{Env: "prod", Revision: "v2", WorkTree: workTree})
		if err != nil {
			t.Fatal(err)
		}
		_, read, _ := ws.Meter.Read()
		return p, read
	}
	full, readWhole := plan(false, false)
	saved := saveAll(t, full)
	if len(saved.Tables) != 4 || saved.Summary.Updates == 0 || saved.Summary.Inserts == 0 || saved.Summary.Deletes == 0 {
		t.Fatalf("the scenario does not exercise the merge: %+v", saved.Summary)
	}
	for _, tb := range saved.Tables {
		if tb.Table == "small" {
			continue
		}
		kinds := map[string]bool{}
		for _, c := range tb.Conflicts {
			kinds[c.Kind] = true
		}
		if len(kinds) != 4 {
			t.Fatalf("table %s: want conflicts of the four kinds, got %v", tb.Table, kinds)
		}
	}
	if readWhole < 3*n*17/20 { // the target lacks 3 rows in 20
		t.Fatalf("the full merge read %d rows of the target, want every row", readWhole)
	}
	// The working tree's files (v2's) against the base's in a commit: a
	// file's ID is a path on one side and a hash on the other.
	for _, workTree := range []bool{false, true} {
		fast, read := plan(true, workTree)
		samePlan(t, saved, saveAll(t, fast))
		// A third of the rows change (the truth table's cases), so the
		// target is read for those keys only.
		if read*2 > readWhole {
			t.Errorf("the change-driven plan read %d rows of the target, the full merge %d", read, readWhole)
		}
	}
	// Plans whose ops lie in temporary files, a few in memory, are the
	// same; and the apply below writes them from there.
	spillAt := merge.SpillAt
	merge.SpillAt = 5
	defer func() { merge.SpillAt = spillAt }()
	spilled, _ := plan(true, false)
	samePlan(t, saved, saveAll(t, spilled))
	// Apply through the change-driven path, resolving every conflict to
	// the revision: the target then exports as the revision's files.
	if _, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v2", Resolve: merge.Theirs}}); err != nil {
		t.Fatal(err)
	}
	for _, tb := range pathTables {
		kept, err := dbtest.Query(prod, fmt.Sprintf("SELECT count(*) FROM %s WHERE name = 'prod'", tb.name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(kept) != "0" {
			t.Errorf("table %s: %s rows kept the target's conflicting name after --theirs", tb.name, kept)
		}
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

func saveAll(t *testing.T, p *Plan) *SavedPlan {
	t.Helper()
	sp, err := p.Save()
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func dump(t SavedTable) string { return fmt.Sprintf("ops %+v\nconflicts %+v", t.Ops, t.Conflicts) }
