package gitdb

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb/lock"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
)

// The JSON forms of diff and status (--json), for scripts and CI;
// schemas/diff.schema.json and schemas/status.schema.json describe them.

// DiffReport is the JSON form of a diff.
type DiffReport struct {
	Format  int               `json:"format"`
	From    string            `json:"from"`
	To      string            `json:"to"`
	Summary DiffSummary       `json:"summary"`
	Tables  []DiffTableReport `json:"tables"`
}

// DiffSummary counts the rows a diff found.
type DiffSummary struct {
	Added   int `json:"added"`
	Changed int `json:"changed"`
	Removed int `json:"removed"`
}

// DiffTableReport is one table of a diff: its changed rows, in key order.
type DiffTableReport struct {
	Table     string             `json:"table"`
	Changes   []DiffChangeReport `json:"changes"`
	Unchanged int                `json:"unchanged"`
}

// DiffChangeReport is one row that differs. For a changed row, Changed
// names the columns and Paths the changes inside JSON values.
type DiffChangeReport struct {
	Change  string             `json:"change"` // added, changed or removed
	Key     json.RawMessage    `json:"key"`
	Before  json.RawMessage    `json:"before,omitempty"`
	After   json.RawMessage    `json:"after,omitempty"`
	Changed []string           `json:"changed,omitempty"`
	Paths   []PathChangeReport `json:"paths,omitempty"`
	KeyText string             `json:"-"` // the key for people
}

// PathChangeReport is a change inside a JSON value; an absent side is
// left out.
type PathChangeReport struct {
	Column string          `json:"column"`
	Path   string          `json:"path"`
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
	// At a path whose arrays are sets: the members added and removed
	// (each absent when none; before and after still hold the arrays).
	Added   []json.RawMessage `json:"added,omitempty"`
	Removed []json.RawMessage `json:"removed,omitempty"`
}

// Report returns the diff's JSON form.
func (d *DiffResult) Report() *DiffReport {
	r := &DiffReport{Format: 1, From: d.From, To: d.To, Tables: []DiffTableReport{}}
	for _, t := range d.Tables {
		meta := t.Meta
		tr := DiffTableReport{Table: meta.Name, Changes: []DiffChangeReport{}, Unchanged: t.Same}
		for _, ch := range t.Changes {
			c := DiffChangeReport{Before: rowJSON(meta, ch.From), After: rowJSON(meta, ch.To)}
			if ch.To != nil {
				c.KeyText = keyText(meta, ch.To)
			} else {
				c.KeyText = keyText(meta, ch.From)
			}
			switch {
			case ch.From == nil:
				c.Change, c.Key = "added", keyJSON(meta, ch.To)
				r.Summary.Added++
			case ch.To == nil:
				c.Change, c.Key = "removed", keyJSON(meta, ch.From)
				r.Summary.Removed++
			default:
				c.Change, c.Key = "changed", keyJSON(meta, ch.To)
				r.Summary.Changed++
				c.Changed, c.Paths = changedCells(meta, ch.From, ch.To)
			}
			tr.Changes = append(tr.Changes, c)
		}
		r.Tables = append(r.Tables, tr)
	}
	return r
}

// StatusReport is the JSON form of an environment's status.
type StatusReport struct {
	Format   int             `json:"format"`
	Env      string          `json:"env"`
	Identity *IdentityReport `json:"identity"`
	Current  *EntryReport    `json:"current"`
	Drift    []DriftReport   `json:"drift"`
	Pending  []TagReport     `json:"pending"`
	Crashed  []lock.File     `json:"unfinished"`
	// Lost: this clone's lock files of changes the target's ledger lacks.
	Lost []lock.File `json:"lost,omitempty"`
	// Running is the run holding the environment's lock now.
	Running *lock.Holder `json:"running,omitempty"`
	// Unchecked: the checks of the apply the target is at never passed.
	Unchecked bool          `json:"unchecked,omitempty"`
	History   []EntryReport `json:"history"`
	Dev       *DevReport    `json:"dev,omitempty"`
}

// DevReport is where the development database stands against HEAD.
type DevReport struct {
	Head       string        `json:"head"`
	InStep     bool          `json:"in_step"`
	Unexported []DriftReport `json:"unexported"`
}

