package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/internal/dbtest"
	"github.com/gitdbsync/git-dbsync/internal/fixture"
	"github.com/gitdbsync/git-dbsync/internal/sqltool"
)

// TestMain lets testscript run this test binary as git-dbsync, so that
// scripts call the real command through real git: "exec git dbsync …".
func TestMain(m *testing.M) {
	// This binary also runs as git-dbsync inside the scripts: those runs
	// find the log already set and append to it.
	logName := os.Getenv("DBSYNC_MESSAGE_LOG")
	if logName == "" {
		log, err := os.CreateTemp("", "dbsync-messages-*.log")
		if err != nil {
			panic(err)
		}
		log.Close()
		logName = log.Name()
		os.Setenv("DBSYNC_MESSAGE_LOG", logName)
	}
	testscript.Main(messageCheck{m, logName}, map[string]func(){
		"git-dbsync": func() { os.Exit(mainCode()) },
	})
}

// messageCheck fails the tests when anything git-dbsync printed on stderr
// while they ran (every error, warning and hint; each run appends to the
// log) shows a Go package path, a Go type or a pointer: what people read
// names files, tables, rows and columns.
type messageCheck struct {
	m   *testing.M
	log string
}

var notForPeople = regexp.MustCompile(`gitdb/[a-z]|Go type|&\[|\*[a-z]+\.[A-Z][A-Za-z]+|%!|0x[0-9a-f]{6,}`)

func (c messageCheck) Run() int {
	code := c.m.Run()
	data, _ := os.ReadFile(c.log)
	os.Remove(c.log)
	bad := 0
	for _, line := range strings.Split(string(data), "\n") {
		if notForPeople.MatchString(line) {
			if bad++; bad <= 20 {
				fmt.Fprintf(os.Stderr, "a message for people shows Go internals: %s\n", line)
			}
		}
	}
	if bad > 0 && code == 0 {
		return 1
	}
	return code
}

// -update rewrites the files a script compares output with (cmp stdout
// want/…) from what the commands printed: review the diff it makes.
var updateScripts = flag.Bool("update", false, "rewrite the files of testdata/script that cmp compares output with")

// TestScripts runs the SQLite scripts of testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, scriptParams(t, "../../testdata/script", ""))
}

// TestEngineScripts runs the scripts of testdata/script/engines on every
// engine. Each script gets fresh databases for the environments dev, prod
// and staging, named to git dbsync by $DBSYNC_ENV_<NAME>_URL.
func TestEngineScripts(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			testscript.Run(t, scriptParams(t, "../../testdata/script/engines", engine))
		})
	}
}

// TestManagerScripts runs the scripts of testdata/script/managers: the
// hooks driven by the real pre-commit framework, husky and lefthook, which
// testdata/managers/install.sh installs (make test runs it; a missing one
// fails the test).
func TestManagerScripts(t *testing.T) {
	tools := os.Getenv("DBSYNC_TOOLS")
	if tools == "" {
		home, _ := os.UserHomeDir()
		tools = filepath.Join(home, ".cache", "git-dbsync-tools")
	}
	bin := filepath.Join(tools, "node_modules", ".bin")
	for _, tool := range []string{filepath.Join(bin, "husky"), filepath.Join(bin, "lefthook")} {
		if _, err := os.Stat(tool); err != nil {
			t.Fatalf("%s is missing: run testdata/managers/install.sh", tool)
		}
	}
	if _, err := exec.LookPath("pre-commit"); err != nil {
		t.Fatal("pre-commit is not installed: run testdata/managers/install.sh")
	}
	p := scriptParams(t, "../../testdata/script/managers", "")
	setup := p.Setup
	p.Setup = func(env *testscript.Env) error {
		env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
		return setup(env)
	}
	testscript.Run(t, p)
}

