//go:build unix

package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb"
	"github.com/gitdbsync/git-dbsync/internal/gittest"
	"github.com/gitdbsync/git-dbsync/internal/sqltool"
)

const (
	benchTables = 200
	benchTags   = 20
	benchEnvs   = 5
	benchRows   = 20 // rows a table
)

// benchRepo makes a repository of 200 config tables of 20 rows on
// SQLite, 20 tags each changing 10 tables, and 5 environments: env k is
// at tag 4k, and e1's editors changed a row since (drift).
func benchRepo(b *testing.B) *gitdb.Workspace {
	dir := b.TempDir()
	gittest.Run(b, dir, "init", "-q")
	var schema strings.Builder
	for t := range benchTables {
		fmt.Fprintf(&schema, "CREATE TABLE t%03d (name TEXT PRIMARY KEY, value TEXT, weight INTEGER);\n", t)
		fmt.Fprintf(&schema, "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d) INSERT INTO t%03d SELECT 'row_' || i, '{\"label\": \"row ' || i || '\", \"tags\": [\"a\", \"b\"]}', i FROM seq;\n", benchRows, t)
	}
	if err := sqltool.Exec(filepath.Join(dir, "dev.db"), schema.String()); err != nil {
		b.Fatal(err)
	}
	conf := "[env \"dev\"]\n\turl = sqlite:dev.db\n"
	for e := 1; e <= benchEnvs; e++ {
		conf += fmt.Sprintf("[env \"e%d\"]\n\turl = sqlite:e%d.db\n", e, e)
	}
	conf += "[group \"shops\"]\n\tenv = e*\n[tables]\n\tconfig = t*\n"
	for t := range benchTables {
		conf += fmt.Sprintf("[table \"t%03d\"]\n\tcodec = value:json\n", t)
	}
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte(conf), 0o644)
	os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("*.db\n"), 0o644)
	data, err := os.ReadFile(filepath.Join(dir, "dev.db"))
	if err != nil {
		b.Fatal(err)
	}
	for e := 1; e <= benchEnvs; e++ {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("e%d.db", e)), data, 0o644)
	}
	ws, err := gitdb.OpenWorkspace(dir)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for tag := 1; tag <= benchTags; tag++ {
		var edit strings.Builder
		for k := range 10 {
			t := (tag*10 + k) % benchTables
			fmt.Fprintf(&edit, "UPDATE t%03d SET value = '{\"label\": \"v%d\", \"tags\": [\"a\", \"c\"]}', weight = weight + %d WHERE name IN ('row_1', 'row_2');\n", t, tag, tag)
			fmt.Fprintf(&edit, "INSERT INTO t%03d VALUES ('new_%d', '{}', %d);\n", t, tag, tag)
		}
		if err := sqltool.Exec(filepath.Join(dir, "dev.db"), edit.String()); err != nil {
			b.Fatal(err)
		}
		if _, err := ws.Export(ctx, gitdb.ExportOptions{Force: true}); err != nil {
			b.Fatal(err)
		}
		gittest.Run(b, dir, "add", "-A")
		gittest.Run(b, dir, "commit", "-q", "-m", fmt.Sprintf("v%02d", tag))
		gittest.Run(b, dir, "tag", fmt.Sprintf("v%02d", tag))
	}
	for e := 1; e <= benchEnvs; e++ {
		opts := gitdb.ApplyOptions{PlanOptions: gitdb.PlanOptions{Env: fmt.Sprintf("e%d", e), Revision: fmt.Sprintf("v%02d", 4*e)}}
		if _, err := ws.Apply(ctx, opts); err != nil {
			b.Fatal(err)
		}
	}
	if err := sqltool.Exec(filepath.Join(dir, "e1.db"), "UPDATE t050 SET weight = 99 WHERE name = 'row_3'"); err != nil {
		b.Fatal(err)
	}
	gittest.Run(b, dir, "gc", "-q") // packed, as a clone is
	return ws
}

// BenchmarkPages renders each page of git dbsync web for a repository
// of 200 tables, 20 tags and 5 environments (SQLite), through the
// handler (no network): ms/page is the figure (the aim is under 300 ms).
func BenchmarkPages(b *testing.B) {
	ws := benchRepo(b)
	srv, err := New(ws)
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	for _, page := range []struct{ name, path, want string }{
		{"matrix", "/", "e5"},
		{"release", "/release?env=e1&rev=v20", "t050"},
		{"history", "/history?env=e5", "#1 apply"},
		{"compare", "/diff?a=e1&b=e5", "database of e1"},
	} {
		b.Run(page.name, func(b *testing.B) {
			var size int
			cpu := cpuTime()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, page.path, nil)
				req.AddCookie(&http.Cookie{Name: cookieName, Value: srv.token})
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), page.want) {
					b.Fatalf("GET %s: %d\n%.2000s", page.path, w.Code, w.Body.String())
				}
				size = w.Body.Len()
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/page")
			b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/page")
			b.ReportMetric(float64(size)/1024, "KiB")
		})
	}
}

// cpuTime is the CPU time this process used so far (user and system): on
// a machine shared with other work, a figure its load does not inflate
// as it does the wall time (git's cat-file, a child, is not in it).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
