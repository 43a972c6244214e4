package gitdb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gobwas/glob"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// InitOptions are the inputs of Init.
type InitOptions struct {
	Env    string // environment to inspect and write; default "dev"
	URL    string // database URL; default: the environment's URL from git config or $DBSYNC_ENV_<NAME>_URL
	Force  bool   // overwrite an existing .dbsync
	Preset string // an application's schema: wordpress, drupal, processwire or django
}

// Suggestion is the class init proposes for one table, and why.
type Suggestion struct {
	Table   string
	Class   config.Class
	Reason  string
	Rows    int64
	Options []string // [table] option lines a preset sets
	// NaturalKey is a unique NOT NULL column set beside an integer id:
	// offered, commented out, as the table's key.
	NaturalKey []string
}

// InitResult is what Init wrote.
type InitResult struct {
	Path        string // the .dbsync written
	Env         string
	Suggestions []Suggestion
}

// smallTable is the largest row count init still calls config when other
// tables reference it: lookup tables are small, content grows.
const smallTable = 1000

// Name rules, tried in order; the first match decides. Globs are matched
// against the lower-cased table name.
var nameRules = []struct {
	class config.Class
	globs string
}{
	{config.ClassCache, "cache cache_* cache[a-z]* *_cache *_cache_*"},
	{config.ClassTemp, "tmp tmp_* temp temp_* *_tmp *_temp queue *_queue semaphore batch flood"},
	{config.ClassIgnore, "session sessions *_session *_sessions watchdog log logs *_log *_logs *_migrations migrations schema_migrations goose_db_version"},
	{config.ClassSequence, "sequences *_sequence *_sequences *_seq"},
	{config.ClassConfig, "*settings* *options* *config* *variable* *_type *_types menu* *_menu *_menus role roles *_role *_roles *permission* auth_group *_group *_groups"},
	{config.ClassContent, "user users *_user *_users account* member* customer* order orders *_order *_orders post posts *_post *_posts comment* *_comments node"},
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

// Init inspects the database of an environment and writes a starter
// .dbsync at the root of the repository containing dir, with a suggested
// class for every table. It never overwrites a .dbsync unless Force.
func Init(ctx context.Context, dir string, opts InitOptions) (*InitResult, error) {
	root, err := FindRoot(dir)
	if err != nil {
		return nil, err
	}
	env := opts.Env
	if env == "" {
		env = "dev"
	}
	var pre *preset
	if opts.Preset != "" {
		if pre = Presets[opts.Preset]; pre == nil {
			return nil, fmt.Errorf("unknown preset %q (want %s)", opts.Preset, strings.Join(PresetNames(), ", "))
		}
	}
	file := filepath.Join(root, config.FileName)
	if _, err := os.Stat(file); err == nil && !opts.Force {
		return nil, fmt.Errorf("%s already exists (use --force to overwrite it)", file)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	url := opts.URL
	if url == "" {
		if url, _, err = config.ResolveURL(root, env, nil, config.FileName); err != nil {
			return nil, fmt.Errorf("%w\nhint: name the database with --url, e.g. --url sqlite:var/dev.db", err)
		}
	}
	db, err := dialect.Open(ctx, url, root)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	sugg, err := suggest(ctx, db)
	if err != nil {
		return nil, err
	}
	if pre != nil {
		if err := applyPreset(pre, sugg); err != nil {
			return nil, err
		}
	}
	text := starterConfig(env, opts.URL, sugg)
	if err := writeFileAtomic(file, []byte(text)); err != nil {
		return nil, err
	}
	return &InitResult{Path: file, Env: env, Suggestions: sugg}, nil
}

// suggest classifies every table by name, then by references: a small
// table that other tables reference is config; the rest is content.
func suggest(ctx context.Context, db dialect.Dialect) ([]Suggestion, error) {
	names, err := db.Tables(ctx)
	if err != nil {
		return nil, err
	}
	referencedBy := map[string][]string{}
	var out []Suggestion
	for _, name := range names {
		if strings.HasPrefix(name, config.ReservedPrefix) {
			continue
		}
		desc, err := db.Describe(ctx, name)
		if err != nil {
			return nil, err
		}
		for _, fk := range desc.ForeignKeys {
			if fk.RefTable != name && !containsString(referencedBy[fk.RefTable], name) {
				referencedBy[fk.RefTable] = append(referencedBy[fk.RefTable], name)
			}
		}
		n, err := db.CountRows(ctx, name)
		if err != nil {
			return nil, err
		}
		out = append(out, Suggestion{Table: name, Rows: n, NaturalKey: naturalKey(desc)})
	}
	for i := range out {
		s := &out[i]
		if class, g := byName(s.Table); class != "" {
			s.Class, s.Reason = class, "name matches "+g
			continue
		}
		refs := referencedBy[s.Table]
		if len(refs) > 0 && s.Rows <= smallTable {
			sort.Strings(refs)
			s.Class, s.Reason = config.ClassConfig, fmt.Sprintf("%d rows, referenced by %s", s.Rows, strings.Join(refs, ", "))
			continue
		}
		s.Class, s.Reason = config.ClassContent, "default"
		if len(refs) > 0 {
			s.Reason = fmt.Sprintf("%d rows: too many for a lookup table", s.Rows)
		}
	}
	return out, nil
}

// naturalKey returns the first unique NOT NULL columns of a table whose
// primary key is one integer column (an id each database allocates), or
// nil.
func naturalKey(desc *dialect.Table) []string {
	if len(desc.PrimaryKey) != 1 {
		return nil
	}
	if c := desc.Column(desc.PrimaryKey[0]); c == nil || c.Type != serialize.Int {
		return nil
	}
	for _, u := range desc.Unique {
		if notNull(desc, u) && !containsString(u, desc.PrimaryKey[0]) {
			return u
		}
	}
	return nil
}

// applyPreset lets a preset classify the tables it knows and set their
// options.
func applyPreset(p *preset, sugg []Suggestion) error {
	var names []string
	for _, s := range sugg {
		names = append(names, s.Table)
	}
	matches, err := p.match(names)
	if err != nil {
		return err
	}
	for i := range sugg {
		if m, ok := matches[sugg[i].Table]; ok {
			sugg[i].Class, sugg[i].Reason, sugg[i].Options = m.rule.class, "preset "+p.Name, m.optionLines()
		}
	}
	return nil
}

func byName(table string) (config.Class, string) {
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

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// starterConfig renders the .dbsync that init writes.
func starterConfig(env, url string, sugg []Suggestion) string {
	var b strings.Builder
	b.WriteString("# git dbsync: which tables of the database are configuration.\n")
	b.WriteString("# Written by 'git dbsync init': review the classes, then run 'git dbsync export'.\n")
	b.WriteString("# See 'git dbsync help init' for the classes and options.\n")
	b.WriteString("[dbsync]\n\tdir = " + config.DefaultDir + "\n")
	fmt.Fprintf(&b, "[env %s]\n", quoteSubsection(env))
	switch {
	case url != "" && dialect.Redact(url) == url:
		b.WriteString("\turl = " + quoteValue(url) + "\n")
	default:
		fmt.Fprintf(&b, "\t# url: set it with 'git config dbsync.env.%s.url URL' or $%s, so it stays out of git\n", env, config.EnvVar(env))
	}
	b.WriteString("[tables]\n")
	for _, class := range config.Classes {
		var globs []string
		for _, s := range sugg {
			if s.Class == class {
				globs = append(globs, globFor(s.Table))
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
			fmt.Fprintf(&b, "[table %s]\n%s\n", quoteSubsection(s.Table), strings.Join(s.Options, "\n"))
		case s.Class == config.ClassConfig && len(s.NaturalKey) > 0:
			if !hinted {
				b.WriteString("# A natural key matches rows across environments by it: the id then stays\n")
				b.WriteString("# out of the files and each database allocates its own. Uncomment to use.\n")
				hinted = true
			}
			fmt.Fprintf(&b, "[table %s]\n\t# key = %s\n", quoteSubsection(s.Table), strings.Join(s.NaturalKey, " "))
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

// writeFileAtomic writes a file through a temporary file and a rename, so
// that readers see the old or the new contents, never a part.
func writeFileAtomic(name string, data []byte) error {
	tmp, err := writeTemp(filepath.Dir(name), "."+filepath.Base(name)+"-*.tmp", data)
	if err != nil {
		return err
	}
	return os.Rename(tmp, name)
}
