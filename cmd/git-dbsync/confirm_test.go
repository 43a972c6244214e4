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

// On a terminal, pull and restore ask first and a manual step asks even
// with --yes; only "y" goes on, and a "no" writes nothing.
func TestPullRestoreAndManualStepsAsk(t *testing.T) {
	dir := gittest.Init(t)
	git := func(args ...string) { gittest.Run(t, dir, args...) }
	dev, prod := filepath.Join(dir, "dev.db"), filepath.Join(dir, "prod.db")
	for _, db := range []string{dev, prod} {
		if err := sqltool.Exec(db, "CREATE TABLE s (k TEXT PRIMARY KEY, v TEXT); CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT);"); err != nil {
			t.Fatal(err)
		}
	}
	sqltool.Exec(dev, "INSERT INTO s VALUES ('a', '1')")
	sqltool.Exec(prod, "INSERT INTO posts VALUES (1, 'from prod')")
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = sqlite:dev.db\n[env \"prod\"]\n\turl = sqlite:prod.db\n"+
		"\tmanual = tell the team\n\tafter = touch after-ran\n[tables]\n\tconfig = s\n\tcontent = posts\n"), 0o644)
	dbsync := askedOnTerminal(t, dir)
	query := func(db, q string) string {
		var v bytes.Buffer
		sqltool.Query(db, q, &v)
		return v.String()
	}

	code, out := dbsync("n\n", "pull", "--from", "prod")
	if code != 0 || !strings.Contains(out, "posts (content): every row") || !strings.Contains(out, `Replace these tables' rows of "dev" with "prod"'s? [y/N]`) ||
		!strings.Contains(out, "nothing pulled") || query(dev, "SELECT count(*) FROM posts") != "0\n" {
		t.Fatalf("pull, answer n: exit %d\n%s", code, out)
	}
	if code, out = dbsync("y\n", "pull", "--from", "prod"); code != 0 || query(dev, "SELECT title FROM posts") != "from prod\n" {
		t.Fatalf("pull, answer y: exit %d\n%s", code, out)
	}

	if code, out := dbsync("", "export"); code != 0 {
		t.Fatal(out)
	}
	git("add", "-A")
	git("commit", "-q", "-m", "v1")
	git("tag", "v1")
	code, out = dbsync("n\n", "apply", "v1", "--env", "prod", "--yes")
	_, afterErr := os.Stat("after-ran")
	if code != exitError || !strings.Contains(out, "manual step: tell the team\nDone? [y/N]") || !strings.Contains(out, `manual "tell the team": declined`) ||
		query(prod, "SELECT count(*) FROM s") != "0\n" || afterErr != nil {
		t.Fatalf("manual step, answer n: exit %d, after step %v\n%s", code, afterErr, out)
	}
	if code, out = dbsync("y\n", "apply", "v1", "--env", "prod", "--yes"); code != 0 || query(prod, "SELECT v FROM s") != "1\n" {
		t.Fatalf("manual step, answer y: exit %d\n%s", code, out)
	}

	sqltool.Exec(prod, "UPDATE s SET v = 'edited'")
	code, out = dbsync("n\n", "restore", "--env", "prod")
	if code != exitError || !strings.Contains(out, `Restore backup `) || !strings.Contains(out, "before apply v1") || query(prod, "SELECT v FROM s") != "edited\n" {
		t.Fatalf("restore, answer n: exit %d\n%s", code, out)
	}
	// The restore asks, then its manual step does, as an apply's would.
	if code, out = dbsync("y\ny\n", "restore", "--env", "prod"); code != 0 || query(prod, "SELECT count(*) FROM s") != "0\n" ||
		!strings.Contains(out, "manual step: tell the team\nDone? [y/N]") {
		t.Fatalf("restore, answer y: exit %d\n%s", code, out)
	}
}

