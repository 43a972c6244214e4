package gitdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/lock"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// ApplyOptions are the inputs of Apply.
type ApplyOptions struct {
	PlanOptions
	Baseline bool       // record the revision as applied without writing rows
	Adopt    bool       // take over a database whose identity names another environment
	Saved    *SavedPlan // apply exactly this plan (apply --plan FILE)
	// Confirm is asked, with the plan, before anything is written; nil
	// writes without asking.
	Confirm func(*Plan) (bool, error)
	Version string // recorded in the ledger
	// LockName names the lock file (default: the revision). The hooks'
	// syncs of a development database share one, "sync", instead of
	// leaving a file per commit.
	LockName string
}

// ApplyResult is what Apply (or Rollback) did.
type ApplyResult struct {
	Plan     *Plan
	Already  bool   // the target was already at the revision: nothing done
	Entry    *Entry // the ledger entry written (or, with Already, found)
	LockFile string
	Notes    []string // what was found and resolved on the way: a crashed run, a stale lock
}

// ErrDeclined is returned when Confirm says no.
var ErrDeclined = errors.New("nothing written: not confirmed")

// TargetChangedError is returned when the target changed between the plan
// and the write: nothing is written, and the plan must be made again.
type TargetChangedError struct{ Why string }

func (e *TargetChangedError) Error() string {
	return "the target changed since the plan was made (" + e.Why + "): nothing written\nhint: make the plan again"
}

// IdentityError is returned when a database belongs to another environment.
type IdentityError struct {
	Env      string
	Identity Identity
}

func (e *IdentityError) Error() string {
	return fmt.Sprintf("this database is the target of environment %q (identity %s, since %s), not %q: was it copied?\nhint: if it is now %q's database, take it over with --adopt",
		e.Identity.Env, e.Identity.ID, e.Identity.Created.Format(time.RFC3339), e.Env, e.Env)
}

// Apply merges a revision into an environment's database: plan, confirm,
// then every change, the identity and a ledger entry in one transaction,
// recorded in the revision's lock file before and after.
func (w *Workspace) Apply(ctx context.Context, opts ApplyOptions) (*ApplyResult, error) {
	if err := w.checkMerged(); err != nil {
		return nil, err
	}
	s, rev, err := w.openAt(ctx, opts.Env, opts.Revision)
	if err != nil {
		return nil, err
	}
	defer s.close()
	res := &ApplyResult{}
	release, ledger, err := s.lockEnv(ctx, "apply", rev.Name, res)
	if err != nil {
		return res, err
	}
	defer release()
	if err := checkIdentity(ledger, s.env, opts.Adopt); err != nil {
		return res, err
	}
	lockName := rev.Name
	if opts.LockName != "" {
		lockName = opts.LockName
	}
	res.LockFile = s.lockPath(lockName)
	prev, err := s.recoverLock(res, ledger)
	if err != nil {
		return res, err
	}
	if cur := ledger.Current(); cur != nil && cur.Commit == rev.Commit && !opts.Adopt {
		res.Already, res.Entry = true, cur
		return res, nil
	}
	// The plan is made before the transaction when it must be shown
	// (confirmation, a saved plan), and made again inside it: the two must
	// read the same target rows. Otherwise it is made once, inside.
	var plan *Plan
	switch {
	case opts.Baseline:
		plan = &Plan{Env: s.env, Rev: rev, Base: ledger.Current(), Identity: ledger.Identity}
	case opts.Confirm != nil || opts.Saved != nil:
		if plan, err = s.plan(ctx, s.db, rev, ledger, opts.PlanOptions); err != nil {
			return res, err
		}
		res.Plan = plan
		if opts.Saved != nil {
			if err := opts.Saved.matches(plan); err != nil {
				return res, err
			}
		}
		if plan.Unresolved() > 0 {
			return res, &ConflictError{Plan: plan}
		}
		if opts.Confirm != nil {
			if ok, err := opts.Confirm(plan); err != nil || !ok {
				return res, errors.Join(ErrDeclined, err)
			}
		}
	}
	kind := KindApply
	if opts.Baseline {
		kind = KindBaseline
	}
	entry := &Entry{ID: lock.NewID(), Kind: kind, Revision: rev.Name, Commit: rev.Commit, Env: s.env,
		At: time.Now().UTC(), Owner: lock.Me(), Version: opts.Version}
	if cur := ledger.Current(); cur != nil {
		entry.BaseCommit = cur.Commit
	}
	lf := &lock.File{Env: s.env, Revision: rev.Name, Commit: rev.Commit, BaseCommit: entry.BaseCommit, State: lock.Applying,
		Apply: lock.Record{ID: entry.ID, Owner: entry.Owner, Started: entry.At}}
	if err := s.startLock(res.LockFile, lf, prev); err != nil {
		return res, err
	}
	written, err := s.write(ctx, entry, ledger, func(ctx context.Context, tx dialect.Tx) (*Plan, error) {
		if opts.Baseline {
			return plan, nil
		}
		now, err := s.plan(ctx, tx, rev, ledger, opts.PlanOptions)
		switch {
		case err != nil:
			return nil, err
		case plan != nil && now.Fingerprint != plan.Fingerprint:
			return nil, &TargetChangedError{Why: "rows of the target were changed"}
		case now.Unresolved() > 0: // never after a plan shown: the same rows give the same merge
			return now, &ConflictError{Plan: now}
		}
		return now, nil
	}, opts.Adopt)
	if written != nil {
		res.Plan = written
	}
	if err != nil {
		s.restoreLock(res.LockFile, prev)
		return res, err
	}
	finished := time.Now().UTC()
	lf.State, lf.Target = lock.Applied, entry.Target
	lf.Apply.Finished, lf.Apply.Ledger, lf.Apply.Tables = &finished, entry.Seq, entry.Summary
	res.Entry = entry
	return res, lock.Write(res.LockFile, lf)
}

