package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitdbsync/git-dbsync/internal/dbtest"
	"github.com/gitdbsync/git-dbsync/internal/gittest"
)

// crashRepo builds a repository whose v2 changes thousands of rows of a
// config table, and a target "prod" at v1 on an engine. It returns the
// repository, prod's URL and the URL of a copy of prod at v1.
func crashRepo(t *testing.T, engine string) (dir, prod, before string) {
	t.Helper()
	dir = gittest.Init(t)
	git := func(args ...string) { gittest.Run(t, dir, args...) }
	dev := dbtest.NewDatabase(t, engine)
	prod = dbtest.NewDatabase(t, engine)
	before = dbtest.NewDatabase(t, engine)
	exec1 := func(url, sql string) {
		t.Helper()
		if err := dbtest.Exec(url, dbtest.Render(sql, engine)); err != nil {
			t.Fatal(err)
		}
	}
	exec1(dev, `CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, weight INTEGER, note VARCHAR(50));
CREATE TABLE settings (name VARCHAR(50) PRIMARY KEY, value VARCHAR(50));
INSERT INTO settings VALUES ('site', 'one'), ('mode', 'fast');
INSERT INTO items SELECT i, concat('item ', i), i % 7, NULL FROM (`+sequence(1, 10000)+`) s;`)
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte(`[env "dev"]
	url = `+dev+`
[env "prod"]
	url = `+prod+`
[tables]
	config = items settings
[table "items"]
	layout = lines
`), 0o644)
	dbsync(t, dir, nil, "export")
	git("add", "-A")
	git("commit", "-q", "-m", "v1")
	git("tag", "v1")
	if err := dbtest.Copy(dev, prod); err != nil {
		t.Fatal(err)
	}
	dbsync(t, dir, nil, "apply", "v1", "--env", "prod", "--yes")
	exec1(dev, `UPDATE items SET weight = weight + 100, note = 'changed' WHERE id % 3 = 0;
DELETE FROM items WHERE id % 10 = 1;
INSERT INTO items SELECT i, concat('new ', i), 1, 'n' FROM (`+sequence(20001, 21000)+`) s;
UPDATE settings SET value = 'two' WHERE name = 'site';`)
	dbsync(t, dir, nil, "export")
	git("add", "-A")
	git("commit", "-q", "-m", "v2")
	git("tag", "v2")
	if err := dbtest.Copy(prod, before); err != nil {
		t.Fatal(err)
	}
	return dir, prod, before
}

// sequence is a query of the integers from..to (below 100,000), on every
// engine: digits crossed, as MariaDB bounds recursive queries to 1000 rows.
func sequence(from, to int) string {
	digits := "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)"
	return fmt.Sprintf("SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * g.d AS i FROM %s a, %s b, %s c, %s e, %s g WHERE a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * g.d BETWEEN %d AND %d",
		digits, digits, digits, digits, digits, from, to)
}

