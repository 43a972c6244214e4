package merge

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"sync/atomic"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// SpillAt is how many ops a list holds in memory: past it, the ops go to
// a temporary file as they come and are read back in order. A first
// apply of a million rows would otherwise hold every row (with the line
// buffers its cells point into) from the merge to the ledger: 1.3 GB at
// its peak, measured. The writer and the ledger take ops chunkRows
// (10,000) at a time, so holding as many costs them nothing. A variable
// so that the tests can run every reader of a plan through the file.
var SpillAt = 10000

// spillDir says where the temporary files go (SetSpillDir).
var spillDir atomic.Pointer[func() string]

// SetSpillDir has the temporary files go to the directory dir returns,
// asked at the first spill: the caller's repository, which has the disk
// the repository has (/tmp is often held in memory). Where it cannot be
// written, and by default, they go to os.TempDir.
func SetSpillDir(dir func() string) { spillDir.Store(&dir) }

// OpList is a table plan's ops, in key order. The zero value is an empty
// list. Held past SpillAt ops, they lie in an unlinked temporary file
// (gone when the process ends, or the list is collected) and only the
// last ones in memory: the readers go through All or Batches, which read
// the file back, a batch of ops at a time.
type OpList struct {
	n      int
	counts [3]int        // by kind: insert, update, delete
	file   *os.File      // the spilled ops, encoded; nil when none
	out    *bufio.Writer // into file
	size   int64         // bytes of file written
	tail   []Op          // the ops after the spilled ones
	err    error         // the first failure to spill, returned by every read
}

// OpsOf returns a list of the ops.
func OpsOf(ops ...Op) OpList {
	var l OpList
	for _, op := range ops {
		l.Add(op)
	}
	return l
}

// Len is the number of ops.
func (l *OpList) Len() int { return l.n }

// Count is the number of ops of a kind.
func (l *OpList) Count(k Kind) int { return l.counts[kindIndex(k)] }

func kindIndex(k Kind) int {
	switch k {
	case Insert:
		return 0
	case Update:
		return 1
	}
	return 2
}

// Add appends an op (after every op it holds, in key order).
func (l *OpList) Add(op Op) {
	l.n++
	l.counts[kindIndex(op.Kind)]++
	l.tail = append(l.tail, op)
	if len(l.tail) >= SpillAt && l.err == nil {
		l.err = l.spill()
	}
}

// spill writes the ops held in memory to the file, which frees them (and
// what their cells point into) for the collector.
func (l *OpList) spill() error {
	if l.file == nil {
		f, err := createSpill()
		if err != nil {
			return fmt.Errorf("holding a big plan in a temporary file: %w", err)
		}
		os.Remove(f.Name()) // the open file lives on; nothing to clean up
		l.file, l.out = f, bufio.NewWriterSize(f, 256<<10)
	}
	var buf []byte
	for i := range l.tail {
		buf = encodeOp(buf[:0], &l.tail[i])
		if _, err := l.out.Write(buf); err != nil {
			return fmt.Errorf("holding a big plan in a temporary file: %w", err)
		}
		l.size += int64(len(buf))
	}
	if err := l.out.Flush(); err != nil {
		return fmt.Errorf("holding a big plan in a temporary file: %w", err)
	}
	l.tail = nil
	return nil
}

func createSpill() (*os.File, error) {
	if dir := spillDir.Load(); dir != nil {
		if d := (*dir)(); os.MkdirAll(d, 0o777) == nil {
			if f, err := os.CreateTemp(d, "plan-*"); err == nil {
				return f, nil
			}
		}
	}
	return os.CreateTemp("", "git-dbsync-plan-*")
}

// All yields every op in order. An op read back from the file is new
// each time; one held in memory is the list's own (a change to it through
// the pointer stays). It stops at the first error, yielding it.
func (l *OpList) All() iter.Seq2[*Op, error] {
	return func(yield func(*Op, error) bool) {
		if l.err != nil {
			yield(nil, l.err)
			return
		}
		if l.file != nil {
			r := bufio.NewReaderSize(io.NewSectionReader(l.file, 0, l.size), 256<<10)
			for {
				op, err := decodeOp(r)
				if err == io.EOF {
					break
				}
				if err != nil {
					yield(nil, fmt.Errorf("reading a big plan back from its temporary file: %w", err))
					return
				}
				if !yield(op, nil) {
					return
				}
			}
		}
		for i := range l.tail {
			if !yield(&l.tail[i], nil) {
				return
			}
		}
	}
}

