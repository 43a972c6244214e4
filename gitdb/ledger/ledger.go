// Package ledger keeps what a target database records about itself: its
// identity (dbsync_identity) and the history of applies, baselines and
// rollbacks with the before and after image of every row changed
// (dbsync_ledger, dbsync_ledger_rows). It also runs a change's life: the
// environment lock, the settling of a run that crashed, and one
// transaction that writes the change and its ledger entry together, with
// the per-tag lock file saying "applying" before and "applied" after.
//
// Contract: the ledger entry commits with the data or not at all, so the
// ledger tells whether any run's transaction committed.
package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/lock"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/gitdb/steps"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// The tables git dbsync keeps in a target. Their names start with
// config.ReservedPrefix, so that export never exports them.
const (
	identityTable   = "dbsync_identity" // config.OwnTables lists these
	ledgerTable     = "dbsync_ledger"
	ledgerRowsTable = "dbsync_ledger_rows"
)

// ledgerDDL returns the statements that create them; the types are
// portable across engines but for long text (MySQL's TEXT holds 64 KB).
// imagesKey is the row images' key clause (", PRIMARY KEY (seq, n)"),
// "" where the engine indexes them otherwise (see appendIndexer).
func ledgerDDL(longText, imagesKey string) []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + identityTable + ` (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  env VARCHAR(255) NOT NULL,
  created_at VARCHAR(40) NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS ` + ledgerTable + ` (
  seq BIGINT NOT NULL PRIMARY KEY,
  id VARCHAR(64) NOT NULL UNIQUE,
  kind VARCHAR(16) NOT NULL,
  revision VARCHAR(255) NOT NULL,
  commit_id VARCHAR(64) NOT NULL,
  base_commit VARCHAR(64),
  undoes BIGINT,
  env VARCHAR(255) NOT NULL,
  applied_at VARCHAR(40) NOT NULL,
  user_name VARCHAR(255) NOT NULL,
  host VARCHAR(255) NOT NULL,
  tool_version VARCHAR(64) NOT NULL,
  summary ` + longText + ` NOT NULL,
  table_meta ` + longText + ` NOT NULL,
  images_sha256 VARCHAR(64),
  note ` + longText + `,
  steps ` + longText + `)`,
		`CREATE TABLE IF NOT EXISTS ` + ledgerRowsTable + ` (
  seq BIGINT NOT NULL,
  n BIGINT NOT NULL,
  tbl VARCHAR(255) NOT NULL,
  op VARCHAR(8) NOT NULL,
  before_image ` + longText + `,
  after_image ` + longText + imagesKey + `)`,
	}
}

// Ledger entry kinds.
const (
	KindApply    = "apply"
	KindBaseline = "baseline" // recorded as applied without writing rows
	KindRollback = "rollback"
	KindPull     = "pull" // rows copied from another environment (Revision names it), no revision
	// KindRestore is a backup put back. Its Undoes is the last entry the
	// ledger held when the backup was taken: every apply recorded after
	// that one is undone by the restore (and every rollback after it
	// undone too), while the entries themselves stay, so the history
	// only grows.
	KindRestore = "restore"
)

// Identity marks a database as the target of one environment.
type Identity struct {
	ID      string
	Env     string
	Created time.Time
}

// Entry is one apply, baseline or rollback recorded in a target.
type Entry struct {
	Seq        int64
	ID         string
	Kind       string
	Revision   string
	Commit     string
	BaseCommit string
	Undoes     int64 // rollback: the seq of the apply it undid; restore: the last seq of the ledger it goes back to
	Env        string
	At         time.Time
	Owner      lock.Owner
	Version    string
	Summary    map[string]lock.Counts
	Tables     map[string]json.RawMessage // each table's table.json as applied
	UndoneBy   int64                      // set when a later rollback undid it
	ImagesSum  string                     // checksum of its row images ("" before checksums)
	Note       string                     // what was overridden for it (apply --skip-requires)
	Steps      []steps.Result             // the deploy's steps around it, as they went
	Target     string                     // the target's identity (not stored: the ledger is in the target)
}

