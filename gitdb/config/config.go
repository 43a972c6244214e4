// Package config reads the .dbsync file at the root of a repository:
// environments and their database URLs, table classes by glob, and per-table
// options. Its contract: a file that loads is internally consistent (each
// option known and well-formed, each glob valid); every error names the
// file, line and key. What needs the database (does a key column exist, is
// a table matched by two classes) is checked against the catalog by the
// caller, with the lines Load recorded.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	gitconfig "github.com/go-git/go-git/v5/plumbing/format/config"
	"github.com/gobwas/glob"

	"github.com/gitdbsync/git-dbsync/gitdb/codec"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// FileName is the name of the configuration file at the repository root.
const FileName = ".dbsync"

// DefaultDir is the export directory when [dbsync] dir is not set.
const DefaultDir = "db"

// ReservedPrefix starts the names of the tables git dbsync keeps in a
// target database (ledger, identity); they are never classified or exported.
const ReservedPrefix = "dbsync_"

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

// Pos is where a value was set: file and line, and the key as git config
// names it (section.subsection.key).
type Pos struct {
	File string
	Line int
	Key  string
}

func (p Pos) String() string {
	if p.Line == 0 {
		return fmt.Sprintf("%s: %s", p.File, p.Key)
	}
	return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Key)
}

// Error is a configuration error at a position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Pos, e.Msg) }

// Env is one target environment.
type Env struct {
	Name string
	URL  string
	Pos  Pos
}

// Pattern is one table glob of a class.
type Pattern struct {
	Class Class
	Glob  string
	Pos   Pos
	g     *glob.Pattern
}

// Table holds the [table "name"] options.
type Table struct {
	Name           string
	Key            []string
	Rows           []string // row scope: globs on the key
	ExcludeColumns []string
	Layout         serialize.Layout
	Merge          string            // merge policy: "" (ask on conflicts), ours, theirs, create-only or no-delete
	Codecs         map[string]string // column → codec of its text (json, php)
	Secrets        []ColumnPath      // values never written to files
	ExcludePaths   []ColumnPath      // paths inside values left out of files
	References     []Reference       // references the catalog does not declare
	Where          string            // SQL condition every exported row meets
	Pos            map[string]Pos    // option name → where it was set
	First          Pos               // the first option of the section
	rows, notRows  []*glob.Pattern
}

// ColumnPath is a column, or a path inside its JSON value (gjson syntax:
// members joined by ".", "#" for every item of an array, "*" for every
// member or item, "\." for a dot in a name).
type ColumnPath struct {
	Column string
	Path   string // "" for the whole column
	Pos    Pos
}

func (c ColumnPath) String() string {
	if c.Path == "" {
		return c.Column
	}
	return c.Column + "." + c.Path
}

// Reference is a column (or the values at a path inside it) holding ids
// of rows of another table.
type Reference struct {
	ColumnPath
	Table string
	// As says how ids inside values are written: "text" (JSON strings) or
	// "number"; "" follows what the target holds.
	As string
}

// parseColumnPath splits "column.path" at its first unescaped dot.
func parseColumnPath(s string, p Pos) ColumnPath {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '.':
			return ColumnPath{Column: s[:i], Path: s[i+1:], Pos: p}
		}
	}
	return ColumnPath{Column: s, Pos: p}
}

// Config is a loaded .dbsync.
type Config struct {
	Root     string // repository root (absolute)
	File     string // path of .dbsync relative to the current directory, for messages
	Dir      string // export directory, slash-separated, relative to Root
	Envs     map[string]*Env
	Patterns []Pattern
	Tables   map[string]*Table
}

// Load reads root/.dbsync. A missing file is reported with a hint to run
// git dbsync init.
func Load(root string) (*Config, error) {
	file := filepath.Join(root, FileName)
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no %s in %s (run 'git dbsync init' to create one)", FileName, root)
	}
	if err != nil {
		return nil, err
	}
	return Parse(root, FileName, data)
}