// dbsync runs git dbsync in dir and returns its combined output. Right
// after a killed run the server may still be rolling its transaction back
// and holding the database: that refusal is retried for a while.
func dbsync(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	for attempt := 0; ; attempt++ {
		cmd := exec.Command("git", append([]string{"dbsync"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil && strings.Contains(string(out), "holds") && attempt < 50 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatalf("git dbsync %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
}

// state summarizes a target: a hash of its config rows and its number of
// ledger entries.
func state(t *testing.T, db string) string {
	t.Helper()
	var rows string
	for _, q := range []string{"SELECT id, name, weight, note FROM items ORDER BY id", "SELECT name, value FROM settings ORDER BY name"} {
		out, err := dbtest.Query(db, q)
		if err != nil {
			t.Fatal(err)
		}
		rows += out
	}
	n, err := dbtest.Query(db, "SELECT count(*) FROM dbsync_ledger")
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x ledger=%s", sha256.Sum256([]byte(rows)), strings.TrimSpace(n))
}

// settled waits until no other client works in the database: a run killed
// just after it sent COMMIT leaves its server session finishing that
// commit, and a state read in several queries must not straddle it (it
// once read the rows before the commit and the ledger after).
func settled(t *testing.T, db string) {
	t.Helper()
	var q string
	switch dbtest.Engine(db) {
	case "postgres":
		q = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
	case "mysql":
		q = "SELECT count(*) FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()"
	default:
		return // a killed process leaves no session behind
	}
	for i := 0; i < 400; i++ {
		if n, err := dbtest.Query(db, q); err == nil && strings.TrimSpace(n) == "0" {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("a killed run's session still works in %s after 10 s", db)
}

// Killing an apply at any instant leaves the target exactly as before or
// fully applied, and the next status and apply say which and finish.
func TestCrashAnywhereLeavesBeforeOrAfter(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) { crashTest(t, engine) })
	}
}

func crashTest(t *testing.T, engine string) {
	dir, prod, before := crashRepo(t, engine)
	lockFile := filepath.Join(dir, ".git", "dbsync", "locks", "prod", "v2.lock")
	reset := func() {
		if err := dbtest.Copy(before, prod); err != nil {
			t.Fatal(err)
		}
		os.Remove(lockFile)
	}
	reset()
	stateBefore := state(t, prod)
	start := time.Now()
	dbsync(t, dir, nil, "apply", "v2", "--env", "prod", "--yes")
	full := time.Since(start)
	stateAfter := state(t, prod)
	if stateBefore == stateAfter {
		t.Fatal("v2 changed nothing")
	}
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	points := []string{"after-lock", "after-begin", "mid-write", "before-commit", "after-commit"}
	runs, sawBefore, sawAfter := soakCount("DBSYNC_SOAK_KILLS", 20), 0, 0
	for i := 0; i < runs; i++ {
		reset()
		cmd := exec.Command("git", "dbsync", "apply", "v2", "--env", "prod", "--yes")
		cmd.Dir = dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		how := ""
		if i < len(points)*2 { // every named point twice, then random instants
			how = points[i%len(points)]
			cmd.Env = append(os.Environ(), "DBSYNC_FAULT="+how)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if how == "" {
			delay := time.Duration(rng.Int63n(int64(full)))
			how = "kill after " + delay.Round(time.Millisecond).String()
			time.Sleep(delay)
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // git and git-dbsync both
		}
		cmd.Wait()
		settled(t, prod)

		got := state(t, prod)
		switch got {
		case stateBefore:
			sawBefore++
		case stateAfter:
			sawAfter++
		default:
			t.Fatalf("run %d (%s): the target is neither as before (%s) nor fully applied (%s): %s", i, how, stateBefore, stateAfter, got)
		}
		// status tells a run that died, if its lock file says applying.
		status := dbsync(t, dir, nil, "status", "--env", "prod")
		lockData, _ := os.ReadFile(lockFile)
		if bytes.Contains(lockData, []byte(`"state": "applying"`)) && !strings.Contains(status, "crashed:   the apply of v2") {
			t.Fatalf("run %d (%s): status does not report the crashed apply:\n%s", i, how, status)
		}
		// The next apply settles the lock against the ledger and finishes.
		out := dbsync(t, dir, nil, "apply", "v2", "--env", "prod", "--yes")
		if got == stateAfter && !strings.Contains(out, "already at v2") {
			t.Fatalf("run %d (%s): after a committed apply, the next one should be a no-op:\n%s", i, how, out)
		}
		if bytes.Contains(lockData, []byte(`"state": "applying"`)) {
			want := "never committed"
			if got == stateAfter {
				want = "the ledger shows its transaction committed"
			}
			if !strings.Contains(out, want) {
				t.Fatalf("run %d (%s): the next apply does not explain the crash (%q):\n%s", i, how, want, out)
			}
		}
		if s := state(t, prod); s != stateAfter {
			t.Fatalf("run %d (%s): after the next apply the target is %s, want %s", i, how, s, stateAfter)
		}
		lockData, _ = os.ReadFile(lockFile)
		if !bytes.Contains(lockData, []byte(`"state": "applied"`)) {
			t.Fatalf("run %d (%s): lock file not applied:\n%s", i, how, lockData)
		}
	}
	t.Logf("soak %s: %d kills: %d left the target as before, %d fully applied, 0 anything else (full apply %v)", engine, runs, sawBefore, sawAfter, full.Round(time.Millisecond))
	if sawBefore == 0 || sawAfter == 0 {
		t.Errorf("the kills never hit one side (before %d, after %d)", sawBefore, sawAfter)
	}
}

// Two applies at once on one target: one proceeds, the other fails at once
// naming the holder.
func TestConcurrentAppliesOneWins(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) { concurrentTest(t, engine) })
	}
}

func concurrentTest(t *testing.T, engine string) {
	dir, _, _ := crashRepo(t, engine)
	first := exec.Command("git", "dbsync", "apply", "v2", "--env", "prod", "--yes")
	first.Dir = dir
	first.Env = append(os.Environ(), "DBSYNC_PAUSE=after-lock")
	var firstOut bytes.Buffer
	first.Stdout, first.Stderr = &firstOut, &firstOut
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	envLock := filepath.Join(dir, ".git", "dbsync", "locks", "prod.lock")
	for i := 0; i < 200; i++ {
		if data, err := os.ReadFile(envLock); err == nil && len(data) > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	second := exec.Command("git", "dbsync", "apply", "v2", "--env", "prod", "--yes")
	second.Dir = dir
	out, err := second.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != exitLocked {
		t.Fatalf("second apply: %v, want exit %d\n%s", err, exitLocked, out)
	}
	if first.ProcessState != nil {
		t.Fatal("the first apply ended before the second was refused")
	}
	if !strings.Contains(string(out), `error: environment "prod" is locked: apply of v2 by `) ||
		!strings.Contains(string(out), fmt.Sprintf("(pid %d)", childPID(t, first.Process.Pid))) {
		t.Errorf("second apply does not name the holder:\n%s", out)
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("first apply: %v\n%s", err, firstOut.String())
	}
	if !strings.Contains(firstOut.String(), "applied v2") {
		t.Errorf("first apply:\n%s", firstOut.String())
	}
}

// Two clones apply the same revision to one target at the same instant,
// again and again: each time exactly one apply is recorded, and the other
// either lost the race (exit 4, nothing written) or found it applied.
//
// On PostgreSQL through PgBouncer in transaction mode (20 races in make
// test), the lock that decides is the transaction's, and the application's
// write through the pool works after them.
func TestRacesBetweenClonesOneWins(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) { raceTest(t, engine, "", 5) })
	}
	if slices.Contains(dbtest.Engines, "postgres") {
		t.Run("pgbouncer", func(t *testing.T) { raceTest(t, "postgres", dbtest.PgBouncer(t), 20) })
	}
}

