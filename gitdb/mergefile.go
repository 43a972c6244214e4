package gitdb

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/exportdir"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/internal/atomicfile"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// MergeFile is the git merge driver of exported files ("git dbsync
// merge-file --marker-size=%L %O %A %B %P"): it merges a row file or a
// lines file by key and by cell with the merge engine of apply and writes
// the result over ours. Conflicts are left between conflict markers,
// labelled as git labels the sides of its own conflicts (Labels), for a
// person to resolve, and reported as a *MergeConflictsError with their
// number. Other files get git's own text merge.
func MergeFile(root, base, ours, theirs, name string, l Labels) error {
	n, err := mergeFile(root, base, ours, theirs, name, l)
	if err == nil && n > 0 {
		return &MergeConflictsError{N: n}
	}
	return err
}

// Labels name the two sides of a conflict on its markers, and the
// markers' size (git's conflict-marker-size; 0: git's default of 7).
type Labels struct {
	Ours, Theirs string
	Size         int
}

// GitLabels are the labels git gives the sides of the merge under way, for
// the driver, which git 2.39 tells only the marker size and the path: in a
// merge, the current branch and the name git merge gives the other head
// (GITHEAD_<oid>); in a rebase or a pick, HEAD and the commit being picked,
// as "<abbrev> (<subject>)". Where neither can be found, "ours" and
// "theirs".
func GitLabels(root string, size int) Labels {
	l := Labels{Ours: "ours", Theirs: "theirs", Size: size}
	git := repo.Git{Dir: root}
	var heads []string
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "GITHEAD_") && v != "" {
			heads = append(heads, v)
		}
	}
	if len(heads) == 1 {
		l.Theirs = heads[0]
		l.Ours = "HEAD"
		if out, err := git.Output("symbolic-ref", "--quiet", "--short", "HEAD"); err == nil && len(bytes.TrimSpace(out)) > 0 {
			l.Ours = string(bytes.TrimSpace(out))
		}
		return l
	}
	gitDir, err := git.Output("rev-parse", "--absolute-git-dir")
	if err != nil {
		return l
	}
	// The sequencer appends the command it is carrying out to "done"
	// before it merges: its last line is the pick under way.
	done, err := os.ReadFile(filepath.Join(string(bytes.TrimSpace(gitDir)), "rebase-merge", "done"))
	if err != nil {
		return l
	}
	lines := strings.Split(strings.TrimSpace(string(done)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) < 2 || !slices.Contains([]string{"pick", "p", "reword", "r", "edit", "e", "squash", "s", "fixup", "f"}, f[0]) {
		return l
	}
	abbrev := f[1]
	if out, err := git.Output("rev-parse", "--short", f[1]); err == nil {
		abbrev = string(bytes.TrimSpace(out))
	}
	l.Ours, l.Theirs = "HEAD", abbrev
	if len(f) > 2 {
		l.Theirs += " (" + strings.Join(f[2:], " ") + ")"
	}
	return l
}

// mergeFile is MergeFile, returning the number of conflicts.
func mergeFile(root, base, ours, theirs, name string, l Labels) (int, error) {
	name = filepath.ToSlash(name)
	var tableDir string
	switch {
	case path.Base(name) == serialize.LinesFile:
		tableDir = path.Dir(name)
	case path.Base(path.Dir(name)) == serialize.RowsDir && strings.HasSuffix(name, serialize.RowExt):
		tableDir = path.Dir(path.Dir(name))
	default:
		return textMerge(ours, base, theirs, l)
	}
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(tableDir), serialize.MetaFile))
	if err != nil || exportdir.HasConflictMarkers(data) {
		return textMerge(ours, base, theirs, l)
	}
	meta, err := serialize.UnmarshalMeta(data)
	if err != nil {
		return textMerge(ours, base, theirs, l)
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
			return textMerge(ours, base, theirs, l) // not a file of ours after all
		}
		defer closer()
		sources[i] = src
	}
	plan, err := merge.Table(meta, sources[0], sources[1], sources[2], merge.Options{})
	if err != nil {
		return 0, err
	}
	if path.Base(name) == serialize.LinesFile {
		return len(plan.Conflicts), writeMergedLines(meta, name, ours, plan, l)
	}
	return len(plan.Conflicts), writeMergedRow(meta, ours, plan, l)
}

