package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
)

// Every flag of every command is in the README's table of commands, on
// the command's row: the table is where people look first.
func TestREADMEListsEveryFlag(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // command name → its rows in the table
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "| `git dbsync "); ok {
			name, _, _ := strings.Cut(rest, " ")
			name = strings.TrimSuffix(name, "`")
			rows[name] += line
		}
	}
	root := newRootCmd(&streams{})
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) {
		if !strings.Contains(rows["<command>"], "--"+f.Name) {
			t.Errorf("README: the row of the options of every command lacks --%s", f.Name)
		}
	})
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		row, ok := rows[c.Name()]
		if !ok {
			t.Errorf("README: no row for git dbsync %s", c.Name())
			continue
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden || f.Name == "help" {
				return
			}
			if !strings.Contains(row, "--"+f.Name) {
				t.Errorf("README: the row of git dbsync %s lacks --%s", c.Name(), f.Name)
			}
		})
		visitSubcommands(c, func(sub *cobra.Command) {
			if !strings.Contains(row, sub.Name()) {
				t.Errorf("README: the row of git dbsync %s lacks %s", c.Name(), sub.Name())
			}
		})
	}
}

func visitSubcommands(c *cobra.Command, fn func(*cobra.Command)) {
	for _, sub := range c.Commands() {
		if !sub.Hidden {
			fn(sub)
		}
	}
}

// Every .dbsync example in the README (its ini blocks) loads, and no
// step's text is cut short by a "#" or ";" git config reads as a comment.
func TestREADMEExamplesLoad(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(data), "```ini\n")[1:]
	if len(blocks) < 5 {
		t.Fatalf("found %d ini blocks in the README", len(blocks))
	}
	for _, b := range blocks {
		block, _, _ := strings.Cut(b, "```")
		cfg, err := config.Parse("/repo", ".dbsync", []byte(block))
		if err != nil {
			t.Errorf("README example does not load: %v\n%s", err, block)
			continue
		}
		for _, e := range cfg.Envs {
			for _, st := range e.Steps {
				line := lineOf(block, st.Kind+" = "+st.Text)
				_, rest, _ := strings.Cut(line, st.Text)
				if line == "" || cutShort.MatchString(rest) {
					t.Errorf("README: the %s step %q is not what its line says: %q (a # or ; starts a comment)", st.Kind, st.Text, line)
				}
			}
		}
	}
}

// cutShort matches what follows a value git config cut at a "#" or ";"
// that was meant as part of it (a comment has a space after its mark).
var cutShort = regexp.MustCompile(`^\s*[#;]\S`)

// lineOf returns the line of text that starts (after tabs) with prefix.
func lineOf(text, prefix string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, "\t "), prefix) {
			return l
		}
	}
	return ""
}
