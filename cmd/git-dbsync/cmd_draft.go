package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

type draftOptions struct {
	gitdb.DraftOptions
}

func newDraftCmd(s *streams) *cobra.Command {
	opts := &draftOptions{}
	cmd := &cobra.Command{
		Use:   "draft --from NAME [--branch NAME] [--untracked]",
		Short: "Bring the edits made on an environment's database back into the files",
		Long: `Bring the edits editors and admins made on an environment's database since
its last apply into the export directory, for review: a three-way merge
whose base is the revision the environment last applied (its ledger says
which), ours HEAD's files, and theirs the database now, read through HEAD's
tables (natural keys, references, codecs; secrets and excluded paths stay
out).

Rows edited or deleted on the environment change the files; a row changed
both there and in HEAD since the base is left between conflict markers
(export refuses to write over them). Rows only the environment has are
listed as untracked and come in only with --untracked.

Commit the draft with the hooks installed (pre-commit merges it into the
development database before exporting), or run 'git dbsync sync' first:
'git dbsync export' alone writes the development database over the files.

Without --branch the draft is left in the working tree, to review with git
diff and commit. With --branch NAME it is committed on a new branch NAME
from HEAD, and the current branch is left as it was; with conflicts, NAME is
left checked out with the conflicts to resolve and commit. The hooks do not
run for the draft: the development database is not touched.

The export directory must have no uncommitted changes.`,
		Example: `  git dbsync draft --from prod
  git dbsync draft --from prod --branch prod-hotfixes && git merge prod-hotfixes`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return runDraft(cmd, s, opts) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.From, "from", "", "the environment whose edits to bring back")
	f.StringVar(&opts.Branch, "branch", "", "commit the draft on a new branch `NAME`")
	f.BoolVar(&opts.Untracked, "untracked", false, "also bring the rows only the environment has")
	return cmd
}

// runDraft brings the edits made on an environment back into the files.
func runDraft(cmd *cobra.Command, s *streams, opts *draftOptions) error {
	if opts.From == "" {
		return usageErrorf("name the environment to draft from: --from NAME")
	}
	ws, err := s.workspace()
	if err != nil {
		return err
	}
	res, err := ws.Draft(cmd.Context(), opts.DraftOptions)
	if err != nil {
		return err
	}
	conflicts, changes := 0, 0
	for _, t := range res.Tables {
		changes += t.Changes()
		line := fmt.Sprintf("%s/%s: %s, %s, %s", ws.Config.Dir, t.Table, plural(t.Updated, "row")+" changed", plural(t.Deleted, "row")+" removed", plural(t.Inserted, "row")+" added")
		if n := len(t.Conflicts); n > 0 {
			line += fmt.Sprintf(", %s (%s)", plural(n, "conflict"), strings.Join(t.Conflicts, "; "))
			conflicts += n
		}
		if n := len(t.Untracked); n > 0 {
			line += fmt.Sprintf(", %s only on %q (%s; --untracked brings them)", plural(n, "row"), res.Env, strings.Join(t.Untracked, "; "))
		}
		fmt.Fprintln(s.Out, line)
	}
	what := fmt.Sprintf("the edits made on %q since %s", res.Env, res.Base.Revision)
	switch {
	case changes == 0:
		fmt.Fprintf(s.summary(), "no edits on %q since %s: nothing to draft\n", res.Env, res.Base.Revision)
	case res.Branch != "":
		fmt.Fprintf(s.summary(), "drafted %s on branch %s (%s); the current branch is as it was\n", what, res.Branch, shortCommit(res.Commit))
		fmt.Fprintf(s.Err, "hint: review with 'git show %s', then merge it\n", res.Branch)
	case conflicts > 0:
		where := ws.Config.Dir + "/"
		if opts.Branch != "" {
			where += " on branch " + opts.Branch + ", checked out,"
		}
		fmt.Fprintf(s.summary(), "drafted %s into %s with %s\n", what, where, plural(conflicts, "conflict"))
		fmt.Fprintln(s.Err, "hint: resolve the rows between conflict markers, then commit")
		return &unresolvedError{}
	default:
		fmt.Fprintf(s.summary(), "drafted %s into %s/\n", what, ws.Config.Dir)
		fmt.Fprintf(s.Err, "hint: review with 'git diff %s', then commit\n", ws.Config.Dir)
	}
	return nil
}
