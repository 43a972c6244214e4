package gitdb

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// SavedPlan is the JSON form of a plan (plan --json, plan --out FILE,
// apply --plan FILE); schemas/plan.schema.json describes it. It carries a
// fingerprint of the target rows the plan read, so that an apply of a
// saved plan refuses when the target changed since.
type SavedPlan struct {
	Format      int       `json:"format"`
	Env         string    `json:"env"`
	Revision    string    `json:"revision"`
	Commit      string    `json:"commit"`
	BaseCommit  string    `json:"base_commit"`
	Target      string    `json:"target_identity"`
	Fingerprint string    `json:"fingerprint"`
	Created     time.Time `json:"created"`
	Applied     bool      `json:"already_applied"`
	Resolve     string    `json:"resolve,omitempty"` // ours or theirs, when asked for
	Prune       bool      `json:"prune,omitempty"`
	// Choices: the sides --resolve chose when the plan was made.
	Choices []string     `json:"choices,omitempty"`
	Summary PlanSummary  `json:"summary"`
	Tables  []SavedTable `json:"tables"`
	// ScopeChanges: how the revision's .dbsync changes what is written
	// (an apply needs --allow-scope-change).
	ScopeChanges []string `json:"scope_changes,omitempty"`
	// IDRenames: tables a first apply matches by id although it would
	// rename most of their rows (an apply needs --shared-ids).
	IDRenames []string `json:"id_renames,omitempty"`
	// Checksum is the SHA-256 of the plan without it: apply --plan refuses
	// a file changed after plan wrote it.
	Checksum string `json:"checksum"`
}

// PlanSummary counts a plan's rows.
type PlanSummary struct {
	Inserts    int `json:"inserts"`
	Updates    int `json:"updates"`
	Deletes    int `json:"deletes"`
	Conflicts  int `json:"conflicts"`
	Unresolved int `json:"unresolved"`
	Untracked  int `json:"untracked"`
}

// SavedTable is one table of a saved plan.
type SavedTable struct {
	Table     string            `json:"table"`
	Ops       []SavedOp         `json:"ops"`
	Conflicts []SavedConflict   `json:"conflicts"`
	Untracked []json.RawMessage `json:"untracked"`
	Unchanged int               `json:"unchanged"`
	// UntrackedText names each untracked row for people.
	UntrackedText []string `json:"-"`
	// Counts are the table's ops of each kind ("insert", "update",
	// "delete"), in Ops or not (SaveFirst), and its untracked rows
	// ("untracked"), listed or not.
	Counts map[string]int `json:"-"`
}

// SavedOp is one row change: rows are canonical JSON objects. For an
// update, Changed names the columns and Paths the changes inside JSON
// values.
type SavedOp struct {
	Op      string             `json:"op"`
	Key     json.RawMessage    `json:"key"`
	Before  json.RawMessage    `json:"before,omitempty"`
	After   json.RawMessage    `json:"after,omitempty"`
	Changed []string           `json:"changed,omitempty"`
	Paths   []PathChangeReport `json:"paths,omitempty"`
	KeyText string             `json:"-"` // the key for people: site_name, or 3, 1
}

// SavedConflict is one conflict.
type SavedConflict struct {
	Kind       string          `json:"kind"`
	Key        json.RawMessage `json:"key"`
	Cells      []SavedCell     `json:"cells,omitempty"`
	Resolution string          `json:"resolution,omitempty"`
	// ReferredBy names, for a blocked delete, the tables and columns whose
	// rows still refer to the row (and how many).
	ReferredBy []string `json:"referred_by,omitempty"`
	// Choice is for a person or a script to fill in ("ours" or "theirs")
	// before apply --plan; the checksum leaves it out.
	Choice  string `json:"choice"`
	KeyText string `json:"-"`
	// KeyArg is the key as --resolve takes it (a composite key quoted).
	KeyArg string `json:"-"`
}

// SavedCell is a conflicting cell or JSON path with the three values
// (absent values are left out).
type SavedCell struct {
	Column string          `json:"column"`
	Path   string          `json:"path,omitempty"`
	Base   json.RawMessage `json:"base,omitempty"`
	Ours   json.RawMessage `json:"ours,omitempty"`
	Theirs json.RawMessage `json:"theirs,omitempty"`
	Choice string          `json:"choice"` // as SavedConflict's, for this cell or path alone
}

// Save returns the plan's JSON document.
func (p *Plan) Save() (*SavedPlan, error) { return p.SaveFirst(-1) }

