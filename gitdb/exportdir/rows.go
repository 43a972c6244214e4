package exportdir

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"slices"

	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Opener opens a file of a tree by its ID.
type Opener interface {
	Open(id string) (io.ReadCloser, error)
}

// Rows returns the rows of a table's files in key order, decoded with its
// metadata and projected onto the columns of into (nil: the table's own).
// Row files are read whole and sorted; a lines file is streamed, and
// checked to be in key order. where names the tree in messages. The
// returned closer releases the file a stream holds open.
func Rows(o Opener, tf *TableFiles, where string, into *serialize.Table) (merge.Source, func(), error) {
	meta := tf.Meta
	if tf.Lines != nil {
		rc, err := o.Open(tf.Lines.ID)
		if err != nil {
			return nil, nil, err
		}
		return merge.Project(lineRows(meta, rc, tf.Lines.Path, where), meta, into), func() { rc.Close() }, nil
	}
	rows := make([]serialize.Row, 0, len(tf.Rows))
	for _, b := range tf.Rows {
		row, err := rowFile(o, meta, b, where)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, row)
	}
	slices.SortFunc(rows, meta.CompareKeys)
	for i := 1; i < len(rows); i++ {
		if meta.CompareKeys(rows[i-1], rows[i]) == 0 {
			return nil, nil, fmt.Errorf("%s at %s: two files hold the key %s", tf.Dir, where, meta.KeyOf(rows[i]))
		}
	}
	return merge.Project(merge.Rows(rows), meta, into), func() {}, nil
}

// rowFile reads one row file and checks that its name is its key's.
func rowFile(o Opener, meta *serialize.Table, b Blob, where string) (serialize.Row, error) {
	rc, err := o.Open(b.ID)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, err
	}
	row, err := meta.DecodeRow(data)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: %w", b.Path, where, err)
	}
	if want := meta.RowFile(row); want != path.Base(b.Path) {
		return nil, fmt.Errorf("%s at %s: holds the row with key %s, whose file is %s", b.Path, where, meta.KeyOf(row), want)
	}
	return row, nil
}

// lineRows streams the rows of a lines file, each after the one before
// in key order.
func lineRows(meta *serialize.Table, r io.Reader, name, where string) merge.Source {
	br := bufio.NewReaderSize(r, 1<<16)
	line := 0
	var prev serialize.Row
	return func() (serialize.Row, bool, error) {
		data, err := br.ReadBytes('\n')
		if err == io.EOF && len(data) == 0 {
			return nil, false, nil
		}
		if err != nil && err != io.EOF {
			return nil, false, err
		}
		line++
		row, err := meta.DecodeRow(data)
		if err != nil {
			return nil, false, fmt.Errorf("%s:%d at %s: %w", name, line, where, err)
		}
		if prev != nil && meta.CompareKeys(prev, row) >= 0 {
			return nil, false, fmt.Errorf("%s:%d at %s: the row with key %s is out of key order or repeated (lines files are sorted by key)", name, line, where, meta.KeyOf(row))
		}
		prev = row
		return row, true, nil
	}
}
