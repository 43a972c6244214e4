package gitdb

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"
	"sort"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// PlanOptions are the inputs of a plan (and of an apply).
type PlanOptions struct {
	Env      string           // target environment; "" for the default
	Revision string           // tag, branch or commit to apply
	Resolve  merge.Resolution // resolve every conflict to one side (--ours, --theirs)
	Prune    bool             // first apply: delete rows only the target has
}

// Plan is what an apply would do to a target.
type Plan struct {
	Env         string
	Rev         repo.Rev
	Base        *Entry // the ledger entry the target is at; nil before the first apply
	Identity    *Identity
	Tables      []*merge.TablePlan // parents before children along references
	Fingerprint string             // of the target rows the plan read
	Applied     bool               // the target is already at this revision
	Rollback    bool               // a rollback of the apply in Base
	Resolve     merge.Resolution   // the resolution asked for
	Prune       bool               // untracked rows are deleted
	Sequences   []string           // target tables of class sequence
	tr          *translator        // the target's rows in the files' form and back
	cfg         *config.Config     // the .dbsync of the revision (or the apply a rollback undoes)
}

// Unresolved counts the conflicts left to the user.
func (p *Plan) Unresolved() int {
	n := 0
	for _, t := range p.Tables {
		n += t.Unresolved()
	}
	return n
}

// Changes counts the ops of the plan.
func (p *Plan) Changes() int {
	n := 0
	for _, t := range p.Tables {
		n += len(t.Ops)
	}
	return n
}

// BaseCommit is the commit of the base, "" before the first apply.
func (p *Plan) BaseCommit() string {
	if p.Base == nil {
		return ""
	}
	return p.Base.Commit
}

// ConflictError is returned when a plan has unresolved conflicts.
type ConflictError struct{ Plan *Plan }

func (e *ConflictError) Error() string {
	n := e.Plan.Unresolved()
	noun := "conflicts"
	if n == 1 {
		noun = "conflict"
	}
	return fmt.Sprintf("%d %s between %s and the changes made on %q", n, noun, e.Plan.Rev.Name, e.Plan.Env)
}

// session is an open workspace, repository and target database.
type session struct {
	ws  *Workspace
	rep *repo.Repo
	db  dialect.Dialect
	env string
}

func (w *Workspace) open(ctx context.Context, env string) (*session, error) {
	rep, err := repo.Open(w.Root)
	if err != nil {
		return nil, err
	}
	db, env, err := w.OpenEnv(ctx, env)
	if err != nil {
		rep.Close()
		return nil, err
	}
	return &session{ws: w, rep: rep, db: db, env: env}, nil
}

// openAt opens an environment and resolves the revision to apply to it.
func (w *Workspace) openAt(ctx context.Context, env, rev string) (*session, repo.Rev, error) {
	s, err := w.open(ctx, env)
	if err != nil {
		return nil, repo.Rev{}, err
	}
	r, err := s.rep.Resolve(rev)
	if err != nil {
		s.close()
		return nil, repo.Rev{}, err
	}
	return s, r, nil
}

// openRepoOnly opens the repository without a database.
func (w *Workspace) openRepoOnly() (*session, error) {
	rep, err := repo.Open(w.Root)
	if err != nil {
		return nil, err
	}
	return &session{ws: w, rep: rep}, nil
}

func (s *session) close() {
	if s.db != nil {
		s.db.Close()
	}
	s.rep.Close()
}

// Plan computes what applying a revision to an environment would do,
// writing nothing.
func (w *Workspace) Plan(ctx context.Context, opts PlanOptions) (*Plan, error) {
	s, rev, err := w.openAt(ctx, opts.Env, opts.Revision)
	if err != nil {
		return nil, err
	}
	defer s.close()
	ledger, err := readLedger(ctx, s.db)
	if err != nil {
		return nil, err
	}
	return s.plan(ctx, s.db, rev, ledger, opts)
}

// haveCommitOf checks that the repository has the commit a ledger entry
// names (an apply made from a clone that pushed nothing, or a gc).
func (s *session) haveCommitOf(e *Entry) error {
	if s.rep.HasCommit(e.Commit) {
		return nil
	}
	return fmt.Errorf("the target is at %s (commit %.12s), which this repository does not have\nhint: fetch it (git fetch --tags) and try again",
		e.Revision, e.Commit)
}

