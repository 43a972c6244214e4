package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitdbsync/git-dbsync/internal/gittest"
	"github.com/gitdbsync/git-dbsync/internal/sqltool"
)

// An export killed (SIGKILL) or stopped (SIGTERM, SIGINT) half-way leaves
// nothing in the working tree for git to pick up: its temporary files are
// under .git/dbsync/tmp, removed by the signal's clean-up or by the next
// export once their process is gone; the next export and a commit see only
// table files.
func TestInterruptedExportLeavesNothing(t *testing.T) {
	for i, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM, syscall.SIGINT, syscall.SIGKILL} {
		layout := []string{"rows", "rows", "rows", "lines"}[i]
		t.Run(sig.String()+"/"+layout, func(t *testing.T) {
			dir := gittest.Init(t)
			db := filepath.Join(dir, "dev.db")
			if err := sqltool.Exec(db, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);"+
				"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO items SELECT i, 'item ' || i FROM n;"); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = sqlite:dev.db\n[tables]\n\tconfig = items\n[table \"items\"]\n\tlayout = "+layout+"\n"), 0o644)
			os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("dev.db\n"), 0o644)
			dbsync(t, dir, nil, "export")
			gittest.Run(t, dir, "add", "-A")
			gittest.Run(t, dir, "commit", "-q", "-m", "v1")
			sqltool.Exec(db, "UPDATE items SET name = name || ' changed'")

			cmd := exec.Command("git", "dbsync", "export")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "DBSYNC_PAUSE=mid-export")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			child := waitForChild(t, cmd.Process.Pid)
			tmp := filepath.Join(dir, ".git", "dbsync", "tmp")
			waitFor(t, "temporary files of the export", func() bool {
				entries, _ := os.ReadDir(filepath.Join(tmp, itoa(child)))
				return len(entries) > 0
			})
			syscall.Kill(child, sig)
			err := cmd.Wait()
			if sig != syscall.SIGKILL {
				var exit *exec.ExitError
				if !errorsAs(err, &exit) || exit.ExitCode() != exitInterrupted {
					t.Errorf("%s: exit %v, want %d", sig, err, exitInterrupted)
				}
				if _, err := os.Stat(filepath.Join(tmp, itoa(child))); err == nil {
					t.Errorf("%s: the export's temporary directory is left", sig)
				}
			}
			if out := gitOut(t, dir, "status", "--porcelain", "--untracked-files=all"); out != "" {
				t.Errorf("%s: git sees\n%s", sig, out)
			}
			filepath.Walk(filepath.Join(dir, "db"), func(p string, fi os.FileInfo, err error) error {
				if err == nil && strings.HasSuffix(p, ".tmp") {
					t.Errorf("%s: a temporary file in the export directory: %s", sig, p)
				}
				return nil
			})
			out := dbsync(t, dir, nil, "export")
			if !strings.Contains(out, "3000 changed") {
				t.Errorf("the next export:\n%s", out)
			}
			if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
				t.Errorf("left in %s: %v", tmp, entries)
			}
		})
	}
}

// waitForChild returns the pid of the git-dbsync process git started.
func waitForChild(t *testing.T, gitPID int) int {
	t.Helper()
	var pid int
	waitFor(t, "git dbsync to start", func() bool {
		data, _ := os.ReadFile("/proc/" + itoa(gitPID) + "/task/" + itoa(gitPID) + "/children")
		if fields := strings.Fields(string(data)); len(fields) > 0 {
			pid = atoi(fields[0])
		}
		return pid > 0
	})
	return pid
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("waited 20 s for %s", what)
}

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gittest.Env(dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return string(out)
}

func itoa(n int) string { return strconv.Itoa(n) }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