// lockEnv takes the environment's lock and reads the target's ledger.
func (s *session) lockEnv(ctx context.Context, op, rev string, res *ApplyResult) (func(), *Ledger, error) {
	gitDir, err := s.rep.CommonDir()
	if err != nil {
		return nil, nil, err
	}
	l, err := lock.LockEnv(gitDir, s.env, lock.Holder{Op: op, Revision: rev, Owner: lock.Me(), Since: time.Now().UTC()})
	if err != nil {
		return nil, nil, err
	}
	fault("after-lock")
	if l.Stale != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("removed the lock of environment %q left by %s (%s of %s), whose process is gone",
			s.env, l.Stale.Owner, l.Stale.Op, l.Stale.Revision))
	}
	ledger, err := readLedger(ctx, s.db)
	if err != nil {
		l.Release()
		return nil, nil, err
	}
	return func() { l.Release() }, ledger, nil
}

func (s *session) lockPath(rev string) string {
	gitDir, _ := s.rep.CommonDir()
	return lock.Path(gitDir, s.env, rev)
}

func checkIdentity(l *Ledger, env string, adopt bool) error {
	if l.Identity != nil && l.Identity.Env != env && !adopt {
		return &IdentityError{Env: env, Identity: *l.Identity}
	}
	return nil
}

