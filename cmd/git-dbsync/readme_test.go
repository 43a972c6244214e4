package main

import (
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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
