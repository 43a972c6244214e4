package gitdb

import (
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

// workTree reads exported tables from the files on disk, the way repo
// reads them from a revision: a file's "hash" is its path.
type workTree struct{ root string }

func (workTree) OpenBlob(p string) (io.ReadCloser, error) { return os.Open(p) }

// tables reads the tables exported under dir in the working tree.
func (w workTree) tables(dir string) ([]repo.TableFiles, error) {
	base := filepath.Join(w.root, filepath.FromSlash(dir))
	entries, err := os.ReadDir(base)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []repo.TableFiles
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		tdir := path.Join(dir, e.Name())
		abs := filepath.Join(base, e.Name())
		data, err := os.ReadFile(filepath.Join(abs, serialize.MetaFile))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if hasConflictMarkers(data) {
			return nil, fmt.Errorf("%s/%s has unresolved merge conflicts", tdir, serialize.MetaFile)
		}
		meta, err := serialize.UnmarshalMeta(data)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", tdir, serialize.MetaFile, err)
		}
		tf := repo.TableFiles{Dir: tdir, Meta: meta}
		lines := filepath.Join(abs, serialize.LinesFile)
		if _, err := os.Stat(lines); err == nil {
			tf.Lines = &repo.Blob{Path: path.Join(tdir, serialize.LinesFile), Hash: lines}
		}
		rows, err := os.ReadDir(filepath.Join(abs, serialize.RowsDir))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		for _, r := range rows {
			if name := r.Name(); r.Type().IsRegular() && strings.HasSuffix(name, serialize.RowExt) && !strings.HasPrefix(name, ".") {
				tf.Rows = append(tf.Rows, repo.Blob{Path: path.Join(tdir, serialize.RowsDir, name), Hash: filepath.Join(abs, serialize.RowsDir, name)})
			}
		}
		out = append(out, tf)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Meta.Name < out[j].Meta.Name })
	return out, nil
}

func hasConflictMarkers(data []byte) bool {
	return strings.Contains(string(data), "\n<<<<<<< ") || strings.HasPrefix(string(data), "<<<<<<< ")
}
