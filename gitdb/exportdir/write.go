package exportdir

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/gitdbsync/git-dbsync/internal/fault"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Counts is what writing a table does (or, dry, would do) to its files.
type Counts struct {
	Rows        int // rows exported
	Added       int
	Changed     int
	Removed     int
	MetaChanged bool // table.json written
	New         bool // the table had no files before
	// LayoutWas is the layout the table's files had before, when it
	// changes; the counts then compare the rows with the old layout's.
	LayoutWas serialize.Layout
}

// Each yields a table's rows in key order, each valid during the call.
type Each func(fn func(serialize.Row) error) error

// WriteTable stages the files of one table from its rows: its table.json,
// then its row files or lines file, and the removal of the other layout's
// files. cache (nil for none) spares reading unchanged files. On an
// error nothing of the table stays staged, so it may be written again.
func (s *Stage) WriteTable(meta *serialize.Table, each Each, cache *Cache) (*Counts, error) {
	mark := s.Mark()
	c, err := s.writeTable(meta, each, cache)
	if err != nil {
		s.Forget(mark)
	}
	return c, err
}

func (s *Stage) writeTable(meta *serialize.Table, each Each, cache *Cache) (*Counts, error) {
	dir := serialize.TableDir(meta.Name)
	c := &Counts{}
	metaBytes, err := meta.MarshalMeta()
	if err != nil {
		return nil, err
	}
	metaRel := path.Join(dir, serialize.MetaFile)
	old, err := s.ReadFile(metaRel)
	if err != nil {
		return nil, err
	}
	c.New = old == nil
	if !bytes.Equal(old, metaBytes) {
		c.MetaChanged = true
		if err := s.WriteFile(metaRel, metaBytes); err != nil {
			return nil, err
		}
	}
	was, err := s.Layout(dir)
	if err != nil {
		return nil, err
	}
	if was != "" && was != meta.Layout {
		c.LayoutWas = was
		return c, s.switchLayout(meta, each, c)
	}
	// Files of the other layout beside (which checkFiles refuses in a
	// revision) go as removed rows.
	if meta.Layout == serialize.LayoutLines {
		if err = s.writeLines(meta, each, c, nil, cache); err == nil {
			err = s.removeRowFiles(dir, c)
		}
		return c, err
	}
	if err = s.writeRowFiles(meta, each, c, cache); err == nil {
		err = s.removeLines(dir, c)
	}
	return c, err
}

