package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Human-readable plans, diffs and statuses. Scripts use --json instead.

// keyText names a row by its key: site_name, or 3, 1 for a composite key.
func keyText(meta *serialize.Table, r serialize.Row) string {
	return strings.Join(meta.KeyText(r), ", ")
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

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// renderPlan prints a plan under a title such as "plan: apply" or
// "applied".
func renderPlan(w io.Writer, p *gitdb.Plan, title string) {
	base := "nothing applied yet: the revision wins where rows differ"
	switch {
	case p.Rollback:
		base = fmt.Sprintf("undoing ledger #%d of %s", p.Base.Seq, p.Base.At.Format(time.RFC3339))
	case p.Base != nil:
		base = fmt.Sprintf("base %s (%s)", p.Base.Revision, shortCommit(p.Base.Commit))
	}
	fmt.Fprintf(w, "%s %s (%s) on %q; %s\n", title, p.Rev.Name, shortCommit(p.Rev.Commit), p.Env, base)
	var ins, upd, del, conf, untracked int
	for _, t := range p.Tables {
		if len(t.Ops) == 0 && len(t.Conflicts) == 0 && len(t.Untracked) == 0 {
			continue
		}
		meta := t.Meta
		fmt.Fprintf(w, "\n%s: %d insert, %d update, %d delete", meta.Name, t.Count(merge.Insert), t.Count(merge.Update), t.Count(merge.Delete))
		if len(t.Conflicts) > 0 {
			fmt.Fprintf(w, ", %d conflict (%d unresolved)", len(t.Conflicts), t.Unresolved())
		}
		fmt.Fprintln(w)
		for i := range t.Ops {
			renderOp(w, meta, &t.Ops[i])
		}
		for i := range t.Conflicts {
			renderConflict(w, meta, &t.Conflicts[i])
		}
		if len(t.Untracked) > 0 {
			var keys []string
			for _, r := range t.Untracked {
				keys = append(keys, keyText(meta, r))
			}
			fmt.Fprintf(w, "  ? untracked (only in the target; kept unless --prune): %s\n", strings.Join(keys, "; "))
		}
		ins, upd, del = ins+t.Count(merge.Insert), upd+t.Count(merge.Update), del+t.Count(merge.Delete)
		conf, untracked = conf+t.Unresolved(), untracked+len(t.Untracked)
	}
	fmt.Fprintf(w, "\n%s, %s, %s", plural(ins, "insert"), plural(upd, "update"), plural(del, "delete"))
	if conf > 0 {
		fmt.Fprintf(w, "; %s", plural(conf, "unresolved conflict"))
	}
	if untracked > 0 {
		fmt.Fprintf(w, "; %s", plural(untracked, "untracked row"))
	}
	fmt.Fprintln(w)
}

// plural writes a count and a noun: 1 insert, 2 inserts.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func renderOp(w io.Writer, meta *serialize.Table, op *merge.Op) {
	switch op.Kind {
	case merge.Insert:
		fmt.Fprintf(w, "  + %s\n", keyText(meta, op.After))
	case merge.Delete:
		fmt.Fprintf(w, "  - %s\n", keyText(meta, op.Before))
	case merge.Update:
		fmt.Fprintf(w, "  ~ %s\n", keyText(meta, op.After))
		for _, i := range op.Changed() {
			name := meta.Columns[i].Name
			if changes := jsonChanges(meta.Columns[i], op.Before[i], op.After[i]); changes != nil {
				for _, c := range changes {
					if c.Before == nil && c.After == nil { // the summing-up line
						fmt.Fprintf(w, "      %s %s\n", name, c.Path)
						continue
					}
					fmt.Fprintf(w, "      %s %s: %s → %s\n", name, c.Path, short(c.Before), short(c.After))
				}
				continue
			}
			fmt.Fprintf(w, "      %s: %s → %s\n", name, short(op.Before[i]), short(op.After[i]))
		}
	}
}

// maxPathChanges is how many changes inside one JSON value a plan or diff
// lists before it sums up the rest.
const maxPathChanges = 12

// jsonChanges lists the changes inside a JSON cell path by path, or nil to
// show the cell whole.
func jsonChanges(c serialize.Column, before, after []byte) []merge.PathChange {
	if c.Type != serialize.JSON {
		return nil
	}
	changes := merge.JSONChanges(before, after)
	if len(changes) > maxPathChanges {
		rest := len(changes) - maxPathChanges + 1
		changes = append(changes[:maxPathChanges-1], merge.PathChange{Path: fmt.Sprintf("(and %d more paths)", rest)})
	}
	return changes
}