// On a terminal, an apply to several environments asks the manual and
// confirm steps of each, naming the environment, one question at a time
// even when --jobs runs them together; a "no" stops that environment only.
func TestApplyManyAsksStepsPerEnvironment(t *testing.T) {
	dir := gittest.Init(t)
	git := func(args ...string) { gittest.Run(t, dir, args...) }
	dbs := map[string]string{}
	for _, env := range []string{"dev", "staging", "prod"} {
		dbs[env] = filepath.Join(dir, env+".db")
		if err := sqltool.Exec(dbs[env], "CREATE TABLE s (k TEXT PRIMARY KEY, v TEXT);"); err != nil {
			t.Fatal(err)
		}
	}
	sqltool.Exec(dbs["dev"], "INSERT INTO s VALUES ('a', '1')")
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = sqlite:dev.db\n"+
		"[env \"staging\"]\n\turl = sqlite:staging.db\n\tmanual = warm the cache\n\tconfirm = is the shop closed\n"+
		"[env \"prod\"]\n\turl = sqlite:prod.db\n\tmanual = tell the team\n[tables]\n\tconfig = s\n"), 0o644)
	dbsync := askedOnTerminal(t, dir)
	count := func(env string) string {
		var v bytes.Buffer
		sqltool.Query(dbs[env], "SELECT count(*) FROM s", &v)
		return v.String()
	}
	if code, out := dbsync("", "export"); code != 0 {
		t.Fatal(out)
	}
	git("add", "-A")
	git("commit", "-q", "-m", "v1")
	git("tag", "v1")

	// One at a time, in the order given: staging's two steps, then prod's,
	// whose manual step is declined.
	code, out := dbsync("y\ny\ny\nn\n", "apply", "v1", "--env", "staging,prod")
	for _, want := range []string{
		"Apply v1 to 2 environments (staging, prod)? [y/N] ",
		"manual step on \"staging\": warm the cache\nDone? [y/N] confirm step on \"staging\": is the shop closed\nDone? [y/N] ",
		"manual step on \"prod\": tell the team\nDone? [y/N] ",
		"staging: applied",
		"prod: FAILED: manual \"tell the team\": declined",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("answers y, y, y, n: lacks %q", want)
		}
	}
	if code != exitError || strings.Contains(out, "needs an operator") || count("staging") != "1\n" || count("prod") != "0\n" {
		t.Fatalf("answers y, y, y, n: exit %d, staging %q, prod %q\n%s", code, count("staging"), count("prod"), out)
	}

	// Together (--jobs 2, --yes answers the confirm steps, never the
	// manual ones): each question whole, naming its environment.
	sqltool.Exec(dbs["dev"], "INSERT INTO s VALUES ('b', '2')")
	if code, out := dbsync("", "export"); code != 0 {
		t.Fatal(out)
	}
	git("add", "-A")
	git("commit", "-q", "-m", "v2")
	git("tag", "v2")
	code, out = dbsync("y\ny\n", "apply", "v2", "--env", "staging,prod", "--jobs", "2", "--yes")
	if code != 0 || count("prod") != "2\n" || count("staging") != "2\n" || strings.Count(out, "Done? [y/N] ") != 2 ||
		!strings.Contains(out, "manual step on \"prod\": tell the team\nDone? [y/N] ") ||
		!strings.Contains(out, "manual step on \"staging\": warm the cache\nDone? [y/N] ") || strings.Contains(out, "confirm step") {
		t.Fatalf("--jobs 2 --yes, answers y, y: exit %d, prod %q\n%s", code, count("prod"), out)
	}
}

// askedOnTerminal runs git dbsync in dir as on a terminal, answering its
// questions with input; it returns the exit code and all it printed.
func askedOnTerminal(t *testing.T, dir string) func(input string, args ...string) (int, string) {
	wd, _ := os.Getwd()
	t.Cleanup(func() { os.Chdir(wd) })
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	return func(input string, args ...string) (int, string) {
		var out bytes.Buffer
		code := run(args, &streams{In: strings.NewReader(input), Out: &out, Err: &out, Terminal: true})
		return code, out.String()
	}
}
