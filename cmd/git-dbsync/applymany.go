package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

// errNotStarted marks a target --fail-fast did not start.
var errNotStarted = errors.New("not started: an earlier environment failed (--fail-fast)")

// applyMany applies one revision to every environment an --env selector
// names, --jobs at a time, each in its own transaction under its own lock
// with its own ledger entry: one that fails or conflicts never stops or
// spoils the others. It prints a line per environment as it finishes, then
// a table; the exit status is 0 only when every one is at the revision.
func applyMany(cmd *cobra.Command, s *streams, ws *gitdb.Workspace, opts *applyOptions) error {
	if opts.json {
		return usageErrorf("--json reports one environment: name one with --env")
	}
	targets, err := ws.Targets(opts.Env)
	if err != nil {
		return &usageError{err}
	}
	if !opts.yes {
		if !s.Terminal {
			return unconfirmed("apply to "+plural(len(targets), "environment"), "review with 'git dbsync plan "+opts.Revision+" --env NAME' for each")
		}
		fmt.Fprintf(s.Err, "Apply %s to %s (%s)? [y/N] ", opts.Revision, plural(len(targets), "environment"), strings.Join(targets, ", "))
		if !askYes(s.In) {
			return gitdb.ErrDeclined
		}
	}
	ws.Meter = nil // several applies at once: no one progress bar
	type outcome struct {
		res *gitdb.ApplyResult
		err error
	}
	results := make([]outcome, len(targets))
	var wg sync.WaitGroup
	// mu keeps the lines of environments that finish and the questions of
	// their manual and confirm steps apart: one at a time on the terminal.
	var mu sync.Mutex
	var failed atomic.Bool
	slots := make(chan struct{}, max(opts.jobs, 1))
	for i, env := range targets {
		slots <- struct{}{}
		if opts.failFast && failed.Load() {
			results[i] = outcome{err: errNotStarted}
			<-slots
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
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
			res, err := ws.Apply(cmd.Context(), o)
			results[i] = outcome{res, err}
			if err != nil {
				failed.Store(true)
			}
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(s.Out, "%s: %s\n", env, targetResult(opts.Revision, res, err))
		}()
	}
	wg.Wait()
	fmt.Fprintf(s.Out, "\n%-24s %s\n", "environment", "result")
	var first error
	ok := 0
	for i, env := range targets {
		r := results[i]
		fmt.Fprintf(s.Out, "%-24s %s\n", env, targetResult(opts.Revision, r.res, r.err))
		if r.err == nil {
			ok++
		} else if first == nil && !errors.Is(r.err, context.Canceled) {
			first = r.err
		}
	}
	fmt.Fprintf(s.summary(), "%d of %s at %s\n", ok, plural(len(targets), "environment"), opts.Revision)
	if first != nil {
		return &reportedError{first} // each environment has had its line
	}
	return nil
}

// targetResult says in one line what an apply did to one environment.
func targetResult(rev string, res *gitdb.ApplyResult, err error) string {
	var conflict *gitdb.ConflictError
	switch {
	case errors.Is(err, errNotStarted):
		return err.Error()
	case errors.As(err, &conflict):
		return fmt.Sprintf("CONFLICT: %s; nothing written", plural(conflict.Plan.Unresolved(), "conflict"))
	case err != nil:
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return "FAILED: " + msg
	case res.Already:
		return "already at " + rev
	}
	return fmt.Sprintf("applied: %s (ledger #%d)", entryCounts(res.Entry), res.Entry.Seq)
}
