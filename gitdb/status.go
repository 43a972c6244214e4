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
	Pending  []repo.Tag         // tags newer than Current; none for the development database
	Crashed  []*lock.File       // lock files left applying or rolling back
	// Lost are lock files of this clone that say a change committed which
	// the target's ledger does not hold: the database lost that commit.
	Lost []*lock.File
	// Running is the run that holds the environment's lock now (its
	// steps, its transaction or its checks under way); nil for none.
	Running *lock.Holder
	// Unchecked is set when the apply the target is at has checks that
	// never passed: its run stopped after its commit. Applying the
	// revision again runs them.
	Unchecked bool
	// Dev is set for the development database, the one the hooks keep
	// in step with the commits: it deploys nothing.
	Dev *DevStatus
}

// DevStatus is where the development database stands against HEAD.
type DevStatus struct {
	Head string // HEAD's commit; "" before the first commit
	// InStep is set when the database was last synced with HEAD: it
	// follows every checkout, merge and commit.
	InStep bool
	// Unexported lists, per table, the rows the database holds otherwise
	// than HEAD's files: changes the next commit exports.
	Unexported []*merge.TableDiff
	// Concluding names the merge, rebase, cherry-pick, revert or am in
	// progress ("" none): the database follows its commit, not before.
	Concluding string
	// WorkTree is set when the database was last synced with the working
	// tree's files as they differed from HEAD's (snapshot.go): in step with
	// those, not with HEAD; Unexported is then counted against them.
	// WorkTreeOf is the commit that working tree was on (HEAD, or a commit
	// HEAD moved from); WorkTree is false when the files moved on since.
	WorkTree   bool
	WorkTreeOf string
}

// Status reads an environment's identity and ledger, compares its rows
// with the revision it is at, and lists newer tags. It writes nothing.
func (w *Workspace) Status(ctx context.Context, env string) (*Status, error) {
	return w.status(ctx, env, true)
}

// History is Status without the comparison of the rows (no Drift, no
// Unexported): the ledger, the newer tags and the runs, for a page that
// shows the history alone and need not read every table.
func (w *Workspace) History(ctx context.Context, env string) (*Status, error) {
	return w.status(ctx, env, false)
}

func (w *Workspace) status(ctx context.Context, env string, rows bool) (*Status, error) {
	s, l, err := w.openLedger(ctx, env)
	if err != nil {
		return nil, err
	}
	defer s.close()
	st := &Status{Env: s.env, Identity: l.Identity, Current: l.Current(), History: l.Entries}
	if dev, _ := w.Config.DefaultEnv(); dev == s.env {
		st.Dev = &DevStatus{Head: repo.Commit(w.Root, "HEAD"), Concluding: repo.InProgress(w.Root)}
		st.Dev.InStep = st.Current != nil && st.Current.Commit == st.Dev.Head
		against := &Entry{Commit: st.Dev.Head, Revision: "HEAD"}
		if c := st.Current; c != nil && !st.Dev.InStep && c.Commit == repo.Commit(w.Root, w.worktreeRef(s.env)) {
			st.Dev.WorkTreeOf = repo.Commit(w.Root, c.Commit+"^")
			// Files put back, stashed or reset since that sync: the
			// database follows them at the next sync, not before.
			moved := (repo.Git{Dir: w.Root}).Run("diff", "--quiet", c.Commit, "--", w.Config.Dir) != nil
			if st.Dev.WorkTreeOf == st.Dev.Head && !moved {
				st.Dev.WorkTree, against = true, &Entry{Commit: c.Commit, Revision: "the working tree"}
			}
		}
		if st.Dev.Head != "" && rows {
			if st.Dev.Unexported, err = s.drift(ctx, against); err != nil {
				return nil, err
			}
		}
	} else if err := s.deploysTo(ctx, st, rows); err != nil {
		return nil, err
	}
	gitDir, err := s.gitDir()
	if err != nil {
		return nil, err
	}
	st.Running = lock.Holding(gitDir, s.env)
	st.Unchecked = st.Running == nil && st.Current != nil && w.uncheckedRun(st.Current, DeployOptions{}) != nil
	if st.Crashed, err = ledger.Crashed(gitDir, s.env); err != nil {
		return nil, err
	}
	st.Lost, err = ledger.Lost(gitDir, s.env, l)
	return st, err
}

// deploysTo fills in an environment that deploys: its drift since the
// revision it is at (unless rows is false), and the newer tags.
func (s *session) deploysTo(ctx context.Context, st *Status, rows bool) error {
	if st.Current != nil && rows {
		if err := s.haveCommitOf(st.Current); err != nil {
			return err
		}
		var err error
		if st.Drift, err = s.drift(ctx, st.Current); err != nil {
			return err
		}
	}
	tags, err := s.rep.Tags()
	if err != nil {
		return err
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
	return nil
}

// drift compares the files of the revision a target is at with its rows.
func (s *session) drift(ctx context.Context, at *Entry) ([]*merge.TableDiff, error) {
	fs, err := s.revisionFiles(at.Commit, at.Revision)
	if err != nil {
		return nil, err
	}
	tables := fs.tables
	targets, err := targetTables(ctx, s.db, fs.cfg, tables, at.Revision)
	if err != nil {
		return nil, err
	}
	tr := dbrows.NewTranslator(s.db, targets)
	rev := fs.tree
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
			// Secret paths are never compared: the files hold placeholders.
			strip := targets[i].WithoutSecrets
			d, err = merge.Diff(tf.Meta, merge.Map(files, strip), merge.Map(ours, strip))
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
