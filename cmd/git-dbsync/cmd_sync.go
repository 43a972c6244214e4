package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

type syncOptions struct {
	gitdb.SyncOptions
	ours, theirs bool
}

func newSyncCmd(s *streams) *cobra.Command {
	opts := &syncOptions{}
	cmd := &cobra.Command{
		Use:   "sync [--env NAME] [--ours|--theirs]",
		Short: "Bring the development database in step with the files checked out",
		Long: `Merge the export directory of the working tree into the development database,
as the hooks do after a checkout, a merge, a pull, a rebase or a commit: a
three-way merge whose base is the commit the database was last in step with
(its ledger says which; HEAD when it has none yet).

Rows changed in the files since then (by git, or by hand) are written; rows
changed in the database and not exported yet are kept, for the next commit
to export; a row changed differently on both sides is a conflict: both values
are shown and nothing is written, unless --ours keeps the database's value or
--theirs takes the files'. HEAD is then recorded as the commit the database
is in step with, or, when the files differ from HEAD's, a commit of them made
on HEAD and kept by a ref (refs/dbsync/sync/<env>), the base of the next sync
('git dbsync status' says which).

Use it after a git operation that runs no hook (git reset, git stash pop), or
without the hooks installed.`,
		Example: `  git dbsync sync
  git dbsync sync --theirs   # a conflict: take the files' values
  git dbsync sync --ours     # a conflict: keep the database's; the next commit exports them`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return runSync(cmd, s, opts) },
	}
	f := cmd.Flags()
	envVar(f, &opts.Env, "", "the development environment (default: dev, or the only one)")
	f.BoolVar(&opts.ours, "ours", false, "resolve conflicts by keeping the database's values")
	f.BoolVar(&opts.theirs, "theirs", false, "resolve conflicts by taking the files' values")
	return cmd
}

// runSync brings the development database in step with the files.
func runSync(cmd *cobra.Command, s *streams, opts *syncOptions) error {
	var err error
	if opts.Resolve, err = resolution(opts.ours, opts.theirs); err != nil {
		return err
	}
	ws, err := s.workspace()
	if err != nil {
		return err
	}
	opts.Version = version
	res, err := ws.Sync(cmd.Context(), opts.SyncOptions)
	if err != nil {
		return hookError(s, "sync", err)
	}
	if res == nil {
		fmt.Fprintln(s.summary(), "nothing to do: the repository has no commit yet")
		return nil
	}
	if res.Already {
		fmt.Fprintf(s.summary(), "%q is in step with %s: nothing to do\n", res.Entry.Env, res.Entry.Revision)
		return nil
	}
	if res.Plan != nil && res.Plan.Changes() > 0 {
		s.view.plan(s.Out, res.Plan, "synced")
	}
	fmt.Fprintf(s.summary(), "%q is in step with %s (ledger #%d)\n", res.Entry.Env, res.Entry.Revision, res.Entry.Seq)
	return nil
}
