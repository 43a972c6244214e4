package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// leftovers lists what the writers left beside the files they wrote.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, TempPattern))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	for _, data := range []string{"old", "new"} {
		if err := WriteFile(path, []byte(data), 0o644, Durable); err != nil {
			t.Fatal(err)
		}
		if got := read(t, path); got != data {
			t.Errorf("after writing %q: %q", data, got)
		}
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

func TestCreateExclusive(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lock")
	if err := CreateExclusive(path, []byte("first"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := CreateExclusive(path, []byte("second"), 0o600)
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("second create: %v, want an error wrapping fs.ErrExist", err)
	}
	if got := read(t, path); got != "first" {
		t.Errorf("the first holder's data was replaced: %q", got)
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

func TestPendingAbortAndCommit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := New(path, "", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	p.Write([]byte("half"))
	if got := read(t, path); got != "old" {
		t.Errorf("visible before Commit: %q", got)
	}
	p.Abort()
	if got := read(t, path); got != "old" {
		t.Errorf("after Abort: %q", got)
	}
	if err := p.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

// Clean removes what a killed run left an hour ago or more, and leaves a
// run going on beside alone.
func TestClean(t *testing.T) {
	dir := t.TempDir()
	stale, err := Temp(dir, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	stale.Close()
	staleDir, err := TempDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := Temp(dir, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	fresh.Close()
	hourAgo := time.Now().Add(-2 * time.Hour)
	for _, n := range []string{stale.Name(), staleDir} {
		if err := os.Chtimes(n, hourAgo, hourAgo); err != nil {
			t.Fatal(err)
		}
	}
	Clean(dir)
	for _, n := range []string{stale.Name(), staleDir} {
		if _, err := os.Lstat(n); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: still there after Clean", n)
		}
	}
	if _, err := os.Lstat(fresh.Name()); err != nil {
		t.Errorf("a fresh temporary file was removed: %v", err)
	}
}