// Parse parses the contents of a .dbsync file; name is used in messages.
func Parse(root, name string, data []byte) (*Config, error) {
	raw := gitconfig.New()
	if err := gitconfig.NewDecoder(bytes.NewReader(data)).Decode(raw); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	lines := indexLines(data)
	c := &Config{Root: root, File: name, Dir: DefaultDir, Envs: map[string]*Env{}, Tables: map[string]*Table{}}
	seen := map[string]int{}
	pos := func(section, sub, key string) Pos {
		id := strings.ToLower(section) + "\x00" + sub + "\x00" + strings.ToLower(key)
		n := seen[id]
		seen[id]++
		p := Pos{File: name, Key: gitKey(section, sub, key)}
		if l := lines[id]; n < len(l) {
			p.Line = l[n]
		}
		return p
	}
	for _, s := range raw.Sections {
		section := strings.ToLower(s.Name)
		switch section {
		case "dbsync", "tables", "env", "table":
		default:
			return nil, &Error{Pos: pos(s.Name, "", ""), Msg: fmt.Sprintf("unknown section [%s]", s.Name)}
		}
		for _, o := range s.Options {
			if err := c.setOption(section, "", strings.ToLower(o.Key), o.Value, pos(s.Name, "", o.Key)); err != nil {
				return nil, err
			}
		}
		for _, sub := range s.Subsections {
			for _, o := range sub.Options {
				if err := c.setOption(section, sub.Name, strings.ToLower(o.Key), o.Value, pos(s.Name, sub.Name, o.Key)); err != nil {
					return nil, err
				}
			}
		}
	}
	return c, nil
}

func gitKey(section, sub, key string) string {
	parts := []string{strings.ToLower(section)}
	if sub != "" {
		parts = append(parts, sub)
	}
	if key != "" {
		parts = append(parts, strings.ToLower(key))
	}
	return strings.Join(parts, ".")
}

func (c *Config) setOption(section, sub, key, value string, p Pos) error {
	bad := func(format string, args ...any) error { return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)} }
	switch {
	case section == "dbsync" && sub == "" && key == "dir":
		d := path.Clean(filepath.ToSlash(value))
		if value == "" || path.IsAbs(d) || d == "." || d == ".." || strings.HasPrefix(d, "../") || strings.HasPrefix(d, ".git") {
			return bad("export directory %q must be a relative path inside the repository", value)
		}
		c.Dir = d
	case section == "env" && sub != "" && key == "url":
		c.Envs[sub] = &Env{Name: sub, URL: value, Pos: p}
	case section == "tables" && sub == "":
		class := Class(key)
		if !isClass(class) {
			return bad("unknown class %q (want one of %s)", key, classList())
		}
		for _, g := range strings.Fields(value) {
			compiled, err := glob.Compile(g)
			if err != nil {
				return bad("bad glob %q: %v", g, err)
			}
			c.Patterns = append(c.Patterns, Pattern{Class: class, Glob: g, Pos: p, g: compiled})
		}
	case section == "table" && sub != "":
		t := c.Tables[sub]
		if t == nil {
			t = &Table{Name: sub, Pos: map[string]Pos{}, First: p}
			c.Tables[sub] = t
		}
		t.Pos[key] = p
		switch key {
		case "key":
			t.Key = strings.Fields(value)
			if len(t.Key) == 0 {
				return bad("key names no column")
			}
		case "rows":
			for _, g := range strings.Fields(value) {
				not := strings.HasPrefix(g, "!")
				compiled, err := glob.Compile(strings.TrimPrefix(g, "!"))
				if err != nil {
					return bad("bad glob %q: %v", g, err)
				}
				t.Rows = append(t.Rows, g)
				if not {
					t.notRows = append(t.notRows, compiled)
				} else {
					t.rows = append(t.rows, compiled)
				}
			}
		case "codec":
			for _, f := range strings.Fields(value) {
				col, name, ok := strings.Cut(f, ":")
				if !ok || col == "" || !codec.Known(name) {
					return bad("%q: want <column>:json, <column>:php or <column>:php,json", f)
				}
				if t.Codecs == nil {
					t.Codecs = map[string]string{}
				}
				t.Codecs[col] = name
			}
		case "secret", "exclude-paths":
			for _, f := range strings.Fields(value) {
				cp := parseColumnPath(f, p)
				if key == "secret" {
					t.Secrets = append(t.Secrets, cp)
				} else if cp.Path == "" {
					return bad("%q names no path inside the column (use exclude-columns for whole columns)", f)
				} else {
					t.ExcludePaths = append(t.ExcludePaths, cp)
				}
			}
		case "reference":
			f := strings.Fields(value)
			if len(f) < 2 || len(f) > 3 {
				return bad("want <column>[.<path>] <table> [text|number]")
			}
			r := Reference{ColumnPath: parseColumnPath(f[0], p), Table: f[1]}
			if len(f) == 3 {
				if r.Path == "" || f[2] != "text" && f[2] != "number" {
					return bad("%q: only ids inside values are written as text or number", f[2])
				}
				r.As = f[2]
			}
			t.References = append(t.References, r)
		case "where":
			t.Where = strings.TrimSpace(value)
		case "exclude-columns":
			t.ExcludeColumns = append(t.ExcludeColumns, strings.Fields(value)...)
		case "layout":
			switch l := serialize.Layout(value); l {
			case serialize.LayoutRows, serialize.LayoutLines:
				t.Layout = l
			default:
				return bad("unknown layout %q (want rows or lines)", value)
			}
		case "merge":
			switch value {
			case "ours", "theirs", "create-only", "no-delete":
				t.Merge = value
			default:
				return bad("unknown merge policy %q (want ours, theirs, create-only or no-delete)", value)
			}
		default:
			return bad("unknown key %q (want key, rows, where, exclude-columns, exclude-paths, secret, codec, reference, layout or merge)", key)
		}
	default:
		return bad("unknown key")
	}
	return nil
}

