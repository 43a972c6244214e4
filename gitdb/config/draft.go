package config

import (
	"fmt"
	"strings"

	"github.com/gobwas/glob"
)

// Name rules, tried in order; the first match decides. Globs are matched
// against the lower-cased table name.
var nameRules = []struct {
	class Class
	globs string
}{
	{ClassCache, "cache cache_* cache[a-z]* *_cache *_cache_*"},
	{ClassTemp, "tmp tmp_* temp temp_* *_tmp *_temp queue *_queue semaphore batch flood"},
	{ClassIgnore, "session sessions *_session *_sessions watchdog log logs *_log *_logs *_migrations migrations schema_migrations goose_db_version"},
	{ClassSequence, "sequences *_sequence *_sequences *_seq"},
	{ClassConfig, "*settings* *options* *config* *variable* *_type *_types menu* *_menu *_menus role roles *_role *_roles *permission* auth_group *_group *_groups"},
	{ClassContent, "user users *_user *_users account* member* customer* order orders *_order *_orders post posts *_post *_posts comment* *_comments node"},
}

var compiledRules = func() [][]*glob.Pattern {
	out := make([][]*glob.Pattern, len(nameRules))
	for i, r := range nameRules {
		for _, g := range strings.Fields(r.globs) {
			out[i] = append(out[i], glob.MustCompile(g))
		}
	}
	return out
}()

// ClassifyByName returns the class the name rules give a table, and the
// glob that matched ("" when none does).
func ClassifyByName(table string) (Class, string) {
	lower := strings.ToLower(table)
	for i, rule := range compiledRules {
		for j, g := range rule {
			if g.Match(lower) {
				return nameRules[i].class, strings.Fields(nameRules[i].globs)[j]
			}
		}
	}
	return "", ""
}

// Draft is a .dbsync to write: the one git dbsync init suggests.
type Draft struct {
	Env    string
	URL    string // written only when given ("" leaves a hint instead)
	Tables []DraftTable
}

// DraftTable is one table of a draft.
type DraftTable struct {
	Name    string
	Class   Class
	Options []string // [table] option lines (a preset's)
	// Key is a natural key init found (a unique name beside an integer
	// id), written as the table's key; OfferedKey one it only offers,
	// commented out (several columns, or not text).
	Key, OfferedKey []string
}

// Render writes the draft in .dbsync's syntax.
func (d *Draft) Render() string {
	env, url, sugg := d.Env, d.URL, d.Tables
	var b strings.Builder
	b.WriteString("# git dbsync: which tables of the database are configuration.\n")
	b.WriteString("# Written by 'git dbsync init': review the classes, then run 'git dbsync export'.\n")
	b.WriteString("# See 'git dbsync help init' for the classes and options.\n")
	b.WriteString("[dbsync]\n\tdir = " + DefaultDir + "\n")
	fmt.Fprintf(&b, "[env %s]\n", quoteSubsection(env))
	switch {
	case url != "":
		b.WriteString("\turl = " + quoteValue(url) + "\n")
	default:
		fmt.Fprintf(&b, "\t# url: set it with 'git config dbsync.env.%s.url URL' or $%s, so it stays out of git\n", env, EnvVar(env))
	}
	b.WriteString("[tables]\n")
	for _, class := range Classes {
		var globs []string
		for _, s := range sugg {
			if s.Class == class {
				globs = append(globs, globFor(s.Name))
			}
		}
		line := ""
		for _, g := range globs {
			if line != "" && len(line)+len(g) > 64 {
				fmt.Fprintf(&b, "\t%s = %s\n", class, quoteValue(line))
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += g
		}
		if line != "" {
			fmt.Fprintf(&b, "\t%s = %s\n", class, quoteValue(line))
		}
	}
	hinted := false
	for _, s := range sugg {
		switch {
		case len(s.Options) > 0:
			fmt.Fprintf(&b, "[table %s]\n%s\n", quoteSubsection(s.Name), strings.Join(s.Options, "\n"))
		case s.Class == ClassConfig && len(s.Key)+len(s.OfferedKey) > 0:
			if !hinted {
				b.WriteString("# A natural key matches rows across environments by it: the id then stays\n")
				b.WriteString("# out of the files and each database allocates its own. init sets a unique\n")
				b.WriteString("# name beside an integer id as the key (remove the line to match rows by\n")
				b.WriteString("# id) and offers other unique columns commented out.\n")
				hinted = true
			}
			if len(s.Key) > 0 {
				fmt.Fprintf(&b, "[table %s]\n\tkey = %s\n", quoteSubsection(s.Name), strings.Join(s.Key, " "))
			} else {
				fmt.Fprintf(&b, "[table %s]\n\t# key = %s\n", quoteSubsection(s.Name), strings.Join(s.OfferedKey, " "))
			}
		}
	}
	return b.String()
}

// globFor returns a glob that matches exactly one table name: glob
// characters escaped, whitespace (which separates globs) matched by "?".
func globFor(name string) string {
	g := glob.QuoteMeta(name)
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return '?'
		}
		return r
	}, g)
}

// quoteValue writes a git-config value so that it reads back unchanged.
func quoteValue(v string) string {
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v)
	if esc != v || strings.ContainsAny(v, "#;") || strings.TrimSpace(v) != v {
		return `"` + esc + `"`
	}
	return v
}

func quoteSubsection(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
