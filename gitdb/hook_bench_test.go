package gitdb

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitdbsync/git-dbsync/internal/dbtest"
	"github.com/gitdbsync/git-dbsync/internal/gittest"
)

// benchHook returns the time of the pre-commit hook when nothing changed,
// on a development database of the engine holding 200 config tables of
// 500 rows (100,000 rows): the real binary, run as the hook runs it, after
// a first run wrote the files and they were committed (its export cache
// then trusts them: HEAD holds what it exported). The median of five runs.
func benchHook(b *testing.B, engine string) time.Duration {
	bin := b.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "git-dbsync"), "../cmd/git-dbsync")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	dev := dbtest.NewDatabase(b, engine)
	var sql strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&sql, "CREATE TABLE cfg_%03d (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, value VARCHAR(100), weight INTEGER);\n", i)
		fmt.Fprintf(&sql, "INSERT INTO cfg_%03d SELECT i + 1, concat('setting_', i + 1), concat('value of setting ', i + 1), i %% 10 FROM (%s) s WHERE i < 500;\n", i, numbers(3))
	}
	if err := dbtest.Exec(dev, sql.String()); err != nil {
		b.Fatal(err)
	}
	dir := gittest.Init(b)
	cfg := fmt.Sprintf("[env \"dev\"]\n\turl = %s\n[tables]\n\tconfig = cfg_*\n", dev)
	if err := os.WriteFile(filepath.Join(dir, ".dbsync"), []byte(cfg), 0o644); err != nil {
		b.Fatal(err)
	}
	env := append(gittest.Env(dir), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	hook := func() time.Duration {
		cmd := exec.Command("git", "dbsync", "hook", "pre-commit")
		cmd.Dir, cmd.Env = dir, env
		t0 := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("git dbsync hook pre-commit: %v\n%s", err, out)
		}
		return time.Since(t0)
	}
	gitIn(b, dir, "add", ".dbsync")
	hook() // the first export writes the files
	gitIn(b, dir, "commit", "-q", "-m", "config")
	var runs []time.Duration
	for range 5 {
		runs = append(runs, hook())
	}
	slices.Sort(runs)
	if out, err := exec.Command("git", "-C", dir, "status", "--porcelain").Output(); err != nil || len(out) > 0 {
		b.Fatalf("the hook changed files when nothing changed: %v\n%s", err, out)
	}
	return runs[len(runs)/2]
}

// BenchmarkHook measures the pre-commit hook with nothing changed (issue
// #25: 200 tables, 100,000 rows, aim ≤ 0.3 s) on each engine:
//
//	go test -run '^$' -bench BenchmarkHook -benchtime 1x ./gitdb/
func BenchmarkHook(b *testing.B) {
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			hook := benchHook(b, engine)
			b.ReportMetric(hook.Seconds(), "s/hook")
			b.ReportMetric(0, "ns/op")
		})
	}
}