// SaveFirst returns the plan's JSON document with the first n ops and
// untracked rows of each table (every one for n < 0), for showing a plan
// of any size: its counts are all the plan's.
func (p *Plan) SaveFirst(n int) (*SavedPlan, error) {
	sp := &SavedPlan{Format: 1, Env: p.Env, Revision: p.Rev.Name, Commit: p.Rev.Commit, BaseCommit: p.BaseCommit(),
		Fingerprint: p.Fingerprint, Created: time.Now().UTC().Truncate(time.Second), Applied: p.Applied, Tables: []SavedTable{},
		Resolve: string(p.Resolve), Prune: p.Prune, Choices: p.Choices.strings(), ScopeChanges: p.ScopeChanges, IDRenames: p.IDRenames}
	if p.Identity != nil {
		sp.Target = p.Identity.ID
	}
	for _, t := range p.Tables {
		meta := t.Meta
		st := SavedTable{Table: meta.Name, Ops: []SavedOp{}, Conflicts: []SavedConflict{}, Untracked: []json.RawMessage{}, Unchanged: t.Unchanged,
			Counts: map[string]int{}}
		for _, k := range []merge.Kind{merge.Insert, merge.Update, merge.Delete} {
			st.Counts[string(k)] = t.Count(k)
		}
		sp.Summary.Inserts += t.Count(merge.Insert)
		sp.Summary.Updates += t.Count(merge.Update)
		sp.Summary.Deletes += t.Count(merge.Delete)
		for op, err := range t.Ops.All() {
			if err != nil {
				return nil, err
			}
			if n >= 0 && len(st.Ops) == n {
				break
			}
			so := SavedOp{Op: string(op.Kind), Key: keyJSON(meta, op.Row()), Before: rowJSON(meta, op.Before), After: rowJSON(meta, op.After),
				KeyText: keyText(meta, op.Row())}
			if op.Kind == merge.Update {
				so.Changed, so.Paths = changedCells(meta, op.Before, op.After)
			}
			st.Ops = append(st.Ops, so)
		}
		for i := range t.Conflicts {
			c := &t.Conflicts[i]
			sc := SavedConflict{Kind: string(c.Kind), Key: keyJSON(meta, conflictRow(c)), Resolution: string(c.Resolution), KeyText: keyText(meta, conflictRow(c)),
				KeyArg: keyArg(meta, conflictRow(c)), ReferredBy: c.ReferredBy}
			for _, cell := range c.Cells {
				sc.Cells = append(sc.Cells, SavedCell{Column: cell.Column, Path: cell.Path, Base: raw(cell.Base), Ours: raw(cell.Ours), Theirs: raw(cell.Theirs)})
			}
			st.Conflicts = append(st.Conflicts, sc)
			sp.Summary.Conflicts++
			if c.Resolution == merge.Unresolved {
				sp.Summary.Unresolved++
			}
		}
		st.Counts["untracked"] = t.Untracked.Len()
		sp.Summary.Untracked += t.Untracked.Len()
		for op, err := range t.Untracked.All() {
			if err != nil {
				return nil, err
			}
			if n >= 0 && len(st.Untracked) == n {
				break
			}
			st.Untracked, st.UntrackedText = append(st.Untracked, keyJSON(meta, op.Before)), append(st.UntrackedText, keyText(meta, op.Before))
		}
		sp.Tables = append(sp.Tables, st)
	}
	return sp, nil
}

func conflictRow(c *merge.Conflict) serialize.Row {
	for _, r := range []serialize.Row{c.Ours, c.Theirs, c.Base} {
		if r != nil {
			return r
		}
	}
	return nil
}

func raw(b []byte) json.RawMessage {
	if b == nil {
		return nil
	}
	return json.RawMessage(b)
}

// rawList is a set change's members as JSON.
func rawList(items [][]byte) []json.RawMessage {
	var out []json.RawMessage
	for _, b := range items {
		out = append(out, b)
	}
	return out
}

func rowJSON(meta *serialize.Table, r serialize.Row) json.RawMessage {
	if r == nil {
		return nil
	}
	return json.RawMessage(bytes.TrimSuffix(meta.AppendLine(nil, r), []byte("\n")))
}

// changedCells names the columns that differ between two versions of a
// row, and the changes inside those that hold JSON.
func changedCells(meta *serialize.Table, before, after serialize.Row) ([]string, []PathChangeReport) {
	var names []string
	var paths []PathChangeReport
	op := merge.Op{Kind: merge.Update, Before: before, After: after}
	for _, i := range op.Changed() {
		col := meta.Columns[i]
		names = append(names, col.Name)
		if col.Type != serialize.JSON {
			continue
		}
		for _, p := range merge.JSONChanges(before[i], after[i], col.Sets...) {
			pc := PathChangeReport{Column: col.Name, Path: p.Path, Before: raw(p.Before), After: raw(p.After)}
			if p.Set {
				pc.Added, pc.Removed = rawList(p.Added), rawList(p.Removed)
			}
			paths = append(paths, pc)
		}
	}
	return names, paths
}

