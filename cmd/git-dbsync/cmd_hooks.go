package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/hooks"
)

type hooksOptions struct {
	force, chain bool
	driversOnly  bool
}

func newHooksCmd(s *streams) *cobra.Command {
	opts := &hooksOptions{}
	cmd := &cobra.Command{
		Use:   "hooks install [--chain|--force] | uninstall | status",
		Short: "Install the git hooks and the merge and diff drivers",
		Long: `Install, upgrade or remove git dbsync's git hooks, in the hooks directory git
uses (core.hooksPath, or the common git directory of linked worktrees):

  pre-commit     re-export the development database and stage the export
                 directory (and only it), so every commit carries its config
  post-merge     merge the configuration just merged (or pulled) into the
  post-checkout  development database, three-way: changes made in the database
                 and not exported yet are kept; conflicts are reported and
                 nothing is written

and register, in the repository's git config, a merge driver that merges row
files and lines files by key and by cell ("git dbsync merge-file") and a diff
driver that shows lines files row by row ("git dbsync textconv"), bound to
the export directory in .gitattributes (commit that file).

A hook git dbsync did not write is never overwritten: install refuses and
says so; --chain keeps it (as <hook>.dbsync-chained) and calls it first;
--force moves it aside (as <hook>.dbsync-replaced). uninstall removes our
hooks and drivers and puts such hooks back exactly as they were. install
upgrades our own older hooks.

The hooks do nothing when DBSYNC_SKIP_HOOKS=1, never run inside each other,
and fail with an explanation when git-dbsync is not on PATH. The pre-commit
framework, husky and lefthook can call 'git dbsync hook pre-commit' instead
(see the README).`,
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
	cmd.Flags().BoolVar(&opts.driversOnly, "drivers-only", false, "install the merge and diff drivers but no hooks (another hook manager runs 'git dbsync hook …')")
	return cmd
}

func runHooks(s *streams, action string, opts *hooksOptions) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := gitdb.FindRoot(wd)
	if err != nil {
		return err
	}
	dir, err := repo.HooksDir(root)
	if err != nil {
		return err
	}
	exportDir := config.DefaultDir
	if cfg, err := config.Load(root); err == nil {
		exportDir = cfg.Dir
	}
	var lines []string
	switch action {
	case "install":
		mode := hooks.Refuse
		switch {
		case opts.chain && opts.force:
			return usageErrorf("--chain and --force cannot be used together")
		case opts.chain:
			mode = hooks.Chain
		case opts.force:
			mode = hooks.Force
		}
		if !opts.driversOnly {
			if lines, err = hooks.Install(dir, mode); err != nil {
				return err
			}
		}
		if err := hooks.InstallDrivers(repo.Git{Dir: root}.Output, root, exportDir); err != nil {
			return err
		}
		lines = append(lines, "merge and diff drivers registered; .gitattributes binds them to "+exportDir+"/ (commit it)")
	case "uninstall":
		if lines, err = hooks.Uninstall(dir); err != nil {
			return err
		}
		if err := hooks.UninstallDrivers(repo.Git{Dir: root}.Output, root); err != nil {
			return err
		}
		lines = append(lines, "merge and diff drivers removed")
	case "status":
		sts, err := hooks.Status(dir)
		if err != nil {
			return err
		}
		for _, st := range sts {
			line := fmt.Sprintf("%-14s %s", st.Name, st.State)
			if st.Version > 0 {
				line += fmt.Sprintf(" (v%d)", st.Version)
			}
			if st.Chained {
				line += ", chains " + st.Name + hooks.ChainedSuffix
			}
			if st.Replaced {
				line += ", keeps " + st.Name + hooks.ReplacedSuffix
			}
			lines = append(lines, line)
		}
		drivers := "not registered"
		if hooks.DriversInstalled(repo.Git{Dir: root}.Output) {
			drivers = "registered"
		}
		lines = append(lines, fmt.Sprintf("%-14s %s", "drivers", drivers), fmt.Sprintf("%-14s %s", "hooks dir", dir))
	default:
		return usageErrorf("unknown action %q (want install, uninstall or status)", action)
	}
	for _, l := range lines {
		fmt.Fprintln(s.Out, l)
	}
	return nil
}

// newHookCmd runs a hook; the scripts that hooks install call it.
func newHookCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:    "hook pre-commit | post-merge [squash] | post-checkout PREV NEW FLAG",
		Short:  "Run a git dbsync hook (called by the installed hooks)",
		Hidden: true,
		Args:   usageArgs(cobra.MinimumNArgs(1)),
		RunE:   func(cmd *cobra.Command, args []string) error { return runHook(cmd, s, args) },
	}
}

