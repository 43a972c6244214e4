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
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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

// itemsLoad is the SQL that fills items with n rows (n ≤ 1,000,000).
func itemsLoad(engine string, n int) string {
	enabled := "i % 2 = 0"
	if engine == "mysql" {
		enabled = "(i % 2 = 0)"
	}
	return fmt.Sprintf("INSERT INTO items SELECT i + 1, concat('item_', i + 1), concat('Label for item number ', i + 1), i %% 100, (i %% 10000) / 100.0, %s FROM (%s) s WHERE i < %d;", enabled, numbers(6), n)
}

const benchItems = `CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, label VARCHAR(100), weight INTEGER, price DECIMAL(10,2), enabled BOOLEAN);`

// The v2 changes, as set-based SQL: 10,000 updates, 1,000 deletes, 1,000
// inserts on a table of 1,000,000 rows. It is both how the benchmark makes
// v2 and the fastest plain SQL that makes the same writes.
const benchChanges = `UPDATE items SET label = concat(label, ' (v2)'), weight = weight + 1 WHERE id % 100 = 0;
DELETE FROM items WHERE id % 100 = 1 AND id < 100000;
INSERT INTO items SELECT i + 1000001, concat('new_', i), 'New', 1, 1.00, TRUE FROM (NUMBERS) s WHERE i < 1000;`

// engineFigures are the figures make bench prints per engine.
type engineFigures struct {
	engine                              string
	export, apply, release, first, pull time.Duration // ours
	read, load, dump                    time.Duration // the engine's own tools: ordered read of 1M rows, bulk load of 200k, dump | restore of 1M
	readTool, loadTool, dumpTool        string
	hook                                time.Duration // the pre-commit hook with nothing changed
	exportPeak, applyPeak, releasePeak  uint64
	firstPeak, pullPeak                 uint64
}

