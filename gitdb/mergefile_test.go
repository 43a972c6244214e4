package gitdb

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// The merge driver on a lines file: rows added, deleted and changed on
// either side merge by key; a cell changed both ways and a row deleted on
// one side but changed on the other are left between markers.
func TestMergeFileLines(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "db", "links")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "table.json"), []byte(`{"format":1,"name":"links","columns":[{"name":"a","type":"int","nullable":false},{"name":"t","type":"text","nullable":true}],"key":["a"],"layout":"lines","references":[]}`), 0o644)
	write := func(name, text string) string {
		p := filepath.Join(root, name)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	base := write("base", `{"a":1,"t":"one"}
{"a":2,"t":"two"}
{"a":3,"t":"three"}
{"a":4,"t":"four"}
{"a":5,"t":"five"}
`)
	ours := write("ours", `{"a":1,"t":"one (ours)"}
{"a":2,"t":"two"}
{"a":3,"t":"three (ours)"}
{"a":5,"t":"five (ours)"}
{"a":6,"t":"six"}
`)
	theirs := write("theirs", `{"a":0,"t":"zero"}
{"a":1,"t":"one"}
{"a":3,"t":"three (theirs)"}
{"a":4,"t":"four"}
{"a":10,"t":"ten"}
`)
	err := MergeFile(root, base, ours, theirs, "db/links/rows.jsonl", Labels{Ours: "ours", Theirs: "theirs"})
	var conflicts *MergeConflictsError
	if !errors.As(err, &conflicts) {
		t.Fatalf("got %v, want conflicts", err)
	}
	n := conflicts.N
	got, _ := os.ReadFile(ours)
	want := `{"a":0,"t":"zero"}
{"a":1,"t":"one (ours)"}
<<<<<<< ours
{"a":3,"t":"three (ours)"}
=======
{"a":3,"t":"three (theirs)"}
>>>>>>> theirs
<<<<<<< ours
{"a":5,"t":"five (ours)"}
=======
>>>>>>> theirs
{"a":6,"t":"six"}
{"a":10,"t":"ten"}
`
	// 2 was deleted by theirs (unchanged here): gone. 4 was deleted by
	// ours (unchanged there): stays gone. 5 was deleted by theirs and
	// changed here: a conflict.
	if n != 2 || string(got) != want {
		t.Errorf("%d conflicts, got\n%s\nwant\n%s", n, got, want)
	}
}

// The merge driver on a row file: the markers surround only the lines of
// the conflicting column, named as the labels say and as long as the
// marker size, while a cell changed on one side only (a JSON value over
// several lines here) merges.
func TestMergeFileRowNarrowMarkers(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "db", "settings")
	os.MkdirAll(filepath.Join(dir, "rows"), 0o755)
	os.WriteFile(filepath.Join(dir, "table.json"), []byte(`{"format":1,"name":"settings","columns":[{"name":"name","type":"text","nullable":false},{"name":"data","type":"json","nullable":true},{"name":"value","type":"text","nullable":true},{"name":"weight","type":"int","nullable":true}],"key":["name"],"layout":"rows","references":[]}`), 0o644)
	write := func(name, text string) string {
		p := filepath.Join(root, name)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	row := func(data, value, weight string) string {
		return "{\n  \"data\": " + data + ",\n  \"name\": \"footer\",\n  \"value\": " + value + ",\n  \"weight\": " + weight + "\n}\n"
	}
	base := write("base", row("null", `"base"`, "1"))
	ours := write("ours", row("null", `"main"`, "2"))
	theirs := write("theirs", row(`{"a": 1}`, `"feature"`, "3"))
	err := MergeFile(root, base, ours, theirs, "db/settings/rows/footer.json", Labels{Ours: "main", Theirs: "feature", Size: 9})
	var conflicts *MergeConflictsError
	if !errors.As(err, &conflicts) || conflicts.N != 1 {
		t.Fatalf("got %v, want 1 conflict", err)
	}
	got, _ := os.ReadFile(ours)
	want := `{
  "data": {
    "a": 1
  },
  "name": "footer",
<<<<<<<<< main
  "value": "main",
  "weight": 2
=========
  "value": "feature",
  "weight": 3
>>>>>>>>> feature
}
`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
