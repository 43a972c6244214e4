package gitdb

import (
	"context"
	"fmt"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/ledger"
	"github.com/gitdbsync/git-dbsync/gitdb/lock"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
)

// change is one write to an environment's database, as its kind
// describes it. Every kind (apply, baseline, rollback, rollback --to,
// restore, pull, and the hooks' sync, which applies) lives the same
// life, in the order runChange gives:
//
//	preflight (the target takes writes) → environment lock → identity
//	→ the kind's lock file settled → prepare (its plan, the Confirm question)
//	→ manual and confirm questions, before steps → backup
//	→ write, ledger entry and lock file in one commit
//	→ check steps (a failing one undoes the change, under the same lock)
//	→ after steps → steps recorded → unlock
//
// The lock is held to the very end: a second run never sees a change
// whose checks are still running, so it never judges them.
type change struct {
	kind  string // apply, rollback, restore, pull: the lock holder's op, $DBSYNC_CHANGE for the steps
	env   string
	name  string // what the environment lock says the run is of: a revision, a backup
	adopt bool   // take over a database whose identity names another environment
	// steps runs the environment's deploy steps around the change (not
	// for a baseline, which writes no rows, nor for the undo of a change
	// whose check failed, whose own steps are still running).
	steps  bool
	deploy DeployOptions
	// backup says what the backup is taken before ("apply v1.4"), from
	// the prepared entry; nil takes none. writes, when set, lists the
	// tables the change writes, once prepared: the backup holds those
	// (else the config and sequence tables). planned says the change's
	// Write takes the backup itself once it has planned, of the tables
	// its plan writes (session.backupPlanned).
	backup  func(e *Entry) string
	writes  func() []string
	planned bool
	// lockFile names, under the lock, the lock file the change is
	// recorded in (a revision, "restore"); "" for none (a pull). The
	// runner alone writes lock files: it settles this one against the
	// ledger before prepare, and passes it on as it stands (prev, nil
	// when there is none).
	lockFile func(s *session, t *ledger.Target) (string, error)
	// prepare runs under the lock: it plans, asks Confirm, and returns the
	// ledger change to commit, with the lock file's states (Lock, Done,
	// Record; Prev as the change would put back), or nil when there is
	// nothing to do (res.Already says so for an apply).
	prepare func(ctx context.Context, s *session, t *ledger.Target, prev *lock.File, res *ApplyResult) (*ledger.Change, error)
	// undo is the change that undoes this one's entry when a check fails;
	// nil for kinds that are not undone (see README: which steps run for
	// which kind).
	undo func(e *Entry) *change
}

// runChange runs a change from preflight to unlock; res is filled in as
// it goes, so that a failure still reports what happened before it.
func (w *Workspace) runChange(ctx context.Context, c *change, res *ApplyResult) error {
	s, err := w.open(ctx, c.env)
	if err != nil {
		return err
	}
	defer s.close()
	t, err := s.openChange(ctx, c.kind, c.name, c.adopt, res)
	if err != nil {
		return err
	}
	defer t.Close()
	return w.runLocked(ctx, s, t, c, res)
}

// ReadOnlyError is a target that cannot take a write: nothing was done.
type ReadOnlyError struct {
	Env, Why string
}

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("%q is %s: nothing done", e.Env, e.Why)
}

// preflight refuses a database that cannot take a write (a standby, a
// read-only file or replica) before any question, step or backup.
func preflight(ctx context.Context, db dialect.Dialect, env string) error {
	why, err := dialect.ReadOnly(ctx, db)
	if err != nil {
		return err
	}
	if why != "" {
		return &ReadOnlyError{Env: env, Why: why}
	}
	return nil
}