// writeMergedRow writes the merge of one row file.
func writeMergedRow(meta *serialize.Table, ours string, plan *merge.TablePlan, l Labels) error {
	data, err := os.ReadFile(ours)
	if err != nil {
		return err
	}
	ops, err := plan.Ops.Collect()
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
		out = rowMarkers(l, a, b)
	case len(ops) > 0 && ops[0].After != nil:
		if out, err = meta.AppendPretty(nil, ops[0].After); err != nil {
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
func markers(l Labels, ours, theirs []byte) []byte {
	size := l.Size
	if size <= 0 {
		size = 7
	}
	var b bytes.Buffer
	b.WriteString(strings.Repeat("<", size) + " " + l.Ours + "\n")
	b.Write(ours)
	b.WriteString(strings.Repeat("=", size) + "\n")
	b.Write(theirs)
	b.WriteString(strings.Repeat(">", size) + " " + l.Theirs + "\n")
	return b.Bytes()
}

// rowMarkers wraps the two versions of a pretty-printed row in conflict
// markers around only the columns whose lines differ, as git's own
// line-level conflicts do; a row that one side deleted, or versions whose
// columns do not line up, are wrapped whole.
func rowMarkers(l Labels, ours, theirs []byte) []byte {
	a, b := columnChunks(ours), columnChunks(theirs)
	if a == nil || b == nil || len(a) != len(b) {
		return markers(l, ours, theirs)
	}
	var out, x, y []byte
	flush := func() {
		if x != nil || y != nil {
			out = append(out, markers(l, x, y)...)
			x, y = nil, nil
		}
	}
	for i := range a {
		if bytes.Equal(a[i], b[i]) {
			flush()
			out = append(out, a[i]...)
			continue
		}
		x, y = append(x, a[i]...), append(y, b[i]...)
	}
	flush()
	return out
}

// columnChunks splits a pretty-printed row into its opening line, the
// lines of each column (a column's line starts with two spaces and its
// quoted name; a JSON value's further lines are indented deeper) and its
// closing line. nil: not a pretty-printed row.
func columnChunks(row []byte) [][]byte {
	if !bytes.HasPrefix(row, []byte("{\n")) || !bytes.HasSuffix(row, []byte("\n}\n")) {
		return nil
	}
	var chunks [][]byte
	for len(row) > 0 {
		i := bytes.IndexByte(row, '\n') + 1
		line := row[:i]
		row = row[i:]
		if len(chunks) > 1 && !bytes.HasPrefix(line, []byte(`  "`)) && !bytes.Equal(line, []byte("}\n")) {
			chunks[len(chunks)-1] = append(chunks[len(chunks)-1], line...)
			continue
		}
		chunks = append(chunks, slices.Clip(line))
	}
	return chunks
}

// writeMergedLines streams ours again, applying the merge's ops and
// writing each conflict between markers, in key order.
func writeMergedLines(meta *serialize.Table, name, ours string, plan *merge.TablePlan, l Labels) error {
	type event struct {
		key      serialize.Row
		op       *merge.Op
		conflict *merge.Conflict
	}
	ops, err := plan.Ops.Collect()
	if err != nil {
		return err
	}
	var events []event
	for i := range ops {
		events = append(events, event{key: ops[i].Row(), op: &ops[i]})
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
			w.Write(markers(l, line(resolvedRow(c.Ours, c.IfOurs)), line(resolvedRow(c.Ours, c.IfTheirs))))
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
func textMerge(ours, base, theirs string, l Labels) (int, error) {
	args := []string{"merge-file", "-L", l.Ours, "-L", "base", "-L", l.Theirs}
	if l.Size > 0 {
		args = append(args, "--marker-size="+strconv.Itoa(l.Size))
	}
	err := repo.Git{}.Run(append(args, ours, base, theirs)...)
	var ge *repo.GitError
	if errors.As(err, &ge) && ge.ExitCode > 0 {
		return ge.ExitCode, nil // the number of conflicts
	}
	return 0, err
}