// recoverLock reads the revision's lock file and, if a run that died left
// it "applying" or "rolling-back", settles it against the ledger, which
// tells whether that run's transaction committed. It returns the file as
// it now stands (nil when there is none).
func (s *session) recoverLock(res *ApplyResult, ledger *Ledger) (*lock.File, error) {
	lf, err := lock.Read(res.LockFile)
	if err != nil || lf == nil {
		return lf, err
	}
	var rec *lock.Record
	var done lock.State
	switch lf.State {
	case lock.Applying:
		rec, done = &lf.Apply, lock.Applied
	case lock.RollingBack:
		rec, done = lf.Rollback, lock.RolledBack
	default:
		return lf, nil
	}
	what := fmt.Sprintf("the %s of %s to %q by %s, started %s, did not finish", map[lock.State]string{lock.Applied: "apply", lock.RolledBack: "rollback"}[done],
		lf.Revision, lf.Env, rec.Owner, rec.Started.Format(time.RFC3339))
	if e := ledger.ByID(rec.ID); e != nil {
		finished := e.At
		rec.Finished, rec.Ledger, rec.Tables = &finished, e.Seq, e.Summary
		rec.Note = "recovered: the ledger shows its transaction committed"
		lf.State = done
		res.Notes = append(res.Notes, what+"; the ledger shows its transaction committed: "+res.LockFile+" now says "+string(done))
	} else {
		rec.Note = "interrupted: the ledger shows its transaction never committed; nothing of it was written"
		res.Notes = append(res.Notes, what+"; the ledger shows its transaction never committed, so nothing of it was written")
		if done == lock.Applied {
			lf.State = "interrupted"
		} else {
			lf.State, lf.Rollback = lock.Applied, nil
			res.Notes[len(res.Notes)-1] += fmt.Sprintf("; %s stays applied", lf.Revision)
		}
	}
	return lf, lock.Write(res.LockFile, lf)
}

// maxHistory bounds the earlier records a lock file keeps; the ledger in
// the target keeps them all.
const maxHistory = 20

// startLock records the intent: a new lock file is created exclusively;
// an earlier record of the same revision moves into its history.
func (s *session) startLock(path string, lf, prev *lock.File) error {
	if prev == nil {
		if err := lock.Create(path, lf); err != nil {
			return fmt.Errorf("creating the lock file: %w", err)
		}
		return nil
	}
	lf.History = append(prev.History, *prev)
	lf.History[len(lf.History)-1].History = nil
	if len(lf.History) > maxHistory {
		lf.History = lf.History[len(lf.History)-maxHistory:]
	}
	return lock.Write(path, lf)
}

// restoreLock puts the lock file back as it was when nothing committed.
func (s *session) restoreLock(path string, prev *lock.File) {
	if prev == nil {
		os.Remove(path)
		return
	}
	lock.Write(path, prev)
}

// write makes a plan's changes in one transaction: under the write lock,
// planFn makes the plan (or proves the one shown still holds), then the
// rows, the identity and the ledger entry are written and committed. It
// returns the plan written.
func (s *session) write(ctx context.Context, entry *Entry, ledger *Ledger,
	planFn func(context.Context, dialect.Tx) (*Plan, error), adopt bool) (*Plan, error) {
	ddlCommits := false
	if d, ok := s.db.(dialect.DDLCommits); ok {
		ddlCommits = d.DDLCommits()
	}
	if ddlCommits {
		// DDL would commit the apply's transaction half-way: create
		// the (empty) ledger tables in a transaction of their own first.
		tx, err := s.db.Begin(ctx)
		if err != nil {
			return nil, err
		}
		if err := ensureLedger(ctx, s.db, tx); err != nil {
			tx.Rollback()
			return nil, err
		}
		if err := tx.Commit(); err != nil {
			return nil, err
		}
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
		}
	}()
	fault("after-begin")
	if !ddlCommits {
		if err := ensureLedger(ctx, s.db, tx); err != nil {
			return nil, err
		}
	}
	now, err := readLedger(ctx, tx)
	if err != nil {
		return nil, err
	}
	if len(now.Entries) != len(ledger.Entries) {
		return nil, &TargetChangedError{Why: "another apply or rollback was recorded in its ledger"}
	}
	plan, err := planFn(ctx, tx)
	if err != nil {
		return plan, err
	}
	id := ledger.Identity
	if id == nil || adopt {
		if id == nil {
			id = &Identity{ID: lock.NewID(), Created: entry.At}
		}
		id = &Identity{ID: id.ID, Env: s.env, Created: id.Created}
		if err := writeIdentity(ctx, tx, id); err != nil {
			return plan, err
		}
	}
	entry.Target = id.ID
	images, summary, maxID, err := writeOps(ctx, tx, plan)
	if err != nil {
		return plan, err
	}
	if err := advanceCounters(ctx, tx, plan, maxID); err != nil {
		return plan, err
	}
	entry.Seq, entry.Summary, entry.Tables = ledger.nextSeq(), summary, map[string]json.RawMessage{}
	for _, t := range plan.Tables {
		meta, err := t.Meta.MarshalMeta()
		if err != nil {
			return plan, err
		}
		entry.Tables[t.Meta.Name] = meta
	}
	if err := writeEntry(ctx, tx, entry, images); err != nil {
		return plan, err
	}
	fault("before-commit")
	if err := tx.Commit(); err != nil {
		return plan, err
	}
	committed = true
	fault("after-commit")
	return plan, nil
}