// IdentityReport is a target's identity.
type IdentityReport struct {
	ID      string    `json:"id"`
	Env     string    `json:"env"`
	Created time.Time `json:"created"`
}

// EntryReport is one apply, baseline or rollback of a target's ledger.
type EntryReport struct {
	Seq        int64                  `json:"seq"`
	ID         string                 `json:"id"`
	Kind       string                 `json:"kind"`
	Revision   string                 `json:"revision"`
	Commit     string                 `json:"commit"`
	BaseCommit string                 `json:"base_commit,omitempty"`
	At         time.Time              `json:"at"`
	Owner      lock.Owner             `json:"owner"`
	Version    string                 `json:"version,omitempty"`
	Tables     map[string]lock.Counts `json:"tables"`
	Undoes     int64                  `json:"undoes,omitempty"`
	UndoneBy   int64                  `json:"undone_by,omitempty"`
	Note       string                 `json:"note,omitempty"`
	Steps      []StepResult           `json:"steps,omitempty"`
}

// DriftReport counts a table's rows changed on the target since the
// revision it is at.
type DriftReport struct {
	Table   string `json:"table"`
	Added   int    `json:"added"`
	Changed int    `json:"changed"`
	Removed int    `json:"removed"`
	// Kept is how many rows only the target had when its first apply ran,
	// which that apply kept (untracked): up to as many of Added were
	// there before, not added since.
	Kept int `json:"kept_from_first_apply,omitempty"`
}

// TagReport is a tag newer than the revision the target is at.
type TagReport struct {
	Name   string    `json:"name"`
	Commit string    `json:"commit"`
	When   time.Time `json:"when"`
}

// Report returns the status's JSON form.
func (st *Status) Report() *StatusReport {
	r := &StatusReport{Format: 1, Env: st.Env, Drift: []DriftReport{}, Pending: []TagReport{}, Crashed: []lock.File{}, History: []EntryReport{}}
	if id := st.Identity; id != nil {
		r.Identity = &IdentityReport{ID: id.ID, Env: id.Env, Created: id.Created}
	}
	if st.Current != nil {
		e := entryReport(st.Current)
		r.Current = &e
	}
	r.Drift = driftReports(st.Drift)
	if first := st.firstApply(); first != nil {
		for i := range r.Drift {
			r.Drift[i].Kept = first.Summary[r.Drift[i].Table].Untracked
		}
	}
	if d := st.Dev; d != nil {
		r.Dev = &DevReport{Head: d.Head, InStep: d.InStep, Unexported: driftReports(d.Unexported)}
	}
	for _, t := range st.Pending {
		r.Pending = append(r.Pending, TagReport{Name: t.Name, Commit: t.Commit, When: t.When.UTC()})
	}
	for _, f := range st.Crashed {
		r.Crashed = append(r.Crashed, *f)
	}
	for _, f := range st.Lost {
		r.Lost = append(r.Lost, *f)
	}
	r.Running, r.Unchecked = st.Running, st.Unchecked
	for i := range st.History {
		r.History = append(r.History, entryReport(&st.History[i]))
	}
	return r
}

// KeptNote says, after a drift's counts, how many of the rows added may
// have been there before the first apply ("" for none).
func (d DriftReport) KeptNote() string {
	if n := min(d.Kept, d.Added); n > 0 {
		return fmt.Sprintf(" (up to %d of the added were there before the first apply, which kept them)", n)
	}
	return ""
}

// firstApply is the apply that began the target's current history (no
// base: the first, or the first after every apply was rolled back), nil
// when there is none.
func (st *Status) firstApply() *Entry {
	for i := len(st.History) - 1; i >= 0; i-- {
		if e := &st.History[i]; e.Kind == KindApply && e.BaseCommit == "" && e.UndoneBy == 0 {
			return e
		}
	}
	return nil
}

func driftReports(diffs []*merge.TableDiff) []DriftReport {
	out := []DriftReport{}
	for _, d := range diffs {
		a, c, rm := d.Count()
		out = append(out, DriftReport{Table: d.Meta.Name, Added: a, Changed: c, Removed: rm})
	}
	return out
}

