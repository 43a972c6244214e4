package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/gitdbsync/git-dbsync/internal/gittest"
	"github.com/gitdbsync/git-dbsync/internal/sqltool"
)

// On a terminal, plans are in colour and long work shows its progress on
// stderr; in a pipe, neither. The pauses ($DBSYNC_PAUSE, two seconds) make
// the work outlast the second after which progress shows.
func TestColorAndProgressOnTerminal(t *testing.T) {
	dir := gittest.Init(t)
	dev, prod := filepath.Join(dir, "dev.db"), filepath.Join(dir, "prod.db")
	if err := sqltool.Exec(dev, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);"+
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) INSERT INTO items SELECT i, 'item ' || i FROM n;"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = sqlite:dev.db\n[env \"prod\"]\n\turl = sqlite:prod.db\n[tables]\n\tconfig = items\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("*.db\n"), 0o644)
	dbsync(t, dir, nil, "export")
	gittest.Run(t, dir, "add", "-A")
	gittest.Run(t, dir, "commit", "-q", "-m", "v1")
	gittest.Run(t, dir, "tag", "v1")
	data, _ := os.ReadFile(dev)
	os.WriteFile(prod, data, 0o644)
	dbsync(t, dir, nil, "apply", "v1", "--env", "prod", "--yes")
	sqltool.Exec(dev, "UPDATE items SET name = name || ' changed' WHERE id <= 200; DELETE FROM items WHERE id > 290")

	bar := func(phase string) string { return phase + " " } // the bar's description, then the spinner or bar
	t.Run("export", func(t *testing.T) {
		out := onTerminal(t, dir, "DBSYNC_PAUSE=mid-export", "export")
		if !strings.Contains(out, bar("exporting")) || !strings.Contains(out, "rows") {
			t.Errorf("no progress on the terminal:\n%q", out)
		}
		if !strings.Contains(out, "200 changed, 10 removed") {
			t.Errorf("no summary:\n%q", out)
		}
	})
	gittest.Run(t, dir, "add", "-A")
	gittest.Run(t, dir, "commit", "-q", "-m", "v2")
	gittest.Run(t, dir, "tag", "v2")
	t.Run("plan", func(t *testing.T) {
		out := onTerminal(t, dir, "", "plan", "v2", "--env", "prod")
		if !strings.Contains(out, "\x1b[33m~ 1\x1b[0m") || !strings.Contains(out, "\x1b[32m\"item 1 changed\"\x1b[0m") {
			t.Errorf("no colour on the terminal:\n%q", out)
		}
		piped := inPipe(t, dir, "", "plan", "v2", "--env", "prod")
		if strings.Contains(piped, "\x1b") || !strings.Contains(piped, "  ~ 1\n") {
			t.Errorf("in a pipe:\n%q", piped)
		}
	})
	t.Run("apply", func(t *testing.T) {
		piped := inPipe(t, dir, "DBSYNC_PAUSE=mid-write", "apply", "v2", "--env", "prod", "--yes", "--stat")
		if strings.Contains(piped, "\x1b") || strings.Contains(piped, "writing") {
			t.Errorf("progress or colour in a pipe:\n%q", piped)
		}
		dbsync(t, dir, nil, "rollback", "v2", "--env", "prod", "--yes")
		out := onTerminal(t, dir, "DBSYNC_PAUSE=mid-write", "apply", "v2", "--env", "prod", "--yes", "--stat")
		if !strings.Contains(out, bar("writing")) || !strings.Contains(out, "210") {
			t.Errorf("no progress of the writes on the terminal:\n%q", out)
		}
		if !strings.Contains(out, "applied v2") {
			t.Errorf("no summary:\n%q", out)
		}
	})
	// A new phase replaces the previous one's line: the planning spinner
	// shown while the transaction begins is gone for good once the
	// writes' bar shows, never drawn again over it.
	t.Run("phases", func(t *testing.T) {
		dbsync(t, dir, nil, "rollback", "v2", "--env", "prod", "--yes")
		out := onTerminal(t, dir, "DBSYNC_PAUSE=after-begin,mid-write", "apply", "v2", "--env", "prod", "--yes", "--stat")
		first, writing := strings.Index(out, bar("planning")), strings.Index(out, bar("writing"))
		if first < 0 || writing < first {
			t.Fatalf("want the planning phase, then the writes:\n%q", out)
		}
		if strings.Contains(out[writing:], "planning") {
			t.Errorf("the planning spinner was drawn again after the writes' bar:\n%q", out)
		}
		if !strings.Contains(out[first:writing], "\x1b[2K") {
			t.Errorf("the planning line was not cleared before the writes' bar:\n%q", out)
		}
	})
	t.Run("quiet", func(t *testing.T) {
		out := onTerminal(t, dir, "DBSYNC_PAUSE=mid-write", "rollback", "v2", "--env", "prod", "--yes", "-q")
		if out != "" {
			t.Errorf("-q printed on the terminal:\n%q", out)
		}
	})
}

// onTerminal runs git dbsync with stdin, stdout and stderr on a
// pseudo-terminal and returns what it printed there.
func onTerminal(t *testing.T, dir, env string, args ...string) string {
	t.Helper()
	cmd := dbsyncCommand(dir, env, args...)
	term, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	io.Copy(&out, term) // until the command closes its end
	term.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("git dbsync %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// inPipe runs git dbsync with its output in a pipe.
func inPipe(t *testing.T, dir, env string, args ...string) string {
	t.Helper()
	out, err := dbsyncCommand(dir, env, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("git dbsync %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func dbsyncCommand(dir, env string, args ...string) *exec.Cmd {
	cmd := exec.Command("git", append([]string{"dbsync"}, args...)...)
	cmd.Dir = dir
	for _, v := range gittest.Env(dir) {
		if !strings.HasPrefix(v, "NO_COLOR=") {
			cmd.Env = append(cmd.Env, v)
		}
	}
	cmd.Env = append(cmd.Env, "TERM=xterm", env)
	return cmd
}
