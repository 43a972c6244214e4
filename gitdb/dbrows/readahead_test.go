package dbrows

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
)

// reusingReader hands out n rows the way the dialects do: one values
// slice, text in a reused buffer behind *[]byte, and fails after failAt
// rows when failAt > 0.
type reusingReader struct {
	dialect.Reader
	n, failAt int
	read      int // rows handed out
}

func (r *reusingReader) ReadRows(ctx context.Context, _ *dialect.Table, _, _ []string, fn func([]any) error) error {
	values := make([]any, 4)
	slot := make([]byte, 0, 32)
	raw := make([]byte, 0, 32)
	for i := 0; i < r.n; i++ {
		if i == r.failAt && r.failAt > 0 {
			return errors.New("connection lost")
		}
		slot = fmt.Appendf(slot[:0], "name %d", i)
		raw = fmt.Appendf(raw[:0], "raw %d", i)
		values[0], values[1], values[2], values[3] = int64(i), &slot, raw, nil
		if i%7 == 0 {
			values[3] = new([]byte) // a NULL in a *[]byte slot
		}
		r.read++
		if err := fn(values); err != nil {
			return err
		}
	}
	return nil
}

// Every row comes through in order with its own values, though the
// reader reuses its buffers, across several batches; a NULL stays NULL.
func TestReadAheadCopiesRows(t *testing.T) {
	const n = 3*aheadBatch + 17
	r := &reusingReader{n: n}
	got := 0
	err := ReadAhead(r).ReadRows(context.Background(), nil, make([]string, 4), nil, func(v []any) error {
		want := []string{fmt.Sprint(got), fmt.Sprintf("name %d", got), fmt.Sprintf("raw %d", got)}
		if have := []string{fmt.Sprint(v[0]), string(*v[1].(*[]byte)), string(v[2].([]byte))}; fmt.Sprint(have) != fmt.Sprint(want) {
			t.Fatalf("row %d: got %q, want %q", got, have, want)
		}
		if p, ok := v[3].(*[]byte); got%7 == 0 && (!ok || *p != nil) || got%7 != 0 && v[3] != nil {
			t.Fatalf("row %d: the NULL is %#v", got, v[3])
		}
		got++
		return nil
	})
	if err != nil || got != n {
		t.Fatalf("got %d rows, %v; want %d", got, err, n)
	}
}

// The reader's error comes back after the rows read before it; an error
// of fn stops the reading, which reads no more than a few batches ahead.
func TestReadAheadErrors(t *testing.T) {
	r := &reusingReader{n: 5000, failAt: 1000}
	got := 0
	err := ReadAhead(r).ReadRows(context.Background(), nil, make([]string, 4), nil, func([]any) error { got++; return nil })
	if err == nil || err.Error() != "connection lost" || got != 1000 {
		t.Fatalf("got %d rows and %v, want 1000 and the reader's error", got, err)
	}
	r = &reusingReader{n: 100_000}
	stop := errors.New("enough")
	got = 0
	err = ReadAhead(r).ReadRows(context.Background(), nil, make([]string, 4), nil, func([]any) error {
		if got++; got == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || got != 10 || r.read > (aheadBatches+3)*aheadBatch {
		t.Fatalf("got %d rows and %v, the reader read %d", got, err, r.read)
	}
}
