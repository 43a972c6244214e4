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
	"slices"
	"strconv"
	"strings"
	"time"

	gitconfig "github.com/go-git/go-git/v5/plumbing/format/config"
	"github.com/gobwas/glob"

	"github.com/gitdbsync/git-dbsync/gitdb/codec"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// FileName is the name of the configuration file at the repository root.
const FileName = ".dbsync"

// DefaultDir is the export directory when [dbsync] dir is not set.
const DefaultDir = "db"

// ReservedPrefix starts the names of the tables git dbsync keeps in a
// target database (ledger, identity); they are never classified or exported.
const ReservedPrefix = "dbsync_"

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
	// LockTimeout bounds a write's wait for a lock another session holds
	// (0: the default, 10 s).
	LockTimeout time.Duration
	// Requires names the environments that must have applied a revision
	// before this one accepts it (promotion: staging before prod).
	Requires []string
	// PullTarget says whether pull may write into it: "true", "false",
	// or "" (unset: only the environment the hooks sync, when it does not
	// look like production).
	PullTarget string
	// Steps run around every change of it, in the order given: before,
	// manual and confirm ones before the transaction, check ones after it
	// commits, after ones last, whatever happened.
	Steps []Step
	// StepTimeout bounds each command step (0: DefaultStepTimeout).
	StepTimeout time.Duration
	// Backup is what is saved before a change writes to it: "tables"
	// (the tables it may write), "database" (those and a full dump with
	// the engine's tool), "none"; "" for the default (BackupMode).
	Backup     string
	BackupDir  string // where backups go ("" for .git/dbsync/backups), relative to the repository root
	BackupKeep int    // how many to keep (0: DefaultBackupKeep)
}

// DefaultBackupKeep is how many backups an environment keeps.
const DefaultBackupKeep = 10

// BackupMode is what is saved before a change of env: its backup option,
// else "tables", but "none" for the environment the hooks sync (unless it
// looks like production: the only environment a CI job's .dbsync names
// is the default one, and must keep its backups).
func (c *Config) BackupMode(env string) string {
	if e := c.Envs[env]; e != nil && e.Backup != "" {
		return e.Backup
	}
	if hooks, _ := c.DefaultEnv(); hooks == env && c.ProductionLike(env) == "" {
		return "none"
	}
	return "tables"
}

// productionName matches environment names that say production.
var productionName = regexp.MustCompile(`(?i)(^|[-_.])(prod|production|live|prd)([-_.0-9]|$)`)

// ProductionLike says why an environment looks like production (its
// name, or promotion through requires), "" when nothing does.
func (c *Config) ProductionLike(env string) string {
	if productionName.MatchString(env) {
		return "a production-like name"
	}
	if e := c.Envs[env]; e != nil && len(e.Requires) > 0 {
		return "promotion (requires = " + strings.Join(e.Requires, " ") + ")"
	}
	return ""
}

// Step is a step of a deploy: a command (before, after, check) or a
// question for the operator (manual: asked even with --yes; confirm:
// --yes answers it).
type Step struct {
	Kind string
	Text string
	Pos  Pos
}

// DefaultStepTimeout bounds a command step when step-timeout is not set.
const DefaultStepTimeout = 10 * time.Minute

// StepsOf returns an environment's steps of the given kinds, in order.
func (c *Config) StepsOf(env string, kinds ...string) []Step {
	e := c.Envs[env]
	if e == nil {
		return nil
	}
	var out []Step
	for _, s := range e.Steps {
		if slices.Contains(kinds, s.Kind) {
			out = append(out, s)
		}
	}
	return out
}

// Pattern is one table glob of a class.
type Pattern struct {
	Class Class
	Glob  string
	Pos   Pos
	g     *glob.Pattern
}

// LayoutAuto, the default layout, lets export choose per table: rows up
// to AutoLinesAbove rows, lines above; a table in lines goes back to rows
// only below AutoRowsBelow, so a table near the threshold never flips
// between exports.
const LayoutAuto serialize.Layout = "auto"

const (
	AutoLinesAbove = 1000
	AutoRowsBelow  = 500
)