// BenchmarkEngines measures, on each engine and beside the engine's own
// tools, the figures of issue #25 that make bench prints as one table:
//
//	(a) export of a 1,000,000-row table ÷ the engine's fastest read of the
//	    same rows in the same order (aim ≤ 1.15);
//	(b) a small release (10,000 updates, 1,000 inserts and 1,000 deletes:
//	    1.2% of that table) applied whole, plan included, with the default
//	    backup (backup = tables) ÷ the export of the table (aim ≤ 0.5);
//	    and the same without a backup ÷ the ordered read (aim ≤ 1.0: an
//	    apply costs no more than reading the table once);
//	(c) a first apply of 200,000 new rows into an empty table ÷ the
//	    engine's bulk load of the same rows (COPY FROM, LOAD DATA, SQLite's
//	    executemany; aim ≤ 2);
//	(d) on PostgreSQL, a pull of a 1,000,000-row content table ÷
//	    pg_dump --data-only | psql (aim ≤ 1.3);
//	(e) the pre-commit hook when nothing changed, 200 tables of 500 rows,
//	    the real binary run as the hook runs it, its export cache warm
//	    (aim ≤ 0.3 s);
//	(f) the peak heap of each (aim < 64 MB; the peak RSS of the real
//	    binary is what testdata/bench/rss.sh measures).
//
// With $DBSYNC_BENCH_TABLE set, the table is also written to that file,
// for make bench to print it again at its end.
func BenchmarkEngines(b *testing.B) {
	var all []engineFigures
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			f := engineFigures{engine: engine}
			benchBigTable(b, &f)
			benchFirstApply(b, &f)
			if engine == "postgres" {
				benchPullFigure(b, &f)
			}
			f.hook = benchHook(b, engine)
			all = append(all, f)
		})
	}
	table := enginesTable(all)
	fmt.Print(table)
	if p := os.Getenv("DBSYNC_BENCH_TABLE"); p != "" {
		if err := os.WriteFile(p, []byte(table), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEngineExport measures figure (a) of BenchmarkEngines alone, for
// profiling an export: per engine, the export of a 1,000,000-row table
// into an empty directory beside the engine's fastest ordered read of the
// same rows, each timed b.N times, the best of each kept.
//
//	go test -run '^$' -bench BenchmarkEngineExport -benchtime 2x -cpuprofile cpu.out ./gitdb/
func BenchmarkEngineExport(b *testing.B) {
	const n = 1_000_000
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			dev := dbtest.NewDatabase(b, engine)
			if err := dbtest.Exec(dev, benchItems+itemsLoad(engine, n)); err != nil {
				b.Fatal(err)
			}
			dir := repoFor(b, nil)
			os.WriteFile(filepath.Join(dir, ".dbsync"), []byte(fmt.Sprintf("[env \"dev\"]\n\turl = %s\n[tables]\n\tconfig = items\n", dev)), 0o644)
			ws, err := OpenWorkspace(dir)
			if err != nil {
				b.Fatal(err)
			}
			var export, read, cpu time.Duration
			tool := ""
			for i := 0; i < b.N; i++ {
				d, t := fastestRead(b, engine, dev)
				if read == 0 || d < read {
					read, tool = d, t
				}
				os.RemoveAll(filepath.Join(dir, "db"))
				var res *ExportResult
				c0 := processCPU()
				d, _ = timed(func() { res, err = ws.Export(context.Background(), ExportOptions{}) })
				if err != nil || res.Tables[0].Rows != n {
					b.Fatalf("export: %v %+v", err, res)
				}
				if export == 0 || d < export {
					export = d
				}
				if c := processCPU() - c0; cpu == 0 || c < cpu {
					cpu = c
				}
			}
			b.Logf("%s: export %s (CPU %s), read %s (%s): %.2f", engine, export.Round(time.Millisecond), cpu.Round(time.Millisecond),
				read.Round(time.Millisecond), tool, export.Seconds()/read.Seconds())
			b.ReportMetric(export.Seconds()/read.Seconds(), "export/read")
			b.ReportMetric(cpu.Seconds(), "export-cpu-s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// processCPU is the CPU time this process has used, user and system:
// what an export costs beside the database's server, on a shared machine
// whose wall-clock times vary.
func processCPU() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// enginesTable lays the figures out as the table of aims: one
// line per measure, one column per engine, then what each ratio divides.
func enginesTable(all []engineFigures) string {
	ratio := func(ours, theirs time.Duration) string {
		if ours == 0 || theirs == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.2f", ours.Seconds()/theirs.Seconds())
	}
	mb := func(n uint64) string { return fmt.Sprintf("%.0f", float64(n)/1e6) }
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	lines := []struct {
		measure, aim string
		cell         func(f engineFigures) string
	}{
		{"export 1M rows ÷ ordered read", "≤ 1.15", func(f engineFigures) string { return ratio(f.export, f.read) }},
		{"small release, backup = tables ÷ export", "≤ 0.5", func(f engineFigures) string { return ratio(f.release, f.export) }},
		{"small release, backup = none ÷ export", "", func(f engineFigures) string { return ratio(f.apply, f.export) }},
		{"small release, backup = none ÷ ordered read", "≤ 1.0", func(f engineFigures) string { return ratio(f.apply, f.read) }},
		{"first apply 200k rows ÷ bulk load", "≤ 2", func(f engineFigures) string { return ratio(f.first, f.load) }},
		{"pull 1M rows ÷ pg_dump | psql", "≤ 1.3", func(f engineFigures) string { return ratio(f.pull, f.dump) }},
		{"pre-commit, nothing changed, 200 tables (s)", "≤ 0.3", func(f engineFigures) string { return fmt.Sprintf("%.2f", f.hook.Seconds()) }},
		{"peak heap MB: export", "< 64", func(f engineFigures) string { return mb(f.exportPeak) }},
		{"peak heap MB: small release, backup = tables", "< 64", func(f engineFigures) string { return mb(f.releasePeak) }},
		{"peak heap MB: small release, backup = none", "< 64", func(f engineFigures) string { return mb(f.applyPeak) }},
		{"peak heap MB: first apply", "< 64", func(f engineFigures) string { return mb(f.firstPeak) }},
		{"peak heap MB: pull", "< 64", func(f engineFigures) string {
			if f.pull == 0 {
				return "n/a"
			}
			return mb(f.pullPeak)
		}},
	}
	var out strings.Builder
	fmt.Fprintf(&out, "\nissue #25 aims, %d cores (GOMAXPROCS %d)\n", runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(&out, "%-46s %-7s", "measure", "aim")
	for _, f := range all {
		fmt.Fprintf(&out, " %10s", f.engine)
	}
	out.WriteString("\n")
	for _, l := range lines {
		fmt.Fprintf(&out, "%-46s %-7s", l.measure, l.aim)
		for _, f := range all {
			fmt.Fprintf(&out, " %10s", l.cell(f))
		}
		out.WriteString("\n")
	}
	out.WriteString("times:\n")
	for _, f := range all {
		fmt.Fprintf(&out, "  %-9s export %s, read %s (%s); release %s with backup, %s without; first apply %s, load %s (%s)",
			f.engine, ms(f.export), ms(f.read), f.readTool, ms(f.release), ms(f.apply), ms(f.first), ms(f.load), f.loadTool)
		if f.pull != 0 {
			fmt.Fprintf(&out, "; pull %s, %s %s", ms(f.pull), f.dumpTool, ms(f.dump))
		}
		fmt.Fprintf(&out, "; hook %s\n", ms(f.hook))
	}
	return out.String()
}

// timed runs fn with the heap sampled and returns its time and peak heap.
func timed(fn func()) (time.Duration, uint64) {
	runtime.GC()
	stop := peakHeap()
	t0 := time.Now()
	fn()
	d := time.Since(t0)
	return d, stop()
}

// benchBigTable measures (a) and (b) on a table of 1,000,000 rows: prod
// takes no backup, backed the default one (backup = tables).
func benchBigTable(b *testing.B, f *engineFigures) {
	const n = 1_000_000
	engine := f.engine
	ctx := context.Background()
	dev, prod, backed := dbtest.NewDatabase(b, engine), dbtest.NewDatabase(b, engine), dbtest.NewDatabase(b, engine)
	load := itemsLoad(engine, n)
	if err := dbtest.Exec(dev, benchItems+load); err != nil {
		b.Fatal(err)
	}
	dir := repoFor(b, nil)
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte(fmt.Sprintf("[env \"dev\"]\n\turl = %s\n[env \"prod\"]\n\turl = %s\n\tbackup = none\n[env \"backed\"]\n\turl = %s\n[tables]\n\tconfig = items\n", dev, prod, backed)), 0o644)
	ws, err := OpenWorkspace(dir)
	if err != nil {
		b.Fatal(err)
	}
	f.read, f.readTool = fastestRead(b, engine, dev)
	var res *ExportResult
	f.export, f.exportPeak = timed(func() { res, err = ws.Export(ctx, ExportOptions{}) })
	if err != nil || res.Tables[0].Rows != n || res.Tables[0].Layout != "lines" {
		b.Fatalf("export: %v %+v", err, res)
	}
	// v1 as exported; prod and backed at v1; v2 made on dev by the
	// set-based changes.
	gitIn(b, dir, "add", "-A")
	gitIn(b, dir, "commit", "-q", "-m", "v1")
	gitIn(b, dir, "tag", "v1")
	for _, env := range []struct{ name, url string }{{"prod", prod}, {"backed", backed}} {
		if err := dbtest.Copy(dev, env.url); err != nil {
			b.Fatal(err)
		}
		if _, err := ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: env.name, Revision: "v1"}, Baseline: true}); err != nil {
			b.Fatal(err)
		}
	}
	if err := dbtest.Exec(dev, strings.Replace(benchChanges, "NUMBERS", numbers(3), 1)); err != nil {
		b.Fatal(err)
	}
	if _, err := ws.Export(ctx, ExportOptions{}); err != nil {
		b.Fatal(err)
	}
	gitIn(b, dir, "commit", "-q", "-am", "v2")
	gitIn(b, dir, "tag", "v2")
	var applied *ApplyResult
	f.apply, f.applyPeak = timed(func() {
		applied, err = ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v2"}})
	})
	if c := applied.Entry.Summary["items"]; err != nil || c.Updated != 10000 || c.Inserted != 1000 || c.Deleted != 1000 {
		b.Fatalf("apply: %v %+v", err, applied)
	}
	f.release, f.releasePeak = timed(func() {
		applied, err = ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "backed", Revision: "v2"}})
	})
	if c := applied.Entry.Summary["items"]; err != nil || c.Updated != 10000 || c.Inserted != 1000 || c.Deleted != 1000 || applied.Backup == nil {
		b.Fatalf("apply with a backup: %v %+v", err, applied)
	}
}

