package web

import (
	"net/http"
	"slices"
	"sort"
	"sync"

	"github.com/gitdbsync/git-dbsync/gitdb"
	"github.com/gitdbsync/git-dbsync/internal/review"
)

// Matrix is the environments × releases page.
type Matrix struct {
	Tags   []gitdb.Tag // newest first
	Groups []Group
}

// Group is a [group] of .dbsync with its environments; the last group,
// unnamed, holds the environments no group names.
type Group struct {
	Name string
	Envs []Row
}

// Row is an environment's line of the matrix.
type Row struct {
	*review.Env
	Cells []Cell // one per tag, as Matrix.Tags
}

// Cell is where an environment stands with a release: at (the release it
// is at), pending (newer, not applied), applied (applied before, since
// left behind) or older.
type Cell struct {
	Tag   string
	State string
}

// statuses reads the status of each environment, several at once (each
// in its own read-only session); an environment that cannot be read is
// one that says why.
func (s *Server) statuses(r *http.Request, names []string) map[string]*review.Env {
	out := make(map[string]*review.Env, len(names))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var e *review.Env
			if st, err := s.ws.Status(r.Context(), name); err != nil {
				e = review.Failed(name, err)
			} else {
				e = review.EnvOf(st.Report())
			}
			mu.Lock()
			out[name] = e
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func (s *Server) matrix(r *http.Request) (*view, error) {
	tags, err := s.ws.Tags()
	if err != nil {
		return nil, err
	}
	slices.Reverse(tags)
	names := gitdb.EnvNames(s.ws.Root)
	envs := s.statuses(r, names)
	m := &Matrix{Tags: tags}
	row := func(name string) Row {
		e := envs[name]
		rw := Row{Env: e}
		applied := map[string]bool{}
		for _, h := range e.History {
			if h.Kind == gitdb.KindApply && !h.Undone {
				applied[h.Commit] = true
			}
		}
		for _, t := range tags {
			state := "older"
			switch {
			case e.Err != "":
				state = "unknown"
			case e.Commit == t.Commit:
				state = "at"
			case slices.Contains(e.Pending, t.Name):
				state = "pending"
			case applied[t.Commit]:
				state = "applied"
			}
			rw.Cells = append(rw.Cells, Cell{Tag: t.Name, State: state})
		}
		return rw
	}
	grouped := map[string]bool{}
	groups := make([]string, 0, len(s.ws.Config.Groups))
	for g := range s.ws.Config.Groups {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		members, err := s.ws.Targets(g)
		if err != nil {
			continue
		}
		grp := Group{Name: g}
		for _, name := range members {
			if _, ok := envs[name]; ok {
				grp.Envs = append(grp.Envs, row(name))
				grouped[name] = true
			}
		}
		m.Groups = append(m.Groups, grp)
	}
	rest := Group{}
	for _, name := range names {
		if !grouped[name] {
			rest.Envs = append(rest.Envs, row(name))
		}
	}
	if len(rest.Envs) > 0 {
		m.Groups = append(m.Groups, rest)
	}
	return &view{Template: "matrix", Title: "environments", Data: m,
		Commands: []string{review.Command("status", "--env", "NAME"), review.Command("plan", "TAG", "--env", "NAME"), review.Command("apply", "TAG", "--env", "NAME")}}, nil
}

// Release is a release on an environment: the plan.
type Release struct {
	Env, Rev string
	Plan     *review.Plan
}

func (s *Server) release(r *http.Request) (*view, error) {
	env, err := param(r, "env")
	if err != nil {
		return nil, err
	}
	rev, err := param(r, "rev")
	if err != nil {
		return nil, err
	}
	v := &view{Template: "release", Title: rev + " on " + env, Data: &Release{Env: env, Rev: rev},
		Commands: []string{review.Command("plan", rev, "--env", env), review.Command("plan", rev, "--env", env, "--format", "markdown"), review.Command("apply", rev, "--env", env)}}
	plan, err := s.ws.Plan(r.Context(), gitdb.PlanOptions{Env: env, Revision: rev})
	if err != nil {
		return v, err
	}
	v.Data.(*Release).Plan, err = review.PlanOf(plan, Limits)
	return v, err
}

// History is an environment's ledger as a timeline.
type History struct {
	Env *review.Env
}

func (s *Server) history(r *http.Request) (*view, error) {
	env, err := param(r, "env")
	if err != nil {
		return nil, err
	}
	v := &view{Template: "history", Title: "history of " + env, Data: &History{Env: &review.Env{Name: env}},
		Commands: []string{review.Command("status", "--env", env), review.Command("rollback", "--env", env), review.Command("backups", "--env", env), review.Command("restore", "--env", env)}}
	st, err := s.ws.History(r.Context(), env)
	if err != nil {
		return v, err
	}
	v.Data = &History{Env: review.EnvOf(st.Report())}
	return v, nil
}

// Compare is two environments side by side.
type Compare struct {
	Envs []string // every environment, for the form
	A, B string
	Diff *review.Diff
}

func (s *Server) diff(r *http.Request) (*view, error) {
	c := &Compare{Envs: gitdb.EnvNames(s.ws.Root), A: r.URL.Query().Get("a"), B: r.URL.Query().Get("b")}
	v := &view{Template: "diff", Title: "compare", Data: c}
	if c.A == "" || c.B == "" {
		return v, nil
	}
	if c.A == c.B {
		return v, badRequest{"name two different environments"}
	}
	command := review.Command("diff", "--env", c.A, "--env", c.B)
	v.Title = c.A + " and " + c.B
	v.Commands = []string{command, review.Command("diff", "--env", c.A, "--env", c.B, "--format", "markdown")}
	d, err := s.ws.Diff(r.Context(), gitdb.DiffOptions{Env: c.A, Env2: c.B, UseDB: true})
	if err != nil {
		return v, err
	}
	c.Diff = review.DiffOf(d.Report(), command, Limits)
	return v, nil
}
