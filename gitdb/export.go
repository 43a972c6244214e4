package gitdb

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// ExportOptions are the inputs of Export.
type ExportOptions struct {
	Env   string // environment to read; "" for the default
	Check bool   // compute the changes but write nothing
}

// TableExport is what an export did (or would do) to one table's files.
type TableExport struct {
	Table       string
	Dir         string // the table's directory, relative to the repository root
	Layout      serialize.Layout
	Rows        int // rows exported
	Added       int
	Changed     int
	Removed     int
	MetaChanged bool // table.json written
	New         bool // the table had no files before
	Dropped     bool // the table is no longer exported; its files are removed
}

// Changed reports whether the table's files change.
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
	if err := w.checkMerged(); err != nil {
		return nil, err
	}
	db, env, err := w.OpenEnv(ctx, opts.Env)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	cat, err := readCatalog(ctx, w.Config, db)
	if err != nil {
		return nil, err
	}
	res := &ExportResult{Env: env, Dir: w.Config.Dir, Unclassified: cat.Unclassified, Warnings: cat.Warnings}
	st := &stage{base: filepath.Join(w.Root, filepath.FromSlash(w.Config.Dir)), dry: opts.Check}
	if fi, err := os.Lstat(st.base); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("export directory %s is a symbolic link: refusing to write through it", w.Config.Dir)
	}
	defer st.abort()
	dirs := map[string]string{} // table directory → table, to catch name collisions
	gitDir, _ := repo.CommonDir(w.Root)
	var caches []*cacheEntry
	tr := newTranslator(db, cat.Config)
	for _, t := range cat.Config {
		dir := serialize.TableDir(t.Meta.Name)
		if other, dup := dirs[dir]; dup {
			return nil, fmt.Errorf("tables %q and %q would share the directory %s", other, t.Meta.Name, dir)
		}
		dirs[dir] = t.Meta.Name
		var cache *cacheEntry
		if gitDir != "" && t.Meta.Layout == serialize.LayoutRows {
			cache = &cacheEntry{path: rowsCachePath(gitDir, env, t.Meta.Name), dir: filepath.Join(st.base, dir, serialize.RowsDir)}
			cache.old = loadRowsCache(cache.path)
			caches = append(caches, cache)
		}
		te, err := exportTable(ctx, tr, st, t, cache)
		if err != nil {
			return nil, fmt.Errorf("gitdb/export: table %q: %w", t.Meta.Name, err)
		}
		te.Dir = path.Join(w.Config.Dir, dir)
		res.Tables = append(res.Tables, *te)
	}
	dropped, err := dropTables(st, dirs)
	if err != nil {
		return nil, err
	}
	for i := range dropped {
		dropped[i].Dir = path.Join(w.Config.Dir, dropped[i].Dir)
	}
	res.Tables = append(res.Tables, dropped...)
	if err := st.commit(); err != nil || opts.Check {
		return res, err
	}
	for _, c := range caches {
		if c.hash != "" {
			saveRowsCache(c.path, c.dir, c.hash) // a cache is only a shortcut: failing to save it costs time, not correctness
		}
	}
	return res, nil
}

// exportTable stages the files of one table.
func exportTable(ctx context.Context, tr *translator, st *stage, t *configTable, cache *cacheEntry) (*TableExport, error) {
	meta := t.Meta
	dir := serialize.TableDir(meta.Name)
	te := &TableExport{Table: meta.Name, Layout: meta.Layout}
	metaBytes, err := meta.MarshalMeta()
	if err != nil {
		return nil, err
	}
	metaRel := path.Join(dir, serialize.MetaFile)
	old, err := readFile(st, metaRel)
	if err != nil {
		return nil, err
	}
	te.New = old == nil
	if !bytes.Equal(old, metaBytes) {
		te.MetaChanged = true
		if err := st.write(metaRel, metaBytes); err != nil {
			return nil, err
		}
	}
	src := &rowSource{t: t, tr: tr}
	switch meta.Layout {
	case serialize.LayoutLines:
		err = exportLines(ctx, st, src, te)
		if errors.Is(err, errOrder) { // the engine's order is not ours: sort in memory
			src.sortInMemory = true
			te.Rows, te.Added, te.Changed, te.Removed = 0, 0, 0, 0
			err = exportLines(ctx, st, src, te)
		}
		if err == nil {
			err = removeRowFiles(st, dir, te)
		}
	default:
		err = exportRowFiles(ctx, st, src, te, cache)
		if err == nil {
			err = removeLines(st, dir, te)
		}
	}
	return te, err
}

