package gitdb

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/exportdir"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/internal/atomicfile"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// MergeFile is the git merge driver of exported files ("git dbsync
// merge-file %O %A %B %P"): it merges a row file or a lines file by key
// and by cell with the merge engine of apply and writes the result over
// ours. Conflicts are left between conflict markers for a person to
// resolve, and reported as a *MergeConflictsError with their number.
// Other files get git's own text merge.
func MergeFile(root, base, ours, theirs, name string) error {
	n, err := mergeFile(root, base, ours, theirs, name)
	if err == nil && n > 0 {
		return &MergeConflictsError{N: n}
	}
	return err
}

// mergeFile is MergeFile, returning the number of conflicts.
func mergeFile(root, base, ours, theirs, name string) (int, error) {
	name = filepath.ToSlash(name)
	var tableDir string
	switch {
	case path.Base(name) == serialize.LinesFile:
		tableDir = path.Dir(name)
	case path.Base(path.Dir(name)) == serialize.RowsDir && strings.HasSuffix(name, serialize.RowExt):
		tableDir = path.Dir(path.Dir(name))
	default:
		return textMerge(ours, base, theirs)
	}
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(tableDir), serialize.MetaFile))
	if err != nil || exportdir.HasConflictMarkers(data) {
		return textMerge(ours, base, theirs)
	}
	meta, err := serialize.UnmarshalMeta(data)
	if err != nil {
		return textMerge(ours, base, theirs)
	}
	sources := make([]merge.Source, 3)
	for i, file := range []string{base, theirs, ours} {
		fi, err := os.Stat(file)
		if err != nil {
			return 0, err
		}
		if fi.Size() == 0 { // added on both sides: no base
			sources[i] = merge.Empty
			continue
		}
		tf := &exportdir.TableFiles{Dir: tableDir, Meta: meta}
		if path.Base(name) == serialize.LinesFile {
			tf.Lines = &exportdir.Blob{Path: name, ID: file}
		} else {
			tf.Rows = []exportdir.Blob{{Path: name, ID: file}}
		}
		src, closer, err := exportdir.Rows(exportdir.WorkTree{}, tf, []string{"base", "theirs", "ours"}[i], nil)
		if err != nil {
			return textMerge(ours, base, theirs) // not a file of ours after all
		}
		defer closer()
		sources[i] = src
	}
	plan, err := merge.Table(meta, sources[0], sources[1], sources[2], merge.Options{})
	if err != nil {
		return 0, err
	}
	if path.Base(name) == serialize.LinesFile {
		return len(plan.Conflicts), writeMergedLines(meta, name, ours, plan)
	}
	return len(plan.Conflicts), writeMergedRow(meta, ours, plan)
}

// writeMergedRow writes the merge of one row file.
func writeMergedRow(meta *serialize.Table, ours string, plan *merge.TablePlan) error {
	data, err := os.ReadFile(ours)
	if err != nil {
		return err
	}
	var out []byte
	switch {
	case len(plan.Conflicts) > 0:
		c := &plan.Conflicts[0]
		mine, theirs := resolvedRow(c.Ours, c.IfOurs), resolvedRow(c.Ours, c.IfTheirs)
		a, err := prettyOrEmpty(meta, mine)
		if err != nil {
			return err
		}
		b, err := prettyOrEmpty(meta, theirs)
		if err != nil {
			return err
		}
		out = markers(a, b)
	case len(plan.Ops) > 0 && plan.Ops[0].After != nil:
		if out, err = meta.AppendPretty(nil, plan.Ops[0].After); err != nil {
			return err
		}
	default:
		return nil // ours stands
	}
	if bytes.Equal(out, data) {
		return nil
	}
	return atomicfile.WriteFile(ours, out, 0o666)
}

// resolvedRow is the row a resolution leaves: its op's row, or ours
// unchanged when it does nothing (nil for a delete).
func resolvedRow(ours serialize.Row, op *merge.Op) serialize.Row {
	if op == nil {
		return ours
	}
	return op.After
}

func prettyOrEmpty(meta *serialize.Table, r serialize.Row) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	return meta.AppendPretty(nil, r)
}

// markers wraps two versions in git's conflict markers.
func markers(ours, theirs []byte) []byte {
	var b bytes.Buffer
	b.WriteString("<<<<<<< ours\n")
	b.Write(ours)
	b.WriteString("=======\n")
	b.Write(theirs)
	b.WriteString(">>>>>>> theirs\n")
	return b.Bytes()
}

// writeMergedLines streams ours again, applying the merge's ops and
// writing each conflict between markers, in key order.
func writeMergedLines(meta *serialize.Table, name, ours string, plan *merge.TablePlan) error {
	type event struct {
		key      serialize.Row
		op       *merge.Op
		conflict *merge.Conflict
	}
	var events []event
	for i := range plan.Ops {
		events = append(events, event{key: plan.Ops[i].Row(), op: &plan.Ops[i]})
	}
	for i := range plan.Conflicts {
		events = append(events, event{key: conflictRow(&plan.Conflicts[i]), conflict: &plan.Conflicts[i]})
	}
	sortEvents := func(a, b event) int { return meta.CompareKeys(a.key, b.key) }
	slices.SortStableFunc(events, sortEvents)

	src, closer, err := exportdir.Rows(exportdir.WorkTree{}, &exportdir.TableFiles{Meta: meta, Lines: &exportdir.Blob{Path: name, ID: ours}}, "ours", nil)
	if err != nil {
		return err
	}
	defer closer()
	f, err := atomicfile.New(ours, "", 0o666)
	if err != nil {
		return err
	}
	defer f.Abort()
	w := bufio.NewWriterSize(f, 1<<16)
	line := func(r serialize.Row) []byte {
		if r == nil {
			return nil
		}
		return meta.AppendLine(nil, r)
	}
	emit := func(e event) {
		switch {
		case e.conflict != nil:
			c := e.conflict
			w.Write(markers(line(resolvedRow(c.Ours, c.IfOurs)), line(resolvedRow(c.Ours, c.IfTheirs))))
		case e.op.Kind != merge.Delete:
			w.Write(line(e.op.After))
		}
	}
	next := 0
	for {
		r, ok, err := src()
		if err != nil {
			return err
		}
		for next < len(events) && (!ok || meta.CompareKeys(events[next].key, r) < 0) {
			emit(events[next])
			next++
		}
		if !ok {
			break
		}
		if next < len(events) && meta.CompareKeys(events[next].key, r) == 0 {
			emit(events[next])
			next++
			continue
		}
		w.Write(line(r))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Commit()
}

// textMerge is git's own line merge, for files that are not rows.
func textMerge(ours, base, theirs string) (int, error) {
	err := repo.Git{}.Run("merge-file", "-L", "ours", "-L", "base", "-L", "theirs", ours, base, theirs)
	var ge *repo.GitError
	if errors.As(err, &ge) && ge.ExitCode > 0 {
		return ge.ExitCode, nil // the number of conflicts
	}
	return 0, err
}
