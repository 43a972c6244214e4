package gitdb

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/gitdbsync/git-dbsync/internal/gittest"
	"github.com/gitdbsync/git-dbsync/internal/sqltool"
)

// applyBenchRepo makes a repository with a lines-layout table of n rows
// at v1, a target "prod" recorded at v1, and v2 changing 10,000 rows,
// inserting 1,000 and deleting 1,000. It returns the repository and a
// copy of prod's database at v1 (a file: held in memory, it would count
// in the heap measured).
func applyBenchRepo(b *testing.B, n int) (string, string) {
	dir := gittest.Init(b)
	run := func(args ...string) { gittest.Run(b, dir, args[1:]...) }
	dev := filepath.Join(dir, "dev.db")
	err := sqltool.Exec(dev, fmt.Sprintf(`
CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, label TEXT, weight INTEGER, price DECIMAL(10,2), enabled BOOLEAN);
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d)
INSERT INTO items SELECT i, 'item_' || i, 'Label for item number ' || i, i %% 100, (i %% 10000) / 100.0, i %% 2 FROM seq;`, n))
	if err != nil {
		b.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = sqlite:dev.db\n[env \"prod\"]\n\turl = sqlite:prod.db\n[tables]\n\tconfig = items\n[table \"items\"]\n\tlayout = lines\n"), 0o644)
	ws, err := OpenWorkspace(dir)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := ws.Export(ctx, ExportOptions{}); err != nil {
		b.Fatal(err)
	}
	run("git", "add", ".dbsync", "db")
	run("git", "commit", "-q", "-m", "v1")
	run("git", "tag", "v1")
	prod := filepath.Join(dir, "prod.db")
	copyFile(b, dev, prod)
	if _, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v1"}, Baseline: true}); err != nil {
		b.Fatal(err)
	}
	step := n / 10000
	err = sqltool.Exec(dev, fmt.Sprintf(`
UPDATE items SET label = label || ' (v2)', weight = weight + 1 WHERE id %% %d = 0;
DELETE FROM items WHERE id IN (SELECT id FROM items WHERE id %% %d = 1 LIMIT 1000);
WITH RECURSIVE seq(i) AS (SELECT %d UNION ALL SELECT i + 1 FROM seq WHERE i < %d)
INSERT INTO items SELECT i, 'new_' || i, 'New', 1, 1.00, 1 FROM seq;`, step, step, n+1, n+1000))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ws.Export(ctx, ExportOptions{}); err != nil {
		b.Fatal(err)
	}
	run("git", "commit", "-q", "-am", "v2")
	run("git", "tag", "v2")
	before := filepath.Join(dir, "prod-v1.db")
	copyFile(b, prod, before)
	return dir, before
}

func copyFile(b *testing.B, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkApply measures, on a lines-layout table of 100,000 and
// 1,000,000 rows, the plan of v2 (a streaming three-way merge of base and
// theirs from git with the target's rows) and its apply (10,000 updates,
// 1,000 inserts, 1,000 deletes in one SQLite transaction), with the peak
// heap of each: it must not grow with the table.
func BenchmarkApply(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		dir, before := applyBenchRepo(b, n)
		prod := filepath.Join(dir, "prod.db")
		ws, err := OpenWorkspace(dir)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		b.Run(fmt.Sprintf("plan/rows=%d", n), func(b *testing.B) {
			var peak uint64
			for i := 0; i < b.N; i++ {
				runtime.GC()
				stop := peakHeap()
				p, err := ws.Plan(ctx, PlanOptions{Env: "prod", Revision: "v2"})
				peak = max(peak, stop())
				if err != nil {
					b.Fatal(err)
				}
				if p.Changes() != 12000 {
					b.Fatalf("plan has %d changes, want 12000", p.Changes())
				}
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(n)/sec, "rows/s")
			b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
			b.ReportMetric(0, "ns/op")
		})
		b.Run(fmt.Sprintf("apply/rows=%d", n), func(b *testing.B) {
			var peak uint64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				copyFile(b, before, prod)
				os.RemoveAll(filepath.Join(dir, ".git", "dbsync", "locks", "prod"))
				runtime.GC()
				b.StartTimer()
				stop := peakHeap()
				res, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v2"}})
				peak = max(peak, stop())
				if err != nil {
					b.Fatal(err)
				}
				if res.Entry == nil || res.Entry.Summary["items"].Updated != 10000 {
					b.Fatalf("apply: %+v", res.Entry)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/apply")
			b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
			b.ReportMetric(0, "ns/op")
		})
	}
}
