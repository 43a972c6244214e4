package dialect

import (
	"context"
	"fmt"
	"strings"
)

// Cluster describes a target that is one node of a synchronous
// multi-primary cluster (MariaDB Galera): every node takes writes, and a
// transaction commits on all of them or, when another node's conflicting
// transaction was certified first, on none.
type Cluster struct {
	Node string // the node's name in the cluster (wsrep_node_name)
	// MaxRows and MaxBytes bound what one transaction may write (its
	// writeset: wsrep_max_ws_rows, wsrep_max_ws_size); 0 for no bound.
	MaxRows, MaxBytes int64
}

// Clustered is implemented by the databases and transactions of engines
// whose target may be a node of a cluster.
type Clustered interface {
	// Cluster returns the cluster the target is a node of; nil when it is
	// a server of its own.
	Cluster() *Cluster
}

// ClusterOf returns the cluster a database or transaction is a node of;
// nil when none.
func ClusterOf(x any) *Cluster {
	if c, ok := x.(Clustered); ok {
		return c.Cluster()
	}
	return nil
}

// ReadyChecker is implemented by engines that can tell that a node of a
// cluster takes no work (it is outside the cluster's primary component,
// or not yet synced): its reads would be stale and its writes refused.
type ReadyChecker interface {
	// NotReady returns why, as a phrase that completes "the target is …",
	// or "" when the node is ready (or not a cluster's).
	NotReady(ctx context.Context) (string, error)
}

// NotReady asks a database's engine why it takes no work; "" when it
// does, or when the engine cannot tell.
func NotReady(ctx context.Context, db Dialect) (string, error) {
	if rc, ok := db.(ReadyChecker); ok {
		return rc.NotReady(ctx)
	}
	return "", nil
}

// LastWriter is implemented by engines that record, in every write
// transaction, which node of a cluster it ran on.
type LastWriter interface {
	// LastWriter names the node the last write transaction committed
	// on, as the whole cluster has it; "" when none is recorded.
	LastWriter(ctx context.Context) (string, error)
}

// WritesetError refuses a change whose transaction would write more than
// a cluster takes in one writeset. Nothing was written.
type WritesetError struct {
	Rows, Bytes       int64 // what the change would write, estimated
	Changes           int64 // the rows it changes (each also has a ledger image)
	MaxRows, MaxBytes int64 // the cluster's bounds (0: none)
}

func (e *WritesetError) Error() string {
	limit := func(n int64) string {
		if n <= 0 {
			return "no limit"
		}
		return Thousands(n)
	}
	return fmt.Sprintf("the change would write about %s rows (%s rows changed, each with its ledger image) and %s bytes in one transaction, more than the Galera cluster takes in one writeset (wsrep_max_ws_rows = %s, wsrep_max_ws_size = %s): nothing written\n"+
		"hint: raise wsrep_max_ws_rows and wsrep_max_ws_size on every node (SET GLOBAL), or apply the change in smaller revisions",
		Thousands(e.Rows), Thousands(e.Changes), Thousands(e.Bytes), limit(e.MaxRows), limit(e.MaxBytes))
}

// Thousands writes n with commas between groups of three digits.
func Thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// NoPrimaryKeyError refuses a write to a table without a primary key on a
// cluster that cannot replicate it safely. Nothing was written.
type NoPrimaryKeyError struct{ Table string }

func (e *NoPrimaryKeyError) Error() string {
	return fmt.Sprintf("table %q has no primary key: a Galera cluster cannot replicate the deletes and updates of such a table reliably, so git dbsync does not write it on a cluster: nothing written\n"+
		"hint: add a primary key to %q (its key in .dbsync, when that is unique and not null)", e.Table, e.Table)
}
