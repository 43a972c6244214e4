package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitdbsync/git-dbsync/internal/dbtest"
	"github.com/gitdbsync/git-dbsync/internal/gittest"
)

// An application holding a lock on a row the apply writes makes the apply
// wait lock-timeout, not for ever: it then exits 4 (locked), naming the
// table, and writes nothing.
func TestLockWaitIsBounded(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			dev, prod := dbtest.NewDatabase(t, engine), dbtest.NewDatabase(t, engine)
			schema := "CREATE TABLE settings (name VARCHAR(50) PRIMARY KEY, value VARCHAR(50)); INSERT INTO settings VALUES ('site', 'one'), ('mode', 'fast');"
			for _, u := range []string{dev, prod} {
				if err := dbtest.Exec(u, schema); err != nil {
					t.Fatal(err)
				}
			}
			dir := gittest.Init(t)
			os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = "+dev+"\n[env \"prod\"]\n\turl = "+prod+"\n\tlock-timeout = 1s\n[tables]\n\tconfig = settings\n"), 0o644)
			dbsync(t, dir, nil, "export")
			gittest.Run(t, dir, "add", "-A")
			gittest.Run(t, dir, "commit", "-q", "-m", "v1")
			gittest.Run(t, dir, "tag", "v1")
			dbsync(t, dir, nil, "apply", "v1", "--env", "prod", "--yes")
			dbtest.Exec(dev, "UPDATE settings SET value = 'two' WHERE name = 'site'")
			dbsync(t, dir, nil, "export")
			gittest.Run(t, dir, "commit", "-q", "-am", "v2")
			gittest.Run(t, dir, "tag", "v2")
			before, err := dbtest.Dump(prod)
			if err != nil {
				t.Fatal(err)
			}
			hold := "UPDATE settings SET value = value WHERE name = 'site'"
			release, err := dbtest.Hold(prod, hold)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			cmd := exec.Command("git", "dbsync", "apply", "v2", "--env", "prod", "--yes")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			waited := time.Since(start)
			release()
			var exit *exec.ExitError
			if !errorsAs(err, &exit) || exit.ExitCode() != exitLocked {
				t.Fatalf("apply: %v\n%s", err, out)
			}
			want := "waited 1s for "
			if engine != "sqlite" { // a row lock: the table is named
				want = `table "settings": update: ` + want
			}
			if !strings.Contains(string(out), want) {
				t.Errorf("apply said:\n%s", out)
			}
			t.Logf("%s: refused after %v", engine, waited.Round(10*time.Millisecond))
			if after, _ := dbtest.Dump(prod); after != before {
				t.Errorf("written:\n%s", after)
			}
		})
	}
}
