package gitdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gitdbsync/git-dbsync/internal/gittest"
	"github.com/gitdbsync/git-dbsync/internal/sqltool"
)

// benchRepos caches one repository per table size across benchmarks.
var benchRepos = map[int]string{}

// benchRepo returns a repository whose SQLite database has a config table
// "items" of n rows: ids, names, text, integers, decimals, booleans and
// timestamps, like a big settings or menu table.
func benchRepo(b *testing.B, n int) string {
	if dir, ok := benchRepos[n]; ok {
		return dir
	}
	dir, err := os.MkdirTemp("", "dbsync-bench-")
	if err != nil {
		b.Fatal(err)
	}
	gittest.Run(b, dir, "init", "-q")
	err = sqltool.Exec(filepath.Join(dir, "dev.db"), fmt.Sprintf(`
CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, label TEXT, weight INTEGER, price DECIMAL(10,2), enabled BOOLEAN, updated DATETIME);
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d)
INSERT INTO items SELECT i, 'item_' || i, 'Label for item number ' || i, i %% 100, (i %% 10000) / 100.0, i %% 2, '2026-11-22 10:00:00' FROM seq;`, n))
	if err != nil {
		b.Fatal(err)
	}
	benchRepos[n] = dir
	return dir
}

// peakHeap samples the heap in use until stop is called and returns the
// largest value seen, in bytes.
func peakHeap() (stop func() uint64) {
	var (
		peak uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak {
				peak = m.HeapInuse
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak }
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// BenchmarkExport measures a full export (into an empty directory) and a
// re-export when nothing changed (what the pre-commit hook does), in both
// layouts: rows/s, MB/s of files written, and the peak heap.
func BenchmarkExport(b *testing.B) {
	for _, layout := range []string{"lines", "rows"} {
		for _, n := range []int{100_000, 1_000_000} {
			for _, mode := range []string{"full", "unchanged"} {
				b.Run(fmt.Sprintf("layout=%s/rows=%d/%s", layout, n, mode), func(b *testing.B) {
					dir := benchRepo(b, n)
					cfg := fmt.Sprintf("[env \"dev\"]\n\turl = sqlite:dev.db\n[tables]\n\tconfig = items\n[table \"items\"]\n\tlayout = %s\n", layout)
					if err := os.WriteFile(filepath.Join(dir, ".dbsync"), []byte(cfg), 0o644); err != nil {
						b.Fatal(err)
					}
					ws, err := OpenWorkspace(dir)
					if err != nil {
						b.Fatal(err)
					}
					out := filepath.Join(dir, "db")
					if mode == "unchanged" {
						if _, err := ws.Export(context.Background(), ExportOptions{}); err != nil {
							b.Fatal(err)
						}
					}
					runtime.GC()
					var peak uint64
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if mode == "full" {
							b.StopTimer()
							os.RemoveAll(out)
							runtime.GC()
							b.StartTimer()
						}
						stop := peakHeap()
						res, err := ws.Export(context.Background(), ExportOptions{})
						if p := stop(); p > peak {
							peak = p
						}
						if err != nil {
							b.Fatal(err)
						}
						if res.Tables[0].Rows != n || (mode == "unchanged") == res.Changed() {
							b.Fatalf("exported %+v", res.Tables[0])
						}
					}
					b.StopTimer()
					sec := b.Elapsed().Seconds() / float64(b.N)
					b.ReportMetric(float64(n)/sec, "rows/s")
					b.ReportMetric(float64(dirSize(out))/1e6/sec, "MB/s")
					b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
					b.ReportMetric(0, "ns/op")
				})
			}
		}
	}
	for _, dir := range benchRepos {
		os.RemoveAll(dir)
	}
}
