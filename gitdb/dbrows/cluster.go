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
// lock. Bytes are the rows' cells twice (an update's row event carries
// the row before and after, and so does its image), the column names the
// image spells out, and what Galera adds for each of the two rows (its
// certification keys, the row event's header). Measured on MariaDB 10.11
// with galera-4 26.4, rows of 3 or 4 short columns replicated 232 bytes
// an insert (a 200,000-row first apply) and 372 a change of a mix of
// updates, inserts and deletes; this gives 264 and 334: within 15%, the
// rows' bound (exact) being the one that usually bites.
func (w *Writer) checkCluster(c *dialect.Cluster, tables []*merge.TablePlan) error {
	var changes, size int64
	for _, tp := range tables {
		if tp.Ops.Len() == 0 {
			continue
		}
		if t := w.Tr.tables[tp.Meta.Name]; t != nil && t.Desc != nil && len(t.Desc.PrimaryKey) == 0 {
			return &dialect.NoPrimaryKeyError{Table: tp.Meta.Name}
		}
		var names int64 // a row's image spells each column's name
		for _, c := range tp.Meta.Columns {
			names += int64(len(c.Name)) + 4
		}
		for op, err := range tp.Ops.All() {
			if err != nil {
				return err
			}
			changes++
			size += 2*(rowBytes(op.Before)+rowBytes(op.After)) + 192
			if op.Before != nil {
				size += names
			}
			if op.After != nil {
				size += names
			}
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
