package gitdb

import (
	"fmt"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Choice is a side chosen for a conflict: for a row, a column of it, or a
// path inside a column's JSON value (and all below it).
type Choice struct {
	Table  string
	Key    string // the row's key as plan shows it (site_name; 3, 1), or as a saved plan's key object
	Column string // "" for the whole row
	Path   string // "" for the whole column; else as plan shows it: $.a.b
	Side   Resolution
	// whole is what followed the table when Key holds a ':' of its own
	// (a key such as system:site, with no column after it).
	whole string
}

// rowKey returns the key this choice names for a row whose keys are text
// and obj, and whether it names the whole row: a key holding ':' reads
// first as the whole key.
func (c Choice) rowKey(text, obj string) (matches, wholeRow bool) {
	if c.whole != "" && (c.whole == text || c.whole == obj) {
		return true, true
	}
	return c.Key == text || c.Key == obj, c.Column == ""
}

// Choices are the sides chosen for conflicts (apply --resolve, a filled-in
// saved plan).
type Choices []Choice

// ParseChoice reads --resolve's '<table>:<key>[:<column>[.<path>]]=ours|theirs'.
func ParseChoice(s string) (Choice, error) {
	spec, side, ok := strings.Cut(s, "=")
	for ok && strings.Contains(side, "=") { // a key may hold '='
		var more string
		more, side, _ = strings.Cut(side, "=")
		spec += "=" + more
	}
	table, rest, ok2 := strings.Cut(spec, ":")
	if !ok || !ok2 || table == "" || rest == "" || side != "ours" && side != "theirs" {
		return Choice{}, fmt.Errorf("--resolve %q: want <table>:<key>[:<column>[.<path>]]=ours|theirs", s)
	}
	c := Choice{Table: table, Key: rest, Side: Resolution(side)}
	if i := strings.LastIndex(rest, ":"); i >= 0 {
		c.Key, c.Column, c.whole = rest[:i], rest[i+1:], rest
		if j := strings.IndexAny(c.Column, ".["); j >= 0 {
			c.Column, c.Path = c.Column[:j], "$"+c.Column[j:]
		}
	}
	return c, nil
}

func (c Choice) String() string {
	s := c.Table + ":" + c.Key
	if c.Column != "" {
		s += ":" + c.Column + strings.TrimPrefix(c.Path, "$")
	}
	return s + "=" + string(c.Side)
}

// chooser returns what the choices say for a table's conflicts: the most
// specific choice that covers a cell (its path, a path above it, its
// column, its row).
func (cs Choices) chooser(meta *serialize.Table) merge.Chooser {
	var mine Choices
	for _, c := range cs {
		if c.Table == meta.Name {
			mine = append(mine, c)
		}
	}
	if len(mine) == 0 {
		return func(serialize.Row, string, string) (merge.Resolution, bool) { return merge.Unresolved, false }
	}
	return func(row serialize.Row, column, path string) (merge.Resolution, bool) {
		text, obj := keyText(meta, row), string(keyJSON(meta, row))
		best, found := -1, merge.Unresolved
		for _, c := range mine {
			matches, wholeRow := c.rowKey(text, obj)
			if !matches {
				continue
			}
			rank := 0
			switch {
			case wholeRow:
			case c.Column != column:
				continue
			case c.Path == "":
				rank = 1
			case path == c.Path || strings.HasPrefix(path, c.Path) && strings.ContainsAny(path[len(c.Path):len(c.Path)+1], ".["):
				rank = 2 + len(c.Path)
			default:
				continue
			}
			if rank > best {
				best, found = rank, c.Side
			}
		}
		return found, best >= 0
	}
}

// check refuses a choice that names no conflict of the plan: a misspelt
// key would otherwise leave the conflict it meant unresolved, unnoticed.
func (cs Choices) check(p *Plan) error {
	for _, c := range cs {
		found := false
		for _, tp := range p.Tables {
			if tp.Meta.Name != c.Table {
				continue
			}
			for i := range tp.Conflicts {
				row := tp.Conflicts[i].Row()
				if matches, _ := c.rowKey(keyText(tp.Meta, row), string(keyJSON(tp.Meta, row))); matches {
					found = true
				}
			}
		}
		if !found {
			return fmt.Errorf("--resolve %s: %q has no conflict at that key", c, c.Table)
		}
	}
	return nil
}

func (cs Choices) strings() []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.String())
	}
	return out
}
