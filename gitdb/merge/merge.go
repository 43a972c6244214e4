// Package merge is the three-way merge of table rows, with no I/O but
// one (a big plan's ops go to a temporary file: OpList): given
// the rows of a base, of theirs (the revision to apply) and of ours (the
// target's current rows), each a stream sorted by key, it returns what to
// do to ours. Rows merge cell by cell, and JSON cells member by member, so
// that changes on both sides to different cells (or JSON paths) are both
// kept. Conflicts are data in the plan, each with what either resolution
// would do, never errors. It imports only serialize.
package merge

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// Source yields rows in key order (serialize.Table.CompareKeys); ok is
// false at the end.
type Source func() (row serialize.Row, ok bool, err error)

// Rows returns a Source over rows already sorted by key.
func Rows(rows []serialize.Row) Source {
	i := 0
	return func() (serialize.Row, bool, error) {
		if i >= len(rows) {
			return nil, false, nil
		}
		i++
		return rows[i-1], true, nil
	}
}

// Empty is a Source without rows.
func Empty() (serialize.Row, bool, error) { return nil, false, nil }

// Map passes every row of a source through fn.
func Map(src Source, fn func(serialize.Row) (serialize.Row, error)) Source {
	return func() (serialize.Row, bool, error) {
		r, ok, err := src()
		if !ok || err != nil {
			return nil, ok, err
		}
		if r, err = fn(r); err != nil {
			return nil, false, err
		}
		return r, true, nil
	}
}

// Project maps the rows of a source laid out as from onto the columns of
// into: a column from lacks gets a nil cell (unknown, for the merge).
func Project(src Source, from, into *serialize.Table) Source {
	if into == nil || slices.EqualFunc(from.Columns, into.Columns, func(a, b serialize.Column) bool { return a.Name == b.Name }) {
		return src
	}
	idx := make([]int, len(into.Columns))
	for i, c := range into.Columns {
		idx[i] = from.Index(c.Name)
	}
	return func() (serialize.Row, bool, error) {
		r, ok, err := src()
		if !ok || err != nil {
			return nil, ok, err
		}
		out := make(serialize.Row, len(idx))
		for i, j := range idx {
			if j >= 0 {
				out[i] = r[j]
			}
		}
		return out, true, nil
	}
}

// Kind is what an op does to a row of the target.
type Kind string

const (
	Insert Kind = "insert"
	Update Kind = "update"
	Delete Kind = "delete"
)

// Op is one change to the target: Before is the target's row (nil for an
// insert), After the row to write (nil for a delete).
type Op struct {
	Kind   Kind
	Before serialize.Row
	After  serialize.Row
}

// Row returns the row an op is about: the row written, or the row deleted.
func (o *Op) Row() serialize.Row {
	if o.After != nil {
		return o.After
	}
	return o.Before
}

// Changed returns the indexes of the columns an update changes.
func (o *Op) Changed() []int {
	var out []int
	for i := range o.After {
		if o.Before == nil || !bytes.Equal(o.Before[i], o.After[i]) {
			out = append(out, i)
		}
	}
	return out
}

// ConflictKind says how two sides disagree about a row.
type ConflictKind string

const (
	BothChanged    ConflictKind = "both-changed"    // the same cell (or JSON path) changed differently
	BothAdded      ConflictKind = "both-added"      // the same key added with different values
	DeletedChanged ConflictKind = "deleted-changed" // theirs deleted a row ours changed
	ChangedDeleted ConflictKind = "changed-deleted" // theirs changed a row ours deleted
	// BlockedDelete is a row theirs deletes that rows outside the plan
	// (content, above all) still refer to on the target: keeping it (Ours)
	// is the only resolution that can be written (see TablePlan.Block).
	BlockedDelete ConflictKind = "blocked-delete"
)

// Resolution picks a side for conflicts.
type Resolution string

const (
	Unresolved Resolution = ""
	Ours       Resolution = "ours"   // keep the target's value
	Theirs     Resolution = "theirs" // take the revision's value
)

// Cell is one cell (or JSON path inside it) that conflicts. A nil value
// means the cell or path is absent on that side.
type Cell struct {
	Column string
	Path   string // JSON path inside the cell ("$.a.b"), "" for the whole cell
	Base   []byte
	Ours   []byte
	Theirs []byte
}

// Conflict is a row the two sides disagree about.
type Conflict struct {
	Kind               ConflictKind
	Base, Ours, Theirs serialize.Row // nil where the row is absent
	Cells              []Cell        // for BothChanged and BothAdded
	IfOurs, IfTheirs   *Op           // what each resolution does; nil: nothing
	IfChosen           *Op           // with Chosen: the row the choices make
	Resolution         Resolution    // set when a policy or flag resolved it
	// ReferredBy names, for a BlockedDelete, what still refers to the row
	// (table, column and how many rows).
	ReferredBy []string
}

