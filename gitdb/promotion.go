package gitdb

import (
	"context"
	"fmt"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/repo"
)

// RequiresError is an apply refused because an environment the target
// requires (.dbsync: [env "prod"] requires = staging) has not applied the
// revision: promotion goes through it first.
type RequiresError struct {
	Env, Revision string
	Missing       []string // "staging (at v1.3)"
}

func (e *RequiresError) Error() string {
	return fmt.Sprintf("%q accepts only a revision its required environments have applied, and %s has not been applied on %s; nothing written\nhint: apply %s there first, or override with --skip-requires (recorded in %q's ledger)",
		e.Env, e.Revision, strings.Join(e.Missing, ", "), e.Revision, e.Env)
}

// checkRequires proves that every environment env requires has applied the
// revision, reading each one's ledger from its own database. With skip,
// what was missing becomes the note the ledger entry records.
func (w *Workspace) checkRequires(ctx context.Context, env string, rev repo.Rev, skip bool) (note string, err error) {
	e := w.Config.Envs[env]
	if e == nil {
		return "", nil
	}
	var missing []string
	for _, req := range e.Requires {
		if req == env {
			continue
		}
		where, err := w.appliedOn(ctx, req, rev.Commit)
		if err != nil {
			where = "cannot be read: " + strings.SplitN(err.Error(), "\n", 2)[0]
		}
		if where != "" {
			missing = append(missing, fmt.Sprintf("%s (%s)", req, where))
		}
	}
	switch {
	case len(missing) == 0:
		return "", nil
	case skip:
		return fmt.Sprintf("--skip-requires: %s had not applied %s", strings.Join(missing, ", "), rev.Name), nil
	}
	return "", &RequiresError{Env: env, Revision: rev.Name, Missing: missing}
}

// appliedOn returns "" when env's ledger records commit as applied and
// not rolled back, else where env stands.
func (w *Workspace) appliedOn(ctx context.Context, env, commit string) (string, error) {
	s, l, err := w.openLedger(ctx, env)
	if err != nil {
		return "", err
	}
	defer s.close()
	checks := len(w.Config.StepsOf(env, "check"))
	for _, e := range l.Entries {
		if e.Kind == KindApply && e.Commit == commit && e.UndoneBy == 0 {
			passed := 0
			for _, st := range e.Steps {
				if st.Phase == "check" && st.OK() {
					passed++
				}
			}
			if passed < checks {
				return fmt.Sprintf("applied %s, but its checks have not passed there", e.Revision), nil
			}
			return "", nil
		}
	}
	if cur := l.Current(); cur != nil {
		return "at " + cur.Revision, nil
	}
	return "nothing applied", nil
}
