package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fatih/color"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/tidwall/gjson"

	"github.com/gitdbsync/git-dbsync/gitdb"
	"github.com/gitdbsync/git-dbsync/internal/review"
)

// Everything the commands print: errors and warnings in git's voice, and
// plans, diffs, statuses and exports for people, drawn from the same
// reports that --json prints.

// printError writes an error in git's voice: "error: …", and any "hint: …"
// lines the message carries after it.
func printError(w io.Writer, err error) {
	for i, line := range strings.Split(err.Error(), "\n") {
		if i == 0 || !strings.HasPrefix(line, "hint: ") && !strings.HasPrefix(line, "usage: ") {
			line = "error: " + line
		}
		fmt.Fprintln(w, line)
	}
}

// quietOut is stdout under -q: nothing, unless the command was asked for
// JSON (--json), which is data, not a message.
func quietOut(out io.Writer, cmd *cobra.Command) io.Writer {
	if f := cmd.Flags().Lookup("json"); f != nil && f.Value.String() == "true" {
		return out
	}
	if f := cmd.Flags().Lookup("format"); f != nil && f.Value.String() != "text" {
		return out
	}
	return io.Discard
}

// quietErr is stderr under -q: errors only, each with its hints and the
// indented lines that go on with it; warnings, notes and hints of their
// own go. A write that does not end a line is a question waiting for its
// answer, and shows whole.
func quietErr(w io.Writer) io.Writer {
	inError := false
	return writerFunc(func(p []byte) (int, error) {
		if !bytes.HasSuffix(p, []byte("\n")) {
			return w.Write(p)
		}
		var keep []byte
		for _, line := range bytes.SplitAfter(p, []byte("\n")) {
			switch {
			case bytes.HasPrefix(line, []byte("error: ")), bytes.HasPrefix(line, []byte("fatal: ")):
				inError = true
			case inError && (bytes.HasPrefix(line, []byte("hint: ")) || bytes.HasPrefix(line, []byte(" ")) || bytes.HasPrefix(line, []byte("\t"))):
			default:
				inError = false
				continue
			}
			keep = append(keep, line...)
		}
		if _, err := w.Write(keep); err != nil {
			return 0, err
		}
		return len(p), nil
	})
}

// warn writes a warning in git's voice.
func warn(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "warning: "+format+"\n", args...)
}

// describeTable says what an export did to a table's files.
func describeTable(t gitdb.TableExport) string {
	if t.Dropped {
		return fmt.Sprintf("no longer exported: files removed (%s)", plural(t.Removed, "row"))
	}
	var parts []string
	if t.New {
		parts = append(parts, "new table")
	}
	if t.LayoutWas != "" {
		parts = append(parts, fmt.Sprintf("%s (layout %s → %s)", plural(t.Rows, "row"), t.LayoutWas, t.Layout))
	} else {
		parts = append(parts, fmt.Sprintf("%s (%s)", plural(t.Rows, "row"), t.Layout))
	}
	if !t.Changes() {
		return strings.Join(parts, ", ") + ", unchanged"
	}
	parts = append(parts, fmt.Sprintf("%d added, %d changed, %d removed", t.Added, t.Changed, t.Removed))
	if t.MetaChanged && !t.New {
		parts = append(parts, "table.json changed")
	}
	return strings.Join(parts, ", ")
}

// short cuts a long value for one line of output.
func short(cell []byte) string {
	if cell == nil {
		return "(absent)"
	}
	s := string(cell)
	if len(s) > 60 {
		s = s[:57] + "…"
	}
	return s
}

