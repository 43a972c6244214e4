package gitdb

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"sync"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dbrows"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/exportdir"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// ExportOptions are the inputs of Export.
type ExportOptions struct {
	Env   string // environment to read; "" for the default
	Check bool   // compute the changes but write nothing
	// Record is the export command's: it refuses a database never in
	// step with the files (unless Force), and notes in the clone what it
	// left (exported.go), for a first sync of a development database with
	// no ledger. The hooks' export needs neither: their sync comes first
	// and their commit records the database in step (and they must stay
	// fast).
	Record bool
	// Force exports a database never in step with the files (see
	// neverInStep) although it would delete the rows it lacks.
	Force bool
	// Status is the git status of the work tree taken as the export
	// began (the hook's, which it shares); nil starts one, which runs
	// while the database is read.
	Status *repo.PendingStatus
	// Before, when set, is called once the database is read and let go
	// of, before any file is written: an error it returns ends the
	// export, nothing written. The hook reads ahead while its sync runs.
	Before func() error
}

// TableExport is what an export did (or would do) to one table's files.
type TableExport struct {
	Table  string
	Dir    string // the table's directory, relative to the repository root
	Layout serialize.Layout
	exportdir.Counts
	Dropped bool // the table is no longer exported; its files are removed
}

// Changes reports whether the table's files change.
func (t *TableExport) Changes() bool {
	return t.Added+t.Changed+t.Removed > 0 || t.MetaChanged || t.Dropped
}

// ExportResult is the outcome of Export.
type ExportResult struct {
	Env          string
	Dir          string // export directory relative to the repository root
	Tables       []TableExport
	Unclassified []string // tables no class matches
	Warnings     []string
	Check        bool // nothing was written
}

// Changed reports whether any file changes (or, with Check, would).
func (r *ExportResult) Changed() bool {
	for i := range r.Tables {
		if r.Tables[i].Changes() {
			return true
		}
	}
	return false
}

// Export writes the canonical files of every config table of an
// environment's database into the export directory, rewriting only files
// whose bytes change and removing the files of rows and tables no longer
// exported. Nothing is written unless every table exports without error.
func (w *Workspace) Export(ctx context.Context, opts ExportOptions) (*ExportResult, error) {
	status := opts.Status
	if status == nil {
		status = repo.StartStatus(w.Root)
	}
	res, err := w.export(ctx, opts, status)
	if err != nil {
		// Unresolved conflicts explain any other failure (a file with
		// conflict markers): said first, as before anything was read.
		if st, serr := status.Wait(); serr == nil {
			if paths := st.Unmerged(w.Config.Dir); len(paths) > 0 {
				return nil, &UnmergedError{Paths: paths}
			}
		}
	}
	return res, err
}