// writeOps writes the ops of every table, in batches: deletes first,
// children before parents; then inserts and updates (grouped by the
// columns they change), parents before children. Every row is translated
// into the database's form before the first write, so that a reference
// nothing can satisfy fails the apply with nothing written; after the
// writes, the references .dbsync declares are checked. It returns the
// row images for the ledger, the counts per table and the largest id it
// allocated.
func writeOps(ctx context.Context, tx dialect.Tx, plan *Plan) ([]image, map[string]lock.Counts, int64, error) {
	tables := plan.Tables
	maxID, err := allocateIDs(ctx, tx, plan)
	if err != nil {
		return nil, nil, 0, err
	}
	writes := make([]*dbTable, len(tables))
	for i, t := range tables {
		if writes[i], err = plan.tr.dbTable(ctx, t); err != nil {
			return nil, nil, 0, err
		}
	}
	var images []image
	counts := map[string]lock.Counts{}
	for _, t := range tables {
		meta := t.Meta
		c := counts[meta.Name]
		for j := range t.Ops {
			op := &t.Ops[j]
			im := image{Table: meta.Name, Op: string(op.Kind)}
			if op.Before != nil {
				im.Before = meta.AppendLine(nil, op.Before)
			}
			if op.After != nil {
				im.After = meta.AppendLine(nil, op.After)
			}
			images = append(images, im)
			switch op.Kind {
			case merge.Insert:
				c.Inserted++
			case merge.Update:
				c.Updated++
			case merge.Delete:
				c.Deleted++
			}
		}
		for k := range t.Conflicts {
			if t.Conflicts[k].Resolution != merge.Unresolved {
				c.Conflicts++
			}
		}
		if c != (lock.Counts{}) {
			counts[meta.Name] = c
		}
	}
	fail := func(w *dbTable, kind merge.Kind, err error) error {
		return fmt.Errorf("gitdb/apply: table %q: %s: %w", w.name, kind, err)
	}
	for i := len(writes) - 1; i >= 0; i-- {
		if w := writes[i]; len(w.deletes) > 0 {
			if err := tx.Delete(ctx, w.name, w.keyCols, w.deletes); err != nil {
				return nil, nil, 0, fail(w, merge.Delete, err)
			}
		}
	}
	fault("mid-write")
	for _, w := range writes {
		if len(w.inserts) > 0 {
			if err := tx.Insert(ctx, w.name, w.insertCols, w.inserts); err != nil {
				return nil, nil, 0, fail(w, merge.Insert, err)
			}
		}
		for _, g := range w.updates {
			if err := tx.Update(ctx, w.name, w.keyCols, g.keys, g.cols, g.vals); err != nil {
				return nil, nil, 0, fail(w, merge.Update, err)
			}
		}
	}
	if err := checkDeclaredRefs(ctx, tx, plan.cfg, deletedKeys(writes)); err != nil {
		return nil, nil, 0, err
	}
	return images, counts, maxID, nil
}

