package schemas_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/gitdbsync/git-dbsync/gitdb"
	"github.com/gitdbsync/git-dbsync/internal/fixture"
	"github.com/gitdbsync/git-dbsync/internal/gittest"
	"github.com/gitdbsync/git-dbsync/internal/sqltool"
	"github.com/gitdbsync/git-dbsync/schemas"
	"github.com/gitdbsync/git-dbsync/serialize"
)

func compiler(t *testing.T) *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	for _, name := range []string{"table.schema.json", "row.schema.json", "plan.schema.json", "lock.schema.json", "diff.schema.json", "status.schema.json"} {
		data, err := schemas.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := c.AddResource(schemas.Base+name, doc); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// rowSchema composes, for one table, the row schema with one property per
// column referring to the $defs entry of its logical type.
func rowSchema(t *testing.T, c *jsonschema.Compiler, meta *serialize.Table) *jsonschema.Schema {
	var props, required []string
	for _, col := range meta.Columns {
		def := string(col.Type)
		if col.Secret {
			def = "secret"
		}
		ref := fmt.Sprintf(`{"$ref": "%srow.schema.json#/$defs/%s"}`, schemas.Base, def)
		if !col.Nullable {
			ref = fmt.Sprintf(`{"allOf": [%s, {"not": {"type": "null"}}]}`, ref)
		}
		props = append(props, fmt.Sprintf("%q: %s", col.Name, ref))
		required = append(required, fmt.Sprintf("%q", col.Name))
	}
	url := schemas.Base + "tables/" + meta.Name + ".json"
	text := fmt.Sprintf(`{"allOf": [{"$ref": "%srow.schema.json"}], "properties": {%s}, "required": [%s], "additionalProperties": false}`,
		schemas.Base, strings.Join(props, ","), strings.Join(required, ","))
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, name string, data []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("%s does not match its schema: %v", name, err)
	}
}

// Everything export writes for the demo database, and the golden file with
// every logical type, matches the published schemas.
func TestExportedFilesMatchSchemas(t *testing.T) {
	dir := gittest.Init(t)
	sql, err := os.ReadFile("../testdata/fixtures/cms.sql")
	if err != nil {
		t.Fatal(err)
	}
	if err := sqltool.Exec(filepath.Join(dir, "dev.db"), fixture.Render(string(sql), "sqlite")+`
CREATE TABLE every_type (id INTEGER PRIMARY KEY, f REAL, d DECIMAL(6,3), b BLOB, ok BOOLEAN NOT NULL, day DATE, tod TIME,
  ts TIMESTAMP, tz TIMESTAMPTZ, j JSON, u UUID);
INSERT INTO every_type VALUES (1, 0.5, 1.25, X'00FF', 1, '2026-11-22', '10:00:00.5', '2026-11-22 10:00:00', '2026-11-22T10:00:00+01:00', '{"a":[1]}', '550E8400-E29B-41D4-A716-446655440000'),
  (2, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE grp (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE grp_opts (id INTEGER PRIMARY KEY, grp_id INTEGER NOT NULL REFERENCES grp (id), name TEXT NOT NULL, value TEXT, token TEXT, UNIQUE (grp_id, name));
INSERT INTO grp VALUES (7, 'editors'), (9, 'readers');
INSERT INTO grp_opts VALUES (1, 7, 'widgets', 'a:1:{s:5:"title";s:2:"Hi";}', 'tok'), (2, 9, 'plain', 'text', NULL);`); err != nil {
		t.Fatal(err)
	}
	cfg := "[env \"dev\"]\n\turl = sqlite:dev.db\n[tables]\n\tconfig = settings menu* roles permissions role_permissions content_types every_type grp grp_opts\n[table \"roles\"]\n\tlayout = lines\n" +
		"[table \"grp\"]\n\tkey = name\n[table \"grp_opts\"]\n\tkey = grp_id name\n\tcodec = value:php\n\tsecret = token\n"
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte(cfg), 0o644)
	ws, err := gitdb.OpenWorkspace(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Export(context.Background(), gitdb.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	c := compiler(t)
	tableSchema, err := c.Compile(schemas.Base + "table.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	metas, _ := filepath.Glob(filepath.Join(dir, "db", "*", "table.json"))
	if len(metas) != 10 {
		t.Fatalf("%d tables exported", len(metas))
	}
	checked := 0
	for _, m := range metas {
		data, _ := os.ReadFile(m)
		validate(t, tableSchema, m, data)
		meta, err := serialize.UnmarshalMeta(data)
		if err != nil {
			t.Fatal(err)
		}
		rs := rowSchema(t, c, meta)
		tdir := filepath.Dir(m)
		filepath.WalkDir(tdir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || filepath.Base(p) == "table.json" {
				return err
			}
			data, _ := os.ReadFile(p)
			if strings.HasSuffix(p, ".jsonl") {
				for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
					validate(t, rs, fmt.Sprintf("%s:%d", p, i+1), line)
					checked++
				}
				return nil
			}
			validate(t, rs, p, data)
			checked++
			return nil
		})
	}
	if checked != 34 {
		t.Errorf("validated %d rows, want 34", checked)
	}
}

