package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/internal/dbtest"
	"github.com/gitdbsync/git-dbsync/internal/gittest"
)

// galeraRepo builds a repository whose v2 changes a few hundred rows of
// two config tables, and a target "prod" at v1 on the Galera cluster
// (applied through node 1). It returns the repository, prod's URL on
// each node, and the URL (node 1) of a copy of prod at v1.
func galeraRepo(t *testing.T, nodes []string) (dir string, prod []string, before string) {
	t.Helper()
	dir = gittest.Init(t)
	git := func(args ...string) { gittest.Run(t, dir, args...) }
	dev := dbtest.NewGaleraDatabase(t, nodes)[0]
	prod = dbtest.NewGaleraDatabase(t, nodes)
	before = dbtest.NewGaleraDatabase(t, nodes)[0]
	exec1 := func(url, sql string) {
		t.Helper()
		if err := dbtest.Exec(url, dbtest.Render(sql, "mysql")); err != nil {
			t.Fatal(err)
		}
	}
	exec1(dev, `CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, weight INTEGER, note VARCHAR(50));
CREATE TABLE settings (name VARCHAR(50) PRIMARY KEY, value VARCHAR(50));
INSERT INTO settings VALUES ('site', 'one'), ('mode', 'fast');
INSERT INTO items SELECT i, concat('item ', i), i % 7, NULL FROM (`+sequence(1, 1000)+`) s;`)
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte(`[env "dev"]
	url = `+dev+`
[env "prod"]
	url = `+prod[0]+`
[tables]
	config = items settings
`), 0o644)
	dbsync(t, dir, nil, "export")
	git("add", "-A")
	git("commit", "-q", "-m", "v1")
	git("tag", "v1")
	if err := dbtest.Copy(dev, prod[0]); err != nil {
		t.Fatal(err)
	}
	dbsync(t, dir, nil, "apply", "v1", "--env", "prod", "--yes")
	exec1(dev, `UPDATE items SET weight = weight + 100, note = 'changed' WHERE id % 3 = 0;
DELETE FROM items WHERE id % 10 = 1;
INSERT INTO items SELECT i, concat('new ', i), 1, 'n' FROM (`+sequence(2001, 2100)+`) s;
UPDATE settings SET value = 'two' WHERE name = 'site';`)
	dbsync(t, dir, nil, "export")
	git("add", "-A")
	git("commit", "-q", "-m", "v2")
	git("tag", "v2")
	if err := dbtest.Copy(prod[0], before); err != nil {
		t.Fatal(err)
	}
	return dir, prod, before
}

