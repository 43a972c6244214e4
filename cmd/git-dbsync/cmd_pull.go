package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

type pullOptions struct {
	gitdb.PullOptions
	yes bool
}

func newPullCmd(s *streams) *cobra.Command {
	opts := &pullOptions{}
	cmd := &cobra.Command{
		Use:   "pull --from NAME [--to NAME] [--config] [--table GLOB]... [--yes]",
		Short: "Copy an environment's content down into another, redacted",
		Long: `Copy the rows of one environment's content tables (with --config, its
config tables too) into another environment's database: development
refreshed from production, say. In each table the target's rows are
replaced by the source's; a [pull "<table>"] section narrows that to
where = <SQL condition> (rows outside it stay on the target) and
limit = N (the N rows with the highest ids). --table narrows the tables.

Before any value reaches the target it goes through the redact rules of
[table "<table>"] in .dbsync, one per column or path inside a JSON value:

  redact = user_email email            a unique fake address per row
  redact = user_pass hash              a keyed hash of the value
  redact = display_name name           a fake name per row
  redact = phone digits                every digit replaced, format kept
  redact = api_token null              (refused for a NOT NULL column)
  redact = note constant:(redacted)    this text
  redact = settings.smtp.password null a path inside a JSON value
  redact = user_login keep             copied as it is, on purpose

A pulled column whose name or values look like e-mail addresses, password
hashes or tokens and has no rule stops the pull, naming it. Hashes, names
and digits come from a key kept in .git/dbsync/redact-key (or
$DBSYNC_REDACT_KEY): pulling twice writes the same values.

Pull writes only into an environment marked pull-target = true in its
[env] section, or into the one the hooks sync (dev) unless its name says
production or it has requires. The target keeps its identity, its ledger
and its tables of the other classes. Everything is written in one
transaction: foreign keys are checked before it commits (with cascades
off where the engine allows), sequences end past the copied ids, and a
pull that fails or is killed leaves the target as it was. The engines may
differ: PostgreSQL into SQLite, MariaDB into PostgreSQL.

On a terminal pull lists the tables and asks first; --yes skips the
question; without a terminal it refuses unless --yes is given.`,
		Example: `  git dbsync pull --from prod
  git dbsync pull --from prod --to dev --table 'wp_post*' --yes
  git dbsync pull --from prod --to review-42 --config --yes`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return runPull(cmd, s, opts) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.From, "from", "", "the environment to copy from")
	f.StringVar(&opts.To, "to", "", "the environment to copy into (default: the one the hooks sync)")
	f.BoolVar(&opts.Config, "config", false, "also replace the config tables")
	f.StringArrayVar(&opts.Tables, "table", nil, "pull only the tables matching `GLOB` (may repeat)")
	f.BoolVarP(&opts.yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

// runPull copies an environment's content into another.
func runPull(cmd *cobra.Command, s *streams, opts *pullOptions) error {
	if opts.From == "" {
		return usageErrorf("name the environment to pull from: --from NAME")
	}
	if !opts.yes {
		if !s.Terminal {
			return unconfirmed("pull", "see what it would replace with 'git dbsync pull --from "+opts.From+"' on a terminal")
		}
		opts.Confirm = func(r *gitdb.PullResult) (bool, error) {
			for _, t := range r.Tables {
				fmt.Fprintln(s.Err, "  "+pullScopeLine(t))
			}
			fmt.Fprintf(s.Err, "Replace these tables' rows of %q with %q's? [y/N] ", r.To, r.From)
			return askYes(s.In), nil
		}
	}
	opts.Version = version
	opts.DeployOptions = deployOptions(s, opts.yes)
	ws, err := s.workspace()
	if err != nil {
		return err
	}
	res, err := ws.Pull(cmd.Context(), opts.PullOptions)
	if err != nil {
		return err
	}
	for _, n := range res.Notes {
		fmt.Fprintln(s.Err, "note: "+n)
	}
	printSteps(s, res.Steps)
	if res.Declined {
		fmt.Fprintln(s.summary(), "nothing pulled")
		return nil
	}
	var rows int64
	for _, t := range res.Tables {
		rows += t.Copied
		line := fmt.Sprintf("%s: %s copied, %s replaced", t.Table, plural(int(t.Copied), "row"), plural(int(t.Deleted), "row"))
		if len(t.Redacted) > 0 {
			line += ", redacted " + strings.Join(t.Redacted, ", ")
		}
		if len(t.KeptValues) > 0 {
			line += fmt.Sprintf(", %q's own %s kept", res.To, strings.Join(t.KeptValues, ", "))
		}
		if len(t.Kept) > 0 {
			line += fmt.Sprintf(" (%s only in %q: left to defaults)", strings.Join(t.Kept, ", "), res.To)
		}
		fmt.Fprintln(s.Out, line)
	}
	fmt.Fprintf(s.summary(), "pulled %s (%s) from %q into %q (ledger #%d)\n", plural(len(res.Tables), "table"), plural(int(rows), "row"), res.From, res.To, res.Entry.Seq)
	printBackup(s, res.Backup)
	return nil
}

// pullScopeLine says which rows of a table a pull replaces.
func pullScopeLine(t gitdb.PulledTable) string {
	scope := "every row"
	if t.Where != "" {
		scope = "the rows where " + t.Where
	}
	if len(t.Rows) > 0 {
		scope += " whose key matches " + strings.Join(t.Rows, " ")
	}
	if t.Limit > 0 {
		scope += fmt.Sprintf(", the newest %d copied", t.Limit)
	}
	line := fmt.Sprintf("%s (%s): %s", t.Table, t.Class, scope)
	if len(t.Redacted) > 0 {
		line += "; redacted: " + strings.Join(t.Redacted, ", ")
	}
	return line
}

// askYes reads an answer; only y or yes is yes. It reads one byte at a
// time, up to the end of the line and no further, so that the next
// question (an apply's manual steps, environment after environment) gets
// the next line.
func askYes(in io.Reader) bool {
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := in.Read(b)
		if n == 1 && b[0] == '\n' {
			break
		}
		line = append(line, b[:n]...)
		if err != nil {
			break
		}
	}
	answer := strings.ToLower(strings.TrimSpace(string(line)))
	return answer == "y" || answer == "yes"
}
