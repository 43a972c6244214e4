package repo

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/internal/gittest"
)

func TestParseStatus(t *testing.T) {
	out := strings.Join([]string{
		"# branch.oid 0123456789abcdef0123456789abcdef01234567",
		"# branch.head main",
		"1 .M N... 100644 100644 100644 aaaa bbbb db/t/rows/a b.json",
		"1 A. N... 000000 100644 100644 0000 cccc db/t/rows/new.json",
		"2 R. N... 100644 100644 100644 dddd dddd R100 db/u/table.json",
		"db/t/table.json",
		"u UU N... 100644 100644 100644 100644 1111 2222 3333 db/v/lines.jsonl",
		"? db/w/rows/x y.json",
		"! ignored.db",
		"",
	}, "\x00")
	st, err := ParseStatus([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if st.Head != "0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("head %q", st.Head)
	}
	want := []StatusEntry{
		{Path: "db/t/rows/a b.json", Staged: '.', Worktree: 'M'},
		{Path: "db/t/rows/new.json", Staged: 'A', Worktree: '.'},
		{Path: "db/u/table.json", Staged: 'R', Worktree: '.'},
		{Path: "db/t/table.json", Staged: 'D', Worktree: '.'},
		{Path: "db/v/lines.jsonl", Staged: 'U', Worktree: 'U', Unmerged: true},
		{Path: "db/w/rows/x y.json", Staged: '?', Worktree: '?'},
	}
	if !reflect.DeepEqual(st.Entries, want) {
		t.Errorf("entries\n got %+v\nwant %+v", st.Entries, want)
	}
	if !st.Staged() {
		t.Error("staged changes not seen")
	}
	for dir, clean := range map[string]bool{"db/t": false, "db/t/rows": false, "db/w": false, "db/x": true, "db/t/row": true, "db/v/lines.jsonl": false, "db/v/lines": true} {
		if st.Clean(dir) != clean {
			t.Errorf("Clean(%s) = %v", dir, !clean)
		}
	}
	if got := st.Unmerged("db"); !reflect.DeepEqual(got, []string{"db/v/lines.jsonl"}) {
		t.Errorf("unmerged %q", got)
	}
	if got := st.Unstaged("db/t"); !reflect.DeepEqual(got, []string{"db/t/rows/a b.json"}) {
		t.Errorf("unstaged %q", got)
	}
	if got := st.Unstaged("db"); len(got) != 3 { // a b.json, the conflict, x y.json
		t.Errorf("unstaged %q", got)
	}

	for _, bad := range []string{"1 M db/x", "? ", "X what"} {
		if _, err := ParseStatus([]byte(bad + "\x00")); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	initial, err := ParseStatus([]byte("# branch.oid (initial)\x00# branch.head main\x00? a\x00"))
	if err != nil || initial.Head != "" || initial.Staged() {
		t.Errorf("a branch with no commit: %+v %v", initial, err)
	}
}

// TestReadStatus checks the parser against what the real git says.
func TestReadStatus(t *testing.T) {
	dir := gitRepo(t)
	run := func(args ...string) { gittest.Run(t, dir, args...) }
	write := func(name, data string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st, err := ReadStatus(dir)
	if err != nil || len(st.Entries) != 0 || st.Staged() || st.Head != Commit(dir, "HEAD") {
		t.Fatalf("clean repository: %+v %v", st, err)
	}
	write("db/t/rows/a.json", `{"k":"A"}`)        // changed, not staged
	write("db/n/rows/new file.json", `{"k":"n"}`) // untracked
	write("db/t/rows/c.json", `{"k":"C"}`)        // changed and staged
	run("add", "db/t/rows/c.json")
	run("mv", "db/t/rows/b.json", "db/t/rows/d.json") // a rename, staged
	os.Remove(filepath.Join(dir, "db", "t", "table.json"))
	st, err = ReadStatus(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range st.Entries {
		got[e.Path] = string([]byte{e.Staged, e.Worktree})
	}
	want := map[string]string{"db/t/rows/a.json": ".M", "db/n/rows/new file.json": "??", "db/t/rows/c.json": "M.",
		"db/t/rows/b.json": "D.", "db/t/rows/d.json": "A.", "db/t/table.json": ".D"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entries\n got %v\nwant %v", got, want)
	}
	if !st.Staged() || st.Clean("db/t") || st.Clean("db/n") || !st.Clean("db/x") {
		t.Errorf("status %+v", st)
	}

	// A conflict, as a merge leaves it.
	run("reset", "-q", "--hard")
	os.RemoveAll(filepath.Join(dir, "db", "n"))
	run("checkout", "-q", "-b", "side")
	write("db/t/rows/a.json", `{"k":"side"}`)
	run("commit", "-q", "-am", "side")
	run("checkout", "-q", "-")
	write("db/t/rows/a.json", `{"k":"main"}`)
	run("commit", "-q", "-am", "main")
	merge := exec.Command("git", "merge", "-q", "side")
	merge.Dir, merge.Env = dir, gittest.Env(dir)
	if merge.Run() == nil {
		t.Fatal("the merge did not conflict")
	}
	st, err = ReadStatus(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Unmerged("db"); !reflect.DeepEqual(got, []string{"db/t/rows/a.json"}) {
		t.Errorf("unmerged %q, %+v", got, st)
	}
}
