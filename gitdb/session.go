package gitdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/ledger"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
)

// session is an open workspace, repository and (unless only the
// repository is needed) target database.
type session struct {
	ws  *Workspace
	rep *repo.Repo
	db  dialect.Dialect
	env string
	// backup is the backup the running change takes once it has
	// planned (see change.planned); nil for none.
	backup *taking
}

func (w *Workspace) open(ctx context.Context, env string) (*session, error) {
	s, err := w.openRepoOnly()
	if err != nil {
		return nil, err
	}
	if s.db, s.env, err = w.OpenEnv(ctx, env); err != nil {
		s.rep.Close()
		return nil, err
	}
	return s, nil
}

// openRead opens an environment whose database is only read (export
// aside, every read of a target: plan, diff, status, draft, the source of
// a pull): its session is made read-only. A change opens its target with
// runChange instead.
func (w *Workspace) openRead(ctx context.Context, env string) (*session, error) {
	s, err := w.open(ctx, env)
	if err == nil {
		if err = readOnly(ctx, w, s.db, s.env); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, err
}

// readOnly makes db, environment env's, read-only, its reads waiting
// no longer than the environment's lock-timeout for a lock another
// session holds (an application's LOCK TABLE), as writes do.
func readOnly(ctx context.Context, w *Workspace, db dialect.Dialect, env string) error {
	if err := db.SetLockTimeout(ctx, w.Config.LockTimeout(env)); err != nil {
		return err
	}
	return db.SetReadOnly(ctx)
}

// openLedger opens an environment to read and reads its ledger; the
// caller closes the session.
func (w *Workspace) openLedger(ctx context.Context, env string) (*session, *ledger.Ledger, error) {
	s, err := w.openRead(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	l, err := ledger.Read(ctx, s.db)
	if err != nil {
		s.close()
		return nil, nil, err
	}
	return s, l, nil
}

// openChange checks that the session's database can take a change
// (preflight: writable, then its identity once the lock is held), and
// takes the environment lock; the caller closes the target.
func (s *session) openChange(ctx context.Context, op, name string, adopt bool, res *ApplyResult) (*ledger.Target, error) {
	if err := preflight(ctx, s.db, s.env); err != nil {
		return nil, err
	}
	gitDir, err := s.gitDir()
	if err != nil {
		return nil, err
	}
	if err := s.db.SetLockTimeout(ctx, s.ws.Config.LockTimeout(s.env)); err != nil {
		return nil, err
	}
	t, err := ledger.Open(ctx, s.db, gitDir, s.env, op, name)
	if t != nil {
		res.Notes = t.Notes
	}
	if err != nil {
		return nil, err
	}
	if err := t.CheckIdentity(adopt); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// openRepoOnly opens the repository without a database.
func (w *Workspace) openRepoOnly() (*session, error) {
	rep, err := repo.Open(w.Root)
	if err != nil {
		return nil, err
	}
	// A big plan's ops go under the git directory: .git/dbsync/tmp.
	merge.SetSpillDir(func() string {
		if dir, err := rep.CommonDir(); err == nil {
			return filepath.Join(dir, "dbsync", "tmp")
		}
		return os.TempDir()
	})
	return &session{ws: w, rep: rep}, nil
}

func (s *session) close() {
	if s.db != nil {
		s.db.Close()
	}
	s.rep.Close()
}

// gitDir returns the repository's common git directory.
func (s *session) gitDir() (string, error) { return s.rep.CommonDir() }

// haveCommitOf checks that the repository has the commit a ledger entry
// names (an apply made from a clone that pushed nothing, or a gc).
func (s *session) haveCommitOf(e *Entry) error {
	if s.rep.HasCommit(e.Commit) {
		return nil
	}
	return fmt.Errorf("the target is at %s (commit %.12s), which this repository does not have\nhint: fetch it (git fetch --tags) and try again",
		e.Revision, e.Commit)
}