// errOrder reports that an engine returned rows out of the key order.
var errOrder = errors.New("rows are not in key order")

// rowSource streams the exported rows of a table in key order, encoded as
// canonical cells, in the row scope, with each key checked to be unique.
type rowSource struct {
	t            *configTable
	tr           *translator // reads the database, into the files' form
	sortInMemory bool
	keepHidden   bool // keep the values of hidden paths to write them back (a target)
}

func (s *rowSource) each(ctx context.Context, fn func(serialize.Row) error) error {
	meta := s.t.Meta
	if s.t.keyHasRef { // the database orders the ids, not the keys they stand for
		s.sortInMemory = true
	}
	var (
		buf     []byte
		row     = make(serialize.Row, len(meta.Columns))
		prev    serialize.Row
		held    []serialize.Row
		prevBuf []byte
	)
	emit := func(r serialize.Row) error {
		if prev != nil {
			switch c := meta.CompareKeys(prev, r); {
			case c == 0:
				return s.duplicate(r)
			case c > 0:
				return errOrder
			}
		}
		// Keep a copy of the key cells to compare with the next row.
		prevBuf = prevBuf[:0]
		if prev == nil {
			prev = make(serialize.Row, len(r))
		}
		for _, k := range meta.KeyIndexes() {
			start := len(prevBuf)
			prevBuf = append(prevBuf, r[k]...)
			prev[k] = prevBuf[start:len(prevBuf):len(prevBuf)]
		}
		return fn(r)
	}
	if err := s.tr.prepare(ctx, s.t, nil); err != nil {
		return err
	}
	desc := s.t.Desc
	if o := s.t.Options; o != nil && o.Where != "" {
		filtered := *desc
		filtered.Filter = o.Where
		desc = &filtered
	}
	err := s.tr.db.ReadRows(ctx, desc, s.t.columns, meta.Key, func(values []any) error {
		var err error
		if buf, err = s.tr.rowToFile(ctx, s.t, values, row, buf, s.keepHidden); err != nil {
			return err
		}
		if s.t.Options.Scoped() && !s.t.Options.InScope(meta.KeyText(row)) {
			return nil
		}
		if s.sortInMemory {
			held = append(held, cloneRow(row))
			return nil
		}
		return emit(row)
	})
	if err != nil || !s.sortInMemory {
		return err
	}
	slices.SortStableFunc(held, meta.CompareKeys)
	for _, r := range held {
		if err := emit(r); err != nil {
			return err
		}
	}
	return nil
}

func cloneRow(r serialize.Row) serialize.Row {
	out := make(serialize.Row, len(r))
	for i, c := range r {
		out[i] = append(serialize.Cell(nil), c...)
	}
	return out
}

// describeKey names a row by its key for messages: name="home".
func describeKey(meta *serialize.Table, r serialize.Row) string {
	var parts []string
	for i, k := range meta.KeyIndexes() {
		parts = append(parts, meta.Key[i]+"="+string(r[k]))
	}
	return strings.Join(parts, ", ")
}

func (s *rowSource) duplicate(r serialize.Row) error {
	msg := fmt.Sprintf("key (%s) is not unique: more than one row has %s", strings.Join(s.t.Meta.Key, ", "), describeKey(s.t.Meta, r))
	if o := s.t.Options; o != nil && len(o.Key) > 0 {
		return &config.Error{Pos: o.Pos["key"], Msg: msg}
	}
	return errors.New(msg)
}

