package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/gitdbsync/git-dbsync/internal/gittest"
	"github.com/gitdbsync/git-dbsync/internal/sqltool"
	"github.com/gitdbsync/git-dbsync/schemas"
)

// Every --json the binary prints matches its schema under schemas/, and
// says what happened.
func TestJSONOutputsMatchSchemas(t *testing.T) {
	c := jsonschema.NewCompiler()
	entries, _ := schemas.FS.ReadDir(".")
	for _, e := range entries {
		data, _ := schemas.FS.ReadFile(e.Name())
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		if err := c.AddResource(schemas.Base+e.Name(), doc); err != nil {
			t.Fatal(err)
		}
	}
	dir := gittest.Init(t)
	dev, prod := filepath.Join(dir, "dev.db"), filepath.Join(dir, "prod.db")
	if err := sqltool.Exec(dev, "CREATE TABLE s (k TEXT PRIMARY KEY, v TEXT); INSERT INTO s VALUES ('a', '1'), ('b', '2'); CREATE TABLE stray (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = sqlite:dev.db\n[env \"prod\"]\n\turl = sqlite:prod.db\n[tables]\n\tconfig = s\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("*.db\n"), 0o644)

	// check validates what a command printed, then decodes it for the
	// test's own assertions.
	check := func(schema string, wantCode int, args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command("git", append([]string{"dbsync"}, args...)...)
		cmd.Dir, cmd.Env = dir, gittest.Env(dir)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != wantCode {
			t.Fatalf("git dbsync %s: exit %d (%v), want %d\n%s", strings.Join(args, " "), code, err, wantCode, stderr.String())
		}
		s, err := c.Compile(schemas.Base + schema)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(stdout.Bytes()))
		if err != nil {
			t.Fatalf("git dbsync %s: not JSON: %v\n%s", strings.Join(args, " "), err, stdout.String())
		}
		if err := s.Validate(inst); err != nil {
			t.Errorf("git dbsync %s does not match %s: %v\n%s", strings.Join(args, " "), schema, err, stdout.String())
		}
		var out map[string]any
		json.Unmarshal(stdout.Bytes(), &out)
		return out
	}

	ex := check("export.schema.json", 0, "export", "--json")
	if tables := ex["tables"].([]any); len(tables) != 1 || tables[0].(map[string]any)["added"] != 2.0 || ex["unclassified"].([]any)[0] != "stray" {
		t.Errorf("export: %v", ex)
	}
	gittest.Run(t, dir, "add", "-A")
	gittest.Run(t, dir, "commit", "-q", "-m", "v1")
	gittest.Run(t, dir, "tag", "v1")
	data, _ := os.ReadFile(dev)
	os.WriteFile(prod, data, 0o644)

	hs := check("hooks.schema.json", 0, "hooks", "status", "--json")
	if hs["drivers"] != false || hs["hooks"].([]any)[0].(map[string]any)["state"] != "missing" {
		t.Errorf("hooks status before install: %v", hs)
	}
	gittest.Run(t, dir, "dbsync", "hooks", "install")
	hs = check("hooks.schema.json", 0, "hooks", "status", "--json")
	if hs["drivers"] != true || hs["hooks"].([]any)[0].(map[string]any)["state"] != "installed" {
		t.Errorf("hooks status after install: %v", hs)
	}

	ap := check("apply.schema.json", 0, "apply", "v1", "--env", "prod", "--yes", "--json")
	if ap["done"] != true || ap["entry"].(map[string]any)["kind"] != "apply" {
		t.Errorf("apply: %v", ap)
	}
	ap = check("apply.schema.json", 0, "apply", "v1", "--env", "prod", "--yes", "--json")
	if ap["done"] != false {
		t.Errorf("apply again: %v", ap)
	}
	sqltool.Exec(dev, "UPDATE s SET v = 'changed' WHERE k = 'a'")
	ex = check("export.schema.json", exitChanges, "export", "--check", "--json")
	if ex["check"] != true || ex["changed"] != true {
		t.Errorf("export --check: %v", ex)
	}
	gittest.Run(t, dir, "dbsync", "commit", "-q", "-m", "v2") // exported and committed
	gittest.Run(t, dir, "tag", "v2")
	check("plan.schema.json", 0, "plan", "v2", "--env", "prod", "--json")
	check("diff.schema.json", 0, "diff", "v1", "v2", "--json")
	ap = check("apply.schema.json", 0, "apply", "v2", "--env", "prod", "--yes", "--json")
	if tables := ap["entry"].(map[string]any)["tables"].(map[string]any); tables["s"].(map[string]any)["updated"] != 1.0 {
		t.Errorf("apply v2: %v", ap)
	}
	rb := check("apply.schema.json", 0, "rollback", "--env", "prod", "--yes", "--json")
	if e := rb["entry"].(map[string]any); e["kind"] != "rollback" || e["undoes"] != 2.0 {
		t.Errorf("rollback: %v", rb)
	}
	st := check("status.schema.json", 0, "status", "--env", "prod", "--json")
	if len(st["history"].([]any)) != 3 {
		t.Errorf("status: %v", st)
	}
	// A conflict: its empty choice, then the side chosen for it.
	sqltool.Exec(prod, "UPDATE s SET v = 'prod' WHERE k = 'a'")
	pl := check("plan.schema.json", 0, "plan", "v2", "--env", "prod", "--json")
	if c := pl["tables"].([]any)[0].(map[string]any)["conflicts"].([]any); len(c) != 1 || c[0].(map[string]any)["choice"] != "" {
		t.Errorf("plan with a conflict: %v", pl)
	}
	pl = check("plan.schema.json", exitChanges, "plan", "v2", "--env", "prod", "--resolve", "s:a=theirs", "--exit-code", "--json")
	if c := pl["tables"].([]any)[0].(map[string]any)["conflicts"].([]any); c[0].(map[string]any)["resolution"] != "theirs" || pl["choices"].([]any)[0] != "s:a=theirs" {
		t.Errorf("plan with a choice: %v", pl)
	}

	// Deploy steps and the backup in apply's report; a restore (of the
	// backup taken before anything was applied) and the steps in status.
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = sqlite:dev.db\n[env \"prod\"]\n\turl = sqlite:prod.db\n\tcheck = echo fine\n[tables]\n\tconfig = s\n"), 0o644)
	ap = check("apply.schema.json", 0, "apply", "v2", "--env", "prod", "--yes", "--theirs", "--json")
	if steps := ap["steps"].([]any); len(steps) != 1 || steps[0].(map[string]any)["tail"] != "fine" || ap["backup"] == "" {
		t.Errorf("apply with a check: %v", ap)
	}
	backups, _ := os.ReadDir(filepath.Join(dir, ".git", "dbsync", "backups", "prod"))
	gittest.Run(t, dir, "dbsync", "restore", backups[0].Name(), "--env", "prod", "--yes")
	st = check("status.schema.json", 0, "status", "--env", "prod", "--json")
	history := st["history"].([]any)
	if last := history[len(history)-1].(map[string]any); last["kind"] != "restore" || last["commit"] != "" {
		t.Errorf("status after restoring the first backup: %v", last)
	}

	// Several environments at once: one report for all, each one's own
	// inside. staging is new, prod has a conflict.
	sqltool.Exec(filepath.Join(dir, "staging.db"), "CREATE TABLE s (k TEXT PRIMARY KEY, v TEXT)")
	gittest.Run(t, dir, "dbsync", "apply", "v2", "--env", "prod", "--yes", "--theirs")
	sqltool.Exec(dev, "UPDATE s SET v = 'dev' WHERE k = 'b'")
	gittest.Run(t, dir, "dbsync", "commit", "-q", "-m", "v3")
	gittest.Run(t, dir, "tag", "v3")
	sqltool.Exec(prod, "UPDATE s SET v = 'prod' WHERE k = 'b'")
	gittest.Run(t, dir, "config", "dbsync.env.staging.url", "sqlite:staging.db")
	fl := check("fleet.schema.json", exitConflicts, "apply", "v3", "--env", "staging,prod", "--yes", "--json")
	envs := fl["environments"].([]any)
	if len(envs) != 2 || envs[0].(map[string]any)["result"] != "applied" || envs[1].(map[string]any)["result"] != "conflicts" ||
		envs[1].(map[string]any)["exit"] != float64(exitConflicts) || fl["summary"].(map[string]any)["failed"] != 1.0 {
		t.Errorf("apply to two environments: %v", fl)
	}
	check("fleet.schema.json", exitConflicts, "plan", "v3", "--env", "staging,prod", "--exit-code", "--json")
	fl = check("fleet.schema.json", 0, "status", "--env", "staging,prod", "--shard", "1/1", "--json")
	if fl["shard"] != "1/1" || len(fl["environments"].([]any)) != 2 {
		t.Errorf("status of two environments: %v", fl)
	}
	// A rollback of v3 rolls back staging, and leaves prod, whose apply of
	// v3 met the conflict, as it is: nothing failed.
	fl = check("fleet.schema.json", 0, "rollback", "v3", "--env", "staging,prod", "--shard", "1/1", "--yes", "--json")
	if envs := fl["environments"].([]any); envs[0].(map[string]any)["result"] != "rolled-back" || envs[1].(map[string]any)["result"] != "not-applied" {
		t.Errorf("rollback of two environments: %v", fl)
	}
}
