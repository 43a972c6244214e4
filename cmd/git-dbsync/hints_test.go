package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Every hint names only commands and flags that exist: a "git dbsync
// <command> … --flag" in a hint is a flag of that command (its own, or a
// global one), and a --flag a hint names without a command is a flag of
// some command. The hints are read from the source of cmd/ and gitdb/:
// the string literals of each call that has a "hint:" among them, and of
// the calls of the functions that build a hint from their arguments
// (unconfirmed, confirmer).
func TestHintsNameRealFlags(t *testing.T) {
	root := newRootCmd(&streams{})
	var all []*cobra.Command
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		c.InitDefaultHelpFlag()
		all = append(all, c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	lookup := func(c *cobra.Command, flag string) *pflag.Flag {
		short := !strings.HasPrefix(flag, "--")
		name := strings.TrimLeft(flag, "-")
		for _, set := range []*pflag.FlagSet{c.Flags(), c.InheritedFlags(), c.PersistentFlags()} {
			if short {
				if f := set.ShorthandLookup(name); f != nil {
					return f
				}
			} else if f := set.Lookup(name); f != nil {
				return f
			}
		}
		return nil
	}

	// check reports the flags of text that c lacks.
	check := func(pos string, c *cobra.Command, name, text, hint string) {
		for _, f := range flagWord.FindAllStringSubmatch(text, -1) {
			if lookup(c, f[1]) == nil {
				t.Errorf("%s: a hint offers 'git dbsync %s %s', which has no %s flag: %q", pos, name, f[1], f[1], hint)
			}
		}
	}
	hints := 0
	for _, dir := range []string{"../../cmd", "../../gitdb"} {
		for _, h := range hintTexts(t, dir) {
			hints++
			rest := []byte(h.text)
			// Commands of other programs (git fetch --tags) are theirs.
			for _, m := range otherGit.FindAllSubmatchIndex(rest, -1) {
				if string(rest[m[2]:m[3]]) != "dbsync" {
					copy(rest[m[0]:m[1]], strings.Repeat(" ", m[1]-m[0]))
				}
			}
			for _, m := range mention.FindAllSubmatchIndex(rest, -1) {
				name, args := string(rest[m[2]:m[3]]), string(rest[m[4]:m[5]])
				copy(rest[m[0]:m[1]], strings.Repeat(" ", m[1]-m[0])) // its flags are checked here
				c, _, err := root.Find([]string{name})
				if err != nil || c == root {
					t.Errorf("%s: a hint names 'git dbsync %s', which is no command: %q", h.pos, name, h.text)
					continue
				}
				if !c.DisableFlagParsing { // commit: its flags are git commit's
					check(h.pos, c, name, args, h.text)
				}
			}
			for _, f := range flagWord.FindAllSubmatch(rest, -1) {
				flag, found := string(f[1]), false
				if !strings.HasPrefix(flag, "--") {
					continue
				}
				for _, c := range all {
					if !c.DisableFlagParsing && lookup(c, flag) != nil {
						found = true
						break
					}
				}
				if !found {
					t.Errorf("%s: a hint offers %s, which no command has: %q", h.pos, flag, h.text)
				}
			}
		}
	}
	if hints < 20 {
		t.Fatalf("found %d hints: the walk of the source is broken", hints)
	}
	// The hint of a conflict is made of the flags of the command that met
	// it: rollback's offers no --resolve, which it does not have.
	for _, c := range all {
		if c.Flags().Lookup("ours") != nil {
			hint := resolveHint(c, "them")
			check("resolveHint", c, c.Name(), hint, hint)
		}
	}
}

var (
	// mention is "git dbsync <command> <arguments>", up to the end of the
	// quoted command line or of the clause.
	mention = regexp.MustCompile("git dbsync ([a-z][a-z-]*)([^'\"`\\n(),;#|&]*)")
	// otherGit is a git command line, to tell git dbsync's from others'.
	otherGit = regexp.MustCompile("git ([a-z][a-z-]*)([^'\"`\\n(),;#|&]*)")
	// flagWord is a flag: --name, or -x standing alone.
	flagWord = regexp.MustCompile(`(?:^|[\s\[|])(--[a-z][a-z0-9-]*|-[a-zA-Z])\b`)
)

type hintText struct {
	pos  string
	text string
}

// hintTexts returns the text of every hint in the Go source under dir.
func hintTexts(t *testing.T, dir string) []hintText {
	t.Helper()
	fset := token.NewFileSet()
	var files []*ast.File
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		files = append(files, f)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	literals := func(n ast.Node) string {
		var b strings.Builder
		ast.Inspect(n, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, err := strconv.Unquote(lit.Value)
				if err == nil {
					b.WriteString(s)
				}
			}
			return true
		})
		return b.String()
	}
	// The functions that make a hint of their arguments: those with a
	// hint among their literals, and those that call them.
	builders := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for _, f := range files {
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Body == nil || fn.Recv != nil || builders[fn.Name.Name] {
					continue
				}
				if strings.Contains(literals(fn.Body), "hint:") || callsAny(fn.Body, builders) {
					builders[fn.Name.Name], changed = true, true
				}
			}
		}
	}
	var out []hintText
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var text strings.Builder
			for _, a := range call.Args {
				text.WriteString(literals(a))
			}
			id, _ := call.Fun.(*ast.Ident)
			s := text.String()
			if _, hint, ok := strings.Cut(s, "hint:"); ok { // what comes before is the error, not advice
				out = append(out, hintText{fset.Position(call.Pos()).String(), hint})
			} else if id != nil && builders[id.Name] && strings.Contains(s, "git dbsync") {
				out = append(out, hintText{fset.Position(call.Pos()).String(), s})
			}
			return true
		})
	}
	return out
}

// callsAny says whether body calls one of the functions named.
func callsAny(body ast.Node, names map[string]bool) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if id, ok := call.Fun.(*ast.Ident); ok && names[id.Name] {
				found = true
			}
		}
		return !found
	})
	return found
}
