package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitdbsync/git-dbsync/internal/sqltool"
)

// crashRepo builds a repository whose v2 changes thousands of rows of a
// config table, a target "prod" at v1, and returns the repository with
// the bytes of prod's database before v2.
func crashRepo(t *testing.T) (dir string, before []byte) {
	t.Helper()
	dir = t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir, "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@x",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@x")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	dev := filepath.Join(dir, "var", "dev.db")
	sql := `CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, weight INTEGER, note TEXT);
CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT);
INSERT INTO settings VALUES ('site', 'one'), ('mode', 'fast');
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 10000)
INSERT INTO items SELECT i, 'item ' || i, i % 7, NULL FROM s;`
	if err := sqltool.Exec(dev, sql); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte(`[env "dev"]
	url = sqlite:var/dev.db
[env "prod"]
	url = sqlite:var/prod.db
[tables]
	config = items settings
[table "items"]
	layout = lines
`), 0o644)
	os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("var/\n"), 0o644)
	git("init", "-q")
	dbsync(t, dir, nil, "export")
	git("add", "-A")
	git("commit", "-q", "-m", "v1")
	git("tag", "v1")
	data, _ := os.ReadFile(dev)
	prod := filepath.Join(dir, "var", "prod.db")
	os.WriteFile(prod, data, 0o644)
	dbsync(t, dir, nil, "apply", "v1", "--env", "prod", "--yes")
	if err := sqltool.Exec(dev, `UPDATE items SET weight = weight + 100, note = 'changed' WHERE id % 3 = 0;
DELETE FROM items WHERE id % 10 = 1;
WITH RECURSIVE s(i) AS (SELECT 20001 UNION ALL SELECT i + 1 FROM s WHERE i < 21000) INSERT INTO items SELECT i, 'new ' || i, 1, 'n' FROM s;
UPDATE settings SET value = 'two' WHERE name = 'site';`); err != nil {
		t.Fatal(err)
	}
	dbsync(t, dir, nil, "export")
	git("add", "-A")
	git("commit", "-q", "-m", "v2")
	git("tag", "v2")
	before, _ = os.ReadFile(prod)
	return dir, before
}

// dbsync runs git dbsync in dir and returns its combined output.
func dbsync(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"dbsync"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git dbsync %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// state summarizes a target: the hash of its config rows and its number
// of ledger entries.
func state(t *testing.T, db string) string {
	t.Helper()
	var b bytes.Buffer
	for _, q := range []string{"SELECT * FROM items ORDER BY id", "SELECT * FROM settings ORDER BY name"} {
		if err := sqltool.Query(db, q, &b); err != nil {
			t.Fatal(err)
		}
	}
	var n bytes.Buffer
	if err := sqltool.Query(db, "SELECT count(*) FROM dbsync_ledger", &n); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x ledger=%s", sha256.Sum256(b.Bytes()), strings.TrimSpace(n.String()))
}

// Killing an apply at any instant leaves the target exactly as before or
// fully applied, and the next status and apply say which and finish.
func TestCrashAnywhereLeavesBeforeOrAfter(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test runs many applies")
	}
	dir, before := crashRepo(t)
	prod := filepath.Join(dir, "var", "prod.db")
	lockFile := filepath.Join(dir, ".git", "dbsync", "locks", "prod", "v2.lock")
	reset := func() {
		os.Remove(prod + "-journal")
		if err := os.WriteFile(prod, before, 0o644); err != nil {
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
	runs, sawBefore, sawAfter := 60, 0, 0
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

		got := state(t, prod)
		switch got {
		case stateBefore:
			sawBefore++
		case stateAfter:
			sawAfter++
		default:
			t.Fatalf("run %d (%s): the target is neither as before nor fully applied: %s", i, how, got)
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
	t.Logf("%d kills: %d left the target as before, %d fully applied (full apply %v)", runs, sawBefore, sawAfter, full.Round(time.Millisecond))
	if sawBefore == 0 || sawAfter == 0 {
		t.Errorf("the kills never hit one side (before %d, after %d)", sawBefore, sawAfter)
	}
}

// Two applies at once on one target: one proceeds, the other fails at once
// naming the holder.
func TestConcurrentAppliesOneWins(t *testing.T) {
	dir, _ := crashRepo(t)
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
	if !strings.Contains(string(out), fmt.Sprintf(`error: environment "prod" is locked: apply of v2 by `)) ||
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
