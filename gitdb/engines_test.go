package gitdb

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/gitdbsync/git-dbsync/internal/dbtest"
	"github.com/gitdbsync/git-dbsync/internal/gittest"
)

const crossConfig = `[tables]
	config = every_type links json_scalars grants ${Q:Menu Items}
[table "links"]
	layout = lines
`

// fixture returns the schema and data parts of a fixture for an engine.
func fixture(t *testing.T, name, engine string) (schema, data string) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	schema, data, _ = strings.Cut(dbtest.Render(string(raw), engine), "-- data\n")
	return schema, data
}

// repoFor makes a git repository whose environments are the given URLs.
func repoFor(t testing.TB, envs map[string]string) string {
	t.Helper()
	dir := gittest.Init(t)
	cfg := strings.ReplaceAll(crossConfig, "${Q:Menu Items}", `Menu?Items`)
	for name, url := range envs {
		cfg += "[env \"" + name + "\"]\n\turl = " + url + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, ".dbsync"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func gitIn(t testing.TB, dir string, args ...string) { gittest.Run(t, dir, args...) }

var updateGolden = flag.Bool("update", false, "rewrite the golden exports of testdata/fixtures")

// goldenExport compares the files of an export with those of
// testdata/fixtures/name (a txtar archive), or rewrites it with -update:
// what an export writes changes only on purpose, however it is made.
func goldenExport(t *testing.T, name string, files map[string]string) {
	t.Helper()
	var ar txtar.Archive
	for _, k := range keys(files) {
		ar.Files = append(ar.Files, txtar.File{Name: k, Data: []byte(files[k])})
	}
	got := txtar.Format(&ar)
	p := filepath.Join("..", "testdata", "fixtures", name)
	if *updateGolden {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test ./gitdb -run %s -update writes it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		sameFiles(t, filesOf(txtar.Parse(want)), files)
		t.Fatalf("the export differs from %s", p)
	}
}

func filesOf(ar *txtar.Archive) map[string]string {
	files := map[string]string{}
	for _, f := range ar.Files {
		files[f.Name] = string(f.Data)
	}
	return files
}

// The same logical rows loaded into SQLite, PostgreSQL and MariaDB export
// to byte-identical files, the golden ones; and the files exported from
// one engine apply to the others, which then export the same files again.
func TestCrossEngineFixture(t *testing.T) {
	ctx := context.Background()
	var first map[string]string
	var firstDir string
	for _, engine := range dbtest.Engines {
		url := dbtest.NewDatabase(t, engine)
		schema, data := fixture(t, "everytype.sql", engine)
		if err := dbtest.Exec(url, schema+data); err != nil {
			t.Fatalf("%s: loading the fixture: %v", engine, err)
		}
		dir := repoFor(t, map[string]string{"dev": url})
		mustExport(t, dir)
		files := snapshot(t, dir)
		delete(files, ".dbsync")
		if len(files) < 10 {
			t.Fatalf("%s exported only %v", engine, keys(files))
		}
		if first == nil {
			first, firstDir = files, dir
			goldenExport(t, "everytype.export.txtar", files)
			continue
		}
		t.Run("same files from "+engine, func(t *testing.T) { sameFiles(t, first, files) })
	}
	// Develop on SQLite, deploy to PostgreSQL and MariaDB.
	gitIn(t, firstDir, "add", "-A")
	gitIn(t, firstDir, "commit", "-q", "-m", "fixture")
	gitIn(t, firstDir, "tag", "v1")
	for _, engine := range dbtest.Engines[1:] {
		t.Run("apply to "+engine, func(t *testing.T) {
			url := dbtest.NewDatabase(t, engine)
			schema, _ := fixture(t, "everytype.sql", engine)
			if err := dbtest.Exec(url, schema); err != nil {
				t.Fatal(err)
			}
			os.Setenv("DBSYNC_ENV_PROD_URL", url)
			defer os.Unsetenv("DBSYNC_ENV_PROD_URL")
			ws, err := OpenWorkspace(firstDir)
			if err != nil {
				t.Fatal(err)
			}
			res, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v1"}})
			if err != nil {
				t.Fatal(err)
			}
			if n := res.Entry.Summary["every_type"].Inserted; n != 5 {
				t.Errorf("inserted %d rows into every_type", n)
			}
			back := repoFor(t, map[string]string{"dev": url})
			mustExport(t, back)
			files := snapshot(t, back)
			delete(files, ".dbsync")
			sameFiles(t, first, files)
		})
	}
}

// Hostile identifiers in files never reach SQL: a table or column the
// target does not have is refused before anything runs.
func TestHostileIdentifiersInFilesAreRefused(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			url := dbtest.NewDatabase(t, engine)
			if err := dbtest.Exec(url, dbtest.Render("CREATE TABLE s (k VARCHAR(10) PRIMARY KEY, v VARCHAR(10)); INSERT INTO s VALUES ('a', '1');", engine)); err != nil {
				t.Fatal(err)
			}
			dir := repoFor(t, map[string]string{"dev": url})
			os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = "+url+"\n[tables]\n\tconfig = *\n"), 0o644)
			mustExport(t, dir)
			hostile := map[string]string{
				"table":  `{"format":1,"name":"s\"; DROP TABLE s; --","columns":[{"name":"k","type":"text","nullable":false}],"key":["k"],"layout":"rows","references":[]}`,
				"column": `{"format":1,"name":"s","columns":[{"name":"k","type":"text","nullable":false},{"name":"v\" = NULL; DROP TABLE s; --","type":"text","nullable":true}],"key":["k"],"layout":"rows","references":[]}`,
			}
			for what, meta := range hostile {
				os.WriteFile(filepath.Join(dir, "db", "s", "table.json"), []byte(meta), 0o644)
				gitIn(t, dir, "add", "-A")
				gitIn(t, dir, "commit", "-q", "--allow-empty", "-m", what)
				gitIn(t, dir, "tag", "-f", "bad")
				ws, _ := OpenWorkspace(dir)
				_, err := ws.Apply(context.Background(), ApplyOptions{PlanOptions: PlanOptions{Env: "dev", Revision: "bad"}})
				if err == nil || !strings.Contains(err.Error(), "does not exist in the target") && !strings.Contains(err.Error(), "the target has no such table") &&
					!strings.Contains(err.Error(), "a directory holds the table it is named for") {
					t.Errorf("hostile %s: %v", what, err)
				}
				if out, err := dbtest.Query(url, "SELECT k, v FROM s"); err != nil || out != "a\t1\n" {
					t.Errorf("hostile %s: table s is now %q, %v", what, out, err)
				}
			}
		})
	}
}