// benchFirstApply measures (c): 200,000 rows applied into an empty table,
// beside the engine's bulk load of the same rows.
func benchFirstApply(b *testing.B, f *engineFigures) {
	const n = 200_000
	engine := f.engine
	ctx := context.Background()
	dev, prod, bulk := dbtest.NewDatabase(b, engine), dbtest.NewDatabase(b, engine), dbtest.NewDatabase(b, engine)
	load := itemsLoad(engine, n)
	for _, db := range []string{dev, prod, bulk} {
		if err := dbtest.Exec(db, benchItems); err != nil {
			b.Fatal(err)
		}
	}
	if err := dbtest.Exec(dev, load); err != nil {
		b.Fatal(err)
	}
	dir := repoFor(b, map[string]string{"dev": dev, "prod": prod})
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte(fmt.Sprintf("[env \"dev\"]\n\turl = %s\n[env \"prod\"]\n\turl = %s\n\tbackup = none\n[tables]\n\tconfig = items\n", dev, prod)), 0o644)
	ws, err := OpenWorkspace(dir)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ws.Export(ctx, ExportOptions{}); err != nil {
		b.Fatal(err)
	}
	gitIn(b, dir, "add", "-A")
	gitIn(b, dir, "commit", "-q", "-m", "v1")
	gitIn(b, dir, "tag", "v1")
	var res *ApplyResult
	f.first, f.firstPeak = timed(func() {
		res, err = ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: "prod", Revision: "v1"}})
	})
	if err != nil || res.Entry.Summary["items"].Inserted != n {
		b.Fatalf("first apply: %v %+v", err, res)
	}
	f.load, f.loadTool = bulkLoad(b, engine, dev, bulk)
}

