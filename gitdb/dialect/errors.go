package dialect

import (
	"errors"
	"fmt"
	"time"
)

// BusyError says a write could not start or go on because another session
// holds a lock on the database or a table: another git dbsync run (one
// writer at a time), or the application holding a row longer than the
// lock timeout allows. Nothing was written.
type BusyError struct {
	What string // what held it, and for how long it was waited on
}

func (e *BusyError) Error() string { return e.What }

// ErrLockTimeout is what a busy wait wraps: a lock waited on for the
// whole lock timeout.
var ErrLockTimeout = errors.New("lock timeout")

// RowLimiter is implemented by transactions whose engine bounds the size
// of one statement (MySQL's max_allowed_packet): a row whose cells take
// more than MaxRowBytes cannot be written at all, and the writer says
// which before the server drops the connection.
type RowLimiter interface {
	MaxRowBytes() int
}

// Explainer is implemented by transactions whose engine's errors can say
// more than they do: a lock wait that timed out becomes a *BusyError, and
// values an engine echoes (which could be a secret) are hidden.
type Explainer interface {
	Explain(err error) error
}

// Explain passes an error of a transaction through its engine's Explainer.
func Explain(tx any, err error) error {
	if ex, ok := tx.(Explainer); ok && err != nil {
		return ex.Explain(err)
	}
	return err
}

// LockWait is the error of a read or write that waited the whole lock
// timeout (waited; 0 when it is the server's own, unknown here) for a lock
// another session holds (an application's LOCK TABLE, a row it keeps): a
// *BusyError that is also ErrLockTimeout. held says what was waited for,
// "" for a lock another session holds. Callers name the table.
func LockWait(waited time.Duration, held string) error {
	if held == "" {
		held = "a lock another session holds"
	}
	how := "the whole lock timeout"
	if waited > 0 {
		how = waited.String()
	}
	return lockWait{&BusyError{What: fmt.Sprintf("waited %s for %s", how, held)}}
}

// lockWait is a *BusyError that is also ErrLockTimeout, and says only
// the former.
type lockWait struct{ *BusyError }

func (e lockWait) Unwrap() []error { return []error{e.BusyError, ErrLockTimeout} }
