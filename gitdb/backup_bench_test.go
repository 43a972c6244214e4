package gitdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb/backup"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/internal/dbtest"
)

// BenchmarkBackup measures, on each engine, what each backup mode adds to
// an apply: the same apply of 10,000 updates to a config table of
// 100,000 rows (first applied, so its ledger holds 100,000 row images,
// which no backup saves), to a target without backups (backup = none),
// to one with the default (backup = tables) and to one that adds a full
// dump (backup = database). Aim: the default backup adds at most 50% to
// the apply.
func BenchmarkBackup(b *testing.B) {
	const n = 100_000
	var lines []string
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			ctx := context.Background()
			dev, plain, backed, dumped := dbtest.NewDatabase(b, engine), dbtest.NewDatabase(b, engine), dbtest.NewDatabase(b, engine), dbtest.NewDatabase(b, engine)
			load := itemsLoad(engine, n)
			for _, db := range []string{dev, plain, backed, dumped} {
				if err := dbtest.Exec(db, benchItems); err != nil {
					b.Fatal(err)
				}
			}
			if err := dbtest.Exec(dev, load); err != nil {
				b.Fatal(err)
			}
			dir := repoFor(b, nil)
			cfg := fmt.Sprintf("[env \"dev\"]\n\turl = %s\n[env \"plain\"]\n\turl = %s\n\tbackup = none\n[env \"backed\"]\n\turl = %s\n[env \"dumped\"]\n\turl = %s\n\tbackup = database\n[tables]\n\tconfig = items\n", dev, plain, backed, dumped)
			if err := os.WriteFile(filepath.Join(dir, ".dbsync"), []byte(cfg), 0o644); err != nil {
				b.Fatal(err)
			}
			ws, err := OpenWorkspace(dir)
			if err != nil {
				b.Fatal(err)
			}
			release := func(tag string) {
				if _, err := ws.Export(ctx, ExportOptions{}); err != nil {
					b.Fatal(err)
				}
				gitIn(b, dir, "add", "-A")
				gitIn(b, dir, "commit", "-q", "-m", tag)
				gitIn(b, dir, "tag", tag)
			}
			apply := func(env, rev string) (time.Duration, *ApplyResult) {
				var res *ApplyResult
				d, _ := timed(func() { res, err = ws.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: env, Revision: rev}}) })
				if err != nil {
					b.Fatal(err)
				}
				return d, res
			}
			release("v1")
			apply("plain", "v1")
			apply("backed", "v1")
			apply("dumped", "v1")
			if err := dbtest.Exec(dev, "UPDATE items SET label = concat(label, ' (v2)') WHERE id % 10 = 0;"); err != nil {
				b.Fatal(err)
			}
			release("v2")
			without, _ := apply("plain", "v2")
			with, res := apply("backed", "v2")
			if res.Backup == nil || res.Backup.Rows() < n {
				b.Fatalf("the backup holds %+v", res.Backup)
			}
			full, _ := apply("dumped", "v2")
			more := func(d time.Duration) float64 { return 100 * (d.Seconds() - without.Seconds()) / without.Seconds() }
			// The applies' differences drown in a shared machine's noise:
			// the backup alone, and the dump alone, best of three, beside
			// the engine's fastest read of the table into a file.
			take, dump := benchBackupAlone(b, backed)
			read, tool := fastestRead(b, engine, backed)
			lines = append(lines, fmt.Sprintf("%-9s apply %v; backup = tables %v (%d rows, %.1f MB): +%.0f%%; backup = database %v: +%.0f%%\n"+
				"%9s the backup alone %v (÷ %s %v: %.2f), the dump alone %v", engine,
				without.Round(time.Millisecond), with.Round(time.Millisecond), res.Backup.Rows(), float64(res.Backup.Bytes)/1e6, more(with),
				full.Round(time.Millisecond), more(full),
				"", take.Round(time.Millisecond), tool, read.Round(time.Millisecond), take.Seconds()/read.Seconds(), dump.Round(time.Millisecond)))
		})
	}
	fmt.Printf("\nthe backups before an apply of 10,000 updates to a 100,000-row config table (aim: the default adds ≤ 50%%)\n%s\n", strings.Join(lines, "\n"))
}

// benchBackupAlone times, best of three, a backup = tables of the items
// table of u, read in a transaction as a change's is, and the full dump
// backup = database adds to it.
func benchBackupAlone(b *testing.B, u string) (take, dump time.Duration) {
	ctx := context.Background()
	db, err := dialect.Open(ctx, u, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	best := func(have *time.Duration, d time.Duration) {
		if *have == 0 || d < *have {
			*have = d
		}
	}
	for i := 0; i < 3; i++ {
		tx, err := db.Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		m := &backup.Manifest{ID: fmt.Sprint(i), Taken: time.Now()}
		t0 := time.Now()
		err = backup.Take(ctx, tx, b.TempDir(), m, []string{"items"})
		best(&take, time.Since(t0))
		tx.Rollback()
		if err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		if err := dumpDatabase(ctx, u, b.TempDir(), b.TempDir()); err != nil {
			b.Fatal(err)
		}
		best(&dump, time.Since(t0))
	}
	return take, dump
}
