package gitdb

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gitdbsync/git-dbsync/gitdb/ledger"
	"github.com/gitdbsync/git-dbsync/internal/dbtest"
)

// digits crossed give the integers 0..10^n-1 on every engine (MariaDB
// bounds recursive queries to 1000 rows).
func numbers(n int) string {
	d := "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)"
	var from, sum []string
	for i := 0; i < n; i++ {
		a := fmt.Sprintf("d%d", i)
		from = append(from, d+" "+a)
		sum = append(sum, fmt.Sprintf("%s.d * %d", a, pow10(i)))
	}
	return "SELECT " + strings.Join(sum, " + ") + " AS i FROM " + strings.Join(from, ", ")
}

func pow10(n int) int {
	p := 1
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

const benchItems = `CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, label VARCHAR(100), weight INTEGER, price DECIMAL(10,2), enabled BOOLEAN);`

// The v2 changes, as set-based SQL: 10,000 updates, 1,000 deletes, 1,000
// inserts on a table of 1,000,000 rows. It is both how the benchmark makes
// v2 and the fastest plain SQL that makes the same writes.
const benchChanges = `UPDATE items SET label = concat(label, ' (v2)'), weight = weight + 1 WHERE id % 100 = 0;
DELETE FROM items WHERE id % 100 = 1 AND id < 100000;
INSERT INTO items SELECT i + 1000001, concat('new_', i), 'New', 1, 1.00, TRUE FROM (NUMBERS) s WHERE i < 1000;`

// BenchmarkEngines measures on each engine, for a 1,000,000-row table in
// the lines layout: export beside the engine's own bulk read of the table,
// and an apply of 10,000 updates, 1,000 inserts and 1,000 deletes beside
// the same writes made by plain set-based SQL, as ratios, with peak heaps.
func BenchmarkEngines(b *testing.B) {
	const n = 1_000_000
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			ctx := context.Background()
			dev, prod, v1 := dbtest.NewDatabase(b, engine), dbtest.NewDatabase(b, engine), dbtest.NewDatabase(b, engine)
			load := fmt.Sprintf("INSERT INTO items SELECT i + 1, concat('item_', i + 1), concat('Label for item number ', i + 1), i %% 100, (i %% 10000) / 100.0, i %% 2 = 0 FROM (%s) s;", numbers(6))
			if engine == "mysql" {
				load = strings.Replace(load, "i % 2 = 0", "(i % 2 = 0)", 1)
			}
			start := time.Now()
			if err := dbtest.Exec(dev, benchItems+load); err != nil {
				b.Fatal(err)
			}
			b.Logf("%s: loaded %d rows in %v", engine, n, time.Since(start).Round(time.Millisecond))
			dir := repoFor(b, map[string]string{"dev": dev, "prod": prod})
			os.WriteFile(filepath.Join(dir, ".dbsync"), []byte(fmt.Sprintf("[env \"dev\"]\n\turl = %s\n[env \"prod\"]\n\turl = %s\n[tables]\n\tconfig = items\n[table \"items\"]\n\tlayout = lines\n", dev, prod)), 0o644)
			ws, err := OpenWorkspace(dir)
			if err != nil {
				b.Fatal(err)
			}
			b.Run("export", func(b *testing.B) {
				var exportTime time.Duration
				var peak uint64
				for i := 0; i < b.N; i++ {
					os.RemoveAll(filepath.Join(dir, "db"))
					runtime.GC()
					stop := peakHeap()
					t0 := time.Now()
					res, err := ws.Export(ctx, ExportOptions{})
					exportTime += time.Since(t0)
					peak = max(peak, stop())
					if err != nil || res.Tables[0].Rows != n {
						b.Fatalf("export: %v %+v", err, res)
					}
				}
				exportTime /= time.Duration(b.N)
				b.ReportMetric(float64(n)/exportTime.Seconds(), "rows/s")
				b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
				for name, bulk := range bulkReads(b, engine, dev) {
					b.ReportMetric(exportTime.Seconds()/bulk.Seconds(), "x-"+name)
					b.Logf("%s: export %v (%.0f rows/s); %s %v (%.0f rows/s): ratio %.2f", engine, exportTime.Round(time.Millisecond), float64(n)/exportTime.Seconds(),
						name, bulk.Round(time.Millisecond), float64(n)/bulk.Seconds(), exportTime.Seconds()/bulk.Seconds())
				}
				b.ReportMetric(0, "ns/op")
			})
			// v1 as exported; prod at v1; v2 made on dev by the set-based changes.
			gitIn(b, dir, "add", "-A")
			gitIn(b, dir, "commit", "-q", "-m", "v1")
			gitIn(b, dir, "tag", "v1")
			if err := dbtest.Copy(dev, prod); err != nil {
				b.Fatal(err)
			}
			if _, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v1"}, Baseline: true}); err != nil {
				b.Fatal(err)
			}
			if err := dbtest.Copy(prod, v1); err != nil {
				b.Fatal(err)
			}
			changes := strings.Replace(benchChanges, "NUMBERS", numbers(3), 1)
			if err := dbtest.Exec(dev, changes); err != nil {
				b.Fatal(err)
			}
			if _, err := ws.Export(ctx, ExportOptions{}); err != nil {
				b.Fatal(err)
			}
			gitIn(b, dir, "commit", "-q", "-am", "v2")
			gitIn(b, dir, "tag", "v2")
			b.Run("apply", func(b *testing.B) {
				var total, writes, plain time.Duration
				var peak uint64
				for i := 0; i < b.N; i++ {
					// The same writes in plain SQL, in one transaction.
					reset(b, v1, prod)
					t0 := time.Now()
					if err := dbtest.Exec(prod, "BEGIN; "+changes+" COMMIT;"); err != nil {
						b.Fatal(err)
					}
					plain += time.Since(t0)
					// The write phase alone: the plan's ops in one transaction.
					reset(b, v1, prod)
					writes += writePhase(b, ws, "prod", "v2")
					// The whole apply: plan (a streaming merge of the three sides) and writes.
					reset(b, v1, prod)
					os.RemoveAll(filepath.Join(dir, ".git", "dbsync", "locks", "prod"))
					runtime.GC()
					stop := peakHeap()
					t0 = time.Now()
					res, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v2"}})
					total += time.Since(t0)
					peak = max(peak, stop())
					if err != nil || res.Entry.Summary["items"].Updated != 10000 || res.Entry.Summary["items"].Inserted != 1000 || res.Entry.Summary["items"].Deleted != 1000 {
						b.Fatalf("apply: %v %+v", err, res.Entry)
					}
				}
				k := time.Duration(b.N)
				total, writes, plain = total/k, writes/k, plain/k
				b.ReportMetric(total.Seconds(), "s/apply")
				b.ReportMetric(writes.Seconds(), "s/writes")
				b.ReportMetric(plain.Seconds(), "s/plain-sql")
				b.ReportMetric(writes.Seconds()/plain.Seconds(), "x-writes/plain")
				b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
				b.ReportMetric(0, "ns/op")
				b.Logf("%s: apply %v in all (writes %v); plain SQL %v: writes/plain %.2f", engine, total.Round(time.Millisecond),
					writes.Round(time.Millisecond), plain.Round(time.Millisecond), writes.Seconds()/plain.Seconds())
			})
		})
	}
}

