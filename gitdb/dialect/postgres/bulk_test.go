package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/internal/dbtest"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// A batch of deletes or updates staged in a temporary table reaches the
// table's rows through its key's index, even on a table just loaded,
// whose missing statistics made the planner scan the whole table for each
// batch (seen through the transaction's own, exact, counters); and the
// join settings are the transaction's again afterwards.
func TestBulkWritesUseTheKey(t *testing.T) {
	url := dbtest.NewDatabase(t, "postgres")
	if err := dbtest.Exec(url, `CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO items SELECT i, 'n' || i FROM generate_series(1, 50000) i;`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := Open(ctx, url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	key := []serialize.Column{{Name: "id", Type: serialize.Int}}
	var keys, values [][]serialize.Cell
	for i := range 2 * bulkRows { // a batch of each, of the size that is staged
		keys = append(keys, []serialize.Cell{serialize.Cell(fmt.Sprint(3*i + 1))})
		values = append(values, []serialize.Cell{serialize.AppendString(nil, "changed")})
	}
	if err := tx.Delete(ctx, "items", key, keys[:bulkRows]); err != nil {
		t.Fatal(err)
	}
	if err := tx.Update(ctx, "items", key, keys[bulkRows:], []serialize.Column{{Name: "name", Type: serialize.Text}}, values[bulkRows:]); err != nil {
		t.Fatal(err)
	}
	var scans, settings string
	err = tx.Query(ctx, `SELECT seq_scan, current_setting('enable_hashjoin') || current_setting('enable_mergejoin')
FROM pg_stat_xact_user_tables WHERE relname = 'items'`, nil, func(v []any) error {
		scans, settings = fmt.Sprint(v[0]), fmt.Sprint(v[1])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scans != "0" || settings != "onon" {
		t.Errorf("the writes scanned the table %s times; join settings after them: %s", scans, settings)
	}
	if n, _ := dbtest.Query(url, "SELECT count(*) FROM items"); strings.TrimSpace(n) != "50000" {
		t.Errorf("another session sees %s rows before the commit", n)
	}
}
