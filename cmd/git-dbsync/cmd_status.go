package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

type statusOptions struct {
	env  string
	json bool
}

func newStatusCmd(s *streams) *cobra.Command {
	opts := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status [--env NAME] [--json]",
		Short: "Show where an environment stands",
		Long: `Show where an environment's database stands: its identity, the revision
last applied and when, drift (config rows changed on the target since that
apply, compared with that revision's files), tags newer than the last applied
one, applies or rollbacks that did not finish, and the history of applies and
rollbacks from its ledger. Writes nothing. --json prints the same as JSON
(schemas/status.schema.json).

--env naming several environments (a comma list, globs, a [group], as for
apply) prints one row per environment: the revision it is at, how many tables
drifted, the tags pending, and those that cannot be read. The exit status is
1 when any cannot be read.`,
		Example: `  git dbsync status --env prod
  git dbsync status --env shops`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return runStatus(cmd, s, opts) },
	}
	envVar(cmd.Flags(), &opts.env, "", "environment (default: dev, or the only one)")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the status as JSON")
	return cmd
}

// runStatus shows where an environment, or several, stand.
func runStatus(cmd *cobra.Command, s *streams, opts *statusOptions) error {
	ws, err := s.workspace()
	if err != nil {
		return err
	}
	if ws.IsSelector(opts.env) {
		if opts.json {
			return usageErrorf("--json reports one environment: name one with --env")
		}
		return statusMany(cmd, s, ws, opts.env)
	}
	st, err := ws.Status(cmd.Context(), opts.env)
	if err != nil {
		return err
	}
	if opts.json {
		return writeJSON(s.Out, st.Report())
	}
	s.view.status(s.Out, st)
	return nil
}

// statusMany prints one row per environment an --env selector names.
func statusMany(cmd *cobra.Command, s *streams, ws *gitdb.Workspace, spec string) error {
	targets, err := ws.Targets(spec)
	if err != nil {
		return &usageError{err}
	}
	fmt.Fprintf(s.Out, "%-24s %-28s %-12s %s\n", "environment", "at", "drift", "pending")
	failed := 0
	for _, env := range targets {
		st, err := ws.Status(cmd.Context(), env)
		if err != nil {
			failed++
			msg, _, _ := strings.Cut(err.Error(), "\n")
			fmt.Fprintf(s.Out, "%-24s FAILED: %s\n", env, msg)
			continue
		}
		at := "nothing applied"
		if st.Current != nil {
			at = fmt.Sprintf("%s (%s)", st.Current.Revision, shortCommit(st.Current.Commit))
		}
		var pending []string
		for _, t := range st.Pending {
			pending = append(pending, t.Name)
		}
		fmt.Fprintf(s.Out, "%-24s %-28s %-12s %s\n", env, at, plural(len(st.Drift), "table"), strings.Join(pending, " "))
	}
	if failed > 0 {
		return &reportedError{fmt.Errorf("%s cannot be read", plural(failed, "environment"))}
	}
	return nil
}
