package gitdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/ledger"
	"github.com/gitdbsync/git-dbsync/gitdb/lock"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
)

// ApplyOptions are the inputs of Apply.
type ApplyOptions struct {
	PlanOptions
	DeployOptions
	Baseline bool // record the revision as applied without writing rows
	Adopt    bool // take over a database whose identity names another environment
	// SkipRequires applies although an environment this one requires has
	// not applied the revision; the ledger entry records it.
	SkipRequires bool
	Saved        *SavedPlan // apply exactly this plan (apply --plan FILE)
	// Filled are the choices filled into the saved plan's conflicts: the
	// plan is proved to be the saved one, then resolved with them.
	Filled Choices
	// Confirm is asked, with the plan, before anything is written; nil
	// writes without asking.
	Confirm func(*Plan) (bool, error)
	Version string // recorded in the ledger
	// LockName names the lock file (default: the revision). The hooks'
	// syncs of a development database share one, "sync", instead of
	// leaving a file per commit.
	LockName string
	// Status is a git status taken as a sync of the working tree began,
	// which tells whether the files changed; nil: git is asked.
	Status *repo.PendingStatus
}

// ApplyResult is what Apply (or Rollback) did.
type ApplyResult struct {
	Plan     *Plan
	Already  bool     // the target was already at the revision: nothing done
	Entry    *Entry   // the ledger entry written (or, with Already, found)
	Also     []*Entry // rollback --to: the entries of the older applies undone with it
	Backup   *Backup  // the backup taken before the change (none when the environment takes none)
	LockFile string
	Notes    []string // what was found and resolved on the way: a crashed run, a stale lock
	// Steps are the environment's deploy steps as they went (none when it
	// has none, or the target was already at the revision).
	Steps []StepResult
	// Clean says, of a sync of the working tree, that git status found
	// the export directory clean before it: the files are the index's.
	Clean bool
}

// ErrDeclined is returned when Confirm says no.
var ErrDeclined = errors.New("nothing written: not confirmed")

// Apply merges a revision into an environment's database: plan, confirm,
// the environment's before steps, then every change, the identity and a
// ledger entry in one transaction, recorded in the revision's lock file
// before and after; then its checks (a failing one rolls the apply back)
// and its after steps, which run whatever happened once the before steps
// began. It is one kind of change (see change).
func (w *Workspace) Apply(ctx context.Context, opts ApplyOptions) (*ApplyResult, error) {
	if err := w.checkMergedIn(opts.Status); err != nil {
		return nil, err
	}
	res := &ApplyResult{}
	c := &change{kind: "apply", env: opts.Env, name: opts.Revision, adopt: opts.Adopt, steps: !opts.Baseline, deploy: opts.DeployOptions,
		lockFile: func(*session, *ledger.Target) (string, error) {
			if opts.LockName != "" {
				return opts.LockName, nil
			}
			return opts.Revision, nil
		},
		prepare: func(ctx context.Context, s *session, t *ledger.Target, prev *lock.File, res *ApplyResult) (*ledger.Change, error) {
			return w.prepareApply(ctx, s, t, opts, prev, res)
		},
		undo: func(e *Entry) *change {
			return w.rollbackChange(RollbackOptions{Env: e.Env, Revision: e.Commit, Version: opts.Version}, false)
		}}
	if !opts.Baseline {
		c.backup = func(e *Entry) string { return "apply " + e.Revision }
		c.planned = true
	}
	if c.env == "" {
		env, err := w.Config.DefaultEnv()
		if err != nil {
			return nil, err
		}
		c.env = env
	}
	return res, w.runChange(ctx, c, res)
}

