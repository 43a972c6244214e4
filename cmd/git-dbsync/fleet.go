package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gitdbsync/git-dbsync/gitdb"
	"github.com/gitdbsync/git-dbsync/internal/shard"
)

// errNotStarted marks a target --fail-fast did not start.
var errNotStarted = errors.New("not started: an earlier environment failed (--fail-fast)")

// shardHelp ends the help of the commands that run on fleets.
const shardHelp = `--shard K/N runs on part K of N of
the environments --env names, for N CI jobs (a matrix, GitLab's parallel,
a Kubernetes Indexed Job) that share a fleet: an environment's part depends
on its name and N alone, so the N parts cover every environment exactly once
and adding one moves no other. --shard gitlab takes K and N from
$CI_NODE_INDEX and $CI_NODE_TOTAL; --shard k8s/N takes K from
$JOB_COMPLETION_INDEX (counted from 0). --json prints one report for them
all: each environment's result, the exit status it alone would give, and
its own --json (schemas/fleet.schema.json).`

// fleetOptions are the flags of a command that runs on many environments
// at once when --env names several (a comma list, globs, a [group], !name).
type fleetOptions struct {
	shard    string
	jobs     int
	failFast bool
}

// fleetFlags defines --shard and --jobs (and --fail-fast for commands that
// write) on a command that may run on many environments.
func fleetFlags(f *pflag.FlagSet, o *fleetOptions, verb string, writes bool) {
	f.StringVar(&o.shard, "shard", "", "with several environments: "+verb+" only part `K/N` of them (or gitlab, or k8s/N: the part from the CI job's index)")
	f.IntVar(&o.jobs, "jobs", 1, "with several environments: "+verb+" `N` of them at once")
	if writes {
		f.BoolVar(&o.failFast, "fail-fast", false, "with several environments: start no new one after one fails")
	}
}

// fleet is the environments one run of a command covers.
type fleet struct {
	selector string
	shard    *shard.Shard
	targets  []string
}

// selectFleet resolves --env and --shard. ok is false when --env names one
// environment and no --shard is given: the command's single form.
func selectFleet(ws *gitdb.Workspace, env string, o fleetOptions) (fl *fleet, ok bool, err error) {
	if !ws.IsSelector(env) && o.shard == "" {
		return nil, false, nil
	}
	if env == "" {
		return nil, false, usageErrorf("--shard splits the environments --env names: give --env (a group, globs or a comma list)")
	}
	fl = &fleet{selector: env}
	if fl.targets, err = ws.Targets(env); err != nil {
		return nil, false, &usageError{err}
	}
	if o.shard != "" {
		sh, err := shard.Parse(o.shard, os.Getenv)
		if err != nil {
			return nil, false, &usageError{err}
		}
		fl.shard, fl.targets = &sh, sh.Pick(fl.targets)
	}
	return fl, true, nil
}

// envOutcome is what a command did on one environment of a fleet.
type envOutcome struct {
	Env string `json:"env"`
	// Result: applied, already, rolled-back, not-applied (nothing to roll
	// back), planned, read, conflicts, locked, failed or not-started.
	Result string `json:"result"`
	Exit   int    `json:"exit"` // the exit status the command on this environment alone gives
	Error  string `json:"error,omitempty"`
	// Report is the command's own --json for this environment.
	Report any `json:"report,omitempty"`

	err  error
	line string // the text line for the environment
}

// fleetReport is the --json of a command run on many environments
// (schemas/fleet.schema.json).
type fleetReport struct {
	Format       int          `json:"format"`
	Command      string       `json:"command"`
	Revision     string       `json:"revision,omitempty"`
	Selector     string       `json:"selector"`
	Shard        string       `json:"shard,omitempty"`
	Environments []envOutcome `json:"environments"`
	Summary      fleetSummary `json:"summary"`
}

type fleetSummary struct {
	Total  int `json:"total"`
	OK     int `json:"ok"`
	Failed int `json:"failed"`
}

// run runs do on every environment of the fleet, o.jobs at a time; each
// outcome's line is printed as it finishes unless quietLines (a table
// follows instead). With failFast, no environment starts after one failed.
func (fl *fleet) run(ctx context.Context, s *streams, o fleetOptions, printLines bool, do func(ctx context.Context, env string, mu *sync.Mutex) envOutcome) []envOutcome {
	out := make([]envOutcome, len(fl.targets))
	var wg sync.WaitGroup
	// mu keeps the lines of environments that finish, and the questions
	// of their manual and confirm steps, apart: one at a time.
	var mu sync.Mutex
	var failed atomic.Bool
	slots := make(chan struct{}, max(o.jobs, 1))
	for i, env := range fl.targets {
		slots <- struct{}{}
		if o.failFast && failed.Load() {
			out[i] = failedOutcome(env, errNotStarted)
			<-slots
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			r := do(ctx, env, &mu)
			r.Env = env
			if r.err != nil {
				failed.Store(true)
			}
			out[i] = r
			if printLines && !s.json {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintf(s.Out, "%s: %s\n", env, r.line)
			}
		}()
	}
	wg.Wait()
	return out
}

