package dbrows

import (
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
)

// checkCluster refuses, before anything is written, a change a cluster
// would not take: one that writes a table without a primary key, or
// whose transaction would outgrow a writeset. The estimate counts each
// row changed twice (the row, and its image in the ledger, which the same
// transaction writes) plus the few rows of the ledger entry, identity and
// lock; bytes are the rows' cells, twice, for the same reason (an update
// sends its row before and after).
func (w *Writer) checkCluster(c *dialect.Cluster, tables []*merge.TablePlan) error {
	var changes, size int64
	for _, tp := range tables {
		if len(tp.Ops) == 0 {
			continue
		}
		if t := w.Tr.tables[tp.Meta.Name]; t != nil && t.Desc != nil && len(t.Desc.PrimaryKey) == 0 {
			return &dialect.NoPrimaryKeyError{Table: tp.Meta.Name}
		}
		for i := range tp.Ops {
			op := &tp.Ops[i]
			changes++
			size += 2 * (rowBytes(op.Before) + rowBytes(op.After) + 64)
		}
	}
	rows := 2*changes + 4
	if (c.MaxRows > 0 && rows > c.MaxRows) || (c.MaxBytes > 0 && size > c.MaxBytes) {
		return &dialect.WritesetError{Rows: rows, Bytes: size, Changes: changes, MaxRows: c.MaxRows, MaxBytes: c.MaxBytes}
	}
	return nil
}

func rowBytes[R ~[]C, C ~[]byte](r R) int64 {
	var n int64
	for _, c := range r {
		n += int64(len(c)) + 2
	}
	return n
}
