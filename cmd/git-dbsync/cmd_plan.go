package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
	"github.com/gitdbsync/git-dbsync/internal/review"
)

type planOptions struct {
	gitdb.PlanOptions
	json         bool
	format       string
	out          string
	ours, theirs bool
	resolve      []string
	exitCode     bool
	fleet        fleetOptions
}

func newPlanCmd(s *streams) *cobra.Command {
	opts := &planOptions{}
	cmd := &cobra.Command{
		Use:   "plan <revision> [--env NAME] [--ours|--theirs] [--resolve CHOICE]... [--json|--format markdown] [--out FILE] [--exit-code] [--shard K/N]",
		Short: "Show what applying a revision to an environment would do",
		Long: `Show what 'git dbsync apply' would do to an environment's database, writing
nothing: per table, the rows inserted, updated (each changed cell, old → new)
and deleted, and the conflicts with the base, target and revision values.

The merge is three-way: base is the revision last applied to the target (its
ledger says which), theirs is <revision>, ours is the target's current rows.
Changes made on the target since the last apply are kept; a cell changed
differently on both sides (or a JSON path inside a JSON cell) is a conflict,
as is a row deleted on one side and changed on the other, or a key added on
both sides with different values. Before the first apply there is no base:
the revision's rows are inserted or updated, and rows only the target has are
listed as untracked (kept; --prune deletes them).

--ours or --theirs resolves every conflict to one side. --resolve resolves
one: TABLE:KEY=ours|theirs for a row, or TABLE:KEY:COLUMN=… for one column,
or TABLE:KEY:COLUMN.PATH=… for a path inside a JSON value and the paths
below it; it may repeat, the most specific choice wins, and the rest follow
--ours/--theirs or the table's merge policy. KEY is spelled as plan shows
it: a composite key's parts joined by ", " (menus:main, About), a part that
holds a comma, a colon or a quote in double quotes; the whole key may be
quoted too (menus:"main, About"). A --resolve that names no conflict, or a
column its table lacks, is a bad command line (exit 129) and lists the
conflicts there are.

--json prints the plan as JSON (schemas/plan.schema.json); --format markdown
prints it as one Markdown comment for a merge request or a CI job summary:
a table of counts, the conflicts and blocked deletes first (each with the
command that resolves it), then each table's rows in a collapsible block,
20 rows a table and about 60,000 characters in all (-v: every row), with a
count of what was left out. --out FILE saves
it with a fingerprint of the target rows it read: 'git dbsync apply --plan
FILE' then applies exactly that plan, and refuses if the target changed.
Each conflict in the file, and each conflicting cell or path, has an empty
"choice" for a person or a script to fill in with "ours" or "theirs"; apply
--plan applies the plan with those choices.

A delete that rows of other tables (content, above all) still refer to,
through a foreign key or a reference .dbsync declares, is a conflict of its
own (blocked-delete), listed with the others and naming the referring table,
column and how many rows, whatever the foreign key's ON DELETE says: --ours
or --resolve TABLE:KEY=ours keeps the row; --theirs or =theirs fails, since
the row cannot be deleted while they use it; a merge policy leaves it
unresolved.

--exit-code lets CI gate on a plan: it exits 0 when there is nothing to do,
2 when there are changes and 3 when conflicts are left unresolved, blocked
deletes included (as for any command, 1 is an error and 129 a bad command line,
so that 'plan … --exit-code || [ $? -eq 2 ]' lets changes through and fails
on anything else).

--env may name several environments (a comma list, globs, a [group],
!name to take one out): a row each with its counts, --jobs N planned at
once; --exit-code then gives 3 when any has unresolved conflicts, else 2
when any has changes. ` + shardHelp,
		Example: `  git dbsync plan v1.4 --env prod
  git dbsync plan v1.4 --env prod --out v1.4-prod.plan && git dbsync apply --plan v1.4-prod.plan --yes
  git dbsync plan main --env staging --json | jq .summary
  git dbsync plan v1.4 --env prod --format markdown > plan.md
  git dbsync plan v1.4 --env prod --resolve settings:posts_per_page=ours --resolve 'settings:theme:value.accent=theirs'
  git dbsync plan v1.4 --env prod --exit-code --stat || echo "v1.4 changes prod"`,
		Args:              usageArgs(cobra.ExactArgs(1)),
		ValidArgsFunction: completeRevisions(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Revision = args[0]
			return runPlan(cmd, s, opts)
		},
	}
	f := cmd.Flags()
	envVar(f, &opts.Env, "", "target environment (default: dev, or the only one)")
	f.BoolVar(&opts.json, "json", false, "print the plan as JSON")
	formatFlag(f, &opts.format)
	f.StringVar(&opts.out, "out", "", "save the plan to `FILE` for apply --plan")
	f.BoolVar(&opts.ours, "ours", false, "resolve conflicts by keeping the target's values")
	f.BoolVar(&opts.theirs, "theirs", false, "resolve conflicts by taking the revision's values")
	f.StringArrayVar(&opts.resolve, "resolve", nil, "resolve one conflict: `TABLE:KEY[:COLUMN[.PATH]]=ours|theirs` (repeatable)")
	f.BoolVar(&opts.Prune, "prune", false, "first apply: delete rows that only the target has")
	f.BoolVar(&opts.exitCode, "exit-code", false, "exit 2 when there are changes, 3 when conflicts (blocked deletes included) are unresolved")
	fleetFlags(f, &opts.fleet, "plan for", false)
	return cmd
}

