package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

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
	if errors.Is(err, gitdb.ErrNoConfig) {
		return nil // a branch without git dbsync: nothing to do
	}
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	switch args[0] {
	case "pre-commit":
		res, err := ws.PreCommit(ctx)
		if err != nil {
			return fmt.Errorf("git dbsync pre-commit: %w\nhint: fix it, or commit without the hook: DBSYNC_SKIP_HOOKS=1 git commit …", err)
		}
		for _, t := range res.Tables {
			if t.Changes() {
				fmt.Fprintf(s.Err, "git dbsync: %s: %s\n", t.Dir, describeTable(t))
			}
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
		res, err := ws.PostCheckout(ctx, prev, cur, version)
		return reportSync(s, res, err)
	}
	return usageErrorf("unknown hook %q", args[0])
}

// reportSync prints what a post-merge or post-checkout sync did.
func reportSync(s *streams, res *gitdb.ApplyResult, err error) error {
	var conflict *gitdb.ConflictError
	if errors.As(err, &conflict) {
		renderPlan(s.Err, conflict.Plan, "conflicts: sync")
		return fmt.Errorf("git dbsync: %w; the development database was not changed\nhint: resolve with 'git dbsync apply %s --env %s --ours' (keep your database's values) or '--theirs'",
			err, conflict.Plan.Rev.Name, conflict.Plan.Env)
	}
	if err != nil {
		return fmt.Errorf("git dbsync: %w", err)
	}
	if res == nil || res.Already || res.Entry == nil {
		return nil
	}
	var n int
	for _, c := range res.Entry.Summary {
		n += c.Inserted + c.Updated + c.Deleted
	}
	fmt.Fprintf(s.Err, "git dbsync: merged the configuration of %s into %q (%d rows changed)\n", res.Entry.Revision, res.Entry.Env, n)
	return nil
}