// scriptParams runs the scripts of dir; with an engine, each script gets
// fresh databases of that engine for dev, prod and staging.
func scriptParams(t *testing.T, dir, engine string) testscript.Params {
	fixtures, err := filepath.Abs("../../testdata/fixtures")
	if err != nil {
		t.Fatal(err)
	}
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		UpdateScripts:       *updateScripts,
		// [engine:NAME] holds for the lines an engine alone is meant for:
		// what only engines that enforce it refuse.
		Condition: func(cond string) (bool, error) {
			if name, ok := strings.CutPrefix(cond, "engine:"); ok {
				return engine == name, nil
			}
			if name, ok := strings.CutPrefix(cond, "has:"); ok { // this run covers the engine (newdb)
				return slices.Contains(dbtest.Engines, name), nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
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
			env.Setenv("FIXTURES", fixtures)
			env.Setenv("DBSYNC_MESSAGE_LOG", os.Getenv("DBSYNC_MESSAGE_LOG"))
			if engine != "" {
				env.Setenv("ENGINE", engine)
				for _, name := range []string{"dev", "prod", "staging"} {
					env.Setenv(config.EnvVar(name), dbtest.NewDatabase(t, engine))
				}
			}
			if err := os.MkdirAll(home, 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(home, ".gitconfig"), []byte("[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"), 0o644)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"sqlexec":  cmdSQLExec,
			"sqlquery": cmdSQLQuery,
			"tree":     cmdTree,
			"dbexec":   cmdDBExec,
			"dbquery":  cmdDBQuery,
			"dbcopy":   cmdDBCopy,
			"team":     cmdTeam,
			"dbdump":   cmdDBDump,
			"exits":    cmdExits,
			"dblock":   cmdDBLock,
			"alias":    cmdAlias,
			"mdcheck":  cmdMDCheck,
			"readonly": func(ts *testscript.TestScript, neg bool, args []string) { cmdReadOnly(t, ts, neg, args) },
			// newdb ENV ENGINE makes a fresh database of ENGINE (sqlite,
			// postgres or mysql) for environment ENV: pulls across engines.
			"newdb": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 || neg {
					ts.Fatalf("usage: newdb ENV ENGINE")
				}
				ts.Setenv(config.EnvVar(args[0]), dbtest.NewDatabase(t, args[1]))
			},
		},
	}
}

// exits N PROG ARGS… runs a program that must exit with status N; its
// stdout and stderr are checked as exec's are.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	var exit *exec.ExitError
	if err := ts.Exec(args[1], args[2:]...); errors.As(err, &exit) {
		got = exit.ExitCode()
	} else if err != nil {
		ts.Fatalf("%v", err)
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// dblock ENV TABLE holds a lock on a table of an environment's database
// from a second connection, one no other session may read through, until
// the script ends: an application holding it.
func cmdDBLock(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: dblock ENV TABLE")
	}
	release, err := dbtest.HoldTable(envURL(ts, args[0]), args[1])
	ts.Check(err)
	ts.Defer(release)
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
		err := sqltool.Exec(ts.MkAbs(args[0]), fixture.Render(script, "sqlite"))
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

// envURL returns the database URL of an environment of an engine script,
// or env itself when it is a URL.
func envURL(ts *testscript.TestScript, env string) string {
	if strings.Contains(env, ":") {
		return env
	}
	u := ts.Getenv(config.EnvVar(env))
	if u == "" {
		ts.Fatalf("no database for environment %q", env)
	}
	return u
}

// readonly ENV points ENV at a read-only way to reach its database: the
// SQLite file made read-only (mode 0444), the PostgreSQL hot standby's
// copy of it ($DBSYNC_TEST_PG_STANDBY, once the standby has replayed the
// database), a MariaDB session that is read-only (the server's read_only
// is global, and the server is shared by every test).
func cmdReadOnly(t *testing.T, ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: readonly ENV")
	}
	u := envURL(ts, args[0])
	switch dbtest.Engine(u) {
	case "sqlite":
		ts.Check(os.Chmod(strings.TrimPrefix(u, "sqlite:"), 0o444))
	case "postgres":
		standby := os.Getenv("DBSYNC_TEST_PG_STANDBY")
		if standby == "" {
			ts.Fatalf("$DBSYNC_TEST_PG_STANDBY is not set: sh testdata/servers/start.sh starts the standby and prints it")
		}
		p, err := url.Parse(u)
		ts.Check(err)
		v, err := url.Parse(standby)
		ts.Check(err)
		p.Host = v.Host
		u = p.String()
		deadline := time.Now().Add(60 * time.Second)
		for {
			_, err := dbtest.Query(u, "SELECT 1")
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				ts.Fatalf("the standby has not replayed the database in 60 s: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	default:
		u = dbtest.ReadOnlyURL(t, u) // fails only on a URL the script itself made
	}
	ts.Setenv(config.EnvVar(args[0]), u)
}

// alias ENV OTHER points environment OTHER at ENV's database through
// another spelling of its URL: the SQLite file by another path, the
// server as localhost instead of 127.0.0.1.
func cmdAlias(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: alias ENV OTHER")
	}
	u := envURL(ts, args[0])
	switch dbtest.Engine(u) {
	case "sqlite":
		p := strings.TrimPrefix(u, "sqlite:")
		u = "sqlite:" + filepath.Dir(p) + string(filepath.Separator) + "." + string(filepath.Separator) + filepath.Base(p)
	default:
		if !strings.Contains(u, "127.0.0.1") {
			ts.Fatalf("alias: %s does not name 127.0.0.1", u)
		}
		u = strings.Replace(u, "127.0.0.1", "localhost", 1)
	}
	ts.Setenv(config.EnvVar(args[1]), u)
}

// dbexec ENV SQL|@FILE… runs statements (a fixture, rendered for the
// script's engine) on an environment's database.
func cmdDBExec(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: dbexec ENV SQL|@FILE...")
	}
	for _, a := range args[1:] {
		script := a
		if strings.HasPrefix(a, "@") {
			script = ts.ReadFile(a[1:])
		}
		u := envURL(ts, args[0])
		err := dbtest.Exec(u, fixture.Render(script, dbtest.Engine(u)))
		if neg {
			if err == nil {
				ts.Fatalf("dbexec succeeded unexpectedly")
			}
			return
		}
		ts.Check(err)
	}
}

