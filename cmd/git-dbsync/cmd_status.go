package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
	"github.com/gitdbsync/git-dbsync/internal/review"
)

type statusOptions struct {
	env    string
	json   bool
	format string
}

func newStatusCmd(s *streams) *cobra.Command {
	opts := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status [--env NAME] [--json|--format markdown]",
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
1 when any cannot be read.

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
	if ws.IsSelector(opts.env) {
		switch format {
		case formatJSON:
			return usageErrorf("--json reports one environment: name one with --env")
		case formatMarkdown:
			return statusMarkdown(cmd, s, ws, opts.env)
		}
		return statusMany(cmd, s, ws, opts.env)
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

// statusMarkdown writes where the environments an --env selector names
// stand, as one Markdown comment; those that cannot be read are rows of
// it, and make the exit status 1.
func statusMarkdown(cmd *cobra.Command, s *streams, ws *gitdb.Workspace, spec string) error {
	targets, err := ws.Targets(spec)
	if err != nil {
		return &usageError{err}
	}
	var envs []*review.Env
	failed := 0
	for _, env := range targets {
		st, err := ws.Status(cmd.Context(), env)
		if err != nil {
			failed++
			envs = append(envs, review.Failed(env, err))
			continue
		}
		envs = append(envs, review.EnvOf(st.Report()))
	}
	if err := review.WriteStatusMarkdown(s.Out, spec, envs, s.view.markdownLimits()); err != nil {
		return err
	}
	if failed > 0 {
		return &reportedError{fmt.Errorf("%s cannot be read", plural(failed, "environment"))}
	}
	return nil
}