func isClass(c Class) bool {
	for _, k := range Classes {
		if k == c {
			return true
		}
	}
	return false
}

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
	if strings.HasPrefix(table, ReservedPrefix) {
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
// "!" glob. A composite key is matched as its parts joined by "/".
func (t *Table) InScope(keyText []string) bool {
	if !t.Scoped() {
		return true
	}
	k := strings.Join(keyText, "/")
	for _, g := range t.notRows {
		if g.Match(k) {
			return false
		}
	}
	if len(t.rows) == 0 {
		return true
	}
	for _, g := range t.rows {
		if g.Match(k) {
			return true
		}
	}
	return false
}

// EnvNames returns the names of the environments in .dbsync, sorted.
func (c *Config) EnvNames() []string {
	var names []string
	for n := range c.Envs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// EnvVar returns the environment variable that overrides an environment's
// URL: DBSYNC_ENV_<NAME>_URL, the name upper-cased, other characters "_".
func EnvVar(env string) string {
	return "DBSYNC_ENV_" + strings.ToUpper(nonAlnum.ReplaceAllString(env, "_")) + "_URL"
}

var nonAlnum = regexp.MustCompile(`[^A-Za-z0-9]`)

// URL returns the database URL of an environment and where it came from:
// the environment variable, then git config dbsync.env.<name>.url (local,
// global or system, as git reads it), then .dbsync.
func (c *Config) URL(env string) (url, source string, err error) {
	return ResolveURL(c.Root, env, c.Envs[env], c.File)
}

// ResolveURL resolves an environment's URL when a .dbsync entry may not
// exist yet (git dbsync init).
func ResolveURL(root, env string, fromFile *Env, file string) (url, source string, err error) {
	if v := os.Getenv(EnvVar(env)); v != "" {
		return v, "$" + EnvVar(env), nil
	}
	if out, err := (repo.Git{Dir: root}).Line("config", "--get", "dbsync.env."+env+".url"); err == nil && out != "" {
		return out, "git config dbsync.env." + env + ".url", nil
	}
	if fromFile != nil && fromFile.URL != "" {
		return fromFile.URL, fromFile.Pos.String(), nil
	}
	return "", "", fmt.Errorf("environment %q has no database URL: set [env %q] url in %s, git config dbsync.env.%s.url, or $%s",
		env, env, file, env, EnvVar(env))
}

// DefaultEnv picks the environment when none is named: "dev" when it
// exists, else the only one.
func (c *Config) DefaultEnv() (string, error) {
	if _, ok := c.Envs["dev"]; ok || len(c.Envs) == 0 {
		return "dev", nil
	}
	if len(c.Envs) == 1 {
		return c.EnvNames()[0], nil
	}
	return "", fmt.Errorf("%s defines several environments (%s): choose one with --env", c.File, strings.Join(c.EnvNames(), ", "))
}

// indexLines maps section\0subsection\0key (section and key lower-cased) to
// the lines that set it, in order, so that errors can name a line.
func indexLines(data []byte) map[string][]int {
	out := map[string][]int{}
	section, sub := "", ""
	for i, line := range strings.Split(string(data), "\n") {
		l := strings.TrimSpace(line)
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		if l[0] == '[' {
			h := strings.TrimSuffix(strings.SplitN(l[1:], "]", 2)[0], "")
			name, rest, _ := strings.Cut(h, " ")
			section, sub = strings.ToLower(strings.TrimSpace(name)), ""
			if q := strings.TrimSpace(rest); len(q) >= 2 && q[0] == '"' {
				sub = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(q[1 : len(q)-1])
			}
			out[section+"\x00"+sub+"\x00"] = append(out[section+"\x00"+sub+"\x00"], i+1)
			continue
		}
		key, _, _ := strings.Cut(l, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		id := section + "\x00" + sub + "\x00" + key
		out[id] = append(out[id], i+1)
	}
	return out
}
