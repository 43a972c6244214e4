package gitdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dbrows"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/ledger"
	"github.com/gitdbsync/git-dbsync/gitdb/lock"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// RollbackOptions are the inputs of Rollback.
type RollbackOptions struct {
	Env      string
	Revision string // the revision whose apply to undo; "" for the last apply
	// To undoes every apply recorded after this revision's, newest first,
	// in one transaction: the target goes back to it.
	To      string
	Resolve merge.Resolution // resolve conflicts with later edits (--ours keeps them)
	Confirm func(*Plan) (bool, error)
	Version string
	DeployOptions
}

// Rollback undoes what the apply of a revision changed, from the
// before-images in the ledger. It is a three-way merge: base = what the
// apply wrote, theirs = what was there before, ours = the target now; so
// later edits to other rows and cells survive, and a row changed since
// the apply is a conflict. It is one kind of change (see change), with
// the environment's steps around it.
func (w *Workspace) Rollback(ctx context.Context, opts RollbackOptions) (*ApplyResult, error) {
	if opts.Env == "" {
		env, err := w.Config.DefaultEnv()
		if err != nil {
			return nil, err
		}
		opts.Env = env
	}
	c := w.rollbackChange(opts, true)
	res := &ApplyResult{}
	return res, w.runChange(ctx, c, res)
}

// rollbackChange is the change that rolls back: Rollback's, with the
// environment's steps, and the undo of an apply whose check failed (which
// runs no steps of its own).
func (w *Workspace) rollbackChange(opts RollbackOptions, steps bool) *change {
	name := opts.Revision
	if opts.To != "" {
		name = "to " + opts.To
	}
	backup := func(e *Entry) string { return "rollback of " + e.Revision }
	if opts.To != "" {
		backup = func(*Entry) string { return "rollback to " + opts.To }
	}
	return &change{kind: "rollback", env: opts.Env, name: name, deploy: opts.DeployOptions, backup: backup, planned: true, steps: steps,
		lockFile: func(s *session, t *ledger.Target) (string, error) {
			undo, err := s.rollbackTargets(t.Ledger, opts)
			if err != nil {
				return "", err
			}
			return undo[0].Revision, nil
		},
		prepare: func(ctx context.Context, s *session, t *ledger.Target, lf *lock.File, res *ApplyResult) (*ledger.Change, error) {
			return s.prepareRollback(ctx, t, opts, lf, res, steps)
		}}
}

