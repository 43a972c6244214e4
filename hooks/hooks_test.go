package hooks

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInstallForceUpgradeUninstall(t *testing.T) {
	dir := t.TempDir()
	theirs := []byte("#!/bin/sh\necho theirs\n")
	os.WriteFile(filepath.Join(dir, "post-merge"), theirs, 0o700)
	old := strings.Replace(string(Script("pre-commit")), "hook v2", "hook v0", 1)
	os.WriteFile(filepath.Join(dir, "pre-commit"), []byte(old), 0o755)

	_, err := Install(dir, Refuse)
	var fe *ForeignError
	if !errors.As(err, &fe) || len(fe.Paths) != 1 || !strings.HasSuffix(fe.Paths[0], "post-merge") {
		t.Fatalf("refuse: %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "pre-commit")); string(data) != old {
		t.Error("a refused install wrote a hook")
	}
	done, err := Install(dir, Force)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(done, "; ") != "pre-commit: upgraded from v0; post-commit: installed; post-merge: installed; the existing hook is kept as post-merge.dbsync-replaced; post-checkout: installed; post-rewrite: installed; post-applypatch: installed" {
		t.Errorf("install: %q", done)
	}
	for _, name := range Names {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode()&0o111 == 0 {
			t.Errorf("%s: %v %v", name, fi, err)
		}
	}
	if _, err := Uninstall(dir); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "post-merge"))
	fi, _ := os.Stat(filepath.Join(dir, "post-merge"))
	if err != nil || string(data) != string(theirs) || fi.Mode().Perm() != 0o700 {
		t.Errorf("post-merge not restored exactly: %q %v", data, fi.Mode())
	}
	if _, err := os.Stat(filepath.Join(dir, "pre-commit")); err == nil {
		t.Error("our pre-commit hook was left")
	}
}
