package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

type mergeFileOptions struct {
	base, ours, theirs, path string
	markerSize               int
}

func newMergeFileCmd() *cobra.Command {
	opts := &mergeFileOptions{}
	cmd := &cobra.Command{
		Use:   "merge-file [--marker-size=N] BASE OURS THEIRS PATH",
		Short: "The git merge driver of exported files (registered by hooks install)",
		Long: `Merge a row file or a lines file of the export directory by key and by cell,
with the merge engine of apply: changes to different rows, or different cells
of one row, merge cleanly. The result is written over OURS; each true conflict
is left between conflict markers for a person to resolve, and the exit status
is the number of conflicts. In a row file the markers surround only the
conflicting columns' lines; in a lines file, the conflicting rows. The markers
name the sides as git's own conflicts do: in a merge, the current branch and
the branch merged; in a rebase, cherry-pick or revert, HEAD and the commit
being picked; otherwise "ours" and "theirs". Other files get git's own text
merge. git calls it as "git dbsync merge-file --marker-size=%L %O %A %B %P"
(hooks install registers it so).`,
		Hidden: true,
		Args:   usageArgs(cobra.ExactArgs(4)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.base, opts.ours, opts.theirs, opts.path = args[0], args[1], args[2], args[3]
			return runMergeFile(opts)
		},
	}
	cmd.Flags().IntVar(&opts.markerSize, "marker-size", 7, "the length of the conflict markers (git's %L)")
	return cmd
}

// runMergeFile merges one file for git.
func runMergeFile(opts *mergeFileOptions) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := gitdb.FindRoot(wd)
	if err != nil {
		return err
	}
	return gitdb.MergeFile(root, opts.base, opts.ours, opts.theirs, opts.path, gitdb.GitLabels(root, opts.markerSize))
}

type textconvOptions struct {
	file string
}

func newTextconvCmd(s *streams) *cobra.Command {
	opts := &textconvOptions{}
	return &cobra.Command{
		Use:    "textconv FILE",
		Short:  "The git diff driver of lines files: one row per block, named by its key",
		Hidden: true,
		Args:   usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.file = args[0]
			return runTextconv(s, opts)
		},
	}
}

// runTextconv prints a lines file for git diff, one row per block.
func runTextconv(s *streams, opts *textconvOptions) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	return gitdb.Textconv(wd, opts.file, s.Out)
}
