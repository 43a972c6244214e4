package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

// applyMany applies one revision to every environment of a fleet, --jobs
// at a time, each in its own transaction under its own lock with its own
// ledger entry: one that fails or conflicts never stops or spoils the
// others. It prints a line per environment as it finishes, then a table
// (or, with --json, one report); the exit status is 0 only when every one
// is at the revision.
func applyMany(cmd *cobra.Command, s *streams, ws *gitdb.Workspace, fl *fleet, opts *applyOptions) error {
	if err := askFleet(s, opts.yes, fl, "Apply "+opts.Revision+" to", "apply to", "review with 'git dbsync plan "+opts.Revision+" --env "+fl.selector+"'"); err != nil {
		return err
	}
	ws.Meter = nil // several applies at once: no one progress bar
	outcomes := fl.run(cmd.Context(), s, opts.fleet, true, func(ctx context.Context, env string, mu *sync.Mutex) envOutcome {
		o := opts.ApplyOptions
		o.Env, o.Confirm, o.Ask = env, nil, nil
		if s.Terminal {
			o.Ask = func(st gitdb.Step) (bool, error) {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintf(s.Err, "%s step on %q: %s\nDone? [y/N] ", st.Kind, env, st.Text)
				return askYes(s.In), nil
			}
		}
		res, err := ws.Apply(ctx, o)
		return changeOutcome(env, opts.Revision, res, err, "applied")
	})
	err := fl.finish(s, "apply", opts.Revision, outcomes, "result")
	if !s.json && len(outcomes) > 0 {
		ok := 0
		for _, r := range outcomes {
			if r.err == nil {
				ok++
			}
		}
		fmt.Fprintf(s.summary(), "%d of %s at %s%s\n", ok, plural(len(outcomes), "environment"), opts.Revision, fl.shardNote())
	}
	return err
}

// askFleet asks, on a terminal, before a change of every environment of a
// fleet; without one, --yes is needed.
func askFleet(s *streams, yes bool, fl *fleet, question, verb, review string) error {
	switch {
	case yes || len(fl.targets) == 0:
		return nil
	case !s.Terminal:
		return unconfirmed(verb+" "+plural(len(fl.targets), "environment"), review)
	}
	fmt.Fprintf(s.Err, "%s %s (%s)? [y/N] ", question, plural(len(fl.targets), "environment"), strings.Join(fl.targets, ", "))
	if !askYes(s.In) {
		return gitdb.ErrDeclined
	}
	return nil
}

// changeOutcome is what an apply or a rollback did to one environment.
func changeOutcome(env, rev string, res *gitdb.ApplyResult, err error, done string) envOutcome {
	if err != nil {
		return failedOutcome(env, err)
	}
	r := envOutcome{Env: env, Result: done, Report: res.Report()}
	switch {
	case res.Already:
		r.Result, r.line = "already", "already at "+rev
	case done == "rolled-back":
		r.line = fmt.Sprintf("rolled back %s: %s (ledger #%d)", res.Entry.Revision, entryCounts(res.Entry), res.Entry.Seq)
	default:
		r.line = fmt.Sprintf("applied: %s (ledger #%d)", entryCounts(res.Entry), res.Entry.Seq)
	}
	return r
}