// prepareRollback finds the applies to undo (lf is the newest one's lock
// file) and returns the change that plans and writes them in its
// transaction. As an apply does, it plans first, outside, only when the
// plan is shown (Confirm) or conflicts must stop the rollback before the
// environment's steps (steps): the change then plans again and must find
// the same rows. Otherwise the rows are read once.
func (s *session) prepareRollback(ctx context.Context, t *ledger.Target, opts RollbackOptions, lf *lock.File, res *ApplyResult, steps bool) (*ledger.Change, error) {
	undo, err := s.rollbackTargets(t.Ledger, opts)
	if err != nil {
		return nil, err
	}
	target := undo[0]
	// settle resolves a plan of e's undo as opts say, and refuses it
	// with conflicts left.
	settle := func(ctx context.Context, p *planned, e *Entry) error {
		if e == target {
			p.Then, res.Plan = undo[1:], p.Plan
		}
		for _, tp := range p.Tables {
			if err := resolve(tp, opts.Resolve); err != nil {
				return err
			}
		}
		if err := p.block(ctx, nil, opts.Resolve); err != nil {
			return err
		}
		if p.Unresolved() > 0 {
			return &ConflictError{Plan: p.Plan}
		}
		return nil
	}
	var shown *planned
	if opts.Confirm != nil || steps && len(s.ws.Config.StepsOf(s.env, "before", "manual", "confirm", "check", "after")) > 0 {
		if shown, err = s.rollbackPlan(ctx, s.db, t.Ledger, target); err != nil {
			return nil, err
		}
		if err := settle(ctx, shown, target); err != nil {
			return nil, err
		}
	}
	if opts.Confirm != nil {
		if ok, err := opts.Confirm(shown.Plan); err != nil || !ok {
			return nil, errors.Join(ErrDeclined, err)
		}
	}
	entry := &Entry{ID: lock.NewID(), Kind: KindRollback, Revision: target.Revision, Commit: target.Commit,
		BaseCommit: target.BaseCommit, Undoes: target.Seq, Env: s.env, At: time.Now().UTC(), Owner: lock.Me(), Version: opts.Version}
	if lf == nil { // applied from another clone: start the record here
		lf = &lock.File{Env: s.env, Revision: target.Revision, Commit: target.Commit, BaseCommit: target.BaseCommit, State: lock.Applied,
			Apply: lock.Record{ID: target.ID, Owner: target.Owner, Started: target.At, Finished: &target.At, Ledger: target.Seq, Tables: target.Summary}}
	}
	prev := *lf
	lf.State = lock.RollingBack
	lf.Rollback = &lock.Record{ID: entry.ID, Owner: entry.Owner, Started: entry.At}
	// Each older apply undone is planned in the transaction, after the
	// newer ones were written.
	writePlan := func(e *Entry) func(ctx context.Context, tx dialect.Tx) ([]*merge.TablePlan, error) {
		return func(ctx context.Context, tx dialect.Tx) ([]*merge.TablePlan, error) {
			p, err := s.rollbackPlan(ctx, tx, t.Ledger, e)
			if err != nil {
				return nil, err
			}
			if e == target && shown != nil && p.Fingerprint != shown.Fingerprint {
				res.Plan = shown.Plan
				return nil, &TargetChangedError{Why: "rows of the target were changed"}
			}
			// Conflicts here never follow a plan shown: the same rows
			// give the same merge.
			if err := settle(ctx, p, e); err != nil {
				return nil, err
			}
			if e == target { // before the first write, of every table the undone applies wrote
				if err := s.backupTables(ctx, tx, undoneTables(undo)); err != nil {
					return nil, err
				}
			}
			return p.Tables, p.writer(tx).Write(ctx, p.Tables)
		}
	}
	var then []ledger.Part
	for _, older := range undo[1:] {
		e := &Entry{ID: lock.NewID(), Kind: KindRollback, Revision: older.Revision, Commit: older.Commit,
			BaseCommit: older.BaseCommit, Undoes: older.Seq, Env: s.env, At: entry.At, Owner: entry.Owner, Version: opts.Version}
		res.Also = append(res.Also, e)
		then = append(then, ledger.Part{Entry: e, Write: writePlan(older)})
	}
	return &ledger.Change{Entry: entry, Prev: &prev, Lock: lf, Done: lock.RolledBack, Record: lf.Rollback, Then: then,
		Write: writePlan(target)}, nil
}

// undoneTables lists the tables whose rows the applies wrote (their
// ledger entries' summaries): all a rollback of them can write.
func undoneTables(undo []*Entry) []string {
	var tables []string
	for _, e := range undo {
		for table, c := range e.Summary {
			if c.Inserted+c.Updated+c.Deleted > 0 && !slices.Contains(tables, table) {
				tables = append(tables, table)
			}
		}
	}
	slices.Sort(tables)
	return tables
}

