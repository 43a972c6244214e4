package main

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

type commitOptions struct {
	args []string // git commit's options, every one
}

func newCommitCmd(s *streams) *cobra.Command {
	opts := &commitOptions{}
	cmd := &cobra.Command{
		Use:   "commit [<git commit options>]",
		Short: "Export the development database, stage it and commit",
		Long: `Export the development database, stage the export directory and run
'git commit' with the options given (-m, -a, --amend, paths …), so that a
change made only in the database becomes a commit.

Plain 'git commit' cannot do that by itself: git decides whether there is
anything to commit before the pre-commit hook exports the database. When the
hook stages a database change while git has nothing else to commit, it says
so, and git stops; run the commit again, or use this command.

Before exporting, what changed in the files since the database was last in
step (a pull, a stash pop, a hand edit) is merged into the database, as the
hooks do; a row changed both ways stops the commit and shows both values.
While git concludes a merge, rebase, cherry-pick, revert or am, the export
directory is committed as it was resolved, and the database follows once the
commit exists.

The exit status is git commit's.`,
		Example: `  git dbsync commit -m "30 posts per page"
  git dbsync commit -a -m "menu and template together"
  git dbsync commit --amend --no-edit`,
		// Every argument is git commit's.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.args = args
			return runCommit(cmd, s, opts)
		},
	}
	return cmd
}

// runCommit exports the development database, stages it and runs git
// commit.
func runCommit(cmd *cobra.Command, s *streams, opts *commitOptions) error {
	if len(opts.args) == 1 && (opts.args[0] == "-h" || opts.args[0] == "--help") {
		return cmd.Help()
	}
	ws, err := s.workspace()
	if err != nil {
		return err
	}
	err = ws.Commit(cmd.Context(), gitdb.CommitOptions{Args: opts.args, Version: version,
		Stdin: s.In, Stdout: s.Out, Stderr: s.Err, Env: []string{stagedEnv + "=1"},
		Staged: func(res *gitdb.HookResult) {
			if !gitQuiet(opts.args) { // git commit -q: git's own summary goes, and so does ours
				reportHook(s, res)
			}
		}})
	if errors.As(err, new(*gitdb.GitExitError)) {
		return err // git has said why
	}
	return hookError(s, "commit", err)
}

// gitQuiet reports whether git commit's options ask it to be quiet: -q,
// --quiet, or q in a group of short options (-aq) before one that takes
// a value (-m, -c, -C, -F, -t, -S: the rest of the group is the value).
func gitQuiet(args []string) bool {
	for _, a := range args {
		switch {
		case a == "--":
			return false
		case a == "--quiet":
			return true
		case len(a) > 1 && a[0] == '-' && a[1] != '-':
			for _, c := range a[1:] {
				if c == 'q' {
					return true
				}
				if strings.ContainsRune("mcCFtS", c) {
					break
				}
			}
		}
	}
	return false
}
