// Package repo is everything git dbsync does with git. It reads a
// repository without a checkout: revisions resolved, trees walked and tags
// listed with go-git; blob contents read through one long-lived "git
// cat-file --batch", which DESIGN.md measured 2–5× faster than go-git for
// large blobs and for many small ones, and which streams a blob instead of
// loading it whole. Every other call of the git command goes through Git,
// its one runner. Reading never touches the working tree.
package repo

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"
)

// Repo is an open repository.
type Repo struct {
	root    string
	git     *git.Repository
	storage *filesystem.Storage

	mu   sync.Mutex
	cats []*catFile // one per blob open at a time; usually one
}

// objects caches the objects go-git decodes (trees above all), shared by
// every repository this process opens: an object's hash names its
// content, so a long-running reader (git dbsync web) reads a revision's
// trees once.
var objects = cache.NewObjectLRUDefault()

// Open opens the repository whose work tree is root, linked worktrees
// included.
func Open(root string) (*Repo, error) {
	gitDir, err := GitDir(root)
	if err != nil {
		return nil, err
	}
	commonDir, err := CommonDir(root)
	if err != nil {
		return nil, err
	}
	fs := dotgit.NewRepositoryFilesystem(osfs.New(gitDir), osfs.New(commonDir))
	// The pack files stay open while the repository is: a status or plan
	// reads every table's tree, and go-git otherwise opens the pack again
	// for each object. Close closes them.
	fst := filesystem.NewStorageWithOptions(fs, objects, filesystem.Options{KeepDescriptors: true})
	r, err := git.Open(readOnlyExtensions{fst}, osfs.New(root))
	if err != nil {
		fst.Close()
		return nil, fmt.Errorf("%s: %w", root, err)
	}
	return &Repo{root: root, git: r, storage: fst}, nil
}

// readOnlyExtensions hides from go-git the repository extensions that
// change nothing for reading revisions, which go-git refuses although git
// accepts them: worktreeConfig (per-worktree config, which git dbsync
// reads with git itself), partialClone (blobs fetched on demand, which
// git cat-file does) and preciousObjects. Any other extension, such as
// objectFormat, still stops go-git.
type readOnlyExtensions struct{ storage.Storer }

func (s readOnlyExtensions) Config() (*config.Config, error) {
	cfg, err := s.Storer.Config()
	if err != nil || cfg.Raw == nil || !cfg.Raw.HasSection("extensions") {
		return cfg, err
	}
	ext := cfg.Raw.Section("extensions")
	for _, name := range []string{"worktreeConfig", "partialClone", "preciousObjects", "noop"} {
		ext.RemoveOption(name)
	}
	if len(ext.Options) == 0 {
		cfg.Raw.RemoveSection("extensions")
	}
	return cfg, nil
}

// Close stops the cat-file process, if one was started, and closes the
// pack files.
func (r *Repo) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.storage.Close()
	for _, c := range r.cats {
		if cerr := c.close(); err == nil {
			err = cerr
		}
	}
	r.cats = nil
	return err
}

// Rev is a resolved revision.
type Rev struct {
	Name   string // as the user wrote it: v1.4, main, HEAD~2, a hash
	Commit string // full commit hash
	Tag    bool   // Name is a tag
	When   time.Time
}

// ErrUnknownRevision is returned for a revision git does not know.
var ErrUnknownRevision = errors.New("unknown revision")

// Resolve resolves a revision (tag, branch, commit, HEAD~n …) to a commit.
func (r *Repo) Resolve(rev string) (Rev, error) {
	h, err := r.resolve(rev)
	if err != nil {
		return Rev{}, fmt.Errorf("%w %q (not a tag, branch or commit of this repository)", ErrUnknownRevision, rev)
	}
	c, err := r.git.CommitObject(*h)
	if err != nil {
		return Rev{}, fmt.Errorf("%s: %w", rev, err)
	}
	_, tagErr := r.git.Tag(rev)
	return Rev{Name: rev, Commit: h.String(), Tag: tagErr == nil, When: c.Committer.When}, nil
}

