package exportdir

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gitdbsync/git-dbsync/internal/atomicfile"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Cache remembers, for a table, a hash of the rows the last export wrote
// or checked and the git object id of the files it left: the tree of the
// rows directory (rows layout) or the blob of the lines file (lines
// layout). When the caller can tell that the files on disk are still that
// object (git status reports them unchanged from HEAD, and HEAD holds
// that id) and the rows hash the same, nothing changed and export reads
// no file: with 100,000 row files that is most of what a pre-commit hook
// costs. Anything else means a full check, which records the cache again.
type Cache struct {
	path string
	old  *tableCache
	// Committed is the id of the table's files in HEAD ("" when HEAD has
	// none), and Clean reports whether git status saw them unchanged
	// from HEAD; the caller sets both. Clean is asked only once the rows
	// hash as recorded, so that the status may still be running while
	// they are read.
	Committed string
	Clean     func() bool
	new       tableCache // set when the files were checked or written
}

// tableCache is what a cache file holds.
type tableCache struct {
	layout serialize.Layout
	hash   string // of the rows (rowsHash)
	id     string // git object id of the files; "" for none (no rows)
}

// cacheFormat starts a cache file; a file of another format (an older
// version's) is no cache, and the next export checks every file once.
const cacheFormat = "dbsync-cache-2"

// OpenCache reads the export cache of a table of an environment, kept in
// the git directory.
func OpenCache(gitDir, env, table string) *Cache {
	p := filepath.Join(gitDir, "dbsync", "cache", serialize.FileName(env), serialize.FileName(table))
	return &Cache{path: p, old: loadCache(p)}
}

// ID returns the git object id the cache records for the table's files,
// and whether it records one.
func (c *Cache) ID() (string, bool) {
	if c == nil || c.old == nil {
		return "", false
	}
	return c.old.id, true
}

// trusted reports whether the cache may stand for the files of a table in
// layout: it describes that layout, and HEAD holds the files it records
// (whether the files on disk are HEAD's is asked last, of Clean).
func (c *Cache) trusted(layout serialize.Layout) bool {
	return c != nil && c.old != nil && c.old.layout == layout && c.old.id == c.Committed && c.Clean != nil
}

// record notes what the export found or wrote, to Save once it commits.
func (c *Cache) record(layout serialize.Layout, hash, id string) {
	if c != nil {
		c.new = tableCache{layout: layout, hash: hash, id: id}
	}
}

// Save records the files as the export left them. A cache is only a
// shortcut: failing to save it costs time, not correctness.
func (c *Cache) Save() {
	if c == nil || c.new.hash == "" || c.old != nil && *c.old == c.new {
		return
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o777); err == nil {
		atomicfile.WriteFile(c.path, []byte(fmt.Sprintf("%s %s %s %s\n", cacheFormat, c.new.layout, c.new.hash, c.new.id)), 0o666)
	}
}

func loadCache(p string) *tableCache {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	f := strings.Fields(string(data))
	if len(f) == 3 { // no rows, no id
		f = append(f, "")
	}
	if len(f) != 4 || f[0] != cacheFormat {
		return nil
	}
	return &tableCache{layout: serialize.Layout(f[1]), hash: f[2], id: f[3]}
}

// rowsHash hashes a table's rows in the order export writes them: each
// file name and the row's canonical line (which decides the file's bytes).
type rowsHash struct {
	h   hash.Hash
	buf []byte
}

func newRowsHash() *rowsHash { return &rowsHash{h: sha256.New()} }

func (r *rowsHash) add(name string, data []byte) {
	r.buf = append(append(r.buf[:0], name...), ' ')
	r.buf = append(strconv.AppendInt(r.buf, int64(len(data)), 10), '\n')
	r.h.Write(r.buf)
	r.h.Write(data)
}

func (r *rowsHash) sum() string { return hex.EncodeToString(r.h.Sum(nil)) }