// revisionConfig reads the .dbsync and the exported tables of a commit.
func (s *session) revisionConfig(commit, name string) (*config.Config, []repo.TableFiles, error) {
	data, err := s.rep.ReadFile(commit, config.FileName)
	if err != nil {
		return nil, nil, err
	}
	if data == nil {
		return nil, nil, fmt.Errorf("%s has no %s: it was not made with git dbsync", name, config.FileName)
	}
	cfg, err := config.Parse(s.ws.Root, config.FileName+" at "+name, data)
	if err != nil {
		return nil, nil, err
	}
	tables, err := s.rep.Tables(commit, cfg.Dir)
	return cfg, tables, err
}

// plan merges every table of the revision with the base and the target.
func (s *session) plan(ctx context.Context, db dialect.Reader, rev repo.Rev, ledger *Ledger, opts PlanOptions) (*Plan, error) {
	p := &Plan{Env: s.env, Rev: rev, Base: ledger.Current(), Identity: ledger.Identity, Resolve: opts.Resolve, Prune: opts.Prune}
	p.Applied = p.Base != nil && p.Base.Commit == rev.Commit
	cfg, theirs, err := s.revisionConfig(rev.Commit, rev.Name)
	if err != nil {
		return nil, err
	}
	p.cfg = cfg
	if len(theirs) == 0 {
		return nil, fmt.Errorf("%s has no exported tables under %s/", rev.Name, cfg.Dir)
	}
	baseTables := map[string]*repo.TableFiles{}
	if p.Base != nil {
		if err := s.haveCommitOf(p.Base); err != nil {
			return nil, err
		}
		_, base, err := s.revisionConfig(p.Base.Commit, p.Base.Revision)
		if err != nil {
			return nil, err
		}
		for i := range base {
			baseTables[base[i].Meta.Name] = &base[i]
		}
	}
	// Every table's mapping first: references translate through the
	// natural keys of other tables.
	tables := make([]*configTable, len(theirs))
	for i := range theirs {
		if tables[i], err = targetTable(ctx, db, cfg, &theirs[i], p.Rev.Name); err != nil {
			return nil, fmt.Errorf("gitdb/plan: table %q: %w", theirs[i].Meta.Name, err)
		}
	}
	p.tr = newTranslator(db, tables)
	fp := newFingerprint()
	for i := range theirs {
		tf := &theirs[i]
		tp, err := s.planTable(ctx, p.tr, tables[i], tf, baseTables[tf.Meta.Name], p, opts, fp)
		if err != nil {
			return nil, fmt.Errorf("gitdb/plan: table %q: %w", tf.Meta.Name, err)
		}
		p.Tables = append(p.Tables, tp)
	}
	p.Tables = parentsFirst(p.Tables)
	p.Fingerprint = hex.EncodeToString(fp.Sum(nil))
	names, err := db.Tables(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if class, _, _ := cfg.Classify(name); class == config.ClassSequence {
			p.Sequences = append(p.Sequences, name)
		}
	}
	return p, nil
}

// targetTable describes a table of a revision as the target has it.
func targetTable(ctx context.Context, db dialect.Reader, cfg *config.Config, tf *repo.TableFiles, rev string) (*configTable, error) {
	desc, err := db.Describe(ctx, tf.Meta.Name)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: the target has no such table", tf.Dir, rev)
	}
	if err := checkColumns(tf.Meta, desc, tf.Dir+"/"+serialize.MetaFile, rev); err != nil {
		return nil, err
	}
	return tableFor(tf.Meta, cfg.Tables[tf.Meta.Name], desc)
}