// Batches yields the ops in order, up to size at a time. A batch is only
// good until the next one.
func (l *OpList) Batches(size int) iter.Seq2[[]Op, error] {
	return func(yield func([]Op, error) bool) {
		batch := make([]Op, 0, min(size, l.n))
		for op, err := range l.All() {
			if err != nil {
				yield(nil, err)
				return
			}
			if batch = append(batch, *op); len(batch) == size {
				if !yield(batch, nil) {
					return
				}
				batch = batch[:0]
			}
		}
		if len(batch) > 0 {
			yield(batch, nil)
		}
	}
}

// Collect returns every op in a slice: for the lists that are small (a
// file's merge, the ops of one conflict) and for the tests.
func (l *OpList) Collect() ([]Op, error) {
	out := make([]Op, 0, l.n)
	for op, err := range l.All() {
		if err != nil {
			return nil, err
		}
		out = append(out, *op)
	}
	return out, nil
}

// Rewrite passes every op through fn, in order, which may change it, and
// keeps those it returns true for.
func (l *OpList) Rewrite(fn func(op *Op) (keep bool, err error)) error {
	var out OpList
	for op, err := range l.All() {
		if err != nil {
			return err
		}
		keep, err := fn(op)
		if err != nil {
			return err
		}
		if keep {
			out.Add(*op)
		}
	}
	*l = out
	return l.err
}

// Insert adds ops in key order (compare orders two ops): each goes after
// the ops of its key the list already has, and those it adds keep their
// order among themselves.
func (l *OpList) Insert(compare func(a, b *Op) int, ops ...Op) error {
	if len(ops) == 0 {
		return nil
	}
	ops = slices.Clone(ops)
	slices.SortStableFunc(ops, func(a, b Op) int { return compare(&a, &b) })
	var out OpList
	for op, err := range l.All() {
		if err != nil {
			return err
		}
		for len(ops) > 0 && compare(&ops[0], op) < 0 {
			out.Add(ops[0])
			ops = ops[1:]
		}
		out.Add(*op)
	}
	for _, op := range ops {
		out.Add(op)
	}
	*l = out
	return l.err
}

// The file's form of an op: its kind's byte, then its Before and After
// rows, each as its count of cells plus one (0 for no row), each cell's
// length plus one (0 for a nil cell), then the cells' bytes: a row reads
// back into one allocation.

func encodeOp(buf []byte, op *Op) []byte {
	buf = append(buf, op.Kind[0])
	buf = encodeRow(buf, op.Before)
	return encodeRow(buf, op.After)
}

func encodeRow(buf []byte, row serialize.Row) []byte {
	if row == nil {
		return binary.AppendUvarint(buf, 0)
	}
	buf = binary.AppendUvarint(buf, uint64(len(row))+1)
	for _, c := range row {
		if c == nil {
			buf = binary.AppendUvarint(buf, 0)
		} else {
			buf = binary.AppendUvarint(buf, uint64(len(c))+1)
		}
	}
	for _, c := range row {
		buf = append(buf, c...)
	}
	return buf
}

func decodeOp(r *bufio.Reader) (*Op, error) {
	b, err := r.ReadByte()
	if err != nil {
		return nil, err // io.EOF: the end
	}
	op := &Op{}
	switch b {
	case Insert[0]:
		op.Kind = Insert
	case Update[0]:
		op.Kind = Update
	case Delete[0]:
		op.Kind = Delete
	default:
		return nil, errors.New("not an op")
	}
	if op.Before, err = decodeRow(r); err != nil {
		return nil, err
	}
	if op.After, err = decodeRow(r); err != nil {
		return nil, err
	}
	return op, nil
}

func decodeRow(r *bufio.Reader) (serialize.Row, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil || n == 0 {
		return nil, noEOF(err)
	}
	sizes := make([]uint64, n-1)
	total := uint64(0)
	for i := range sizes {
		if sizes[i], err = binary.ReadUvarint(r); err != nil {
			return nil, noEOF(err)
		}
		if sizes[i] > 0 {
			total += sizes[i] - 1
		}
	}
	data := make([]byte, total)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, noEOF(err)
	}
	row := make(serialize.Row, n-1)
	for i, size := range sizes {
		if size > 0 {
			row[i], data = data[:size-1:size-1], data[size-1:]
		}
	}
	return row, nil
}

// noEOF: a file that ends inside an op is cut short.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