// AutoLayout reports whether export chooses the table's layout.
func (t *Table) AutoLayout() bool { return t == nil || t.Layout == "" || t.Layout == LayoutAuto }

// Table holds the [table "name"] options.
type Table struct {
	Name           string
	Key            []string
	Rows           []string // row scope: globs on the key
	ExcludeColumns []string
	Layout         serialize.Layout  // rows, lines, or auto ("" too)
	Merge          string            // merge policy: "" (ask on conflicts), ours, theirs, create-only or no-delete
	Codecs         map[string]string // column → codec of its text (json, php)
	Secrets        []ColumnPath      // values never written to files
	ExcludePaths   []ColumnPath      // paths inside values left out of files
	Sets           []ColumnPath      // arrays (a column's value or members inside it) that merge as sets
	References     []Reference       // references the catalog does not declare
	Redactions     []Redaction       // what pull writes instead of a column's values
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
	// None lists the values that mean "no row" (0, '' or -1 in many
	// applications): they pass through untranslated.
	None []string
	// Formats, for a whole text column, are where the id sits inside its
	// text ("entity:node/{}": {} stands for the id); text of no format
	// passes through as it is. A text reference with WhereColumn but no
	// format holds the bare id.
	Formats []string
	// WhereColumn and WhereIn scope a whole-column reference to the rows
	// whose column holds one of the values: the rows of a key-value table
	// that hold ids (wp_options's option_value where option_name in
	// (page_on_front, page_for_posts)).
	WhereColumn string
	WhereIn     []string
}

// InText reports a reference to ids inside a whole text column (a format,
// or a row scope): the column stays text, and only the rows and the part
// of the text that hold an id change between the forms.
func (r *Reference) InText() bool { return r.Path == "" && (len(r.Formats) > 0 || r.WhereColumn != "") }

// Redaction is a rule pull applies to a column's values (or the values at
// a path inside them) before they reach the target.
type Redaction struct {
	ColumnPath
	Rule string // null, constant, email, hash, name, digits or keep
	Text string // constant's text
	// WhereColumn and WhereIn scope the rule to the rows whose column
	// holds one of the values: a key-value table's names (wp_usermeta's
	// meta_value where meta_key in (first_name, last_name)).
	WhereColumn string
	WhereIn     []string
}

// parseWhereIn reads a row scope of a redact rule: "<column> in (a, b)".
func parseWhereIn(s string) (string, []string, bool) {
	col, list, ok := strings.Cut(strings.TrimSpace(s), " in ")
	list = strings.TrimSpace(list)
	if !ok || strings.TrimSpace(col) == "" || !strings.HasPrefix(list, "(") || !strings.HasSuffix(list, ")") {
		return "", nil, false
	}
	var values []string
	for _, v := range strings.Split(list[1:len(list)-1], ",") {
		if v = strings.Trim(strings.TrimSpace(v), `'`); v != "" {
			values = append(values, v)
		}
	}
	return strings.TrimSpace(col), values, len(values) > 0
}

// RedactionRules lists the rules a redact option takes.
var RedactionRules = []string{"null", "constant:<text>", "email", "hash", "name", "digits", "keep"}

// PullTable holds the [pull "table"] options: the rows pull copies.
type PullTable struct {
	Where string // SQL condition the copied rows meet (and the replaced ones)
	Limit int64  // at most this many rows, the highest primary keys; 0 for all
	Pos   map[string]Pos
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
	// Groups name sets of environments ([group "name"] env = …): their
	// names or globs.
	Groups map[string][]string
	// Pull holds the [pull "table"] sections.
	Pull map[string]*PullTable
}

// ErrNoFile is wrapped by the errors that report a missing .dbsync.
var ErrNoFile = errors.New("no " + FileName)

