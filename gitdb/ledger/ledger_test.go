package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	_ "github.com/gitdbsync/git-dbsync/gitdb/dialect/mysql"
	_ "github.com/gitdbsync/git-dbsync/gitdb/dialect/postgres"
	_ "github.com/gitdbsync/git-dbsync/gitdb/dialect/sqlite"
	"github.com/gitdbsync/git-dbsync/gitdb/lock"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/internal/dbtest"
)

// TestSettle is the truth table of what later entries undo: a rollback
// the apply it names; a restore every apply after the entry its backup
// was taken at, bringing back what was undone after that entry; a restore
// of an earlier version (which put the ledger itself back) nothing.
func TestSettle(t *testing.T) {
	apply := func(seq int64) Entry { return Entry{Seq: seq, Kind: KindApply, Revision: fmt.Sprintf("v%d", seq)} }
	rollback := func(seq, undoes int64) Entry { return Entry{Seq: seq, Kind: KindRollback, Undoes: undoes} }
	restore := func(seq, back int64) Entry { return Entry{Seq: seq, Kind: KindRestore, Undoes: back} }
	pull := func(seq int64) Entry { return Entry{Seq: seq, Kind: KindPull, Revision: "from prod"} }
	cases := []struct {
		name    string
		entries []Entry
		old     map[int64]bool
		undone  map[int64]int64 // seq → undone by
		current int64           // seq of Current, 0 for none
	}{
		{"applies", []Entry{apply(1), apply(2)}, nil, map[int64]int64{}, 2},
		{"rollback", []Entry{apply(1), apply(2), rollback(3, 2)}, nil, map[int64]int64{2: 3}, 1},
		{"restore undoes later applies", []Entry{apply(1), apply(2), apply(3), restore(4, 1)}, nil, map[int64]int64{2: 4, 3: 4}, 1},
		{"restore of a backup before anything", []Entry{apply(1), restore(2, 0)}, nil, map[int64]int64{1: 2}, 0},
		{"restore brings back what a later rollback undid", []Entry{apply(1), apply(2), rollback(3, 2), restore(4, 2)}, nil, map[int64]int64{}, 2},
		{"apply after a restore", []Entry{apply(1), apply(2), restore(3, 1), apply(4)}, nil, map[int64]int64{2: 3}, 4},
		{"restore of an earlier version", []Entry{apply(1), apply(2), restore(3, 0)}, map[int64]bool{3: true}, map[int64]int64{}, 2},
		{"pulls are no revision", []Entry{apply(1), pull(2)}, nil, map[int64]int64{}, 1},
		// Backups taken before each restore, put back newest first: the
		// third restore goes back to after the first, when 3 was undone.
		{"restore of a backup taken before a restore", []Entry{apply(1), apply(2), apply(3), restore(4, 2), restore(5, 3), restore(6, 4)}, nil, map[int64]int64{3: 4}, 2},
		{"restore of a backup taken before a restore that undid nothing", []Entry{apply(1), apply(2), apply(3), restore(4, 2), restore(5, 3)}, nil, map[int64]int64{}, 3},
		{"restore of a backup taken before a restore, past a rollback", []Entry{apply(1), apply(2), rollback(3, 2), apply(4), restore(5, 3), restore(6, 4)}, nil, map[int64]int64{2: 3}, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := &Ledger{Entries: slices.Clone(c.entries)}
			l.settle(c.old)
			for _, e := range l.Entries {
				if e.UndoneBy != c.undone[e.Seq] {
					t.Errorf("entry %d: undone by %d, want %d", e.Seq, e.UndoneBy, c.undone[e.Seq])
				}
			}
			var got int64
			if cur := l.Current(); cur != nil {
				got = cur.Seq
			}
			if got != c.current {
				t.Errorf("current = %d, want %d", got, c.current)
			}
		})
	}
}

