package gitdb

import (
	"fmt"
	"strconv"
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

// rowKey says whether this choice names a row whose key is spelled
// spelled (as plan shows it: parts joined by ", ", a part quoted where it
// holds a comma, a colon or a quote), raw (the parts joined, unquoted) or
// obj (a saved plan's key object), and whether it names the whole row: a
// key holding ':' reads first as the whole key.
func (c Choice) rowKey(spelled, raw, obj string) (matches, wholeRow bool) {
	if c.whole != "" && namesKey(c.whole, spelled, raw, obj) {
		return true, true
	}
	return namesKey(c.Key, spelled, raw, obj), c.Column == ""
}

// namesKey says whether key, as typed, names a row key: in the plan's
// spelling, unquoted, as a key object, or quoted whole ("main, About").
func namesKey(key, spelled, raw, obj string) bool {
	if key == spelled || key == raw || key == obj {
		return true
	}
	if strings.HasPrefix(key, `"`) {
		if u, err := strconv.Unquote(key); err == nil {
			return u == raw || u == spelled
		}
	}
	return false
}

// rowKeys returns the three forms of a row's key that a choice may name.
func rowKeys(meta *serialize.Table, row serialize.Row) (spelled, raw, obj string) {
	return keyText(meta, row), strings.Join(meta.KeyText(row), ", "), string(keyJSON(meta, row))
}

// keyText names a row by its key for people, and is how --resolve names
// it: site_name, or 3, 1, or main, About, or "system:site" (see
// serialize.SpellKey).
func keyText(meta *serialize.Table, r serialize.Row) string {
	return serialize.SpellKey(meta.KeyText(r))
}

// keyArg spells a row's key as one item of a list of keys: quoted whole
// when it has several parts (menus:"main, About").
func keyArg(meta *serialize.Table, r serialize.Row) string {
	text := keyText(meta, r)
	if len(meta.Key) > 1 {
		return strconv.Quote(text)
	}
	return text
}

// Choices are the sides chosen for conflicts (apply --resolve, a filled-in
// saved plan).
type Choices []Choice

// ParseChoice reads --resolve's '<table>:<key>[:<column>[.<path>]]=ours|theirs'.
// The key is spelled as plan shows it, or quoted whole; a ':' inside
// double quotes is the key's.
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
	if i := lastColon(rest); i >= 0 {
		c.Key, c.Column, c.whole = rest[:i], rest[i+1:], rest
		if j := strings.IndexAny(c.Column, ".["); j >= 0 {
			c.Column, c.Path = c.Column[:j], "$"+c.Column[j:]
		}
	}
	return c, nil
}

// lastColon returns the index of the last ':' of s outside double
// quotes, or -1.
func lastColon(s string) int {
	last, quoted := -1, false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && quoted:
			i++
		case s[i] == '"':
			quoted = !quoted
		case s[i] == ':' && !quoted:
			last = i
		}
	}
	return last
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
		spelled, raw, obj := rowKeys(meta, row)
		best, found := -1, merge.Unresolved
		for _, c := range mine {
			matches, wholeRow := c.rowKey(spelled, raw, obj)
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

// ChoiceError is a choice (--resolve) that names no conflict of the plan,
// or a column its table lacks: a bad command line, which would otherwise
// leave the conflict it meant unresolved, unnoticed.
type ChoiceError struct {
	Choice Choice
	Why    string
}

func (e *ChoiceError) Error() string {
	return fmt.Sprintf("--resolve %s: %s", strings.TrimSuffix(e.Choice.String(), "="+string(e.Choice.Side)), e.Why)
}

// maxListed is how many conflicts a ChoiceError lists.
const maxListed = 20

// check refuses a choice that names no conflict of the plan, listing the
// conflicts there are, or a column its table does not have.
func (cs Choices) check(p *Plan) error {
	for _, c := range cs {
		found, column := false, true
		for _, tp := range p.Tables {
			if tp.Meta.Name != c.Table {
				continue
			}
			for i := range tp.Conflicts {
				matches, wholeRow := c.rowKey(rowKeys(tp.Meta, tp.Conflicts[i].Row()))
				if matches {
					found = true
					column = wholeRow || tp.Meta.Index(c.Column) >= 0
				}
			}
		}
		switch {
		case !found:
			return &ChoiceError{Choice: c, Why: "no conflict at that key; " + listConflicts(p)}
		case !column:
			return &ChoiceError{Choice: c, Why: fmt.Sprintf("table %q has no column %q", c.Table, c.Column)}
		}
	}
	return nil
}

// listConflicts names the conflicts of a plan as --resolve takes them.
func listConflicts(p *Plan) string {
	var keys []string
	for _, tp := range p.Tables {
		for i := range tp.Conflicts {
			keys = append(keys, tp.Meta.Name+":"+keyArg(tp.Meta, tp.Conflicts[i].Row()))
		}
	}
	switch {
	case len(keys) == 0:
		return "the plan has no conflicts"
	case len(keys) > maxListed:
		keys = append(keys[:maxListed], fmt.Sprintf("and %d more", len(keys)-maxListed))
	}
	return "the conflicts are: " + strings.Join(keys, ", ")
}

func (cs Choices) strings() []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.String())
	}
	return out
}
