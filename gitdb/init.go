package gitdb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect/sqlite"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/internal/atomicfile"
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
	// Key is a unique NOT NULL text column beside an integer id, which
	// init makes the table's key; OfferedKey another unique NOT NULL set,
	// offered commented out.
	Key, OfferedKey []string
}

// InitResult is what Init wrote.
type InitResult struct {
	Path        string // the .dbsync written
	Env         string
	Suggestions []Suggestion
	// Ignored is the line init added to .gitignore for an SQLite database
	// inside the repository ("" when it added none); Tracked names such a
	// database that git already tracks, which .gitignore cannot keep out.
	Ignored, Tracked string
	// InGitConfig says the URL given went to this clone's git config
	// (dbsync.env.<env>.url), not into .dbsync: it holds a password or a
	// user name (which may be a token).
	InGitConfig bool
}

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
	var pre *config.Preset
	if opts.Preset != "" {
		if pre = config.Presets[opts.Preset]; pre == nil {
			return nil, fmt.Errorf("unknown preset %q (want %s)", opts.Preset, strings.Join(config.PresetNames(), ", "))
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
	draft := &config.Draft{Env: env}
	res := &InitResult{Path: file, Env: env, Suggestions: sugg}
	switch {
	case dialect.Redact(opts.URL) == opts.URL:
		draft.URL = opts.URL
	case opts.URL != "": // a password or user name stays out of the file, in this clone's config
		if err := (repo.Git{Dir: root}).Run("config", "dbsync.env."+env+".url", opts.URL); err != nil {
			return nil, err
		}
		res.InGitConfig = true
	}
	for i, s := range sugg {
		if s.Class != config.ClassConfig || len(s.Options) > 0 { // keys matter to config; a preset sets its own
			sugg[i].Key, sugg[i].OfferedKey = nil, nil
		}
		draft.Tables = append(draft.Tables, config.DraftTable{Name: s.Table, Class: s.Class, Options: s.Options, Key: sugg[i].Key, OfferedKey: sugg[i].OfferedKey})
	}
	if err := atomicfile.WriteFile(file, []byte(draft.Render()), 0o666); err != nil {
		return nil, err
	}
	if f, ok := db.(*sqlite.DB); ok {
		if res.Ignored, res.Tracked, err = ignoreDatabase(root, f.Path); err != nil {
			return res, err
		}
	}
	return res, nil
}

// ignoreDatabase keeps an SQLite database file inside the repository out
// of commits: it appends a line for it (and its -wal, -shm and -journal
// files) to the root .gitignore unless git already ignores it. It returns
// the line added, or the file's path when git tracks it already.
func ignoreDatabase(root, file string) (added, tracked string, err error) {
	rel, err := filepath.Rel(root, file)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", "", nil // outside the repository: not git's to ignore
	}
	rel = filepath.ToSlash(rel)
	git := repo.Git{Dir: root}
	if _, err := git.Output("ls-files", "--error-unmatch", "--", rel); err == nil {
		return "", rel, nil
	}
	if _, err := git.Output("check-ignore", "-q", "--", rel); err == nil {
		return "", "", nil // ignored already (by this or another rule)
	}
	p := filepath.Join(root, ".gitignore")
	data, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", "", err
	}
	line := "/" + rel + "*"
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	data = append(data, line+"\n"...)
	return line, "", atomicfile.WriteFile(p, data, 0o666)
}

// suggest classifies every table by name; the rest is content. Being
// referenced is no sign of config: menu items point at pages, which are
// content, and a table wrongly called config would have apply overwrite a
// target's rows. The reason names the tables that reference it, for a
// person to decide.
func suggest(ctx context.Context, db dialect.Dialect) ([]Suggestion, error) {
	names, err := db.Tables(ctx)
	if err != nil {
		return nil, err
	}
	referencedBy := map[string][]string{}
	var out []Suggestion
	for _, name := range names {
		if config.Reserved(name) {
			continue
		}
		desc, err := db.Describe(ctx, name)
		if err != nil {
			return nil, err
		}
		for _, fk := range desc.ForeignKeys {
			if fk.RefTable != name && !slices.Contains(referencedBy[fk.RefTable], name) {
				referencedBy[fk.RefTable] = append(referencedBy[fk.RefTable], name)
			}
		}
		n, err := db.CountRows(ctx, name)
		if err != nil {
			return nil, err
		}
		key, offered := naturalKey(desc)
		out = append(out, Suggestion{Table: name, Rows: n, Key: key, OfferedKey: offered})
	}
	for i := range out {
		s := &out[i]
		if class, g := config.ClassifyByName(s.Table); class != "" {
			s.Class, s.Reason = class, "name matches "+g
			continue
		}
		s.Class, s.Reason = config.ClassContent, "default"
		if refs := referencedBy[s.Table]; len(refs) > 0 {
			sort.Strings(refs)
			s.Reason = fmt.Sprintf("default; referenced by %s (config only if people maintain its rows)", strings.Join(refs, ", "))
		}
	}
	return out, nil
}

// naturalKey finds, in a table whose primary key is one integer column
// (an id each database allocates), a unique NOT NULL text column to key
// its rows by, or else the first other unique NOT NULL columns to offer.
func naturalKey(desc *dialect.Table) (key, offered []string) {
	if len(desc.PrimaryKey) != 1 {
		return nil, nil
	}
	if c := desc.Column(desc.PrimaryKey[0]); c == nil || c.Type != serialize.Int {
		return nil, nil
	}
	for _, u := range desc.Unique {
		if !desc.NotNull(u) || slices.Contains(u, desc.PrimaryKey[0]) {
			continue
		}
		if len(u) == 1 && desc.Column(u[0]).Type == serialize.Text {
			return u, nil
		}
		if offered == nil {
			offered = u
		}
	}
	return nil, offered
}

// applyPreset lets a preset classify the tables it knows and set their
// options.
func applyPreset(p *config.Preset, sugg []Suggestion) error {
	var names []string
	for _, s := range sugg {
		names = append(names, s.Table)
	}
	matches, err := p.Match(names)
	if err != nil {
		return err
	}
	for i := range sugg {
		if m, ok := matches[sugg[i].Table]; ok {
			sugg[i].Class, sugg[i].Reason, sugg[i].Options = m.Class(), "preset "+p.Name, m.OptionLines()
		}
	}
	return nil
}

// Preset names an application schema init knows, and what it does.
type Preset struct{ Name, About string }

// Presets lists the presets init knows, sorted by name.
func Presets() []Preset {
	var out []Preset
	for _, name := range config.PresetNames() {
		out = append(out, Preset{Name: name, About: config.Presets[name].About})
	}
	return out
}
