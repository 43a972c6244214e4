package main

import (
	"github.com/spf13/cobra"
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
(schemas/status.schema.json).`,
		Example: `  git dbsync status --env prod`,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, err := s.workspace()
			if err != nil {
				return err
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
		},
	}
	envVar(cmd.Flags(), &opts.env, "", "environment (default: dev, or the only one)")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the status as JSON")
	return cmd
}
