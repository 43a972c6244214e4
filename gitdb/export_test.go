package gitdb

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb/exportdir"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/internal/gittest"
	"github.com/gitdbsync/git-dbsync/internal/sqltool"
)

// newRepo makes a git repository with a .dbsync and an SQLite database
// built by the given SQL.
func newRepo(t *testing.T, dbsync, sql string) string {
	t.Helper()
	dir := gittest.Init(t)
	if err := os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = sqlite:dev.db\n"+dbsync), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sqltool.Exec(filepath.Join(dir, "dev.db"), sql); err != nil {
		t.Fatal(err)
	}
	return dir
}

func export(t *testing.T, dir string, opts ExportOptions) (*ExportResult, error) {
	t.Helper()
	ws, err := OpenWorkspace(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ws.Export(context.Background(), opts)
}

func mustExport(t *testing.T, dir string) *ExportResult {
	t.Helper()
	res, err := export(t, dir, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// snapshot maps every file under dir (but .git) to its contents.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			if rel == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		data, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	delete(files, "dev.db")
	return files
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sameFiles(t *testing.T, a, b map[string]string) {
	t.Helper()
	if strings.Join(keys(a), "\n") != strings.Join(keys(b), "\n") {
		t.Fatalf("different files:\n%s\n---\n%s", strings.Join(keys(a), "\n"), strings.Join(keys(b), "\n"))
	}
	for k := range a {
		if a[k] != b[k] {
			t.Errorf("%s differs:\n%s\n---\n%s", k, a[k], b[k])
		}
	}
}

const orderSchema = `
CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT, price DECIMAL(8,2), at DATETIME, data JSON);
CREATE TABLE links (a INTEGER, b TEXT, title TEXT, PRIMARY KEY (a, b));
`

// The same logical rows give the same bytes whatever the insertion order
// and however SQLite happens to store them (text or numbers, 'T' or ' ').
func TestExportIsDeterministic(t *testing.T) {
	const cfg = "[tables]\n\tconfig = settings links\n[table \"links\"]\n\tlayout = lines\n"
	forward := orderSchema + `
INSERT INTO settings VALUES ('a', 'x', 1.5, '2026-01-02 03:04:05', '{"k":1,"j":[1,2]}');
INSERT INTO settings VALUES ('B', 'y', '2', '2026-01-02T03:04:05.100', '{"z":null}');
INSERT INTO settings VALUES ('c', NULL, 3.25, 1767323045, NULL);
INSERT INTO links VALUES (1, 'x', 't1'), (1, 'y', 't2'), (2, 'a', 't3'), (10, 'b', 't4'), (9, 'Z', 't5');
`
	backward := orderSchema + `
INSERT INTO links VALUES (9, 'Z', 't5'), (10, 'b', 't4'), (2, 'a', 't3'), (1, 'y', 't2'), (1, 'x', 't1');
INSERT INTO settings VALUES ('c', NULL, '3.250', '2026-01-02 03:04:05', NULL);
INSERT INTO settings VALUES ('B', 'y', 2.0, '2026-01-02 03:04:05.1', '{ "z" : null }');
INSERT INTO settings VALUES ('a', 'x', '1.50', '2026-01-02T03:04:05', '{"j":[1, 2.0e0],"k":1.0}');
`
	a, b := newRepo(t, cfg, forward), newRepo(t, cfg, backward)
	mustExport(t, a)
	mustExport(t, b)
	sa, sb := snapshot(t, a), snapshot(t, b)
	sameFiles(t, sa, sb)
	if got := sa["db/links/rows.jsonl"]; !strings.HasPrefix(got, `{"a":1,"b":"x"`) || !strings.Contains(got, "\n"+`{"a":9,"b":"Z","title":"t5"}`+"\n"+`{"a":10,`) {
		t.Errorf("lines not in key order:\n%s", got)
	}
	// A second export rewrites nothing.
	res := mustExport(t, a)
	if res.Changed() {
		t.Errorf("second export changed files: %+v", res.Tables)
	}
}

// Hostile table names and key values give distinct, portable names, and
// nothing lands outside the export directory.
func TestExportHostileNames(t *testing.T) {
	sql := `
CREATE TABLE "../evil" (k TEXT PRIMARY KEY);
CREATE TABLE "CON" (k TEXT PRIMARY KEY);
CREATE TABLE "a/b" (k TEXT PRIMARY KEY);
CREATE TABLE "Menu" (k TEXT PRIMARY KEY);
CREATE TABLE "q""uote d" (k TEXT PRIMARY KEY);
INSERT INTO "../evil" VALUES ('..'), ('../../outside'), ('/etc/passwd'), ('.git'), ('');
INSERT INTO "CON" VALUES ('Home'), ('home'), ('HOME'), ('nul'), ('a' || char(0) || 'b'), ('trailing.'), ('sp ace ');
INSERT INTO "a/b" VALUES ('x\y'), ('C:'), ('c:');
INSERT INTO "Menu" VALUES ('x');
INSERT INTO "q""uote d" VALUES (replace(hex(zeroblob(400)), '00', 'ab'));
`
	dir := newRepo(t, "[tables]\n\tconfig = *\n", sql)
	os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("untouched"), 0o644)
	before := snapshot(t, dir)
	res := mustExport(t, dir)
	after := snapshot(t, dir)
	rows := 0
	for _, te := range res.Tables {
		rows += te.Rows
	}
	if rows != 17 {
		t.Errorf("exported %d rows, want 17", rows)
	}
	var rowFiles int
	folded := map[string]string{}
	for name := range after {
		if _, old := before[name]; old {
			if before[name] != after[name] {
				t.Errorf("%s changed outside the export directory", name)
			}
			continue
		}
		if !strings.HasPrefix(name, "db/") {
			t.Errorf("%s written outside the export directory", name)
		}
		if f := strings.ToLower(name); folded[f] != "" {
			t.Errorf("%s and %s collide on a case-insensitive file system", name, folded[f])
		} else {
			folded[f] = name
		}
		for _, part := range strings.Split(name, "/") {
			if part == "" || part == "." || part == ".." || len(part) > 130 {
				t.Errorf("unsafe path %q", name)
			}
		}
		if strings.Contains(name, "/rows/") {
			rowFiles++
		}
	}
	if rowFiles != 17 {
		t.Errorf("%d row files for 17 rows: %v", rowFiles, keys(after))
	}
}

func TestExportRefusesSymlinks(t *testing.T) {
	dir := newRepo(t, "[tables]\n\tconfig = t\n", "CREATE TABLE t (k TEXT PRIMARY KEY); INSERT INTO t VALUES ('a');")
	outside := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "db"), 0o755)
	if err := os.Symlink(outside, filepath.Join(dir, "db", "t")); err != nil {
		t.Fatal(err)
	}
	_, err := export(t, dir, ExportOptions{})
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("export through a symlink: %v", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("wrote %d files through the symlink", len(entries))
	}
}

