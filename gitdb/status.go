package gitdb

import (
	"context"
	"fmt"

	"github.com/gitdbsync/git-dbsync/gitdb/dbrows"
	"github.com/gitdbsync/git-dbsync/gitdb/exportdir"
	"github.com/gitdbsync/git-dbsync/gitdb/ledger"
	"github.com/gitdbsync/git-dbsync/gitdb/lock"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
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
	l, err := ledger.Read(ctx, s.db)
	if err != nil {
		return nil, err
	}
	st := &Status{Env: s.env, Identity: l.Identity, Current: l.Current(), History: l.Entries}
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
	gitDir, err := s.gitDir()
	if err != nil {
		return nil, err
	}
	st.Crashed, err = ledger.Crashed(gitDir, s.env)
	return st, err
}

// drift compares the files of the revision a target is at with its rows.
func (s *session) drift(ctx context.Context, at *Entry) ([]*merge.TableDiff, error) {
	cfg, tables, err := s.revisionConfig(at.Commit, at.Revision)
	if err != nil {
		return nil, err
	}
	targets, err := targetTables(ctx, s.db, cfg, tables, at.Revision)
	if err != nil {
		return nil, err
	}
	tr := dbrows.NewTranslator(s.db, targets)
	rev := s.revision(at.Commit, at.Revision)
	var out []*merge.TableDiff
	for i := range tables {
		tf := &tables[i]
		src := dbrows.NewSource(targets[i], tr, false)
		var d *merge.TableDiff
		err := src.Ordered(func() error {
			files, closeFiles, err := exportdir.Rows(rev, tf, at.Revision, nil)
			if err != nil {
				return err
			}
			defer closeFiles()
			ours, stop := src.Pull(ctx, nil)
			defer stop()
			d, err = merge.Diff(tf.Meta, files, ours)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("table %q: %w", tf.Meta.Name, err)
		}
		if len(d.Changes) > 0 {
			out = append(out, d)
		}
	}
	return out, nil
}
