package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

type applyOptions struct {
	gitdb.ApplyOptions
	ours, theirs bool
	resolve      []string
	yes          bool
	fleet        fleetOptions
	planFile     string
	json         bool
}

func newApplyCmd(s *streams) *cobra.Command {
	opts := &applyOptions{}
	cmd := &cobra.Command{
		Use:   "apply <revision> --env NAME [--yes] [--ours|--theirs] [--resolve CHOICE]... [--prune] [--baseline] [--adopt] [--allow-scope-change] [--shared-ids] [--skip-requires] [--jobs N] [--fail-fast] [--shard K/N] [--json]\n  git dbsync apply --plan FILE [--yes] [--json]",
		Short: "Merge a tagged revision into an environment's database",
		Long: `Merge the config rows of a revision (a tag, usually) into an environment's
database, as 'git dbsync plan' shows: a three-way merge that keeps what was
changed on the target since the last apply.

Everything is written in ONE transaction: deletes first (children before
parents), then inserts and updates (parents before children), the target's
identity and a ledger entry (revision, commit, base, time, user, host,
version and the before-image of every row changed) in the tables
dbsync_identity, dbsync_ledger and dbsync_ledger_rows, which export never
exports. Either all of it commits or none of it does.

Before the transaction the lock file .git/dbsync/locks/<env>/<revision>.lock
is created with state "applying" (who, where, since when); after the commit it
is rewritten to "applied" with a summary. One apply or rollback runs per
environment at a time: a second fails at once, naming the holder (exit 4). A
lock file left "applying" by a run that died is settled against the ledger,
which tells whether its transaction committed, and said so.

With conflicts, nothing is written and the exit status is 3, unless --ours or
--theirs (or [table "x"] merge = ours|theirs in .dbsync) resolves them, or
--resolve TABLE:KEY[:COLUMN[.PATH]]=ours|theirs one at a time (KEY as plan
spells it; one naming no conflict, or a column the table lacks, exits 129
and lists the conflicts there are). A table with merge = create-only only
gets rows new in the revision inserted; with merge = no-delete, rows are
never deleted.

A delete that rows of other tables (content, above all) still refer to,
through a foreign key or a reference .dbsync declares, is a conflict too
(blocked-delete), listed with the others: --ours or --resolve TABLE:KEY=ours
keeps the row and applies the rest; --theirs or =theirs fails naming the
referring table, column and rows, since the row cannot be deleted while
they use it (a merge policy leaves it to you).

Rows of a table with a natural key are matched by that key; inserted rows
get new ids of the target's, and every reference (natural keys in the files)
is translated to the target's ids before the first write: a reference to a
row that neither the revision nor the target has fails the apply with
nothing written. Secret columns and paths keep the target's values.

Applying the revision the target is already at does nothing and says so;
applying an older revision is an ordinary three-way merge.

The first apply writes the target's identity: applying with --env staging to
a database whose identity says prod (a copied database) is refused unless
--adopt. --baseline records the revision as applied without writing rows, for
a target known to be in sync; --prune, on a first apply, deletes the rows that
only the target has. A first apply that matches a table's rows by id and would
change a unique name in most of them is refused: the ids mean other rows
there. Give the table a natural key (key = name), or apply with --shared-ids
when the ids really are the same rows.

Promotion: [env "prod"] requires = staging in .dbsync makes prod accept only
a revision staging's own ledger (read from staging's database) records as
applied and not rolled back. --skip-requires overrides it, and prod's ledger
entry records the override (status shows it).

--env may name several environments: a comma list (staging,prod), globs over
the environments .dbsync and git config name (shop-*), or a [group "name"]
of .dbsync (env = names or globs); a part that starts with ! takes its
environments out ('shops,!shop-eu'), and one that takes out none is refused.
--jobs N applies to N at once, each in its
own transaction with its own lock and ledger entry; one that fails or
conflicts never stops the others (--fail-fast starts no new one after a
failure). A line per environment is printed as it finishes, then a table. On
a terminal, the manual and confirm steps of each environment are asked, one
question at a time, each naming its environment. A re-run skips those
already at the revision. The exit status is 0 only when
every one is at the revision, else that of the first, in the order given,
that is not. ` + shardHelp + `

A revision is trusted only as far as its .dbsync goes: only tables it
classes config are written, never git dbsync's own (dbsync_*), never those
git config dbsync.env.<env>.deny names; a table directory that is not its
table's, holds both layouts, refers to a table not exported or has a null
where table.json says NOT NULL is an error naming the file. A .dbsync that
widens what is written since the target's revision (a table newly config, a
new where or rows scope) needs --allow-scope-change. A write waits at most
the environment's lock-timeout (default 10 s) for a lock the application
holds, then exits 4 naming the table.

On a terminal, apply shows the plan and asks before writing; --yes skips the
question. Without a terminal it never waits for input: it refuses unless
--yes is given.`,
		Example: `  git dbsync plan v1.4 --env prod && git dbsync apply v1.4 --env prod
  git dbsync apply v1.4 --env prod --yes --theirs
  git dbsync apply v1.0 --env prod --baseline --yes
  git dbsync apply --plan v1.4-prod.plan --yes`,
		Args:              usageArgs(cobra.MaximumNArgs(1)),
		ValidArgsFunction: completeRevisions(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Revision = args[0]
			}
			return runApply(cmd, s, opts)
		},
	}
	f := cmd.Flags()
	envVar(f, &opts.Env, "", "target environment (default: dev, or the only one)")
	f.BoolVarP(&opts.yes, "yes", "y", false, "apply without asking")
	f.BoolVar(&opts.ours, "ours", false, "resolve conflicts by keeping the target's values")
	f.BoolVar(&opts.theirs, "theirs", false, "resolve conflicts by taking the revision's values")
	f.StringArrayVar(&opts.resolve, "resolve", nil, "resolve one conflict: `TABLE:KEY[:COLUMN[.PATH]]=ours|theirs` (repeatable)")
	f.BoolVar(&opts.Prune, "prune", false, "first apply: delete rows that only the target has")
	f.BoolVar(&opts.Baseline, "baseline", false, "record the revision as applied without writing rows")
	f.BoolVar(&opts.Adopt, "adopt", false, "take over a database whose identity names another environment")
	f.BoolVar(&opts.AllowScopeChange, "allow-scope-change", false, "write what the revision's .dbsync newly makes config or newly scopes")
	f.BoolVar(&opts.SharedIDs, "shared-ids", false, "first apply: match rows by id even where that renames most of a table's rows")
	f.BoolVar(&opts.SkipRequires, "skip-requires", false, "apply although an environment this one requires has not applied the revision (recorded in its ledger)")
	f.BoolVar(&opts.json, "json", false, "print what was done as JSON (schemas/apply.schema.json)")
	f.StringVar(&opts.planFile, "plan", "", "apply the plan saved in `FILE` by plan --out")
	fleetFlags(f, &opts.fleet, "apply to", true)
	return cmd
}