// Resolved returns the op of the chosen resolution (nil: nothing to do).
func (c *Conflict) Resolved() *Op {
	switch c.Resolution {
	case Ours:
		return c.IfOurs
	case Theirs:
		return c.IfTheirs
	case Chosen:
		return c.IfChosen
	}
	return nil
}

// TablePlan is the merge of one table.
type TablePlan struct {
	Meta      *serialize.Table
	Ops       OpList // in key order; resolved conflicts' ops included
	Conflicts []Conflict
	// Untracked are a first apply's rows only the target has (kept
	// unless pruned), each as the delete --prune makes of it: a list that
	// spills as Ops does, for a target of a million rows the revision
	// lacks.
	Untracked OpList
	Unchanged int
}

// Unresolved counts the conflicts no resolution was chosen for.
func (p *TablePlan) Unresolved() int {
	n := 0
	for i := range p.Conflicts {
		if p.Conflicts[i].Resolution == Unresolved {
			n++
		}
	}
	return n
}

// Count returns the number of ops of a kind.
func (p *TablePlan) Count(k Kind) int { return p.Ops.Count(k) }

// Options change how rows merge.
type Options struct {
	// NoBase: the target has never had a revision applied. Rows both sides
	// have take the revision's values; rows only the target has are
	// untracked: kept, or deleted with Prune.
	NoBase bool
	Prune  bool
	// Resolve resolves every conflict to one side (a flag or the table's
	// merge policy); Unresolved leaves them for the user.
	Resolve Resolution
}

// Policy restricts what a merge may do to a table's rows.
type Policy string

const (
	Everything Policy = ""            // inserts, updates, deletes
	CreateOnly Policy = "create-only" // only insert rows the target lacks
	NoDelete   Policy = "no-delete"   // never delete a row of the target
)

// Restrict drops the ops a policy forbids. Conflicts whose resolution by
// the revision would be forbidden are settled by keeping the target's row
// (Ours): all of them under create-only, which never changes an existing
// row; under no-delete, those where the revision deleted the row.
func (p *TablePlan) Restrict(policy Policy) error {
	if policy == Everything {
		return nil
	}
	allowed := func(op *Op) bool {
		return op == nil || policy == CreateOnly && op.Kind == Insert || policy == NoDelete && op.Kind != Delete
	}
	if err := p.Ops.Rewrite(func(op *Op) (bool, error) { return allowed(op), nil }); err != nil {
		return err
	}
	for i := range p.Conflicts {
		c := &p.Conflicts[i]
		if !allowed(c.IfTheirs) || policy == CreateOnly {
			c.Resolution, c.IfTheirs = Ours, nil
			if !allowed(c.IfOurs) {
				c.IfOurs = nil
			}
		}
	}
	return nil
}

// Table merges one table's three streams.
func Table(meta *serialize.Table, base, theirs, ours Source, opt Options) (*TablePlan, error) {
	p := &TablePlan{Meta: meta}
	err := walk(meta, []Source{base, theirs, ours}, []string{"base", "theirs", "ours"}, func(cur []serialize.Row) {
		p.row(cur[0], cur[1], cur[2], opt)
	})
	if err != nil {
		return nil, err
	}
	return p, p.Ops.err
}

// walk reads sorted streams side by side and calls fn once per key with
// each stream's row of that key (nil where a stream lacks it).
func walk(meta *serialize.Table, srcs []Source, names []string, fn func([]serialize.Row)) error {
	heads := make([]serialize.Row, len(srcs))
	prev := make([]serialize.Row, len(srcs))
	next := func(i int) error {
		row, ok, err := srcs[i]()
		if err != nil {
			return err
		}
		if !ok {
			heads[i] = nil
			return nil
		}
		if prev[i] != nil && meta.CompareKeys(prev[i], row) >= 0 {
			return fmt.Errorf("table %q: %s rows out of key order or repeated at %s", meta.Name, names[i], meta.KeyOf(row))
		}
		prev[i], heads[i] = row, row
		return nil
	}
	for i := range srcs {
		if err := next(i); err != nil {
			return err
		}
	}
	cur := make([]serialize.Row, len(srcs))
	for {
		var min serialize.Row
		for _, h := range heads {
			if h != nil && (min == nil || meta.CompareKeys(h, min) < 0) {
				min = h
			}
		}
		if min == nil {
			return nil
		}
		for i, h := range heads {
			cur[i] = nil
			if h != nil && meta.CompareKeys(h, min) == 0 {
				cur[i] = h
			}
		}
		fn(cur)
		for i := range cur {
			if cur[i] != nil {
				if err := next(i); err != nil {
					return err
				}
			}
		}
	}
}

