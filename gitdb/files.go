package gitdb

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// stage collects the file changes of an export under one directory and
// makes them all at once: new contents go to temporary files beside their
// targets, and only commit renames them into place and removes what is
// gone. An export that fails half-way leaves the tree as it was.
type stage struct {
	base    string // absolute export directory
	dry     bool   // record what would change, touch nothing
	writes  [][2]string
	removes []string
	made    []string        // directories created, removed again on abort
	checked map[string]bool // directories known not to be symbolic links
}

// path returns the absolute path of rel inside the export directory. rel
// must be local and no directory on the way may be a symbolic link, so
// nothing is ever written outside the export directory.
func (s *stage) path(rel string) (string, error) {
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", fmt.Errorf("refusing to write %q: not inside the export directory", rel)
	}
	if s.checked == nil {
		s.checked = map[string]bool{}
	}
	p := s.base
	for _, part := range strings.Split(filepath.Dir(filepath.FromSlash(rel)), string(filepath.Separator)) {
		if part == "." {
			continue
		}
		p = filepath.Join(p, part)
		if s.checked[p] {
			continue
		}
		fi, err := os.Lstat(p)
		if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return "", fmt.Errorf("refusing to write through symbolic link %s", p)
		}
		s.checked[p] = err == nil // a missing directory is checked again once made
	}
	return filepath.Join(s.base, filepath.FromSlash(rel)), nil
}

// mkdir creates the directory of an absolute path, remembering what it made.
func (s *stage) mkdir(dir string) error {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	s.made = append(s.made, missing...)
	return nil
}

// temp creates a temporary file in the directory of rel; its name starts
// with a dot, which no exported name does.
func (s *stage) temp(rel string) (*os.File, string, error) {
	final, err := s.path(rel)
	if err != nil {
		return nil, "", err
	}
	if err := s.mkdir(filepath.Dir(final)); err != nil {
		return nil, "", err
	}
	f, err := os.CreateTemp(filepath.Dir(final), ".dbsync-*.tmp")
	return f, final, err
}

// write stages new contents for rel.
func (s *stage) write(rel string, data []byte) error {
	if s.dry {
		_, err := s.path(rel)
		return err
	}
	final, err := s.path(rel)
	if err != nil {
		return err
	}
	if err := s.mkdir(filepath.Dir(final)); err != nil {
		return err
	}
	tmp, err := writeTemp(filepath.Dir(final), ".dbsync-*.tmp", data)
	if err != nil {
		return err
	}
	s.writes = append(s.writes, [2]string{tmp, final})
	return nil
}

// writeTemp writes data to a new temporary file in dir and returns its
// name; on error nothing is left behind.
func writeTemp(dir, pattern string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// tempDir creates a temporary directory to become rel, which must not
// exist yet; files written into it appear at rel on commit.
func (s *stage) tempDir(rel string) (string, error) {
	final, err := s.path(rel)
	if err != nil {
		return "", err
	}
	if err := s.mkdir(filepath.Dir(final)); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(final), ".dbsync-*.tmp")
	if err != nil {
		return "", err
	}
	s.writes = append(s.writes, [2]string{tmp, final})
	return tmp, nil
}

// adopt stages a finished temporary file (from temp) as the new rel.
func (s *stage) adopt(tmp, final string) { s.writes = append(s.writes, [2]string{tmp, final}) }

// remove stages the removal of rel.
func (s *stage) remove(rel string) error {
	p, err := s.path(rel)
	if err != nil {
		return err
	}
	s.removes = append(s.removes, p)
	return nil
}

// commit makes the staged changes, then removes directories left empty.
// A dry stage has nothing to commit.
func (s *stage) commit() error {
	if s.dry {
		return nil
	}
	for _, w := range s.writes {
		if err := os.Rename(w[0], w[1]); err != nil {
			return err
		}
	}
	dirs := map[string]bool{}
	for _, p := range s.removes {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		for d := filepath.Dir(p); d != s.base && strings.HasPrefix(d, s.base); d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	s.pruneDirs(dirs)
	s.writes, s.removes, s.made = nil, nil, nil
	return nil
}

// abort discards everything staged.
func (s *stage) abort() {
	for _, w := range s.writes {
		os.RemoveAll(w[0]) // a temporary file or directory of ours
	}
	dirs := map[string]bool{}
	for _, d := range s.made {
		dirs[d] = true
	}
	s.pruneDirs(dirs)
	s.writes, s.removes, s.made = nil, nil, nil
}

// pruneDirs removes those of dirs that are empty, deepest first.
func (s *stage) pruneDirs(dirs map[string]bool) {
	var list []string
	for d := range dirs {
		list = append(list, d)
	}
	sort.Slice(list, func(i, j int) bool { return len(list[i]) > len(list[j]) })
	for _, d := range list {
		os.Remove(d) // fails, as wanted, when not empty
	}
}
