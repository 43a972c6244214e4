package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/lock"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/internal/fault"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Target is a target database under its environment lock, with its ledger
// as read when the lock was taken. Every change (apply, baseline,
// rollback) runs through one: Open, Recover, Commit, Close.
type Target struct {
	DB     dialect.Dialect
	Env    string
	GitDir string // the repository's common git directory: lock files live there
	Ledger *Ledger
	// Notes say what was found and settled on the way: a stale lock, a
	// crashed run.
	Notes []string
	lock  *lock.Env
}

// Open takes the environment lock (failing at once with a
// *lock.LockedError when another run holds it) and reads the ledger. op
// and rev name the run in the lock, for whoever finds it held.
func Open(ctx context.Context, db dialect.Dialect, gitDir, env, op, rev string) (*Target, error) {
	l, err := lock.LockEnv(gitDir, env, lock.Holder{Op: op, Revision: rev, Owner: lock.Me(), Since: time.Now().UTC()})
	if err != nil {
		return nil, err
	}
	fault.Point("after-lock")
	t := &Target{DB: db, Env: env, GitDir: gitDir, lock: l}
	if l.Stale != nil {
		t.Notes = append(t.Notes, fmt.Sprintf("removed the lock of environment %q left by %s (%s of %s), whose process is gone",
			env, l.Stale.Owner, l.Stale.Op, l.Stale.Revision))
	}
	if t.Ledger, err = Read(ctx, db); err != nil {
		l.Release()
		return nil, err
	}
	return t, nil
}

// Close releases the environment lock.
func (t *Target) Close() { t.lock.Release() }

// Reload reads the ledger again, as a change that committed left it: a
// change that follows under the same lock (undoing an apply whose check
// failed) starts from there.
func (t *Target) Reload(ctx context.Context) error {
	l, err := Read(ctx, t.DB)
	if err == nil {
		t.Ledger = l
	}
	return err
}

// IdentityError is returned when a database belongs to another environment.
type IdentityError struct {
	Env      string
	Identity Identity
}

func (e *IdentityError) Error() string {
	return fmt.Sprintf("this database is the target of environment %q (identity %s, since %s), not %q: was it copied?\nhint: if it is now %q's database, take it over with 'git dbsync apply <revision> --env %s --adopt'",
		e.Identity.Env, e.Identity.ID, e.Identity.Created.Format(time.RFC3339), e.Env, e.Env, e.Env)
}

// CheckIdentity refuses a database whose identity names another
// environment, unless adopt.
func (t *Target) CheckIdentity(adopt bool) error {
	if id := t.Ledger.Identity; id != nil && id.Env != t.Env && !adopt {
		return &IdentityError{Env: t.Env, Identity: *id}
	}
	return nil
}

// LockPath returns the lock file of a revision applied to the target.
func (t *Target) LockPath(rev string) string { return lock.Path(t.GitDir, t.Env, rev) }

// Recover reads a lock file and, if a run that died left it "applying" or
// "rolling-back", settles it against the ledger, which tells whether that
// run's transaction committed. It returns the file as it now stands (nil
// when there is none).
func (t *Target) Recover(path string) (*lock.File, error) {
	lf, err := lock.Read(path)
	if err != nil || lf == nil {
		return lf, err
	}
	var rec *lock.Record
	var done lock.State
	switch lf.State {
	case lock.Applying:
		rec, done = &lf.Apply, lock.Applied
	case lock.RollingBack:
		rec, done = lf.Rollback, lock.RolledBack
	default:
		return lf, nil
	}
	what := fmt.Sprintf("the %s of %s to %q by %s, started %s, did not finish", map[lock.State]string{lock.Applied: "apply", lock.RolledBack: "rollback"}[done],
		lf.Revision, lf.Env, rec.Owner, rec.Started.Format(time.RFC3339))
	if e := t.Ledger.ByID(rec.ID); e != nil {
		finished := e.At
		rec.Finished, rec.Ledger, rec.Tables = &finished, e.Seq, e.Summary
		rec.Note = "recovered: the ledger shows its transaction committed"
		lf.State = done
		t.Notes = append(t.Notes, what+"; the ledger shows its transaction committed: "+path+" now says "+string(done))
	} else {
		rec.Note = "interrupted: the ledger shows its transaction never committed; nothing of it was written"
		note := what + "; the ledger shows its transaction never committed, so nothing of it was written"
		if done == lock.Applied {
			lf.State = "interrupted"
		} else {
			lf.State, lf.Rollback = lock.Applied, nil
			note += fmt.Sprintf("; %s stays applied", lf.Revision)
		}
		t.Notes = append(t.Notes, note)
	}
	return lf, lock.Write(path, lf)
}

