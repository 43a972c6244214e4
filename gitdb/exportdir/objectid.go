package exportdir

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"slices"
	"strconv"
)

// The export cache records the git object id of the files an export
// leaves, computed here as git computes it (SHA-1, the object format
// go-git reads), so that a table's files can later be recognised in HEAD
// without reading them or running git.

type objectID [sha1.Size]byte

// blobID returns the id of a blob holding data.
func blobID(data []byte) objectID {
	h := sha1.New()
	h.Write([]byte("blob " + strconv.Itoa(len(data)) + "\x00"))
	h.Write(data)
	return objectID(h.Sum(nil))
}

// fileBlobID returns the id of a blob holding the contents of a file.
func fileBlobID(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	h := sha1.New()
	h.Write([]byte("blob " + strconv.FormatInt(fi.Size(), 10) + "\x00"))
	if n, err := io.Copy(h, f); err != nil {
		return "", err
	} else if n != fi.Size() {
		return "", errors.New(path + " changed while read")
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// treeID returns the id of a tree of regular files (name → blob id); ""
// for no files, which git keeps no tree of.
func treeID(files map[string]objectID) string {
	if len(files) == 0 {
		return ""
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names) // files only: git's order is the names' bytes
	var body []byte
	for _, name := range names {
		id := files[name]
		body = append(body, "100644 "+name+"\x00"...)
		body = append(body, id[:]...)
	}
	h := sha1.New()
	h.Write([]byte("tree " + strconv.Itoa(len(body)) + "\x00"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}