// onNode runs git dbsync in dir with prod's URL set to a node's, and
// returns its exit code and output.
func onNode(dir, url string, args ...string) (int, string) {
	cmd := exec.Command("git", append([]string{"dbsync"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), config.EnvVar("prod")+"="+url)
	out, _ := cmd.CombinedOutput()
	return cmd.ProcessState.ExitCode(), string(out)
}

// TestGalera runs git dbsync against the 3-node Galera cluster: races of
// applies through different nodes, and the refusals a cluster needs.
func TestGalera(t *testing.T) {
	if !slices.Contains(dbtest.Engines, "mysql") {
		return
	}
	nodes := dbtest.Galera(t)
	dir, prod, before := galeraRepo(t, nodes)
	reset := func() {
		t.Helper()
		if err := dbtest.Copy(before, prod[0]); err != nil {
			t.Fatal(err)
		}
		os.RemoveAll(filepath.Join(dir, ".git", "dbsync", "locks"))
	}
	clones := []string{dir}
	for k := 1; k < 3; k++ {
		c := filepath.Join(t.TempDir(), fmt.Sprintf("clone%d", k))
		gittest.Run(t, dir, "clone", "-q", dir, c)
		os.WriteFile(filepath.Join(c, ".dbsync"), mustRead(t, filepath.Join(dir, ".dbsync")), 0o644)
		clones = append(clones, c)
	}
	t.Run("races", func(t *testing.T) {
		galeraRaces(t, clones, prod, reset, "v2", soakCount("DBSYNC_SOAK_GALERA_RACES", 20))
	})
	// First applies: the ledger tables are made by the race's runs too.
	t.Run("first-apply-races", func(t *testing.T) {
		galeraRaces(t, clones, prod, func() {
			reset()
			if err := dbtest.Exec(prod[0], "DROP TABLE dbsync_ledger_rows, dbsync_ledger, dbsync_identity, dbsync_cluster_lock"); err != nil {
				t.Fatal(err)
			}
		}, "v1", soakCount("DBSYNC_SOAK_GALERA_RACES", 60)/20)
	})
	t.Run("not-ready", func(t *testing.T) { galeraNotReady(t, dir, nodes, prod, reset) })
	t.Run("writeset", func(t *testing.T) { galeraWriteset(t, dir, nodes, prod, reset) })
	t.Run("lagging", func(t *testing.T) { galeraLagging(t, dir, nodes, prod, reset) })
	t.Run("no-primary-key", func(t *testing.T) { galeraNoPrimaryKey(t, nodes) })
	if rows := soakCount("DBSYNC_SOAK_GALERA_ROWS", 0); rows > 0 { // make soak
		t.Run("big-writeset", func(t *testing.T) { galeraBigWriteset(t, nodes, rows) })
	}
}

// galeraRaces applies rev through two or three nodes at the same instant,
// from as many clones, again and again: each time one apply wins, every
// other is told that it committed first, and on which node, or (started
// after it committed) finds rev applied; every node's ledger holds the one
// entry.
func galeraRaces(t *testing.T, clones, prod []string, reset func(), rev string, runs int) {
	lostRace := regexp.MustCompile(`(?m)^error: another apply of ` + rev + ` to "prod" committed first on node (galera[123]): nothing written$`)
	histogram := map[string]int{}
	winners, losers, already, three, two, same := 0, 0, 0, 0, 0, 0
	for i := 0; i < runs; i++ {
		reset()
		for _, c := range clones {
			os.RemoveAll(filepath.Join(c, ".git", "dbsync", "locks"))
		}
		// Three applies, one through each node (from clone k through node
		// k); every other race two, and every fifth two through the same
		// node (GET_LOCK holds there), from two clones.
		on := []int{0, 1, 2}
		clone := []int{0, 1, 2}
		switch {
		case i%5 == 4:
			on, clone = []int{i % 3, i % 3}, []int{0, 1}
		case i%2 == 1:
			on = []int{i % 3, (i + 1) % 3}
			clone = on
		}
		codes := make([]int, len(on))
		outs := make([]string, len(on))
		done := make(chan bool)
		for j, k := range on {
			go func() {
				codes[j], outs[j] = onNode(clones[clone[j]], prod[k], "apply", rev, "--env", "prod", "--yes")
				done <- true
			}()
		}
		for range on {
			<-done
		}
		report := func() string {
			var b strings.Builder
			for j, k := range on {
				fmt.Fprintf(&b, "--- through node %d: exit %d\n%s", k+1, codes[j], outs[j])
			}
			return b.String()
		}
		for k, u := range prod {
			n, err := dbtest.Query(dbtest.Synced(u), "SELECT count(*) FROM dbsync_ledger WHERE kind = 'apply' AND revision = '"+rev+"'")
			if err != nil || strings.TrimSpace(n) != "1" {
				t.Fatalf("race %d: node %d's ledger holds %s applies of %s (%v)\n%s", i, k+1, strings.TrimSpace(n), rev, err, report())
			}
		}
		winner := -1
		for j := range on {
			if codes[j] == 0 && !strings.Contains(outs[j], "already at "+rev) {
				if winner >= 0 {
					t.Fatalf("race %d: two winners\n%s", i, report())
				}
				winner = j
			}
		}
		if winner < 0 {
			t.Fatalf("race %d: no winner\n%s", i, report())
		}
		winners++
		switch {
		case len(on) == 3:
			three++
		case on[0] == on[1]:
			same++
		default:
			two++
		}
		node := fmt.Sprintf("galera%d", on[winner]+1)
		for j := range on {
			switch m := lostRace.FindStringSubmatch(outs[j]); {
			case j == winner:
			case codes[j] == 0:
				histogram["exit 0: already at "+rev]++
				already++
			case codes[j] == exitLocked && m != nil && m[1] == node:
				histogram[`exit 4: another apply of `+rev+` to "prod" committed first on node <the winner's>: nothing written`]++
				losers++
			default:
				t.Fatalf("race %d: the apply through node %d lost to node %s's and says so otherwise (exit %d)\n%s", i, on[j]+1, node, codes[j], report())
			}
		}
	}
	// Started after the winner committed, an apply through any node finds
	// it applied.
	for k := range prod {
		if code, out := onNode(clones[k], prod[k], "apply", rev, "--env", "prod", "--yes"); code != 0 || !strings.Contains(out, "already at "+rev) {
			t.Errorf("apply through node %d after the races: exit %d\n%s", k+1, code, out)
		}
	}
	var lines []string
	for k, v := range histogram {
		lines = append(lines, fmt.Sprintf("%d × %s", v, k))
	}
	sort.Strings(lines)
	t.Logf("soak galera: %d races of %s (%d three-way through the three nodes, %d two-way through two, %d two-way through one): %d winners, 0 with two; the %d others: %s",
		runs, rev, three, two, same, winners, losers+already, strings.Join(lines, "; "))
}

// galeraNotReady isolates node 3 from the others (gmcast.isolate): a node
// outside the primary component, whose reads would be stale and whose
// writes fail. Commands through it are refused before anything is read;
// through node 1 they work on.
func galeraNotReady(t *testing.T, dir string, nodes, prod []string, reset func()) {
	reset()
	if err := dbtest.Exec(nodes[2], "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'"); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := dbtest.Exec(nodes[2], "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'"); err != nil {
			t.Error(err)
		}
		dbtest.WaitGalera(t, nodes[2])
	}()
	for i := 0; i < 600 && !strings.Contains(dbtest.GaleraState(nodes[2]), "non-Primary"); i++ {
		if i == 599 {
			t.Fatalf("node 3 stays in the primary component: %s", dbtest.GaleraState(nodes[2]))
		}
		sleep()
	}
	want := `error: environment "prod" is Galera node "galera3", outside the cluster's primary component (wsrep_cluster_status = non-Primary): nothing done`
	for _, args := range [][]string{{"status", "--env", "prod"}, {"apply", "v2", "--env", "prod", "--yes"}, {"plan", "v2", "--env", "prod"}} {
		code, out := onNode(dir, prod[2], args...)
		if code != exitError || !strings.Contains(out, want+"\n") {
			t.Errorf("%s through the isolated node: exit %d, want %d and %q\n%s", args[0], code, exitError, want, out)
		}
	}
	if code, out := onNode(dir, prod[0], "apply", "v2", "--env", "prod", "--yes"); code != 0 || !strings.Contains(out, "applied v2") {
		t.Errorf("apply through node 1 while node 3 is isolated: exit %d\n%s", code, out)
	}
}