// exportRowFiles stages one file per row and the removal of row files
// whose rows are gone. A table without a rows directory yet gets its files
// written straight into a new directory that commit renames into place.
func exportRowFiles(ctx context.Context, st *stage, src *rowSource, te *TableExport, cache *cacheEntry) error {
	meta := src.t.Meta
	rowsRel := path.Join(serialize.TableDir(meta.Name), serialize.RowsDir)
	if cache != nil && cache.old != nil {
		// If the files are as the last export left them, hash the rows
		// instead of reading every file: the same hash, nothing changed.
		// The files are checked (a stat each) while the rows are read.
		untouched := make(chan bool, 1)
		go func() { untouched <- cache.old.untouched(cache.dir) }()
		h := newRowsHash()
		rows := 0
		var line []byte
		err := src.each(ctx, func(r serialize.Row) error {
			line = meta.AppendLine(line[:0], r)
			h.add(serialize.FileName(meta.KeyText(r)...)+serialize.RowExt, line)
			rows++
			return nil
		})
		if ok := <-untouched; ok && err == nil && h.sum() == cache.old.hash {
			te.Rows = rows
			return nil
		}
	}
	existing, err := listRowFiles(st, rowsRel)
	if err != nil {
		return err
	}
	h := newRowsHash() // of names and canonical lines: cheaper than the files' bytes, as telling
	fresh := ""
	if existing == nil && !st.dry {
		if fresh, err = st.tempDir(rowsRel); err != nil {
			return err
		}
	}
	written := map[string]string{} // file name → key, to prove names distinct
	var buf, line []byte
	err = src.each(ctx, func(r serialize.Row) error {
		name := serialize.FileName(meta.KeyText(r)...) + serialize.RowExt
		if other, dup := written[name]; dup {
			return fmt.Errorf("rows %s and %s map to the same file name %s", other, describeKey(meta, r), name)
		}
		written[name] = meta.KeyOf(r)
		te.Rows++
		var err error
		if buf, err = meta.AppendPretty(buf[:0], r); err != nil {
			return fmt.Errorf("row %s: %w", describeKey(meta, r), err)
		}
		line = meta.AppendLine(line[:0], r)
		h.add(name, line)
		rel := path.Join(rowsRel, name)
		switch {
		case fresh != "":
			te.Added++
			return os.WriteFile(filepath.Join(fresh, name), buf, 0o644)
		case !existing[name]:
			te.Added++
			return st.write(rel, buf)
		}
		old, err := readFile(st, rel)
		if err != nil || bytes.Equal(old, buf) {
			return err
		}
		te.Changed++
		return st.write(rel, buf)
	})
	if err != nil {
		return err
	}
	for name := range existing {
		if _, ok := written[name]; !ok {
			te.Removed++
			if err := st.remove(path.Join(rowsRel, name)); err != nil {
				return err
			}
		}
	}
	if cache != nil {
		cache.hash = h.sum()
	}
	return nil
}

// cacheEntry is a table's rows cache: as found, and what to record after
// the export commits.
type cacheEntry struct {
	path, dir string
	old       *rowsCache
	hash      string // set when the files were checked or written
}

