package gitdb

import (
	"context"
	"fmt"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/ledger"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
)

// SyncOptions are the inputs of Sync.
type SyncOptions struct {
	Env      string // the developer's database; "" for the default (dev)
	Commit   string // the commit now checked out
	Previous string // the commit before the merge or checkout: the base when the database has no ledger yet
	Version  string
}

// Sync merges the configuration of a commit into a developer's database,
// as the post-merge and post-checkout hooks do: a three-way merge whose
// base is Previous, the commit checked out before — the pre-commit hook
// keeps the database and the checked-out commit together, so what differs
// from Previous are changes made in the database and not yet committed,
// and they are kept. When the ledger says otherwise, Previous is recorded
// first (a baseline, writing no rows).
func (w *Workspace) Sync(ctx context.Context, opts SyncOptions) (*ApplyResult, error) {
	s, err := w.open(ctx, opts.Env)
	if err != nil {
		return nil, err
	}
	l, err := ledger.Read(ctx, s.db)
	env := s.env
	s.close()
	if err != nil {
		return nil, err
	}
	if cur := l.Current(); opts.Previous != "" && opts.Previous != opts.Commit && (cur == nil || cur.Commit != opts.Previous) {
		_, err := w.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: env, Revision: shortRev(opts.Previous)}, Baseline: true,
			Version: opts.Version, LockName: "sync"})
		if err != nil {
			return nil, fmt.Errorf("recording %s as the base of %q: %w", shortRev(opts.Previous), env, err)
		}
	}
	return w.Apply(ctx, ApplyOptions{PlanOptions: PlanOptions{Env: env, Revision: shortRev(opts.Commit)}, Version: opts.Version, LockName: "sync"})
}

func shortRev(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// Unmerged lists the files under dir that git holds in conflict: export
// and apply refuse to run until they are resolved.
func Unmerged(root, dir string) ([]string, error) { return repo.Unmerged(root, dir) }

// UnmergedError is returned by export and apply on a tree in conflict.
type UnmergedError struct{ Paths []string }

func (e *UnmergedError) Error() string {
	return fmt.Sprintf("the export directory has unresolved merge conflicts (%s)\nhint: resolve them, git add the files, then run again", strings.Join(e.Paths, ", "))
}

func (w *Workspace) checkMerged() error {
	paths, err := Unmerged(w.Root, w.Config.Dir)
	if err != nil || len(paths) == 0 {
		return err
	}
	return &UnmergedError{Paths: paths}
}
