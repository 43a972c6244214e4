package exportdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gitdbsync/git-dbsync/internal/atomicfile"
	"github.com/gitdbsync/git-dbsync/internal/proc"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Stage collects the file changes of an export under one directory and
// makes them all at once: new contents go to temporary files, and only
// Commit renames them into place and removes what is gone. An export that
// fails half-way leaves the tree as it was.
type Stage struct {
	base string // absolute export directory
	// tmpDir holds the temporary files: outside the export directory,
	// where git never looks, when it is on the same file system; else ""
	// and they go beside their targets, named as serialize never names a
	// file of ours.
	tmpDir  string
	dry     bool // record what would change, touch nothing
	writes  [][2]string
	removes []string
	made    []string        // directories created, removed again on abort
	checked map[string]bool // directories known not to be symbolic links
}

// NewStage starts staging changes under the export directory base. With
// dry, nothing is ever written. tmpDir, when not "", is where temporary
// files go (in a directory of this process's) if a rename from there into
// base works; what processes that are gone left there is removed.
func NewStage(base, tmpDir string, dry bool) (*Stage, error) {
	if fi, err := os.Lstat(base); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("export directory %s is a symbolic link: refusing to write through it", base)
	}
	s := &Stage{base: base, dry: dry}
	if dry {
		return s, nil
	}
	if tmpDir != "" {
		cleanTempDirs(tmpDir)
		s.tmpDir = usableTempDir(filepath.Join(tmpDir, strconv.Itoa(os.Getpid())), base)
	}
	return s, nil
}

// CleanTemp removes the temporary files that runs killed before their
// files went elsewhere left inside the export directory: never a table's
// file, never committed. It lists every rows directory, so the caller
// runs it only when git status shows untracked files there.
func (s *Stage) CleanTemp() {
	if s.dry {
		return
	}
	for _, dir := range []string{s.base, filepath.Join(s.base, "*"), filepath.Join(s.base, "*", serialize.RowsDir)} {
		atomicfile.Clean(dir)
	}
}

// Base returns the absolute export directory.
func (s *Stage) Base() string { return s.base }

// Dry reports a stage that writes nothing.
func (s *Stage) Dry() bool { return s.dry }

// Path returns the absolute path of rel inside the export directory. rel
// must be local and no directory on the way may be a symbolic link, so
// nothing is ever written outside the export directory.
func (s *Stage) Path(rel string) (string, error) {
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

// ReadFile returns the contents of rel in the export directory, or nil if
// it does not exist.
func (s *Stage) ReadFile(rel string) ([]byte, error) {
	p, err := s.Path(rel)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

// mkdir creates the directory of an absolute path, remembering what it made.
func (s *Stage) mkdir(dir string) error {
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
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	s.made = append(s.made, missing...)
	return nil
}

// temp creates a temporary file that is to become rel.
func (s *Stage) temp(rel string) (*os.File, string, error) {
	final, err := s.Path(rel)
	if err != nil {
		return nil, "", err
	}
	if err := s.mkdir(filepath.Dir(final)); err != nil {
		return nil, "", err
	}
	dir := s.tmpDir
	if dir == "" {
		dir = filepath.Dir(final)
	}
	f, err := atomicfile.Temp(dir, 0o666)
	return f, final, err
}

// WriteFile stages new contents for rel.
func (s *Stage) WriteFile(rel string, data []byte) error {
	if s.dry {
		_, err := s.Path(rel)
		return err
	}
	f, final, err := s.temp(rel)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	s.writes = append(s.writes, [2]string{f.Name(), final})
	return nil
}

// Create stages a file to be written by the caller and closed; it becomes
// rel on Commit unless discarded by Forget.
func (s *Stage) Create(rel string) (*os.File, error) {
	f, final, err := s.temp(rel)
	if err != nil {
		return nil, err
	}
	s.writes = append(s.writes, [2]string{f.Name(), final})
	return f, nil
}

// TempDir creates a directory to become rel, which must not exist yet;
// files written into it appear at rel on Commit.
func (s *Stage) TempDir(rel string) (string, error) {
	final, err := s.Path(rel)
	if err != nil {
		return "", err
	}
	if err := s.mkdir(filepath.Dir(final)); err != nil {
		return "", err
	}
	dir := s.tmpDir
	if dir == "" {
		dir = filepath.Dir(final)
	}
	tmp, err := atomicfile.TempDir(dir)
	if err != nil {
		return "", err
	}
	s.writes = append(s.writes, [2]string{tmp, final})
	return tmp, nil
}

// Remove stages the removal of rel.
func (s *Stage) Remove(rel string) error {
	p, err := s.Path(rel)
	if err != nil {
		return err
	}
	s.removes = append(s.removes, p)
	return nil
}

// Mark returns a point to roll the staged changes back to with Forget.
func (s *Stage) Mark() [2]int { return [2]int{len(s.writes), len(s.removes)} }

// Forget discards what was staged since a mark: a table whose export is
// started again.
func (s *Stage) Forget(m [2]int) {
	for _, w := range s.writes[m[0]:] {
		os.RemoveAll(w[0])
	}
	s.writes, s.removes = s.writes[:m[0]], s.removes[:m[1]]
}

// Commit makes the staged changes, then removes directories left empty.
// A dry stage has nothing to commit.
func (s *Stage) Commit() error {
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
	pruneDirs(dirs)
	s.writes, s.removes, s.made = nil, nil, nil
	s.removeTempDir()
	return nil
}

// removeTempDir removes this process's temporary directory once empty.
func (s *Stage) removeTempDir() {
	if s.tmpDir != "" {
		os.Remove(s.tmpDir)
	}
}

// Abort discards everything staged.
func (s *Stage) Abort() {
	for _, w := range s.writes {
		os.RemoveAll(w[0]) // a temporary file or directory of ours
	}
	dirs := map[string]bool{}
	for _, d := range s.made {
		dirs[d] = true
	}
	pruneDirs(dirs)
	s.writes, s.removes, s.made = nil, nil, nil
	s.removeTempDir()
}

// pruneDirs removes those of dirs that are empty, deepest first.
func pruneDirs(dirs map[string]bool) {
	var list []string
	for d := range dirs {
		list = append(list, d)
	}
	sort.Slice(list, func(i, j int) bool { return len(list[i]) > len(list[j]) })
	for _, d := range list {
		os.Remove(d) // fails, as wanted, when not empty
	}
}

// cleanTempDirs removes the directories, named by process id, that
// processes which are gone left in dir.
func cleanTempDirs(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && !proc.Alive(pid) {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// usableTempDir returns dir (created) if it is on the file system of
// base (or of its nearest existing parent), so that a rename from there
// moves a file into place; else "".
func usableTempDir(dir, base string) string {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return ""
	}
	target := base
	for {
		if _, err := os.Stat(target); err == nil {
			break
		}
		if target == filepath.Dir(target) {
			return ""
		}
		target = filepath.Dir(target)
	}
	if !sameDevice(dir, target) {
		return ""
	}
	return dir
}