// row decides one key.
func (p *TablePlan) row(b, t, o serialize.Row, opt Options) {
	switch {
	case b == nil && t == nil: // only the target has it
		if !opt.NoBase {
			p.Unchanged++
			return
		}
		p.Untracked.Add(Op{Kind: Delete, Before: o})
		if opt.Prune {
			p.Ops.Add(Op{Kind: Delete, Before: o})
		}
	case b == nil && o == nil:
		p.Ops.Add(Op{Kind: Insert, After: t})
	case b == nil: // both have it, base does not
		switch {
		case equal(t, o):
			p.Unchanged++
		case opt.NoBase:
			p.Ops.Add(Op{Kind: Update, Before: o, After: t})
		default:
			p.conflict(Conflict{Kind: BothAdded, Ours: o, Theirs: t, Cells: p.diffCells(nil, o, t),
				IfTheirs: &Op{Kind: Update, Before: o, After: t}}, opt)
		}
	case t == nil && o == nil:
		p.Unchanged++ // deleted on both sides
	case t == nil:
		if equal(o, b) {
			p.Ops.Add(Op{Kind: Delete, Before: o})
			return
		}
		p.conflict(Conflict{Kind: DeletedChanged, Base: b, Ours: o, IfTheirs: &Op{Kind: Delete, Before: o}}, opt)
	case o == nil:
		if equal(t, b) {
			p.Unchanged++ // the target deleted it; keep that
			return
		}
		p.conflict(Conflict{Kind: ChangedDeleted, Base: b, Theirs: t, IfTheirs: &Op{Kind: Insert, After: t}}, opt)
	default:
		p.cells(b, t, o, opt)
	}
}

// cells merges a row present on all three sides, cell by cell.
func (p *TablePlan) cells(b, t, o serialize.Row, opt Options) {
	keepOurs := make(serialize.Row, len(o)) // conflicting cells as ours
	takeTheirs := make(serialize.Row, len(o))
	var conflicts []Cell
	for i := range o {
		bi, ti, oi := b[i], t[i], o[i]
		switch {
		case bytes.Equal(ti, oi), bytes.Equal(ti, bi):
			keepOurs[i], takeTheirs[i] = oi, oi
		case bytes.Equal(oi, bi), bi == nil: // bi nil: a column base did not export
			keepOurs[i], takeTheirs[i] = ti, ti
		case p.Meta.Columns[i].Type == serialize.JSON:
			mo, mt, cc, err := mergeJSON(bi, ti, oi, p.Meta.Columns[i].Sets)
			if err != nil { // not JSON after all: the whole cell conflicts
				cc = []Cell{{Base: bi, Ours: oi, Theirs: ti}}
				mo, mt = oi, ti
			}
			for j := range cc {
				cc[j].Column = p.Meta.Columns[i].Name
			}
			conflicts = append(conflicts, cc...)
			keepOurs[i], takeTheirs[i] = mo, mt
		default:
			conflicts = append(conflicts, Cell{Column: p.Meta.Columns[i].Name, Base: bi, Ours: oi, Theirs: ti})
			keepOurs[i], takeTheirs[i] = oi, ti
		}
	}
	update := func(after serialize.Row) *Op {
		if equal(after, o) {
			return nil
		}
		return &Op{Kind: Update, Before: o, After: after}
	}
	if len(conflicts) == 0 {
		if op := update(keepOurs); op != nil {
			p.Ops.Add(*op)
		} else {
			p.Unchanged++
		}
		return
	}
	p.conflict(Conflict{Kind: BothChanged, Base: b, Ours: o, Theirs: t, Cells: conflicts,
		IfOurs: update(keepOurs), IfTheirs: update(takeTheirs)}, opt)
}

func (p *TablePlan) conflict(c Conflict, opt Options) {
	c.Resolution = opt.Resolve
	if op := c.Resolved(); op != nil {
		p.Ops.Add(*op)
	}
	p.Conflicts = append(p.Conflicts, c)
}

// diffCells lists the cells in which o and t differ.
func (p *TablePlan) diffCells(b, o, t serialize.Row) []Cell {
	var out []Cell
	for i := range o {
		if !bytes.Equal(o[i], t[i]) {
			c := Cell{Column: p.Meta.Columns[i].Name, Ours: o[i], Theirs: t[i]}
			if b != nil {
				c.Base = b[i]
			}
			out = append(out, c)
		}
	}
	return out
}

func equal(a, b serialize.Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
