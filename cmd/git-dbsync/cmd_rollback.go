package main

import (
	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

type rollbackOptions struct {
	gitdb.RollbackOptions
	ours, theirs bool
	yes          bool
	json         bool
	fleet        fleetOptions
}

func newRollbackCmd(s *streams) *cobra.Command {
	opts := &rollbackOptions{}
	cmd := &cobra.Command{
		Use:   "rollback [<revision> | --to <revision>] --env NAME [--yes] [--ours|--theirs] [--shard K/N] [--json]",
		Short: "Undo what the apply of a revision changed",
		Long: `Undo what the apply of <revision> (default: the last apply) changed on an
environment's database, from the before-images its ledger entry holds.

Rollback is a three-way merge too: base is what the apply wrote, theirs is
what was there before it, ours is the target now. So edits made on the target
since the apply, to other rows or other cells, survive; a row the apply
changed and the target changed again since is a conflict: nothing is written
and the exit status is 3, unless --ours (keep the later edit) or --theirs
(restore the before-image) resolves it. A row the apply inserted that rows of
other tables (content) now refer to is a conflict as well (blocked-delete):
--ours keeps it, and --theirs fails naming what refers to it.

The rollback is one transaction with its own ledger entry, and is recorded in
the revision's lock file (state "rolled-back"). After rolling back the last
apply, the target is at the revision applied before it.

--to <revision> goes back to a revision applied earlier: every apply
recorded after it is undone, newest first, in one transaction (a ledger
entry each), each keeping later edits as a single rollback does; a
conflict in any of them writes nothing. The plan shown is the newest one's.

The environment's deploy steps run around it as around an apply: manual
and confirm questions, before steps, then the rollback, then its checks
and after steps. A failing check reports the rollback's failure and leaves
it in place (undoing a rollback would put back the release being taken
away); the after steps run whatever happened.

On a terminal, rollback shows the plan and asks; --yes skips the question;
without a terminal it refuses unless --yes is given.

--env may name several environments (a comma list, globs, a [group],
!name to take one out): name the release (or --to): each environment that
has it is rolled back in its own transaction, --jobs N at once, as apply
does them, and one that never applied it (its apply of the release failed)
is left as it is. ` + shardHelp,
		Example: `  git dbsync rollback --env prod
  git dbsync rollback v1.4 --env prod --yes
  git dbsync rollback --to v1.2 --env prod --yes`,
		Args:              usageArgs(cobra.MaximumNArgs(1)),
		ValidArgsFunction: completeRevisions(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Revision = args[0]
			}
			return runRollback(cmd, s, opts)
		},
	}
	f := cmd.Flags()
	envVar(f, &opts.Env, "", "target environment (default: dev, or the only one)")
	f.BoolVarP(&opts.yes, "yes", "y", false, "roll back without asking")
	f.StringVar(&opts.To, "to", "", "undo every apply after `REVISION`'s, newest first, in one transaction")
	f.BoolVar(&opts.ours, "ours", false, "resolve conflicts by keeping the target's later edits")
	f.BoolVar(&opts.theirs, "theirs", false, "resolve conflicts by restoring the before-images")
	f.BoolVar(&opts.json, "json", false, "print what was done as JSON (schemas/apply.schema.json)")
	fleetFlags(f, &opts.fleet, "roll back", true)
	return cmd
}

func runRollback(cmd *cobra.Command, s *streams, opts *rollbackOptions) error {
	var err error
	if opts.Resolve, err = resolution(opts.ours, opts.theirs); err != nil {
		return err
	}
	s.json = opts.json
	opts.Version = version
	opts.DeployOptions = deployOptions(s, opts.yes)
	ws, err := s.workspace()
	if err != nil {
		return err
	}
	if fl, many, err := selectFleet(ws, opts.Env, opts.fleet); err != nil || many {
		if err != nil {
			return err
		}
		return rollbackMany(cmd, s, ws, fl, opts)
	}
	rendered := false
	if opts.Confirm, err = confirmer(s, opts.yes, "roll back", "git dbsync status"+envFlag(opts.Env), &rendered); err != nil {
		return err
	}
	res, err := ws.Rollback(cmd.Context(), opts.RollbackOptions)
	return reportApply(cmd, s, res, err, opts.Env, "roll back", "rolled back", rendered)
}
