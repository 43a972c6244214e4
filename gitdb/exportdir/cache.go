package exportdir

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gitdbsync/git-dbsync/internal/atomicfile"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// rowsCache remembers, for a table in the rows layout, a hash of the files
// an export last wrote or checked, and the size and modification time of
// each. When the files are untouched since and the rows hash the same,
// export need not read the files: with 100,000 row files that is most of
// what a pre-commit hook costs. Anything unexpected means a full check.
type rowsCache struct {
	hash  string
	at    int64               // when the cache was written, Unix ns
	files map[string][2]int64 // file name → size, mtime (Unix ns)
}

// racyWindow: files modified this close to the cache's writing may have
// changed within the same timestamp, as git's "racily clean" entries.
const racyWindow = int64(2 * time.Second)

// Cache is a table's rows cache: as found, and what to record after the
// export commits.
type Cache struct {
	path, dir string
	old       *rowsCache
	hash      string // set when the files were checked or written
}

// OpenCache reads the rows cache of a table of an environment, kept in
// the git directory, for the rows directory dir.
func OpenCache(gitDir, env, table, dir string) *Cache {
	p := filepath.Join(gitDir, "dbsync", "cache", serialize.FileName(env), serialize.FileName(table))
	return &Cache{path: p, dir: dir, old: loadRowsCache(p)}
}

func (c *Cache) usable() bool { return c != nil && c.old != nil }

// Untouched reports whether the cache describes the row files as they
// are: the same names, none modified since.
func (c *Cache) Untouched() bool { return c.usable() && c.old.untouched(c.dir) }

// Save records the files as the export left them. A cache is only a
// shortcut: failing to save it costs time, not correctness.
func (c *Cache) Save() {
	if c.hash != "" {
		saveRowsCache(c.path, c.dir, c.hash)
	}
}

func loadRowsCache(p string) *rowsCache {
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	if !sc.Scan() {
		return nil
	}
	head := strings.Fields(sc.Text())
	if len(head) != 2 {
		return nil
	}
	c := &rowsCache{hash: head[0], files: map[string][2]int64{}}
	c.at, _ = strconv.ParseInt(head[1], 10, 64)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 3 {
			return nil
		}
		size, err1 := strconv.ParseInt(f[1], 10, 64)
		mtime, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return nil
		}
		c.files[f[0]] = [2]int64{size, mtime}
	}
	if sc.Err() != nil {
		return nil
	}
	return c
}

// untouched reports whether the row files in dir are exactly those the
// cache recorded, none modified since.
func (c *rowsCache) untouched(dir string) bool {
	files, err := statDir(dir, serialize.IsRowFile)
	if err != nil || len(files) != len(c.files) {
		return false
	}
	for name, got := range files {
		if want, ok := c.files[name]; !ok || got != want || got[1] >= c.at-racyWindow {
			return false
		}
	}
	return true
}

// saveRowsCache records the files of dir and the hash of their rows.
func saveRowsCache(p, dir, sum string) error {
	files, err := statDir(dir, serialize.IsRowFile)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d\n", sum, time.Now().UnixNano())
	for name, st := range files {
		fmt.Fprintf(&b, "%s\t%d\t%d\n", name, st[0], st[1])
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
		return err
	}
	return atomicfile.WriteFile(p, []byte(b.String()), 0o666)
}

// rowsHash hashes a table's rows in the order export writes them: each
// file name and the row's canonical line (which decides the file's bytes).
type rowsHash struct{ h hash.Hash }

func newRowsHash() *rowsHash { return &rowsHash{h: sha256.New()} }

func (r *rowsHash) add(name string, data []byte) {
	fmt.Fprintf(r.h, "%s %d\n", name, len(data))
	r.h.Write(data)
}

func (r *rowsHash) sum() string { return hex.EncodeToString(r.h.Sum(nil)) }