func runHook(cmd *cobra.Command, s *streams, args []string) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	ws, err := gitdb.OpenWorkspace(wd)
	if err != nil {
		if strings.Contains(err.Error(), "no "+config.FileName) {
			return nil // a branch without git dbsync: nothing to do
		}
		return err
	}
	ctx := cmd.Context()
	switch args[0] {
	case "pre-commit":
		res, err := ws.Export(ctx, gitdb.ExportOptions{})
		if err != nil {
			return fmt.Errorf("git dbsync pre-commit: %w\nhint: fix it, or commit without the hook: DBSYNC_SKIP_HOOKS=1 git commit …", err)
		}
		if res.Changed() {
			for _, t := range res.Tables {
				if t.Changes() {
					fmt.Fprintf(s.Err, "git dbsync: %s: %s\n", t.Dir, describeTable(t))
				}
			}
		}
		// Stage with git itself: it honours GIT_INDEX_FILE, which commit -a
		// and --only set for hooks (go-git does not).
		if err := (repo.Git{Dir: ws.Root}).Run("add", "-A", "--", ws.Config.Dir); err != nil {
			return fmt.Errorf("git dbsync pre-commit: %w", err)
		}
		return nil
	case "post-merge", "post-checkout":
		cur, prev := "HEAD", "ORIG_HEAD"
		if args[0] == "post-checkout" {
			if len(args) < 4 || args[3] != "1" || args[1] == args[2] {
				return nil // a file checkout, or the same commit
			}
			prev, cur = args[1], args[2]
		}
		opts := gitdb.SyncOptions{Commit: repo.Commit(ws.Root, cur), Previous: repo.Commit(ws.Root, prev), Version: version}
		if opts.Commit == "" || strings.Trim(opts.Previous, "0") == "" {
			return nil // nothing checked out yet, or a fresh clone
		}
		res, err := ws.Sync(ctx, opts)
		if err != nil && strings.Contains(err.Error(), "has no "+config.FileName) {
			return nil
		}
		return reportSync(s, res, err)
	}
	return usageErrorf("unknown hook %q", args[0])
}

// reportSync prints what a post-merge or post-checkout sync did.
func reportSync(s *streams, res *gitdb.ApplyResult, err error) error {
	var conflict *gitdb.ConflictError
	if errors.As(err, &conflict) {
		renderPlan(s.Err, conflict.Plan, "conflicts: sync")
		return &codedError{code: exitConflicts, err: fmt.Errorf("git dbsync: %w; the development database was not changed\nhint: resolve with 'git dbsync apply %s --env %s --ours' (keep your database's values) or '--theirs'",
			err, conflict.Plan.Rev.Name, conflict.Plan.Env)}
	}
	if err != nil {
		return fmt.Errorf("git dbsync: merging the configuration into the development database: %w", err)
	}
	if res.Already || res.Entry == nil {
		return nil
	}
	var n int
	for _, c := range res.Entry.Summary {
		n += c.Inserted + c.Updated + c.Deleted
	}
	fmt.Fprintf(s.Err, "git dbsync: merged the configuration of %s into %q (%d rows changed)\n", res.Entry.Revision, res.Entry.Env, n)
	return nil
}

func newMergeFileCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "merge-file BASE OURS THEIRS PATH",
		Short: "The git merge driver of exported files (registered by hooks install)",
		Long: `Merge a row file or a lines file of the export directory by key and by cell,
with the merge engine of apply: changes to different rows, or different cells
of one row, merge cleanly. The result is written over OURS; each true conflict
is left between conflict markers for a person to resolve, and the exit status
is the number of conflicts. Other files get git's own text merge. git calls it
as "git dbsync merge-file %O %A %B %P".`,
		Hidden: true,
		Args:   usageArgs(cobra.ExactArgs(4)),
		RunE: func(cmd *cobra.Command, args []string) error {
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			root, err := gitdb.FindRoot(wd)
			if err != nil {
				return err
			}
			n, err := gitdb.MergeFile(root, args[0], args[1], args[2], args[3])
			if err != nil {
				return err
			}
			if n > 0 {
				return &silentError{code: min(n, 127)}
			}
			return nil
		},
	}
}

func newTextconvCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:    "textconv FILE",
		Short:  "The git diff driver of lines files: one row per block, named by its key",
		Hidden: true,
		Args:   usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			return gitdb.Textconv(wd, args[0], s.Out)
		},
	}
}
