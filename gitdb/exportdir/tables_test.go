package exportdir

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/internal/gittest"
)

// One reader reads a table directory from a revision and from the
// working tree alike.
func TestReadTablesFromRevisionAndWorkTree(t *testing.T) {
	dir := gittest.Init(t)
	write := func(rel, data string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("db/t/table.json", `{"format":1,"name":"t","columns":[{"name":"k","type":"text","nullable":false}],"key":["k"],"layout":"rows","references":[]}`)
	write("db/t/rows/a.json", "{\n  \"k\": \"a\"\n}\n")
	write("db/t/rows/b.json", "{\n  \"k\": \"b\"\n}\n")
	write("db/t/rows/.dbsync-x.tmp", "left by a killed run")
	write("db/notes/readme.txt", "not a table")
	gittest.Run(t, dir, "add", "-A")
	gittest.Run(t, dir, "commit", "-q", "-m", "one")
	r, err := repo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	head, _ := r.Resolve("HEAD")
	for _, tree := range []Tree{Revision{Repo: r, Commit: head.Commit, Rev: "HEAD"}, WorkTree{Root: dir}} {
		tables, err := ReadTables(tree, "db")
		if err != nil || len(tables) != 1 || tables[0].Meta.Name != "t" || tables[0].Dir != "db/t" || len(tables[0].Rows) != 2 || tables[0].Lines != nil {
			t.Fatalf("%s: %+v %v", tree.Name(), tables, err)
		}
		src, closer, err := Rows(tree, &tables[0], tree.Name(), nil)
		if err != nil {
			t.Fatalf("%s: %v", tree.Name(), err)
		}
		var keys []string
		for {
			row, ok, err := src()
			if err != nil || !ok {
				break
			}
			keys = append(keys, string(row[0]))
		}
		closer()
		if !reflect.DeepEqual(keys, []string{`"a"`, `"b"`}) {
			t.Errorf("%s: rows %v", tree.Name(), keys)
		}
		if none, err := ReadTables(tree, "nowhere"); err != nil || none != nil {
			t.Errorf("%s: missing dir: %v %v", tree.Name(), none, err)
		}
	}
}

func TestHasConflictMarkers(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       bool
	}{
		{"git's markers", "{\n<<<<<<< main\n  \"a\": 1\n=======\n  \"a\": 2\n>>>>>>> other\n}\n", true},
		{"at the start", "<<<<<<< HEAD\n", true},
		{"a longer marker size", "{\n<<<<<<<<<<<< main\n", true},
		{"inside a value", "{\n  \"a\": \"<<<<<<< x\"\n}\n", false},
		{"too short", "{\n<<<<<< main\n", false},
		{"no label", "{\n<<<<<<<\n", false},
	} {
		if got := HasConflictMarkers([]byte(tc.text)); got != tc.want {
			t.Errorf("%s: got %v", tc.name, got)
		}
	}
}
