package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

func newMergeFileCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "merge-file BASE OURS THEIRS PATH",
		Short: "The git merge driver of exported files (registered by hooks install)",
		Long: `Merge a row file or a lines file of the export directory by key and by cell,
with the merge engine of apply: changes to different rows, or different cells
of one row, merge cleanly. The result is written over OURS; each true conflict
is left between conflict markers for a person to resolve, and the exit status
is the number of conflicts. Other files get git's own text merge. git calls it
as "git dbsync merge-file %O %A %B %P".`,
		Hidden: true,
		Args:   usageArgs(cobra.ExactArgs(4)),
		RunE: func(cmd *cobra.Command, args []string) error {
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			root, err := gitdb.FindRoot(wd)
			if err != nil {
				return err
			}
			return gitdb.MergeFile(root, args[0], args[1], args[2], args[3])
		},
	}
}

func newTextconvCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:    "textconv FILE",
		Short:  "The git diff driver of lines files: one row per block, named by its key",
		Hidden: true,
		Args:   usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			return gitdb.Textconv(wd, args[0], s.Out)
		},
	}
}
