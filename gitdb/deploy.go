package gitdb

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/gitdb/steps"
)

// StepResult is how one step of a deploy went.
type StepResult = steps.Result

// Step is a step of a deploy as .dbsync declares it.
type Step = config.Step

// DeployOptions are the inputs of the steps around an apply.
type DeployOptions struct {
	// StepOutput receives the commands' output as it comes (nil: kept
	// only in the records).
	StepOutput io.Writer
	// Ask asks the operator to confirm a manual or confirm step; nil when
	// there is no terminal to ask on.
	Ask func(step Step) (bool, error)
	// Yes answers the confirm steps (never the manual ones).
	Yes bool
}

// stepRun runs an environment's steps around one apply.
type stepRun struct {
	opts    DeployOptions
	cfg     *config.Config
	env     string
	vars    []string // DBSYNC_* of every command
	results []steps.Result
	started bool // the steps began (the questions passed): checks and after steps follow
	recheck bool // the checks of an apply already there, which never ran
	prior   int  // results[:prior] are the steps of the run that stopped (recheck)
}

// newStepRun prepares the steps of an environment around a change of
// kind (apply, rollback, restore) to rev; nil when it has none.
func (w *Workspace) newStepRun(kind, env string, rev repo.Rev, opts DeployOptions) (*stepRun, error) {
	if len(w.Config.StepsOf(env, "before", "manual", "confirm", "check", "after")) == 0 {
		return nil, nil
	}
	url, _, err := w.Config.URL(env)
	if err != nil {
		return nil, err
	}
	tag := ""
	if rev.Tag {
		tag = rev.Name
	}
	return &stepRun{opts: opts, cfg: w.Config, env: env,
		vars: []string{"DBSYNC_CHANGE=" + kind, "DBSYNC_ENV=" + env, "DBSYNC_REVISION=" + rev.Name, "DBSYNC_COMMIT=" + rev.Commit, "DBSYNC_TAG=" + tag, "DBSYNC_DATABASE_URL=" + url}}, nil
}

// stepRev is the revision a change's steps are told of: its entry's,
// named as a tag when the repository has that tag.
func (s *session) stepRev(e *Entry) repo.Rev {
	rev := repo.Rev{Name: e.Revision, Commit: e.Commit}
	if r, err := s.rep.Resolve(e.Revision); err == nil && r.Tag && r.Commit == e.Commit {
		rev.Tag = true
	}
	return rev
}

// uncheckedRun returns the steps to finish an apply whose checks never
// ran (its run was killed after the commit), or nil: its before steps
// count as done, its checks and after steps follow.
func (w *Workspace) uncheckedRun(e *Entry, opts DeployOptions) *stepRun {
	checks := len(w.Config.StepsOf(e.Env, "check"))
	if e.Kind != KindApply || checks == 0 {
		return nil
	}
	passed := 0
	for _, st := range e.Steps {
		if st.Phase == steps.Check && st.OK() {
			passed++
		}
	}
	if passed >= checks {
		return nil
	}
	r, err := w.newStepRun(KindApply, e.Env, repo.Rev{Name: e.Revision, Commit: e.Commit}, opts)
	if err != nil || r == nil {
		return nil
	}
	r.results = slices.DeleteFunc(slices.Clone(e.Steps), func(st steps.Result) bool {
		return st.Phase != "before" && st.Phase != "manual" && st.Phase != "confirm"
	})
	r.started, r.recheck, r.prior = true, true, len(r.results)
	return r
}

// StepError is a step that failed: a before step (nothing was written),
// or a check after the change committed (undone, for an apply).
type StepError struct {
	Step    steps.Result
	Kind    string // the change: apply, rollback, restore
	Undo    string // what was done about a failed check: "rolled back"; "" for nothing
	UndoErr error  // undoing the change failed too
}

func (e *StepError) Error() string {
	switch {
	case e.Step.Phase != steps.Check:
		return fmt.Sprintf("%s: nothing written; the after steps ran", e.Step)
	case e.Undo == "":
		return fmt.Sprintf("%s after the %s, which stays: the after steps ran\nhint: see git dbsync status, and decide what to do about it", e.Step, e.Kind)
	case e.UndoErr != nil:
		return fmt.Sprintf("%s, and rolling the %s back failed: %v\nhint: see git dbsync status, and roll back by hand with git dbsync rollback", e.Step, e.Kind, e.UndoErr)
	}
	return fmt.Sprintf("%s: the %s was %s; the after steps ran", e.Step, e.Kind, e.Undo)
}

// before asks the manual and confirm steps and runs the before commands,
// in the order .dbsync gives them; the first that fails or is declined
// stops the run.
func (r *stepRun) before(ctx context.Context, root string) error {
	for _, st := range r.cfg.StepsOf(r.env, "manual", "confirm") {
		if r.opts.Ask == nil && (st.Kind == "manual" || !r.opts.Yes) {
			return fmt.Errorf("%s: the %s step %q needs an operator to confirm it on a terminal: nothing done", st.Pos, st.Kind, st.Text)
		}
	}
	r.started = true
	for _, st := range r.cfg.StepsOf(r.env, "before", "manual", "confirm") {
		if st.Kind == "before" {
			res := r.run(ctx, root, st)
			if !res.OK() {
				return &StepError{Step: res}
			}
			continue
		}
		res := steps.Result{Phase: st.Kind, Command: st.Text, Status: "confirmed"}
		switch {
		case st.Kind == "confirm" && r.opts.Yes:
			res.Status = "confirmed by --yes"
		default:
			ok, err := r.opts.Ask(st)
			if err != nil {
				return err
			}
			if !ok {
				res.Status = "declined"
				r.results = append(r.results, res)
				return &StepError{Step: res}
			}
		}
		r.results = append(r.results, res)
	}
	return nil
}

// checks runs the check commands; it returns the first that failed.
func (r *stepRun) checks(ctx context.Context, root string) *steps.Result {
	for _, st := range r.cfg.StepsOf(r.env, "check") {
		if res := r.run(ctx, root, st); !res.OK() {
			return &res
		}
	}
	return nil
}

// after runs every after command, whatever came before.
func (r *stepRun) after(ctx context.Context, root string) {
	for _, st := range r.cfg.StepsOf(r.env, "after") {
		r.run(ctx, root, st)
	}
}

func (r *stepRun) run(ctx context.Context, root string, st config.Step) steps.Result {
	timeout := config.DefaultStepTimeout
	if e := r.cfg.Envs[r.env]; e != nil && e.StepTimeout > 0 {
		timeout = e.StepTimeout
	}
	res := steps.Run(ctx, steps.Command{Phase: st.Kind, Text: st.Text, Dir: root, Timeout: timeout, Out: r.opts.StepOutput,
		Env: append([]string{"DBSYNC_PHASE=" + st.Kind}, r.vars...)})
	r.results = append(r.results, res)
	return res
}

// StepLines describes an environment's steps for a plan, in the order
// they run.
func (w *Workspace) StepLines(env string) []string {
	var out []string
	for _, kinds := range [][]string{{"before", "manual", "confirm"}, {"check"}, {"after"}} {
		for _, st := range w.Config.StepsOf(env, kinds...) {
			out = append(out, fmt.Sprintf("%s: %s", st.Kind, strings.TrimSpace(st.Text)))
		}
	}
	return out
}