// Ledger is what a target records: its identity and history.
type Ledger struct {
	Identity *Identity
	Entries  []Entry // oldest first
}

// Current returns the entry whose revision the target is at: the last
// apply or baseline not undone by a rollback; nil when there is none.
func (l *Ledger) Current() *Entry {
	for i := len(l.Entries) - 1; i >= 0; i-- {
		e := &l.Entries[i]
		if (e.Kind == KindApply || e.Kind == KindBaseline) && e.UndoneBy == 0 {
			return e
		}
	}
	return nil
}

// ByID returns the entry with an id, or nil.
func (l *Ledger) ByID(id string) *Entry {
	for i := range l.Entries {
		if l.Entries[i].ID == id {
			return &l.Entries[i]
		}
	}
	return nil
}

// LastApplyOf returns the last apply not undone whose revision name or
// commit is rev; nil when there is none.
func (l *Ledger) LastApplyOf(rev string) *Entry {
	for i := len(l.Entries) - 1; i >= 0; i-- {
		e := &l.Entries[i]
		if e.Kind == KindApply && e.UndoneBy == 0 && (e.Revision == rev || e.Commit == rev) {
			return e
		}
	}
	return nil
}

func (l *Ledger) nextSeq() int64 {
	if len(l.Entries) == 0 {
		return 1
	}
	return l.Entries[len(l.Entries)-1].Seq + 1
}