func resolution(ours, theirs bool) (gitdb.Resolution, error) {
	switch {
	case ours && theirs:
		return "", usageErrorf("--ours and --theirs cannot be used together")
	case ours:
		return gitdb.Ours, nil
	case theirs:
		return gitdb.Theirs, nil
	}
	return gitdb.Unresolved, nil
}

// choices reads --resolve's values.
func choices(specs []string) (gitdb.Choices, error) {
	var out gitdb.Choices
	for _, s := range specs {
		c, err := gitdb.ParseChoice(s)
		if err != nil {
			return nil, &usageError{err}
		}
		out = append(out, c)
	}
	return out, nil
}

func runPlan(cmd *cobra.Command, s *streams, opts *planOptions) error {
	format, err := outputFormat(opts.format, opts.json)
	if err != nil {
		return err
	}
	if opts.Resolve, err = resolution(opts.ours, opts.theirs); err != nil {
		return err
	}
	if opts.Choices, err = choices(opts.resolve); err != nil {
		return err
	}
	ws, err := s.workspace()
	if err != nil {
		return err
	}
	s.json = opts.json
	if fl, many, err := selectFleet(ws, opts.Env, opts.fleet); err != nil || many {
		switch {
		case err != nil:
			return err
		case format == formatMarkdown:
			return usageErrorf("--format markdown renders the plan of one environment: name one with --env (status --format markdown sums up several)")
		}
		return planMany(cmd, s, ws, fl, opts)
	}
	plan, err := ws.Plan(cmd.Context(), opts.PlanOptions)
	if err != nil {
		return err
	}
	first := 0 // every row only where the document holds them
	if opts.out != "" || format == formatJSON {
		first = -1
	}
	saved, err := plan.SaveFirst(first)
	if err != nil {
		return err
	}
	if opts.out != "" {
		data, err := saved.Marshal()
		if err != nil {
			return err
		}
		if err := os.WriteFile(opts.out, data, 0o666); err != nil {
			return err
		}
		fmt.Fprintf(s.notes(), "saved the plan to %s; apply it with: git dbsync apply --plan %s\n", opts.out, opts.out)
	}
	if format == formatJSON {
		data, err := saved.Marshal()
		if err != nil {
			return err
		}
		if _, err = s.Out.Write(data); err != nil {
			return err
		}
		return planExit(opts, saved.Summary)
	}
	if format == formatMarkdown {
		lim := s.view.markdownLimits()
		rp, err := review.PlanOf(plan, lim)
		if err != nil {
			return err
		}
		if err := review.WritePlanMarkdown(s.Out, rp, lim); err != nil {
			return err
		}
		return planExit(opts, saved.Summary)
	}
	s.view.plan(s.Out, plan, "plan: apply")
	if steps := ws.StepLines(plan.Env); len(steps) > 0 && !plan.Applied {
		fmt.Fprintln(s.Out, "steps an apply runs, in order:")
		for _, st := range steps {
			fmt.Fprintln(s.Out, "  "+st)
		}
	}
	if plan.Applied {
		fmt.Fprintf(s.Err, "hint: %q is already at %s; apply would do nothing\n", plan.Env, plan.Rev.Name)
	}
	if plan.Unresolved() > 0 {
		fmt.Fprintln(s.Err, "hint: "+resolveHint(cmd, "the conflicts")+blockedHint(cmd, plan))
	}
	return planExit(opts, saved.Summary)
}

// planExit is plan --exit-code's outcome: nothing to do, changes, or
// unresolved conflicts (exit.go gives them 0, 2 and 3, terraform plan
// -detailed-exitcode's convention).
func planExit(opts *planOptions, sum gitdb.PlanSummary) error {
	switch {
	case !opts.exitCode:
		return nil
	case sum.Unresolved > 0:
		return &unresolvedError{}
	case sum.Inserts+sum.Updates+sum.Deletes > 0:
		return &changesError{}
	}
	return nil
}