func entryReport(e *Entry) EntryReport {
	tables := e.Summary
	if tables == nil {
		tables = map[string]lock.Counts{}
	}
	return EntryReport{Seq: e.Seq, ID: e.ID, Kind: e.Kind, Revision: e.Revision, Commit: e.Commit, BaseCommit: e.BaseCommit,
		At: e.At.UTC(), Owner: e.Owner, Version: e.Version, Tables: tables, Undoes: e.Undoes, UndoneBy: e.UndoneBy, Note: e.Note, Steps: e.Steps}
}

// ApplyReport is the JSON form of what an apply or rollback did
// (schemas/apply.schema.json).
type ApplyReport struct {
	Format int    `json:"format"`
	Env    string `json:"env"`
	// Done is false when the target was already at the revision: Entry is
	// then the entry found, and nothing was written.
	Done     bool        `json:"done"`
	Entry    EntryReport `json:"entry"`
	LockFile string      `json:"lock_file"`
	Notes    []string    `json:"notes"`
	// Steps are the deploy steps as they went; Backup is the id of the
	// backup taken first (none: the environment takes none).
	Steps  []StepResult `json:"steps,omitempty"`
	Backup string       `json:"backup,omitempty"`
}

// Report returns the JSON form of an apply or rollback's outcome.
func (r *ApplyResult) Report() *ApplyReport {
	notes := r.Notes
	if notes == nil {
		notes = []string{}
	}
	rep := &ApplyReport{Format: 1, Env: r.Entry.Env, Done: !r.Already, Entry: entryReport(r.Entry), LockFile: r.LockFile, Notes: notes, Steps: r.Steps}
	if r.Backup != nil {
		rep.Backup = r.Backup.ID
	}
	return rep
}

// ExportReport is the JSON form of an export (schemas/export.schema.json).
type ExportReport struct {
	Format       int                 `json:"format"`
	Env          string              `json:"env"`
	Dir          string              `json:"dir"`
	Check        bool                `json:"check"`   // nothing was written
	Changed      bool                `json:"changed"` // a file changed (or, with check, would)
	Tables       []ExportTableReport `json:"tables"`
	Unclassified []string            `json:"unclassified"`
	Warnings     []string            `json:"warnings"`
}

// ExportTableReport is what an export did to one table's files.
type ExportTableReport struct {
	Table       string `json:"table"`
	Dir         string `json:"dir"`
	Layout      string `json:"layout"`
	LayoutWas   string `json:"layout_was,omitempty"` // the layout before, when it changed
	Rows        int    `json:"rows"`
	Added       int    `json:"added"`
	Changed     int    `json:"changed"`
	Removed     int    `json:"removed"`
	New         bool   `json:"new"`
	MetaChanged bool   `json:"meta_changed"`
	Dropped     bool   `json:"dropped"`
}

// Report returns the export's JSON form.
func (r *ExportResult) Report() *ExportReport {
	out := &ExportReport{Format: 1, Env: r.Env, Dir: r.Dir, Check: r.Check, Changed: r.Changed(), Tables: []ExportTableReport{},
		Unclassified: append([]string{}, r.Unclassified...), Warnings: append([]string{}, r.Warnings...)}
	for _, t := range r.Tables {
		out.Tables = append(out.Tables, ExportTableReport{Table: t.Table, Dir: t.Dir, Layout: string(t.Layout), LayoutWas: string(t.LayoutWas), Rows: t.Rows,
			Added: t.Added, Changed: t.Changed, Removed: t.Removed, New: t.New, MetaChanged: t.MetaChanged, Dropped: t.Dropped})
	}
	return out
}

// HooksReport is the state of a repository's hooks and drivers
// (schemas/hooks.schema.json).
type HooksReport struct {
	Format  int          `json:"format"`
	Dir     string       `json:"dir"` // the hooks directory
	Hooks   []HookReport `json:"hooks"`
	Drivers bool         `json:"drivers"` // the merge and diff drivers are registered
	// DriversOutdated: registered with an older command line, which
	// hooks install replaces.
	DriversOutdated bool `json:"drivers_outdated,omitempty"`
}

// HookReport is one hook: missing, installed (ours, up to date), outdated
// (ours, an older version) or foreign (a hook git dbsync did not write).
type HookReport struct {
	Name     string `json:"name"`
	State    string `json:"state"`
	Version  int    `json:"version,omitempty"`
	Chained  bool   `json:"chained"`  // ours calls the hook that was there before
	Replaced bool   `json:"replaced"` // the hook that was there before is kept aside
}