// failedOutcome is an environment the command failed on: its result says
// how, as its exit status would.
func failedOutcome(env string, err error) envOutcome {
	r := envOutcome{Env: env, err: err, Exit: exitCode(err), Result: "failed"}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	var conflict *gitdb.ConflictError
	switch {
	case errors.Is(err, errNotStarted):
		r.Result, r.line = "not-started", err.Error()
	case errors.As(err, &conflict):
		r.Result, r.line = "conflicts", fmt.Sprintf("CONFLICT: %s; nothing written", plural(conflict.Plan.Unresolved(), "conflict"))
	case r.Exit == exitConflicts:
		r.Result, r.line = "conflicts", "CONFLICT: "+msg
	case r.Exit == exitLocked:
		r.Result, r.line = "locked", "LOCKED: "+msg
	default:
		r.line = "FAILED: " + msg
	}
	r.Error = msg
	return r
}

// finish prints the fleet's --json, or its table; the error is the first
// environment's failure (its exit status the command's), already told.
func (fl *fleet) finish(s *streams, command, rev string, outcomes []envOutcome, header string) error {
	rep := fleetReport{Format: 1, Command: command, Revision: rev, Selector: fl.selector, Environments: outcomes}
	if fl.shard != nil {
		rep.Shard = fl.shard.String()
	}
	var first error
	for _, r := range outcomes {
		rep.Summary.Total++
		if r.err == nil {
			rep.Summary.OK++
		} else {
			rep.Summary.Failed++
			if first == nil && !errors.Is(r.err, context.Canceled) {
				first = r.err
			}
		}
	}
	if s.json {
		if rep.Environments == nil {
			rep.Environments = []envOutcome{}
		}
		if err := writeJSON(s.Out, rep); err != nil {
			return err
		}
	} else {
		if len(outcomes) == 0 {
			fmt.Fprintf(s.summary(), "shard %s of %s holds no environment\n", rep.Shard, fl.selector)
			return nil
		}
		fmt.Fprintf(s.Out, "%-24s %s\n", "environment", header)
		for _, r := range outcomes {
			fmt.Fprintf(s.Out, "%-24s %s\n", r.Env, r.line)
		}
	}
	if first != nil {
		return &reportedError{first}
	}
	return nil
}

// shardNote names the part of the fleet a run covers, for its summary.
func (fl *fleet) shardNote() string {
	if fl.shard == nil {
		return ""
	}
	return " (shard " + fl.shard.String() + ")"
}

// planMany plans a revision for every environment of a fleet: a row each
// with its counts. With --exit-code the status is 3 when any has
// unresolved conflicts, else 2 when any has changes; an environment that
// cannot be planned makes it that environment's.
func planMany(cmd *cobra.Command, s *streams, ws *gitdb.Workspace, fl *fleet, opts *planOptions) error {
	if opts.out != "" {
		return usageErrorf("--out saves the plan of one environment: name one with --env")
	}
	ws.Meter = nil
	outcomes := fl.run(cmd.Context(), s, opts.fleet, false, func(ctx context.Context, env string, _ *sync.Mutex) envOutcome {
		o := opts.PlanOptions
		o.Env = env
		plan, err := ws.Plan(ctx, o)
		if err != nil {
			return failedOutcome(env, err)
		}
		saved, err := plan.Save()
		if err != nil {
			return failedOutcome(env, err)
		}
		data, err := saved.Marshal()
		if err != nil {
			return failedOutcome(env, err)
		}
		sum := saved.Summary
		r := envOutcome{Env: env, Result: "planned", Report: json.RawMessage(data), Exit: exitCode(planExit(opts, sum))}
		r.line = fmt.Sprintf("%s, %s, %s", plural(sum.Inserts, "insert"), plural(sum.Updates, "update"), plural(sum.Deletes, "delete"))
		switch {
		case plan.Applied:
			r.line = "nothing to do: already at " + opts.Revision
		case sum.Unresolved > 0:
			r.line += "; " + plural(sum.Unresolved, "conflict") + " unresolved"
		}
		return r
	})
	if err := fl.finish(s, "plan", opts.Revision, outcomes, "plan"); err != nil {
		return err
	}
	// The fleet's --exit-code: the gravest of the environments' 3 and 2.
	exit := exitOK
	for _, r := range outcomes {
		exit = max(exit, r.Exit)
	}
	switch exit {
	case exitConflicts:
		return &unresolvedError{}
	case exitChanges:
		return &changesError{}
	}
	return nil
}

// rollbackMany rolls back the apply of a release (or every apply after
// --to's) on every environment of a fleet that has it, as applyMany
// applies.
func rollbackMany(cmd *cobra.Command, s *streams, ws *gitdb.Workspace, fl *fleet, opts *rollbackOptions) error {
	if opts.Revision == "" && opts.To == "" {
		// Each one's last apply may be another release: one whose apply
		// of the release failed is still at the one before.
		return usageErrorf("name the release to roll back on several environments: git dbsync rollback <revision> --env %s (or --to <revision>)", fl.selector)
	}
	if err := askFleet(s, opts.yes, fl, "Roll back", "roll back", "review with 'git dbsync status --env "+fl.selector+"'"); err != nil {
		return err
	}
	ws.Meter = nil
	outcomes := fl.run(cmd.Context(), s, opts.fleet, true, func(ctx context.Context, env string, _ *sync.Mutex) envOutcome {
		o := opts.RollbackOptions
		o.Env, o.Confirm, o.Ask = env, nil, nil
		res, err := ws.Rollback(ctx, o)
		if errors.As(err, new(*gitdb.NotAppliedError)) {
			return envOutcome{Env: env, Result: "not-applied", line: opts.Revision + " is not applied here: nothing to roll back"}
		}
		return changeOutcome(env, opts.Revision, res, err, "rolled-back")
	})
	return fl.finish(s, "rollback", opts.Revision, outcomes, "result")
}
