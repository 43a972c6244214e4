package gitdb

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"iter"
	"path"
	"slices"

	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Row sources for the merge: the files of a table at a revision, and the
// rows of a target database, each in key order.

// fileRows returns a source over a table's files at a revision, decoded
// with meta and projected onto the columns of into (nil: meta itself).
// Row files are read whole and sorted; a lines file is streamed. The
// returned closer releases the blob a stream holds open.
func fileRows(rep blobOpener, tf *repo.TableFiles, rev string, into *serialize.Table) (merge.Source, func(), error) {
	meta := tf.Meta
	project := projector(meta, into)
	if tf.Lines != nil {
		rc, err := rep.OpenBlob(tf.Lines.Hash)
		if err != nil {
			return nil, nil, err
		}
		br := bufio.NewReaderSize(rc, 1<<16)
		line := 0
		src := func() (serialize.Row, bool, error) {
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
				return nil, false, fmt.Errorf("%s:%d at %s: %w", tf.Lines.Path, line, rev, err)
			}
			return project(row), true, nil
		}
		return src, func() { rc.Close() }, nil
	}
	rows := make([]serialize.Row, 0, len(tf.Rows))
	for _, b := range tf.Rows {
		data, err := readBlob(rep, b.Hash)
		if err != nil {
			return nil, nil, err
		}
		row, err := meta.DecodeRow(data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s at %s: %w", b.Path, rev, err)
		}
		if want := serialize.FileName(meta.KeyText(row)...) + serialize.RowExt; want != path.Base(b.Path) {
			return nil, nil, fmt.Errorf("%s at %s: holds the row with key %s, whose file is %s", b.Path, rev, meta.KeyOf(row), want)
		}
		rows = append(rows, project(row))
	}
	slices.SortFunc(rows, meta.CompareKeys)
	for i := 1; i < len(rows); i++ {
		if meta.CompareKeys(rows[i-1], rows[i]) == 0 {
			return nil, nil, fmt.Errorf("%s at %s: two files hold the key %s", tf.Dir, rev, meta.KeyOf(rows[i]))
		}
	}
	return merge.Rows(rows), func() {}, nil
}

// blobOpener opens the contents of a file: a blob of a revision (by hash)
// or a file of the working tree (by path).
type blobOpener interface {
	OpenBlob(id string) (io.ReadCloser, error)
}

func readBlob(o blobOpener, id string) ([]byte, error) {
	rc, err := o.OpenBlob(id)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// projector maps rows of one table layout onto another's columns: a
// column the source lacks gets a nil cell (unknown, for the merge).
func projector(from, into *serialize.Table) func(serialize.Row) serialize.Row {
	if into == nil || slices.Equal(from.Columns, into.Columns) {
		return func(r serialize.Row) serialize.Row { return r }
	}
	idx := make([]int, len(into.Columns))
	for i, c := range into.Columns {
		idx[i] = from.Index(c.Name)
	}
	return func(r serialize.Row) serialize.Row {
		out := make(serialize.Row, len(idx))
		for i, j := range idx {
			if j >= 0 {
				out[i] = r[j]
			}
		}
		return out
	}
}

// errStop ends a pulled stream early.
var errStop = errors.New("stop")

// dbRows turns a target's row stream into a pull source, feeding every
// row read into a hash (the plan's fingerprint of the target). The
// returned stop function ends the stream early.
func dbRows(ctx context.Context, src *rowSource, h hash.Hash) (merge.Source, func()) {
	meta := src.t.Meta
	var line []byte
	seq := func(yield func(serialize.Row, error) bool) {
		err := src.each(ctx, func(r serialize.Row) error {
			if h != nil {
				line = meta.AppendLine(line[:0], r)
				h.Write(line)
			}
			if !yield(cloneRow(r), nil) {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			yield(nil, err)
		}
	}
	next, stop := iter.Pull2(seq)
	return func() (serialize.Row, bool, error) {
		r, err, ok := next()
		if !ok {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		return r, true, nil
	}, stop
}

// newFingerprint starts the hash that identifies what a plan read.
func newFingerprint() hash.Hash { return sha256.New() }
