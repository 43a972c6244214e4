package mysql

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
)

// A MariaDB node of a Galera cluster (wsrep_on, with a provider) differs
// from a server of its own in four ways git dbsync must meet:
//
//   - GET_LOCK is the node's own: two applies through two nodes both get
//     it. Every write transaction therefore writes one row of
//     clusterLockTable first; of two transactions that both wrote it on
//     two nodes, certification lets the first to commit win, and fails
//     the other (a deadlock error, at whatever statement it was, or at
//     COMMIT). The row also says which node the last change ran on.
//   - A node applies the other nodes' commits a little later: the
//     session waits for the cluster's latest commit before each read
//     (wsrep_sync_wait = 1, set when the connection opens: reads and
//     START TRANSACTION), so that the ledger and the plan are never read
//     stale (status on a lagging node waits, then answers).
//   - A node outside the primary component, or not synced, takes no work
//     (NotReady says so before anything is read).
//   - A writeset is bounded (wsrep_max_ws_rows, wsrep_max_ws_size), and
//     tables without a primary key do not replicate reliably: Cluster
//     gives the writer what it needs to refuse both before it writes.
type galera struct {
	dialect.Cluster
	lockTable bool // clusterLockTable is known to exist
}

// clusterLockTable holds the row every write transaction on a Galera
// node writes first. Its name starts with config.ReservedPrefix: it is
// one of git dbsync's own tables.
const clusterLockTable = "dbsync_cluster_lock"

// detectGalera finds whether the session is on a Galera node: nil when
// it is not.
func (d *DB) detectGalera(ctx context.Context) (*galera, error) {
	vars := map[string]string{}
	err := d.each(ctx, "SHOW VARIABLES WHERE Variable_name IN ('wsrep_on', 'wsrep_provider', 'wsrep_node_name', 'wsrep_max_ws_rows', 'wsrep_max_ws_size')", nil,
		func(v []any) error {
			vars[strings.ToLower(dialect.Text(v[0]))] = dialect.Text(v[1])
			return nil
		})
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(vars["wsrep_on"], "ON") || vars["wsrep_provider"] == "" || strings.EqualFold(vars["wsrep_provider"], "none") {
		return nil, nil
	}
	g := &galera{Cluster: dialect.Cluster{Node: vars["wsrep_node_name"]}}
	g.MaxRows, _ = strconv.ParseInt(vars["wsrep_max_ws_rows"], 10, 64)
	g.MaxBytes, _ = strconv.ParseInt(vars["wsrep_max_ws_size"], 10, 64)
	return g, nil
}

// Cluster returns the Galera cluster the database is a node of, nil when
// it is not one's.
func (d *DB) Cluster() *dialect.Cluster {
	if d.galera == nil {
		return nil
	}
	return &d.galera.Cluster
}

// Cluster returns the Galera cluster the transaction's database is a node
// of, nil when it is not one's.
func (t *Tx) Cluster() *dialect.Cluster {
	if t.galera == nil {
		return nil
	}
	return &t.galera.Cluster
}

// NotReady says why a Galera node takes no work: it is outside the
// cluster's primary component (a partition lost its quorum), or not
// ready to take queries (joining, or its provider stopped); "" when it is
// ready or not a Galera node.
func (d *DB) NotReady(ctx context.Context) (string, error) {
	if d.galera == nil {
		return "", nil
	}
	st := map[string]string{}
	err := d.each(ctx, "SHOW STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_cluster_status', 'wsrep_local_state_comment')", nil,
		func(v []any) error {
			st[strings.ToLower(dialect.Text(v[0]))] = dialect.Text(v[1])
			return nil
		})
	if err != nil {
		return "", fmt.Errorf("mysql: %w", err)
	}
	node := "Galera node " + strconv.Quote(d.galera.Node)
	switch {
	case st["wsrep_cluster_status"] != "Primary":
		return fmt.Sprintf("%s, outside the cluster's primary component (wsrep_cluster_status = %s)", node, orUnknown(st["wsrep_cluster_status"])), nil
	case !strings.EqualFold(st["wsrep_ready"], "ON"):
		return fmt.Sprintf("%s, not ready for queries (wsrep_ready = %s, state %s)", node, orUnknown(st["wsrep_ready"]), orUnknown(st["wsrep_local_state_comment"])), nil
	}
	return "", nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// LastWriter names the node the last write transaction ran on, as the
// cluster has it (the read waits for its latest commit); "" when none is
// recorded or the database is not a Galera node.
func (d *DB) LastWriter(ctx context.Context) (string, error) {
	if d.galera == nil {
		return "", nil
	}
	var node string
	err := d.each(ctx, "SELECT node FROM "+clusterLockTable+" WHERE name = 'change'", nil, func(v []any) error {
		node = dialect.Text(v[0])
		return nil
	})
	if err != nil && !isNoTable(err) {
		return "", fmt.Errorf("mysql: %w", err)
	}
	return node, nil
}

// ensureLockTable creates clusterLockTable, once, outside any transaction
// (DDL commits one; on Galera it runs on every node at once).
func (d *DB) ensureLockTable(ctx context.Context) error {
	if d.galera.lockTable {
		return nil
	}
	// Even CREATE TABLE IF NOT EXISTS of a table that exists runs on
	// every node, in total order, and aborts the other nodes'
	// transactions that wrote the table: look first.
	var n int
	err := d.db.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", clusterLockTable).Scan(&n)
	if err == nil && n > 0 {
		d.galera.lockTable = true
		return nil
	}
	_, err = d.db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+clusterLockTable+` (
  name VARCHAR(16) NOT NULL PRIMARY KEY,
  node VARCHAR(255) NOT NULL,
  changed_at DATETIME(6) NOT NULL) ENGINE=InnoDB`)
	if err != nil {
		return fmt.Errorf("creating %s: %w", clusterLockTable, err)
	}
	d.galera.lockTable = true
	return nil
}

// takeClusterLock writes the lock row, first in a write transaction.
func takeClusterLock(ctx context.Context, t *Tx) error {
	_, err := t.tx.ExecContext(ctx, "INSERT INTO "+clusterLockTable+` (name, node, changed_at) VALUES ('change', @@wsrep_node_name, UTC_TIMESTAMP(6))
ON DUPLICATE KEY UPDATE node = VALUES(node), changed_at = VALUES(changed_at)`)
	return err
}

// isNoTable reports a query of a table that does not exist (1146).
func isNoTable(err error) bool { return errNumber(err) == 1146 }

// errNumber is the server's error number of err, 0 for none.
func errNumber(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}
