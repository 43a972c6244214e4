package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/gitdbsync/git-dbsync/internal/sqltool"
)

// TestMain lets testscript run this test binary as git-dbsync, so that
// scripts call the real command through real git: "exec git dbsync …".
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"git-dbsync": func() { os.Exit(run(os.Args[1:], newStreams(os.Stdin, os.Stdout, os.Stderr))) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, scriptParams(t, "../../testdata/script"))
}

func scriptParams(t *testing.T, dir string) testscript.Params {
	demo, err := filepath.Abs("../../testdata/demo")
	if err != nil {
		t.Fatal(err)
	}
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, ".home")
			env.Setenv("HOME", home)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
			env.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			env.Setenv("GIT_AUTHOR_NAME", "Dev Eloper")
			env.Setenv("GIT_AUTHOR_EMAIL", "dev@example.org")
			env.Setenv("GIT_COMMITTER_NAME", "Dev Eloper")
			env.Setenv("GIT_COMMITTER_EMAIL", "dev@example.org")
			env.Setenv("GIT_AUTHOR_DATE", "2026-11-22T10:00:00Z")
			env.Setenv("GIT_COMMITTER_DATE", "2026-11-22T10:00:00Z")
			env.Setenv("DEMO", demo)
			if err := os.MkdirAll(home, 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(home, ".gitconfig"), []byte("[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"), 0o644)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"sqlexec":  cmdSQLExec,
			"sqlquery": cmdSQLQuery,
			"tree":     cmdTree,
		},
	}
}

// sqlexec DB SQL… runs SQL statements (each argument one script, or @FILE
// for a file) on an SQLite file.
func cmdSQLExec(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: sqlexec DB SQL|@FILE...")
	}
	for _, a := range args[1:] {
		script := a
		if strings.HasPrefix(a, "@") {
			script = ts.ReadFile(a[1:])
		}
		err := sqltool.Exec(ts.MkAbs(args[0]), script)
		if neg {
			if err == nil {
				ts.Fatalf("sqlexec succeeded unexpectedly")
			}
			return
		}
		ts.Check(err)
	}
}

// sqlquery DB QUERY prints the rows of a query, tab-separated.
func cmdSQLQuery(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: sqlquery DB QUERY")
	}
	ts.Check(sqltool.Query(ts.MkAbs(args[0]), args[1], ts.Stdout()))
}

// tree DIR prints every file below DIR, sorted, one slash path a line.
func cmdTree(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: tree DIR")
	}
	root := ts.MkAbs(args[0])
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		_, err = ts.Stdout().Write([]byte(filepath.ToSlash(rel) + "\n"))
		return err
	})
	ts.Check(err)
}