// deletedKeys lists, per table with a one-column key, the keys (as the
// database holds them) of the rows the writes delete.
func deletedKeys(writes []*dbTable) map[string][]serialize.Cell {
	out := map[string][]serialize.Cell{}
	for _, w := range writes {
		if len(w.keyCols) != 1 {
			continue
		}
		for _, k := range w.deletes {
			out[w.name] = append(out[w.name], k[0])
		}
	}
	return out
}

// allocateIDs gives every row a natural-keyed table inserts a new id of
// the target, before any row is translated: references to rows inserted
// by the same apply (parents, self-references, cycles) then resolve.
func allocateIDs(ctx context.Context, tx dialect.Tx, plan *Plan) (int64, error) {
	var maxID int64
	for _, t := range plan.Tables {
		if t.Meta.Surrogate == "" {
			continue
		}
		var keys []string
		for j := range t.Ops {
			if t.Ops[j].Kind == merge.Insert {
				keys = append(keys, natKey(t.Meta, t.Ops[j].After))
			}
		}
		if len(keys) == 0 {
			continue
		}
		km, err := plan.tr.keyMap(ctx, t.Meta.Name)
		if err != nil {
			return 0, err
		}
		ids, err := tx.NextIDs(ctx, t.Meta.Name, t.Meta.Surrogate, len(keys))
		if err != nil {
			return 0, fmt.Errorf("gitdb/apply: table %q: allocating ids: %w", t.Meta.Name, err)
		}
		for j, key := range keys {
			km.byKey[key], km.byID[ids[j]] = ids[j], key
			maxID = max(maxID, ids[j])
		}
	}
	return maxID, nil
}

// dbTable is one table's writes in the database's form.
type dbTable struct {
	name       string
	keyCols    []serialize.Column
	deletes    [][]serialize.Cell
	insertCols []serialize.Column
	inserts    [][]serialize.Cell
	updates    []*updateGroup
}

// updateGroup is the updates that change the same columns.
type updateGroup struct {
	cols       []serialize.Column
	keys, vals [][]serialize.Cell
}

// dbTable translates a table's ops into the database's form.
func (tr *translator) dbTable(ctx context.Context, tp *merge.TablePlan) (*dbTable, error) {
	meta := tp.Meta
	t := tr.tables[meta.Name]
	w := &dbTable{name: meta.Name}
	idCol := serialize.Column{Name: meta.Surrogate, Type: serialize.Int}
	if meta.Surrogate != "" {
		w.keyCols = []serialize.Column{idCol}
		w.insertCols = append(w.insertCols, idCol)
	} else {
		for _, k := range meta.KeyIndexes() {
			w.keyCols = append(w.keyCols, t.mapping[k].db)
		}
	}
	for i, c := range meta.Columns {
		if !c.Secret { // never written: the target keeps its own
			w.insertCols = append(w.insertCols, t.mapping[i].db)
		}
	}
	key := func(r serialize.Row) ([]serialize.Cell, error) {
		if meta.Surrogate != "" {
			id, ok, err := tr.idOf(ctx, meta.Name, natKey(meta, r))
			if err == nil && !ok {
				err = fmt.Errorf("row %s is not in the target", describeKey(meta, r))
			}
			return []serialize.Cell{serialize.Cell(strconv.FormatInt(id, 10))}, err
		}
		cells := make([]serialize.Cell, 0, len(meta.Key))
		for _, k := range meta.KeyIndexes() {
			c, err := tr.cellToDB(ctx, t, k, r, nil)
			if err != nil {
				return nil, err
			}
			cells = append(cells, c)
		}
		return cells, nil
	}
	byCols := map[string]*updateGroup{}
	for j := range tp.Ops {
		op := &tp.Ops[j]
		switch op.Kind {
		case merge.Delete:
			k, err := key(op.Before)
			if err != nil {
				return nil, err
			}
			w.deletes = append(w.deletes, k)
		case merge.Insert:
			var row []serialize.Cell
			if meta.Surrogate != "" {
				k, err := key(op.After)
				if err != nil {
					return nil, err
				}
				row = append(row, k[0])
			}
			for i, c := range meta.Columns {
				if c.Secret {
					continue
				}
				cell, err := tr.cellToDB(ctx, t, i, op.After, nil)
				if err != nil {
					return nil, err
				}
				row = append(row, cell)
			}
			w.inserts = append(w.inserts, row)
		case merge.Update:
			k, err := key(op.After)
			if err != nil {
				return nil, err
			}
			kept := tr.kept[meta.Name][meta.KeyOf(op.After)]
			var cols []serialize.Column
			var vals []serialize.Cell
			for _, i := range op.Changed() {
				if meta.Columns[i].Secret {
					continue
				}
				var was serialize.Cell
				if kept != nil {
					was = kept[i]
				}
				cell, err := tr.cellToDB(ctx, t, i, op.After, was)
				if err != nil {
					return nil, err
				}
				cols, vals = append(cols, t.mapping[i].db), append(vals, cell)
			}
			if len(cols) == 0 {
				continue
			}
			id := fmt.Sprint(op.Changed())
			g := byCols[id]
			if g == nil {
				g = &updateGroup{cols: cols}
				byCols[id] = g
				w.updates = append(w.updates, g)
			}
			g.keys, g.vals = append(g.keys, k), append(g.vals, vals)
		}
	}
	return w, nil
}