func renderConflict(w io.Writer, meta *serialize.Table, c *merge.Conflict) {
	row := c.Ours
	for _, r := range []serialize.Row{c.Theirs, c.Base} {
		if row == nil {
			row = r
		}
	}
	what := map[merge.ConflictKind]string{
		merge.BothChanged:    "changed on both sides",
		merge.BothAdded:      "added on both sides with different values",
		merge.DeletedChanged: "deleted by the revision, changed on the target",
		merge.ChangedDeleted: "changed by the revision, deleted on the target",
	}[c.Kind]
	res := "CONFLICT"
	if c.Resolution != merge.Unresolved {
		res = "conflict resolved by " + string(c.Resolution)
	}
	fmt.Fprintf(w, "  ! %s: %s (%s)\n", keyText(meta, row), res, what)
	for _, cell := range c.Cells {
		name := cell.Column
		if cell.Path != "" && cell.Path != "$" {
			name += " " + cell.Path
		}
		fmt.Fprintf(w, "      %s: base %s, target %s, revision %s\n", name, short(cell.Base), short(cell.Ours), short(cell.Theirs))
	}
}

func renderDiff(w io.Writer, d *gitdb.DiffResult) {
	fmt.Fprintf(w, "--- %s\n+++ %s\n", d.From, d.To)
	for _, t := range d.Tables {
		a, c, r := t.Count()
		fmt.Fprintf(w, "\n%s: %d added, %d changed, %d removed\n", t.Meta.Name, a, c, r)
		for _, ch := range t.Changes {
			switch {
			case ch.From == nil:
				fmt.Fprintf(w, "  + %s\n", keyText(t.Meta, ch.To))
			case ch.To == nil:
				fmt.Fprintf(w, "  - %s\n", keyText(t.Meta, ch.From))
			default:
				op := merge.Op{Kind: merge.Update, Before: ch.From, After: ch.To}
				renderOp(w, t.Meta, &op)
			}
		}
	}
	if len(d.Tables) == 0 {
		fmt.Fprintln(w, "no differences")
	}
}

func renderStatus(w io.Writer, st *gitdb.Status) {
	fmt.Fprintf(w, "environment %q\n", st.Env)
	if st.Identity == nil {
		fmt.Fprintln(w, "  identity:  none yet (written by the first apply)")
	} else {
		fmt.Fprintf(w, "  identity:  %s, environment %q since %s\n", st.Identity.ID, st.Identity.Env, st.Identity.Created.Format(time.RFC3339))
	}
	if st.Current == nil {
		fmt.Fprintln(w, "  at:        no revision applied yet")
	} else {
		c := st.Current
		fmt.Fprintf(w, "  at:        %s (%s), %s %s by %s@%s\n", c.Revision, shortCommit(c.Commit), c.Kind, c.At.Format(time.RFC3339), c.Owner.User, c.Owner.Host)
	}
	if len(st.Drift) == 0 && st.Current != nil {
		fmt.Fprintln(w, "  drift:     none: the config rows are as applied")
	}
	for _, d := range st.Drift {
		a, c, r := d.Count()
		fmt.Fprintf(w, "  drift:     %s: %d added, %d changed, %d removed on the target since %s\n", d.Meta.Name, a, c, r, st.Current.Revision)
	}
	if len(st.Pending) == 0 {
		fmt.Fprintln(w, "  pending:   no newer tags")
	} else {
		var names []string
		for _, t := range st.Pending {
			names = append(names, t.Name)
		}
		fmt.Fprintf(w, "  pending:   %s\n", strings.Join(names, ", "))
	}
	for _, lf := range st.Crashed {
		fmt.Fprintf(w, "  crashed:   the %s of %s by %s did not finish (lock file state %q); the next apply or rollback settles it against the ledger\n",
			map[bool]string{true: "rollback", false: "apply"}[lf.Rollback != nil && lf.State == "rolling-back"], lf.Revision, lf.Apply.Owner, lf.State)
	}
	if len(st.History) > 0 {
		fmt.Fprintln(w, "\nhistory:")
	}
	for _, e := range st.History {
		var n lockCounts
		for _, c := range e.Summary {
			n.add(c.Inserted, c.Updated, c.Deleted)
		}
		note := ""
		if e.UndoneBy != 0 {
			note = fmt.Sprintf(" (rolled back by #%d)", e.UndoneBy)
		}
		if e.Kind == gitdb.KindRollback {
			note = fmt.Sprintf(" (undoes #%d)", e.Undoes)
		}
		fmt.Fprintf(w, "  #%d %s %-8s %s (%s): %d inserted, %d updated, %d deleted, by %s@%s%s\n", e.Seq, e.At.Format(time.RFC3339), e.Kind,
			e.Revision, shortCommit(e.Commit), n.ins, n.upd, n.del, e.Owner.User, e.Owner.Host, note)
	}
}

type lockCounts struct{ ins, upd, del int }

func (c *lockCounts) add(i, u, d int) { c.ins, c.upd, c.del = c.ins+i, c.upd+u, c.del+d }

// writeJSON prints a report as indented JSON.
func writeJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}
