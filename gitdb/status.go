package gitdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gitdbsync/git-dbsync/gitdb/lock"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Status is where an environment stands.
type Status struct {
	Env      string
	Identity *Identity
	Current  *Entry             // the revision the target is at; nil before the first apply
	History  []Entry            // oldest first
	Drift    []*merge.TableDiff // target rows changed since Current (its files → the target)
	Pending  []repo.Tag         // tags newer than Current
	Crashed  []*lock.File       // lock files left applying or rolling back
}

// Status reads an environment's identity and ledger, compares its rows
// with the revision it is at, and lists newer tags. It writes nothing.
func (w *Workspace) Status(ctx context.Context, env string) (*Status, error) {
	s, err := w.open(ctx, env)
	if err != nil {
		return nil, err
	}
	defer s.close()
	ledger, err := readLedger(ctx, s.db)
	if err != nil {
		return nil, err
	}
	st := &Status{Env: s.env, Identity: ledger.Identity, Current: ledger.Current(), History: ledger.Entries}
	if st.Current != nil {
		if err := s.haveCommitOf(st.Current); err != nil {
			return nil, err
		}
		if st.Drift, err = s.drift(ctx, st.Current); err != nil {
			return nil, err
		}
	}
	tags, err := s.rep.Tags()
	if err != nil {
		return nil, err
	}
	for _, t := range tags {
		if st.Current == nil {
			st.Pending = append(st.Pending, t)
			continue
		}
		if t.Commit == st.Current.Commit {
			continue
		}
		if newer, err := s.rep.IsAncestor(st.Current.Commit, t.Commit); err == nil && newer {
			st.Pending = append(st.Pending, t)
		}
	}
	st.Crashed, err = s.crashedLocks()
	return st, err
}

// drift compares the files of the revision a target is at with its rows.
func (s *session) drift(ctx context.Context, at *Entry) ([]*merge.TableDiff, error) {
	cfg, tables, err := s.revisionConfig(at.Commit, at.Revision)
	if err != nil {
		return nil, err
	}
	var out []*merge.TableDiff
	targets := make([]*configTable, len(tables))
	for i := range tables {
		if targets[i], err = targetTable(ctx, s.db, cfg, &tables[i], at.Revision); err != nil {
			return nil, fmt.Errorf("gitdb/status: table %q: %w", tables[i].Meta.Name, err)
		}
	}
	tr := newTranslator(s.db, targets)
	for i := range tables {
		tf := &tables[i]
		src := &rowSource{t: targets[i], tr: tr}
		d, err := s.driftTable(ctx, tf, src, at)
		if err != nil {
			return nil, fmt.Errorf("gitdb/status: table %q: %w", tf.Meta.Name, err)
		}
		if len(d.Changes) > 0 {
			out = append(out, d)
		}
	}
	return out, nil
}

func (s *session) driftTable(ctx context.Context, tf *repo.TableFiles, src *rowSource, at *Entry) (*merge.TableDiff, error) {
	for attempt := 0; ; attempt++ {
		files, closeFiles, err := fileRows(s.rep, tf, at.Revision, nil)
		if err != nil {
			return nil, err
		}
		ours, stop := dbRows(ctx, src, nil)
		d, err := merge.Diff(tf.Meta, files, ours)
		stop()
		closeFiles()
		if errors.Is(err, errOrder) && attempt == 0 {
			src.sortInMemory = true
			continue
		}
		return d, err
	}
}

// crashedLocks lists the environment's lock files still "applying" or
// "rolling-back": runs that died (the environment lock is not held, or
// its holder's process is gone).
func (s *session) crashedLocks() ([]*lock.File, error) {
	gitDir, err := s.rep.CommonDir()
	if err != nil {
		return nil, err
	}
	paths, _ := filepath.Glob(filepath.Join(lock.Dir(gitDir), serialize.FileName(s.env), "*.lock"))
	var out []*lock.File
	for _, p := range paths {
		lf, err := lock.Read(p)
		if err != nil {
			return nil, err
		}
		if lf != nil && (lf.State == lock.Applying || lf.State == lock.RollingBack) {
			rec := &lf.Apply
			if lf.State == lock.RollingBack && lf.Rollback != nil {
				rec = lf.Rollback
			}
			if !rec.Owner.Alive() || !envLocked(gitDir, s.env) {
				out = append(out, lf)
			}
		}
	}
	return out, nil
}

func envLocked(gitDir, env string) bool {
	_, err := os.Stat(filepath.Join(lock.Dir(gitDir), serialize.FileName(env)+".lock"))
	return err == nil
}