// An error in any table writes nothing at all, and names table, row and column.
func TestExportErrorWritesNothing(t *testing.T) {
	dir := newRepo(t, "[tables]\n\tconfig = a b\n",
		"CREATE TABLE a (k TEXT PRIMARY KEY, v TEXT); INSERT INTO a VALUES ('x', '1');"+
			"CREATE TABLE b (k TEXT PRIMARY KEY, v TEXT); INSERT INTO b VALUES ('ok', 'fine');")
	mustExport(t, dir)
	before := snapshot(t, dir)
	sqltool.Exec(filepath.Join(dir, "dev.db"), "UPDATE a SET v = '2'; INSERT INTO a VALUES ('new', 'n'); INSERT INTO b VALUES ('bad', CAST(X'FF00' AS TEXT));")
	_, err := export(t, dir, ExportOptions{})
	if err == nil || !strings.Contains(err.Error(), `table "b": row k="bad": column "v": text is not valid UTF-8`) {
		t.Fatalf("error = %v", err)
	}
	sameFiles(t, before, snapshot(t, dir))
}

func TestExportCheckWritesNothing(t *testing.T) {
	dir := newRepo(t, "[tables]\n\tconfig = a\n[table \"a\"]\n\tlayout = lines\n", "CREATE TABLE a (k TEXT PRIMARY KEY); INSERT INTO a VALUES ('x');")
	before := snapshot(t, dir)
	res, err := export(t, dir, ExportOptions{Check: true})
	if err != nil || !res.Changed() || res.Tables[0].Added != 1 {
		t.Fatalf("check: %+v %v", res, err)
	}
	sameFiles(t, before, snapshot(t, dir))
	if _, err := os.Stat(filepath.Join(dir, "db")); err == nil {
		t.Error("check created the export directory")
	}
}

