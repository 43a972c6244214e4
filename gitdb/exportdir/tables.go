// Package exportdir is the export directory: where each table's files are
// (serialize names them), reading the tables of a directory from a
// revision or from the working tree by one reader, decoding their rows,
// and writing new files through a stage that puts them all in place at
// once, with a cache that spares re-reading unchanged row files.
//
// Contract: a reader never sees a partial export; a failed or killed
// export leaves the files as they were and its temporary files outside
// the export directory where the repository allows it.
package exportdir

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Blob is a file of an exported table.
type Blob struct {
	Path string // slash path from the repository root
	ID   string // how its tree opens it: a blob hash, or a path on disk
}

// TableFiles are the files of one exported table.
type TableFiles struct {
	Dir   string // the table's directory, from the repository root
	Meta  *serialize.Table
	Rows  []Blob // layout rows: the row files
	Lines *Blob  // layout lines: the lines file
}

// Tree is a tree of files holding an export directory: a revision, or
// the working tree.
type Tree interface {
	// Name says which tree it is, for messages: "v1.4", "the working tree".
	Name() string
	// ReadDir lists a directory (a slash path from the root); nil when it
	// does not exist.
	ReadDir(dir string) ([]repo.Entry, error)
	// Open streams a file by its ID.
	Open(id string) (io.ReadCloser, error)
}

// ReadTables reads the tables exported under dir in a tree: each table's
// metadata and the files of its rows, sorted by table name. A directory
// without a table.json is not a table; a tree without dir has none.
func ReadTables(t Tree, dir string) ([]TableFiles, error) {
	entries, err := t.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []TableFiles
	for _, e := range entries {
		if !e.Dir {
			continue
		}
		tf, err := readTable(t, path.Join(dir, e.Name))
		if err != nil {
			return nil, err
		}
		if tf != nil {
			out = append(out, *tf)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Meta.Name < out[j].Meta.Name })
	return out, nil
}

// HasTables reports whether dir holds the files of a table (its
// table.json), without reading them or listing their rows: whether
// anything was exported.
func HasTables(t Tree, dir string) (bool, error) {
	entries, err := t.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if !e.Dir {
			continue
		}
		files, err := t.ReadDir(path.Join(dir, e.Name))
		if err != nil {
			return false, err
		}
		for _, f := range files {
			if f.Name == serialize.MetaFile && !f.Dir {
				return true, nil
			}
		}
	}
	return false, nil
}

func readTable(t Tree, tdir string) (*TableFiles, error) {
	entries, err := t.ReadDir(tdir)
	if err != nil {
		return nil, err
	}
	tf := &TableFiles{Dir: tdir}
	var metaID, rowsDir string
	for _, e := range entries {
		switch {
		case e.Name == serialize.MetaFile && !e.Dir:
			metaID = e.ID
		case e.Name == serialize.LinesFile && !e.Dir:
			tf.Lines = &Blob{Path: path.Join(tdir, e.Name), ID: e.ID}
		case e.Name == serialize.RowsDir && e.Dir:
			rowsDir = path.Join(tdir, e.Name)
		}
	}
	if metaID == "" {
		return nil, nil
	}
	metaPath := path.Join(tdir, serialize.MetaFile)
	data, err := readAll(t, metaID)
	if err != nil {
		return nil, err
	}
	if HasConflictMarkers(data) {
		return nil, fmt.Errorf("%s in %s has unresolved merge conflicts", metaPath, t.Name())
	}
	if tf.Meta, err = serialize.UnmarshalMeta(data); err != nil {
		return nil, fmt.Errorf("%s in %s: %w", metaPath, t.Name(), err)
	}
	if rowsDir != "" {
		rows, err := t.ReadDir(rowsDir)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if !r.Dir && serialize.IsRowFile(r.Name) {
				tf.Rows = append(tf.Rows, Blob{Path: path.Join(rowsDir, r.Name), ID: r.ID})
			}
		}
	}
	return tf, nil
}

func readAll(t Tree, id string) ([]byte, error) {
	rc, err := t.Open(id)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// IsTableFile reports whether a slash path under the export directory dir
// is a file of a table: its table.json, a row file or its lines file;
// never a stray or temporary file.
func IsTableFile(dir, p string) bool {
	rel, ok := strings.CutPrefix(p, path.Clean(dir)+"/")
	parts := strings.Split(rel, "/")
	switch {
	case !ok:
		return false
	case len(parts) == 2:
		return parts[1] == serialize.MetaFile || parts[1] == serialize.LinesFile
	case len(parts) == 3:
		return parts[1] == serialize.RowsDir && serialize.IsRowFile(parts[2])
	}
	return false
}

// HasConflictMarkers reports a file git left with conflict markers: a
// line of at least seven '<' and a space, as a conflict-marker-size
// attribute may make them longer.
func HasConflictMarkers(data []byte) bool {
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte("<<<<<<<"))
		if j < 0 {
			return false
		}
		start := i + j
		end := start
		for end < len(data) && data[end] == '<' {
			end++
		}
		if (start == 0 || data[start-1] == '\n') && end < len(data) && data[end] == ' ' {
			return true
		}
		i = end
	}
}

// Revision is the tree of a commit.
type Revision struct {
	Repo   *repo.Repo
	Commit string
	Rev    string // the name the user gave it
}

func (r Revision) Name() string                             { return r.Rev }
func (r Revision) ReadDir(dir string) ([]repo.Entry, error) { return r.Repo.ReadDir(r.Commit, dir) }
func (r Revision) Open(id string) (io.ReadCloser, error)    { return r.Repo.OpenBlob(id) }
func (r Revision) ReadBlobs(ids []string) ([][]byte, error) { return r.Repo.ReadBlobs(ids) }

// WorkTree is the working tree at Root: a file's ID is its path on disk.
type WorkTree struct{ Root string }

func (WorkTree) Name() string                          { return "the working tree" }
func (WorkTree) Open(id string) (io.ReadCloser, error) { return os.Open(id) }

func (w WorkTree) ReadDir(dir string) ([]repo.Entry, error) {
	abs := filepath.Join(w.Root, filepath.FromSlash(dir))
	entries, err := os.ReadDir(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]repo.Entry, 0, len(entries))
	for _, e := range entries {
		if e.IsDir() || e.Type().IsRegular() {
			out = append(out, repo.Entry{Name: e.Name(), Dir: e.IsDir(), ID: filepath.Join(abs, e.Name())})
		}
	}
	return out, nil
}
