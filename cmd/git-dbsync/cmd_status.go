package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
	"github.com/gitdbsync/git-dbsync/internal/review"
)

type statusOptions struct {
	env    string
	json   bool
	format string
	fleet  fleetOptions
}

func newStatusCmd(s *streams) *cobra.Command {
	opts := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status [--env NAME] [--shard K/N] [--jobs N] [--json|--format markdown]",
		Short: "Show where an environment stands",
		Long: `Show where an environment's database stands: its identity, the revision
last applied and when, drift (config rows changed on the target since that
apply, compared with that revision's files), tags newer than the last applied
one, applies or rollbacks that did not finish, and the history of applies and
rollbacks from its ledger. Writes nothing. --json prints the same as JSON
(schemas/status.schema.json).

--env naming several environments (a comma list, globs, a [group],
!name to take one out, as for apply) prints one row per environment: the
revision it is at, how many tables drifted, the tags pending, a change this
clone recorded that the target lost (LOST), and those that cannot be read.
The exit status is 1 when any cannot be read. ` + shardHelp + `

A lock file of this clone that says a revision was applied (or rolled back)
when the target's ledger has no such entry is flagged LOST: the database
lost that commit (an asynchronous failover to a standby that had not
received it, or an older copy restored), or the environment now points at
another database. Check the database, then plan and apply the revision again.

--format markdown prints one Markdown comment, for one environment or
several: a table of where each stands (revision, last change and who made
it, drift, pending tags, whether its last run finished and passed its
checks), then what drifted; for one environment, its history too.`,
		Example: `  git dbsync status --env prod
  git dbsync status --env shops
  git dbsync status --env shops --format markdown >> "$GITHUB_STEP_SUMMARY"`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return runStatus(cmd, s, opts) },
	}
	envVar(cmd.Flags(), &opts.env, "", "environment (default: dev, or the only one)")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the status as JSON")
	fleetFlags(cmd.Flags(), &opts.fleet, "read", false)
	formatFlag(cmd.Flags(), &opts.format)
	return cmd
}

// runStatus shows where an environment, or several, stand.
func runStatus(cmd *cobra.Command, s *streams, opts *statusOptions) error {
	format, err := outputFormat(opts.format, opts.json)
	if err != nil {
		return err
	}
	ws, err := s.workspace()
	if err != nil {
		return err
	}
	s.json = opts.json
	if fl, many, err := selectFleet(ws, opts.env, opts.fleet); err != nil || many {
		switch {
		case err != nil:
			return err
		case format == formatMarkdown:
			return statusMarkdown(cmd, s, ws, fl)
		}
		return statusMany(cmd, s, ws, fl, opts)
	}
	st, err := ws.Status(cmd.Context(), opts.env)
	if err != nil {
		return err
	}
	switch format {
	case formatJSON:
		return writeJSON(s.Out, st.Report())
	case formatMarkdown:
		return review.WriteStatusMarkdown(s.Out, st.Env, []*review.Env{review.EnvOf(st.Report())}, s.view.markdownLimits())
	}
	s.view.status(s.Out, st)
	return nil
}

// statusMany prints one row per environment of a fleet: the revision it
// is at, its drift and pending tags, and what needs a look.
func statusMany(cmd *cobra.Command, s *streams, ws *gitdb.Workspace, fl *fleet, opts *statusOptions) error {
	outcomes := fl.run(cmd.Context(), s, opts.fleet, false, func(ctx context.Context, env string, _ *sync.Mutex) envOutcome {
		st, err := ws.Status(ctx, env)
		if err != nil {
			return failedOutcome(env, err)
		}
		return envOutcome{Env: env, Result: "read", Report: st.Report(), line: statusRow(st)}
	})
	return fl.finish(s, "status", "", outcomes,
		fmt.Sprintf("%-28s %-12s %s", "at", "drift", "pending"))
}

// statusRow is an environment's row of statusMany's table.
func statusRow(st *gitdb.Status) string {
	at := "nothing applied"
	if st.Current != nil {
		at = fmt.Sprintf("%s (%s)", st.Current.Revision, shortCommit(st.Current.Commit))
	}
	var pending []string
	for _, t := range st.Pending {
		pending = append(pending, t.Name)
	}
	row := fmt.Sprintf("%-28s %-12s %s", at, plural(len(st.Drift), "table"), strings.Join(pending, " "))
	for _, lf := range st.Lost {
		row += "  LOST: " + lf.Revision
	}
	if len(st.Crashed) > 0 {
		row += "  unfinished: " + plural(len(st.Crashed), "run")
	}
	if st.Unchecked {
		row += "  unchecked"
	}
	return row
}

// statusMarkdown writes where the environments an --env selector names
// stand, as one Markdown comment; those that cannot be read are rows of
// it, and make the exit status 1.
func statusMarkdown(cmd *cobra.Command, s *streams, ws *gitdb.Workspace, fl *fleet) error {
	var envs []*review.Env
	failed := 0
	for _, env := range fl.targets {
		st, err := ws.Status(cmd.Context(), env)
		if err != nil {
			failed++
			envs = append(envs, review.Failed(env, err))
			continue
		}
		envs = append(envs, review.EnvOf(st.Report()))
	}
	if err := review.WriteStatusMarkdown(s.Out, fl.selector, envs, s.view.markdownLimits()); err != nil {
		return err
	}
	if failed > 0 {
		return &reportedError{fmt.Errorf("%s cannot be read", plural(failed, "environment"))}
	}
	return nil
}
