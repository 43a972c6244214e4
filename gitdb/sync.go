package gitdb

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/exportdir"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
)

// SyncOptions are the inputs of Sync.
type SyncOptions struct {
	Env     string           // the developer's database; "" for the one the hooks keep (dev, or the only one)
	Resolve merge.Resolution // conflicts: Ours keeps the database's value, Theirs takes the files'
	Version string
	// Status is a git status of the work tree taken as the sync began
	// (the pre-commit hook's, which the export shares); nil: git is
	// asked when needed.
	Status *repo.PendingStatus
}

// syncLock names the one lock file the development database's syncs
// share, instead of leaving a file per commit; a linked worktree, which
// has a database of its own, has its own.
func (w *Workspace) syncLock() string {
	gitDir, err1 := repo.GitDir(w.Root)
	common, err2 := repo.CommonDir(w.Root)
	if err1 != nil || err2 != nil || gitDir == common {
		return "sync"
	}
	return "sync-" + filepath.Base(gitDir)
}

// Sync brings a development database in step with the files checked out:
// a three-way merge of the working tree's export directory into it, whose
// base is the commit the database was last in step with (its ledger says
// which). Rows changed in the files since that commit (by a checkout, a
// merge, a pull, a rebase, a stash pop, a hand edit) are written; rows
// changed in the database and not exported are kept; a row changed
// differently on both sides is a conflict, reported with both values, and
// nothing is written. HEAD is then recorded as the commit the database is
// in step with, or, when the files differ from HEAD's, a commit of them
// (snapshot.go).
//
// A database with no such record (a new clone's empty database, one
// restored from a dump, one last in step with a commit this clone lacks)
// gets a first apply of the files: every row they have is written (the
// files' values win where both have a row), the ledger starts. It is never
// merely recorded as in step (a baseline), unless the clone's last export
// of it is exactly what HEAD holds (exported.go): the next export would
// then take every row it lacks for a row deleted, and delete the team's
// configuration.
func (w *Workspace) Sync(ctx context.Context, opts SyncOptions) (*ApplyResult, error) {
	head := repo.HeadCommit(w.Root)
	if head == "" {
		return nil, nil // no commit yet: nothing to be in step with
	}
	dev, err := w.Config.DefaultEnv()
	if err != nil {
		return nil, err
	}
	if opts.Env != "" && opts.Env != dev {
		// Sync merges the working tree (uncommitted, untagged, scope
		// changes allowed): fit for the developer's own database only.
		return nil, fmt.Errorf("sync brings the development database (%q, the one the hooks keep) in step with the files checked out; %q is another environment: deploy a revision to it with 'git dbsync apply <revision> --env %s'", dev, opts.Env, opts.Env)
	}
	s, l, err := w.openLedger(ctx, dev)
	if err != nil {
		return nil, err
	}
	env := s.env
	cur := l.Current()
	lost := cur != nil && !s.rep.HasCommit(cur.Commit)
	exported := cur == nil && w.exportedAtHead(ctx, s.db, env)
	// Whether anything was exported, not the files themselves: the apply
	// below reads them only if it must merge them.
	hasFiles, err := exportdir.HasTables(exportdir.WorkTree{Root: w.Root}, w.Config.Dir)
	s.close()
	if err != nil || !hasFiles {
		return nil, err // nothing exported yet: the next export makes the files
	}
	if exported {
		// Its last export is HEAD's files: it was in step with HEAD then.
		if _, err := w.RecordSync(ctx, env, opts.Version); err != nil {
			return nil, err
		}
	}
	rev, name := shortRev(head), ""
	snap, err := w.snapshotWorkTree(env, head, opts.Status)
	if err != nil {
		return nil, fmt.Errorf("recording the working tree's %s/: %w", w.Config.Dir, err)
	}
	if snap != "" {
		rev, name = snap, "the working tree"
	}
	res, err := w.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: env, Revision: rev, RevisionName: name, WorkTree: true, Resolve: opts.Resolve, AllowScopeChange: true, FirstApply: lost},
		Version: opts.Version, LockName: w.syncLock(), Status: opts.Status})
	if err == nil && snap == "" && cur != nil && cur.Commit != head { // it may have been at one
		w.dropWorkTreeRef(env)
	}
	return res, err
}

// RecordSync records HEAD as the commit a development database is in step
// with, writing no rows: for a commit whose export directory is exactly
// what the pre-commit hook exported from the database.
func (w *Workspace) RecordSync(ctx context.Context, env, version string) (*ApplyResult, error) {
	head := repo.Commit(w.Root, "HEAD")
	res, err := w.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: env, Revision: shortRev(head)}, Baseline: true,
		Version: version, LockName: w.syncLock()})
	if err == nil {
		w.dropWorkTreeRef(env)
	}
	return res, err
}

func shortRev(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// UnmergedError is returned by export and apply on a tree in conflict.
type UnmergedError struct{ Paths []string }

func (e *UnmergedError) Error() string {
	return fmt.Sprintf("the export directory has unresolved merge conflicts (%s)\nhint: resolve them, git add the files, then run again", strings.Join(e.Paths, ", "))
}

func (w *Workspace) checkMerged() error { return w.checkMergedIn(nil) }

// checkMergedIn checks for conflicts in a git status taken before, when
// there is one.
func (w *Workspace) checkMergedIn(status *repo.PendingStatus) error {
	var paths []string
	if status != nil {
		st, err := status.Wait()
		if err != nil {
			return err
		}
		paths = st.Unmerged(w.Config.Dir)
	} else {
		var err error
		if paths, err = repo.Unmerged(w.Root, w.Config.Dir); err != nil {
			return err
		}
	}
	if len(paths) == 0 {
		return nil
	}
	return &UnmergedError{Paths: paths}
}
