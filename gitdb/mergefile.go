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

	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// MergeFile is the git merge driver of exported files ("git dbsync
// merge-file %O %A %B %P"): it merges a row file or a lines file by key
// and by cell with the merge engine of apply, writes the result over ours
// and returns the number of conflicts, each left between conflict markers
// for a person to resolve. Other files get git's own text merge.
func MergeFile(root, base, ours, theirs, name string) (int, error) {
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
	if err != nil || hasConflictMarkers(data) {
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
		tf := &repo.TableFiles{Dir: tableDir, Meta: meta}
		if path.Base(name) == serialize.LinesFile {
			tf.Lines = &repo.Blob{Path: name, Hash: file}
		} else {
			tf.Rows = []repo.Blob{{Path: name, Hash: file}}
		}
		src, closer, err := fileRows(workTree{}, tf, []string{"base", "theirs", "ours"}[i], nil)
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
	return writeFileAtomic(ours, out)
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
		events = append(events, event{key: rowOf(&plan.Ops[i]), op: &plan.Ops[i]})
	}
	for i := range plan.Conflicts {
		events = append(events, event{key: conflictRow(&plan.Conflicts[i]), conflict: &plan.Conflicts[i]})
	}
	sortEvents := func(a, b event) int { return meta.CompareKeys(a.key, b.key) }
	slices.SortStableFunc(events, sortEvents)

	src, closer, err := fileRows(workTree{}, &repo.TableFiles{Meta: meta, Lines: &repo.Blob{Path: name, Hash: ours}}, "ours", nil)
	if err != nil {
		return err
	}
	defer closer()
	f, err := os.CreateTemp(filepath.Dir(ours), ".dbsync-merge-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
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
			f.Close()
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
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), ours)
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