// runLocked runs a change under the lock the caller holds.
func (w *Workspace) runLocked(ctx context.Context, s *session, t *ledger.Target, c *change, res *ApplyResult) error {
	var prev *lock.File
	if c.lockFile != nil {
		name, err := c.lockFile(s, t)
		if err != nil {
			return err
		}
		res.LockFile = t.LockPath(name)
		prev, err = t.Recover(res.LockFile)
		res.Notes = t.Notes
		if err != nil {
			return err
		}
	}
	ch, err := c.prepare(ctx, s, t, prev, res)
	if err != nil {
		return err
	}
	if ch == nil {
		if res.Already && res.Entry != nil && c.steps {
			// A run killed between its commit and its checks left them
			// unrecorded: run them now, as that run would have.
			if sr := w.uncheckedRun(res.Entry, c.deploy); sr != nil {
				return w.finishSteps(ctx, s, t, c, sr, res, nil, res.LockFile)
			}
		}
		return nil
	}
	ch.Path = res.LockFile
	var sr *stepRun
	if c.steps {
		if sr, err = w.newStepRun(c.kind, c.env, s.stepRev(ch.Entry), c.deploy); err != nil {
			return err
		}
	}
	if sr != nil {
		if err := sr.before(ctx, w.Root); err != nil {
			return w.finishSteps(ctx, s, t, c, sr, res, err, "")
		}
		ch.Entry.Steps = sr.results
		if ch.Record != nil { // a change of no revision (pull) has no lock file
			ch.Record.Steps = sr.results
		}
	}
	var bk *taking
	if c.backup != nil {
		if bk, err = s.newBackup(t, c.backup(ch.Entry)); err != nil {
			return err
		}
	}
	if bk != nil && c.planned {
		s.backup = bk // for this commit only: not an undo's that follows
	} else if bk != nil {
		if c.writes != nil {
			bk.tables = c.writes()
		}
		write := ch.Write
		ch.Write = func(ctx context.Context, tx dialect.Tx) ([]*merge.TablePlan, error) {
			if err := bk.take(ctx, tx); err != nil {
				return nil, err
			}
			res.Backup = bk.manifest
			return write(ctx, tx)
		}
	}
	// The meter shows planning from here: while the transaction waits for
	// the database's lock, and while the change is planned again in it.
	s.ws.Meter.Start("planning", -1)
	err = t.Commit(ctx, ch)
	s.backup = nil
	left, derr := bk.done(err == nil, ch.Entry.Target)
	if err == nil {
		err = derr
	}
	if left > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("removed %d backup folders that killed runs left in %s", left, bk.dir))
	}
	if err != nil {
		res.Backup = nil
	} else {
		if bk != nil && bk.manifest.Dir != "" {
			res.Backup = bk.manifest
		}
		res.Entry = ch.Entry
		for _, e := range res.Also { // rollback --to: the older applies' lock files
			markRolledBack(t.LockPath(e.Revision), e)
		}
	}
	if sr != nil {
		return w.finishSteps(ctx, s, t, c, sr, res, err, ch.Path)
	}
	return err
}

// finishSteps runs what follows a change whose steps began: its checks
// when it committed (a failing one undoes it, under the same lock), then
// the after steps whatever happened; and records every step in the
// change's ledger entry and lock file.
func (w *Workspace) finishSteps(ctx context.Context, s *session, t *ledger.Target, c *change, sr *stepRun, res *ApplyResult, err error, lockFile string) error {
	if !sr.started {
		return err
	}
	if err == nil && res.Entry != nil && (!res.Already || sr.recheck) {
		if failed := sr.checks(ctx, w.Root); failed != nil {
			se := &StepError{Step: *failed, Kind: c.kind}
			if c.undo != nil {
				se.Undo = "rolled back"
				if se.UndoErr = t.Reload(ctx); se.UndoErr == nil {
					se.UndoErr = w.runLocked(ctx, s, t, c.undo(res.Entry), &ApplyResult{})
				}
			}
			err = se
		}
	}
	sr.after(ctx, w.Root)
	res.Steps = sr.results[sr.prior:] // what ran now; the entry keeps them all
	if res.Entry == nil {
		return err
	}
	res.Entry.Steps = sr.results
	if rerr := recordSteps(ctx, t.DB, res.Entry, lockFile, sr.results); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// recordSteps writes the steps into a change's ledger entry and lock
// file, after it committed.
func recordSteps(ctx context.Context, db dialect.Dialect, e *Entry, lockFile string, results []StepResult) error {
	if err := ledger.RecordSteps(ctx, db, e.Seq, results); err != nil {
		return err
	}
	if lockFile == "" {
		return nil
	}
	lf, err := lock.Read(lockFile)
	if err != nil || lf == nil {
		return err
	}
	switch {
	case lf.Apply.ID == e.ID:
		lf.Apply.Steps = results
	case lf.Rollback != nil && lf.Rollback.ID == e.ID:
		lf.Rollback.Steps = results
	default:
		return nil
	}
	return lock.Write(lockFile, lf)
}

// markRolledBack records in a revision's lock file that a rollback --to
// undid its apply along with a later one's (whose lock file the change
// itself kept).
func markRolledBack(path string, e *Entry) {
	lf, err := lock.Read(path)
	if err != nil || lf == nil || lf.State != lock.Applied {
		return
	}
	finished := e.At
	lf.State = lock.RolledBack
	lf.Rollback = &lock.Record{ID: e.ID, Owner: e.Owner, Started: e.At, Finished: &finished, Ledger: e.Seq, Tables: e.Summary}
	lock.Write(path, lf)
}
