package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gobwas/glob"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// Class is what git dbsync does with a table.
type Class string

const (
	ClassConfig   Class = "config"   // exported and deployed
	ClassContent  Class = "content"  // belongs to the target; never overwritten
	ClassCache    Class = "cache"    // never exported; may be cleared after an apply
	ClassTemp     Class = "temp"     // never exported
	ClassSequence Class = "sequence" // counters advanced after an apply
	ClassIgnore   Class = "ignore"   // never looked at
)

// Classes lists every class in the order .dbsync writes them.
var Classes = []Class{ClassConfig, ClassContent, ClassCache, ClassTemp, ClassSequence, ClassIgnore}

// Reserved reports a table name of git dbsync's own (dbsync_*), whatever
// its case: engines that fold or ignore case (MySQL's
// lower_case_table_names, SQLite) would otherwise let a user table named
// Dbsync_Ledger stand for ours. Such a table is never exported or written.
func Reserved(table string) bool {
	return strings.HasPrefix(strings.ToLower(table), ReservedPrefix)
}

// OwnTables are the tables git dbsync keeps in a target.
// On a Galera cluster, the mysql dialect adds dbsync_cluster_lock, the row
// every change writes first.
var OwnTables = []string{ReservedPrefix + "identity", ReservedPrefix + "ledger", ReservedPrefix + "ledger_rows", ReservedPrefix + "cluster_lock"}

// OfClass returns the tables among names whose class is one of classes,
// in the order given.
func (c *Config) OfClass(names []string, classes ...Class) []string {
	var out []string
	for _, name := range names {
		if class, _, _ := c.Classify(name); slices.Contains(classes, class) {
			out = append(out, name)
		}
	}
	return out
}

func isClass(c Class) bool { return slices.Contains(Classes, c) }

func classList() string {
	var s []string
	for _, c := range Classes {
		s = append(s, string(c))
	}
	return strings.Join(s, ", ")
}

// Classify returns the class of a table and the pattern that matched it,
// or "" when no pattern does. A table matched by patterns of two classes
// is an error naming both.
func (c *Config) Classify(table string) (Class, *Pattern, error) {
	if Reserved(table) {
		return ClassIgnore, nil, nil
	}
	var found *Pattern
	for i := range c.Patterns {
		p := &c.Patterns[i]
		if !p.g.Match(table) {
			continue
		}
		if found != nil && found.Class != p.Class {
			return "", nil, &Error{Pos: p.Pos, Msg: fmt.Sprintf("table %q is matched by %s %q and by %s %q (%s): a table has one class",
				table, found.Class, found.Glob, p.Class, p.Glob, found.Pos)}
		}
		if found == nil {
			found = p
		}
	}
	if found == nil {
		return "", nil, nil
	}
	return found.Class, found, nil
}

// Scoped reports whether the table has a row scope by key at all.
func (t *Table) Scoped() bool { return t != nil && len(t.rows)+len(t.notRows) > 0 }

// InScope reports whether a row whose key text is keyText belongs to the
// table's row scope: it matches a rows glob (or there is none) and no
// "!" glob. A glob matches the key as plan spells it (main, About; see
// serialize.SpellKey) or, as before that spelling, its parts joined by
// "/" (main/About), so that existing row scopes keep their rows.
func (t *Table) InScope(keyText []string) bool {
	if !t.Scoped() {
		return true
	}
	spelled, slashed := serialize.SpellKey(keyText), strings.Join(keyText, "/")
	match := func(g *glob.Pattern) bool { return g.Match(spelled) || g.Match(slashed) }
	for _, g := range t.notRows {
		if match(g) {
			return false
		}
	}
	if len(t.rows) == 0 {
		return true
	}
	for _, g := range t.rows {
		if match(g) {
			return true
		}
	}
	return false
}

// checkWhere proves a row scope's predicate is one expression: no ";"
// that would start another statement, no comment that would hide the
// rest of the query, parentheses balanced, outside quoted strings and
// identifiers. Engines also run it in a read-only session where nothing
// is written, but an apply reads it in its write transaction.
func checkWhere(w string) error {
	depth := 0
	for i := 0; i < len(w); i++ {
		switch c := w[i]; c {
		case '\'', '"', '`':
			end := strings.IndexByte(w[i+1:], c)
			for end >= 0 && i+1+end+1 < len(w) && w[i+1+end+1] == c { // a doubled quote escapes it
				next := strings.IndexByte(w[i+1+end+2:], c)
				if next < 0 {
					end = -1
					break
				}
				end += 2 + next
			}
			if end < 0 {
				return fmt.Errorf("where: unterminated %c", c)
			}
			i += end + 1
		case ';':
			return fmt.Errorf("where: one expression, without ';'")
		case '-', '/':
			if i+1 < len(w) && (c == '-' && w[i+1] == '-' || c == '/' && w[i+1] == '*') {
				return fmt.Errorf("where: no comments (%s)", w[i:i+2])
			}
		case '(':
			depth++
		case ')':
			if depth--; depth < 0 {
				return fmt.Errorf("where: a ')' closes more than it opened")
			}
		}
	}
	if depth != 0 {
		return fmt.Errorf("where: a '(' is not closed")
	}
	return nil
}