// dbquery ENV QUERY prints the rows of a query, tab-separated.
func cmdDBQuery(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: dbquery ENV QUERY")
	}
	u := envURL(ts, args[0])
	out, err := dbtest.Query(u, fixture.Render(args[1], dbtest.Engine(u)))
	ts.Check(err)
	ts.Stdout().Write([]byte(out))
}

// dbdump ENV prints every row of every table of a database (its own
// tables included), sorted: compare two dumps to prove nothing was written.
func cmdDBDump(ts *testscript.TestScript, neg bool, args []string) {
	app := len(args) == 2 && args[0] == "-app" // the application's tables only
	if app {
		args = args[1:]
	}
	if len(args) != 1 || neg {
		ts.Fatalf("usage: dbdump [-app] ENV")
	}
	out, err := dbtest.Dump(envURL(ts, args[0]))
	ts.Check(err)
	if app {
		var kept []string
		for _, table := range strings.SplitAfter(out, "== ") {
			if !strings.HasPrefix(table, config.ReservedPrefix) {
				kept = append(kept, table)
			}
		}
		out = strings.Join(kept, "")
	}
	ts.Stdout().Write([]byte(out))
}

// dbcopy FROM TO copies one environment's database over another's.
func cmdDBCopy(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: dbcopy FROM TO")
	}
	ts.Check(dbtest.Copy(envURL(ts, args[0]), envURL(ts, args[1])))
}

// teamDbsync is the .dbsync of the team repository: the tables of the CMS
// fixture, the development database's URL set per clone in git config.
const teamDbsync = `[env "dev"]
[tables]
	config = settings menus menu_items roles permissions role_permissions content_types
	content = users posts comments
	cache = cache_*
	ignore = sessions watchdog
[table "settings"]
	exclude-columns = updated_at
`

// team sets up two developers, alice and bob, sharing origin.git: each a
// clone ($WORK/alice, $WORK/bob) with its own development database
// ($ALICE_DB, $BOB_DB, the databases of dev and staging) holding the CMS
// fixture, the hooks installed, and its URL in the clone's git config. The
// first commit is pushed. $DBSYNC_ENV_DEV_URL is unset, so that each clone
// finds its own database.
func cmdTeam(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: team")
	}
	alice, bob := envURL(ts, "dev"), envURL(ts, "staging")
	work := ts.Getenv("WORK")
	git := func(dir string, args ...string) {
		ts.Check(ts.Exec("git", append([]string{"-C", filepath.Join(work, dir)}, args...)...))
	}
	ts.Check(dbtest.Exec(alice, fixture.Render(ts.ReadFile(filepath.Join(ts.Getenv("FIXTURES"), "cms.sql")), ts.Getenv("ENGINE"))))
	ts.Check(ts.Exec("git", "init", "-q", "--bare", "-b", "main", filepath.Join(work, "origin.git")))
	ts.Check(ts.Exec("git", "init", "-q", "-b", "main", filepath.Join(work, "alice")))
	ts.Check(os.WriteFile(filepath.Join(work, "alice", ".dbsync"), []byte(teamDbsync), 0o644))
	ts.Check(os.WriteFile(filepath.Join(work, "alice", "README"), []byte("the shop\n"), 0o644))
	ts.Setenv(config.EnvVar("dev"), "")
	ts.Setenv(config.EnvVar("staging"), "")
	ts.Setenv("ALICE_DB", alice)
	ts.Setenv("BOB_DB", bob)
	git("alice", "config", "dbsync.env.dev.url", alice)
	git("alice", "dbsync", "hooks", "install")
	git("alice", "add", "-A")
	git("alice", "commit", "-q", "-m", "config")
	git("alice", "remote", "add", "origin", filepath.Join(work, "origin.git"))
	git("alice", "push", "-q", "-u", "origin", "main")
	ts.Check(dbtest.Copy(alice, bob))
	ts.Check(ts.Exec("git", "clone", "-q", filepath.Join(work, "origin.git"), filepath.Join(work, "bob")))
	git("bob", "config", "dbsync.env.dev.url", bob)
	git("bob", "dbsync", "hooks", "install")
}
