package main

import (
	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
	"github.com/gitdbsync/git-dbsync/internal/review"
)

type diffOptions struct {
	gitdb.DiffOptions
	revs     []string // the revisions given as arguments
	envs     []string
	exitCode bool
	json     bool
	format   string
}

func newDiffCmd(s *streams) *cobra.Command {
	opts := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff [<revision> [<revision>]] [--env NAME [--env NAME]] [--table GLOB]... [--json|--format markdown] [--exit-code]",
		Short: "Show row- and cell-level differences",
		Long: `Show the rows added, removed and changed (each changed cell, old → new)
between two of: a revision, the exported files in the working tree, and an
environment's database.

  git dbsync diff                  working tree files → database (what export would change)
  git dbsync diff --env prod       working tree files → prod's database
  git dbsync diff v1.3             v1.3 → working tree files
  git dbsync diff v1.3 --env prod  v1.3 → prod's database
  git dbsync diff v1.3 v1.4        v1.3 → v1.4
  git dbsync diff --env staging --env prod
                                   staging's database → prod's database

Database rows are read as the .dbsync of the working tree classifies them
(its config tables and row scopes), each database through its own natural
keys, references and codecs: rows whose ids differ between two databases
but whose keys match are the same rows. --table narrows the diff to the
tables matching its globs (repeatable).
A change inside a JSON value is shown as its path. With --exit-code the exit
status is 2 when there are differences, as for plan --exit-code and export
--check (1 is an error). --json prints the differences as
JSON (schemas/diff.schema.json), --format markdown as a Markdown comment
(a table of counts, each table's rows in a collapsible block, cut as plan's).`,
		Example: `  git dbsync diff
  git dbsync diff v1.3 v1.4
  git dbsync diff v1.4 --env prod
  git dbsync diff --env staging --env prod --table 'wp_*options' --exit-code`,
		Args:              usageArgs(cobra.MaximumNArgs(2)),
		ValidArgsFunction: completeRevisions(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.revs = args
			return runDiff(cmd, s, opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.envs, "env", nil, "environment whose database to compare (twice: two databases)")
	cmd.Flags().StringArrayVar(&opts.Tables, "table", nil, "only the tables matching `GLOB` (repeatable)")
	cmd.Flags().BoolVar(&opts.exitCode, "exit-code", false, "exit 2 when there are differences")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the differences as JSON")
	formatFlag(cmd.Flags(), &opts.format)
	return cmd
}

// runDiff shows the differences between two of: a revision, the files,
// a database.
func runDiff(cmd *cobra.Command, s *streams, opts *diffOptions) error {
	format, err := outputFormat(opts.format, opts.json)
	if err != nil {
		return err
	}
	if len(opts.revs) > 0 {
		opts.From = opts.revs[0]
	}
	switch len(opts.envs) {
	case 2:
		if opts.envs[0] == opts.envs[1] {
			return usageErrorf("--env %s given twice: name two environments to compare their databases", opts.envs[0])
		}
		opts.Env, opts.Env2 = opts.envs[0], opts.envs[1]
	case 1:
		opts.Env = opts.envs[0]
	case 0:
	default:
		return usageErrorf("--env given %d times: compare at most two databases", len(opts.envs))
	}
	if len(opts.revs)+len(opts.envs) > 2 {
		return usageErrorf("compare at most two sides: revisions and --env databases together")
	}
	if len(opts.revs) > 1 {
		opts.To = opts.revs[1]
	}
	opts.UseDB = len(opts.envs) > 0
	ws, err := s.workspace()
	if err != nil {
		return err
	}
	d, err := ws.Diff(cmd.Context(), opts.DiffOptions)
	if err != nil {
		return err
	}
	switch format {
	case formatJSON:
		if err := writeJSON(s.Out, d.Report()); err != nil {
			return err
		}
	case formatMarkdown:
		lim := s.view.markdownLimits()
		if err := review.WriteDiffMarkdown(s.Out, review.DiffOf(d.Report(), diffCommand(opts), lim), lim); err != nil {
			return err
		}
	default:
		s.view.diff(s.Out, d)
	}
	if opts.exitCode && len(d.Tables) > 0 {
		return &changesError{}
	}
	return nil
}

// diffCommand is the diff's command line, for the reader to run again.
func diffCommand(opts *diffOptions) string {
	args := append([]string{"diff"}, opts.revs...)
	for _, env := range opts.envs {
		args = append(args, "--env", env)
	}
	for _, t := range opts.Tables {
		args = append(args, "--table", t)
	}
	return review.Command(args...)
}
