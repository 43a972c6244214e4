package merge

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// Chosen resolves a conflict cell by cell, or path by path inside JSON
// values, each taking the side chosen for it (apply --resolve, a filled-in
// saved plan): the op is IfChosen.
const Chosen Resolution = "chosen"

// A Chooser says which side a conflict takes at one of its conflicting
// cells (column, and path inside a JSON value, "" for the whole cell), or
// for the whole row (column ""), if a side was chosen there.
type Chooser func(row serialize.Row, column, path string) (Resolution, bool)

// Choose resolves the unresolved conflicts that have a side chosen at
// every conflicting cell or path (or, for a row deleted on one side, for
// the row). Choices that all name one side resolve the conflict to it.
func (p *TablePlan) Choose(choose Chooser) error {
	var added []Op
	for i := range p.Conflicts {
		c := &p.Conflicts[i]
		if c.Resolution != Unresolved {
			continue
		}
		res, ok, err := c.choose(p.Meta, choose)
		if err != nil {
			return fmt.Errorf("row %s: %w", p.Meta.DescribeKey(c.Row()), err)
		}
		if !ok {
			continue
		}
		c.Resolution = res
		if op := c.Resolved(); op != nil {
			added = append(added, *op)
		}
	}
	return p.Ops.Insert(func(a, b *Op) int { return p.Meta.CompareKeys(a.Row(), b.Row()) }, added...)
}

// ResolveRest resolves the conflicts left unresolved to one side.
func (p *TablePlan) ResolveRest(res Resolution) error {
	if res == Unresolved {
		return nil
	}
	return p.Choose(func(serialize.Row, string, string) (Resolution, bool) { return res, true })
}

// Row returns the row a conflict is about, from whichever side has it.
func (c *Conflict) Row() serialize.Row {
	for _, r := range []serialize.Row{c.Ours, c.Theirs, c.Base} {
		if r != nil {
			return r
		}
	}
	return nil
}

// choose works out a conflict's resolution from the choices, and with
// mixed choices the row they make.
func (c *Conflict) choose(meta *serialize.Table, choose Chooser) (Resolution, bool, error) {
	key := c.Row()
	if len(c.Cells) == 0 {
		res, ok := choose(key, "", "")
		return res, ok, nil
	}
	sides := make([]Resolution, len(c.Cells))
	for j, cell := range c.Cells {
		res, ok := choose(key, cell.Column, cell.Path)
		if !ok {
			return Unresolved, false, nil
		}
		sides[j] = res
	}
	if !slices.ContainsFunc(sides, func(r Resolution) bool { return r != sides[0] }) {
		return sides[0], true, nil
	}
	// Mixed: start from the merge with every conflicting spot as ours,
	// then take theirs where chosen.
	ours, theirs := c.Ours, c.Ours
	if c.IfOurs != nil {
		ours = c.IfOurs.After
	}
	if c.IfTheirs != nil {
		theirs = c.IfTheirs.After
	}
	row := slices.Clone(ours)
	for j, cell := range c.Cells {
		if sides[j] != Theirs {
			continue
		}
		i := meta.Index(cell.Column)
		// A conflict inside an array (at its index) takes the side's
		// whole array.
		path := listIndex.ReplaceAllString(cell.Path, "")
		if path == "" || path == "$" {
			row[i] = theirs[i]
			continue
		}
		doc, err := copyPath(row[i], theirs[i], path)
		if err != nil {
			return Unresolved, false, fmt.Errorf("column %q at %s: %w", cell.Column, cell.Path, err)
		}
		row[i] = doc
	}
	c.IfChosen = nil
	if !equal(row, c.Ours) {
		c.IfChosen = &Op{Kind: Update, Before: c.Ours, After: row}
	}
	return Chosen, true, nil
}

var listIndex = regexp.MustCompile(`\[[0-9]+\]$`)

