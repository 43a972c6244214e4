package main

import (
	"os"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

// view is how much the commands show of plans and diffs, and whether in
// colour: set once per run from the global options, the environment and
// git's own colour setting.
type view struct {
	detail detail
	color  bool
}

type detail int

const (
	quiet   detail = iota // errors only (-q)
	counts                // per-table counts (--stat)
	normal                // counts and up to rowsShown rows a table
	verbose               // every row (-v)
)

// rowsShown bounds the rows a table lists at normal detail.
const rowsShown = 20

// historyShown is how many of its newest ledger entries status lists.
const historyShown = 20

// viewFlags are the global options that set the view.
type viewFlags struct {
	color                string
	quiet, verbose, stat bool
}

func (f *viewFlags) add(root *cobra.Command) {
	p := root.PersistentFlags()
	p.StringVar(&f.color, "color", "auto", "colour `WHEN`: auto (on a terminal, unless NO_COLOR is set or git config color.dbsync or color.ui says otherwise), always or never")
	p.BoolVarP(&f.quiet, "quiet", "q", false, "print errors (with their hints) only; --json still prints its JSON")
	p.BoolVarP(&f.verbose, "verbose", "v", false, "list every row of a plan or diff")
	p.BoolVar(&f.stat, "stat", false, "per-table counts only, no rows")
}

// view works out the view from the options, for output going to out.
func (f *viewFlags) view(out any) (view, error) {
	v := view{detail: normal}
	switch {
	case f.quiet:
		v.detail = quiet
	case f.stat:
		v.detail = counts
	case f.verbose:
		v.detail = verbose
	}
	switch f.color {
	case "always":
		v.color = true
	case "never":
	case "auto", "":
		file, ok := out.(*os.File)
		terminal := ok && isatty.IsTerminal(file.Fd())
		wd, _ := os.Getwd()
		v.color = os.Getenv("NO_COLOR") == "" && gitdb.GitColor(wd, terminal)
	default:
		return v, usageErrorf("--color takes auto, always or never, not %q", f.color)
	}
	return v, nil
}

// paint colours text when the view is in colour.
func (v view) paint(attr color.Attribute, text string) string {
	if !v.color {
		return text
	}
	c := color.New(attr)
	c.EnableColor()
	return c.Sprint(text)
}
