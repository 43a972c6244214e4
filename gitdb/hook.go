package gitdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/gitdbsync/git-dbsync/gitdb/repo"
)

// PreCommit re-exports the development database and stages the export
// directory, as the pre-commit hook does.
func (w *Workspace) PreCommit(ctx context.Context) (*ExportResult, error) {
	res, err := w.Export(ctx, ExportOptions{})
	if err != nil {
		return nil, err
	}
	// Stage with git itself: it honours GIT_INDEX_FILE, which commit -a
	// and --only set for hooks (go-git does not).
	return res, repo.Git{Dir: w.Root}.Run("add", "-A", "--", w.Config.Dir)
}

// PostCheckout merges the configuration of the commit now checked out
// into the development database, as the post-merge (prev is ORIG_HEAD)
// and post-checkout hooks do. It does nothing (nil, nil) when there is
// nothing to merge: no previous commit (a fresh clone), the same commit,
// or a commit without a .dbsync.
func (w *Workspace) PostCheckout(ctx context.Context, prev, cur, version string) (*ApplyResult, error) {
	opts := SyncOptions{Commit: repo.Commit(w.Root, cur), Previous: repo.Commit(w.Root, prev), Version: version}
	if opts.Commit == "" || opts.Previous == "" {
		return nil, nil
	}
	res, err := w.Sync(ctx, opts)
	if errors.Is(err, ErrNoConfig) {
		return nil, nil
	}
	if err != nil && !errors.As(err, new(*ConflictError)) {
		err = fmt.Errorf("merging the configuration into the development database: %w", err)
	}
	return res, err
}