func runApply(cmd *cobra.Command, s *streams, opts *applyOptions) error {
	var err error
	if opts.Resolve, err = resolution(opts.ours, opts.theirs); err != nil {
		return err
	}
	if opts.Choices, err = choices(opts.resolve); err != nil {
		return err
	}
	if opts.planFile != "" {
		if opts.Revision != "" {
			return usageErrorf("give either a revision or --plan FILE, not both")
		}
		if opts.Saved, err = gitdb.LoadPlan(opts.planFile); err != nil {
			return err
		}
		if opts.Env != "" && opts.Env != opts.Saved.Env {
			return fmt.Errorf("%s is a plan for environment %q, not %q", opts.planFile, opts.Saved.Env, opts.Env)
		}
		if opts.ours || opts.theirs || opts.Prune || len(opts.resolve) > 0 {
			return usageErrorf("--plan applies the saved plan as it is: give --ours, --theirs, --resolve or --prune to plan instead, or fill in the plan's choices")
		}
		opts.Revision, opts.Env = opts.Saved.Revision, opts.Saved.Env
		opts.Resolve, opts.Prune = gitdb.Resolution(opts.Saved.Resolve), opts.Saved.Prune
		if opts.Choices, opts.Filled, err = opts.Saved.Filled(); err != nil {
			return fmt.Errorf("%s: %w", opts.planFile, err)
		}
	}
	if opts.Revision == "" {
		return usageErrorf("name the revision to apply (or --plan FILE)\nhint: see 'git dbsync apply --help'")
	}
	s.json = opts.json
	opts.Version = version
	ws, err := s.workspace()
	if err != nil {
		return err
	}
	opts.DeployOptions = deployOptions(s, opts.yes)
	if opts.planFile == "" {
		if fl, many, err := selectFleet(ws, opts.Env, opts.fleet); err != nil || many {
			if err != nil {
				return err
			}
			return applyMany(cmd, s, ws, fl, opts)
		}
	}
	rendered := false
	if opts.Confirm, err = confirmer(s, opts.yes, "apply", "git dbsync plan "+opts.Revision+envFlag(opts.Env), &rendered); err != nil {
		return err
	}
	res, err := ws.Apply(cmd.Context(), opts.ApplyOptions)
	return reportApply(cmd, s, res, err, opts.Env, "apply", "applied", rendered)
}

