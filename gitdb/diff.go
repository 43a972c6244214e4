package gitdb

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/gobwas/glob"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dbrows"
	"github.com/gitdbsync/git-dbsync/gitdb/exportdir"
	"github.com/gitdbsync/git-dbsync/gitdb/ledger"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// DiffOptions name the two sides of a diff. Revisions are From and To;
// Env names a database. With neither revision, the working tree's files
// are compared with the database; with one, that revision with the
// database (Env given) or with the working tree; with two, the revisions.
type DiffOptions struct {
	From, To string
	Env      string
	UseDB    bool // Env was given explicitly
	// Env2 names a second database: Env's is compared with it directly,
	// each read through its own translator (natural keys, references,
	// codecs), so ids that differ are no difference.
	Env2 string
	// Tables narrows the diff to the tables matching these globs.
	Tables []string
}

// DiffResult is a row- and cell-level difference between two sides.
type DiffResult struct {
	From, To string // what each side is, for the reader
	Tables   []*merge.TableDiff
}

// side is one side of a diff: a set of tables with their rows.
type side struct {
	name   string
	tables map[string]*serialize.Table
	// rows streams a table's rows projected onto into.
	rows func(ctx context.Context, table string, into *serialize.Table) (merge.Source, func(), error)
	// ordered runs fn, which reads the side's rows of a table, again with
	// them sorted in memory if a database's order is not the files'.
	ordered func(table string, fn func() error) error
	// strip, on a database's side, returns a row of a table (in the
	// side's columns) without its values' secret paths: the files hold
	// placeholders there, and a path the target lacks is no difference.
	strip map[string]func(serialize.Row) (serialize.Row, error)
}

func runOnce(_ string, fn func() error) error { return fn() }

// Diff compares two of: a revision, the working tree, a database.
func (w *Workspace) Diff(ctx context.Context, opts DiffOptions) (*DiffResult, error) {
	s, err := w.openRead(ctx, opts.Env)
	if err != nil && (opts.UseDB || opts.To == "") {
		return nil, err
	}
	if s == nil { // two revisions need no database
		if s, err = w.openRepoOnly(); err != nil {
			return nil, err
		}
	}
	defer s.close()
	var from, to *side
	switch {
	case opts.Env2 != "":
		var other *session
		if other, err = w.openRead(ctx, opts.Env2); err != nil {
			return nil, err
		}
		defer other.close()
		if from, err = s.dbSide(ctx); err == nil {
			to, err = other.dbSide(ctx)
		}
	case opts.From != "" && opts.To != "":
		if from, err = s.revSide(opts.From); err == nil {
			to, err = s.revSide(opts.To)
		}
	case opts.From != "" && opts.UseDB:
		if from, err = s.revSide(opts.From); err == nil {
			to, err = s.dbSide(ctx)
		}
	case opts.From != "":
		if from, err = s.revSide(opts.From); err == nil {
			to, err = s.treeSide()
		}
	default:
		if from, err = s.treeSide(); err == nil {
			to, err = s.dbSide(ctx)
		}
	}
	if err != nil {
		return nil, err
	}
	res := &DiffResult{From: from.name, To: to.name}
	names := map[string]bool{}
	for n := range from.tables {
		names[n] = true
	}
	for n := range to.tables {
		names[n] = true
	}
	var sorted []string
	globs, err := compileGlobs(opts.Tables)
	if err != nil {
		return nil, err
	}
	matched := make([]bool, len(globs))
	for n := range names {
		hit := len(globs) == 0
		for i, g := range globs {
			if g.Match(n) {
				hit, matched[i] = true, true
			}
		}
		if hit {
			sorted = append(sorted, n)
		}
	}
	for i, ok := range matched { // as pull's --table: a typo is no "no differences"
		if !ok {
			return nil, fmt.Errorf("--table %q matches no table of either side (%s, %s)", opts.Tables[i], from.name, to.name)
		}
	}
	sort.Strings(sorted)
	for _, name := range sorted {
		meta := to.tables[name]
		if meta == nil {
			meta = from.tables[name]
		}
		d, err := diffTable(ctx, name, meta, from, to)
		if err != nil {
			return nil, fmt.Errorf("table %q: %w", name, err)
		}
		if len(d.Changes) > 0 {
			res.Tables = append(res.Tables, d)
		}
	}
	return res, nil
}

// compileGlobs reads --table's globs.
func compileGlobs(patterns []string) ([]*glob.Pattern, error) {
	var out []*glob.Pattern
	for _, p := range patterns {
		g, err := glob.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("--table %q: not a glob: %w", p, err)
		}
		out = append(out, g)
	}
	return out, nil
}