// Load reads root/.dbsync. A missing file is reported with a hint to run
// git dbsync init.
func Load(root string) (*Config, error) {
	file := filepath.Join(root, FileName)
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s (run 'git dbsync init' to create one)", ErrNoFile, root)
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
	c := &Config{Root: root, File: name, Dir: DefaultDir, Envs: map[string]*Env{}, Tables: map[string]*Table{}, Groups: map[string][]string{}, Pull: map[string]*PullTable{}}
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
		case "dbsync", "tables", "env", "table", "group", "pull":
		default:
			return nil, &Error{Pos: pos(s.Name, "", ""), Msg: fmt.Sprintf("unknown section [%s]", s.Name)}
		}
		for _, o := range s.Options {
			if err := c.setOption(section, "", strings.ToLower(o.Key), o.Value, pos(s.Name, "", o.Key)); err != nil {
				return nil, err
			}
		}
		for _, sub := range s.Subsections {
			if section == "env" && c.Envs[sub.Name] == nil {
				c.Envs[sub.Name] = &Env{Name: sub.Name, Pos: pos(s.Name, sub.Name, "")}
			}
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
		c.Envs[sub].URL, c.Envs[sub].Pos = value, p
	case section == "env" && sub != "" && key == "requires":
		c.Envs[sub].Requires = append(c.Envs[sub].Requires, strings.Fields(value)...)
	case section == "env" && sub != "" && (key == "before" || key == "after" || key == "check" || key == "manual" || key == "confirm"):
		if strings.TrimSpace(value) == "" {
			return bad("names no command")
		}
		c.Envs[sub].Steps = append(c.Envs[sub].Steps, Step{Kind: key, Text: strings.TrimSpace(value), Pos: p})
	case section == "env" && sub != "" && key == "backup":
		switch value {
		case "tables", "database", "none":
			c.Envs[sub].Backup = value
		default:
			return bad("%q: want tables, database or none", value)
		}
	case section == "env" && sub != "" && key == "backup-dir":
		if strings.TrimSpace(value) == "" {
			return bad("names no directory")
		}
		c.Envs[sub].BackupDir = value
	case section == "env" && sub != "" && key == "backup-keep":
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 {
			return bad("%q: want a number of backups, 1 or more", value)
		}
		c.Envs[sub].BackupKeep = n
	case section == "env" && sub != "" && key == "step-timeout":
		d, err := time.ParseDuration(value)
		if err != nil || d <= 0 {
			return bad("%q is not a duration such as 30s or 10m", value)
		}
		c.Envs[sub].StepTimeout = d
	case section == "env" && sub != "" && key == "lock-timeout":
		d, err := time.ParseDuration(value)
		if err != nil || d <= 0 {
			return bad("%q is not a duration such as 10s or 1m30s", value)
		}
		c.Envs[sub].LockTimeout = d
	case section == "env" && sub != "" && key == "pull-target":
		switch v := strings.ToLower(value); v {
		case "true", "false":
			c.Envs[sub].PullTarget = v
		default:
			return bad("%q: want true or false", value)
		}
	case section == "pull" && sub != "":
		pt := c.Pull[sub]
		if pt == nil {
			pt = &PullTable{Pos: map[string]Pos{}}
			c.Pull[sub] = pt
		}
		pt.Pos[key] = p
		switch key {
		case "where":
			pt.Where = strings.TrimSpace(value)
			if err := checkWhere(pt.Where); err != nil {
				return bad("%v", err)
			}
		case "limit":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n <= 0 {
				return bad("%q: want a number of rows above 0", value)
			}
			pt.Limit = n
		default:
			return bad("unknown key %q (want where or limit)", key)
		}
	case section == "group" && sub != "" && key == "env":
		for _, g := range strings.Fields(value) {
			if _, err := glob.Compile(g); err != nil {
				return bad("%q is not a glob: %v", g, err)
			}
			c.Groups[sub] = append(c.Groups[sub], g)
		}
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
			for _, g := range rowGlobs(value) {
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
					return bad("%q: want <column>:json, <column>:php, <column>:php,json or <column>:yaml", f)
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
		case "set":
			for _, f := range strings.Fields(value) {
				cp := parseColumnPath(f, p)
				if strings.ContainsAny(cp.Path, "#*?|@") {
					return bad("%q: a set is a column, or members inside its value (no #, * or other gjson patterns)", f)
				}
				t.Sets = append(t.Sets, cp)
			}
		case "reference":
			const usage = "want <column>[.<path>] <table> [text|number] [none=<value>,...] [format=<text>{}<text>]... [where <column> in (<value>, …)]"
			spec, scope, scoped := strings.Cut(strings.TrimSpace(value), " where ")
			f := strings.Fields(spec)
			if len(f) < 2 {
				return bad(usage)
			}
			r := Reference{ColumnPath: parseColumnPath(f[0], p), Table: f[1]}
			if scoped {
				var ok bool
				if r.WhereColumn, r.WhereIn, ok = parseWhereIn(scope); !ok {
					return bad("%q: %s", value, usage)
				}
			}
			for _, opt := range f[2:] {
				if format, ok := strings.CutPrefix(opt, "format="); ok {
					if strings.Count(format, "{}") != 1 {
						return bad("%q: a format holds {} once, where the id sits in the text (entity:node/{})", opt)
					}
					r.Formats = append(r.Formats, format)
					continue
				}
				if none, ok := strings.CutPrefix(opt, "none="); ok {
					for _, v := range strings.Split(none, ",") {
						if v == "''" { // git config keeps single quotes; "" it drops
							v = ""
						}
						r.None = append(r.None, v)
					}
					continue
				}
				switch {
				case opt != "text" && opt != "number" || r.As != "":
					return bad("%q: want text or number (how ids inside values are written) or none=<value>,... (the values that mean no row)", opt)
				case r.Path == "":
					return bad("%q: only ids inside values are written as text or number", opt)
				}
				r.As = opt
			}
			if scoped && r.Path != "" {
				return bad("%q: where scopes a whole column's reference; a path inside a value is found where the value has it", value)
			}
			if len(r.Formats) > 0 && r.As != "" {
				return bad("%q: an id inside text is text: give format= or text|number, not both", value)
			}
			t.References = append(t.References, r)
		case "redact":
			spec, scope, scoped := strings.Cut(strings.TrimSpace(value), " where ")
			col, rule, _ := strings.Cut(strings.TrimSpace(spec), " ")
			r := Redaction{ColumnPath: parseColumnPath(col, p), Rule: strings.TrimSpace(rule)}
			if scoped {
				var ok bool
				if r.WhereColumn, r.WhereIn, ok = parseWhereIn(scope); !ok {
					return bad("%q: want <column>[.<path>] <rule> where <column> in (<value>, …)", value)
				}
			}
			if text, ok := strings.CutPrefix(r.Rule, "constant:"); ok {
				r.Rule, r.Text = "constant", text
			} else if !slices.Contains(RedactionRules, r.Rule) {
				return bad("%q: want <column>[.<path>] <rule>, the rule one of %s", value, strings.Join(RedactionRules, ", "))
			}
			t.Redactions = append(t.Redactions, r)
		case "where":
			t.Where = strings.TrimSpace(value)
			if err := checkWhere(t.Where); err != nil {
				return bad("%v", err)
			}
		case "exclude-columns":
			t.ExcludeColumns = append(t.ExcludeColumns, strings.Fields(value)...)
		case "layout":
			switch l := serialize.Layout(value); l {
			case serialize.LayoutRows, serialize.LayoutLines, LayoutAuto:
				t.Layout = l
			default:
				return bad("unknown layout %q (want auto, rows or lines)", value)
			}
		case "merge":
			switch value {
			case "ours", "theirs", "create-only", "no-delete":
				t.Merge = value
			default:
				return bad("unknown merge policy %q (want ours, theirs, create-only or no-delete)", value)
			}
		default:
			return bad("unknown key %q (want key, rows, where, exclude-columns, exclude-paths, secret, codec, reference, set, redact, layout or merge)", key)
		}
	default:
		return bad("unknown key")
	}
	return nil
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

// rowGlobs splits a rows value into its globs, at spaces; a glob that
// ends with a comma goes on with the next word, so that a composite key
// is written as plan spells it: rows = main, * !footer, Legal.
func rowGlobs(value string) []string {
	var out []string
	for _, w := range strings.Fields(value) {
		if n := len(out); n > 0 && strings.HasSuffix(out[n-1], ",") {
			out[n-1] += " " + w
			continue
		}
		out = append(out, w)
	}
	return out
}