// keyJSON returns the key of a row as a JSON object of its key columns.
func keyJSON(meta *serialize.Table, r serialize.Row) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range meta.KeyIndexes() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(serialize.AppendString(nil, meta.Key[i]))
		b.WriteByte(':')
		b.Write(r[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

// Marshal returns the saved plan as indented JSON, with its checksum.
func (sp *SavedPlan) Marshal() ([]byte, error) {
	sum, err := sp.sum()
	if err != nil {
		return nil, err
	}
	sp.Checksum = sum
	data, err := json.MarshalIndent(sp, "", "  ")
	return append(data, '\n'), err
}

// sum returns the checksum of the plan without its checksum and without
// the choices left to fill in.
func (sp *SavedPlan) sum() (string, error) {
	c := *sp
	c.Checksum = ""
	c.Tables = withoutChoices(sp.Tables)
	body, err := json.Marshal(&c)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(body)
	return hex.EncodeToString(h[:]), nil
}

// LoadPlan reads a plan saved with plan --out.
func LoadPlan(path string) (*SavedPlan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sp := &SavedPlan{}
	if err := json.Unmarshal(data, sp); err != nil {
		return nil, fmt.Errorf("%s: not a saved plan: %w", path, err)
	}
	if sp.Format != 1 || sp.Fingerprint == "" {
		return nil, fmt.Errorf("%s: not a plan saved by git dbsync plan --out", path)
	}
	if sum, err := sp.sum(); err != nil || sum != sp.Checksum {
		return nil, fmt.Errorf("%s: the saved plan was changed after git dbsync plan wrote it (its checksum does not match): nothing written\nhint: make the plan again with git dbsync plan --out", path)
	}
	return sp, nil
}

// withoutChoices returns a copy of a plan's tables with the choices left
// to fill in blank.
func withoutChoices(tables []SavedTable) []SavedTable {
	out := slices.Clone(tables)
	for i := range out {
		t := &out[i]
		t.Conflicts = slices.Clone(t.Conflicts)
		for j := range t.Conflicts {
			t.Conflicts[j].Choice = ""
			t.Conflicts[j].Cells = slices.Clone(t.Conflicts[j].Cells)
			for k := range t.Conflicts[j].Cells {
				t.Conflicts[j].Cells[k].Choice = ""
			}
		}
	}
	return out
}

// Filled returns the choices a person or a script filled in, and those
// --resolve made when the plan was made.
func (sp *SavedPlan) Filled() (made, filled Choices, err error) {
	for _, s := range sp.Choices {
		c, err := ParseChoice(s)
		if err != nil {
			return nil, nil, err
		}
		made = append(made, c)
	}
	side := func(s, where string) (Resolution, error) {
		if s != "ours" && s != "theirs" {
			return "", fmt.Errorf("%s: choice %q: want ours or theirs", where, s)
		}
		return Resolution(s), nil
	}
	for _, t := range sp.Tables {
		for _, sc := range t.Conflicts {
			var key bytes.Buffer
			if err := json.Compact(&key, sc.Key); err != nil {
				return nil, nil, err
			}
			where := fmt.Sprintf("table %q, conflict at %s", t.Table, key.String())
			if sc.Choice != "" {
				res, err := side(sc.Choice, where)
				if err != nil {
					return nil, nil, err
				}
				filled = append(filled, Choice{Table: t.Table, Key: key.String(), Side: res})
			}
			for _, cell := range sc.Cells {
				if cell.Choice == "" {
					continue
				}
				res, err := side(cell.Choice, where+", column "+cell.Column+" "+cell.Path)
				if err != nil {
					return nil, nil, err
				}
				filled = append(filled, Choice{Table: t.Table, Key: key.String(), Column: cell.Column, Path: cell.Path, Side: res})
			}
		}
	}
	return made, filled, nil
}

// matches proves that a plan made now is the saved one: same target,
// revision and base, the same target rows read, and the same changes.
func (sp *SavedPlan) matches(p *Plan) error {
	now, err := p.Save()
	if err != nil {
		return err
	}
	switch {
	case sp.Env != now.Env:
		return fmt.Errorf("the plan is for environment %q, not %q", sp.Env, now.Env)
	case sp.Commit != now.Commit:
		return fmt.Errorf("the plan is for %s (commit %.12s), but %s is now commit %.12s", sp.Revision, sp.Commit, now.Revision, now.Commit)
	case sp.BaseCommit != now.BaseCommit || sp.Target != now.Target:
		return &TargetChangedError{Why: "another revision was applied to it"}
	case sp.Fingerprint != now.Fingerprint:
		return &TargetChangedError{Why: "rows of the target were changed"}
	}
	a, _ := json.Marshal(withoutChoices(sp.Tables))
	b, _ := json.Marshal(now.Tables)
	if !bytes.Equal(a, b) {
		return &TargetChangedError{Why: "the plan's changes differ from what the merge gives now"}
	}
	return nil
}
