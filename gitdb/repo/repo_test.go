package repo

import (
	"bytes"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/internal/gittest"
)

func gitRepo(t *testing.T) string {
	dir := gittest.Init(t)
	run := func(args ...string) { gittest.Run(t, dir, args...) }
	os.MkdirAll(filepath.Join(dir, "db", "t", "rows"), 0o755)
	os.WriteFile(filepath.Join(dir, "db", "t", "table.json"), []byte(`{"format":1,"name":"t","columns":[{"name":"k","type":"text","nullable":false}],"key":["k"],"layout":"rows","references":[]}`), 0o644)
	os.WriteFile(filepath.Join(dir, "db", "t", "rows", "a.json"), []byte(`{"k":"a"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "db", "t", "rows", "b.json"), []byte(strings.Repeat("x", 100000)), 0o644)
	run("add", "-A")
	run("commit", "-q", "-m", "one")
	run("tag", "-a", "-m", "annotated", "v1")
	os.WriteFile(filepath.Join(dir, "db", "t", "rows", "c.json"), []byte(`{"k":"c"}`), 0o644)
	run("add", "-A")
	run("commit", "-q", "-m", "two")
	run("tag", "v2")
	run("gc", "-q") // packed, delta-compressed objects
	return dir
}

func TestRevisionsTreesAndBlobs(t *testing.T) {
	r, err := Open(gitRepo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	v1, err := r.Resolve("v1")
	if err != nil || !v1.Tag {
		t.Fatalf("v1: %+v %v", v1, err)
	}
	v2, _ := r.Resolve("v2")
	if head, _ := r.Resolve("HEAD"); head.Commit != v2.Commit || head.Tag {
		t.Errorf("HEAD %+v", head)
	}
	if _, err := r.Resolve("v9"); err == nil {
		t.Error("unknown revision resolved")
	}
	if ok, _ := r.IsAncestor(v1.Commit, v2.Commit); !ok {
		t.Error("v1 is an ancestor of v2")
	}
	tags, _ := r.Tags()
	if len(tags) != 2 || tags[0].Name != "v1" || tags[1].Name != "v2" {
		t.Errorf("tags %+v", tags)
	}
	rows, err := r.ReadDir(v1.Commit, "db/t/rows")
	if err != nil || len(rows) != 2 || rows[0].Name != "a.json" || rows[0].Dir {
		t.Fatalf("db/t/rows at v1: %+v %v", rows, err)
	}
	if top, err := r.ReadDir(v1.Commit, ""); err != nil || len(top) != 1 || top[0].Name != "db" || !top[0].Dir {
		t.Errorf("root at v1: %+v %v", top, err)
	}
	// Two blobs open at once, each read in parts.
	a, err := r.OpenBlob(rows[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.OpenBlob(rows[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 10)
	io.ReadFull(b, head)
	all, _ := io.ReadAll(a)
	b.Close() // the rest of b is skipped
	a.Close()
	if string(all) != `{"k":"a"}` || string(head) != "xxxxxxxxxx" {
		t.Errorf("blobs %q %q", all, head)
	}
	data, err := r.ReadBlob(rows[1].ID)
	if err != nil || len(data) != 100000 {
		t.Errorf("big blob: %d %v", len(data), err)
	}
	if _, err := r.ReadBlob("0123456789012345678901234567890123456789"); err == nil {
		t.Error("a missing object was read")
	}
	// Several at once, a big one among them; a missing one is an error
	// and leaves cat-file in step for the next read.
	many, err := r.ReadBlobs([]string{rows[1].ID, rows[0].ID, rows[0].ID})
	if err != nil || len(many) != 3 || len(many[0]) != 100000 || string(many[1]) != `{"k":"a"}` || string(many[2]) != `{"k":"a"}` {
		t.Errorf("ReadBlobs: %d blobs, %v", len(many), err)
	}
	if _, err := r.ReadBlobs([]string{rows[0].ID, "0123456789012345678901234567890123456789", rows[1].ID}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("ReadBlobs of a missing object: %v", err)
	}
	if data, err := r.ReadBlob(rows[0].ID); err != nil || string(data) != `{"k":"a"}` {
		t.Errorf("after a missing object: %q %v", data, err)
	}
	if none, err := r.ReadDir(v1.Commit, "nowhere"); err != nil || none != nil {
		t.Errorf("missing dir: %v %v", none, err)
	}
}

// Extensions that change nothing for reading revisions do not stop go-git
// (a partial clone, per-worktree config); unknown ones still do.
func TestOpenWithExtensions(t *testing.T) {
	dir := gitRepo(t)
	gittest.Run(t, dir, "config", "extensions.worktreeConfig", "true")
	gittest.Run(t, dir, "config", "extensions.partialClone", "origin")
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve("v2"); err != nil {
		t.Error(err)
	}
	r.Close()
	gittest.Run(t, dir, "config", "core.repositoryformatversion", "1")
	gittest.Run(t, dir, "config", "extensions.frobnicate", "true")
	if _, err := Open(dir); err == nil {
		t.Error("an unknown extension was accepted")
	}
}

// A tree entry named with a "/" (hash-object --literally writes one; git
// add and mktree never do) is refused, naming it, as ".." is.
func TestReadDirRefusesHandMadeNames(t *testing.T) {
	dir := gitRepo(t)
	git := func(stdin []byte, args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = dir, gittest.Env(t.TempDir())
		cmd.Stdin = bytes.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	blob := git([]byte(`{}`), "hash-object", "-w", "--stdin")
	raw, _ := hex.DecodeString(blob)
	for _, name := range []string{"a/b", ".."} {
		tree := git(append([]byte("100644 "+name+"\x00"), raw...), "hash-object", "-t", "tree", "--literally", "-w", "--stdin")
		commit := git(nil, "commit-tree", "-m", "evil", tree)
		r, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.ReadDir(commit, "")
		r.Close()
		if err == nil || !strings.Contains(err.Error(), `an entry named "`+name+`"`) {
			t.Errorf("%q: %v", name, err)
		}
	}
}
