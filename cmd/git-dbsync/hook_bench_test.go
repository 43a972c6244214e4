package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitdbsync/git-dbsync/internal/gittest"
	"github.com/gitdbsync/git-dbsync/internal/sqltool"
)

// BenchmarkPreCommitUnchanged measures the pre-commit hook (re-export and
// stage) on 200 config tables holding 100,000 rows, when nothing changed:
// what every commit pays.
func BenchmarkPreCommitUnchanged(b *testing.B) {
	for _, layout := range []string{"rows", "lines"} {
		b.Run("layout="+layout, func(b *testing.B) {
			dir := gittest.Init(b)
			var sql strings.Builder
			for i := 0; i < 200; i++ {
				fmt.Fprintf(&sql, "CREATE TABLE cfg_%03d (id INTEGER PRIMARY KEY, name TEXT NOT NULL, value TEXT, weight INTEGER);\n", i)
				fmt.Fprintf(&sql, "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 500) INSERT INTO cfg_%03d SELECT i, 'setting_' || i, 'value of setting ' || i, i %% 10 FROM s;\n", i)
			}
			if err := sqltool.Exec(filepath.Join(dir, "dev.db"), sql.String()); err != nil {
				b.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = sqlite:dev.db\n[tables]\n\tconfig = cfg_*\n[table \"cfg_*\"]\n"), 0o644)
			os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = sqlite:dev.db\n[tables]\n\tconfig = cfg_*\n"+layoutOptions(layout)), 0o644)
			os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("dev.db\n"), 0o644)
			hook := func() {
				cmd := exec.Command("git", "dbsync", "hook", "pre-commit")
				cmd.Dir = dir
				cmd.Env = gittest.Env(dir)
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
			}
			hook() // the first export writes the files
			gittest.Run(b, dir, "commit", "-q", "-m", "config")
			var total time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				hook()
				total += time.Since(t0)
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/hook")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func layoutOptions(layout string) string {
	var b strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "[table \"cfg_%03d\"]\n\tlayout = %s\n", i, layout)
	}
	return b.String()
}