// A schema that accepts anything would pass the test above: show it rejects.
func TestRowSchemaRejects(t *testing.T) {
	c := compiler(t)
	meta := &serialize.Table{Name: "t", Key: []string{"id"}, Columns: []serialize.Column{
		{Name: "id", Type: serialize.Int}, {Name: "at", Type: serialize.TimestampTZ, Nullable: true},
		{Name: "u", Type: serialize.UUID, Nullable: true}, {Name: "b", Type: serialize.Bytes, Nullable: true},
	}}
	if err := meta.Prepare(); err != nil {
		t.Fatal(err)
	}
	s := rowSchema(t, c, meta)
	for _, bad := range []string{
		`{"id":1.5,"at":null,"u":null,"b":null}`,
		`{"id":null,"at":null,"u":null,"b":null}`,
		`{"id":1,"at":"2026-11-22T10:00:00","u":null,"b":null}`,
		`{"id":1,"at":null,"u":"550E8400-E29B-41D4-A716-446655440000","b":null}`,
		`{"id":1,"at":null,"u":null,"b":"not base64!"}`,
		`{"id":1,"at":null,"u":null}`,
		`{"id":1,"at":null,"u":null,"b":null,"extra":1}`,
	} {
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		if err := s.Validate(inst); err == nil {
			t.Errorf("schema accepted %s", bad)
		}
	}
}

