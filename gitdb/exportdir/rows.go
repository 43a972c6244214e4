package exportdir

import (
	"bufio"
	"bytes"
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

// ManyReader reads several files at once (a revision's, through one
// exchange with git), in the order asked.
type ManyReader interface {
	ReadBlobs(ids []string) ([][]byte, error)
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
	if many, ok := o.(ManyReader); ok && len(tf.Rows) > 1 {
		ids := make([]string, len(tf.Rows))
		for i, b := range tf.Rows {
			ids[i] = b.ID
		}
		all, err := many.ReadBlobs(ids)
		if err != nil {
			return nil, nil, err
		}
		for i, b := range tf.Rows {
			row, err := decodeRowFile(meta, b, all[i], where)
			if err != nil {
				return nil, nil, err
			}
			rows = append(rows, row)
		}
	}
	for _, b := range tf.Rows[len(rows):] {
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
	return decodeRowFile(meta, b, data, where)
}

// decodeRowFile decodes a row file read whole and checks that its name is
// its key's.
func decodeRowFile(meta *serialize.Table, b Blob, data []byte, where string) (serialize.Row, error) {
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

// Same reports whether two trees hold a table's files byte for byte the
// same (the same blobs).
func Same(a, b *TableFiles) bool {
	switch {
	case a.Lines != nil || b.Lines != nil:
		return a.Lines != nil && b.Lines != nil && a.Lines.ID == b.Lines.ID
	case len(a.Rows) != len(b.Rows):
		return false
	}
	ids := make(map[string]bool, len(a.Rows))
	for _, r := range a.Rows {
		ids[r.ID] = true
	}
	for _, r := range b.Rows {
		if !ids[r.ID] {
			return false
		}
	}
	return true
}

// ChangedRows streams the rows of a table's lines files at a base and at a
// revision, both of the same table.json, leaving out every line that is
// byte for byte the same on both sides: such a row merges to no change
// whatever the target holds, so it is never decoded (most lines of a big
// table, in a release that changes a few) but for the last one before a
// row that is, whose key that row's order is checked against. The count of lines left out is
// in *same once both streams are read.
func ChangedRows(baseTree, theirsTree Opener, meta *serialize.Table, base, theirs *Blob, baseWhere, theirsWhere string) (b, t merge.Source, same *int, closeAll func(), err error) {
	rb, err := baseTree.Open(base.ID)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	rt, err := theirsTree.Open(theirs.ID)
	if err != nil {
		rb.Close()
		return nil, nil, nil, nil, err
	}
	p := &pairs{meta: meta, b: newLineReader(meta, rb, base.Path, baseWhere), t: newLineReader(meta, rt, theirs.Path, theirsWhere)}
	src := func(queue *[]serialize.Row) merge.Source {
		return func() (serialize.Row, bool, error) {
			for len(*queue) == 0 {
				if p.done || p.err != nil {
					return nil, false, p.err
				}
				p.err = p.step()
			}
			r := (*queue)[0]
			*queue = (*queue)[1:]
			return r, true, nil
		}
	}
	return src(&p.bq), src(&p.tq), &p.same, func() { rb.Close(); rt.Close() }, nil
}

// pairs reads a base's and a revision's lines files side by side, queueing
// the decoded rows that differ for the two streams that read them.
type pairs struct {
	meta   *serialize.Table
	b, t   *lineReader
	bq, tq []serialize.Row
	same   int
	done   bool
	err    error
}

// step moves past the next key of either file.
func (p *pairs) step() error {
	bl, tl := p.b.peek(), p.t.peek()
	switch {
	case p.b.err != nil:
		return p.b.err
	case p.t.err != nil:
		return p.t.err
	case bl == nil && tl == nil:
		p.done = true
		return nil
	case bl != nil && tl != nil && bytes.Equal(bl, tl):
		p.same++
		p.b.skip()
		p.t.skipUnchanged()
		return nil
	case tl == nil:
		return p.b.take(&p.bq)
	case bl == nil:
		return p.t.take(&p.tq)
	}
	br, err := p.b.row()
	if err != nil {
		return err
	}
	tr, err := p.t.row()
	if err != nil {
		return err
	}
	c := p.meta.CompareKeys(br, tr)
	if c <= 0 {
		if err := p.b.take(&p.bq); err != nil {
			return err
		}
	}
	if c >= 0 {
		return p.t.take(&p.tq)
	}
	return nil
}

// lineReader reads a lines file a line at a time, decoding a line only
// when asked, and checking the decoded rows' key order.
type lineReader struct {
	meta        *serialize.Table
	br          *bufio.Reader
	name, where string
	n           int
	// line is the current line, nil at the end: the reader's buffer (no
	// copy of every line, most of which are only compared), valid until
	// the next is read; long holds a line longer than the buffer.
	line, long []byte
	decoded    serialize.Row // the current line's row, once decoded (from a copy)
	prev       serialize.Row // the last row decoded
	// skipped is a copy of the last line passed by undecoded (byte-equal
	// to the base's), when hasSkipped, and skippedN its number: decoded
	// only when the next row is, to check that row's key order against it
	// (a second copy of a key after one that matches the base would
	// otherwise go unseen).
	skipped    []byte
	hasSkipped bool
	skippedN   int
	err        error
	started    bool
}

func newLineReader(meta *serialize.Table, r io.Reader, name, where string) *lineReader {
	return &lineReader{meta: meta, br: bufio.NewReaderSize(r, 1<<16), name: name, where: where}
}

// peek returns the current line, reading it first if need be.
func (l *lineReader) peek() []byte {
	if !l.started {
		l.started = true
		l.advance()
	}
	return l.line
}

func (l *lineReader) advance() {
	l.decoded = nil
	data, err := readLine(l.br, &l.long)
	switch {
	case err == io.EOF && len(data) == 0:
		l.line = nil
		return
	case err != nil && err != io.EOF:
		l.err, l.line = err, nil
		return
	}
	l.n++
	l.line = data
}

func (l *lineReader) skip() { l.advance() }

// skipUnchanged passes a line byte-equal to the base's without decoding
// it: only its key matters, to the next row decoded.
func (l *lineReader) skipUnchanged() {
	if l.decoded == nil {
		l.skipped, l.hasSkipped, l.skippedN = append(l.skipped[:0], l.line...), true, l.n
	}
	l.advance()
}

// row decodes the current line.
func (l *lineReader) row() (serialize.Row, error) {
	if l.decoded != nil {
		return l.decoded, nil
	}
	if l.hasSkipped {
		prev, err := l.ordered(l.skipped, l.skippedN)
		if err != nil {
			return nil, err
		}
		l.prev, l.hasSkipped = prev, false // only until the row below replaces it
	}
	row, err := l.ordered(bytes.Clone(l.line), l.n) // the row keeps its cells
	if err != nil {
		return nil, err
	}
	l.decoded, l.prev = row, row
	return row, nil
}

// ordered decodes line n and checks it comes after the last row decoded.
func (l *lineReader) ordered(line []byte, n int) (serialize.Row, error) {
	row, err := l.meta.DecodeRow(line)
	if err != nil {
		return nil, fmt.Errorf("%s:%d at %s: %w", l.name, n, l.where, err)
	}
	if l.prev != nil && l.meta.CompareKeys(l.prev, row) >= 0 {
		return nil, fmt.Errorf("%s:%d at %s: the row with key %s is out of key order or repeated (lines files are sorted by key)", l.name, n, l.where, l.meta.KeyOf(row))
	}
	return row, nil
}

// take queues the current line's row and moves on.
func (l *lineReader) take(queue *[]serialize.Row) error {
	row, err := l.row()
	if err != nil {
		return err
	}
	*queue = append(*queue, row)
	l.advance()
	return nil
}
