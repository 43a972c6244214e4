package dbrows

import (
	"context"
	"database/sql"
	"errors"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
)

// ReadAhead returns a reader whose ReadRows reads the database on a
// goroutine of its own, a batch of rows ahead of the caller's fn: reading
// (the driver's decoding) overlaps the translation and encoding that fn
// does, so an export takes the longer of the two rather than their sum.
// fn still runs on the caller's goroutine, one row at a time, in order.
func ReadAhead(r dialect.Reader) dialect.Reader { return readAhead{r} }

type readAhead struct{ dialect.Reader }

// aheadBatch is how many rows go over at once; aheadBatches how many
// batches may wait: memory stays a few hundred rows whatever the table.
const (
	aheadBatch   = 256
	aheadBatches = 4
)

// rowBatch holds copies of the values of up to aheadBatch rows: the
// reader reuses its slices and buffers from row to row.
type rowBatch struct {
	values []any    // len(columns) per row
	slots  [][]byte // the copied text of *[]byte values, pointed at from values
	bytes  []byte   // where every copied byte lives
	rows   int
	err    error
}

func (b *rowBatch) reset(width int) {
	if b.values == nil {
		b.values = make([]any, 0, aheadBatch*width)
		b.slots = make([][]byte, 0, aheadBatch*width)
		b.bytes = make([]byte, 0, 64*aheadBatch*width)
	}
	b.values, b.slots, b.bytes, b.rows, b.err = b.values[:0], b.slots[:0], b.bytes[:0], 0, nil
}

// copyBytes copies p into the batch's bytes, nil staying nil (NULL).
func (b *rowBatch) copyBytes(p []byte) []byte {
	if p == nil {
		return nil
	}
	start := len(b.bytes)
	b.bytes = append(b.bytes, p...)
	// Earlier copies stay valid when append moves b.bytes: they keep the
	// old array.
	return b.bytes[start:len(b.bytes):len(b.bytes)]
}

// add copies one row's values: bytes are copied, every other driver value
// (numbers, strings, times, nil) is a value already.
func (b *rowBatch) add(values []any) {
	for _, v := range values {
		switch x := v.(type) {
		case *[]byte:
			if cap(b.slots) == len(b.slots) { // a pointer into slots must not move
				b.slots = make([][]byte, 0, cap(b.slots))
			}
			b.slots = append(b.slots, b.copyBytes(*x))
			v = &b.slots[len(b.slots)-1]
		case []byte:
			v = b.copyBytes(x)
		case sql.RawBytes:
			v = sql.RawBytes(b.copyBytes(x))
		}
		b.values = append(b.values, v)
	}
	b.rows++
}

var errStopAhead = errors.New("read ahead: stopped")

func (r readAhead) ReadRows(ctx context.Context, table *dialect.Table, columns, key []string, fn func(values []any) error) error {
	width := len(columns)
	full := make(chan *rowBatch, aheadBatches)
	free := make(chan *rowBatch, aheadBatches+2)
	for range aheadBatches + 2 {
		free <- &rowBatch{}
	}
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(full)
		take := func() *rowBatch {
			select {
			case b := <-free:
				b.reset(width)
				return b
			case <-quit:
				return nil
			}
		}
		send := func(b *rowBatch) bool {
			select {
			case full <- b:
				return true
			case <-quit:
				return false
			}
		}
		b := take()
		if b == nil {
			return
		}
		err := r.Reader.ReadRows(ctx, table, columns, key, func(values []any) error {
			b.add(values)
			if b.rows < aheadBatch {
				return nil
			}
			if !send(b) {
				return errStopAhead
			}
			if b = take(); b == nil {
				return errStopAhead
			}
			return nil
		})
		if errors.Is(err, errStopAhead) {
			return
		}
		b.err = err
		send(b)
	}()
	stop := func() { close(quit); <-done }
	for b := range full {
		for i := 0; i < b.rows; i++ {
			if err := fn(b.values[i*width : (i+1)*width : (i+1)*width]); err != nil {
				stop()
				return err
			}
		}
		if b.err != nil {
			<-done
			return b.err
		}
		free <- b
	}
	<-done
	return nil
}