// copyPath returns dst with the value at path (members from "$", as
// mergeJSON names conflicts) as src has it, or without it where src has
// none.
func copyPath(dst, src []byte, path string) ([]byte, error) {
	names, err := pathNames(path)
	if err != nil {
		return nil, err
	}
	d, err := serialize.Parse(dst)
	if err != nil {
		return nil, err
	}
	s, err := serialize.Parse(src)
	if err != nil {
		return nil, err
	}
	parent, from := &d, &s
	for _, name := range names[:len(names)-1] {
		if parent, _ = parent.Get(name); parent == nil || parent.Kind != serialize.Object {
			return nil, fmt.Errorf("no object at the path")
		}
		if from != nil {
			from, _ = from.Get(name)
		}
	}
	last := names[len(names)-1]
	var value *serialize.Node
	if from != nil {
		value, _ = from.Get(last)
	}
	at := slices.IndexFunc(parent.Members, func(m serialize.Member) bool { return m.Name == last })
	switch {
	case value == nil && at >= 0:
		parent.Members = slices.Delete(parent.Members, at, at+1)
	case value != nil && at >= 0:
		parent.Members[at].Value = *value
	case value != nil:
		parent.Members = append(parent.Members, serialize.Member{Name: last, Value: *value})
	}
	return serialize.AppendCanonical(nil, &d, "", "")
}

// pathNames splits a path as mergeJSON writes it ($.a["b c"].d) into
// member names.
func pathNames(path string) ([]string, error) {
	rest, ok := strings.CutPrefix(path, "$")
	var names []string
	for ok && rest != "" {
		switch rest[0] {
		case '.':
			end := strings.IndexAny(rest[1:], ".[")
			if end < 0 {
				end = len(rest) - 1
			}
			names, rest = append(names, rest[1:1+end]), rest[1+end:]
		case '[':
			quoted, err := strconv.QuotedPrefix(rest[1:])
			if err != nil || !strings.HasPrefix(rest[1+len(quoted):], "]") {
				return nil, fmt.Errorf("bad path %q", path)
			}
			name, _ := strconv.Unquote(quoted)
			names, rest = append(names, name), rest[len(quoted)+2:]
		default:
			ok = false
		}
	}
	if !ok || len(names) == 0 {
		return nil, fmt.Errorf("bad path %q", path)
	}
	return names, nil
}

// Blocked is a row of the target whose delete rows outside the plan
// (content, above all) still refer to, as the delete's Before has it, and
// what refers to it (table, column and how many rows).
type Blocked struct {
	Row        serialize.Row
	ReferredBy []string
}

// Block turns the deletes of the blocked rows into BlockedDelete
// conflicts: the deletes leave the ops, and each conflict is unresolved
// until a side is chosen for the row. A conflict a row already had
// (deleted on one side, changed on the other, resolved to the delete)
// becomes the blocked delete. It returns how many of the rows the plan
// deleted.
func (p *TablePlan) Block(blocked []Blocked) (int, error) {
	blocked = slices.Clone(blocked)
	compare := func(a, b Blocked) int { return p.Meta.CompareKeys(a.Row, b.Row) }
	slices.SortFunc(blocked, compare)
	var dels []Op
	var by [][]string
	err := p.Ops.Rewrite(func(op *Op) (bool, error) {
		if op.Kind != Delete {
			return true, nil
		}
		at, found := slices.BinarySearchFunc(blocked, Blocked{Row: op.Before}, compare)
		if !found {
			return true, nil
		}
		dels, by = append(dels, *op), append(by, blocked[at].ReferredBy)
		return false, nil
	})
	if err != nil {
		return 0, err
	}
	for i := range dels {
		row := dels[i].Before
		c := Conflict{Kind: BlockedDelete, Ours: row, IfTheirs: &dels[i], ReferredBy: by[i]}
		if at := slices.IndexFunc(p.Conflicts, func(c Conflict) bool { return p.Meta.CompareKeys(c.Row(), row) == 0 }); at >= 0 {
			c.Base = p.Conflicts[at].Base
			p.Conflicts[at] = c
		} else {
			p.Conflicts = append(p.Conflicts, c)
		}
	}
	slices.SortStableFunc(p.Conflicts, func(a, b Conflict) int { return p.Meta.CompareKeys(a.Row(), b.Row()) })
	return len(dels), nil
}