func reset(b *testing.B, from, to string) {
	if err := dbtest.Copy(from, to); err != nil {
		b.Fatal(err)
	}
}

// writePhase times the writes of a plan: its ops in one transaction.
func writePhase(b *testing.B, ws *Workspace, env, rev string) time.Duration {
	ctx := context.Background()
	s, err := ws.open(ctx, env)
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	r, _ := s.rep.Resolve(rev)
	l, err := ledger.Read(ctx, s.db)
	if err != nil {
		b.Fatal(err)
	}
	plan, err := s.plan(ctx, s.db, r, l, PlanOptions{Env: env, Revision: rev})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	tx, err := s.db.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := plan.writer(tx).Write(ctx, plan.Tables); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return time.Since(t0)
}

// bulkReads times the engine's own ways to read the whole table out into
// a file (export writes one too).
func bulkReads(b *testing.B, engine, u string) map[string]time.Duration {
	out := map[string]time.Duration{}
	sink := func() *os.File {
		f, err := os.Create(filepath.Join(b.TempDir(), "bulk.out"))
		if err != nil {
			b.Fatal(err)
		}
		return f
	}
	timeCmd := func(name string, args ...string) {
		if _, err := exec.LookPath(args[0]); err != nil {
			b.Logf("%s: %s is not installed", engine, args[0])
			return
		}
		cmd := exec.Command(args[0], args[1:]...)
		f := sink()
		defer f.Close()
		cmd.Stdout = f
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			b.Logf("%s: %v", name, err)
			return
		}
		out[name] = time.Since(t0)
	}
	p, _ := url.Parse(u)
	switch engine {
	case "sqlite":
		timeCmd("sqlite3", "sqlite3", strings.TrimPrefix(u, "sqlite:"), "SELECT * FROM items")
	case "postgres":
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(ctx)
		// The table as stored, and in key order as export reads it.
		for name, q := range map[string]string{"copy": "COPY items TO STDOUT", "copy-ordered": "COPY (SELECT * FROM items ORDER BY id) TO STDOUT"} {
			f := sink()
			t0 := time.Now()
			w := bufio.NewWriterSize(f, 1<<16)
			if _, err := conn.PgConn().CopyTo(ctx, w, q); err != nil {
				b.Fatal(err)
			}
			w.Flush()
			out[name] = time.Since(t0)
			f.Close()
		}
	case "mysql":
		db := strings.TrimPrefix(p.Path, "/")
		host, port := p.Hostname(), p.Port()
		timeCmd("mysqldump", "mysqldump", "-u"+p.User.Username(), "-h"+host, "-P"+port, "--protocol=tcp", db, "items")
		timeCmd("mariadb", "mariadb", "-u"+p.User.Username(), "-h"+host, "-P"+port, "--protocol=tcp", db, "-e", "SELECT * FROM items")
	}
	return out
}