// rollbackTargets lists the applies to undo, newest first: the one of
// opts.Revision (the last apply by default), or with opts.To every apply
// after that revision's.
func (s *session) rollbackTargets(l *ledger.Ledger, opts RollbackOptions) ([]*Entry, error) {
	if opts.To == "" {
		e, err := s.rollbackTarget(l, opts.Revision)
		return []*Entry{e}, err
	}
	if opts.Revision != "" {
		return nil, fmt.Errorf("give a revision to undo or --to a revision to go back to, not both")
	}
	commit := opts.To
	if r, err := s.rep.Resolve(opts.To); err == nil {
		commit = r.Commit
	}
	var to *Entry
	for i := len(l.Entries) - 1; i >= 0 && to == nil; i-- {
		if e := &l.Entries[i]; (e.Kind == KindApply || e.Kind == KindBaseline) && e.UndoneBy == 0 && (e.Revision == opts.To || e.Commit == commit) {
			to = e
		}
	}
	if to == nil {
		return nil, fmt.Errorf("%s was never applied to %q, or its apply was rolled back: rollback --to goes back only to a revision applied there (see git dbsync status --env %s)", opts.To, s.env, s.env)
	}
	var undo []*Entry
	for i := len(l.Entries) - 1; i >= 0 && l.Entries[i].Seq > to.Seq; i-- {
		e := &l.Entries[i]
		switch {
		case e.UndoneBy != 0:
		case e.Kind == KindBaseline:
			return nil, fmt.Errorf("%s was recorded on %q with --baseline after %s: rollback --to cannot undo it", e.Revision, s.env, to.Revision)
		case e.Kind == KindApply: // rollbacks, restores and pulls are not undone
			undo = append(undo, e)
		}
	}
	if len(undo) == 0 {
		return nil, fmt.Errorf("%q is at %s already: nothing to roll back", s.env, to.Revision)
	}
	return undo, nil
}

// rollbackTarget finds the apply to undo: the last one, or the last of rev.
func (s *session) rollbackTarget(l *ledger.Ledger, rev string) (*Entry, error) {
	if rev == "" {
		cur := l.Current()
		switch {
		case cur == nil:
			return nil, fmt.Errorf("nothing to roll back: no revision has been applied to %q", s.env)
		case cur.Kind == KindBaseline:
			return nil, fmt.Errorf("nothing to roll back: %s was recorded on %q with --baseline, without writing rows", cur.Revision, s.env)
		}
		return cur, nil
	}
	e := l.LastApplyOf(rev)
	if e == nil {
		if r, err := s.rep.Resolve(rev); err == nil {
			e = l.LastApplyOf(r.Commit)
		}
	}
	if e == nil {
		return nil, &NotAppliedError{Rev: rev, Env: s.env}
	}
	return e, nil
}

// NotAppliedError says that the revision a rollback names has no apply
// (not rolled back yet) on the environment.
type NotAppliedError struct{ Rev, Env string }

func (e *NotAppliedError) Error() string {
	return fmt.Sprintf("%s has no apply on %q to roll back (see git dbsync status --env %s)", e.Rev, e.Env, e.Env)
}