// galeraWriteset bounds node 1's writesets to fewer rows than v2's apply
// writes with its ledger images (wsrep_max_ws_rows, set back after), and
// the apply is refused before it writes, naming both numbers; a table
// without a primary key is refused on the cluster.
func galeraWriteset(t *testing.T, dir string, nodes, prod []string, reset func()) {
	reset()
	old, err := dbtest.Query(nodes[0], "SELECT @@GLOBAL.wsrep_max_ws_rows")
	if err != nil {
		t.Fatal(err)
	}
	if err := dbtest.Exec(nodes[0], "SET GLOBAL wsrep_max_ws_rows = 500"); err != nil {
		t.Fatal(err)
	}
	defer dbtest.Exec(nodes[0], "SET GLOBAL wsrep_max_ws_rows = "+strings.TrimSpace(old))
	dump, err := dbtest.Dump(prod[0])
	if err != nil {
		t.Fatal(err)
	}
	code, out := onNode(dir, prod[0], "apply", "v2", "--env", "prod", "--yes")
	want := regexp.MustCompile(`error: the change would write about ([0-9,]+) rows \(([0-9,]+) rows changed, each with its ledger image\) and ([0-9,]+) bytes in one transaction, more than the Galera cluster takes in one writeset \(wsrep_max_ws_rows = 500, wsrep_max_ws_size = 2,147,483,647\): nothing written`)
	m := want.FindStringSubmatch(out)
	if code != exitError || m == nil {
		t.Fatalf("apply over the writeset limit: exit %d\n%s", code, out)
	}
	if after, _ := dbtest.Dump(prod[0]); after != dump {
		t.Errorf("the refused apply wrote to the target")
	}
	if err := dbtest.Exec(nodes[0], "SET GLOBAL wsrep_max_ws_rows = 0"); err != nil {
		t.Fatal(err)
	}
	before := replicatedBytes(t, nodes[0])
	if code, out := onNode(dir, prod[0], "apply", "v2", "--env", "prod", "--yes"); code != 0 {
		t.Fatalf("apply with no bound: exit %d\n%s", code, out)
	}
	t.Logf("soak galera writeset: refused with wsrep_max_ws_rows = 500: %s rows and %s bytes estimated for %s rows changed; applied with no bound, node 1 replicated %s bytes",
		m[1], m[3], m[2], thousands(replicatedBytes(t, nodes[0])-before))
}