func (w *Workspace) export(ctx context.Context, opts ExportOptions, status *repo.PendingStatus) (*ExportResult, error) {
	db, env, err := w.OpenEnv(ctx, opts.Env)
	if err != nil {
		return nil, err
	}
	closeDB := sync.OnceValue(db.Close)
	defer closeDB()
	if err := readOnly(ctx, w, db, env); err != nil {
		return nil, err
	}
	cat, err := dbrows.ReadCatalog(ctx, w.Config, db)
	if err != nil {
		return nil, err
	}
	if opts.Record && !opts.Force {
		if err := w.refuseNeverInStep(ctx, db, env, cat); err != nil {
			return nil, err
		}
	}
	res := &ExportResult{Env: env, Dir: w.Config.Dir, Unclassified: cat.Unclassified, Warnings: cat.Warnings, Check: opts.Check}
	gitDir, _ := repo.CommonDir(w.Root)
	tmp := ""
	if gitDir != "" { // temporary files where git never looks
		tmp = filepath.Join(gitDir, "dbsync", "tmp")
	}
	st, err := exportdir.NewStage(filepath.Join(w.Root, filepath.FromSlash(w.Config.Dir)), tmp, opts.Check)
	if err != nil {
		return nil, err
	}
	defer st.Abort()
	dirs := map[string]string{} // table directory → table, to catch name collisions
	var caches []*exportdir.Cache
	var rep *repo.Repo
	if rep, err = repo.Open(w.Root); err == nil {
		defer rep.Close()
	}
	committed := w.committedFiles(rep)
	var assumed []trustedEarly
	writeTable := func(t *dbrows.Table, src *dbrows.Source, each exportdir.Each, cache *exportdir.Cache) (c *exportdir.Counts, err error) {
		err = src.Ordered(func() (err error) {
			c, err = st.WriteTable(t.Meta, each, cache)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("table %q: %w", t.Meta.Name, err)
		}
		return c, nil
	}
	// Reading ahead overlaps the database's reads with the translation
	// and encoding of the rows read.
	tr := dbrows.NewTranslator(dbrows.ReadAhead(db), cat.Tables())
	tr.Meter = w.Meter
	w.Meter.Start("exporting", -1)
	for _, t := range cat.Config {
		dir := serialize.TableDir(t.Meta.Name)
		if other, dup := dirs[dir]; dup {
			return nil, fmt.Errorf("tables %q and %q would share the directory %s", other, t.Meta.Name, dir)
		}
		dirs[dir] = t.Meta.Name
		src := dbrows.NewSource(t, tr, false)
		each := func(fn func(serialize.Row) error) error { return src.Each(ctx, fn) }
		if t.Options.AutoLayout() {
			was, err := st.Layout(dir)
			if err != nil {
				return nil, err
			}
			layout, held, err := chooseLayout(ctx, src, was)
			if err != nil {
				return nil, fmt.Errorf("table %q: %w", t.Meta.Name, err)
			}
			t.Meta.Layout = layout
			if held != nil {
				each = held.each
			}
		}
		var cache *exportdir.Cache
		if gitDir != "" {
			cache = exportdir.OpenCache(gitDir, env, t.Meta.Name)
			var unchanged func(*repo.Status) bool
			cache.Committed, unchanged = committed(dir, t.Meta.Layout)
			if unchanged != nil {
				i := len(res.Tables)
				cache.Clean = func() bool {
					if !status.Ready() { // assumed, and checked once git status answers
						if len(assumed) == 0 || assumed[len(assumed)-1].i != i {
							assumed = append(assumed, trustedEarly{i, t, src, unchanged})
						}
						return true
					}
					sts, err := status.Wait()
					return err == nil && unchanged(sts)
				}
			}
			caches = append(caches, cache)
		}
		c, err := writeTable(t, src, each, cache)
		if err != nil {
			return nil, err
		}
		res.Tables = append(res.Tables, TableExport{Table: t.Meta.Name, Dir: path.Join(w.Config.Dir, dir), Layout: t.Meta.Layout, Counts: *c})
	}
	if len(assumed) > 0 {
		// Tables trusted before git status answered: those it reports
		// changed are checked in full after all.
		sts, serr := status.Wait()
		for _, a := range assumed {
			if serr == nil && a.unchanged(sts) {
				continue
			}
			cache := exportdir.OpenCache(gitDir, env, a.t.Meta.Name)
			c, err := writeTable(a.t, a.src, func(fn func(serialize.Row) error) error { return a.src.Each(ctx, fn) }, cache)
			if err != nil {
				return nil, err
			}
			caches = append(caches, cache)
			res.Tables[a.i].Counts = *c
		}
	}
	res.Warnings = append(res.Warnings, tr.KeptAsText()...)
	exported := map[string]bool{}
	for dir := range dirs {
		exported[dir] = true
	}
	dropped, err := st.DropTables(exported)
	if err != nil {
		return nil, err
	}
	for _, d := range dropped {
		res.Tables = append(res.Tables, TableExport{Table: d.Table, Dir: path.Join(w.Config.Dir, d.Dir), Layout: d.Layout, Counts: d.Counts, Dropped: true})
	}
	if opts.Before != nil {
		// Another session may be waiting to write what Before waits for.
		closeDB()
		if err := opts.Before(); err != nil {
			return nil, err
		}
	}
	sts, err := status.Wait()
	if err != nil {
		return nil, err
	}
	if paths := sts.Unmerged(w.Config.Dir); len(paths) > 0 {
		return nil, &UnmergedError{Paths: paths}
	}
	if sts.Untracked(w.Config.Dir) {
		st.CleanTemp()
	}
	if err := st.Commit(); err != nil || opts.Check {
		return res, err
	}
	for _, c := range caches {
		c.Save()
	}
	if dev, _ := w.Config.DefaultEnv(); opts.Record && env == dev {
		w.recordExport(ctx, db, env)
	}
	return res, nil
}

// trustedEarly is a table whose files the export cache trusted before
// git status answered.
type trustedEarly struct {
	i         int // in the result's tables
	t         *dbrows.Table
	src       *dbrows.Source
	unchanged func(*repo.Status) bool
}

// committedFiles returns what the export cache needs to trust a table's
// files without reading them: the git object id of its files in HEAD
// (the rows directory's tree, the lines file's blob), and whether a git
// status saw them unchanged from HEAD (nil: nothing to trust). HEAD's
// trees are read in this process, while git status runs.
func (w *Workspace) committedFiles(rep *repo.Repo) func(dir string, layout serialize.Layout) (string, func(*repo.Status) bool) {
	head := ""
	var tables map[string][]repo.Entry // HEAD's table directories, read at the first table
	if rep != nil {
		head = rep.Head()
	}
	return func(dir string, layout serialize.Layout) (string, func(*repo.Status) bool) {
		if head != "" && tables == nil {
			var err error
			if tables, err = rep.ReadSubdirs(head, w.Config.Dir); err != nil || tables == nil {
				head = "" // nothing to trust
			}
		}
		if head == "" {
			return "", nil
		}
		tableDir := path.Join(w.Config.Dir, dir)
		id := ""
		for _, e := range tables[dir] {
			if layout == serialize.LayoutRows && e.Dir && e.Name == serialize.RowsDir || layout == serialize.LayoutLines && !e.Dir && e.Name == serialize.LinesFile {
				id = e.ID
			}
		}
		return id, func(st *repo.Status) bool { return st.Head == head && st.Clean(tableDir) }
	}
}

// heldRows are the rows of a small table, read once while its layout was
// chosen.
type heldRows []serialize.Row

func (h heldRows) each(fn func(serialize.Row) error) error {
	for _, r := range h {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

var errEnough = errors.New("enough rows")

// chooseLayout chooses the layout of a table whose .dbsync leaves it to
// export (layout = auto): rows up to config.AutoLinesAbove rows, lines
// above; a table already in lines goes back to rows only below
// config.AutoRowsBelow, so that a table near the threshold never flips
// between exports. It reads no more than one row past the threshold (a
// read stopped early would still cross the network whole); a table in
// the rows layout comes back with its rows, not to be read again.
func chooseLayout(ctx context.Context, src *dbrows.Source, was serialize.Layout) (serialize.Layout, heldRows, error) {
	limit := config.AutoLinesAbove
	if was == serialize.LayoutLines {
		limit = config.AutoRowsBelow - 1
	}
	held := heldRows{}
	over := false
	err := src.Ordered(func() error {
		held, over = held[:0], false
		err := src.EachFirst(ctx, limit+1, func(r serialize.Row) error {
			if len(held) == limit {
				over = true
				return errEnough
			}
			held = append(held, dbrows.CloneRow(r))
			return nil
		})
		if errors.Is(err, errEnough) {
			return nil
		}
		return err
	})
	if err != nil || over {
		return serialize.LayoutLines, nil, err
	}
	return serialize.LayoutRows, held, nil
}

// refuseNeverInStep refuses to export a database never in step with the
// files while the working tree has files of exported tables: it would
// delete every row the database lacks, rows it never had.
func (w *Workspace) refuseNeverInStep(ctx context.Context, db dialect.Dialect, env string, cat *dbrows.Catalog) error {
	files, err := exportdir.ReadTables(exportdir.WorkTree{Root: w.Root}, w.Config.Dir)
	if err != nil {
		return err
	}
	have := false // files of a table this export writes
	for _, tf := range files {
		have = have || slices.ContainsFunc(cat.Config, func(t *dbrows.Table) bool { return t.Meta.Name == tf.Meta.Name })
	}
	if !have {
		return nil
	}
	never, err := w.neverInStep(ctx, db, env)
	if err != nil || !never {
		return err
	}
	return fmt.Errorf("the database of %q was never in step with the files of %s/ (no sync, no apply, no export of it from this clone): exporting it would delete every row it lacks, rows it never had; nothing written\nhint: bring it to the files first with 'git dbsync sync' (or 'git dbsync apply <revision> --env %s'); to export it as it is, deleting those rows' files, run 'git dbsync export --force'", env, w.Config.Dir, env)
}