// cell returns a column's value in a row of a report, nil when absent.
func cell(row []byte, column string) []byte {
	if v := gjson.GetBytes(row, gjson.Escape(column)); v.Exists() {
		return []byte(v.Raw)
	}
	return nil
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// plan prints a plan under a title such as "plan: apply" or "applied":
// its base, scope changes, then per table the counts and (at normal
// detail, up to rowsShown a table) the rows, and the totals.
func (v view) plan(w io.Writer, p *gitdb.Plan, title string) {
	if v.detail == quiet {
		return
	}
	base := "nothing applied yet: the revision wins where rows differ"
	switch {
	case p.Rollback:
		base = fmt.Sprintf("undoing ledger #%d of %s", p.Base.Seq, p.Base.At.Format(time.RFC3339))
	case p.Base != nil:
		base = fmt.Sprintf("base %s (%s)", p.Base.Revision, shortCommit(p.Base.Commit))
	}
	fmt.Fprintf(w, "%s %s (%s) on %q; %s\n", title, p.Rev.Name, shortCommit(p.Rev.Commit), p.Env, base)
	for _, e := range p.Then {
		fmt.Fprintf(w, "then, in the same transaction: undoing ledger #%d, the apply of %s (%s)\n", e.Seq, e.Revision, shortCommit(e.Commit))
	}
	for _, c := range p.ScopeChanges {
		fmt.Fprintf(w, "%s %s (apply needs --allow-scope-change)\n", v.paint(color.Bold, "scope change:"), c)
	}
	for _, r := range p.IDRenames {
		fmt.Fprintf(w, "%s %s\n", v.paint(color.Bold, "warning:"), r)
	}
	var ins, upd, del, conf, untracked int
	shown := rowsShown // a plan of a million rows is not read back whole to show ten
	if v.detail == verbose {
		shown = -1
	}
	saved, err := p.SaveFirst(shown)
	if err != nil {
		fmt.Fprintf(w, "%s %v\n", v.paint(color.Bold, "error:"), err)
		return
	}
	for _, t := range saved.Tables {
		counts := t.Counts
		if counts["insert"]+counts["update"]+counts["delete"]+counts["untracked"] == 0 && len(t.Conflicts) == 0 {
			continue
		}
		unresolved := 0
		for _, c := range t.Conflicts {
			if c.Resolution == "" {
				unresolved++
			}
		}
		fmt.Fprintf(w, "\n%s: %s, %s, %s", t.Table, plural(counts["insert"], "insert"), plural(counts["update"], "update"), plural(counts["delete"], "delete"))
		if len(t.Conflicts) > 0 {
			fmt.Fprintf(w, ", %s (%d unresolved)", plural(len(t.Conflicts), "conflict"), unresolved)
		}
		fmt.Fprintln(w)
		if v.detail >= normal {
			for i := range t.Ops {
				v.op(w, &t.Ops[i])
			}
			if more := counts["insert"] + counts["update"] + counts["delete"] - len(t.Ops); more > 0 {
				fmt.Fprintf(w, "  … and %s (-v lists every row)\n", plural(more, "more row"))
			}
			for i := range t.Conflicts { // every conflict: each needs a decision
				v.conflict(w, &t.Conflicts[i])
			}
			if len(t.Untracked) > 0 {
				keys := t.UntrackedText
				if more := counts["untracked"] - len(keys); more > 0 {
					keys = append(keys[:len(keys):len(keys)], fmt.Sprintf("… and %d more", more))
				}
				fmt.Fprintf(w, "  ? untracked (only in the target; kept unless --prune): %s\n", strings.Join(keys, "; "))
			}
		}
		ins, upd, del = ins+counts["insert"], upd+counts["update"], del+counts["delete"]
		conf, untracked = conf+unresolved, untracked+counts["untracked"]
	}
	fmt.Fprintf(w, "\n%s, %s, %s", plural(ins, "insert"), plural(upd, "update"), plural(del, "delete"))
	if conf > 0 {
		fmt.Fprintf(w, "; %s", v.paint(color.Bold, plural(conf, "unresolved conflict")))
	}
	if untracked > 0 {
		fmt.Fprintf(w, "; %s", plural(untracked, "untracked row"))
	}
	fmt.Fprintln(w)
}

func (v view) op(w io.Writer, op *gitdb.SavedOp) {
	switch op.Op {
	case "insert":
		fmt.Fprintf(w, "  %s\n", v.paint(color.FgGreen, "+ "+op.KeyText))
		v.values(w, op.After, color.FgGreen)
	case "delete":
		fmt.Fprintf(w, "  %s\n", v.paint(color.FgRed, "- "+op.KeyText))
		v.values(w, op.Before, color.FgRed)
	case "update":
		fmt.Fprintf(w, "  %s\n", v.paint(color.FgYellow, "~ "+op.KeyText))
		v.cells(w, op.Changed, op.Paths, op.Before, op.After)
	}
}

// values prints, with -v, the cells of a row inserted or deleted.
func (v view) values(w io.Writer, row []byte, paint color.Attribute) {
	if v.detail < verbose {
		return
	}
	gjson.ParseBytes(row).ForEach(func(name, value gjson.Result) bool {
		fmt.Fprintf(w, "      %s: %s\n", name.Str, v.paint(paint, short([]byte(value.Raw))))
		return true
	})
}

// maxPathChanges is how many changes inside one JSON value a plan or diff
// lists before it sums up the rest.
const maxPathChanges = 12

// cells prints the changed cells of a row, a JSON value's changes path
// by path: the old value red, the new one green.
func (v view) cells(w io.Writer, changed []string, paths []gitdb.PathChangeReport, before, after []byte) {
	change := func(name string, old, now []byte) {
		fmt.Fprintf(w, "      %s: %s → %s\n", name, v.paint(color.FgRed, short(old)), v.paint(color.FgGreen, short(now)))
	}
	for _, name := range changed {
		var mine []gitdb.PathChangeReport
		for _, p := range paths {
			if p.Column == name {
				mine = append(mine, p)
			}
		}
		if len(mine) == 0 {
			change(name, cell(before, name), cell(after, name))
			continue
		}
		for i, c := range mine {
			if i == maxPathChanges-1 && len(mine) > maxPathChanges && v.detail < verbose {
				fmt.Fprintf(w, "      %s (and %d more paths)\n", name, len(mine)-i)
				break
			}
			if len(c.Added)+len(c.Removed) > 0 {
				v.setChange(w, name, c)
				continue
			}
			change(name+" "+c.Path, c.Before, c.After)
		}
	}
}

// setChange prints the change of a set (a .dbsync set path) by members,
// as a set has no positions: "permissions: + "moderate", − "delete_pages"".
func (v view) setChange(w io.Writer, column string, c gitdb.PathChangeReport) {
	name := column
	if c.Path != "$" {
		name += " " + c.Path
	}
	var parts []string
	for _, m := range c.Added {
		parts = append(parts, v.paint(color.FgGreen, "+ "+short(m)))
	}
	for _, m := range c.Removed {
		parts = append(parts, v.paint(color.FgRed, "− "+short(m)))
	}
	fmt.Fprintf(w, "      %s: %s\n", name, strings.Join(parts, ", "))
}

func (v view) conflict(w io.Writer, c *gitdb.SavedConflict) {
	what := map[string]string{
		"both-changed":    "changed on both sides",
		"both-added":      "added on both sides with different values",
		"deleted-changed": "deleted by the revision, changed on the target",
		"changed-deleted": "changed by the revision, deleted on the target",
		"blocked-delete":  "deleted by the revision, still referred to on the target",
	}[c.Kind]
	res := "CONFLICT"
	if c.Resolution != "" {
		res = "conflict resolved by " + c.Resolution
	}
	fmt.Fprintf(w, "  %s (%s)\n", v.paint(color.Bold, "! "+c.KeyText+": "+res), what)
	for _, cell := range c.Cells {
		name := cell.Column
		if cell.Path != "" && cell.Path != "$" {
			name += " " + cell.Path
		}
		fmt.Fprintf(w, "      %s: base %s, target %s, revision %s\n", name, short(cell.Base), short(cell.Ours), short(cell.Theirs))
	}
	for _, by := range c.ReferredBy {
		fmt.Fprintf(w, "      referred to by %s\n", by)
	}
}

func (v view) diff(w io.Writer, d *gitdb.DiffResult) {
	if v.detail == quiet {
		return
	}
	r := d.Report()
	fmt.Fprintf(w, "--- %s\n+++ %s\n", r.From, r.To)
	for _, t := range r.Tables {
		counts := map[string]int{}
		for _, ch := range t.Changes {
			counts[ch.Change]++
		}
		fmt.Fprintf(w, "\n%s: %d added, %d changed, %d removed\n", t.Table, counts["added"], counts["changed"], counts["removed"])
		if v.detail < normal {
			continue
		}
		for i, ch := range t.Changes {
			if i == rowsShown && v.detail < verbose {
				fmt.Fprintf(w, "  … and %s (-v lists every row)\n", plural(len(t.Changes)-i, "more row"))
				break
			}
			switch ch.Change {
			case "added":
				fmt.Fprintf(w, "  %s\n", v.paint(color.FgGreen, "+ "+ch.KeyText))
			case "removed":
				fmt.Fprintf(w, "  %s\n", v.paint(color.FgRed, "- "+ch.KeyText))
			default:
				fmt.Fprintf(w, "  %s\n", v.paint(color.FgYellow, "~ "+ch.KeyText))
				v.cells(w, ch.Changed, ch.Paths, ch.Before, ch.After)
			}
		}
	}
	if len(r.Tables) == 0 {
		fmt.Fprintln(w, "no differences")
	}
}

// envFlag repeats an --env given, for a command a hint suggests.
func envFlag(env string) string {
	if env == "" {
		return ""
	}
	return " --env " + env
}

// plural writes a count and a noun: 1 insert, 2 inserts.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// renderDeployStatus says where an environment that deploys stands: the
// revision applied, drift since, newer tags.
func renderDeployStatus(w io.Writer, st *gitdb.Status, r *gitdb.StatusReport) {
	if st.Current == nil {
		fmt.Fprintln(w, "  at:        no revision applied yet")
	} else {
		c := st.Current
		fmt.Fprintf(w, "  at:        %s (%s), %s %s by %s@%s\n", c.Revision, shortCommit(c.Commit), c.Kind, c.At.Format(time.RFC3339), c.Owner.User, c.Owner.Host)
	}
	if len(r.Drift) == 0 && st.Current != nil {
		fmt.Fprintln(w, "  drift:     none: the config rows are as applied")
	}
	for _, d := range r.Drift {
		fmt.Fprintf(w, "  drift:     %s: %d added, %d changed, %d removed on the target since %s%s\n", d.Table, d.Added, d.Changed, d.Removed, st.Current.Revision, d.KeptNote())
	}
	if len(st.Pending) == 0 {
		fmt.Fprintln(w, "  pending:   no newer tags")
	} else {
		var names []string
		for _, t := range st.Pending {
			names = append(names, t.Name)
		}
		fmt.Fprintf(w, "  pending:   %s behind: %s (apply the newest to go forward across them at once)\n", plural(len(names), "release"), strings.Join(names, ", "))
	}
}

// renderDevStatus says where the development database stands against
// HEAD, and what brings it in step.
func renderDevStatus(w io.Writer, st *gitdb.Status, d *gitdb.DevReport) {
	files := "HEAD's files"
	switch {
	case d.Head == "":
		fmt.Fprintln(w, "  synced:    no commit yet")
	case d.InStep:
		fmt.Fprintf(w, "  synced:    in step with HEAD (%s)\n", shortCommit(d.Head))
	case st.Dev.WorkTree:
		files = "the working tree's files"
		fmt.Fprintf(w, "  synced:    in step with the working tree: HEAD (%s) and its exported files' changes not committed\n", shortCommit(d.Head))
	case st.Dev.WorkTreeOf != "":
		fmt.Fprintf(w, "  synced:    with the working tree of %s as it was, whose files changed since without the database following\n  hint: run 'git dbsync sync --env %s' (the next commit runs it first)\n",
			shortCommit(st.Dev.WorkTreeOf), st.Env)
	case st.Current == nil:
		fmt.Fprintf(w, "  synced:    never: HEAD is %s\n  hint: run 'git dbsync sync --env %s' (the hooks do it after every checkout, merge and commit)\n", shortCommit(d.Head), st.Env)
	default:
		fmt.Fprintf(w, "  synced:    with %s, but HEAD moved to %s since without the database following\n  hint: run 'git dbsync sync --env %s' to bring it in step\n",
			shortCommit(st.Current.Commit), shortCommit(d.Head), st.Env)
	}
	if st.Dev.Concluding != "" {
		fmt.Fprintf(w, "  concluding: a %s is in progress: the database follows once its commit exists (what it merged cleanly is not in the database yet)\n", st.Dev.Concluding)
	}
	if len(d.Unexported) == 0 && d.Head != "" {
		fmt.Fprintf(w, "  unexported: none: the database matches %s\n", files)
	}
	for _, t := range d.Unexported {
		if d.InStep || st.Dev.WorkTree {
			fmt.Fprintf(w, "  unexported: %s: %d added, %d changed, %d removed in the database against %s (the next commit exports them)\n", t.Table, t.Added, t.Changed, t.Removed, files)
			continue
		}
		// Not in step, the difference is partly the files' changes the
		// database has not had: the sync merges those in first, and the
		// next commit exports only what the database itself changed.
		fmt.Fprintf(w, "  differs:   %s: %d added, %d changed, %d removed in the database against HEAD's files; not what the next commit exports: 'git dbsync sync' (which the next commit runs first) merges HEAD's rows in\n", t.Table, t.Added, t.Changed, t.Removed)
	}
}

func (v view) status(w io.Writer, st *gitdb.Status) {
	if v.detail == quiet {
		return
	}
	fmt.Fprintf(w, "environment %q\n", st.Env)
	if st.Identity == nil {
		fmt.Fprintln(w, "  identity:  none yet (written by the first apply)")
	} else {
		fmt.Fprintf(w, "  identity:  %s, environment %q since %s\n", st.Identity.ID, st.Identity.Env, st.Identity.Created.Format(time.RFC3339))
	}
	r := st.Report()
	if r.Dev != nil {
		renderDevStatus(w, st, r.Dev)
	} else {
		renderDeployStatus(w, st, r)
	}
	if h := st.Running; h != nil {
		fmt.Fprintf(w, "  running:   %s of %s by %s since %s: its steps, transaction or checks are under way (the environment is locked)\n",
			h.Op, h.Revision, h.Owner, h.Since.Format(time.RFC3339))
	}
	if st.Unchecked {
		fmt.Fprintf(w, "  unchecked: the checks of %s never passed: its run stopped after its commit; 'git dbsync apply %s --env %s' runs them (and rolls back if one fails)\n",
			st.Current.Revision, st.Current.Revision, st.Env)
	}
	for _, lf := range st.Crashed {
		fmt.Fprintf(w, "  crashed:   the %s of %s by %s did not finish (lock file state %q); the next apply or rollback settles it against the ledger\n",
			map[bool]string{true: "rollback", false: "apply"}[lf.Rollback != nil && lf.State == "rolling-back"], lf.Revision, lf.Apply.Owner, lf.State)
	}
	for _, lf := range st.Lost {
		renderLost(w, st, lf)
	}
	if len(st.History) > 0 {
		fmt.Fprintln(w, "\nhistory:")
	}
	kinds := map[int64]string{}
	for _, e := range st.History {
		kinds[e.Seq] = e.Kind
	}
	history := st.History
	if v.detail < verbose && len(history) > historyShown+1 {
		// A development database records a sync at every commit.
		fmt.Fprintf(w, "  … %d earlier entries (-v lists every one)\n", len(history)-historyShown)
		history = history[len(history)-historyShown:]
	}
	for _, e := range history {
		var n lockCounts
		for _, c := range e.Summary {
			n.add(c.Inserted, c.Updated, c.Deleted)
		}
		note := ""
		switch {
		case e.UndoneBy != 0 && kinds[e.UndoneBy] == gitdb.KindRestore:
			note = fmt.Sprintf(" (undone by the restore #%d)", e.UndoneBy)
		case e.UndoneBy != 0:
			note = fmt.Sprintf(" (rolled back by #%d)", e.UndoneBy)
		}
		switch e.Kind {
		case gitdb.KindRollback:
			note = fmt.Sprintf(" (undoes #%d)", e.Undoes)
		case gitdb.KindRestore:
			note = fmt.Sprintf(" (back to #%d)", e.Undoes)
		}
		if e.Note != "" {
			note += " [" + e.Note + "]"
		}
		what := e.Revision // a pull's: "from prod"
		if e.Commit != "" {
			what += " (" + shortCommit(e.Commit) + ")"
		}
		fmt.Fprintf(w, "  #%d %s %-8s %s: %d inserted, %d updated, %d deleted, by %s@%s%s\n", e.Seq, e.At.Format(time.RFC3339), e.Kind,
			what, n.ins, n.upd, n.del, e.Owner.User, e.Owner.Host, note)
		for _, st := range e.Steps {
			fmt.Fprintf(w, "      step %s\n", st)
			if !st.OK() && st.Tail != "" {
				for _, line := range strings.Split(st.Tail, "\n") {
					fmt.Fprintf(w, "        | %s\n", line)
				}
			}
		}
	}
}

// renderLost warns of a change this clone recorded that the target's
// ledger does not hold, and says what to do.
func renderLost(w io.Writer, st *gitdb.Status, lf *gitdb.LockFile) {
	what, rec := "apply", &lf.Apply
	if lf.State == "rolled-back" && lf.Rollback != nil {
		what, rec = "rollback", lf.Rollback
	}
	when := rec.Started
	if rec.Finished != nil {
		when = *rec.Finished
	}
	at := "no revision"
	if st.Current != nil {
		at = st.Current.Revision
	}
	fmt.Fprintf(w, "  LOST:      the %s of %s (ledger #%d, %s, by %s) is in this clone's lock file but not in the target's ledger:\n", what, lf.Revision, rec.Ledger, when.Format(time.RFC3339), rec.Owner)
	fmt.Fprintf(w, "             the database lost that commit (an asynchronous failover to a standby that had not received it, or an older copy restored), or --env %s now points at another database; it is at %s\n", st.Env, at)
	if what == "apply" {
		fmt.Fprintf(w, "  hint: check the database, then 'git dbsync plan %s --env %s' and apply it again\n", lf.Revision, st.Env)
	} else {
		fmt.Fprintf(w, "  hint: check the database, then 'git dbsync rollback --env %s' again\n", st.Env)
	}
}

type lockCounts struct{ ins, upd, del int }

func (c *lockCounts) add(i, u, d int) { c.ins, c.upd, c.del = c.ins+i, c.upd+u, c.del+d }

// The renderings of plan, diff and status: for people on a terminal,
// JSON for scripts, Markdown for a merge-request comment or a CI job
// summary (internal/review), all three from the same report.
const (
	formatText     = "text"
	formatJSON     = "json"
	formatMarkdown = "markdown"
)

// formatFlag adds --format to a command that has --json.
func formatFlag(f *pflag.FlagSet, p *string) {
	f.StringVar(p, "format", formatText, "print as `FORMAT`: text, json or markdown (a merge-request comment, a CI job summary)")
}

// outputFormat is the rendering --format and --json ask for.
func outputFormat(format string, json bool) (string, error) {
	switch {
	case format != formatText && format != formatJSON && format != formatMarkdown:
		return "", usageErrorf("--format takes text, json or markdown, not %q", format)
	case json && format == formatMarkdown:
		return "", usageErrorf("--json and --format markdown cannot be used together")
	case json:
		return formatJSON, nil
	}
	return format, nil
}

// markdownLimits bound a Markdown comment: every row under -v.
func (v view) markdownLimits() review.Limits {
	lim := review.MarkdownLimits
	if v.detail == verbose {
		lim.Rows, lim.Bytes = 0, 0
	}
	return lim
}

// writeJSON prints a report as indented JSON.
func writeJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}
