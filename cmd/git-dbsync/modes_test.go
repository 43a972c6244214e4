package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/gitdbsync/git-dbsync/internal/gittest"
	"github.com/gitdbsync/git-dbsync/internal/sqltool"
)

// Files and directories git dbsync creates in the working tree take the
// umask, as git's own do: 0666 and 0777 masked.
func TestFileModesFollowTheUmask(t *testing.T) {
	for _, umask := range []int{0o022, 0o077} {
		dir := gittest.Init(t)
		sqltool.Exec(filepath.Join(dir, "dev.db"), "CREATE TABLE s (k TEXT PRIMARY KEY, v TEXT); INSERT INTO s VALUES ('a', '1');"+
			"CREATE TABLE l (k TEXT PRIMARY KEY, v TEXT); INSERT INTO l VALUES ('a', '1');")
		old := syscall.Umask(umask)
		dbsync(t, dir, nil, "init", "--url", "sqlite:dev.db")
		os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = sqlite:dev.db\n[tables]\n\tconfig = s l\n[table \"l\"]\n\tlayout = lines\n"), 0o666)
		dbsync(t, dir, nil, "export")
		dbsync(t, dir, nil, "hooks", "install")
		syscall.Umask(old)
		wantFile, wantDir := fs.FileMode(0o666&^umask), fs.FileMode(0o777&^umask)
		for _, p := range []string{"db/s/table.json", "db/s/rows/a.json", "db/l/rows.jsonl", ".gitattributes"} {
			if fi, err := os.Stat(filepath.Join(dir, p)); err != nil || fi.Mode().Perm() != wantFile {
				t.Errorf("umask %03o: %s is %v (%v), want %v", umask, p, fi.Mode().Perm(), err, wantFile)
			}
		}
		for _, p := range []string{"db", "db/s", "db/s/rows", "db/l"} {
			if fi, err := os.Stat(filepath.Join(dir, p)); err != nil || fi.Mode().Perm() != wantDir {
				t.Errorf("umask %03o: %s/ is %v (%v), want %v", umask, p, fi.Mode().Perm(), err, wantDir)
			}
		}
		if fi, err := os.Stat(filepath.Join(dir, ".git", "hooks", "pre-commit")); err != nil || fi.Mode().Perm() != 0o777&^fs.FileMode(umask) {
			t.Errorf("umask %03o: the pre-commit hook is %v (%v)", umask, fi.Mode().Perm(), err)
		}
	}
}
