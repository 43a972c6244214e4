package dbrows

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// ErrOrder reports that an engine returned rows out of the key order.
var ErrOrder = errors.New("rows are not in key order")

// Source streams the rows of a table of a database in the files' form, in
// key order, within the table's row scope, each key checked to be unique.
type Source struct {
	T  *Table
	Tr *Translator // reads the database, into the files' form
	// KeepHidden keeps the values of hidden paths, to write them back:
	// the source is the target of a plan.
	KeepHidden   bool
	sortInMemory bool
	keys         [][]any // ReadKeys's batch: the keys Each reads
	limit        int     // EachFirst's: the most rows Each reads
}

// NewSource returns a source over a table through a translator.
func NewSource(t *Table, tr *Translator, keepHidden bool) *Source {
	return &Source{T: t, Tr: tr, KeepHidden: keepHidden}
}

// Ordered runs fn, which reads the source once from the start; if the
// engine's order turns out not to be the files' (ErrOrder), it runs fn
// once more with the rows sorted in memory. fn must start clean each time.
func (s *Source) Ordered(fn func() error) error {
	err := fn()
	if errors.Is(err, ErrOrder) && !s.sortInMemory {
		s.sortInMemory = true
		err = fn()
	}
	return err
}

// Each calls fn with every row in key order; the row is reused after fn
// returns.
func (s *Source) Each(ctx context.Context, fn func(serialize.Row) error) error {
	meta := s.T.Meta
	if s.T.keyHasRef { // the database orders the ids, not the keys they stand for
		s.sortInMemory = true
	}
	var (
		buf     []byte
		row     = make(serialize.Row, len(meta.Columns))
		prev    serialize.Row
		held    []serialize.Row
		prevBuf []byte
	)
	emit := func(r serialize.Row) error {
		if prev != nil {
			switch c := meta.CompareKeys(prev, r); {
			case c == 0:
				return s.duplicate(r)
			case c > 0:
				return ErrOrder
			}
		}
		// Keep a copy of the key cells to compare with the next row.
		prevBuf = prevBuf[:0]
		if prev == nil {
			prev = make(serialize.Row, len(r))
		}
		for _, k := range meta.KeyIndexes() {
			start := len(prevBuf)
			prevBuf = append(prevBuf, r[k]...)
			prev[k] = prevBuf[start:len(prevBuf):len(prevBuf)]
		}
		return fn(r)
	}
	if err := s.Tr.prepare(ctx, s.T, nil); err != nil {
		return err
	}
	desc := s.T.Desc
	// A row scope of globs keeps rows after the read: the database cannot
	// count them.
	limit := s.limit
	if s.T.Options.Scoped() {
		limit = 0
	}
	if o := s.T.Options; (o != nil && o.Where != "") || s.keys != nil || limit > 0 {
		filtered := *desc
		if o != nil {
			filtered.Filter = o.Where
		}
		filtered.Keys, filtered.Limit = s.keys, limit
		desc = &filtered
	}
	err := s.Tr.db.ReadRows(ctx, desc, s.T.columns, meta.Key, func(values []any) error {
		s.Tr.Meter.Add(1)
		var err error
		if buf, err = s.Tr.rowToFile(ctx, s.T, values, row, buf, s.KeepHidden); err != nil {
			return err
		}
		if s.T.Options.Scoped() && !s.T.Options.InScope(meta.KeyText(row)) {
			return nil
		}
		if s.sortInMemory {
			held = append(held, CloneRow(row))
			return nil
		}
		return emit(row)
	})
	if err != nil || !s.sortInMemory {
		return err
	}
	slices.SortStableFunc(held, meta.CompareKeys)
	for _, r := range held {
		if err := emit(r); err != nil {
			return err
		}
	}
	return nil
}

// EachFirst is Each over no more than the first n rows the database
// returns, where the row scope lets the database count them (globs on
// the key filter after the read: then every row is read, and fn must
// stop the read). When the table has more than n rows, which n come is
// the database's choice: enough to tell a table of fewer than n rows
// from a bigger one without reading the bigger one whole.
func (s *Source) EachFirst(ctx context.Context, n int, fn func(serialize.Row) error) error {
	s.limit = n
	defer func() { s.limit = 0 }()
	return s.Each(ctx, fn)
}

// CloneRow copies a row and its cells.
func CloneRow(r serialize.Row) serialize.Row {
	out := make(serialize.Row, len(r))
	for i, c := range r {
		out[i] = append(serialize.Cell(nil), c...)
	}
	return out
}

func (s *Source) duplicate(r serialize.Row) error {
	msg := fmt.Sprintf("key (%s) is not unique: more than one row has %s", strings.Join(s.T.Meta.Key, ", "), s.T.Meta.DescribeKey(r))
	if o := s.T.Options; o != nil && len(o.Key) > 0 {
		return &config.Error{Pos: o.Pos["key"], Msg: msg}
	}
	return errors.New(msg)
}