// rollbackPlan merges, per table the apply touched, its after-images
// (base), its before-images (theirs) and the target's rows (ours).
func (s *session) rollbackPlan(ctx context.Context, db dialect.Reader, l *ledger.Ledger, e *Entry) (*planned, error) {
	p := &Plan{Env: s.env, Rev: repo.Rev{Name: e.Revision, Commit: e.Commit}, Base: e, Identity: l.Identity, Rollback: true}
	// The revision's .dbsync says which paths inside values are secret or
	// excluded: without it, a placeholder could be written as a value.
	var cfg *config.Config
	if s.rep.HasCommit(e.Commit) {
		fs, err := s.revisionFiles(e.Commit, e.Revision)
		if err != nil {
			return nil, err
		}
		cfg = fs.cfg
	} else if holdsJSON(e) {
		return nil, s.haveCommitOf(e)
	}
	// Every table the apply recorded, written to or not: references
	// translate through their natural keys.
	var tables []*dbrows.Table
	byName := map[string]*dbrows.Table{}
	for _, table := range slices.Sorted(maps.Keys(e.Tables)) {
		t, err := s.rollbackTableFor(ctx, db, cfg, e, table)
		if err != nil {
			return nil, fmt.Errorf("table %q: %w", table, err)
		}
		tables, byName[table] = append(tables, t), t
	}
	// References into content (a menu item's page) travel by the key the
	// revision's .dbsync declares for the content table, looked up here.
	if cfg != nil {
		content, err := dbrows.Referenced(ctx, db, cfg, tables)
		if err != nil {
			return nil, err
		}
		tables = append(tables, content...)
	} else if refersOutside(tables) {
		return nil, s.haveCommitOf(e)
	}
	pl := &planned{Plan: p, tr: dbrows.NewTranslator(db, tables), cfg: cfg}
	pl.tr.Meter = s.ws.Meter
	s.ws.Meter.Start("planning", -1)
	var order []string
	images := map[string]*tableImages{}
	err := e.EachImage(ctx, db, func(im ledger.Image) error {
		t := byName[im.Table]
		if t == nil {
			return fmt.Errorf("ledger entry %d has rows of table %q but not its metadata", e.Seq, im.Table)
		}
		if images[im.Table] == nil {
			order, images[im.Table] = append(order, im.Table), &tableImages{sorted: true}
		}
		if err := images[im.Table].add(t.Meta, im); err != nil {
			return fmt.Errorf("table %q: ledger entry %d: %w", im.Table, e.Seq, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	fp := sha256.New()
	for _, table := range order {
		tp, err := s.rollbackTable(ctx, pl.tr, byName[table], images[table], fp)
		if err != nil {
			return nil, fmt.Errorf("table %q: %w", table, err)
		}
		p.Tables = append(p.Tables, tp)
	}
	p.Tables = parentsFirst(p.Tables)
	p.Fingerprint = hex.EncodeToString(fp.Sum(nil))
	return pl, nil
}

// refersOutside reports whether a table refers to one not among them: a
// reference into content, which only the revision's .dbsync can say how
// to look up.
func refersOutside(tables []*dbrows.Table) bool {
	names := map[string]bool{}
	for _, t := range tables {
		names[t.Meta.Name] = true
	}
	for _, t := range tables {
		for _, r := range t.Meta.References {
			if !names[r.Table] {
				return true
			}
		}
	}
	return false
}

// holdsJSON reports whether a table the entry recorded has a JSON column,
// which .dbsync may give secret or excluded paths.
func holdsJSON(e *Entry) bool {
	for table := range e.Tables {
		if meta, err := e.MetaOf(table); err == nil {
			for _, c := range meta.Columns {
				if c.Type == serialize.JSON {
					return true
				}
			}
		}
	}
	return false
}

// rollbackTableFor describes a table an apply wrote, by the metadata its
// ledger entry recorded.
func (s *session) rollbackTableFor(ctx context.Context, db dialect.Reader, cfg *config.Config, e *Entry, table string) (*dbrows.Table, error) {
	meta, err := e.MetaOf(table)
	if err != nil {
		return nil, err
	}
	desc, err := db.Describe(ctx, table)
	if err != nil {
		return nil, fmt.Errorf("the target has no such table any more")
	}
	if err := dbrows.CheckColumns(meta, desc, "the ledger", fmt.Sprintf("entry %d", e.Seq)); err != nil {
		return nil, err
	}
	var opts *config.Table
	if cfg != nil {
		opts = cfg.Tables[table]
	}
	return dbrows.TableFor(meta, opts, desc)
}

// tableImages are a table's row images of a ledger entry, as the ops
// they recorded, in the file of a big plan past a few (an entry records
// ops in key order: each side's rows then stream into the merge).
type tableImages struct {
	ops                   merge.OpList
	lastBefore, lastAfter serialize.Row
	sorted                bool // each side's rows in key order, as recorded
}

// add decodes an image. A before-image cell that holds the secret
// placeholder (the apply read the target's value as secret, its base said
// so, though its revision did not) becomes the value the apply wrote: the
// rollback cannot know the value it replaced, keeps the target's, and
// never writes the placeholder.
func (x *tableImages) add(meta *serialize.Table, im ledger.Image) error {
	op := merge.Op{Kind: merge.Kind(im.Op)}
	var err error
	if im.Before != nil {
		if op.Before, err = meta.DecodeRow(im.Before); err != nil {
			return err
		}
	}
	if im.After != nil {
		if op.After, err = meta.DecodeRow(im.After); err != nil {
			return err
		}
	}
	placeholder := string(serialize.AppendString(nil, serialize.SecretPlaceholder))
	for c, cell := range op.Before {
		// The placeholder is the cell, or a string inside a JSON value
		// (a secret path): the whole cell stays the apply's.
		if strings.Contains(string(cell), placeholder) {
			op.Before[c] = serialize.NullCell
			if op.After != nil {
				op.Before[c] = op.After[c]
			}
		}
	}
	for _, side := range []struct{ row, last *serialize.Row }{{&op.Before, &x.lastBefore}, {&op.After, &x.lastAfter}} {
		if *side.row == nil {
			continue
		}
		if *side.last != nil && meta.CompareKeys(*side.last, *side.row) >= 0 {
			x.sorted = false
		}
		*side.last = *side.row
	}
	x.ops.Add(op)
	return nil
}

// sides returns the rows of the after-images and the before-images, each
// a source in key order; stop ends them.
func (x *tableImages) sides(meta *serialize.Table) (after, before merge.Source, stop func(), err error) {
	ofAfter := func(op *merge.Op) serialize.Row { return op.After }
	ofBefore := func(op *merge.Op) serialize.Row { return op.Before }
	if !x.sorted { // never recorded so; but a merge of rows out of order is wrong
		ops, err := x.ops.Collect()
		if err != nil {
			return nil, nil, nil, err
		}
		sorted := func(side func(*merge.Op) serialize.Row) merge.Source {
			var rows []serialize.Row
			for i := range ops {
				if row := side(&ops[i]); row != nil {
					rows = append(rows, row)
				}
			}
			slices.SortFunc(rows, meta.CompareKeys)
			return merge.Rows(rows)
		}
		return sorted(ofAfter), sorted(ofBefore), func() {}, nil
	}
	stream := func(side func(*merge.Op) serialize.Row) (merge.Source, func()) {
		next, stop := iter.Pull2(x.ops.All())
		return func() (serialize.Row, bool, error) {
			for {
				op, err, ok := next()
				if !ok || err != nil {
					return nil, false, err
				}
				if row := side(op); row != nil {
					return row, true, nil
				}
			}
		}, stop
	}
	after, stopAfter := stream(ofAfter)
	before, stopBefore := stream(ofBefore)
	return after, before, func() { stopAfter(); stopBefore() }, nil
}

func (s *session) rollbackTable(ctx context.Context, tr *dbrows.Translator, t *dbrows.Table, images *tableImages, fp hash.Hash) (*merge.TablePlan, error) {
	meta, table := t.Meta, t.Meta.Name
	src := dbrows.NewSource(t, tr, true)
	var tp *merge.TablePlan
	err := src.Ordered(func() error {
		after, before, stopSides, err := images.sides(meta)
		if err != nil {
			return err
		}
		defer stopSides()
		h := sha256.New()
		h.Write([]byte(table + "\n"))
		ours, stop := src.Pull(ctx, h)
		defer stop()
		if tp, err = merge.Table(meta, after, before, ours, merge.Options{}); err != nil {
			return err
		}
		fp.Write(h.Sum(nil))
		return nil
	})
	return tp, err
}

// resolve applies a resolution to a table's unresolved conflicts.
func resolve(t *merge.TablePlan, r merge.Resolution) error {
	if r == merge.Unresolved {
		return nil
	}
	var added []merge.Op
	for i := range t.Conflicts {
		c := &t.Conflicts[i]
		if c.Resolution == merge.Unresolved {
			c.Resolution = r
			if op := c.Resolved(); op != nil {
				added = append(added, *op)
			}
		}
	}
	return t.Ops.Insert(func(a, b *merge.Op) int { return t.Meta.CompareKeys(a.Row(), b.Row()) }, added...)
}