// deployOptions are how a change's steps talk to the operator: their
// output on stderr, manual and confirm steps asked on a terminal.
func deployOptions(s *streams, yes bool) gitdb.DeployOptions {
	opts := gitdb.DeployOptions{Yes: yes, StepOutput: s.Err}
	if s.Terminal {
		opts.Ask = func(st gitdb.Step) (bool, error) {
			fmt.Fprintf(s.Err, "%s step: %s\nDone? [y/N] ", st.Kind, st.Text)
			return askYes(s.In), nil
		}
	}
	return opts
}

// printSteps lists the steps a change ran.
func printSteps(s *streams, steps []gitdb.StepResult) {
	for _, st := range steps {
		fmt.Fprintf(s.notes(), "step %s (%.1f s)\n", st, st.Seconds)
	}
}

// reportApply prints the outcome of an apply or rollback (cmd) to env
// ("" the default), and what to do about its errors.
func reportApply(cmd *cobra.Command, s *streams, res *gitdb.ApplyResult, err error, env, verb, done string, rendered bool) error {
	if res != nil {
		for _, n := range res.Notes {
			warn(s.Err, "%s", n)
		}
		printSteps(s, res.Steps)
	}
	var conflict *gitdb.ConflictError
	var locked *gitdb.LockedError
	var busy *gitdb.BusyError
	switch {
	case errors.As(err, &conflict):
		s.view.plan(s.forPeople(), conflict.Plan, "conflicts: "+verb)
		return fmt.Errorf("%w; nothing written\nhint: %s%s", err, resolveHint(cmd, "them"), blockedHint(cmd, conflict.Plan))
	case errors.As(err, &locked):
		return fmt.Errorf("%w\nhint: wait for it to finish; if its process is gone, the next run clears the lock", err)
	case errors.As(err, &busy):
		section := "[env]"
		if env != "" {
			section = fmt.Sprintf("[env %q]", env)
		}
		return fmt.Errorf("%w\nhint: run it again once the other session is done; lock-timeout in %s of .dbsync sets how long to wait", err, section)
	case err != nil:
		return err
	}
	if s.json {
		return writeJSON(s.Out, res.Report())
	}
	if res.Already {
		what := "nothing to do"
		if len(res.Steps) > 0 {
			what = "its checks, never recorded (a run stopped after its commit), passed now"
		}
		fmt.Fprintf(s.summary(), "%q is already at %s (ledger #%d, %s): %s\n", res.Entry.Env, res.Entry.Revision, res.Entry.Seq, res.Entry.At.Format("2006-01-02 15:04:05 MST"), what)
		return nil
	}
	if !rendered && res.Plan != nil && res.Plan.Changes() > 0 {
		s.view.plan(s.Out, res.Plan, done)
	}
	what := entryCounts(res.Entry) + " in one transaction"
	if res.Entry.Kind == gitdb.KindBaseline {
		what = "as a baseline, without writing rows"
	}
	fmt.Fprintf(s.summary(), "%s %s (%s) on %q: %s (ledger #%d)\n", done, res.Entry.Revision, shortCommit(res.Entry.Commit), res.Entry.Env, what, res.Entry.Seq)
	for _, e := range res.Also {
		fmt.Fprintf(s.summary(), "%s %s (%s) on %q in the same transaction: %s (ledger #%d)\n", done, e.Revision, shortCommit(e.Commit), e.Env, entryCounts(e), e.Seq)
	}
	fmt.Fprintf(s.notes(), "recorded in %s\n", res.LockFile)
	printBackup(s, res.Backup)
	return nil
}

