package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/internal/gittest"
	"github.com/gitdbsync/git-dbsync/internal/sqltool"
)

// On a terminal, apply shows the plan and asks; only "y" writes. The
// per-table merge policy resolves conflicts without a flag.
func TestApplyAsksOnATerminal(t *testing.T) {
	dir := gittest.Init(t)
	git := func(args ...string) { gittest.Run(t, dir, args...) }
	dev, prod := filepath.Join(dir, "dev.db"), filepath.Join(dir, "prod.db")
	for _, db := range []string{dev, prod} {
		if err := sqltool.Exec(db, "CREATE TABLE s (k TEXT PRIMARY KEY, v TEXT); INSERT INTO s VALUES ('a', '1'), ('b', '1');"); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = sqlite:dev.db\n[env \"prod\"]\n\turl = sqlite:prod.db\n[tables]\n\tconfig = s\n[table \"s\"]\n\tmerge = ours\n"), 0o644)
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	dbsync := func(input string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(args, &streams{In: strings.NewReader(input), Out: &out, Err: &errOut, Terminal: true})
		return code, out.String(), errOut.String()
	}
	if code, _, e := dbsync("", "export"); code != 0 {
		t.Fatal(e)
	}
	git("add", "-A")
	git("commit", "-q", "-m", "v1")
	git("tag", "v1")
	if code, _, e := dbsync("y\n", "apply", "v1", "--env", "prod"); code != 0 {
		t.Fatal(e)
	}
	sqltool.Exec(dev, "UPDATE s SET v = 'dev' WHERE k IN ('a', 'b')")
	sqltool.Exec(prod, "UPDATE s SET v = 'prod' WHERE k = 'a'")
	dbsync("", "export")
	git("commit", "-q", "-am", "v2")
	git("tag", "v2")

	code, out, errOut := dbsync("n\n", "apply", "v2", "--env", "prod")
	if code != exitError || !strings.Contains(out, "about to apply v2") || !strings.Contains(errOut, `Apply these changes to "prod"? [y/N]`) ||
		!strings.Contains(errOut, "not confirmed") {
		t.Fatalf("answer n: exit %d\n%s\n%s", code, out, errOut)
	}
	var v bytes.Buffer
	sqltool.Query(prod, "SELECT v FROM s ORDER BY k", &v)
	if v.String() != "prod\n1\n" {
		t.Fatalf("declined apply wrote: %q", v.String())
	}
	code, out, errOut = dbsync("y\n", "apply", "v2", "--env", "prod")
	if code != 0 || !strings.Contains(out, "conflict resolved by ours") {
		t.Fatalf("answer y: exit %d\n%s\n%s", code, out, errOut)
	}
	v.Reset()
	sqltool.Query(prod, "SELECT v FROM s ORDER BY k", &v)
	if v.String() != "prod\ndev\n" {
		t.Fatalf("after apply: %q (the policy keeps prod's a, takes dev's b)", v.String())
	}
}