func diffTable(ctx context.Context, name string, meta *serialize.Table, from, to *side) (*merge.TableDiff, error) {
	var d *merge.TableDiff
	err := from.ordered(name, func() error {
		return to.ordered(name, func() error {
			var err error
			d, err = diffTableOnce(ctx, name, meta, from, to)
			return err
		})
	})
	return d, err
}

func diffTableOnce(ctx context.Context, name string, meta *serialize.Table, from, to *side) (*merge.TableDiff, error) {
	sources := [2]merge.Source{merge.Empty, merge.Empty}
	for i, sd := range []*side{from, to} {
		other := sd.tables[name]
		if other == nil {
			continue
		}
		if !slices.Equal(other.Key, meta.Key) {
			return nil, fmt.Errorf("the key is (%v) on one side and (%v) on the other", other.Key, meta.Key)
		}
		src, closer, err := sd.rows(ctx, name, meta)
		if err != nil {
			return nil, err
		}
		defer closer()
		sources[i] = src
	}
	// Secret paths are never compared, as status compares them (a
	// database's side names them; its columns are meta's).
	for _, sd := range []*side{to, from} {
		if strip := sd.strip[name]; strip != nil && sd.tables[name] == meta {
			sources[0], sources[1] = merge.Map(sources[0], strip), merge.Map(sources[1], strip)
			break
		}
	}
	return merge.Diff(meta, sources[0], sources[1])
}

// filesSide is a side whose tables are the files of a tree.
func filesSide(name string, tree exportdir.Tree, tables []exportdir.TableFiles) *side {
	sd := &side{name: name, tables: map[string]*serialize.Table{}, ordered: runOnce}
	byName := map[string]int{}
	for i, tf := range tables {
		sd.tables[tf.Meta.Name], byName[tf.Meta.Name] = tf.Meta, i
	}
	sd.rows = func(_ context.Context, table string, into *serialize.Table) (merge.Source, func(), error) {
		return exportdir.Rows(tree, &tables[byName[table]], tree.Name(), into)
	}
	return sd
}

func (s *session) revSide(rev string) (*side, error) {
	r, err := s.rep.Resolve(rev)
	if err != nil {
		return nil, err
	}
	fs, err := s.revisionFiles(r.Commit, rev)
	if err != nil {
		return nil, err
	}
	return filesSide(rev, fs.tree, fs.tables), nil
}

func (s *session) treeSide() (*side, error) {
	fs, err := s.workTreeFiles()
	if err != nil {
		return nil, err
	}
	return filesSide("working tree ("+s.ws.Config.Dir+"/)", fs.tree, fs.tables), nil
}

func (s *session) dbSide(ctx context.Context) (*side, error) {
	cfg, err := s.targetSecrets(ctx)
	if err != nil {
		return nil, err
	}
	cat, err := dbrows.ReadCatalog(ctx, cfg, s.db)
	if err != nil {
		return nil, err
	}
	sd := &side{name: "database of " + s.env, tables: map[string]*serialize.Table{}, strip: map[string]func(serialize.Row) (serialize.Row, error){}}
	tr := dbrows.NewTranslator(s.db, cat.Tables())
	sources := map[string]*dbrows.Source{}
	for _, t := range cat.Config {
		sd.tables[t.Meta.Name], sources[t.Meta.Name] = t.Meta, dbrows.NewSource(t, tr, false)
		sd.strip[t.Meta.Name] = t.WithoutSecrets
	}
	sd.rows = func(ctx context.Context, table string, into *serialize.Table) (merge.Source, func(), error) {
		src, stop := sources[table].Pull(ctx, nil)
		return merge.Project(src, sources[table].T.Meta, into), stop, nil
	}
	sd.ordered = func(table string, fn func() error) error {
		if src := sources[table]; src != nil {
			return src.Ordered(fn)
		}
		return fn()
	}
	return sd, nil
}

// targetSecrets is the working tree's .dbsync with the secrets of the
// revision the target is at too: a secret stays secret in the target
// whatever the working tree's .dbsync says, and is never printed.
func (s *session) targetSecrets(ctx context.Context) (*config.Config, error) {
	l, err := ledger.Read(ctx, s.db)
	if err != nil {
		return nil, err
	}
	cur := l.Current()
	if cur == nil || !s.rep.HasCommit(cur.Commit) {
		return s.ws.Config, nil
	}
	fs, err := s.revisionFiles(cur.Commit, cur.Revision)
	if err != nil {
		return nil, err
	}
	return unionSecrets(s.ws.Config, fs.cfg), nil
}
