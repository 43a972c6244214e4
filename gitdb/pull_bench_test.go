package gitdb

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitdbsync/git-dbsync/internal/dbtest"
	"github.com/gitdbsync/git-dbsync/internal/gittest"
)

// benchOrders is a content table of the pull benchmark: an address pull
// redacts on the way, and the columns a shop's orders have.
const benchOrders = `CREATE TABLE orders (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL, status VARCHAR(20) NOT NULL, total DECIMAL(10,2), note TEXT, placed TIMESTAMP);`

// pullBench is a 1,000,000-row content table on PostgreSQL (prod), to be
// pulled into PostgreSQL (dev) and SQLite (laptop), and the time
// pg_dump --data-only -t orders | psql took to copy it into a third
// database.
type pullBench struct {
	ws    *Workspace
	n     int
	tools time.Duration
}

func newPullBench(b *testing.B) *pullBench {
	const n = 1_000_000
	prod, dev, baseline := dbtest.NewDatabase(b, "postgres"), dbtest.NewDatabase(b, "postgres"), dbtest.NewDatabase(b, "postgres")
	laptop := "sqlite:" + filepath.Join(b.TempDir(), "laptop.db")
	load := fmt.Sprintf(`INSERT INTO orders SELECT i, 'customer' || i || '@shop.example', 'shipped', (i %% 10000) / 100.0,
  'Leave at the door, ring twice ' || i, TIMESTAMP '2026-01-01' + i * INTERVAL '1 minute' FROM generate_series(1, %d) i;`, n)
	if err := dbtest.Exec(prod, benchOrders+load); err != nil {
		b.Fatal(err)
	}
	for _, u := range []string{dev, baseline, laptop} {
		if err := dbtest.Exec(u, benchOrders); err != nil {
			b.Fatal(err)
		}
	}
	dir := gittest.Init(b)
	cfg := fmt.Sprintf("[env \"prod\"]\n\turl = %s\n[env \"dev\"]\n\turl = %s\n[env \"laptop\"]\n\turl = %s\n\tpull-target = true\n"+
		"[tables]\n\tcontent = orders\n[table \"orders\"]\n\tredact = email email\n", prod, dev, laptop)
	if err := os.WriteFile(filepath.Join(dir, ".dbsync"), []byte(cfg), 0o644); err != nil {
		b.Fatal(err)
	}
	ws, err := OpenWorkspace(dir)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	dump := exec.Command("sh", "-c", `pg_dump --data-only -t orders "$1" | psql -q -v ON_ERROR_STOP=1 "$2"`, "sh", libpqURL(prod), libpqURL(baseline))
	if out, err := dump.CombinedOutput(); err != nil {
		b.Fatalf("pg_dump | psql: %v\n%s", err, out)
	}
	return &pullBench{ws: ws, n: n, tools: time.Since(t0)}
}

// pull pulls the table from prod into an environment and returns its time
// and peak heap.
func (p *pullBench) pull(b *testing.B, to string) (time.Duration, uint64) {
	var res *PullResult
	var err error
	d, peak := timed(func() {
		res, err = p.ws.Pull(context.Background(), PullOptions{From: "prod", To: to})
	})
	if err != nil {
		b.Fatal(err)
	}
	if res.Tables[0].Copied != int64(p.n) {
		b.Fatalf("pulled %d rows into %s, want %d", res.Tables[0].Copied, to, p.n)
	}
	return d, peak
}

// benchPullFigure measures the pull of make bench's table: PostgreSQL into
// PostgreSQL ÷ pg_dump | psql.
func benchPullFigure(b *testing.B, f *engineFigures) {
	p := newPullBench(b)
	f.pull, f.pullPeak = p.pull(b, "dev")
	f.dump, f.dumpTool = p.tools, "pg_dump | psql"
}

// BenchmarkPull measures a pull of a 1,000,000-row content table from
// PostgreSQL into PostgreSQL and into SQLite (one column redacted), beside
// pg_dump --data-only -t orders | psql into PostgreSQL for the same rows
// (aim ≤ 1.3), and the pull's peak heap (aim < 64 MB).
func BenchmarkPull(b *testing.B) {
	p := newPullBench(b)
	toPG, pgPeak := p.pull(b, "dev")
	toSQLite, sqlitePeak := p.pull(b, "laptop")
	again, againPeak := p.pull(b, "dev") // the target's rows replaced

	ratio := func(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()/p.tools.Seconds()) }
	fmt.Printf("\npull of %d rows (one column redacted) ÷ pg_dump --data-only | psql (%v); aim ≤ 1.3, peak heap < 64 MB\n", p.n, p.tools.Round(time.Millisecond))
	fmt.Printf("  PostgreSQL → PostgreSQL  %-6s (%v), peak heap %.0f MB\n", ratio(toPG), toPG.Round(time.Millisecond), float64(pgPeak)/1e6)
	fmt.Printf("  PostgreSQL → SQLite      %-6s (%v), peak heap %.0f MB\n", ratio(toSQLite), toSQLite.Round(time.Millisecond), float64(sqlitePeak)/1e6)
	fmt.Printf("  again, rows replaced     %-6s (%v), peak heap %.0f MB\n", ratio(again), again.Round(time.Millisecond), float64(againPeak)/1e6)
}

// libpqURL drops what libpq's tools do not take from a test database's URL.
func libpqURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := p.Query()
	for k := range q {
		if !strings.HasPrefix(k, "ssl") {
			q.Del(k)
		}
	}
	p.RawQuery = q.Encode()
	return p.String()
}
