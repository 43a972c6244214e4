// Package atomicfile writes files so that a reader, or a process killed at
// any instant, sees either the old contents or the new, never a part: the
// data goes to a temporary file that is renamed (or, for an exclusive
// create, linked) into place. It is the one atomic writer of the project,
// a leaf any package may import.
//
// github.com/google/renameio/v2 does the same but builds only on Unix; the
// project keeps its Windows build, so this is ours.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// Pending is a new file being written; nothing is visible at its
// destination until Commit.
type Pending struct {
	*os.File
	final string
	// Durable makes Commit flush the data to disk before the rename, so
	// that even a power cut leaves old or new contents. Without it a
	// killed process still leaves either, which is enough for files that
	// can be written again.
	Durable bool
	done    bool
}

// New starts a new version of final. The temporary file goes in tmpDir,
// which must be on final's file system ("" for final's own directory).
// It is created with perm, masked by the umask as os.WriteFile does.
func New(final, tmpDir string, perm fs.FileMode) (*Pending, error) {
	if tmpDir == "" {
		tmpDir = filepath.Dir(final)
	}
	f, err := Temp(tmpDir, perm)
	if err != nil {
		return nil, err
	}
	return &Pending{File: f, final: final}, nil
}

// TempPattern matches the names of temporary files: a run killed before
// its Commit or Abort leaves them behind, for Clean.
const TempPattern = ".dbsync-*.tmp"

// Temp creates a new file in dir, named by TempPattern, with perm, which
// the system masks with the umask (os.CreateTemp would make it 0600
// whatever the umask).
func Temp(dir string, perm fs.FileMode) (*os.File, error) {
	for range 100 {
		name := filepath.Join(dir, ".dbsync-"+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("cannot create a temporary file in %s", dir)
}

// TempDir creates a new directory in dir, named by TempPattern, with
// mode 0777 masked by the umask (os.MkdirTemp would make it 0700).
func TempDir(dir string) (string, error) {
	for range 100 {
		name := filepath.Join(dir, ".dbsync-"+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		err := os.Mkdir(name, 0o777)
		if !errors.Is(err, fs.ErrExist) {
			return name, err
		}
	}
	return "", fmt.Errorf("cannot create a temporary directory in %s", dir)
}

// Clean removes the temporary files (or directories) a killed run left in
// the directories matching a glob: those not modified for an hour, so
// that a run going on beside is left alone.
func Clean(dirGlob string) {
	names, _ := filepath.Glob(filepath.Join(dirGlob, TempPattern))
	for _, n := range names {
		if fi, err := os.Lstat(n); err == nil && time.Since(fi.ModTime()) > time.Hour {
			os.RemoveAll(n)
		}
	}
}

// Commit closes the file and renames it into place.
func (p *Pending) Commit() error {
	if p.done {
		return errors.New("atomicfile: already committed or aborted")
	}
	err := p.finish()
	if err == nil {
		err = os.Rename(p.Name(), p.final)
	}
	if err != nil {
		p.Abort()
	}
	p.done = true
	return err
}

// Abort discards the file; after Commit it does nothing.
func (p *Pending) Abort() {
	if p.done {
		return
	}
	p.done = true
	p.Close()
	os.Remove(p.Name())
}

// finish closes the file, flushing it first when it is durable.
func (p *Pending) finish() error {
	if p.Durable {
		if err := p.Sync(); err != nil {
			p.Close()
			return err
		}
	}
	return p.Close()
}

// Option changes how WriteFile and CreateExclusive write.
type Option int

// Durable flushes the data to disk before it takes the file's name.
const Durable Option = 1

// WriteFile replaces path with data atomically; the directory must exist.
func WriteFile(path string, data []byte, perm fs.FileMode, opts ...Option) error {
	p, err := New(path, "", perm)
	if err != nil {
		return err
	}
	p.Durable = slices.Contains(opts, Durable)
	if _, err := p.Write(data); err != nil {
		p.Abort()
		return err
	}
	return p.Commit()
}

// CreateExclusive creates path holding data, failing with an error that
// wraps fs.ErrExist when it exists already. The data is complete before
// the name appears: a lock file is never seen empty.
func CreateExclusive(path string, data []byte, perm fs.FileMode, opts ...Option) error {
	p, err := New(path, "", perm)
	if err != nil {
		return err
	}
	p.Durable = slices.Contains(opts, Durable)
	defer os.Remove(p.Name())
	p.done = true
	if _, err := p.Write(data); err != nil {
		p.Close()
		return err
	}
	if err := p.finish(); err != nil {
		return err
	}
	return os.Link(p.Name(), path)
}
