package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

type backupsOptions struct {
	env string
}

func newBackupsCmd(s *streams) *cobra.Command {
	opts := &backupsOptions{}
	cmd := &cobra.Command{
		Use:   "backups [--env NAME]",
		Short: "List the backups taken before changes to an environment",
		Long: `List the backups of an environment, newest first: when each was taken,
the change it was taken before, the revision the database was at, its
tables, rows and size.

Before an apply, a rollback or a restore writes to an environment, git
dbsync saves the tables the change may write, read in the change's own
transaction: exactly what the change starts from. An apply saves the
tables its plan writes (and the sequence tables); a rollback or a restore,
the config and sequence tables .dbsync names. A restore takes a table its
backup lacks from the backup of the first later change that wrote it, and
refuses when that backup is gone. A backup that cannot be
written stops the change before anything is written. [env] options in
.dbsync: backup = tables (the default, but for the environment the hooks
sync, whose default is none unless it looks like production) | database (also a full dump with the
engine's tool: VACUUM INTO, pg_dump, mariadb-dump) | none; backup-dir =
PATH (default .git/dbsync/backups, per environment below it); backup-keep
= N (default 10). 'git dbsync restore' puts one back.`,
		Example: `  git dbsync backups --env prod`,
		Args:    usageArgs(cobra.NoArgs),
		RunE:    func(cmd *cobra.Command, _ []string) error { return runBackups(s, opts) },
	}
	envVar(cmd.Flags(), &opts.env, "", "the environment (default: dev, or the only one)")
	return cmd
}

// runBackups lists the backups of an environment.
func runBackups(s *streams, opts *backupsOptions) error {
	ws, err := s.workspace()
	if err != nil {
		return err
	}
	env, list, err := ws.Backups(opts.env)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintf(s.summary(), "%q has no backups\n", env)
		return nil
	}
	tw := tabwriter.NewWriter(s.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BACKUP\tTAKEN\tBEFORE\tAT\tTABLES\tROWS\tSIZE")
	for _, b := range list {
		at := b.Revision
		if at == "" {
			at = "(nothing applied)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", b.ID, b.Taken.Local().Format("2006-01-02 15:04:05"), b.Before, at,
			len(b.Tables), b.Rows(), strings.ReplaceAll(humanize.Bytes(uint64(b.Bytes)), " ", ""))
	}
	return tw.Flush()
}

type restoreOptions struct {
	gitdb.RestoreOptions
	yes bool
}

func newRestoreCmd(s *streams) *cobra.Command {
	opts := &restoreOptions{}
	cmd := &cobra.Command{
		Use:   "restore [<backup>] --env NAME [--yes]",
		Short: "Put an environment's tables back as a backup holds them",
		Long: `Put back the tables of a backup (the newest, or the one named by its id or
the start of it; see 'git dbsync backups') exactly: rows that differ are
written back, rows added since are deleted, rows deleted since come back,
and rows nothing changed are not touched. Only the tables the changes
since the backup wrote are put back (as the ledger recorded them): an
editor's later edit of another table stays. It runs in one transaction,
takes a backup of its own first, and is recorded in the ledger with the
rows it wrote. The ledger itself is never put back: every earlier entry
stays in 'git dbsync status', the applies recorded after the backup read
as undone by the restore, and the environment is at the revision it was
at when the backup was taken. A backup of another database (another
identity) is refused, and so is a restore that would delete rows other
tables' rows (content) still refer to: it names them.

The environment's deploy steps run around it as around an apply (manual
and confirm questions, before, check, after); a failing check is
reported and the restore stays.

On a terminal restore asks first; --yes skips the question; without a
terminal it refuses unless --yes is given.`,
		Example: `  git dbsync restore --env prod
  git dbsync restore 20261202T101500.123456Z --env prod --yes`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Backup = args[0]
			}
			return runRestore(cmd, s, opts)
		},
	}
	envVar(cmd.Flags(), &opts.Env, "", "the environment (default: dev, or the only one)")
	cmd.Flags().BoolVarP(&opts.yes, "yes", "y", false, "restore without asking")
	return cmd
}

// runRestore puts an environment's tables back as a backup holds them.
func runRestore(cmd *cobra.Command, s *streams, opts *restoreOptions) error {
	if !opts.yes {
		if !s.Terminal {
			return unconfirmed("restore", "see 'git dbsync backups"+envFlag(opts.Env)+"'")
		}
		opts.Confirm = func(b *gitdb.Backup) (bool, error) {
			fmt.Fprintf(s.Err, "Restore backup %s of %q (taken %s, before %s: %s, %s)? [y/N] ", b.ID, b.Env,
				b.Taken.Local().Format("2006-01-02 15:04:05"), b.Before, plural(len(b.Tables), "table"), plural(int(b.Rows()), "row"))
			return askYes(s.In), nil
		}
	}
	opts.Version = version
	opts.DeployOptions = deployOptions(s, opts.yes)
	ws, err := s.workspace()
	if err != nil {
		return err
	}
	res, err := ws.Restore(cmd.Context(), opts.RestoreOptions)
	if res != nil {
		for _, n := range res.Notes {
			warn(s.Err, "%s", n)
		}
		printSteps(s, res.Steps)
	}
	if err != nil {
		return err
	}
	var ins, upd, del int
	for _, table := range slices.Sorted(maps.Keys(res.Counts)) {
		c := res.Counts[table]
		if c.Inserted+c.Updated+c.Deleted > 0 {
			fmt.Fprintf(s.Out, "%s: %d inserted, %d updated, %d deleted\n", table, c.Inserted, c.Updated, c.Deleted)
		}
		ins, upd, del = ins+c.Inserted, upd+c.Updated, del+c.Deleted
	}
	fmt.Fprintf(s.summary(), "restored backup %s on %q in one transaction: %d inserted, %d updated, %d deleted (ledger #%d)\n",
		res.Backup.ID, res.Env, ins, upd, del, res.Entry.Seq)
	return nil
}