func TestExportScopeExcludeAndLayoutSwitch(t *testing.T) {
	cfg := "[tables]\n\tconfig = settings\n[table \"settings\"]\n\trows = site_* theme_*\n\texclude-columns = updated_at\n"
	dir := newRepo(t, cfg, `CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT, updated_at DATETIME);
INSERT INTO settings VALUES ('site_name', 'A', '2026-01-01'), ('theme_dark', 'no', NULL), ('admin_secret', 's3cret', NULL);`)
	res := mustExport(t, dir)
	files := snapshot(t, dir)
	if res.Tables[0].Rows != 2 || files["db/settings/rows/admin_secret.json"] != "" || strings.Contains(files["db/settings/rows/site_name.json"], "updated_at") {
		t.Errorf("scope/exclude: %v", keys(files))
	}
	// Switch to lines: the row files go, the lines file comes.
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = sqlite:dev.db\n"+cfg+"\tlayout = lines\n"), 0o644)
	mustExport(t, dir)
	files = snapshot(t, dir)
	want := `{"name":"site_name","value":"A"}` + "\n" + `{"name":"theme_dark","value":"no"}` + "\n"
	if files["db/settings/rows.jsonl"] != want || len(files) != 3 {
		t.Errorf("lines layout: %v\n%s", keys(files), files["db/settings/rows.jsonl"])
	}
	// Changes counted by merging the old and new lines.
	sqltool.Exec(filepath.Join(dir, "dev.db"), "UPDATE settings SET value = 'B' WHERE name = 'site_name'; INSERT INTO settings VALUES ('site_a', '1', NULL), ('theme_z', 'z', NULL); DELETE FROM settings WHERE name = 'theme_dark';")
	res = mustExport(t, dir)
	if te := res.Tables[0]; te.Added != 2 || te.Changed != 1 || te.Removed != 1 || te.Rows != 3 {
		t.Errorf("lines counts: %+v", te)
	}
	// Dropping the table from config removes its files.
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = sqlite:dev.db\n[tables]\n\tcontent = settings\n"), 0o644)
	res = mustExport(t, dir)
	if len(res.Tables) != 1 || !res.Tables[0].Dropped || res.Tables[0].Removed != 3 {
		t.Errorf("drop: %+v", res.Tables)
	}
	if files := snapshot(t, dir); len(files) != 1 {
		t.Errorf("files left: %v", keys(files))
	}
}