// resolve finds the commit a revision names. An abbreviated hash goes to
// git itself: go-git looks a prefix up by opening every object of the
// repository (seconds once 100,000 row files were committed).
func (r *Repo) resolve(rev string) (*plumbing.Hash, error) {
	if len(rev) >= 4 && len(rev) < 40 && isHex(rev) && !r.isRef(rev) {
		// HEAD's own abbreviation (what a sync records) needs no git.
		if head := r.Head(); strings.HasPrefix(head, strings.ToLower(rev)) {
			h := plumbing.NewHash(head)
			return &h, nil
		}
		if c := Commit(r.root, rev); c != "" {
			h := plumbing.NewHash(c)
			return &h, nil
		}
	}
	return r.git.ResolveRevision(plumbing.Revision(rev))
}

// isRef reports whether name is short for a reference, as git reads it
// before it reads a hash.
func (r *Repo) isRef(name string) bool {
	for _, full := range []string{name, "refs/" + name, "refs/tags/" + name, "refs/heads/" + name, "refs/remotes/" + name, "refs/remotes/" + name + "/HEAD"} {
		if _, err := r.git.Reference(plumbing.ReferenceName(full), true); err == nil {
			return true
		}
	}
	return false
}

// TreeOf returns the id of the tree at dir in a commit, read in this
// process; "" when there is none.
func TreeOf(root, commit, dir string) string {
	r, err := Open(root)
	if err != nil {
		return ""
	}
	defer r.Close()
	entries, err := r.ReadDir(commit, path.Dir(dir))
	if err != nil {
		return ""
	}
	for _, e := range entries {
		if e.Dir && e.Name == path.Base(dir) {
			return e.ID
		}
	}
	return ""
}

// HeadCommit returns the commit HEAD names in the work tree at root, ""
// when there is none yet, read in this process.
func HeadCommit(root string) string {
	r, err := Open(root)
	if err != nil {
		return Commit(root, "HEAD")
	}
	defer r.Close()
	return r.Head()
}

// Head returns the commit HEAD names, "" on a branch with no commit yet.
func (r *Repo) Head() string {
	ref, err := r.git.Head()
	if err != nil {
		return ""
	}
	return ref.Hash().String()
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// HasCommit reports whether the repository has a commit.
func (r *Repo) HasCommit(hash string) bool {
	_, err := r.git.CommitObject(plumbing.NewHash(hash))
	return err == nil
}

// Tag is a tag and the commit it points at.
type Tag struct {
	Name   string
	Commit string
	When   time.Time // the commit's time
}

// Tags lists the tags that point at commits, oldest commit first.
func (r *Repo) Tags() ([]Tag, error) {
	iter, err := r.git.Tags()
	if err != nil {
		return nil, err
	}
	var tags []Tag
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		h, err := r.git.ResolveRevision(plumbing.Revision(ref.Name().String()))
		if err != nil {
			return nil // a tag of a tree or blob: not a release
		}
		c, err := r.git.CommitObject(*h)
		if err != nil {
			return nil
		}
		tags = append(tags, Tag{Name: ref.Name().Short(), Commit: h.String(), When: c.Committer.When})
		return nil
	})
	sort.SliceStable(tags, func(i, j int) bool {
		if !tags[i].When.Equal(tags[j].When) {
			return tags[i].When.Before(tags[j].When)
		}
		return tags[i].Name < tags[j].Name
	})
	return tags, err
}

// IsAncestor reports whether commit a is an ancestor of (or equal to) b.
func (r *Repo) IsAncestor(a, b string) (bool, error) {
	if a == b {
		return true, nil
	}
	ca, err := r.git.CommitObject(plumbing.NewHash(a))
	if err != nil {
		return false, err
	}
	cb, err := r.git.CommitObject(plumbing.NewHash(b))
	if err != nil {
		return false, err
	}
	return ca.IsAncestor(cb)
}

// CommonDir returns the repository's common git directory (shared by
// linked worktrees), where git dbsync keeps its lock files.
func (r *Repo) CommonDir() (string, error) { return CommonDir(r.root) }

// Entry is a file or a directory of a revision's tree.
type Entry struct {
	Name string
	Dir  bool
	ID   string // the hash of the blob or tree
}

// ReadDir lists a directory of a commit's tree ("" for the root); nil
// when the commit has no such directory. An entry whose name is no file
// name ("", ".", "..", or one holding "/" or NUL) is an error.
func (r *Repo) ReadDir(commit, dir string) ([]Entry, error) {
	key := commit + "\x00" + dir
	if es, ok := dirs.get(key); ok {
		return slices.Clone(es), nil
	}
	es, err := r.readDir(commit, dir)
	if err == nil && es != nil {
		dirs.put(key, slices.Clone(es))
	}
	return es, err
}