// TargetChangedError is returned when the target changed between the plan
// and the write: nothing is written, and the plan must be made again.
type TargetChangedError struct{ Why string }

func (e *TargetChangedError) Error() string {
	return "the target changed since the plan was made (" + e.Why + "): nothing written\nhint: make the plan again"
}

// Change is one change of the target, recorded by Commit.
type Change struct {
	Entry *Entry // the ledger entry to write; Seq, Target, Summary and Tables are filled in
	// The lock file: Path ("" for a change of no revision, which has
	// none), its state before the change (Prev, nil when none), the state
	// written while the change runs (Lock), the state it reaches when the
	// change commits (Done), and the record in it that the commit
	// finishes.
	Path       string
	Prev, Lock *lock.File
	Done       lock.State
	Record     *lock.Record
	Adopt      bool // write the identity of this environment over another's
	// Load writes in a load transaction (dialect.BeginLoad): foreign keys
	// checked at COMMIT, nothing cascading (pull replaces whole tables).
	Load bool
	// Write plans the change in the transaction (reading the target as the
	// transaction sees it) and writes it; it returns the tables written,
	// whose ops the ledger records.
	Write func(ctx context.Context, tx dialect.Tx) ([]*merge.TablePlan, error)
	// Then are further changes made in the same transaction after this
	// one, each with its own ledger entry (rollback --to undoes several
	// applies at once).
	Then []Part
}

// Part is a further change of a Change's transaction.
type Part struct {
	Entry *Entry
	Write func(ctx context.Context, tx dialect.Tx) ([]*merge.TablePlan, error)
}

// Commit runs a change: the lock file says it runs, then the change, the
// target's identity and the ledger entry are written in one transaction,
// then the lock file says it is done. When nothing commits, the lock file
// is put back as it was.
func (t *Target) Commit(ctx context.Context, c *Change) error {
	if c.Path == "" {
		return t.transact(ctx, c)
	}
	if c.Prev == nil {
		if err := lock.Create(c.Path, c.Lock); err != nil {
			return fmt.Errorf("creating the lock file: %w", err)
		}
	} else if err := lock.Write(c.Path, c.Lock); err != nil {
		return err
	}
	if err := t.transact(ctx, c); err != nil {
		if c.Prev == nil {
			os.Remove(c.Path)
		} else {
			lock.Write(c.Path, c.Prev)
		}
		return err
	}
	finished := time.Now().UTC()
	e := c.Entry
	c.Lock.State, c.Lock.Target = c.Done, e.Target
	c.Record.Finished, c.Record.Ledger, c.Record.Tables = &finished, e.Seq, e.Summary
	return lock.Write(c.Path, c.Lock)
}

// transact writes a change and its ledger entry in one transaction.
func (t *Target) transact(ctx context.Context, c *Change) (err error) {
	ddlCommits := false
	if d, ok := t.DB.(dialect.DDLCommits); ok {
		ddlCommits = d.DDLCommits()
	}
	if ddlCommits {
		// DDL would commit the change's transaction half-way: create the
		// (empty) ledger tables in a transaction of their own first, and
		// drop them again if they were new and the change does not commit,
		// so that a refused first change leaves the database as it was.
		var names []string
		if names, err = t.DB.Tables(ctx); err != nil {
			return err
		}
		if err = t.ensureApart(ctx, names); err != nil {
			return t.lostRace(context.WithoutCancel(ctx), err, c.Entry)
		}
		if !slices.Contains(names, ledgerTable) { // err is the result, not a shadow
			defer func() {
				if err != nil {
					t.dropNew(context.WithoutCancel(ctx), names)
				}
			}()
		}
	}
	if err = t.transactIn(ctx, c, ddlCommits); err != nil {
		err = t.lostRace(context.WithoutCancel(ctx), err, c.Entry)
	}
	return err
}