func TestExportKeyMustBeUnique(t *testing.T) {
	cfg := "[tables]\n\tconfig = menu\n[table \"menu\"]\n\tkey = title\n"
	dir := newRepo(t, cfg, "CREATE TABLE menu (id INTEGER PRIMARY KEY, title TEXT); INSERT INTO menu VALUES (1, 'Home'), (2, 'Shop'), (3, 'Home');")
	_, err := export(t, dir, ExportOptions{})
	if err == nil || !strings.Contains(err.Error(), `table "menu": .dbsync:6: table.menu.key: key (title) is not unique: more than one row has title="Home"`) {
		t.Errorf("error = %v", err)
	}
	dir = newRepo(t, "[tables]\n\tconfig = menu\n[table \"menu\"]\n\tkey = label\n", "CREATE TABLE menu (id INTEGER PRIMARY KEY, title TEXT);")
	_, err = export(t, dir, ExportOptions{})
	if err == nil || !strings.Contains(err.Error(), `.dbsync:6: table.menu.key: table "menu" has no column "label"`) {
		t.Errorf("error = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "db")); err == nil {
		t.Error("a failed export wrote files")
	}
}

// When the engine's order is not the files' order (here: timestamps stored
// in two text forms), the lines file is still sorted by key.
func TestExportLinesSortsWhatTheEngineDoesNot(t *testing.T) {
	dir := newRepo(t, "[tables]\n\tconfig = ev\n[table \"ev\"]\n\tlayout = lines\n",
		"CREATE TABLE ev (at DATETIME PRIMARY KEY, what TEXT); INSERT INTO ev VALUES ('2026-01-02T00:30:00', 'b'), ('2026-01-02 01:00:00', 'c'), ('2026-01-01 23:00:00', 'a');")
	mustExport(t, dir)
	got := snapshot(t, dir)["db/ev/rows.jsonl"]
	want := `{"at":"2026-01-01T23:00:00","what":"a"}` + "\n" + `{"at":"2026-01-02T00:30:00","what":"b"}` + "\n" + `{"at":"2026-01-02T01:00:00","what":"c"}` + "\n"
	if got != want {
		t.Errorf("got\n%s", got)
	}
}

// The export cache lets an unchanged export skip reading the files of a
// table that git status reports unchanged from HEAD, when HEAD holds the
// files the cache recorded; it never hides a change in the database, a
// file edited by hand, or one committed without the hook.
func TestExportCache(t *testing.T) {
	for _, layout := range []string{"rows", "lines"} {
		t.Run(layout, func(t *testing.T) {
			dir := newRepo(t, "[tables]\n\tconfig = s\n[table \"s\"]\n\tlayout = "+layout+"\n", "CREATE TABLE s (k TEXT PRIMARY KEY, v TEXT); INSERT INTO s VALUES ('a', '1'), ('b', '2');")
			os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("dev.db\n"), 0o644)
			gitIn(t, dir, "config", "core.trustctime", "false") // the same-size edit below keeps its stat but for ctime
			files, file := "db/s/rows", "db/s/rows/a.json"
			if layout == "lines" {
				files, file = "db/s/rows.jsonl", "db/s/rows.jsonl"
			}
			commit := func() {
				gitIn(t, dir, "add", "-A")
				gitIn(t, dir, "commit", "-q", "--allow-empty", "-m", "export")
			}
			mustExport(t, dir)
			commit()
			// What the cache records is what git made of the files.
			head, _ := repo.Git{Dir: dir}.Line("rev-parse", "HEAD:"+files)
			if id, ok := exportdir.OpenCache(filepath.Join(dir, ".git"), "dev", "s").ID(); !ok || id != head {
				t.Fatalf("the cache records %q (%v), HEAD holds %s", id, ok, head)
			}
			if res := mustExport(t, dir); res.Changed() || res.Tables[0].Rows != 2 {
				t.Fatalf("cached export: %+v", res.Tables)
			}
			p := filepath.Join(dir, filepath.FromSlash(file))
			// Trusted, the files are not read: a change git cannot see
			// (same size and times, not racy) is not seen either.
			old := time.Now().Add(-time.Hour)
			os.Chtimes(p, old, old)
			gitIn(t, dir, "update-index", "--refresh")
			data, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(data, []byte(`"1"`), []byte(`"9"`), 1), 0o644)
			os.Chtimes(p, old, old)
			if res := mustExport(t, dir); res.Changed() {
				t.Fatalf("the trusted files were read: %+v", res.Tables)
			}
			os.WriteFile(p, data, 0o644)

			sqltool.Exec(filepath.Join(dir, "dev.db"), "UPDATE s SET v = '3' WHERE k = 'b'")
			if res := mustExport(t, dir); res.Tables[0].Changed != 1 {
				t.Fatalf("a database change was missed: %+v", res.Tables)
			}
			commit()
			mustExport(t, dir)
			edit := func() {
				data, _ := os.ReadFile(p)
				os.WriteFile(p, bytes.Replace(data, []byte(`"1"`), []byte(`"edited by hand"`), 1), 0o644)
			}
			edit()
			if res := mustExport(t, dir); res.Tables[0].Changed != 1 {
				t.Fatalf("a file edited by hand was missed: %+v", res.Tables)
			}
			if data, _ := os.ReadFile(p); strings.Contains(string(data), "edited") {
				t.Error("the edited file was not restored")
			}
			edit()
			commit() // without the hook: HEAD no longer holds what was exported
			if res := mustExport(t, dir); res.Tables[0].Changed != 1 {
				t.Fatalf("a file committed without the hook was missed: %+v", res.Tables)
			}
			os.Remove(p)
			if res := mustExport(t, dir); !res.Changed() {
				t.Fatalf("a file removed by hand was missed: %+v", res.Tables)
			}
			if _, err := os.Stat(p); err != nil {
				t.Error("the removed file was not written again")
			}
		})
	}
}