// replicatedBytes is what a Galera node has replicated so far (its
// writesets' bytes).
func replicatedBytes(t *testing.T, node string) int64 {
	out, err := dbtest.Query(node, "SELECT variable_value FROM information_schema.global_status WHERE variable_name = 'wsrep_replicated_bytes'")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	fmt.Sscan(out, &n)
	return n
}

// galeraLagging pauses node 3's applier (FLUSH TABLES WITH READ LOCK
// desyncs and pauses a Galera node) while v2 is applied through node 1:
// status through node 3 waits for the cluster's latest commit, then
// answers v2, never the stale "pending v2" node 3's own rows would give.
func galeraLagging(t *testing.T, dir string, nodes, prod []string, reset func()) {
	reset()
	release, err := dbtest.Hold(nodes[2], "FLUSH TABLES WITH READ LOCK")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if code, out := onNode(dir, prod[0], "apply", "v2", "--env", "prod", "--yes"); code != 0 {
		t.Fatalf("apply through node 1: exit %d\n%s", code, out)
	}
	if n, err := dbtest.Query(prod[2], "SELECT count(*) FROM dbsync_ledger WHERE revision = 'v2'"); err != nil || strings.TrimSpace(n) != "0" {
		t.Fatalf("node 3 is not behind: its ledger has %s entries of v2 (%v)", strings.TrimSpace(n), err)
	}
	type result struct {
		code int
		out  string
	}
	done := make(chan result, 1)
	go func() {
		code, out := onNode(dir, prod[2], "status", "--env", "prod")
		done <- result{code, out}
	}()
	time.Sleep(time.Second) // status reads, or waits, meanwhile
	release()
	r := <-done
	if r.code != 0 || !regexp.MustCompile(`(?m)^  at: +v2 `).MatchString(r.out) || !strings.Contains(r.out, "pending:   no newer tags") {
		t.Errorf("status through the lagging node: exit %d, want it at v2 and nothing pending\n%s", r.code, r.out)
	}
	dbtest.WaitGalera(t, nodes[2])
}

// galeraNoPrimaryKey applies a config table without a primary key (its
// key in .dbsync is a column) to the cluster: refused, nothing written.
func galeraNoPrimaryKey(t *testing.T, nodes []string) {
	dir := gittest.Init(t)
	dev := dbtest.NewGaleraDatabase(t, nodes)[0]
	prod := dbtest.NewGaleraDatabase(t, nodes)[1]
	for _, u := range []string{dev, prod} {
		if err := dbtest.Exec(u, "CREATE TABLE flags (name VARCHAR(50) NOT NULL, value VARCHAR(50))"); err != nil {
			t.Fatal(err)
		}
	}
	if err := dbtest.Exec(dev, "INSERT INTO flags VALUES ('beta', 'on'), ('dark', 'off')"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte(`[env "dev"]
	url = `+dev+`
[env "prod"]
	url = `+prod+`
[tables]
	config = flags
[table "flags"]
	key = name
`), 0o644)
	dbsync(t, dir, nil, "export")
	gittest.Run(t, dir, "add", "-A")
	gittest.Run(t, dir, "commit", "-q", "-m", "v1")
	gittest.Run(t, dir, "tag", "v1")
	code, out := onNode(dir, prod, "apply", "v1", "--env", "prod", "--yes")
	want := `error: table "flags" has no primary key: a Galera cluster cannot replicate the deletes and updates of such a table reliably, so git dbsync does not write it on a cluster: nothing written`
	if code != exitError || !strings.Contains(out, want+"\n") {
		t.Errorf("apply of a table without a primary key: exit %d, want %d and %q\n%s", code, exitError, want, out)
	}
	if n, err := dbtest.Query(dbtest.Synced(prod), "SELECT count(*) FROM flags"); err != nil || strings.TrimSpace(n) != "0" {
		t.Errorf("the refused apply wrote %s rows (%v)", strings.TrimSpace(n), err)
	}
}