// Layout returns the layout of the files a table's directory holds, ""
// when it holds none.
func (s *Stage) Layout(dir string) (serialize.Layout, error) {
	for _, l := range []struct {
		rel    string
		layout serialize.Layout
	}{{serialize.LinesFile, serialize.LayoutLines}, {serialize.RowsDir, serialize.LayoutRows}} {
		p, err := s.Path(path.Join(dir, l.rel))
		if err != nil {
			return "", err
		}
		if _, err := os.Lstat(p); err == nil {
			return l.layout, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	return "", nil
}

// switchLayout writes a table in its new layout and removes the old
// layout's files, counting the rows added, changed and removed against
// the old files: a lines file is read alongside the rows, row files are
// compared by a hash of each file's bytes.
func (s *Stage) switchLayout(meta *serialize.Table, each Each, c *Counts) error {
	dir := serialize.TableDir(meta.Name)
	var ignored Counts
	if meta.Layout == serialize.LayoutLines {
		old, err := s.rowFileHashes(path.Join(dir, serialize.RowsDir))
		if err != nil {
			return err
		}
		if err := s.writeLines(meta, each, c, old, nil); err != nil {
			return err
		}
		return s.removeRowFiles(dir, &ignored)
	}
	linesPath, err := s.Path(path.Join(dir, serialize.LinesFile))
	if err != nil {
		return err
	}
	old, err := openLines(linesPath, meta)
	if err != nil {
		return err
	}
	defer old.close()
	var counted Counts
	var line []byte
	matched := func(fn func(serialize.Row) error) error {
		return each(func(r serialize.Row) error {
			line = meta.AppendLine(line[:0], r)
			if err := old.match(line, r, &counted); err != nil {
				return err
			}
			return fn(r)
		})
	}
	if err := s.writeRowFiles(meta, matched, c, nil); err != nil {
		return err
	}
	if err := old.rest(&counted); err != nil {
		return err
	}
	c.Added, c.Changed, c.Removed = counted.Added, counted.Changed, counted.Removed
	return s.removeLines(dir, &ignored)
}

// rowFileHash identifies a row file's bytes.
type rowFileHash [sha256.Size]byte

// rowFileHashes returns, per file name, the hash of each row file of a
// rows directory: what a table leaving the rows layout is compared with,
// in flat memory whatever the rows' size.
func (s *Stage) rowFileHashes(rowsRel string) (map[string]rowFileHash, error) {
	names, err := s.listRowFiles(rowsRel)
	if err != nil {
		return nil, err
	}
	hashes := make(map[string]rowFileHash, len(names))
	for name := range names {
		data, err := s.ReadFile(path.Join(rowsRel, name))
		if err != nil {
			return nil, err
		}
		hashes[name] = sha256.Sum256(data)
	}
	return hashes, nil
}

// writeRowFiles stages one file per row and the removal of row files
// whose rows are gone. A table without a rows directory yet gets its files
// written straight into a new directory that Commit renames into place.
func (s *Stage) writeRowFiles(meta *serialize.Table, each Each, c *Counts, cache *Cache) error {
	rowsRel := path.Join(serialize.TableDir(meta.Name), serialize.RowsDir)
	if cache.trusted(serialize.LayoutRows) {
		// The files are as the last export left them: hash the rows
		// instead of reading every file; the same hash, nothing changed.
		h := newRowsHash()
		rows := 0
		var line []byte
		err := each(func(r serialize.Row) error {
			line = meta.AppendLine(line[:0], r)
			h.add(meta.RowFile(r), line)
			rows++
			return nil
		})
		if err == nil && h.sum() == cache.old.hash && cache.Clean() {
			c.Rows = rows
			return nil
		}
	}
	existing, err := s.listRowFiles(rowsRel)
	if err != nil {
		return err
	}
	h := newRowsHash() // of names and canonical lines: cheaper than the files' bytes, as telling
	fresh := ""
	if existing == nil && !s.dry {
		if fresh, err = s.TempDir(rowsRel); err != nil {
			return err
		}
	}
	written := map[string]string{} // file name → key, to prove names distinct
	ids := map[string]objectID{}   // file name → blob id, for the cache
	var buf, line []byte
	err = each(func(r serialize.Row) error {
		name := meta.RowFile(r)
		if other, dup := written[name]; dup {
			return fmt.Errorf("rows %s and %s map to the same file name %s", other, meta.DescribeKey(r), name)
		}
		written[name] = meta.KeyOf(r)
		if c.Rows++; c.Rows == 100 {
			fault.Point("mid-export")
		}
		var err error
		if buf, err = meta.AppendPretty(buf[:0], r); err != nil {
			return fmt.Errorf("row %s: %w", meta.DescribeKey(r), err)
		}
		line = meta.AppendLine(line[:0], r)
		h.add(name, line)
		if cache != nil {
			ids[name] = blobID(buf)
		}
		rel := path.Join(rowsRel, name)
		switch {
		case fresh != "":
			c.Added++
			return os.WriteFile(filepath.Join(fresh, name), buf, 0o666)
		case !existing[name]:
			c.Added++
			return s.WriteFile(rel, buf)
		}
		old, err := s.ReadFile(rel)
		if err != nil || bytes.Equal(old, buf) {
			return err
		}
		if err := s.notConflicted(rel, old); err != nil {
			return err
		}
		c.Changed++
		return s.WriteFile(rel, buf)
	})
	if err != nil {
		return err
	}
	for name := range existing {
		if _, ok := written[name]; !ok {
			c.Removed++
			rel := path.Join(rowsRel, name)
			if old, err := s.ReadFile(rel); err != nil {
				return err
			} else if err := s.notConflicted(rel, old); err != nil {
				return err
			}
			if err := s.Remove(rel); err != nil {
				return err
			}
		}
	}
	cache.record(serialize.LayoutRows, h.sum(), treeID(ids))
	return nil
}

// notConflicted refuses to write over a file holding conflict markers: a
// person is resolving a merge or a draft in it.
func (s *Stage) notConflicted(rel string, data []byte) error {
	if !HasConflictMarkers(data) {
		return nil
	}
	p, _ := s.Path(rel)
	return fmt.Errorf("%s holds conflict markers: resolve them, or restore the file (git checkout), before exporting over it", p)
}

// listRowFiles returns the names of the row files in a rows directory, or
// nil when the directory does not exist.
func (s *Stage) listRowFiles(rowsRel string) (map[string]bool, error) {
	p, err := s.Path(path.Join(rowsRel, "x"))
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
		if name := e.Name(); e.Type().IsRegular() && serialize.IsRowFile(name) {
			names[name] = true
		}
	}
	return names, nil
}

// removeRowFiles stages the removal of all of a table's row files.
func (s *Stage) removeRowFiles(dir string, c *Counts) error {
	rowsRel := path.Join(dir, serialize.RowsDir)
	existing, err := s.listRowFiles(rowsRel)
	if err != nil {
		return err
	}
	for name := range existing {
		c.Removed++
		if err := s.Remove(path.Join(rowsRel, name)); err != nil {
			return err
		}
	}
	return nil
}

// removeLines stages the removal of a lines file left from another layout.
func (s *Stage) removeLines(dir string, c *Counts) error {
	rel := path.Join(dir, serialize.LinesFile)
	p, err := s.Path(rel)
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
	c.Removed += n
	return s.Remove(rel)
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

// writeLines streams the rows into a new lines file, counting changes
// against the old file by a merge of the two sorted streams, so memory
// stays flat whatever the table size; or, for a table leaving the rows
// layout, against the hashes of its row files (oldRows).
func (s *Stage) writeLines(meta *serialize.Table, each Each, c *Counts, oldRows map[string]rowFileHash, cache *Cache) error {
	rel := path.Join(serialize.TableDir(meta.Name), serialize.LinesFile)
	final, err := s.Path(rel)
	if err != nil {
		return err
	}
	if oldRows == nil && cache.trusted(serialize.LayoutLines) {
		// The file is as the last export left it: the same hash of the
		// rows, nothing changed, and the old file need not be read.
		h := newRowsHash()
		rows := 0
		var line []byte
		err := each(func(r serialize.Row) error {
			line = meta.AppendLine(line[:0], r)
			h.add("", line)
			rows++
			return nil
		})
		if err == nil && h.sum() == cache.old.hash && cache.Clean() {
			c.Rows = rows
			return nil
		}
	}
	h := newRowsHash()
	var sink io.Writer = io.Discard
	var f *os.File
	mark := s.Mark()
	if !s.dry {
		if f, err = s.Create(rel); err != nil {
			return err
		}
		defer f.Close()
		sink = f
	}
	old, err := openLines(final, meta)
	if err != nil {
		return err
	}
	defer old.close()
	c.New = c.New || old.f == nil && oldRows == nil
	out := bufio.NewWriterSize(sink, 1<<16)
	var line, pretty []byte
	err = each(func(r serialize.Row) error {
		if c.Rows++; c.Rows == 100 {
			fault.Point("mid-export")
		}
		line = meta.AppendLine(line[:0], r)
		if _, err := out.Write(line); err != nil {
			return err
		}
		h.add("", line)
		if oldRows == nil {
			return old.match(line, r, c)
		}
		name := meta.RowFile(r)
		was, ok := oldRows[name]
		if !ok {
			c.Added++
			return nil
		}
		delete(oldRows, name)
		var err error
		if pretty, err = meta.AppendPretty(pretty[:0], r); err == nil && rowFileHash(sha256.Sum256(pretty)) != was {
			c.Changed++
		}
		return err
	})
	if err != nil {
		return err
	}
	c.Removed += len(oldRows)
	if err := old.rest(c); err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
		if cache != nil {
			if id, err := fileBlobID(f.Name()); err == nil {
				cache.record(serialize.LayoutLines, h.sum(), id)
			}
		}
	}
	// Every line that differs in bytes is counted, so no count means the
	// same bytes: the new file is dropped.
	if c.Added+c.Changed+c.Removed == 0 && old.f != nil {
		s.Forget(mark)
	}
	return nil
}

// DropTables stages the removal of the files of tables that have a
// directory in the export directory but are not among the exported ones
// (by directory); it returns the table each dropped directory held (its
// directory name when its table.json is unreadable) and its counts.
func (s *Stage) DropTables(exported map[string]bool) ([]Dropped, error) {
	entries, err := os.ReadDir(s.base)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Dropped
	for _, e := range entries {
		dir := e.Name()
		if exported[dir] || !e.IsDir() {
			continue
		}
		data, err := s.ReadFile(path.Join(dir, serialize.MetaFile))
		if err != nil || data == nil {
			continue // not a table directory of ours
		}
		d := Dropped{Table: dir, Dir: dir}
		if meta, err := serialize.UnmarshalMeta(data); err == nil {
			d.Table, d.Layout = meta.Name, meta.Layout
		}
		if err := s.removeRowFiles(dir, &d.Counts); err != nil {
			return nil, err
		}
		if err := s.removeLines(dir, &d.Counts); err != nil {
			return nil, err
		}
		if err := s.Remove(path.Join(dir, serialize.MetaFile)); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Dropped is a table whose files are removed.
type Dropped struct {
	Table  string
	Dir    string // relative to the export directory
	Layout serialize.Layout
	Counts
}