// errStop ends a pulled stream early.
var errStop = errors.New("stop")

// pullBatch is how many rows a pulled source hands over at once.
const pullBatch = 256

// Pull turns the source into a merge source, feeding every row read into
// h when it is not nil (a plan's fingerprint of the target). The rows are
// read, translated and hashed on a goroutine of their own, in batches, so
// that reading the target overlaps the merge that consumes them (a plan
// of a big table takes the longer of the two, not their sum). The
// returned stop function ends the stream early; it must be called before
// the source's translator is used again.
func (s *Source) Pull(ctx context.Context, h hash.Hash) (merge.Source, func()) {
	type batch struct {
		rows []serialize.Row
		err  error
	}
	meta := s.T.Meta
	ch := make(chan batch, 4)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		send := func(b batch) bool {
			select {
			case ch <- b:
				return true
			case <-quit:
				return false
			}
		}
		var line []byte
		rows := make([]serialize.Row, 0, pullBatch)
		err := s.Each(ctx, func(r serialize.Row) error {
			if h != nil {
				line = meta.AppendLine(line[:0], r)
				h.Write(line)
			}
			if rows = append(rows, CloneRow(r)); len(rows) == pullBatch {
				if !send(batch{rows: rows}) {
					return errStop
				}
				rows = make([]serialize.Row, 0, pullBatch)
			}
			return nil
		})
		switch {
		case errors.Is(err, errStop):
		case err != nil:
			send(batch{err: err})
		case len(rows) > 0:
			send(batch{rows: rows})
		}
	}()
	var pending []serialize.Row
	next := func() (serialize.Row, bool, error) {
		for len(pending) == 0 {
			b, ok := <-ch
			if !ok {
				return nil, false, nil
			}
			if b.err != nil {
				return nil, false, b.err
			}
			pending = b.rows
		}
		r := pending[0]
		pending = pending[1:]
		return r, true, nil
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			close(quit)
			<-done
		}
	}
	return next, stop
}

// keyBatch is how many keys one keyed read asks for: well within every
// engine's bound on parameters (SQLite's 32,766) for keys of a few columns.
const keyBatch = 500

// KeyArgs returns a row's key as the parameters that find it in the
// database, or ok false when the key is not such a key: a key column
// that holds a reference, a decoded codec or a secret (the files' cell is
// not the database's), or a type other than integer or text, or a null
// (which no IN list finds).
func (t *Table) KeyArgs(r serialize.Row) (args []any, ok bool) {
	if t.keyHasRef {
		return nil, false
	}
	for _, i := range t.Meta.KeyIndexes() {
		m := &t.mapping[i]
		if !m.same || (m.db.Type != serialize.Int && m.db.Type != serialize.Text) {
			return nil, false
		}
		v, err := serialize.Value(&m.db, r[i])
		if err != nil || v == nil {
			return nil, false
		}
		args = append(args, v)
	}
	return args, true
}

// ReadKeys reads the rows whose keys are keys (parameters from KeyArgs,
// in key order), in key order, feeding each into h when it is not nil,
// as Pull does: a plan's target side, read for the rows a release
// changes only.
func (s *Source) ReadKeys(ctx context.Context, keys [][]any, h hash.Hash) ([]serialize.Row, error) {
	var out []serialize.Row
	var line []byte
	for lo := 0; lo < len(keys); lo += keyBatch {
		s.keys = keys[lo:min(lo+keyBatch, len(keys))]
		start := len(out)
		err := s.Ordered(func() error {
			out = out[:start]
			return s.Each(ctx, func(r serialize.Row) error {
				out = append(out, CloneRow(r))
				return nil
			})
		})
		s.keys = nil
		if err != nil {
			return nil, err
		}
	}
	// An engine whose comparison of text folds case or trailing spaces
	// (MySQL's collations) also finds rows whose key only matches that way:
	// such a row may come with a later batch's keys, or with two batches.
	meta := s.T.Meta
	if !slices.IsSortedFunc(out, meta.CompareKeys) {
		slices.SortStableFunc(out, meta.CompareKeys)
		out = slices.CompactFunc(out, func(a, b serialize.Row) bool { return slices.EqualFunc(a, b, bytesEqual) })
		for i := 1; i < len(out); i++ {
			if meta.CompareKeys(out[i-1], out[i]) == 0 {
				return nil, s.duplicate(out[i])
			}
		}
	}
	if h != nil {
		for _, r := range out {
			line = meta.AppendLine(line[:0], r)
			h.Write(line)
		}
	}
	return out, nil
}

func bytesEqual(a, b serialize.Cell) bool { return string(a) == string(b) }
