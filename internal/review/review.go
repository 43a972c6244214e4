// Package review turns the reports of plan, diff and status — the values
// their --json prints — into what a reviewer reads: conflicts and blocked
// deletes first, each with the command that resolves it, the rows and the
// paths inside JSON values old → new, sets as members added and removed,
// and long lists cut with a count of what was left out. Markdown renders
// it for a merge-request comment or a CI job summary; the web pages
// (internal/web) render the same model as HTML. Secrets are placeholders
// in the reports already, so nothing here can show one.
package review

import (
	"fmt"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

// Plan is a plan as a reviewer reads it.
type Plan struct {
	Env, Revision, Commit string
	Base                  string // "base v1 (1a2b3c4d5e6f)", or that nothing was applied yet
	Applied               bool   // the environment is at the revision already
	Summary               gitdb.PlanSummary
	Blocked               int     // blocked deletes among the conflicts
	Tables                []Count // the tables with something to do
	Total                 Count
	Conflicts             []Conflict // every table's, blocked deletes first
	Changes               []Rows     // per table, the rows written and the untracked ones
	Warnings              []string   // scope changes, id renames
	PlanCommand, Apply    string     // the commands that show it again and apply it
}

// Count is a table's line of a summary.
type Count struct {
	Table                                string
	Inserts, Updates, Deletes, Untracked int
	Conflicts, Unresolved                int
	Added, Changed, Removed, Unchanged   int // a diff's
}

// Conflict is a conflict with what resolves it.
type Conflict struct {
	Table, Key string
	Kind       string // as plan --json names it: both-changed, blocked-delete, …
	What       string // the kind in words
	Blocked    bool   // a blocked delete: only the target's side can be taken
	Resolution string // ours or theirs when resolved already, else ""
	Cells      []CellConflict
	ReferredBy []string
	// Keep and Take are the commands that resolve it to the target's or
	// the revision's side (Take is empty for a blocked delete).
	Keep, Take string
}

// CellConflict is a column (or a path inside a JSON value) with its
// three values; an absent value is "(absent)".
type CellConflict struct{ Name, Base, Ours, Theirs string }

// Rows are a table's changed rows, cut to the limit; More counts those
// left out.
type Rows struct {
	Table string
	Rows  []Row
	More  int
}

// Row is one row's change: insert, update, delete or untracked in a
// plan; added, changed or removed in a diff.
type Row struct {
	Change string
	Key    string
	Value  string // an inserted or added row's values, a deleted or removed one's
	Cells  []Cell // an update's changed cells and paths
}

// Sign is the mark a row's change gets: + inserted, - deleted, ~ changed,
// ? untracked.
func (r Row) Sign() string {
	switch r.Change {
	case "insert", "added":
		return "+"
	case "delete", "removed":
		return "-"
	case "untracked":
		return "?"
	}
	return "~"
}

// Cell is a changed column, or a path inside a JSON value, old → new; a
// set's change is its members added and removed.
type Cell struct {
	Name           string
	Old, New       string
	Set            bool
	Added, Removed []string
}

// Limits bound what a rendering lists.
type Limits struct {
	Rows  int // rows listed per table; 0 lists every row
	Bytes int // Markdown: rows past this length are left out; 0 for no bound
	Value int // characters of a value shown; 0 for every one
}

// Absent stands for a value one side does not have.
const Absent = "(absent)"

var conflictWords = map[string]string{
	"both-changed":    "changed on both sides",
	"both-added":      "added on both sides with different values",
	"deleted-changed": "deleted by the revision, changed on the target",
	"changed-deleted": "changed by the revision, deleted on the target",
	"blocked-delete":  "deleted by the revision, still referred to on the target",
}

// PlanOf builds the model of a plan from its JSON document (plan --json),
// the base's name aside.
func PlanOf(plan *gitdb.Plan, lim Limits) (*Plan, error) {
	first := -1 // a plan of a million rows is not read back whole to list some
	if lim.Rows > 0 {
		first = lim.Rows
	}
	sp, err := plan.SaveFirst(first)
	if err != nil {
		return nil, err
	}
	p := &Plan{Env: sp.Env, Revision: sp.Revision, Commit: sp.Commit, Applied: sp.Applied, Summary: sp.Summary,
		PlanCommand: Command("plan", sp.Revision, "--env", sp.Env), Apply: Command("apply", sp.Revision, "--env", sp.Env)}
	p.Base = "nothing applied yet: the revision wins where rows differ"
	if b := plan.Base; b != nil {
		p.Base = fmt.Sprintf("base %s (%s)", b.Revision, ShortCommit(b.Commit))
	}
	for _, c := range sp.ScopeChanges {
		p.Warnings = append(p.Warnings, "scope change: "+c+" (apply needs --allow-scope-change)")
	}
	p.Warnings = append(p.Warnings, sp.IDRenames...)
	var blocked, others []Conflict
	for _, t := range sp.Tables {
		n := Count{Table: t.Table, Conflicts: len(t.Conflicts), Untracked: t.Counts["untracked"],
			Inserts: t.Counts["insert"], Updates: t.Counts["update"], Deletes: t.Counts["delete"]}
		rows := Rows{Table: t.Table, More: n.Inserts + n.Updates + n.Deletes - len(t.Ops)}
		for i := range t.Ops {
			op := &t.Ops[i]
			rows.Rows = append(rows.Rows, Row{Change: op.Op, Key: op.KeyText, Value: rowValue(op.Before, op.After), Cells: cells(op.Changed, op.Paths, op.Before, op.After)})
		}
		for _, key := range t.UntrackedText {
			if lim.Rows > 0 && len(rows.Rows) >= lim.Rows {
				rows.More++
				continue
			}
			rows.Rows = append(rows.Rows, Row{Change: "untracked", Key: key})
		}
		for i := range t.Conflicts {
			c := conflictOf(sp, t.Table, &t.Conflicts[i])
			if c.Resolution == "" {
				n.Unresolved++
			}
			if c.Blocked {
				blocked = append(blocked, c)
			} else {
				others = append(others, c)
			}
		}
		if n.Inserts+n.Updates+n.Deletes+n.Conflicts+n.Untracked == 0 {
			continue
		}
		p.Tables = append(p.Tables, n)
		p.Total.add(n)
		if len(rows.Rows)+rows.More > 0 {
			p.Changes = append(p.Changes, rows)
		}
	}
	p.Total.Table = "total"
	p.Blocked = len(blocked)
	p.Conflicts = append(blocked, others...)
	return p, nil
}

func (c *Count) add(n Count) {
	c.Inserts, c.Updates, c.Deletes, c.Untracked = c.Inserts+n.Inserts, c.Updates+n.Updates, c.Deletes+n.Deletes, c.Untracked+n.Untracked
	c.Conflicts, c.Unresolved = c.Conflicts+n.Conflicts, c.Unresolved+n.Unresolved
	c.Added, c.Changed, c.Removed, c.Unchanged = c.Added+n.Added, c.Changed+n.Changed, c.Removed+n.Removed, c.Unchanged+n.Unchanged
}

func conflictOf(sp *gitdb.SavedPlan, table string, sc *gitdb.SavedConflict) Conflict {
	c := Conflict{Table: table, Key: sc.KeyText, Kind: sc.Kind, What: conflictWords[sc.Kind], Blocked: sc.Kind == "blocked-delete",
		Resolution: sc.Resolution, ReferredBy: sc.ReferredBy}
	for _, cell := range sc.Cells {
		name := cell.Column
		if cell.Path != "" && cell.Path != "$" {
			name += " " + cell.Path
		}
		c.Cells = append(c.Cells, CellConflict{Name: name, Base: value(cell.Base), Ours: value(cell.Ours), Theirs: value(cell.Theirs)})
	}
	if c.Resolution == "" {
		choice := table + ":" + sc.KeyArg
		c.Keep = Command("apply", sp.Revision, "--env", sp.Env, "--resolve", choice+"=ours")
		if !c.Blocked {
			c.Take = Command("apply", sp.Revision, "--env", sp.Env, "--resolve", choice+"=theirs")
		}
	}
	return c
}

// cells lists a changed row's cells, a JSON value's changes path by path.
func cells(changed []string, paths []gitdb.PathChangeReport, before, after []byte) []Cell {
	var out []Cell
	for _, name := range changed {
		found := false
		for _, p := range paths {
			if p.Column != name {
				continue
			}
			found = true
			c := Cell{Name: name, Old: value(p.Before), New: value(p.After)}
			if p.Path != "$" {
				c.Name += " " + p.Path
			}
			if len(p.Added)+len(p.Removed) > 0 {
				c.Set = true
				for _, m := range p.Added {
					c.Added = append(c.Added, string(m))
				}
				for _, m := range p.Removed {
					c.Removed = append(c.Removed, string(m))
				}
			}
			out = append(out, c)
		}
		if !found {
			out = append(out, Cell{Name: name, Old: cellOf(before, name), New: cellOf(after, name)})
		}
	}
	return out
}

// rowValue is the row a change adds or removes: "" for a change of a row
// that stays (its cells say what changes).
func rowValue(before, after []byte) string {
	switch {
	case before == nil:
		return string(after)
	case after == nil:
		return string(before)
	}
	return ""
}

// cellOf is a column's value in a row of a report.
func cellOf(row []byte, column string) string {
	if v := gjson.GetBytes(row, gjson.Escape(column)); v.Exists() {
		return v.Raw
	}
	return Absent
}

func value(v []byte) string {
	if v == nil {
		return Absent
	}
	return string(v)
}

// Diff is a diff as a reviewer reads it.
type Diff struct {
	From, To string
	Summary  gitdb.DiffSummary
	Tables   []Count
	Total    Count
	Changes  []Rows
	Command  string // the command that shows it again
}

// DiffOf builds the model of a diff report; command is the diff's command
// line, for the reader to run.
func DiffOf(r *gitdb.DiffReport, command string, lim Limits) *Diff {
	d := &Diff{From: r.From, To: r.To, Summary: r.Summary, Command: command, Total: Count{Table: "total"}}
	for _, t := range r.Tables {
		n := Count{Table: t.Table, Unchanged: t.Unchanged}
		rows := Rows{Table: t.Table}
		for _, ch := range t.Changes {
			switch ch.Change {
			case "added":
				n.Added++
			case "removed":
				n.Removed++
			default:
				n.Changed++
			}
			if lim.Rows > 0 && len(rows.Rows) >= lim.Rows {
				rows.More++
				continue
			}
			row := Row{Change: ch.Change, Key: ch.KeyText}
			if ch.Change == "changed" {
				row.Cells = cells(ch.Changed, ch.Paths, ch.Before, ch.After)
			} else {
				row.Value = rowValue(ch.Before, ch.After)
			}
			rows.Rows = append(rows.Rows, row)
		}
		d.Tables = append(d.Tables, n)
		d.Total.add(n)
		d.Changes = append(d.Changes, rows)
	}
	return d
}

// Env is where an environment stands, from its status report.
type Env struct {
	Name string
	Err  string // it cannot be read: why
	// At is the revision the environment is at ("" before the first
	// apply, or once every apply was rolled back), Commit its commit;
	// Kind, When and By tell the last change, which may be a rollback or
	// a restore that took it there.
	At, Commit, Kind string
	When             time.Time
	By               string
	Drift            []gitdb.DriftReport
	Pending          []string
	Unchecked        bool     // the checks of the apply it is at never passed
	Crashed          []string // runs that did not finish
	Running          string   // the run holding its lock now
	Dev              *gitdb.DevReport
	History          []Entry // newest first
}

// Entry is one change of an environment's ledger.
type Entry struct {
	Seq                        int64
	Kind, Revision, Commit     string
	At                         time.Time
	By                         string
	Inserted, Updated, Deleted int
	Note                       string // undone by, undoes, back to, the entry's own note
	Undone                     bool
	Steps                      []Step
}

// Step is a deploy step of an entry, with the end of its output.
type Step struct {
	Phase, Command, Status string
	Exit                   int
	OK                     bool
	Tail                   string
}

// EnvOf builds the model of an environment's status report.
func EnvOf(r *gitdb.StatusReport) *Env {
	e := &Env{Name: r.Env, Drift: r.Drift, Unchecked: r.Unchecked, Dev: r.Dev}
	if c := r.Current; c != nil {
		e.At, e.Commit = c.Revision, c.Commit
	}
	if n := len(r.History); n > 0 { // oldest first
		last := r.History[n-1]
		e.Kind, e.When, e.By = last.Kind, last.At, last.Owner.User+"@"+last.Owner.Host
	}
	for _, t := range r.Pending {
		e.Pending = append(e.Pending, t.Name)
	}
	for _, f := range r.Crashed {
		e.Crashed = append(e.Crashed, fmt.Sprintf("%s of %s by %s@%s did not finish (lock file state %q)", map[bool]string{true: "rollback", false: "apply"}[f.State == "rolling-back"],
			f.Revision, f.Apply.Owner.User, f.Apply.Owner.Host, f.State))
	}
	if h := r.Running; h != nil {
		e.Running = fmt.Sprintf("%s of %s by %s@%s since %s", h.Op, h.Revision, h.Owner.User, h.Owner.Host, h.Since.UTC().Format(time.RFC3339))
	}
	kinds := map[int64]string{}
	for _, h := range r.History {
		kinds[h.Seq] = h.Kind
	}
	for i := len(r.History) - 1; i >= 0; i-- {
		h := r.History[i]
		en := Entry{Seq: h.Seq, Kind: h.Kind, Revision: h.Revision, Commit: h.Commit, At: h.At, By: h.Owner.User + "@" + h.Owner.Host, Undone: h.UndoneBy != 0}
		for _, c := range h.Tables {
			en.Inserted, en.Updated, en.Deleted = en.Inserted+c.Inserted, en.Updated+c.Updated, en.Deleted+c.Deleted
		}
		var notes []string
		switch {
		case h.UndoneBy != 0 && kinds[h.UndoneBy] == gitdb.KindRestore:
			notes = append(notes, fmt.Sprintf("undone by the restore #%d", h.UndoneBy))
		case h.UndoneBy != 0:
			notes = append(notes, fmt.Sprintf("rolled back by #%d", h.UndoneBy))
		}
		switch h.Kind {
		case gitdb.KindRollback:
			notes = append(notes, fmt.Sprintf("undoes #%d", h.Undoes))
		case gitdb.KindRestore:
			notes = append(notes, fmt.Sprintf("back to #%d", h.Undoes))
		}
		if h.Note != "" {
			notes = append(notes, h.Note)
		}
		en.Note = strings.Join(notes, "; ")
		for _, st := range h.Steps {
			en.Steps = append(en.Steps, Step{Phase: st.Phase, Command: gitdb.Redact(st.Command), Status: st.Status, Exit: st.Exit, OK: st.OK(),
				Tail: gitdb.Redact(st.Tail)})
		}
		e.History = append(e.History, en)
	}
	return e
}

// Failed is an environment that cannot be read; only the first line of
// the error is kept (its hints are for the terminal).
func Failed(name string, err error) *Env {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return &Env{Name: name, Err: gitdb.Redact(msg)}
}

// Checks says in a few words whether the environment's last run
// finished and passed its checks.
func (e *Env) Checks() string {
	switch {
	case e.Err != "":
		return "cannot be read"
	case e.Running != "":
		return "running"
	case len(e.Crashed) > 0:
		return "unfinished run"
	case e.Unchecked:
		return "unchecked"
	case e.At == "":
		return "—"
	}
	return "ok"
}

// ShortCommit is a commit as people read it.
func ShortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// Cut shortens a value to n characters (0: as it is).
func Cut(s string, n int) string {
	if n <= 0 || len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// Command is a git dbsync command line, its arguments quoted for a POSIX
// shell where they need it.
func Command(args ...string) string {
	var b strings.Builder
	b.WriteString("git dbsync")
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(shellQuote(a))
	}
	return b.String()
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@,+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