// TestCommit runs changes through a Target on every engine: the entry
// and the identity commit with the data, the lock file says applied; a
// change whose write fails leaves the data, the ledger, the lock file
// and (on engines where DDL commits) the tables as they were.
func TestCommit(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			u := dbtest.NewDatabase(t, engine)
			if err := dbtest.Exec(u, "CREATE TABLE settings (name VARCHAR(50) NOT NULL PRIMARY KEY, value VARCHAR(100))"); err != nil {
				t.Fatal(err)
			}
			db, err := dialect.Open(ctx, u, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			gitDir := t.TempDir()
			before, err := dbtest.Dump(u)
			if err != nil {
				t.Fatal(err)
			}

			// A failing first change: nothing stays, not even the ledger's tables.
			tg, err := Open(ctx, db, gitDir, "prod", "apply", "v1")
			if err != nil {
				t.Fatal(err)
			}
			boom := errors.New("boom")
			path := tg.LockPath("v1")
			err = tg.Commit(ctx, change(path, "v1", func(ctx context.Context, tx dialect.Tx) error {
				if err := tx.Exec(ctx, "INSERT INTO settings VALUES ('title', 'Acme')"); err != nil {
					return err
				}
				return boom
			}))
			if !errors.Is(err, boom) {
				t.Fatalf("commit: %v, want boom", err)
			}
			tg.Close()
			if after, _ := dbtest.Dump(u); after != before {
				t.Errorf("a failed first change left the database changed:\n%s\nwas:\n%s", after, before)
			}
			if lf, _ := lock.Read(path); lf != nil {
				t.Errorf("a failed first change left its lock file: state %s", lf.State)
			}

			// A change that commits: the entry, the identity, the lock file.
			if tg, err = Open(ctx, db, gitDir, "prod", "apply", "v1"); err != nil {
				t.Fatal(err)
			}
			ch := change(path, "v1", func(ctx context.Context, tx dialect.Tx) error {
				return tx.Exec(ctx, "INSERT INTO settings VALUES ('title', 'Acme')")
			})
			if err := tg.Commit(ctx, ch); err != nil {
				t.Fatal(err)
			}
			tg.Close()
			l, err := Read(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if l.Identity == nil || l.Identity.Env != "prod" || len(l.Entries) != 1 || l.Entries[0].ID != ch.Entry.ID || l.Entries[0].Seq != 1 {
				t.Fatalf("ledger after a commit: identity %+v, entries %+v", l.Identity, l.Entries)
			}
			if lf, err := lock.Read(path); err != nil || lf == nil || lf.State != lock.Applied || lf.Apply.Ledger != 1 {
				t.Errorf("lock file after a commit: %+v, %v", lf, err)
			}

			// A second run from elsewhere that read the ledger before this
			// commit is refused as busy, writing nothing.
			stale := &Target{DB: db, Env: "prod", GitDir: gitDir, Ledger: &Ledger{}}
			err = stale.transact(ctx, change("", "v2", func(ctx context.Context, tx dialect.Tx) error {
				return tx.Exec(ctx, "UPDATE settings SET value = 'Other'")
			}))
			var busy *dialect.BusyError
			if !errors.As(err, &busy) {
				t.Errorf("a run behind the ledger: %v, want a busy error", err)
			}
			if got, _ := dbtest.Query(u, "SELECT value FROM settings"); got != "Acme\n" && got != "Acme" {
				t.Errorf("settings after a refused run: %q", got)
			}
		})
	}
}

// change is an apply of rev whose Write runs write; path "" keeps no
// lock file.
func change(path, rev string, write func(context.Context, dialect.Tx) error) *Change {
	e := &Entry{ID: lock.NewID(), Kind: KindApply, Revision: rev, Commit: "c0ffee", Env: "prod", At: time.Now().UTC(), Owner: lock.Me()}
	lf := &lock.File{Env: "prod", Revision: rev, Commit: e.Commit, State: lock.Applying, Apply: lock.Record{ID: e.ID, Owner: e.Owner, Started: e.At}}
	return &Change{Entry: e, Path: path, Lock: lf, Done: lock.Applied, Record: &lf.Apply,
		Write: func(ctx context.Context, tx dialect.Tx) ([]*merge.TablePlan, error) { return nil, write(ctx, tx) }}
}