func (s *session) planTable(ctx context.Context, tr *translator, t *configTable, tf, base *repo.TableFiles,
	p *Plan, opts PlanOptions, fp hash.Hash) (*merge.TablePlan, error) {
	meta := tf.Meta
	mopts := merge.Options{Resolve: opts.Resolve, Prune: opts.Prune}
	topts := t.Options
	policy := merge.Everything
	if topts != nil {
		switch topts.Merge {
		case "ours", "theirs":
			if mopts.Resolve == merge.Unresolved {
				mopts.Resolve = merge.Resolution(topts.Merge)
			}
		default:
			policy = merge.Policy(topts.Merge)
		}
	}
	// Without a base for this table (first apply, or a table newly
	// exported), the revision wins and the target's other rows are untracked.
	mopts.NoBase = base == nil || !slices.Equal(base.Meta.Key, meta.Key)
	src := &rowSource{t: t, tr: tr, keepHidden: true}
	for attempt := 0; ; attempt++ {
		tp, err := s.mergeTable(ctx, src, tf, base, p, mopts, fp)
		if errors.Is(err, errOrder) && attempt == 0 { // the engine's order is not ours: sort in memory
			src.sortInMemory = true
			continue
		}
		if err == nil {
			tp.Restrict(policy)
		}
		return tp, err
	}
}

func (s *session) mergeTable(ctx context.Context, src *rowSource, tf, base *repo.TableFiles, p *Plan, mopts merge.Options, fp hash.Hash) (*merge.TablePlan, error) {
	meta := tf.Meta
	theirs, closeTheirs, err := fileRows(s.rep, tf, p.Rev.Name, nil)
	if err != nil {
		return nil, err
	}
	defer closeTheirs()
	baseRows := merge.Source(merge.Empty)
	if !mopts.NoBase {
		var closeBase func()
		if baseRows, closeBase, err = fileRows(s.rep, base, p.Base.Revision, meta); err != nil {
			return nil, err
		}
		defer closeBase()
	}
	h := newFingerprint() // per table, so that a retry starts clean
	h.Write([]byte(meta.Name + "\n"))
	ours, stop := dbRows(ctx, src, h)
	defer stop()
	tp, err := merge.Table(meta, baseRows, theirs, ours, mopts)
	if err != nil {
		return nil, err
	}
	fp.Write(h.Sum(nil))
	return tp, nil
}

// checkColumns proves that the target can hold the revision's rows.
func checkColumns(meta *serialize.Table, desc *dialect.Table, file, rev string) error {
	if s := meta.Surrogate; s != "" {
		if dc := desc.Column(s); dc == nil || dc.Type != serialize.Int {
			return fmt.Errorf("%s at %s: the target has no integer column %q to hold the rows' ids", file, rev, s)
		}
	}
	for _, c := range meta.Columns {
		dc := desc.Column(c.Name)
		want := c.Type
		switch {
		case c.Type == serialize.Ref:
			want = serialize.Int // the referenced row's id
		case c.Codec != "" && dc != nil && dc.Type == serialize.Bytes:
			want = serialize.Bytes // the encoded value
		case c.Codec != "":
			want = serialize.Text
		}
		switch {
		case dc == nil:
			return fmt.Errorf("%s at %s: column %q does not exist in the target", file, rev, c.Name)
		case dc.Generated:
			return fmt.Errorf("%s at %s: column %q is generated in the target and cannot be written", file, rev, c.Name)
		case dc.Type != want:
			return fmt.Errorf("%s at %s: column %q is %s in the files but %s (%s) in the target", file, rev, c.Name, want, dc.Type, dc.DeclType)
		}
	}
	return nil
}

// parentsFirst orders tables so that every table comes after the tables
// it references (cycles keep name order: the engine defers their checks).
func parentsFirst(tables []*merge.TablePlan) []*merge.TablePlan {
	sort.Slice(tables, func(i, j int) bool { return tables[i].Meta.Name < tables[j].Meta.Name })
	byName := map[string]*merge.TablePlan{}
	for _, t := range tables {
		byName[t.Meta.Name] = t
	}
	var out []*merge.TablePlan
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(t *merge.TablePlan)
	visit = func(t *merge.TablePlan) {
		if state[t.Meta.Name] != 0 {
			return
		}
		state[t.Meta.Name] = 1
		for _, r := range t.Meta.References {
			if parent := byName[r.Table]; parent != nil && r.Table != t.Meta.Name {
				visit(parent)
			}
		}
		state[t.Meta.Name] = 2
		out = append(out, t)
	}
	for _, t := range tables {
		visit(t)
	}
	return out
}
