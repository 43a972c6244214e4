package lock

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestEnvLock(t *testing.T) {
	dir := t.TempDir()
	h := Holder{Op: "apply", Revision: "v1", Owner: Me(), Since: time.Now()}
	l, err := LockEnv(dir, "prod", h)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockEnv(dir, "prod", h)
	var locked *LockedError
	if !errors.As(err, &locked) || locked.Holder.Owner.PID != os.Getpid() {
		t.Fatalf("second lock: %v", err)
	}
	other, err := LockEnv(dir, "staging", h)
	if err != nil {
		t.Fatalf("another environment: %v", err)
	}
	other.Release()
	l.Release()

	// A lock left by a process that is gone is removed and reported.
	cmd := exec.Command("true")
	cmd.Run()
	dead := Holder{Op: "apply", Revision: "v0", Owner: Owner{User: "x", Host: Me().Host, PID: cmd.Process.Pid}, Since: time.Now()}
	data, _ := json.Marshal(dead)
	os.WriteFile(filepath.Join(Dir(dir), "prod.lock"), data, 0o644)
	l, err = LockEnv(dir, "prod", h)
	if err != nil || l.Stale == nil || l.Stale.Revision != "v0" {
		t.Fatalf("stale lock: %+v %v", l, err)
	}
	l.Release()
}

func TestLockFileCreateIsExclusive(t *testing.T) {
	p := Path(t.TempDir(), "prod", "v1.4")
	f := &File{Env: "prod", Revision: "v1.4", Commit: "c", State: Applying, Apply: Record{ID: NewID(), Owner: Me(), Started: time.Now()}}
	if err := Create(p, f); err != nil {
		t.Fatal(err)
	}
	if err := Create(p, f); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second create: %v", err)
	}
	f.State = Applied
	if err := Write(p, f); err != nil {
		t.Fatal(err)
	}
	back, err := Read(p)
	if err != nil || back.State != Applied || back.Apply.ID != f.Apply.ID {
		t.Fatalf("read back: %+v %v", back, err)
	}
	if filepath.Base(p) != "v1.4.lock" || filepath.Base(filepath.Dir(p)) != "prod" {
		t.Errorf("path %s", p)
	}
}

// Temporary files that runs killed while writing a lock file left behind
// are removed when the environment is next locked, once they are an hour
// old; a fresh one may be another run's and stays.
func TestLockEnvCleansLeftTemporaryFiles(t *testing.T) {
	gitDir := t.TempDir()
	dir := filepath.Dir(Path(gitDir, "prod", "v1"))
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	old, fresh := filepath.Join(dir, ".dbsync-old.tmp"), filepath.Join(dir, ".dbsync-fresh.tmp")
	for _, p := range []string{old, fresh} {
		if err := os.WriteFile(p, []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hourAgo := time.Now().Add(-2 * time.Hour)
	os.Chtimes(old, hourAgo, hourAgo)
	l, err := LockEnv(gitDir, "prod", Holder{Op: "apply", Revision: "v1", Owner: Me(), Since: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the old temporary file is still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("the fresh temporary file was removed: %v", err)
	}
}