func (r *Repo) readDir(commit, dir string) ([]Entry, error) {
	c, err := r.git.CommitObject(plumbing.NewHash(commit))
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", commit, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, err
	}
	if dir != "" && dir != "." {
		tree, err = tree.Tree(dir)
		if errors.Is(err, object.ErrDirectoryNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s at %.12s: %w", dir, commit, err)
		}
	}
	out := make([]Entry, 0, len(tree.Entries))
	for _, e := range tree.Entries {
		if !validName(e.Name) {
			// Only a hand-made tree (git mktree, hash-object --literally)
			// holds one: a path outside the directory, or another's.
			where := dir
			if where == "" || where == "." {
				where = "the root"
			}
			return nil, fmt.Errorf("%s at commit %.12s: an entry named %q, a name git never writes (a hand-made tree): refused", where, commit, e.Name)
		}
		if e.Mode == filemode.Dir || e.Mode.IsFile() {
			out = append(out, Entry{Name: e.Name, Dir: e.Mode == filemode.Dir, ID: e.Hash.String()})
		}
	}
	return out, nil
}

// ReadSubdirs lists every directory of dir in a commit's tree, by name:
// the tables of an export directory, with the tree of dir decoded once
// (ReadDir of each table decoded it again for every one).
func (r *Repo) ReadSubdirs(commit, dir string) (map[string][]Entry, error) {
	top, err := r.ReadDir(commit, dir)
	if err != nil || top == nil {
		return nil, err
	}
	out := map[string][]Entry{}
	for _, d := range top {
		if !d.Dir {
			continue
		}
		tree, err := r.git.TreeObject(plumbing.NewHash(d.ID))
		if err != nil {
			return nil, fmt.Errorf("%s/%s at %.12s: %w", dir, d.Name, commit, err)
		}
		var es []Entry
		for _, e := range tree.Entries {
			if (e.Mode == filemode.Dir || e.Mode.IsFile()) && validName(e.Name) {
				es = append(es, Entry{Name: e.Name, Dir: e.Mode == filemode.Dir, ID: e.Hash.String()})
			}
		}
		out[d.Name] = es
	}
	return out, nil
}

// ReadFile returns a file of a commit, or nil when the commit lacks it.
func (r *Repo) ReadFile(commit, name string) ([]byte, error) {
	c, err := r.git.CommitObject(plumbing.NewHash(commit))
	if err != nil {
		return nil, err
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, err
	}
	e, err := tree.FindEntry(name)
	if err != nil {
		return nil, nil
	}
	return r.ReadBlob(e.Hash.String())
}

