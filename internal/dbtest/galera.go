package dbtest

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Galera returns the URLs of the three nodes of the MariaDB Galera
// cluster ($DBSYNC_TEST_GALERA1, 2 and 3, which testdata/servers/start.sh
// starts and .ci/run exports; the Makefile has their defaults). Unset,
// unreachable or not a synced 3-node cluster, the test fails: the tests
// that need it never skip.
func Galera(t testing.TB) []string {
	t.Helper()
	var nodes []string
	for n := 1; n <= 3; n++ {
		u := server(t, fmt.Sprintf("DBSYNC_TEST_GALERA%d", n), fmt.Sprintf("node %d of the Galera cluster", n))
		if st := GaleraState(u); st != "Synced Primary 3" {
			t.Fatalf("node %d of the Galera cluster at %s is %q, not a synced node of the 3-node primary component (sh testdata/servers/start.sh galera starts it)", n, u, st)
		}
		nodes = append(nodes, u)
	}
	return nodes
}

// GaleraState returns a node's wsrep_local_state_comment,
// wsrep_cluster_status and wsrep_cluster_size, or the error reading them.
func GaleraState(u string) string {
	out, err := Query(u, `SELECT group_concat(variable_value ORDER BY variable_name DESC SEPARATOR ' ') FROM information_schema.global_status
WHERE variable_name IN ('wsrep_local_state_comment', 'wsrep_cluster_status', 'wsrep_cluster_size')`)
	if err != nil {
		return err.Error()
	}
	return strings.TrimSpace(out)
}

// WaitGalera waits until a node is a synced node of the 3-node primary
// component again (after a test isolated it), failing after a minute.
func WaitGalera(t testing.TB, u string) {
	t.Helper()
	var st string
	for i := 0; i < 600; i++ {
		if st = GaleraState(u); st == "Synced Primary 3" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the Galera node at %s did not rejoin the cluster: %s", u, st)
}

// NewGaleraDatabase creates an empty database on the cluster and returns
// its URL on each node; it is dropped when the test ends.
func NewGaleraDatabase(t testing.TB, nodes []string) []string {
	t.Helper()
	name := randomName()
	if err := Exec(nodes[0], "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"); err != nil {
		t.Fatalf("the Galera cluster at %s: %v", nodes[0], err)
	}
	t.Cleanup(func() { Exec(nodes[0], "DROP DATABASE IF EXISTS "+name) })
	var out []string
	for _, n := range nodes {
		u, _ := url.Parse(n)
		u.Path = "/" + name
		out = append(out, u.String())
	}
	return out
}

// Synced returns the URL u with wsrep_sync_wait on: a test's reads
// through it see the cluster's latest commit, whichever node it is.
func Synced(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := p.Query()
	q.Set("wsrep_sync_wait", "1")
	p.RawQuery = q.Encode()
	return p.String()
}
