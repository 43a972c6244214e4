package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/internal/dbtest"
	"github.com/gitdbsync/git-dbsync/internal/gittest"
	"github.com/gitdbsync/git-dbsync/internal/sqltool"
)

// No command prints a password, whatever form the URL takes: each of the
// forms, as the URL of an environment that cannot be reached, through
// export, status, plan, apply, diff, sync and init.
func TestPasswordsNeverPrinted(t *testing.T) {
	dir := gittest.Init(t)
	sqltool.Exec(filepath.Join(dir, "dev.db"), "CREATE TABLE s (k TEXT PRIMARY KEY, v TEXT); INSERT INTO s VALUES ('a', '1');")
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = sqlite:dev.db\n[env \"prod\"]\n[tables]\n\tconfig = s\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("dev.db\n"), 0o644)
	dbsync(t, dir, nil, "export")
	gittest.Run(t, dir, "add", "-A")
	gittest.Run(t, dir, "commit", "-q", "-m", "v1")
	gittest.Run(t, dir, "tag", "v1")
	commands := [][]string{
		{"export", "--env", "prod"}, {"status", "--env", "prod"}, {"plan", "v1", "--env", "prod"},
		{"apply", "v1", "--env", "prod", "--yes"}, {"diff", "--env", "prod"}, {"sync", "--env", "prod"},
		{"rollback", "--env", "prod", "--yes"},
	}
	for _, form := range dbtest.PasswordForms {
		for _, args := range append(commands, []string{"init", "--env", "prod", "--force", "--url", form}) {
			cmd := exec.Command("git", append([]string{"dbsync"}, args...)...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "DBSYNC_ENV_PROD_URL="+form)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Errorf("%s with %q: did not fail", strings.Join(args, " "), form)
			}
			if strings.Contains(string(out), "s3cr3t") {
				t.Errorf("%s with %q printed the password:\n%s", strings.Join(args, " "), form, out)
			}
		}
	}
	if data, _ := os.ReadFile(filepath.Join(dir, ".dbsync")); strings.Contains(string(data), "s3cr3t") {
		t.Errorf("init wrote a password into .dbsync:\n%s", data)
	}
}