// ReadBlob returns a blob's contents.
func (r *Repo) ReadBlob(hash string) ([]byte, error) {
	rc, err := r.OpenBlob(hash)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// OpenBlob streams a blob; close it when done. Blobs open at the same time
// (a merge streams base and theirs together) each use their own cat-file.
func (r *Repo) OpenBlob(hash string) (io.ReadCloser, error) {
	if b, ok := blobs.get(hash); ok {
		return io.NopCloser(bytes.NewReader(b)), nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cat, err := r.idleCat()
	if err != nil {
		return nil, err
	}
	rc, err := cat.open(hash)
	r.dropBroken(cat, err)
	return rc, err
}

// idleCat returns a cat-file no stream is reading from, started if none
// is; r.mu is held.
func (r *Repo) idleCat() (*catFile, error) {
	for _, c := range r.cats {
		if !c.busy {
			return c, nil
		}
	}
	cat, err := startCatFile(r.root)
	if err == nil {
		r.cats = append(r.cats, cat)
	}
	return cat, err
}

// dropBroken stops a cat-file an error left out of step; r.mu is held.
func (r *Repo) dropBroken(cat *catFile, err error) {
	if err != nil && cat.broken {
		cat.close()
		r.cats = slices.DeleteFunc(r.cats, func(c *catFile) bool { return c == cat })
	}
}

// ReadBlobs returns the contents of several blobs, in order, asking one
// cat-file for all of them at once: a table of many row files is read in
// one exchange, not one round trip a file.
func (r *Repo) ReadBlobs(hashes []string) ([][]byte, error) {
	out := make([][]byte, len(hashes))
	var ask []string
	for i, h := range hashes {
		if b, ok := blobs.get(h); ok {
			out[i] = bytes.Clone(b) // what callers decode may alias it
		} else {
			ask = append(ask, h)
		}
	}
	if len(ask) == 0 {
		return out, nil
	}
	read, err := r.readBlobs(ask)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if out[i] == nil {
			out[i], read = read[0], read[1:]
			if len(out[i]) <= smallBlob {
				blobs.put(hashes[i], bytes.Clone(out[i]))
			}
		}
	}
	return out, nil
}

func (r *Repo) readBlobs(hashes []string) ([][]byte, error) {
	r.mu.Lock()
	cat, err := r.idleCat()
	if err != nil {
		r.mu.Unlock()
		return nil, err
	}
	cat.busy = true
	r.mu.Unlock()
	out, err := cat.readMany(hashes)
	r.mu.Lock()
	defer r.mu.Unlock()
	cat.busy = false
	r.dropBroken(cat, err)
	return out, err
}

// readMany writes every request, from another goroutine so that neither
// pipe fills up against the other, and reads the answers in order. A
// missing object is an error once every answer is read; an answer it
// cannot read leaves the process out of step (broken).
func (c *catFile) readMany(hashes []string) ([][]byte, error) {
	var req strings.Builder
	for _, h := range hashes {
		req.WriteString(h)
		req.WriteByte('\n')
	}
	written := make(chan error, 1)
	go func() {
		_, err := io.WriteString(c.in, req.String())
		written <- err
	}()
	out := make([][]byte, len(hashes))
	var missing error
	for i, h := range hashes {
		header, err := c.out.ReadString('\n')
		if err != nil {
			c.broken = true
			return nil, fmt.Errorf("git cat-file: %w", err)
		}
		f := strings.Fields(header)
		if len(f) == 2 && f[1] == "missing" {
			if missing == nil {
				missing = fmt.Errorf("object %s is missing", h)
			}
			continue
		}
		size, err := strconv.ParseInt(f[len(f)-1], 10, 64)
		if len(f) != 3 || err != nil {
			c.broken = true
			return nil, fmt.Errorf("git cat-file: unexpected %q", header)
		}
		out[i] = make([]byte, size+1) // and the newline that ends it
		if _, err := io.ReadFull(c.out, out[i]); err != nil {
			c.broken = true
			return nil, fmt.Errorf("git cat-file: %w", err)
		}
		out[i] = out[i][:size]
	}
	if err := <-written; err != nil {
		c.broken = true
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	return out, missing
}

// catFile is a running "git cat-file --batch".
type catFile struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	busy   bool
	broken bool // out of step with its requests: closed, not used again
}

func startCatFile(root string) (*catFile, error) {
	cmd := Git{Dir: root}.Command("cat-file", "--batch")
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	return &catFile{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<16)}, nil
}

func (c *catFile) open(hash string) (io.ReadCloser, error) {
	if c.busy {
		return nil, errors.New("a blob is still open")
	}
	if _, err := io.WriteString(c.in, hash+"\n"); err != nil {
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	header, err := c.out.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	f := strings.Fields(header)
	if len(f) == 2 && f[1] == "missing" {
		return nil, fmt.Errorf("object %s is missing", hash)
	}
	if len(f) != 3 {
		return nil, fmt.Errorf("git cat-file: unexpected %q", header)
	}
	size, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("git cat-file: unexpected %q", header)
	}
	if size <= smallBlob { // read at once, and kept
		data := make([]byte, size+1) // and the newline that ends it
		if _, err := io.ReadFull(c.out, data); err != nil {
			c.broken = true
			return nil, fmt.Errorf("git cat-file: %w", err)
		}
		blobs.put(hash, data[:size])
		return io.NopCloser(bytes.NewReader(data[:size])), nil
	}
	c.busy = true
	return &blobReader{c: c, r: io.LimitReader(c.out, size)}, nil
}

func (c *catFile) close() error {
	c.in.Close()
	return c.cmd.Wait()
}

type blobReader struct {
	c      *catFile
	r      io.Reader
	closed bool
}

func (b *blobReader) Read(p []byte) (int, error) { return b.r.Read(p) }

// Close skips what was not read and the newline cat-file ends a blob with.
func (b *blobReader) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	b.c.busy = false
	if _, err := io.Copy(io.Discard, b.r); err != nil {
		return err
	}
	_, err := b.c.out.ReadByte()
	return err
}

// validName says whether a tree entry's name is one git writes.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00")
}
