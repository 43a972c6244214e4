package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The man pages' synopses keep their placeholders (<revision>, FILE):
// rendered once, every placeholder of a command's usage is in its page.
func TestManSynopsesKeepPlaceholders(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if code := run([]string{"man", dir}, &streams{Out: &out, Err: &out}); code != 0 {
		t.Fatalf("man: %d\n%s", code, out.String())
	}
	placeholder := regexp.MustCompile(`<[a-z-]+>|\b[A-Z]{3,}\b`)
	for _, c := range newRootCmd(&streams{}).Commands() {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		page, err := os.ReadFile(filepath.Join(dir, "git-dbsync-"+c.Name()+".1"))
		if err != nil {
			t.Error(err)
			continue
		}
		_, synopsis, _ := strings.Cut(string(page), ".SH SYNOPSIS")
		synopsis, _, _ = strings.Cut(synopsis, ".SH ")
		for _, p := range placeholder.FindAllString(c.Use, -1) {
			if !strings.Contains(synopsis, p) {
				t.Errorf("git-dbsync-%s.1: the synopsis lost %s:\n%s", c.Name(), p, synopsis)
			}
		}
	}
}
