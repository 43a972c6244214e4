package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

// newHookCmd runs a hook; the scripts that hooks install call it, and so
// can other hook managers.
type hookOptions struct {
	args []string // the hook's name, then git's arguments to it
}

func newHookCmd(s *streams) *cobra.Command {
	opts := &hookOptions{}
	return &cobra.Command{
		Use:    "hook pre-commit | post-commit | post-merge [squash] | post-checkout PREV NEW FLAG | post-rewrite amend|rebase | post-applypatch",
		Short:  "Run a git dbsync hook (called by the installed hooks)",
		Hidden: true,
		// git passes hooks arguments of its own: never parse them as flags.
		DisableFlagParsing: true,
		Args:               usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.args = args
			return runHook(cmd, s, opts)
		},
	}
}

// runHook does the work of a git hook.
func runHook(cmd *cobra.Command, s *streams, opts *hookOptions) error {
	args := opts.args
	ws, err := s.workspace()
	if errors.Is(err, gitdb.ErrNoConfig) {
		return nil // a branch without git dbsync: nothing to do
	}
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	var res *gitdb.HookResult
	switch name := args[0]; name {
	case "pre-commit":
		if os.Getenv(stagedEnv) != "" {
			return nil // git dbsync commit staged the export just before
		}
		pid, _ := strconv.Atoi(os.Getenv("DBSYNC_GIT_PID"))
		res, err = ws.PreCommit(ctx, gitdb.PreCommitOptions{Version: version, GitPID: pid})
		reportHook(s, res)
		if err != nil {
			return hookError(s, name, err)
		}
		return nil
	case "post-commit":
		res, err = ws.PostCommit(ctx, version)
	case "post-merge", "post-applypatch":
		res, err = ws.SyncHook(ctx, version)
	case "post-rewrite":
		if len(args) < 2 || args[1] != "rebase" {
			return nil // an amend: post-commit has done the work
		}
		res, err = ws.RebaseEnded(ctx, version)
	case "post-checkout":
		if len(args) < 4 || args[3] != "1" || args[1] == args[2] {
			return nil // a file checkout, or the same commit
		}
		if strings.Trim(args[1], "0") == "" { // nothing was checked out before
			fmt.Fprintf(s.Err, "git dbsync: a new work tree: once its development database is set (git config --worktree dbsync.env.<name>.url), run 'git dbsync sync'\n")
			return nil
		}
		res, err = ws.SyncHook(ctx, version)
	default:
		return usageErrorf("unknown hook %q", name)
	}
	reportHook(s, res)
	return hookError(s, args[0], err)
}

// stagedEnv tells the pre-commit hook that git dbsync commit has just
// exported and staged.
const stagedEnv = "DBSYNC_STAGED"

// reportHook prints what a hook did, on stderr: git shows it.
func reportHook(s *streams, res *gitdb.HookResult) {
	if res == nil {
		return
	}
	if res.Skipped != "" {
		fmt.Fprintf(s.Err, "git dbsync: %s\n", res.Skipped)
	}
	if res.Sync != nil && !res.Sync.Already && res.Sync.Entry != nil && res.Sync.Entry.Kind == gitdb.KindApply {
		var n int
		for _, c := range res.Sync.Entry.Summary {
			n += c.Inserted + c.Updated + c.Deleted
		}
		if n > 0 {
			fmt.Fprintf(s.Err, "git dbsync: merged the configuration of %s into %q (%s changed)\n", res.Sync.Entry.Revision, res.Sync.Entry.Env, plural(n, "row"))
		}
	}
	if res.Export != nil {
		for _, t := range res.Export.Tables {
			if t.Changes() {
				fmt.Fprintf(s.Err, "git dbsync: %s: %s\n", t.Dir, describeTable(t))
			}
		}
	}
	for _, n := range res.Notes {
		fmt.Fprintln(s.Err, "git dbsync: "+n)
	}
}

// hookError explains a hook's failure: conflicts with both values, and
// how to go on.
func hookError(s *streams, hook string, err error) error {
	var conflict *gitdb.ConflictError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &conflict):
		s.view.plan(s.Err, conflict.Plan, "conflicts: sync")
		what := "the development database was not changed"
		if hook == "pre-commit" {
			what = "nothing was written and the commit stops"
		}
		return fmt.Errorf("git dbsync %s: %w: %s\nhint: keep the database's values with 'git dbsync sync --env %s --ours' (the next commit exports them), or take the files' with 'git dbsync sync --env %s --theirs'",
			hook, err, what, conflict.Plan.Env, conflict.Plan.Env)
	case hook == "pre-commit":
		return fmt.Errorf("git dbsync pre-commit: %w\nhint: fix it, or commit without the hook: DBSYNC_SKIP_HOOKS=1 git commit …", err)
	}
	return fmt.Errorf("git dbsync %s: %w", hook, err)
}
