package gitdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"sort"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dbrows"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/exportdir"
	"github.com/gitdbsync/git-dbsync/gitdb/ledger"
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
	// WorkTree merges the working tree's files, not the revision's; the
	// revision (HEAD, or the commit of the working tree: snapshot.go) is
	// what is recorded: the development database's sync.
	WorkTree bool
	// RevisionName names Revision in messages and the ledger ("" its
	// own name).
	RevisionName string
	// AllowScopeChange lets an apply write what the revision's .dbsync
	// newly makes config, or newly scopes (see Plan.ScopeChanges).
	AllowScopeChange bool
	// Choices are sides chosen for single conflicts (--resolve); the
	// rest follow Resolve.
	Choices Choices
	// SharedIDs lets a first apply match rows by id although it would
	// rename most of them (see Plan.IDRenames).
	SharedIDs bool
	// FirstApply plans as a first apply whatever the ledger says: for a
	// development database last in step with a commit this clone lacks.
	FirstApply bool
}

// Plan is what an apply (or a rollback) would do to a target: data only.
type Plan struct {
	Env         string
	Rev         repo.Rev
	Base        *Entry // the ledger entry the target is at; nil before the first apply
	Identity    *Identity
	Tables      []*merge.TablePlan // parents before children along references
	Fingerprint string             // of the target rows the plan read
	Applied     bool               // the target is already at this revision
	Rollback    bool               // a rollback of the apply in Base
	// Then are the older applies a rollback --to undoes after this one,
	// in the same transaction (each planned inside it).
	Then      []*Entry
	Resolve   merge.Resolution // the resolution asked for
	Choices   Choices          // the sides chosen for single conflicts
	Prune     bool             // untracked rows are deleted
	Sequences []string         // target tables of class sequence
	// ScopeChanges says how the revision's .dbsync changes what is written
	// compared with the revision the target is at: an apply needs
	// AllowScopeChange for them.
	ScopeChanges []string
	// IDRenames says, for a first apply, which tables matched by id would
	// have a unique name changed in most rows: an apply needs SharedIDs.
	IDRenames []string
}

// planned is a plan with what writes it: the translator that read the
// target for it (ids, values kept back) and the .dbsync whose declared
// references the writes must respect.
type planned struct {
	*Plan
	tr  *dbrows.Translator
	cfg *config.Config
}

// writer returns the writer of a plan made in a transaction.
func (p *planned) writer(tx dialect.Tx) *dbrows.Writer {
	return &dbrows.Writer{Tx: tx, Tr: p.tr, Refs: p.cfg, Sequences: p.Sequences}
}

// Unresolved counts the conflicts left to the user.
func (p *Plan) Unresolved() int {
	n := 0
	for _, t := range p.Tables {
		n += t.Unresolved()
	}
	return n
}

// Blocked counts the unresolved conflicts that are blocked deletes: rows
// the revision deletes that rows outside the plan still refer to.
func (p *Plan) Blocked() int {
	n := 0
	for _, t := range p.Tables {
		for i := range t.Conflicts {
			if c := &t.Conflicts[i]; c.Kind == merge.BlockedDelete && c.Resolution == merge.Unresolved {
				n++
			}
		}
	}
	return n
}

