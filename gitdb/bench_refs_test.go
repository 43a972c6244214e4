package gitdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/gitdbsync/git-dbsync/internal/gittest"
	"github.com/gitdbsync/git-dbsync/internal/sqltool"
)

// BenchmarkNaturalKeys measures what references to natural keys cost: a
// join table of n rows (lines layout) whose key is a reference to one of
// 1,000 groups and a name, exported, then applied to a target whose groups
// have other ids (every row inserted, every reference translated). It
// reports rows/s of each and the peak heap.
func BenchmarkNaturalKeys(b *testing.B) {
	for _, n := range []int{100_000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			gittest.Run(b, dir, "init", "-q")
			groups := `CREATE TABLE grps (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE members (id INTEGER PRIMARY KEY, grp_id INTEGER NOT NULL REFERENCES grps (id), name TEXT NOT NULL, level INTEGER, UNIQUE (grp_id, name));
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 1000)
INSERT INTO grps SELECT i * %d, 'group_' || i FROM seq;`
			if err := sqltool.Exec(filepath.Join(dir, "dev.db"), fmt.Sprintf(groups, 1)+fmt.Sprintf(`
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d)
INSERT INTO members SELECT i, 1 + i %% 1000, 'member_' || i, i %% 7 FROM seq;`, n)); err != nil {
				b.Fatal(err)
			}
			cfg := "[env \"dev\"]\n\turl = sqlite:dev.db\n[env \"prod\"]\n\turl = sqlite:prod.db\n[tables]\n\tconfig = grps members\n" +
				"[table \"grps\"]\n\tkey = name\n[table \"members\"]\n\tkey = grp_id name\n\tlayout = lines\n"
			if err := os.WriteFile(filepath.Join(dir, ".dbsync"), []byte(cfg), 0o644); err != nil {
				b.Fatal(err)
			}
			ws, err := OpenWorkspace(dir)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var exportTime, applyTime time.Duration
			var peak uint64
			for i := 0; i < b.N; i++ {
				os.RemoveAll(filepath.Join(dir, "db"))
				os.Remove(filepath.Join(dir, "prod.db"))
				if err := sqltool.Exec(filepath.Join(dir, "prod.db"), fmt.Sprintf(groups, 7)); err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				stop := peakHeap()
				t0 := time.Now()
				if _, err := ws.Export(ctx, ExportOptions{}); err != nil {
					b.Fatal(err)
				}
				exportTime += time.Since(t0)
				gittest.Run(b, dir, "add", "-A")
				gittest.Run(b, dir, "commit", "-q", "--allow-empty", "-m", "v")
				gittest.Run(b, dir, "tag", "-f", "v")
				t0 = time.Now()
				res, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v"}})
				applyTime += time.Since(t0)
				if p := stop(); p > peak {
					peak = p
				}
				if err != nil {
					b.Fatal(err)
				}
				if got := res.Entry.Summary["members"].Inserted; got != n {
					b.Fatalf("%d members inserted, want %d", got, n)
				}
			}
			b.ReportMetric(float64(n*b.N)/exportTime.Seconds(), "export-rows/s")
			b.ReportMetric(float64(n*b.N)/applyTime.Seconds(), "apply-rows/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		})
	}
}
