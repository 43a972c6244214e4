package gitdb

import (
	"github.com/gitdbsync/git-dbsync/gitdb/dbrows"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// keyedLimit bounds the keys of a change-driven plan: a release that
// changes more rows of a table than this (or than it leaves alone) has
// the table read whole, in one ordered scan, which then costs less than
// looking its keys up batch by batch; and the rows read ahead stay a few
// megabytes.
const keyedLimit = 20_000

// changedRows are the rows of a table a release changes, read ahead from
// the base's and the revision's lines files, with their keys as the
// parameters that find them in the target.
type changedRows struct {
	base, theirs []serialize.Row
	keys         [][]any // the union of both sides' keys, in key order
}

// readChanged reads ahead the rows base and theirs (exportdir.ChangedRows's
// streams) hold, so that the target is read for their keys only: a row
// the release does not touch merges to no change whatever the target
// did to it. It returns nil, and sources that yield every row it read
// and then the rest, when the change is too big for that or a key is not
// one the target finds by parameter (dbrows.Table.KeyArgs).
func readChanged(t *dbrows.Table, base, theirs merge.Source) (*changedRows, merge.Source, merge.Source, error) {
	c := &changedRows{}
	var hb, ht serialize.Row // the next row of each side, nil when not read yet or at the end
	var bEnd, tEnd bool
	head := func(src merge.Source, row *serialize.Row, end *bool) error {
		if *row != nil || *end {
			return nil
		}
		r, ok, err := src()
		*row, *end = r, !ok
		return err
	}
	rest := func(read []serialize.Row, row serialize.Row, src merge.Source) merge.Source {
		if row != nil {
			read = append(read, row)
		}
		return concat(merge.Rows(read), src)
	}
	for {
		if err := head(base, &hb, &bEnd); err != nil {
			return nil, nil, nil, err
		}
		if err := head(theirs, &ht, &tEnd); err != nil {
			return nil, nil, nil, err
		}
		if hb == nil && ht == nil {
			return c, nil, nil, nil
		}
		var key serialize.Row
		switch {
		case ht == nil:
			key = hb
		case hb == nil:
			key = ht
		case t.Meta.CompareKeys(hb, ht) <= 0:
			key = hb
		default:
			key = ht
		}
		args, ok := t.KeyArgs(key)
		if !ok || len(c.keys) == keyedLimit {
			return nil, rest(c.base, hb, base), rest(c.theirs, ht, theirs), nil
		}
		c.keys = append(c.keys, args)
		if hb != nil && t.Meta.CompareKeys(hb, key) == 0 {
			c.base, hb = append(c.base, hb), nil
		}
		if ht != nil && t.Meta.CompareKeys(ht, key) == 0 {
			c.theirs, ht = append(c.theirs, ht), nil
		}
	}
}

// concat yields a's rows, then b's.
func concat(a, b merge.Source) merge.Source {
	first := true
	return func() (serialize.Row, bool, error) {
		if first {
			r, ok, err := a()
			if ok || err != nil {
				return r, ok, err
			}
			first = false
		}
		return b()
	}
}