// printBackup says which backup a change took first, and how to put it
// back.
func printBackup(s *streams, b *gitdb.Backup) {
	if b != nil {
		fmt.Fprintf(s.notes(), "backup %s taken first (%s, %s): git dbsync restore %s --env %s puts it back\n",
			b.ID, plural(len(b.Tables), "table"), plural(int(b.Rows()), "row"), b.ID, b.Env)
	}
}

// resolveHint says how to resolve conflicts (what) with the flags cmd
// has: --ours and --theirs, as its help says them, and --resolve for one
// at a time where it has it.
func resolveHint(cmd *cobra.Command, what string) string {
	side := func(name string) string {
		f := cmd.Flags().Lookup(name)
		return "--" + name + " (" + strings.TrimPrefix(f.Usage, "resolve conflicts by ") + ")"
	}
	hint := "resolve " + what + " with " + side("ours") + " or " + side("theirs")
	if cmd.Flags().Lookup("resolve") != nil {
		hint += ", one at a time with --resolve TABLE:KEY[:COLUMN]=ours|theirs"
	}
	return hint + ", or set [table] merge in .dbsync"
}

// blockedHint is a further hint line for a plan with blocked deletes,
// which --theirs or a merge policy cannot resolve: "" for none.
func blockedHint(cmd *cobra.Command, p *gitdb.Plan) string {
	if p.Blocked() == 0 {
		return ""
	}
	keep := "--ours"
	if cmd.Flags().Lookup("resolve") != nil {
		keep += " or --resolve TABLE:KEY=ours"
	}
	return "\nhint: a blocked delete cannot be written: keep the row with " + keep + ", or first change the rows that refer to it"
}

// entryCounts says how many rows a ledger entry inserted, updated and
// deleted.
func entryCounts(e *gitdb.Entry) string {
	var ins, upd, del int
	for _, c := range e.Summary {
		ins, upd, del = ins+c.Inserted, upd+c.Updated, del+c.Deleted
	}
	return fmt.Sprintf("%s, %s, %s", plural(ins, "insert"), plural(upd, "update"), plural(del, "delete"))
}

// unconfirmed refuses a change that needs a person's yes when there is no
// terminal to ask on; first says what to do before running with --yes.
func unconfirmed(what, first string) error {
	return fmt.Errorf("refusing to %s without confirmation: there is no terminal to ask on\nhint: %s, then run again with --yes", what, first)
}

// confirmer returns the question asked before writing: none with --yes; on
// a terminal, the plan and a y/N question; without one, a refusal.
func confirmer(s *streams, yes bool, verb, review string, rendered *bool) (func(*gitdb.Plan) (bool, error), error) {
	if yes {
		return nil, nil
	}
	if !s.Terminal {
		return nil, unconfirmed(verb, "review with '"+review+"'")
	}
	return func(p *gitdb.Plan) (bool, error) {
		v := s.view
		v.detail = max(v.detail, normal) // a question needs the changes it asks about, even under -q or --stat
		v.plan(s.forPeople(), p, "about to "+verb)
		*rendered = true
		fmt.Fprintf(s.Err, "%s these changes to %q? [y/N] ", strings.ToUpper(verb[:1])+verb[1:], p.Env)
		return askYes(s.In), nil
	}, nil
}