// prepareApply finds whether the target is at the revision already
// (prev is the revision's lock file), checks what the environment
// requires, and plans what must be shown; it returns the change to
// commit, which plans again inside its transaction.
func (w *Workspace) prepareApply(ctx context.Context, s *session, t *ledger.Target, opts ApplyOptions, prev *lock.File, res *ApplyResult) (*ledger.Change, error) {
	rev, err := s.rep.Resolve(opts.Revision)
	if err != nil {
		return nil, err
	}
	if opts.RevisionName != "" {
		rev.Name = opts.RevisionName
	}
	cur := t.Ledger.Current()
	atRev := cur != nil && cur.Commit == rev.Commit && !opts.Adopt
	if atRev && opts.WorkTree {
		// The working tree's files may differ from the revision's: only a
		// plan tells whether there is anything to write.
		clean, err := w.clean(opts.Status)
		res.Clean = err == nil && clean
		atRev = res.Clean
	}
	if atRev {
		res.Already, res.Entry = true, cur
		return nil, nil
	}
	note, err := w.checkRequires(ctx, s.env, rev, opts.SkipRequires)
	if err != nil {
		return nil, err
	}
	againAtRev := opts.WorkTree && cur != nil && cur.Commit == rev.Commit
	// The plan is made before the transaction when it must be shown
	// (confirmation, a saved plan) or may show nothing to do (a sync of the
	// working tree at the revision already recorded), and made again
	// inside it: the two must read the same target rows. Otherwise it is
	// made once, inside.
	var shown *Plan
	switch {
	case opts.Baseline:
		res.Plan = &Plan{Env: s.env, Rev: rev, Base: cur, Identity: t.Ledger.Identity}
	case opts.Confirm != nil || opts.Saved != nil || againAtRev:
		p, err := s.plan(ctx, s.db, rev, t.Ledger, opts.PlanOptions)
		if err != nil {
			return nil, err
		}
		shown, res.Plan = p.Plan, p.Plan
		if opts.Saved != nil {
			if err := opts.Saved.matches(shown); err != nil {
				return nil, err
			}
			if len(opts.Filled) > 0 {
				opts.Choices = append(opts.Choices, opts.Filled...)
				if p, err = s.plan(ctx, s.db, rev, t.Ledger, opts.PlanOptions); err != nil {
					return nil, err
				}
				shown, res.Plan = p.Plan, p.Plan
			}
		}
		if err := checkScope(shown, opts.PlanOptions); err != nil {
			return nil, err
		}
		if shown.Unresolved() > 0 {
			return nil, &ConflictError{Plan: shown}
		}
		if againAtRev && shown.Changes() == 0 { // nothing to write, nothing new to record
			res.Already, res.Entry = true, cur
			return nil, nil
		}
		if opts.Confirm != nil {
			if ok, err := opts.Confirm(shown); err != nil || !ok {
				return nil, errors.Join(ErrDeclined, err)
			}
		}
	}
	if shown == nil && !opts.Baseline && len(w.Config.StepsOf(s.env, "before", "manual", "confirm", "check", "after")) > 0 {
		// Conflicts stop the apply before its questions and before steps
		// (a maintenance page switched on for nothing), as a rollback's
		// do. This plan is not shown: the one made in the transaction is
		// what is written, whatever the before steps changed.
		p, err := s.plan(ctx, s.db, rev, t.Ledger, opts.PlanOptions)
		if err != nil {
			return nil, err
		}
		res.Plan = p.Plan
		if err := checkScope(p.Plan, opts.PlanOptions); err != nil {
			return nil, err
		}
		if p.Unresolved() > 0 {
			return nil, &ConflictError{Plan: p.Plan}
		}
	}
	kind := KindApply
	if opts.Baseline {
		kind = KindBaseline
	}
	entry := &Entry{ID: lock.NewID(), Kind: kind, Revision: rev.Name, Commit: rev.Commit, Env: s.env,
		At: time.Now().UTC(), Owner: lock.Me(), Version: opts.Version, Note: note}
	if cur != nil {
		entry.BaseCommit = cur.Commit
	}
	lf := &lock.File{Env: s.env, Revision: rev.Name, Commit: rev.Commit, BaseCommit: entry.BaseCommit, State: lock.Applying,
		Apply: lock.Record{ID: entry.ID, Owner: entry.Owner, Started: entry.At}}
	lf.Supersede(prev)
	return &ledger.Change{Entry: entry, Prev: prev, Lock: lf, Done: lock.Applied, Record: &lf.Apply, Adopt: opts.Adopt,
		Write: func(ctx context.Context, tx dialect.Tx) ([]*merge.TablePlan, error) {
			if opts.Baseline {
				return nil, nil
			}
			now, err := s.plan(ctx, tx, rev, t.Ledger, opts.PlanOptions)
			if err != nil {
				return nil, err
			}
			res.Plan = now.Plan
			if err := checkScope(now.Plan, opts.PlanOptions); err != nil {
				return nil, err
			}
			switch {
			case shown != nil && now.Fingerprint != shown.Fingerprint:
				res.Plan = shown
				return nil, &TargetChangedError{Why: "rows of the target were changed"}
			case now.Unresolved() > 0: // never after a plan shown: the same rows give the same merge
				return nil, &ConflictError{Plan: now.Plan}
			}
			if err := s.backupPlanned(ctx, tx, now.Tables); err != nil {
				return nil, err
			}
			return now.Tables, now.writer(tx).Write(ctx, now.Tables)
		}}, nil
}

// clean reports whether the export directory is as HEAD holds it, from
// the status taken before when there is one.
func (w *Workspace) clean(status *repo.PendingStatus) (bool, error) {
	if status == nil {
		return repo.Clean(w.Root, w.Config.Dir)
	}
	st, err := status.Wait()
	return err == nil && st.Clean(w.Config.Dir), err
}

// checkScope refuses a plan whose revision changes what may be written,
// or that would rename rows matched by id, unless allowed. (A delete that
// other rows still refer to is a conflict: see planned.block.)
func checkScope(p *Plan, opts PlanOptions) error {
	if len(p.ScopeChanges) > 0 && !opts.AllowScopeChange {
		return &ScopeError{Env: p.Env, Changes: p.ScopeChanges}
	}
	if len(p.IDRenames) > 0 && !opts.SharedIDs {
		return fmt.Errorf("%s\nnothing written", strings.Join(p.IDRenames, "\n"))
	}
	return nil
}