// Read reads a target's identity and ledger; a database without
// them has an empty ledger.
func Read(ctx context.Context, db dialect.Reader) (*Ledger, error) {
	tables, err := db.Tables(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		if config.Reserved(t) && !slices.Contains(config.OwnTables, t) {
			return nil, fmt.Errorf("table %q has a name git dbsync reserves for its own tables (dbsync_*, whatever the case): rename it", t)
		}
	}
	l := &Ledger{}
	if slices.Contains(tables, identityTable) {
		err := db.Query(ctx, "SELECT id, env, created_at FROM "+identityTable, nil, func(v []any) error {
			l.Identity = &Identity{ID: text(v[0]), Env: text(v[1]), Created: parseTime(text(v[2]))}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", identityTable, err)
		}
	}
	if !slices.Contains(tables, ledgerTable) {
		return l, nil
	}
	// Ledgers written before images_sha256, note and steps existed lack them.
	later := "NULL, NULL, NULL"
	if desc, err := db.Describe(ctx, ledgerTable); err == nil {
		later = column(desc, "images_sha256") + ", " + column(desc, "note") + ", " + column(desc, "steps")
	}
	oldRestores := map[int64]bool{}
	err = db.Query(ctx, `SELECT seq, id, kind, revision, commit_id, base_commit, undoes, env, applied_at, user_name, host, tool_version, summary, table_meta, `+later+`
FROM `+ledgerTable+` ORDER BY seq`, nil, func(v []any) error {
		e := Entry{Seq: integer(v[0]), ID: text(v[1]), Kind: text(v[2]), Revision: text(v[3]), Commit: text(v[4]),
			BaseCommit: text(v[5]), Undoes: integer(v[6]), Env: text(v[7]), At: parseTime(text(v[8])),
			Owner: lock.Owner{User: text(v[9]), Host: text(v[10])}, Version: text(v[11]), ImagesSum: text(v[14]), Note: text(v[15])}
		if e.Kind == KindRestore && v[6] == nil {
			oldRestores[e.Seq] = true
		}
		if err := json.Unmarshal([]byte(text(v[12])), &e.Summary); err != nil {
			return fmt.Errorf("entry %d: summary: %w", e.Seq, err)
		}
		if err := json.Unmarshal([]byte(text(v[13])), &e.Tables); err != nil {
			return fmt.Errorf("entry %d: tables: %w", e.Seq, err)
		}
		if st := text(v[16]); st != "" {
			if err := json.Unmarshal([]byte(st), &e.Steps); err != nil {
				return fmt.Errorf("entry %d: steps: %w", e.Seq, err)
			}
		}
		l.Entries = append(l.Entries, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ledgerTable, err)
	}
	l.settle(oldRestores)
	return l, nil
}

// settle marks, oldest first, the entries later ones undid: the apply a
// rollback undid, and everything a restore took the database back
// before. A restore puts back the state the ledger had when its backup
// was taken, as that state was then: an entry a restore since brought
// back is undone again by a restore of an older backup. oldRestores are
// restores made before restores kept the ledger (they put back the
// ledger itself): nothing after them needs undoing.
func (l *Ledger) settle(oldRestores map[int64]bool) {
	// The states restores go back to: what undid each entry, as of the
	// entry its backup was taken at.
	states := map[int64]map[int64]int64{}
	for _, e := range l.Entries {
		if e.Kind == KindRestore && !oldRestores[e.Seq] {
			states[e.Undoes] = nil
		}
	}
	keep := func(at int64) {
		if _, wanted := states[at]; wanted {
			undone := map[int64]int64{}
			for _, x := range l.Entries {
				if x.Seq <= at && x.UndoneBy != 0 {
					undone[x.Seq] = x.UndoneBy
				}
			}
			states[at] = undone
		}
	}
	keep(0)
	for _, e := range l.Entries {
		switch {
		case e.Kind == KindRollback:
			for i := range l.Entries {
				if l.Entries[i].Seq == e.Undoes {
					l.Entries[i].UndoneBy = e.Seq
				}
			}
		case e.Kind == KindRestore && !oldRestores[e.Seq]:
			back := states[e.Undoes]
			for i := range l.Entries {
				x := &l.Entries[i]
				switch {
				case x.Seq >= e.Seq:
				case x.Seq <= e.Undoes:
					x.UndoneBy = back[x.Seq] // as it was when the backup was taken
				case (x.Kind == KindApply || x.Kind == KindBaseline) && x.UndoneBy == 0:
					x.UndoneBy = e.Seq // made after the backup: gone with the restore
				}
			}
		}
		keep(e.Seq)
	}
}

// column selects a column a ledger of an earlier version may lack.
func column(desc *dialect.Table, name string) string {
	if desc.Column(name) == nil {
		return "NULL"
	}
	return name
}

// Image is a row as the ledger keeps it: the canonical line of the row.
type Image struct {
	Table         string
	Op            string
	Before, After []byte // nil where the row is absent
}

// EachImage calls fn with each before and after image an entry recorded,
// in order, and proves they are those it recorded: a rollback restores
// before-images only as the apply recorded them, never ones changed in
// the table since. fn must not keep the image's bytes.
func (e *Entry) EachImage(ctx context.Context, db dialect.Reader, fn func(Image) error) error {
	sum := newImageSum()
	err := db.Query(ctx, "SELECT tbl, op, before_image, after_image FROM "+ledgerRowsTable+" WHERE seq = ? ORDER BY n",
		[]any{e.Seq}, func(v []any) error {
			im := Image{Table: text(v[0]), Op: text(v[1])}
			if v[2] != nil {
				im.Before = []byte(text(v[2]))
			}
			if v[3] != nil {
				im.After = []byte(text(v[3]))
			}
			sum.add(im)
			return fn(im)
		})
	if err != nil {
		return err
	}
	if e.ImagesSum != "" && sum.String() != e.ImagesSum { // "": recorded before checksums existed
		return fmt.Errorf("the row images of ledger entry %d in %s were changed after git dbsync recorded them: refusing to roll back with them", e.Seq, ledgerRowsTable)
	}
	return nil
}

// writeEntry records an entry and the row images of the tables its change
// wrote, in the transaction that makes the changes, so that both commit
// or neither does. The images go through the engine's batched (or bulk)
// insert a chunk at a time, made from the ops as they go (one statement
// per image, all held at once, made a first apply of 200,000 rows spend
// most of its time and memory here); their checksum goes in the entry,
// written last.
func writeEntry(ctx context.Context, tx dialect.Tx, e *Entry, tables []*merge.TablePlan) error {
	const chunk = 10000
	seq := serialize.Cell(strconv.FormatInt(e.Seq, 10))
	text := func(s []byte) serialize.Cell {
		if s == nil {
			return serialize.NullCell
		}
		return serialize.AppendString(nil, string(s))
	}
	sum := newImageSum()
	rows := make([][]serialize.Cell, 0, chunk)
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		if err := tx.Insert(ctx, ledgerRowsTable, imageColumns, rows); err != nil {
			return fmt.Errorf("writing the ledger: %w", err)
		}
		rows = rows[:0]
		return nil
	}
	n := 0
	for _, t := range tables {
		for op, err := range t.Ops.All() {
			if err != nil {
				return err
			}
			im := imageOf(t.Meta, op)
			sum.add(im)
			rows = append(rows, []serialize.Cell{seq, serialize.Cell(strconv.Itoa(n)), text([]byte(im.Table)), text([]byte(im.Op)), text(im.Before), text(im.After)})
			n++
			if len(rows) == chunk {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	e.ImagesSum = sum.String()
	summary, err := json.Marshal(e.Summary)
	if err != nil {
		return err
	}
	metas, err := json.Marshal(e.Tables)
	if err != nil {
		return err
	}
	var undoes any
	if e.Undoes != 0 || e.Kind == KindRestore {
		undoes = e.Undoes
	}
	var base, note any
	if e.BaseCommit != "" {
		base = e.BaseCommit
	}
	if e.Note != "" {
		note = e.Note
	}
	stepsJSON, err := stepsValue(e.Steps)
	if err != nil {
		return err
	}
	err = tx.Exec(ctx, "INSERT INTO "+ledgerTable+` (seq, id, kind, revision, commit_id, base_commit, undoes, env, applied_at, user_name, host, tool_version, summary, table_meta, images_sha256, note, steps)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.ID, e.Kind, e.Revision, e.Commit, base, undoes, e.Env, e.At.UTC().Format(time.RFC3339Nano),
		e.Owner.User, e.Owner.Host, e.Version, string(summary), string(metas), e.ImagesSum, note, stepsJSON)
	if err != nil {
		return fmt.Errorf("writing the ledger: %w", err)
	}
	return nil
}

// stepsValue is the steps column's value: JSON, or NULL for none.
func stepsValue(st []steps.Result) (any, error) {
	if len(st) == 0 {
		return nil, nil
	}
	data, err := json.Marshal(st)
	return string(data), err
}

// RecordSteps records the steps of a change that ran after it committed
// (checks, after): in its ledger entry, in a transaction of their own.
func RecordSteps(ctx context.Context, db dialect.Dialect, seq int64, st []steps.Result) error {
	value, err := stepsValue(st)
	if err != nil {
		return err
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	if err := tx.Exec(ctx, "UPDATE "+ledgerTable+" SET steps = ? WHERE seq = ?", value, seq); err != nil {
		tx.Rollback()
		return fmt.Errorf("recording the steps in the ledger: %w", err)
	}
	return tx.Commit()
}

// imageOf is the ledger's image of an op: the rows before and after, as
// lines.
func imageOf(meta *serialize.Table, op *merge.Op) Image {
	im := Image{Table: meta.Name, Op: string(op.Kind)}
	if op.Before != nil {
		im.Before = meta.AppendLine(nil, op.Before)
	}
	if op.After != nil {
		im.After = meta.AppendLine(nil, op.After)
	}
	return im
}

// imageColumns are the columns of the ledger's row images.
var imageColumns = []serialize.Column{{Name: "seq", Type: serialize.Int}, {Name: "n", Type: serialize.Int},
	{Name: "tbl", Type: serialize.Text}, {Name: "op", Type: serialize.Text},
	{Name: "before_image", Type: serialize.Text, Nullable: true}, {Name: "after_image", Type: serialize.Text, Nullable: true}}

// writeIdentity records (or, adopting, replaces) the target's identity.
func writeIdentity(ctx context.Context, tx dialect.Tx, id *Identity) error {
	if err := tx.Exec(ctx, "DELETE FROM "+identityTable); err != nil {
		return err
	}
	return tx.Exec(ctx, "INSERT INTO "+identityTable+" (id, env, created_at) VALUES (?, ?, ?)",
		id.ID, id.Env, id.Created.UTC().Format(time.RFC3339Nano))
}

// laterColumns are the columns of dbsync_ledger that earlier versions
// lacked.
var laterColumns = []string{"images_sha256", "note", "steps"}

// longTexter is implemented by engines whose TEXT is too short for row
// images.
type longTexter interface{ LongText() string }

// appendIndexer is implemented by engines with an index for a table only
// ever appended to in the order of a column, cheaper to keep than a
// primary key: the row images get it on seq instead of a primary key on
// (seq, n). Rows are read by seq and ordered by n; nothing but git
// dbsync writes them, one entry's once, and its checksum covers them.
type appendIndexer interface {
	AppendIndex(table, column string) string
}

// ensure creates the ledger tables, and adds the columns of later
// versions to an earlier version's. have lists the tables the database
// has (nil: not known): those are not created again. On MariaDB Galera
// even a CREATE TABLE IF NOT EXISTS of a table that exists runs on every
// node, in total order, and aborts the transactions of other nodes that
// use the table: another run's change, through another node.
func ensure(ctx context.Context, db dialect.Dialect, tx dialect.Tx, have []string) error {
	longText := "TEXT"
	if l, ok := db.(longTexter); ok {
		longText = l.LongText()
	}
	imagesKey := ",\n  PRIMARY KEY (seq, n)"
	ai, ok := db.(appendIndexer)
	if ok {
		imagesKey = ""
	}
	for i, ddl := range ledgerDDL(longText, imagesKey) {
		table := []string{identityTable, ledgerTable, ledgerRowsTable}[i]
		if have != nil && slices.Contains(have, table) {
			continue
		}
		if err := tx.Exec(ctx, ddl); err != nil {
			return fmt.Errorf("creating the ledger tables: %w", err)
		}
		if table == ledgerRowsTable && ok {
			if err := tx.Exec(ctx, ai.AppendIndex(ledgerRowsTable, "seq")); err != nil {
				return fmt.Errorf("creating the ledger tables: %w", err)
			}
		}
	}
	// A ledger of an earlier version gains the columns added since.
	desc, err := tx.Describe(ctx, ledgerTable)
	for _, c := range []struct{ name, ddl string }{{laterColumns[0], "VARCHAR(64)"}, {laterColumns[1], longText}, {laterColumns[2], longText}} {
		if err == nil && desc.Column(c.name) == nil {
			err = tx.Exec(ctx, "ALTER TABLE "+ledgerTable+" ADD COLUMN "+c.name+" "+c.ddl)
		}
	}
	if err != nil {
		return fmt.Errorf("upgrading the ledger tables: %w", err)
	}
	return nil
}

// imageSum is the checksum of an entry's images, made as they are written
// and again as they are read back.
type imageSum struct{ h hash.Hash }

func newImageSum() imageSum { return imageSum{sha256.New()} }

func (s imageSum) add(im Image) {
	field := func(b []byte, present bool) {
		if !present {
			s.h.Write([]byte{0})
			return
		}
		fmt.Fprintf(s.h, "%d:", len(b))
		s.h.Write(b)
	}
	field([]byte(im.Table), true)
	field([]byte(im.Op), true)
	field(im.Before, im.Before != nil)
	field(im.After, im.After != nil)
}

func (s imageSum) String() string { return hex.EncodeToString(s.h.Sum(nil)) }

// MetaOf returns the table metadata an entry recorded for a table.
func (e *Entry) MetaOf(table string) (*serialize.Table, error) {
	raw, ok := e.Tables[table]
	if !ok {
		return nil, fmt.Errorf("ledger entry %d has no metadata for table %q", e.Seq, table)
	}
	return serialize.UnmarshalMeta(raw)
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

func integer(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case nil:
		return 0
	}
	n, _ := strconv.ParseInt(text(v), 10, 64)
	return n
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}