// Changes counts the ops of the plan.
func (p *Plan) Changes() int {
	n := 0
	for _, t := range p.Tables {
		n += t.Ops.Len()
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

// Plan computes what applying a revision to an environment would do,
// writing nothing.
func (w *Workspace) Plan(ctx context.Context, opts PlanOptions) (*Plan, error) {
	s, err := w.openRead(ctx, opts.Env)
	if err != nil {
		return nil, err
	}
	defer s.close()
	rev, err := s.rep.Resolve(opts.Revision)
	if err != nil {
		return nil, err
	}
	l, err := ledger.Read(ctx, s.db)
	if err != nil {
		return nil, err
	}
	p, err := s.plan(ctx, s.db, rev, l, opts)
	if err != nil {
		return nil, err
	}
	return p.Plan, nil
}

// theirFiles reads the files a plan merges: the revision's, or the working
// tree's.
func (s *session) theirFiles(rev repo.Rev, workTree bool) (*fileSet, error) {
	if workTree {
		return s.workTreeFiles()
	}
	return s.revisionFiles(rev.Commit, rev.Name)
}

// plan merges every table of the revision with the base and the target.
func (s *session) plan(ctx context.Context, db dialect.Reader, rev repo.Rev, l *ledger.Ledger, opts PlanOptions) (*planned, error) {
	p := &Plan{Env: s.env, Rev: rev, Base: l.Current(), Identity: l.Identity, Resolve: opts.Resolve, Choices: opts.Choices, Prune: opts.Prune}
	if opts.FirstApply {
		p.Base = nil
	}
	p.Applied = p.Base != nil && p.Base.Commit == rev.Commit
	files, err := s.theirFiles(rev, opts.WorkTree)
	if err != nil {
		return nil, err
	}
	if err := s.ws.checkFiles(files, s.env); err != nil {
		return nil, err
	}
	cfg, theirs := files.cfg, files.tables
	if len(theirs) == 0 {
		return nil, fmt.Errorf("%s has no exported tables under %s/", files.name, cfg.Dir)
	}
	var base *fileSet
	baseTables := map[string]*exportdir.TableFiles{}
	if p.Base != nil {
		if err := s.haveCommitOf(p.Base); err != nil {
			return nil, err
		}
		if base, err = s.revisionFiles(p.Base.Commit, p.Base.Revision); err != nil {
			return nil, err
		}
		for i := range base.tables {
			baseTables[base.tables[i].Meta.Name] = &base.tables[i]
		}
		p.ScopeChanges = scopeChanges(base, files)
	}
	// A secret stays secret in the target whatever the revision says: the
	// base's and the working tree's secrets hold too, so the target's
	// values are neither read into the plan (printed) nor overwritten.
	var keep []*config.Config
	if base != nil {
		keep = append(keep, base.cfg)
	}
	cfg, read := keepSecrets(cfg, theirs, append(keep, s.ws.Config)...)
	// Every table's mapping first: references translate through the
	// natural keys of other tables.
	tables, err := targetTables(ctx, db, cfg, read, files.name)
	if err != nil {
		return nil, err
	}
	pl := &planned{Plan: p, tr: dbrows.NewTranslator(db, tables), cfg: cfg}
	pl.tr.Meter = s.ws.Meter
	s.ws.Meter.Start("planning", -1)
	fp := sha256.New()
	for i := range theirs {
		tf := &theirs[i]
		tp, err := s.planTable(ctx, pl, tables[i], files, tf, base, baseTables[tf.Meta.Name], opts, fp)
		if err != nil {
			return nil, fmt.Errorf("table %q: %w", tf.Meta.Name, err)
		}
		if baseTables[tf.Meta.Name] == nil {
			r, err := idRename(tables[i], tp)
			if err != nil {
				return nil, fmt.Errorf("table %q: %w", tf.Meta.Name, err)
			}
			if r != "" {
				p.IDRenames = append(p.IDRenames, r)
			}
		}
		p.Tables = append(p.Tables, tp)
	}
	p.Tables = parentsFirst(p.Tables)
	p.Fingerprint = hex.EncodeToString(fp.Sum(nil))
	if err := pl.block(ctx, opts.Choices, opts.Resolve); err != nil {
		return nil, err
	}
	if err := pl.tr.MissingContent(ctx, p.Tables); err != nil {
		return nil, err
	}
	if err := storable(db, p.Tables); err != nil {
		return nil, err
	}
	if err := opts.Choices.check(p); err != nil {
		return nil, err
	}
	names, err := db.Tables(ctx)
	if err != nil {
		return nil, err
	}
	p.Sequences = cfg.OfClass(names, config.ClassSequence)
	return pl, nil
}

// storable refuses, as the write would, a value the target's engine
// cannot store (PostgreSQL's text and the NUL character), naming its
// table, row and column: what plan shows is what apply does.
func storable(db dialect.Reader, plans []*merge.TablePlan) error {
	cc, ok := db.(dialect.CellChecker)
	if !ok {
		return nil
	}
	for _, p := range plans {
		if p.Count(merge.Insert)+p.Count(merge.Update) == 0 {
			continue
		}
		for op, err := range p.Ops.All() {
			if err != nil {
				return err
			}
			if op.After == nil {
				continue
			}
			for i, c := range p.Meta.Columns {
				if err := cc.CheckCell(c, op.After[i]); err != nil {
					return fmt.Errorf("table %q: %s: row %s: %w", p.Meta.Name, op.Kind, p.Meta.DescribeKey(op.After), err)
				}
			}
		}
	}
	return nil
}

func (s *session) planTable(ctx context.Context, pl *planned, t *dbrows.Table, files *fileSet, tf *exportdir.TableFiles,
	baseFiles *fileSet, base *exportdir.TableFiles, opts PlanOptions, fp hash.Hash) (*merge.TablePlan, error) {
	meta := tf.Meta
	// Conflicts are resolved after the merge: the sides chosen per row,
	// cell or path first, then --ours/--theirs or the table's merge policy
	// for the rest.
	mopts := merge.Options{Prune: opts.Prune}
	rest := opts.Resolve
	policy := merge.Everything
	if topts := t.Options; topts != nil {
		switch topts.Merge {
		case "ours", "theirs":
			if rest == merge.Unresolved {
				rest = merge.Resolution(topts.Merge)
			}
		default:
			policy = merge.Policy(topts.Merge)
		}
	}
	// Without a base for this table (first apply, or a table newly
	// exported), the revision wins and the target's other rows are untracked.
	mopts.NoBase = base == nil || !slices.Equal(base.Meta.Key, meta.Key)
	// Fast paths, where the base and the revision have the same table.json:
	// a table whose files did not change merges to no change whatever the
	// target holds, so its rows are not read; a lines file's lines that did
	// not change are not decoded.
	sameMeta := fastPaths && !mopts.NoBase && metaBytes(base.Meta) == metaBytes(meta)
	if sameMeta && bothRevisions(baseFiles, files) && exportdir.Same(base, tf) {
		return &merge.TablePlan{Meta: meta}, nil
	}
	src := dbrows.NewSource(t, pl.tr, true)
	var tp *merge.TablePlan
	err := src.Ordered(func() error {
		var theirs, baseRows, ours merge.Source = nil, merge.Empty, nil
		same := new(int)
		h := sha256.New() // per table, so that a retry starts clean
		h.Write([]byte(meta.Name + "\n"))
		if sameMeta && base.Lines != nil && tf.Lines != nil {
			var closeBoth func()
			var err error
			if baseRows, theirs, same, closeBoth, err = exportdir.ChangedRows(baseFiles.tree, files.tree, meta, base.Lines, tf.Lines, baseFiles.name, files.name); err != nil {
				return err
			}
			defer closeBoth()
			// Change-driven: the target is read for the keys the release
			// changes only, unless it changes most of the table.
			c, restBase, restTheirs, err := readChanged(t, baseRows, theirs)
			switch {
			case err != nil:
				return err
			case c != nil && len(c.keys) <= *same:
				rows, err := src.ReadKeys(ctx, c.keys, h)
				if err != nil {
					return err
				}
				baseRows, theirs, ours = merge.Rows(c.base), merge.Rows(c.theirs), merge.Rows(rows)
			case c != nil:
				baseRows, theirs = merge.Rows(c.base), merge.Rows(c.theirs)
			default:
				baseRows, theirs = restBase, restTheirs
			}
		} else {
			var closeTheirs func()
			var err error
			if theirs, closeTheirs, err = exportdir.Rows(files.tree, tf, files.name, nil); err != nil {
				return err
			}
			defer closeTheirs()
			if !mopts.NoBase {
				var closeBase func()
				if baseRows, closeBase, err = exportdir.Rows(baseFiles.tree, base, baseFiles.name, meta); err != nil {
					return err
				}
				defer closeBase()
			}
		}
		if ours == nil {
			var stop func()
			ours, stop = src.Pull(ctx, h)
			defer stop()
		}
		var err error
		if tp, err = merge.Table(meta, baseRows, theirs, ours, mopts); err != nil {
			return err
		}
		tp.Unchanged += *same
		fp.Write(h.Sum(nil))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := tp.Choose(opts.Choices.chooser(meta)); err != nil {
		return nil, err
	}
	if err := tp.ResolveRest(rest); err != nil {
		return nil, err
	}
	if err := tp.Restrict(policy); err != nil {
		return nil, err
	}
	return tp, t.FitSecrets(tp)
}

// parentsFirst orders tables so that every table comes after the tables
// it references (cycles keep name order: the engine defers their checks).
func parentsFirst(tables []*merge.TablePlan) []*merge.TablePlan {
	sort.Slice(tables, func(i, j int) bool { return tables[i].Meta.Name < tables[j].Meta.Name })
	return dialect.ReferenceOrder(tables, func(t *merge.TablePlan) (string, []string) {
		var parents []string
		for _, r := range t.Meta.References {
			parents = append(parents, r.Table)
		}
		return t.Meta.Name, parents
	})
}

// bothRevisions reports two sets of files from commits, whose files'
// IDs are their contents' hashes (a working tree's are its paths).
func bothRevisions(a, b *fileSet) bool {
	_, aRev := a.tree.(exportdir.Revision)
	_, bRev := b.tree.(exportdir.Revision)
	return aRev && bRev
}

// fastPaths turns the plan's fast paths on; the tests turn them off to
// compare with the full merge.
var fastPaths = true

// metaBytes is a table.json's canonical bytes, to compare two.
func metaBytes(meta *serialize.Table) string {
	data, err := meta.MarshalMeta()
	if err != nil {
		return ""
	}
	return string(data)
}
