package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

type hooksOptions struct {
	force, chain bool
	driversOnly  bool
	json         bool
}

func newHooksCmd(s *streams) *cobra.Command {
	opts := &hooksOptions{}
	cmd := &cobra.Command{
		Use:   "hooks install [--chain|--force] | uninstall | status [--json]",
		Short: "Install the git hooks and the merge and diff drivers",
		Long: `Install, upgrade or remove git dbsync's git hooks, in the hooks directory git
uses (core.hooksPath, or the common git directory of linked worktrees). They
keep the development database and the commits in step:

  pre-commit       merge into the database what changed in the files since it
                   was last in step, re-export it and stage the export
                   directory (and only it); while git concludes a merge,
                   rebase, cherry-pick, revert or am, leave the export
                   directory as resolved
  post-commit      record the commit, or merge what it concluded into the
                   database
  post-merge       merge the files now checked out into the database
  post-checkout    (after a merge, a pull, a branch switch, a rebase, git am),
  post-rewrite     three-way: changes made in the database and not exported
  post-applypatch  yet are kept; conflicts are shown and nothing is written

and register, in the repository's git config, a merge driver that merges row
files and lines files by key and by cell ("git dbsync merge-file") and a diff
driver that shows lines files row by row ("git dbsync textconv"), bound to
the export directory in .gitattributes (commit that file). Unless you chose
a man viewer, it also registers one (man.viewer = dbsync) that shows the
built-in help for 'git dbsync --help' when no man page is installed.

A hook git dbsync did not write is never overwritten: install refuses and
says so; --chain keeps it (as <hook>.dbsync-chained) and calls it first;
--force moves it aside (as <hook>.dbsync-replaced). uninstall removes our
hooks and drivers and puts such hooks back exactly as they were; a committed
.gitattributes stays as it is. install upgrades our own older hooks.

The hooks do nothing when DBSYNC_SKIP_HOOKS=1, never run inside each other,
and fail with an explanation when git-dbsync is not on PATH. The pre-commit
framework, husky and lefthook can call 'git dbsync hook <name>' instead
(see the README).

status lists each hook (missing, installed, outdated or another hook), the
drivers and the hooks directory; --json prints the same as JSON
(schemas/hooks.schema.json).`,
		Example: `  git dbsync hooks install
  git dbsync hooks install --chain
  git dbsync hooks install --drivers-only   # husky, lefthook or pre-commit run the hooks
  git dbsync hooks status
  git dbsync hooks uninstall`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error { return runHooks(s, args[0], opts) },
	}
	cmd.Flags().BoolVar(&opts.chain, "chain", false, "keep a hook git dbsync did not write and call it first")
	cmd.Flags().BoolVar(&opts.force, "force", false, "move a hook git dbsync did not write aside (uninstall puts it back)")
	cmd.Flags().BoolVar(&opts.json, "json", false, "status: print the state as JSON")
	cmd.Flags().BoolVar(&opts.driversOnly, "drivers-only", false, "install the merge and diff drivers but no hooks (another hook manager runs 'git dbsync hook …')")
	return cmd
}

func runHooks(s *streams, action string, opts *hooksOptions) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	h, err := gitdb.OpenHooks(wd)
	if err != nil {
		return err
	}
	if opts.json && action != "status" {
		return usageErrorf("--json goes with status only")
	}
	var lines []string
	switch action {
	case "install":
		mode := gitdb.HookRefuse
		switch {
		case opts.chain && opts.force:
			return usageErrorf("--chain and --force cannot be used together")
		case opts.chain:
			mode = gitdb.HookChain
		case opts.force:
			mode = gitdb.HookForce
		}
		lines, err = h.Install(mode, opts.driversOnly)
	case "uninstall":
		lines, err = h.Uninstall()
	case "status":
		r, err := h.Status()
		if err != nil {
			return err
		}
		if opts.json {
			return writeJSON(s.Out, r)
		}
		lines = hooksStatusLines(r)
	default:
		return usageErrorf("unknown action %q (want install, uninstall or status)", action)
	}
	for _, l := range lines {
		fmt.Fprintln(s.Out, l)
	}
	return err
}

// hooksStatusLines says, a line each, the state of every hook, the drivers
// and the hooks directory.
func hooksStatusLines(r *gitdb.HooksReport) []string {
	var lines []string
	for _, h := range r.Hooks {
		state := map[string]string{"outdated": "installed (older version)", "foreign": "another hook"}[h.State]
		if state == "" {
			state = h.State
		}
		line := fmt.Sprintf("%-15s %s", h.Name, state)
		if h.Version > 0 {
			line += fmt.Sprintf(" (v%d)", h.Version)
		}
		if h.Chained {
			line += ", chains " + h.Name + ".dbsync-chained"
		}
		if h.Replaced {
			line += ", keeps " + h.Name + ".dbsync-replaced"
		}
		lines = append(lines, line)
	}
	drivers := "not registered"
	switch {
	case r.DriversOutdated:
		drivers = "registered (older version: git dbsync hooks install upgrades them)"
	case r.Drivers:
		drivers = "registered"
	}
	return append(lines, fmt.Sprintf("%-15s %s", "drivers", drivers), fmt.Sprintf("%-15s %s", "hooks dir", r.Dir))
}