// fastestRead times the engine's own ways to read the whole table, in key
// order, into a file (export writes one too), and returns the fastest.
func fastestRead(b *testing.B, engine, u string) (time.Duration, string) {
	var best time.Duration
	tool := "n/a"
	keep := func(name string, d time.Duration) {
		if best == 0 || d < best {
			best, tool = d, name
		}
	}
	sink := func() *os.File {
		f, err := os.Create(filepath.Join(b.TempDir(), "read.out"))
		if err != nil {
			b.Fatal(err)
		}
		return f
	}
	run := func(name string, args ...string) {
		if _, err := exec.LookPath(args[0]); err != nil {
			b.Logf("%s: %s is not installed", engine, args[0])
			return
		}
		f := sink()
		defer f.Close()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stdout = f
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		keep(name, time.Since(t0))
	}
	const query = "SELECT * FROM items ORDER BY id"
	switch engine {
	case "sqlite":
		run("sqlite3", "sqlite3", strings.TrimPrefix(u, "sqlite:"), query)
	case "postgres":
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(ctx)
		f := sink()
		defer f.Close()
		w := bufio.NewWriterSize(f, 1<<16)
		t0 := time.Now()
		if _, err := conn.PgConn().CopyTo(ctx, w, "COPY ("+query+") TO STDOUT"); err != nil {
			b.Fatal(err)
		}
		w.Flush()
		keep("COPY TO", time.Since(t0))
	case "mysql":
		args := mysqlArgs(u)
		run("mariadb", append([]string{"mariadb", "--batch", "--quick", "-e", query}, args...)...)
		run("mysqldump", append(append([]string{"mysqldump", "--order-by-primary"}, args...), "items")...)
	}
	return best, tool
}

// mysqlArgs returns the client options that reach the database of a URL,
// the database last.
func mysqlArgs(u string) []string {
	p, _ := url.Parse(u)
	return []string{"-u" + p.User.Username(), "-h" + p.Hostname(), "-P" + p.Port(), "--protocol=tcp", strings.TrimPrefix(p.Path, "/")}
}

// bulkLoad times the engine's bulk load of the rows of dev into the empty
// table of bulk: COPY FROM on PostgreSQL, LOAD DATA LOCAL on MariaDB,
// Python's sqlite3 executemany in one transaction on SQLite; the rows go
// as CSV, written before the clock starts.
func bulkLoad(b *testing.B, engine, dev, bulk string) (time.Duration, string) {
	csvFile := filepath.Join(b.TempDir(), "items.csv")
	rows, err := dbtest.Query(dev, "SELECT id, name, label, weight, price, CASE WHEN enabled THEN 1 ELSE 0 END FROM items ORDER BY id")
	if err != nil {
		b.Fatal(err)
	}
	var csv strings.Builder
	for _, line := range strings.Split(strings.TrimSuffix(rows, "\n"), "\n") {
		csv.WriteString(strings.ReplaceAll(line, "\t", ",") + "\n")
	}
	os.WriteFile(csvFile, []byte(csv.String()), 0o644)
	t0 := time.Now()
	switch engine {
	case "sqlite":
		script := `import csv, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
with open(sys.argv[2]) as f:
    db.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?)", csv.reader(f))
db.commit()`
		if out, err := exec.Command("python3", "-c", script, strings.TrimPrefix(bulk, "sqlite:"), csvFile).CombinedOutput(); err != nil {
			b.Fatalf("executemany: %v\n%s", err, out)
		}
		return time.Since(t0), "executemany"
	case "postgres":
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, bulk)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(ctx)
		f, _ := os.Open(csvFile)
		defer f.Close()
		t0 = time.Now()
		if _, err := conn.PgConn().CopyFrom(ctx, f, "COPY items FROM STDIN (FORMAT csv)"); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0), "COPY FROM"
	case "mysql":
		args := append([]string{"--local-infile=1", "-e", "LOAD DATA LOCAL INFILE '" + csvFile + "' INTO TABLE items FIELDS TERMINATED BY ','"}, mysqlArgs(bulk)...)
		if out, err := exec.Command("mariadb", args...).CombinedOutput(); err != nil {
			b.Fatalf("LOAD DATA: %v\n%s", err, out)
		}
		return time.Since(t0), "LOAD DATA"
	}
	return 0, "n/a"
}
