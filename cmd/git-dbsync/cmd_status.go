package main

import (
	"github.com/spf13/cobra"
)

type statusOptions struct {
	env string
}

func newStatusCmd(s *streams) *cobra.Command {
	opts := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status [--env NAME]",
		Short: "Show where an environment stands",
		Long: `Show where an environment's database stands: its identity, the revision
last applied and when, drift (config rows changed on the target since that
apply, compared with that revision's files), tags newer than the last applied
one, applies or rollbacks that did not finish, and the history of applies and
rollbacks from its ledger. Writes nothing.`,
		Example: `  git dbsync status --env prod`,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, err := openWorkspace()
			if err != nil {
				return err
			}
			st, err := ws.Status(cmd.Context(), opts.env)
			if err != nil {
				return err
			}
			renderStatus(s.Out, st)
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.env, "env", "", "environment (default: dev, or the only one)")
	return cmd
}