// galeraBigWriteset makes a first apply of rows rows against node 1
// bounded to 131,072 rows a writeset (refused, nothing written), then
// with no bound, and prints the estimate beside what Galera replicated.
func galeraBigWriteset(t *testing.T, nodes []string, rows int) {
	dir := gittest.Init(t)
	dbs := dbtest.NewGaleraDatabase(t, nodes)
	dev, prod := dbs[0], dbtest.NewGaleraDatabase(t, nodes)[0]
	const table = "CREATE TABLE big (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, weight INTEGER)"
	for _, u := range []string{dev, prod} {
		if err := dbtest.Exec(u, table); err != nil {
			t.Fatal(err)
		}
	}
	for off := 0; off < rows; off += 100000 {
		q := fmt.Sprintf("INSERT INTO big SELECT i + %d, concat('row ', i + %d), i %% 13 FROM (%s) s", off+1, off+1, sequence(0, min(99999, rows-off-1)))
		if err := dbtest.Exec(dev, q); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte(`[env "dev"]
	url = `+dev+`
[env "prod"]
	url = `+prod+`
[tables]
	config = big
[table "big"]
	layout = lines
`), 0o644)
	dbsync(t, dir, nil, "export")
	gittest.Run(t, dir, "add", "-A")
	gittest.Run(t, dir, "commit", "-q", "-m", "v1")
	gittest.Run(t, dir, "tag", "v1")

	old, err := dbtest.Query(nodes[0], "SELECT @@GLOBAL.wsrep_max_ws_rows")
	if err != nil {
		t.Fatal(err)
	}
	defer dbtest.Exec(nodes[0], "SET GLOBAL wsrep_max_ws_rows = "+strings.TrimSpace(old))
	if err := dbtest.Exec(nodes[0], "SET GLOBAL wsrep_max_ws_rows = 131072"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, out := onNode(dir, prod, "apply", "v1", "--env", "prod", "--yes")
	refused := time.Since(start)
	m := regexp.MustCompile(`would write about ([0-9,]+) rows \(([0-9,]+) rows changed[^)]*\) and ([0-9,]+) bytes`).FindStringSubmatch(out)
	if code != exitError || m == nil {
		t.Fatalf("apply of %d rows over wsrep_max_ws_rows = 131072: exit %d\n%s", rows, code, out)
	}
	if n, _ := dbtest.Query(dbtest.Synced(prod), "SELECT count(*) FROM big"); strings.TrimSpace(n) != "0" {
		t.Fatalf("the refused apply wrote %s rows", strings.TrimSpace(n))
	}
	if err := dbtest.Exec(nodes[0], "SET GLOBAL wsrep_max_ws_rows = 0"); err != nil {
		t.Fatal(err)
	}
	before := replicatedBytes(t, nodes[0])
	start = time.Now()
	if code, out := onNode(dir, prod, "apply", "v1", "--env", "prod", "--yes"); code != 0 {
		t.Fatalf("apply of %d rows without a bound: exit %d\n%s", rows, code, out)
	}
	applied := time.Since(start)
	sent := replicatedBytes(t, nodes[0]) - before
	images, _ := dbtest.Query(dbtest.Synced(prod), "SELECT count(*) FROM dbsync_ledger_rows")
	t.Logf("soak galera writeset: a first apply of %d rows: refused in %v against wsrep_max_ws_rows = 131,072 (estimate %s rows, %s bytes); "+
		"applied in %v with no bound: %d rows and %s ledger images written, %s bytes replicated by node 1",
		rows, refused.Round(time.Millisecond), m[1], m[3], applied.Round(time.Millisecond), rows, strings.TrimSpace(images), thousands(sent))
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func sleep() { time.Sleep(100 * time.Millisecond) }