// advanceCounters raises the counter of every table of class sequence
// (one integer column, as Drupal 7's sequences) to at least the largest
// integer id the apply inserted, so that the application's next id does
// not collide with one the apply wrote. Engine sequences behind serial and
// identity columns are the dialects' business.
func advanceCounters(ctx context.Context, tx dialect.Tx, plan *Plan, allocated int64) error {
	max := allocated
	for _, t := range plan.Tables {
		if len(t.Meta.Key) != 1 || t.Meta.Columns[t.Meta.KeyIndexes()[0]].Type != serialize.Int {
			continue
		}
		for _, op := range t.Ops {
			if op.Kind == merge.Insert {
				if n, err := strconv.ParseInt(string(op.After[t.Meta.KeyIndexes()[0]]), 10, 64); err == nil && n > max {
					max = n
				}
			}
		}
	}
	if max == 0 {
		return nil
	}
	for _, name := range plan.Sequences {
		desc, err := tx.Describe(ctx, name)
		if err != nil {
			return err
		}
		var ints []string
		for _, c := range desc.Columns {
			if c.Type == serialize.Int {
				ints = append(ints, c.Name)
			}
		}
		if len(ints) != 1 {
			continue // not a plain counter: left alone
		}
		if err := tx.RaiseTo(ctx, name, ints[0], max); err != nil {
			return fmt.Errorf("gitdb/apply: advancing the counter %q.%q: %w", name, ints[0], err)
		}
	}
	return nil
}

func rowOf(op *merge.Op) serialize.Row {
	if op.After != nil {
		return op.After
	}
	return op.Before
}

func keyColumns(meta *serialize.Table) []serialize.Column {
	cols := make([]serialize.Column, len(meta.Key))
	for i, k := range meta.KeyIndexes() {
		cols[i] = meta.Columns[k]
	}
	return cols
}

func keyCells(meta *serialize.Table, r serialize.Row) []serialize.Cell {
	cells := make([]serialize.Cell, len(meta.Key))
	for i, k := range meta.KeyIndexes() {
		cells[i] = r[k]
	}
	return cells
}

// fault kills the process at a named point when $DBSYNC_FAULT names it,
// as a power cut would, and pauses there for two seconds when
// $DBSYNC_PAUSE names it. The crash and concurrency tests use them to stop
// an apply exactly there; unset, they do nothing.
func fault(point string) {
	if os.Getenv("DBSYNC_PAUSE") == point {
		time.Sleep(2 * time.Second)
	}
	if os.Getenv("DBSYNC_FAULT") == point {
		if self, err := os.FindProcess(os.Getpid()); err == nil {
			self.Kill() // SIGKILL: no deferred function runs, as in a power cut
		}
		select {}
	}
}
