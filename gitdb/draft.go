package gitdb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/gitdbsync/git-dbsync/gitdb/dbrows"
	"github.com/gitdbsync/git-dbsync/gitdb/exportdir"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/internal/atomicfile"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// DraftOptions are the inputs of Draft.
type DraftOptions struct {
	From      string // the environment whose edits come back
	Branch    string // commit the draft on this new branch; "" leaves it in the working tree
	Untracked bool   // also bring rows that only the target has
}

// DraftResult is what Draft wrote.
type DraftResult struct {
	Env    string
	Base   *Entry // the apply the target's edits are counted from
	Tables []DraftTable
	Branch string // the branch committed, when asked and there were no conflicts
	Commit string
}

// DraftTable is what a draft brought into one table's files.
type DraftTable struct {
	Table                      string
	Updated, Deleted, Inserted int
	Conflicts                  []string // rows left between conflict markers
	Untracked                  []string // rows only the target has, left out without Untracked
}

// Changes counts the rows a draft wrote into the table's files.
func (t *DraftTable) Changes() int {
	return t.Updated + t.Deleted + t.Inserted + len(t.Conflicts)
}

// Draft brings the edits made on an environment's database since its last
// apply into the working tree, as a three-way merge: base the revision the
// target last applied (from its ledger), ours HEAD's files, theirs the
// target now, read through HEAD's tables (natural keys, references,
// codecs; secrets and excluded paths stay out). A row both changed is
// left between conflict markers the merge driver understands. With Branch,
// the draft is committed on a new branch and the current one is left as
// it was.
func (w *Workspace) Draft(ctx context.Context, opts DraftOptions) (*DraftResult, error) {
	if err := w.checkMerged(); err != nil {
		return nil, err
	}
	if clean, err := repo.Clean(w.Root, w.Config.Dir); err != nil {
		return nil, err
	} else if !clean {
		return nil, fmt.Errorf("%s/ has changes not committed: commit or stash them first, so that the draft is all that changes there", w.Config.Dir)
	}
	s, l, err := w.openLedger(ctx, opts.From)
	if err != nil {
		return nil, err
	}
	defer s.close()
	res := &DraftResult{Env: s.env, Base: l.Current()}
	if res.Base == nil {
		return nil, fmt.Errorf("%q has no apply recorded: there is no base to tell its edits from\nhint: compare it with 'git dbsync diff --env %s'", s.env, s.env)
	}
	if err := s.haveCommitOf(res.Base); err != nil {
		return nil, err
	}
	head, err := s.rep.Resolve("HEAD")
	if err != nil {
		return nil, err
	}
	ours, err := s.revisionFiles(head.Commit, "HEAD")
	if err != nil {
		return nil, err
	}
	base, err := s.revisionFiles(res.Base.Commit, res.Base.Revision)
	if err != nil {
		return nil, err
	}
	baseTables := map[string]*exportdir.TableFiles{}
	for i := range base.tables {
		baseTables[base.tables[i].Meta.Name] = &base.tables[i]
	}
	targets, err := targetTables(ctx, s.db, ours.cfg, ours.tables, "HEAD")
	if err != nil {
		return nil, err
	}
	tr := dbrows.NewTranslator(s.db, targets)
	var plans []*merge.TablePlan
	for i := range ours.tables {
		tf := &ours.tables[i]
		bt := baseTables[tf.Meta.Name]
		if bt == nil || metaBytes(bt.Meta) != metaBytes(tf.Meta) {
			continue // not exported the same way at the base: no edits to tell
		}
		src := dbrows.NewSource(targets[i], tr, false)
		var tp *merge.TablePlan
		err := src.Ordered(func() error {
			b, closeBase, err := exportdir.Rows(base.tree, bt, base.name, tf.Meta)
			if err != nil {
				return err
			}
			defer closeBase()
			o, closeOurs, err := exportdir.Rows(ours.tree, tf, ours.name, nil)
			if err != nil {
				return err
			}
			defer closeOurs()
			t, stop := src.Pull(ctx, nil)
			defer stop()
			tp, err = merge.Table(tf.Meta, b, t, o, merge.Options{})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("table %q: %w", tf.Meta.Name, err)
		}
		plans = append(plans, tp)
	}
	if opts.Branch != "" {
		if err := w.git().Run("switch", "-q", "-c", opts.Branch); err != nil {
			return nil, err
		}
	}
	conflicts, changes := 0, 0
	for _, tp := range plans {
		dt, err := w.writeDraft(tp, opts.Untracked)
		if err != nil {
			return nil, fmt.Errorf("table %q: %w", tp.Meta.Name, err)
		}
		if dt.Changes()+len(dt.Untracked) > 0 {
			res.Tables = append(res.Tables, *dt)
		}
		conflicts, changes = conflicts+len(dt.Conflicts), changes+dt.Changes()
	}
	g := w.git()
	switch {
	case opts.Branch == "" || conflicts > 0:
		return res, nil // the branch, if any, is checked out with the conflicts to resolve
	case changes == 0: // nothing to commit: no branch either
		if err := g.Run("switch", "-q", "-"); err != nil {
			return nil, err
		}
		return res, g.Run("branch", "-q", "-D", opts.Branch)
	}
	msg := fmt.Sprintf("Edits made on %s since %s, drafted by git dbsync", s.env, res.Base.Revision)
	if err := g.Run("add", "--", w.Config.Dir); err != nil {
		return nil, err
	}
	if err := g.Run("commit", "-q", "--allow-empty", "-m", msg, "--", w.Config.Dir); err != nil {
		return nil, err
	}
	if res.Commit, err = g.Line("rev-parse", "HEAD"); err != nil {
		return nil, err
	}
	res.Branch = opts.Branch
	return res, g.Run("switch", "-q", "-")
}

// git runs git in the repository without git dbsync's own hooks: a draft
// moves between branches and commits files the development database has
// never held.
func (w *Workspace) git() repo.Git {
	return repo.Git{Dir: w.Root, Env: []string{"DBSYNC_SKIP_HOOKS=1"}}
}

// writeDraft writes a table's merge into the working tree's files.
// draftLabels mark a draft's conflicts: the working tree's rows are ours,
// the environment's theirs.
var draftLabels = Labels{Ours: "ours", Theirs: "theirs"}

func (w *Workspace) writeDraft(tp *merge.TablePlan, untracked bool) (*DraftTable, error) {
	meta := tp.Meta
	dt := &DraftTable{Table: meta.Name}
	all, err := tp.Ops.Collect()
	if err != nil {
		return nil, err
	}
	var ops []merge.Op
	for _, op := range all {
		switch {
		case op.Kind == merge.Insert && !untracked:
			dt.Untracked = append(dt.Untracked, keyText(meta, op.After))
			continue
		case op.Kind == merge.Insert:
			dt.Inserted++
		case op.Kind == merge.Update:
			dt.Updated++
		case op.Kind == merge.Delete:
			dt.Deleted++
		}
		ops = append(ops, op)
	}
	for i := range tp.Conflicts {
		dt.Conflicts = append(dt.Conflicts, keyText(meta, tp.Conflicts[i].Row()))
	}
	if len(ops) == 0 && len(tp.Conflicts) == 0 {
		return dt, nil
	}
	tp = &merge.TablePlan{Meta: meta, Ops: merge.OpsOf(ops...), Conflicts: tp.Conflicts}
	dir := filepath.Join(w.Root, filepath.FromSlash(path.Join(w.Config.Dir, serialize.TableDir(meta.Name))))
	if meta.Layout == serialize.LayoutLines {
		lines := filepath.Join(dir, serialize.LinesFile)
		return dt, writeMergedLines(meta, path.Join(w.Config.Dir, serialize.TableDir(meta.Name), serialize.LinesFile), lines, tp, draftLabels)
	}
	rows := filepath.Join(dir, serialize.RowsDir)
	if err := os.MkdirAll(rows, 0o777); err != nil {
		return nil, err
	}
	for _, op := range ops {
		file := filepath.Join(rows, meta.RowFile(op.Row()))
		if op.Kind == merge.Delete {
			if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
			continue
		}
		data, err := meta.AppendPretty(nil, op.After)
		if err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(file, data, 0o666); err != nil {
			return nil, err
		}
	}
	for i := range tp.Conflicts {
		c := &tp.Conflicts[i]
		a, err := prettyOrEmpty(meta, resolvedRow(c.Ours, c.IfOurs))
		if err != nil {
			return nil, err
		}
		b, err := prettyOrEmpty(meta, resolvedRow(c.Ours, c.IfTheirs))
		if err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(filepath.Join(rows, meta.RowFile(c.Row())), rowMarkers(draftLabels, a, b), 0o666); err != nil {
			return nil, err
		}
	}
	return dt, nil
}
