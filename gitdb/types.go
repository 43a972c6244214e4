package gitdb

import (
	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dbrows"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/ledger"
	"github.com/gitdbsync/git-dbsync/gitdb/lock"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
)

// The records and errors of the packages below that the engine's API
// hands to the commands, under the engine's name, so that the commands
// import nothing else.
type (
	// Entry is one apply, baseline or rollback recorded in a target.
	Entry = ledger.Entry
	// Identity marks a database as the target of one environment.
	Identity = ledger.Identity
	// IdentityError refuses a database that belongs to another environment.
	IdentityError = ledger.IdentityError
	// TargetChangedError refuses a plan whose target changed since.
	TargetChangedError = ledger.TargetChangedError
	// LockedError says another run holds an environment's lock.
	LockedError = lock.LockedError
	// LockFile is a clone's record of an apply of a revision to an
	// environment and of its rollback.
	LockFile = lock.File
	// BusyError says another session held a lock on the database: another
	// git dbsync run, or the application for longer than lock-timeout.
	BusyError = dialect.BusyError
	// RefError is a reference the target cannot satisfy: with Content, a
	// key of content the target lacks (a conflict of the target's data).
	RefError = dbrows.RefError
)

// Ledger entry kinds.
const (
	KindApply    = ledger.KindApply
	KindBaseline = ledger.KindBaseline
	KindRollback = ledger.KindRollback
	KindRestore  = ledger.KindRestore
	KindPull     = ledger.KindPull
)

// Resolution picks a side for conflicts: the target's (Ours) or the
// revision's (Theirs).
type Resolution = merge.Resolution

const (
	Unresolved = merge.Unresolved
	Ours       = merge.Ours
	Theirs     = merge.Theirs
)

// ErrNoConfig is wrapped by the errors that report a missing .dbsync, in
// the working tree or in a revision.
var ErrNoConfig = config.ErrNoFile

// Redact hides the passwords (and user names) of database URLs and
// connection strings in a text: what a report shows of a step's output.
func Redact(text string) string { return dialect.Redact(text) }