// raceTest races two clones' applies of one release to prod, reached
// through pool when it is set, short times (or $DBSYNC_SOAK_RACES).
func raceTest(t *testing.T, engine, pool string, short int) {
	dir, prod, before := crashRepo(t, engine)
	other := filepath.Join(t.TempDir(), "other")
	gittest.Run(t, dir, "clone", "-q", dir, other)
	os.WriteFile(filepath.Join(other, ".dbsync"), mustRead(t, filepath.Join(dir, ".dbsync")), 0o644)
	var env []string
	pooled := ""
	if pool != "" {
		pooled = dbtest.Through(t, pool, prod)
		env = []string{"DBSYNC_ENV_PROD_URL=" + pooled}
		engine += " through PgBouncer"
	}
	runs, oneLost, sequential := soakCount("DBSYNC_SOAK_RACES", short), 0, 0
	for i := 0; i < runs; i++ {
		if err := dbtest.Copy(before, prod); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{dir, other} {
			os.RemoveAll(filepath.Join(d, ".git", "dbsync", "locks"))
		}
		codes := make([]int, 2)
		outs := make([][]byte, 2)
		done := make(chan int, 2)
		for k, d := range []string{dir, other} {
			go func() {
				cmd := exec.Command("git", "dbsync", "apply", "v2", "--env", "prod", "--yes")
				cmd.Dir, cmd.Env = d, append(os.Environ(), env...)
				outs[k], _ = cmd.CombinedOutput()
				codes[k] = cmd.ProcessState.ExitCode()
				done <- k
			}()
		}
		<-done
		<-done
		entries, err := dbtest.Query(prod, "SELECT count(*) FROM dbsync_ledger WHERE kind = 'apply' AND revision = 'v2'")
		if err != nil || strings.TrimSpace(entries) != "1" {
			t.Fatalf("race %d: %s applies of v2 recorded (%v)\n%s\n%s", i, strings.TrimSpace(entries), err, outs[0], outs[1])
		}
		switch {
		case codes[0]+codes[1] == exitLocked && (codes[0] == 0 || codes[1] == 0):
			oneLost++
		case codes[0] == 0 && codes[1] == 0 && (bytes.Contains(outs[0], []byte("already at v2")) || bytes.Contains(outs[1], []byte("already at v2"))):
			sequential++
		default:
			t.Fatalf("race %d: exit codes %v\n%s\n%s", i, codes, outs[0], outs[1])
		}
	}
	t.Logf("soak %s: %d two-way races: %d with one winner and one loser (exit %d), %d where the second found it applied, 0 with two winners",
		engine, runs, oneLost, exitLocked, sequential)
	if pooled != "" {
		if err := dbtest.Exec(pooled, "INSERT INTO settings VALUES ('app', 'the application, after the races')"); err != nil {
			t.Errorf("the application's write through the pool: %v", err)
		}
	}
}

// soakCount returns how many times a soak loop runs: a short loop in make
// test, $NAME of them under make soak.
func soakCount(name string, short int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return short
}

func mustRead(t *testing.T, p string) []byte {
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// childPID returns the pid of git-dbsync, the child that git started.
func childPID(t *testing.T, gitPID int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", gitPID, gitPID))
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	fmt.Sscan(string(data), &pid)
	return pid
}