// A plan's JSON and a lock file, from a real apply with a conflict resolved,
// match their schemas.
func TestPlanAndLockMatchSchemas(t *testing.T) {
	dir := gittest.Init(t)
	git := func(args ...string) { gittest.Run(t, dir, args...) }
	dev, prod := filepath.Join(dir, "dev.db"), filepath.Join(dir, "prod.db")
	schema := "CREATE TABLE s (k TEXT PRIMARY KEY, v TEXT, j JSON); INSERT INTO s VALUES ('a', '1', '{\"x\":1}'), ('b', '2', NULL), ('c', '3', NULL);"
	for _, db := range []string{dev, prod} {
		if err := sqltool.Exec(db, schema); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = sqlite:dev.db\n[env \"prod\"]\n\turl = sqlite:prod.db\n[tables]\n\tconfig = s\n"), 0o644)
	ctx := context.Background()
	ws, err := gitdb.OpenWorkspace(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Export(ctx, gitdb.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	git("add", ".dbsync", "db")
	git("commit", "-q", "-m", "v1")
	git("tag", "v1")
	if _, err := ws.Apply(ctx, gitdb.ApplyOptions{PlanOptions: gitdb.PlanOptions{Env: "prod", Revision: "v1"}}); err != nil {
		t.Fatal(err)
	}
	sqltool.Exec(dev, "UPDATE s SET v = 'dev', j = '{\"x\":2}' WHERE k = 'a'; DELETE FROM s WHERE k = 'b'; INSERT INTO s VALUES ('d', '4', '[]');")
	sqltool.Exec(prod, "UPDATE s SET v = 'prod', j = '{\"x\":3}' WHERE k = 'a'; INSERT INTO s VALUES ('p', 'only prod', NULL);")
	if _, err := ws.Export(ctx, gitdb.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	git("add", "-A", "db")
	git("commit", "-q", "-m", "v2")
	git("tag", "v2")
	c := compiler(t)
	planSchema, err := c.Compile(schemas.Base + "plan.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	lockSchema, err := c.Compile(schemas.Base + "lock.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := ws.Plan(ctx, gitdb.PlanOptions{Env: "prod", Revision: "v2", Resolve: "theirs"})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := plan.Save()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := sp.Marshal()
	validate(t, planSchema, "plan", data)
	if sp.Summary.Inserts != 1 || sp.Summary.Deletes != 1 || sp.Summary.Conflicts != 1 || sp.Summary.Updates != 1 {
		t.Errorf("summary %+v", sp.Summary)
	}
	// Bad plans are rejected by the schema.
	for _, bad := range []string{`"op": "insert"`, `"fingerprint": "`} {
		broken := bytes.Replace(data, []byte(bad), []byte(strings.Replace(bad, "insert", "upsert", 1)+"x"), 1)
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(broken))
		if planSchema.Validate(inst) == nil {
			t.Errorf("plan schema accepted %s broken", bad)
		}
	}
	res, err := ws.Apply(ctx, gitdb.ApplyOptions{PlanOptions: gitdb.PlanOptions{Env: "prod", Revision: "v2", Resolve: "theirs"}})
	if err != nil {
		t.Fatal(err)
	}
	lockData, err := os.ReadFile(res.LockFile)
	if err != nil {
		t.Fatal(err)
	}
	validate(t, lockSchema, res.LockFile, lockData)

	// diff --json and status --json of the same repository and target.
	diffSchema, err := c.Compile(schemas.Base + "diff.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	statusSchema, err := c.Compile(schemas.Base + "status.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := ws.Diff(ctx, gitdb.DiffOptions{From: "v1", To: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	dr := d.Report()
	data, _ = json.MarshalIndent(dr, "", "  ")
	validate(t, diffSchema, "diff", data)
	if dr.Summary != (gitdb.DiffSummary{Added: 1, Changed: 1, Removed: 1}) || len(dr.Tables[0].Changes[0].Paths) != 1 {
		t.Errorf("diff report %s", data)
	}
	if _, err := ws.Rollback(ctx, gitdb.RollbackOptions{Env: "prod"}); err != nil {
		t.Fatal(err)
	}
	sqltool.Exec(prod, "UPDATE s SET v = 'drifted' WHERE k = 'c'")
	st, err := ws.Status(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	sr := st.Report()
	data, _ = json.MarshalIndent(sr, "", "  ")
	validate(t, statusSchema, "status", data)
	if len(sr.History) != 3 || sr.History[1].UndoneBy != 3 || len(sr.Drift) != 1 || sr.Current == nil {
		t.Errorf("status report %s", data)
	}
	// The development database's status: in step, or what it holds unexported.
	if _, err := ws.Sync(ctx, gitdb.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	sqltool.Exec(dev, "UPDATE s SET v = 'unexported' WHERE k = 'c'")
	devst, err := ws.Status(ctx, "dev")
	if err != nil {
		t.Fatal(err)
	}
	devData, _ := json.MarshalIndent(devst.Report(), "", "  ")
	validate(t, statusSchema, "dev status", devData)
	if d := devst.Report().Dev; d == nil || !d.InStep || len(d.Unexported) != 1 || d.Unexported[0].Changed != 1 || len(devst.Pending) != 0 {
		t.Errorf("dev status report %s", devData)
	}
	for _, bad := range []string{`"change": "added"`, `"kind": "apply"`} {
		src, schema := data, statusSchema
		if strings.Contains(bad, "change") {
			src, _ = json.MarshalIndent(dr, "", "  ")
			schema = diffSchema
		}
		broken := bytes.Replace(src, []byte(bad), []byte(strings.Replace(bad, `"a`, `"x`, 1)), 1)
		if bytes.Equal(broken, src) {
			t.Fatalf("%s not found", bad)
		}
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(broken))
		if schema.Validate(inst) == nil {
			t.Errorf("schema accepted %s broken", bad)
		}
	}
}
