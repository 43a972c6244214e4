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

// ReadBusy is the error of a read that waited the whole lock timeout for
// a lock another session holds (an application's LOCK TABLE): a
// *BusyError, as a write's wait. Callers name the table.
// held says what was waited for, "" for a lock another session holds.
func ReadBusy(waited time.Duration, held string) error {
	if held == "" {
		held = "a lock another session holds"
	}
	return lockWait{&BusyError{What: fmt.Sprintf("waited %s for %s", waited, held)}}
}

// LockWait is the error of a wait for a lock that timed out, saying what:
// a *BusyError that is also ErrLockTimeout.
func LockWait(what string) error { return lockWait{&BusyError{What: what}} }

// lockWait is a *BusyError that is also ErrLockTimeout, and says only
// the former.
type lockWait struct{ *BusyError }

func (e lockWait) Unwrap() []error { return []error{e.BusyError, ErrLockTimeout} }
