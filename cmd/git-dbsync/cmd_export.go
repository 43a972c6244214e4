package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

type exportOptions struct {
	gitdb.ExportOptions
	json bool
}

func newExportCmd(s *streams) *cobra.Command {
	opts := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export [--env NAME] [--check] [--force] [--json]",
		Short: "Write the config tables of a database to canonical JSON files",
		Long: `Write the rows of every config table (and row scope) of an environment's
database into the export directory (default db/), one folder per table:

  db/<table>/table.json        columns, logical types, key, references
  db/<table>/rows/<key>.json   one file per row (layout = rows)
  db/<table>/rows.jsonl        one row per line, sorted by key (layout = lines)

By default (layout = auto) a table is in rows up to 1,000 rows and in lines
above, and goes back to rows only below 500 rows: export says when a table
changes layout.

The files are canonical: the same data gives the same bytes whatever the
engine, the row order or the run. Only files whose bytes change are
rewritten; files of rows and tables no longer exported are removed. Nothing
is written unless every table exports without error.

A table with a natural key ([table "x"] key = name) leaves its surrogate id
out; references to it are written as that natural key. Values with a codec
(json, php) are written as structured JSON; secret columns and paths as
"[secret]"; excluded paths not at all. See .dbsync in the README.

Prints one line per table with rows added, changed and removed. Tables that
no class in .dbsync matches are listed as a warning.

A database never in step with the files (no sync, no apply, no export of
it from this clone, such as a new clone's empty database) is not exported
over existing files: it would delete every row it lacks, rows it never
had. Bring it to the files with 'git dbsync sync' first, or export it as
it is with --force.

With --check, nothing is written, and the exit status is 2 when any file
would change (1 is an error): use it in CI to catch a commit whose files are
stale.

--json prints what was done (or, with --check, would be) as JSON
(schemas/export.schema.json).`,
		Example: `  git dbsync export
  git dbsync export --env staging
  git dbsync export --check || echo "run git dbsync export and commit"`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return runExport(cmd, s, opts) },
	}
	f := cmd.Flags()
	envVar(f, &opts.Env, "", "environment to export (default: dev, or the only one)")
	f.BoolVar(&opts.Check, "check", false, "write nothing; exit 2 if any file would change")
	f.BoolVar(&opts.Force, "force", false, "export a database never in step with the files, deleting the files of the rows it lacks")
	f.BoolVar(&opts.json, "json", false, "print what was done as JSON")
	return cmd
}

func runExport(cmd *cobra.Command, s *streams, opts *exportOptions) error {
	ws, err := s.workspace()
	if err != nil {
		return err
	}
	opts.Record = !opts.Check
	res, err := ws.Export(cmd.Context(), opts.ExportOptions)
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		warn(s.Err, "%s", w)
	}
	if opts.json {
		if err := writeJSON(s.Out, res.Report()); err != nil {
			return err
		}
		if opts.Check && res.Changed() {
			return &changesError{}
		}
		return nil
	}
	if len(res.Unclassified) > 0 {
		verb := "match"
		if len(res.Unclassified) == 1 {
			verb = "matches"
		}
		warn(s.Err, "%s %s no class in .dbsync and %s not exported: %s", plural(len(res.Unclassified), "table"), verb,
			map[bool]string{true: "is", false: "are"}[len(res.Unclassified) == 1], strings.Join(res.Unclassified, ", "))
		fmt.Fprintf(s.Err, "hint: add them to [tables] in .dbsync (config, content, cache, temp, sequence or ignore)\n")
	}
	var added, changed, removed int
	for _, t := range res.Tables {
		added, changed, removed = added+t.Added, changed+t.Changed, removed+t.Removed
		fmt.Fprintf(s.summary(), "%s: %s\n", t.Dir, describeTable(t))
	}
	verb := "exported"
	if opts.Check {
		verb = "checked"
	}
	fmt.Fprintf(s.summary(), "%s %s from %q: %s added, %d changed, %d removed\n", verb, plural(len(res.Tables), "table"), res.Env, plural(added, "row"), changed, removed)
	if opts.Check && res.Changed() {
		fmt.Fprintf(s.Err, "error: the files in %s/ are not up to date with the database\nhint: run 'git dbsync export%s' and commit the result\n", res.Dir, envFlag(opts.Env))
		return &changesError{}
	}
	return nil
}