// lostRace explains a change that did not commit because another one,
// made from elsewhere (another clone, another node of a cluster), did
// while it ran: whatever the failure was (a deadlock, a certification
// failure at COMMIT, a duplicate key or a vanished row that the other
// change wrote), the ledger, read again after the rollback (as the whole
// cluster has it), holds an entry that was not there when this change
// began. Every loser is then told the same thing.
//
// On a cluster, a change can also fail before the other one commits: its
// DDL (the ledger tables of a first change) ran on every node in total
// order and aborted the other's, or the other's aborted it. A deadlock
// there waits a few seconds for the other's entry to appear.
//
// own is the change's own entry: a COMMIT that failed as it reached the
// client, though it committed, is not a race lost.
func (t *Target) lostRace(ctx context.Context, err error, own *Entry) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	wait := 0
	if dialect.ClusterOf(t.DB) != nil && errors.As(err, new(*dialect.BusyError)) {
		wait = 50
	}
	for i := 0; ; i++ {
		now, rerr := Read(ctx, t.DB)
		if rerr == nil && len(now.Entries) > len(t.Ledger.Entries) {
			if own != nil && now.ByID(own.ID) != nil {
				return err
			}
			return t.committedFirst(ctx, &now.Entries[len(t.Ledger.Entries)])
		}
		if i >= wait {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// committedFirst is the error of a change that lost to e, another's
// change that committed first: a *dialect.BusyError (nothing written).
func (t *Target) committedFirst(ctx context.Context, e *Entry) error {
	where := ", made from elsewhere,"
	if lw, ok := t.DB.(dialect.LastWriter); ok {
		if node, err := lw.LastWriter(ctx); err == nil && node != "" {
			where = " on node " + node
		}
	}
	return &dialect.BusyError{What: fmt.Sprintf("another %s of %s to %q committed first%s: nothing written", e.Kind, e.Revision, t.Env, where)}
}

// ensureApart creates the ledger tables the database lacks (have lists
// its tables), or the columns they lack, in a transaction of their own;
// none when nothing is missing.
func (t *Target) ensureApart(ctx context.Context, have []string) error {
	if current, err := t.upToDate(ctx, have); err != nil || current {
		return err
	}
	begin := t.DB.Begin
	if d, ok := t.DB.(dialect.DDLCommits); ok {
		begin = d.BeginDDL
	}
	tx, err := begin(ctx)
	if err != nil {
		return err
	}
	if err := ensure(ctx, t.DB, tx, have); err != nil {
		tx.Rollback()
		return dialect.Explain(tx, err)
	}
	return dialect.Explain(tx, tx.Commit())
}

// upToDate reports whether the database has the ledger tables (have lists
// its tables) with every column of this version.
func (t *Target) upToDate(ctx context.Context, have []string) (bool, error) {
	for _, table := range []string{identityTable, ledgerTable, ledgerRowsTable} {
		if !slices.Contains(have, table) {
			return false, nil
		}
	}
	desc, err := t.DB.Describe(ctx, ledgerTable)
	if err != nil {
		return false, err
	}
	for _, c := range laterColumns {
		if desc.Column(c) == nil {
			return false, nil
		}
	}
	return true, nil
}

// dropNew drops the ledger tables that were not among names (the tables
// before the change), in a transaction of its own.
func (t *Target) dropNew(ctx context.Context, names []string) {
	if dialect.ClusterOf(t.DB) != nil {
		// On a cluster, DDL runs on every node at once and aborts what
		// uses the tables there: another node's first change, which
		// may be committing into them. Empty tables do no harm.
		return
	}
	tx, err := t.DB.Begin(ctx)
	if err != nil {
		return
	}
	// Not when another run (through another node of a cluster, which
	// GET_LOCK does not hold off) committed into them meanwhile.
	var entries int64
	err = tx.Query(ctx, "SELECT count(*) FROM "+ledgerTable, nil, func(v []any) error {
		entries = integer(v[0])
		return nil
	})
	if err != nil || entries > 0 {
		tx.Rollback()
		return
	}
	for _, table := range []string{ledgerRowsTable, ledgerTable, identityTable} {
		if !slices.Contains(names, table) {
			if err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
				tx.Rollback()
				return
			}
		}
	}
	tx.Commit()
}

// transactIn writes the change in its transaction; created says the
// ledger tables exist already.
func (t *Target) transactIn(ctx context.Context, c *Change, created bool) error {
	begin := t.DB.Begin
	if c.Load {
		begin = t.DB.BeginLoad
	}
	tx, err := begin(ctx)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
		}
	}()
	fault.Point("after-begin")
	if !created {
		if err := ensure(ctx, t.DB, tx, nil); err != nil {
			return err
		}
	}
	now, err := Read(ctx, tx)
	if err != nil {
		return err
	}
	if len(now.Entries) != len(t.Ledger.Entries) {
		// Another clone's run (or a run through another node of a
		// cluster) won the race to this database: lostRace names it,
		// once the transaction is rolled back.
		return &dialect.BusyError{What: "another apply or rollback of this database, made from elsewhere, committed first: nothing written"}
	}
	tables, err := c.Write(ctx, tx)
	if err != nil {
		return err // explained by the writer
	}
	id := t.Ledger.Identity
	if id == nil || c.Adopt {
		if id == nil {
			id = &Identity{ID: lock.NewID(), Created: c.Entry.At}
		}
		id = &Identity{ID: id.ID, Env: t.Env, Created: id.Created}
		if err := writeIdentity(ctx, tx, id); err != nil {
			return err
		}
	}
	seq := t.Ledger.nextSeq()
	parts := append([]Part{{Entry: c.Entry}}, c.Then...)
	for i, p := range parts {
		if i > 0 {
			if tables, err = p.Write(ctx, tx); err != nil {
				return err
			}
		}
		e := p.Entry
		e.Target, e.Seq = id.ID, seq+int64(i)
		if err := summarize(e, tables); err != nil {
			return err
		}
		if err := writeEntry(ctx, tx, e, tables); err != nil {
			return dialect.Explain(tx, err)
		}
	}
	fault.Point("before-commit")
	if err := tx.Commit(); err != nil {
		return dialect.Explain(tx, err)
	}
	committed = true
	fault.Point("after-commit")
	return nil
}

