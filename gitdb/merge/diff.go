package merge

import "github.com/gitdbsync/git-dbsync/serialize"

// Change is a row that differs between two sides of a diff: From is nil
// for an added row, To for a removed one.
type Change struct {
	From, To serialize.Row
}

// TableDiff is a two-way, row- and cell-level difference of one table.
type TableDiff struct {
	Meta    *serialize.Table
	Changes []Change // in key order
	Same    int
}

// Count returns the numbers of rows added, changed and removed.
func (d *TableDiff) Count() (added, changed, removed int) {
	for _, c := range d.Changes {
		switch {
		case c.From == nil:
			added++
		case c.To == nil:
			removed++
		default:
			changed++
		}
	}
	return
}

// Diff compares two sorted streams of a table.
func Diff(meta *serialize.Table, from, to Source) (*TableDiff, error) {
	d := &TableDiff{Meta: meta}
	err := walk(meta, []Source{from, to}, []string{"old", "new"}, func(cur []serialize.Row) {
		if cur[0] != nil && cur[1] != nil && equal(cur[0], cur[1]) {
			d.Same++
			return
		}
		d.Changes = append(d.Changes, Change{From: cur[0], To: cur[1]})
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}
