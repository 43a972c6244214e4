package exportdir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The old lines file is read line by line without a copy of each, and a
// line longer than the reader's buffer still comes whole.
func TestOldLinesLongLine(t *testing.T) {
	long := `{"id":2,"v":"` + strings.Repeat("x", 200_000) + `"}` + "\n"
	lines := []string{`{"id":1,"v":"a"}` + "\n", long, `{"id":3,"v":"c"}` + "\n", `{"id":4,"v":"no newline"}`}
	p := filepath.Join(t.TempDir(), "rows.jsonl")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := openLines(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.close()
	for i, want := range lines {
		if string(o.line) != want {
			t.Fatalf("line %d: %d bytes %.40q, want %d bytes %.40q", i+1, len(o.line), o.line, len(want), want)
		}
		if err := o.next(); err != nil {
			t.Fatal(err)
		}
	}
	if o.line != nil {
		t.Fatalf("after the last line: %q", o.line)
	}
}