// summarize fills in an entry's summary and table metadata from the
// tables a change wrote, adding to the counts its Write gave (a restore
// counts the rows it put back itself).
func summarize(e *Entry, tables []*merge.TablePlan) error {
	if e.Summary == nil {
		e.Summary = map[string]lock.Counts{}
	}
	e.Tables = map[string]json.RawMessage{}
	for _, t := range tables {
		meta := t.Meta
		raw, err := meta.MarshalMeta()
		if err != nil {
			return err
		}
		e.Tables[meta.Name] = raw
		c := lock.Counts{Inserted: t.Count(merge.Insert), Updated: t.Count(merge.Update), Deleted: t.Count(merge.Delete), Untracked: t.Untracked.Len()}
		for k := range t.Conflicts {
			if t.Conflicts[k].Resolution != merge.Unresolved {
				c.Conflicts++
			}
		}
		if c != (lock.Counts{}) {
			e.Summary[meta.Name] = c
		}
	}
	return nil
}

// Crashed lists the environment's lock files still "applying" or
// "rolling-back": runs that died (the environment lock is not held, or
// its holder's process is gone).
func Crashed(gitDir, env string) ([]*lock.File, error) {
	return lockFiles(gitDir, env, func(lf *lock.File) bool {
		if lf.State != lock.Applying && lf.State != lock.RollingBack {
			return false
		}
		rec := &lf.Apply
		if lf.State == lock.RollingBack && lf.Rollback != nil {
			rec = lf.Rollback
		}
		return !rec.Owner.Alive() || !lock.EnvLocked(gitDir, env)
	})
}

// Lost lists the environment's lock files that record a change the
// target's ledger does not hold: an apply "applied", or a rollback
// "rolled-back", by this clone to the database of this identity, whose
// ledger entry is gone. The ledger entry commits with the change, so its
// absence means the database lost that commit: an asynchronous failover
// to a standby that had not received it, or an older copy restored. Lock
// files of another database (another identity) are not this one's.
func Lost(gitDir, env string, l *Ledger) ([]*lock.File, error) {
	return lockFiles(gitDir, env, func(lf *lock.File) bool {
		if l.Identity != nil && lf.Target != l.Identity.ID {
			return false
		}
		rec := &lf.Apply
		switch {
		case lf.State == lock.RolledBack && lf.Rollback != nil:
			rec = lf.Rollback
		case lf.State != lock.Applied:
			return false
		}
		return rec.ID != "" && l.ByID(rec.ID) == nil
	})
}

// lockFiles reads the environment's lock files and keeps those keep
// takes.
func lockFiles(gitDir, env string, keep func(*lock.File) bool) ([]*lock.File, error) {
	paths, _ := filepath.Glob(filepath.Join(lock.Dir(gitDir), serialize.FileName(env), "*.lock"))
	var out []*lock.File
	for _, p := range paths {
		lf, err := lock.Read(p)
		if err != nil {
			return nil, err
		}
		if lf != nil && keep(lf) {
			out = append(out, lf)
		}
	}
	return out, nil
}