// listRowFiles returns the names of the row files in a rows directory, or
// nil when the directory does not exist.
func listRowFiles(st *stage, rowsRel string) (map[string]bool, error) {
	p, err := st.path(path.Join(rowsRel, "x"))
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(filepath.Dir(p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := make(map[string]bool, len(entries))
	for _, e := range entries {
		if name := e.Name(); e.Type().IsRegular() && strings.HasSuffix(name, serialize.RowExt) && !strings.HasPrefix(name, ".") {
			names[name] = true
		}
	}
	return names, nil
}

// removeRowFiles stages the removal of all of a table's row files.
func removeRowFiles(st *stage, dir string, te *TableExport) error {
	rowsRel := path.Join(dir, serialize.RowsDir)
	existing, err := listRowFiles(st, rowsRel)
	if err != nil {
		return err
	}
	for name := range existing {
		te.Removed++
		if err := st.remove(path.Join(rowsRel, name)); err != nil {
			return err
		}
	}
	return nil
}

// removeLines stages the removal of a lines file left from another layout.
func removeLines(st *stage, dir string, te *TableExport) error {
	rel := path.Join(dir, serialize.LinesFile)
	p, err := st.path(rel)
	if err != nil {
		return err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := countLines(f)
	if err != nil {
		return err
	}
	te.Removed += n
	return st.remove(rel)
}

func countLines(r io.Reader) (int, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	n := 0
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 && err != bufio.ErrBufferFull {
			n++
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil && err != bufio.ErrBufferFull {
			return n, err
		}
	}
}

// exportLines streams the rows into a new lines file, counting changes
// against the old file by a merge of the two sorted streams, so memory
// stays flat whatever the table size.
func exportLines(ctx context.Context, st *stage, src *rowSource, te *TableExport) error {
	meta := src.t.Meta
	rel := path.Join(serialize.TableDir(meta.Name), serialize.LinesFile)
	final, err := st.path(rel)
	if err != nil {
		return err
	}
	var f *os.File
	var sink io.Writer = io.Discard
	keep := false
	if !st.dry {
		if f, _, err = st.temp(rel); err != nil {
			return err
		}
		sink = f
		defer func() {
			if !keep {
				f.Close()
				os.Remove(f.Name())
			}
		}()
	}
	old, err := openLines(final, meta)
	if err != nil {
		return err
	}
	defer old.close()
	te.New = te.New || old.f == nil
	out := bufio.NewWriterSize(sink, 1<<16)
	var line []byte
	err = src.each(ctx, func(r serialize.Row) error {
		te.Rows++
		line = meta.AppendLine(line[:0], r)
		if _, err := out.Write(line); err != nil {
			return err
		}
		return old.match(line, r, te)
	})
	if err != nil {
		return err
	}
	if err := old.rest(te); err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return err
	}
	// Every line that differs in bytes is counted, so no count means the
	// same bytes: the deferred cleanup drops the new file.
	if te.Added+te.Changed+te.Removed == 0 && old.f != nil || st.dry {
		return nil
	}
	if err := f.Close(); err != nil {
		return err
	}
	keep = true
	st.adopt(f.Name(), final)
	return nil
}

// oldLines reads the previous lines file alongside the new rows.
type oldLines struct {
	f    *os.File
	r    *bufio.Reader
	meta *serialize.Table
	line []byte // current old line, nil at the end
}

func openLines(p string, meta *serialize.Table) (*oldLines, error) {
	o := &oldLines{meta: meta}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return o, nil
	}
	if err != nil {
		return nil, err
	}
	o.f, o.r = f, bufio.NewReaderSize(f, 1<<16)
	return o, o.next()
}

func (o *oldLines) close() {
	if o.f != nil {
		o.f.Close()
	}
}

func (o *oldLines) next() error {
	if o.r == nil {
		o.line = nil
		return nil
	}
	line, err := o.r.ReadBytes('\n')
	if err == io.EOF {
		if len(line) == 0 {
			o.line = nil
			return nil
		}
		err = nil // a last line without newline differs from ours and counts as changed
	}
	o.line = line
	return err
}

// match advances the old file past the row whose new line is given and
// counts whether that row was added, changed or unchanged.
func (o *oldLines) match(line []byte, r serialize.Row, te *TableExport) error {
	for o.line != nil {
		if bytes.Equal(o.line, line) {
			return o.next()
		}
		oldKey, err := o.meta.DecodeKey(o.line)
		c := -1 // an unreadable old line counts as removed
		if err == nil {
			c = o.meta.CompareKeys(oldKey, r)
		}
		switch {
		case c < 0:
			te.Removed++
			if err := o.next(); err != nil {
				return err
			}
			continue
		case c == 0:
			te.Changed++
			return o.next()
		}
		break
	}
	te.Added++
	return nil
}

// rest counts the old rows after the last new one as removed.
func (o *oldLines) rest(te *TableExport) error {
	for o.line != nil {
		te.Removed++
		if err := o.next(); err != nil {
			return err
		}
	}
	return nil
}

// dropTables stages the removal of the files of tables that have a
// directory in the export directory but are no longer exported.
func dropTables(st *stage, exported map[string]string) ([]TableExport, error) {
	entries, err := os.ReadDir(st.base)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []TableExport
	for _, e := range entries {
		dir := e.Name()
		if _, ok := exported[dir]; ok || !e.IsDir() {
			continue
		}
		data, err := readFile(st, path.Join(dir, serialize.MetaFile))
		if err != nil || data == nil {
			continue // not a table directory of ours
		}
		te := TableExport{Table: dir, Dir: dir, Dropped: true}
		if meta, err := serialize.UnmarshalMeta(data); err == nil {
			te.Table, te.Layout = meta.Name, meta.Layout
		}
		if err := removeRowFiles(st, dir, &te); err != nil {
			return nil, err
		}
		if err := removeLines(st, dir, &te); err != nil {
			return nil, err
		}
		if err := st.remove(path.Join(dir, serialize.MetaFile)); err != nil {
			return nil, err
		}
		out = append(out, te)
	}
	return out, nil
}

// readFile returns the contents of rel in the export directory, or nil if
// it does not exist.
func readFile(st *stage, rel string) ([]byte, error) {
	p, err := st.path(rel)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}
