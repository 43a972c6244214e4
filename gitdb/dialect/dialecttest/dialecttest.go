// Package dialecttest is the conformance suite every dialect must pass,
// run against a real server: catalog and logical types, keys and foreign
// keys, rows in the files' order whatever the collation, batched writes
// that refuse missing rows, transactions that commit whole or not at all,
// deferred foreign keys, loads that neither enforce nor cascade them until
// their commit checks them, the database lock, hostile identifiers, and
// the preflight that says whether the database takes writes.
//
// A dialect's own test calls Run with its engine's name.
package dialecttest

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/internal/dbtest"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// schema is the suite's tables; "<BT>" stands for a backtick, which a Go
// raw string cannot hold.
var schema = strings.ReplaceAll(`
CREATE TABLE every_type (
  id ${BIGINT} PRIMARY KEY, i INTEGER, f ${DOUBLE}, d DECIMAL(10,2), s VARCHAR(200), t ${TEXT}, b ${BLOB}, ok BOOLEAN,
  day DATE, tod ${TIME}, ts ${DATETIME}, tz ${TIMESTAMPTZ}, j ${JSON}, u UUID,
  twice INTEGER GENERATED ALWAYS AS (i * 2) ${GENERATED}
);
CREATE TABLE parent (id INTEGER PRIMARY KEY, code VARCHAR(20) NOT NULL UNIQUE);
CREATE TABLE counted (id ${AUTOID}, name VARCHAR(20));
CREATE TABLE follower (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL, FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE);
CREATE TABLE child (
  id INTEGER PRIMARY KEY, parent_id INTEGER,
  CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ${DEFERRABLE}
);
CREATE TABLE ${Q:we"ird<BT> Name} (
  ${Q:Key} VARCHAR(50) NOT NULL, ${Q:select} INTEGER NOT NULL, ${Q:val ue"<BT>} VARCHAR(50),
  PRIMARY KEY (${Q:Key}, ${Q:select})
);
`, "<BT>", "`")

// Run runs the suite on a fresh database of the engine.
func Run(t *testing.T, engine string) {
	ctx := context.Background()
	url := dbtest.NewDatabase(t, engine)
	if err := dbtest.Exec(url, dbtest.Render(schema, engine)); err != nil {
		t.Fatalf("schema: %v", err)
	}
	open := func(t *testing.T) dialect.Dialect {
		db, err := dialect.Open(ctx, url, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	db := open(t)
	weird := "we\"ird` Name"
	t.Run("catalog", func(t *testing.T) {
		tables, err := db.Tables(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"child", "counted", "every_type", "follower", "parent", weird}; !reflect.DeepEqual(tables, want) {
			t.Errorf("Tables() = %q, want %q (byte order)", tables, want)
		}
		d, err := db.Describe(ctx, "every_type")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]serialize.Type{"id": "int", "i": "int", "f": "float", "d": "decimal", "s": "text", "t": "text", "b": "bytes",
			"ok": "bool", "day": "date", "tod": "time", "ts": "timestamp", "tz": "timestamptz", "j": "json", "u": "uuid", "twice": "int"}
		for _, c := range d.Columns {
			if want[c.Name] != c.Type {
				t.Errorf("column %s (%s) is %s, want %s", c.Name, c.DeclType, c.Type, want[c.Name])
			}
			if (c.Name == "twice") != c.Generated {
				t.Errorf("column %s: generated %v", c.Name, c.Generated)
			}
			if c.Name == "d" && c.Scale != 2 {
				t.Errorf("decimal scale %d", c.Scale)
			}
		}
		if len(d.Columns) != len(want) || !reflect.DeepEqual(d.PrimaryKey, []string{"id"}) {
			t.Errorf("columns %d, primary key %q", len(d.Columns), d.PrimaryKey)
		}
		p, _ := db.Describe(ctx, "parent")
		if !reflect.DeepEqual(p.Unique, [][]string{{"code"}}) {
			t.Errorf("parent unique %q", p.Unique)
		}
		c, _ := db.Describe(ctx, "child")
		if len(c.ForeignKeys) != 1 || c.ForeignKeys[0].RefTable != "parent" || !reflect.DeepEqual(c.ForeignKeys[0].RefColumns, []string{"id"}) {
			t.Errorf("child foreign keys %+v", c.ForeignKeys)
		}
		w, err := db.Describe(ctx, weird)
		if err != nil || !reflect.DeepEqual(w.PrimaryKey, []string{"Key", "select"}) {
			t.Errorf("hostile table: %+v %v", w, err)
		}
		if _, err := db.Describe(ctx, "no_such_table"); err == nil {
			t.Error("Describe of a missing table succeeded")
		}
		// Every table at once (where the engine can: TablesDescriber) is
		// every table one at a time.
		all, err := dialect.DescribeTables(ctx, db, tables)
		if err != nil || len(all) != len(tables) {
			t.Fatalf("DescribeTables: %d tables, %v", len(all), err)
		}
		for _, name := range tables {
			one, err := db.Describe(ctx, name)
			if err != nil || !reflect.DeepEqual(all[name], one) {
				t.Errorf("table %q described with the others:\n%+v\nalone:\n%+v (%v)", name, all[name], one, err)
			}
		}
		if _, err := dialect.DescribeTables(ctx, db, []string{"parent", "no_such_table"}); err == nil || !strings.Contains(err.Error(), "no_such_table") {
			t.Errorf("DescribeTables of a missing table: %v", err)
		}
	})

	keyCols := []serialize.Column{{Name: "Key", Type: serialize.Text}, {Name: "select", Type: serialize.Int}}
	valCol := []serialize.Column{{Name: "val ue\"`", Type: serialize.Text, Nullable: true}}
	allCols := append(append([]serialize.Column(nil), keyCols...), valCol...)
	cell := func(s string) serialize.Cell { return serialize.Cell(s) }
	text := func(s string) serialize.Cell { return serialize.AppendString(nil, s) }
	// firstRows reads the first n rows of weird in key order, all for 0.
	firstRows := func(t *testing.T, db dialect.Reader, n int) []string {
		desc, err := db.Describe(ctx, weird)
		if err != nil {
			t.Fatal(err)
		}
		desc.Limit = n
		var out []string
		err = db.ReadRows(ctx, desc, []string{"Key", "select", "val ue\"`"}, []string{"Key", "select"}, func(v []any) error {
			var parts []string
			for i, c := range allCols {
				b, err := serialize.AppendCell(nil, &c, v[i])
				if err != nil {
					return err
				}
				parts = append(parts, string(b))
			}
			out = append(out, strings.Join(parts, " "))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	rowsOf := func(t *testing.T, db dialect.Reader) []string { return firstRows(t, db, 0) }

	t.Run("batched writes in one transaction", func(t *testing.T) {
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var rows, keys, vals [][]serialize.Cell
		for i := 0; i < 1200; i++ {
			rows = append(rows, []serialize.Cell{text(fmt.Sprintf("k%04d", i)), cell(fmt.Sprint(i % 3)), text("v")})
		}
		// Mixed case and accents: the files' order is by bytes.
		for _, k := range []string{"B", "a", "é", "f", "_"} {
			rows = append(rows, []serialize.Cell{text(k), cell("1"), serialize.NullCell})
		}
		if err := tx.Insert(ctx, weird, allCols, rows); err != nil {
			t.Fatal(err)
		}
		// Counts past every engine's threshold for its bulk path.
		for i := 0; i < 1100; i++ {
			keys = append(keys, []serialize.Cell{text(fmt.Sprintf("k%04d", i)), cell(fmt.Sprint(i % 3))})
			vals = append(vals, []serialize.Cell{text(fmt.Sprintf("u%d 'quoted' \"x\" \\", i))})
		}
		if err := tx.Update(ctx, weird, keyCols, keys, valCol, vals); err != nil {
			t.Fatal(err)
		}
		if err := tx.Delete(ctx, weird, keyCols, keys[:1050]); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		got := rowsOf(t, db)
		if len(got) != 155 {
			t.Fatalf("%d rows after the writes, want 155", len(got))
		}
		if got[0] != `"B" 1 null` || got[1] != `"_" 1 null` || got[2] != `"a" 1 null` || got[3] != `"f" 1 null` {
			t.Errorf("not in byte order: %q", got[:5])
		}
		if got[4] != `"k1050" 0 "u1050 'quoted' \"x\" \\"` || got[len(got)-1] != `"é" 1 null` {
			t.Errorf("rows: %q … %q", got[4], got[len(got)-1])
		}
		if first := firstRows(t, db, 5); !reflect.DeepEqual(first, got[:5]) {
			t.Errorf("the first 5 rows read with a limit: %q, want %q", first, got[:5])
		}
	})

	t.Run("a missing row fails and nothing commits", func(t *testing.T) {
		before := rowsOf(t, db)
		for name, write := range map[string]func(dialect.Tx) error{
			"update": func(tx dialect.Tx) error {
				return tx.Update(ctx, weird, keyCols, [][]serialize.Cell{{text("k0700"), cell("1")}, {text("nope"), cell("1")}}, valCol,
					[][]serialize.Cell{{text("x")}, {text("y")}})
			},
			"delete": func(tx dialect.Tx) error {
				return tx.Delete(ctx, weird, keyCols, [][]serialize.Cell{{text("k0700"), cell("1")}, {text("nope"), cell("1")}})
			},
		} {
			tx, err := db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := write(tx); err == nil {
				t.Errorf("%s of a missing row succeeded", name)
			}
			tx.Rollback()
		}
		if after := rowsOf(t, db); !reflect.DeepEqual(before, after) {
			t.Error("a rolled back transaction changed rows")
		}
	})

	t.Run("foreign keys are checked at commit", func(t *testing.T) {
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		id := []serialize.Column{{Name: "id", Type: serialize.Int}}
		// The child first: fine inside the transaction.
		if err := tx.Insert(ctx, "child", append(id, serialize.Column{Name: "parent_id", Type: serialize.Int, Nullable: true}),
			[][]serialize.Cell{{cell("1"), cell("7")}}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Insert(ctx, "parent", append(id, serialize.Column{Name: "code", Type: serialize.Text}), [][]serialize.Cell{{cell("7"), text("seven")}}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatalf("commit with the parent written after the child: %v", err)
		}
		tx, err = db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = tx.Insert(ctx, "child", append(id, serialize.Column{Name: "parent_id", Type: serialize.Int, Nullable: true}), [][]serialize.Cell{{cell("2"), cell("99")}})
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
		if err == nil {
			t.Fatal("a child without a parent committed")
		}
		if !strings.Contains(err.Error(), `"child"`) {
			t.Errorf("the failed commit does not name the table: %v", err)
		}
		if out, _ := dbtest.Query(url, "SELECT count(*) FROM child"); strings.TrimSpace(out) != "1" {
			t.Errorf("child rows after the failed commit: %s", out)
		}
	})

	t.Run("a load neither enforces nor cascades foreign keys until its commit checks them", func(t *testing.T) {
		if err := dbtest.Exec(url, "INSERT INTO follower VALUES (1, 7)"); err != nil {
			t.Fatal(err)
		}
		parentCols := []serialize.Column{{Name: "id", Type: serialize.Int}, {Name: "code", Type: serialize.Text}}
		tx, err := db.BeginLoad(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n, err := tx.DeleteWhere(ctx, "parent", "")
		if err != nil || n != 1 {
			t.Fatalf("deleting every parent: %d, %v", n, err)
		}
		if err := tx.Insert(ctx, "parent", parentCols, [][]serialize.Cell{{cell("7"), text("seven")}}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatalf("the parent deleted and put back: %v", err)
		}
		if out, _ := dbtest.Query(url, "SELECT count(*) FROM follower"); strings.TrimSpace(out) != "1" {
			t.Errorf("the delete cascaded: %s follower rows left", out)
		}
		// A parent deleted for good: the commit names a row left without it.
		tx, err = db.BeginLoad(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := tx.DeleteWhere(ctx, "parent", "code = 'seven'"); err != nil || n != 1 {
			t.Fatalf("deleting where: %d, %v", n, err)
		}
		if err = tx.Commit(); err == nil || !strings.Contains(err.Error(), `refers to a row of "parent" that does not exist`) {
			t.Fatalf("a load that leaves rows without their parent: %v", err)
		}
		if out, _ := dbtest.Query(url, "SELECT count(*) FROM parent"); strings.TrimSpace(out) != "1" {
			t.Errorf("parent rows after the failed commit: %s", out)
		}
	})

	t.Run("every logical type round-trips through a write, one row or many", func(t *testing.T) {
		cols := []serialize.Column{{Name: "id", Type: "int"}, {Name: "i", Type: "int", Nullable: true}, {Name: "f", Type: "float", Nullable: true},
			{Name: "d", Type: "decimal", Scale: 2, Nullable: true}, {Name: "s", Type: "text", Nullable: true}, {Name: "t", Type: "text", Nullable: true},
			{Name: "b", Type: "bytes", Nullable: true}, {Name: "ok", Type: "bool", Nullable: true}, {Name: "day", Type: "date", Nullable: true},
			{Name: "tod", Type: "time", Nullable: true}, {Name: "ts", Type: "timestamp", Nullable: true}, {Name: "tz", Type: "timestamptz", Nullable: true},
			{Name: "j", Type: "json", Nullable: true}, {Name: "u", Type: "uuid", Nullable: true}}
		row := []serialize.Cell{cell("-9223372036854775808"), cell("-7"), cell("0.1"), cell("12.30"), text("é\n\t\"'\\"), text(""),
			text("AP9/"), cell("true"), text("2024-02-29"), text("23:59:59.5"), text("2024-02-29T12:30:00.123456"), text("2024-02-29T11:30:00Z"),
			cell(`{"a":[1,9007199254740993],"b":{"c":null}}`), text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")}
		nulls := []serialize.Cell{cell("1")}
		for range cols[1:] {
			nulls = append(nulls, serialize.NullCell)
		}
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Insert(ctx, "every_type", cols, [][]serialize.Cell{row, nulls}); err != nil {
			t.Fatal(err)
		}
		// Many rows (an engine's bulk path): inserted as nulls, updated to
		// the values of row, then all but the last deleted.
		var many, keys, vals [][]serialize.Cell
		for id := 2; id <= 1501; id++ {
			r := append([]serialize.Cell{cell(fmt.Sprint(id))}, nulls[1:]...)
			many, keys, vals = append(many, r), append(keys, r[:1]), append(vals, row[1:])
		}
		if err := tx.Insert(ctx, "every_type", cols, many); err != nil {
			t.Fatal(err)
		}
		if err := tx.Update(ctx, "every_type", cols[:1], keys, cols[1:], vals); err != nil {
			t.Fatal(err)
		}
		if err := tx.Delete(ctx, "every_type", cols[:1], keys[:len(keys)-1]); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		desc, _ := db.Describe(ctx, "every_type")
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = c.Name
		}
		var got [][]string
		err = db.ReadRows(ctx, desc, names, []string{"id"}, func(v []any) error {
			var r []string
			for i := range cols {
				b, err := serialize.AppendCell(nil, &cols[i], v[i])
				if err != nil {
					return fmt.Errorf("%s: %w", cols[i].Name, err)
				}
				r = append(r, string(b))
			}
			got = append(got, r)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("%d rows", len(got))
		}
		for i := range row {
			if got[0][i] != string(row[i]) || got[1][i] != string(nulls[i]) {
				t.Errorf("column %s: wrote %s and %s, read %s and %s", cols[i].Name, row[i], nulls[i], got[0][i], got[1][i])
			}
			if i > 0 && got[2][i] != string(row[i]) {
				t.Errorf("column %s: a bulk update wrote %s, read %s", cols[i].Name, row[i], got[2][i])
			}
		}
	})

	t.Run("a bulk insert writes every value, and refuses a duplicate or a null key as a small one does", func(t *testing.T) {
		// Past every engine's threshold for its bulk load (COPY, LOAD
		// DATA), which must neither change a value nor let a bad row by.
		cols := []serialize.Column{{Name: "id", Type: "int"}, {Name: "i", Type: "int", Nullable: true}, {Name: "f", Type: "float", Nullable: true},
			{Name: "d", Type: "decimal", Scale: 2, Nullable: true}, {Name: "s", Type: "text", Nullable: true}, {Name: "t", Type: "text", Nullable: true},
			{Name: "b", Type: "bytes", Nullable: true}, {Name: "ok", Type: "bool", Nullable: true}, {Name: "day", Type: "date", Nullable: true},
			{Name: "tod", Type: "time", Nullable: true}, {Name: "ts", Type: "timestamp", Nullable: true}, {Name: "tz", Type: "timestamptz", Nullable: true},
			{Name: "j", Type: "json", Nullable: true}, {Name: "u", Type: "uuid", Nullable: true}}
		values := []serialize.Cell{cell("-7"), cell("1e+21"), cell("12.30"), text("é\n\t\r\"'\\N\\"), text(""),
			text("AP9/"), cell("false"), text("2024-02-29"), text("23:59:59.5"), text("2024-02-29T12:30:00.123456"), text("2024-02-29T11:30:00Z"),
			cell(`{"a":"tab\tline\n","b":[true]}`), text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")}
		rows := func(from int, fn func(i int, r []serialize.Cell)) [][]serialize.Cell {
			var out [][]serialize.Cell
			for i := 0; i < 1500; i++ {
				r := append([]serialize.Cell{cell(fmt.Sprint(from + i))}, values...)
				if fn != nil {
					fn(i, r)
				}
				out = append(out, r)
			}
			return out
		}
		insert := func(rows [][]serialize.Cell) error {
			tx, err := db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Insert(ctx, "every_type", cols, rows); err != nil {
				tx.Rollback()
				return err
			}
			return tx.Commit()
		}
		if err := insert(rows(10000, nil)); err != nil {
			t.Fatal(err)
		}
		if err := insert(rows(20000, func(i int, r []serialize.Cell) {
			if i == 700 {
				r[0] = cell("10000")
			}
		})); err == nil {
			t.Error("a bulk insert of a duplicate key succeeded")
		}
		var nullKey [][]serialize.Cell
		for i := 0; i < 1500; i++ {
			k := text(fmt.Sprintf("bulk%04d", i))
			if i == 700 {
				k = serialize.NullCell
			}
			nullKey = append(nullKey, []serialize.Cell{k, cell("1"), text("v")})
		}
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Insert(ctx, weird, allCols, nullKey); err == nil {
			t.Error("a bulk insert of a null key succeeded")
		}
		tx.Rollback()
		desc, _ := db.Describe(ctx, "every_type")
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = c.Name
		}
		n := 0
		err = db.ReadRows(ctx, desc, names, []string{"id"}, func(v []any) error {
			id, _ := serialize.AppendCell(nil, &cols[0], v[0])
			if n, _ := strconv.Atoi(string(id)); n < 10000 {
				return nil // the rows of the test before
			}
			n++
			for i := 1; i < len(cols); i++ {
				b, err := serialize.AppendCell(nil, &cols[i], v[i])
				if err != nil {
					return fmt.Errorf("%s: %w", cols[i].Name, err)
				}
				if string(b) != string(values[i-1]) && n == 1 {
					t.Errorf("column %s: a bulk insert wrote %s, read %s", cols[i].Name, values[i-1], b)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != 1500 {
			t.Errorf("%d rows after one good bulk insert and two refused, want 1500", n)
		}
		tx, err = db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.DeleteWhere(ctx, "every_type", "id >= 10000"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ids inserted explicitly advance the engine's sequence", func(t *testing.T) {
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cols := []serialize.Column{{Name: "id", Type: serialize.Int}, {Name: "name", Type: serialize.Text, Nullable: true}}
		if err := tx.Insert(ctx, "counted", cols, [][]serialize.Cell{{cell("50"), text("from git")}}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := dbtest.Exec(url, "INSERT INTO counted (name) VALUES ('from the app')"); err != nil {
			t.Fatal(err)
		}
		if out, _ := dbtest.Query(url, "SELECT id FROM counted WHERE name = 'from the app'"); strings.TrimSpace(out) != "51" {
			t.Errorf("the application's next id is %q, want 51", out)
		}
	})

	t.Run("new ids never collide with used ones or the application's", func(t *testing.T) {
		// counted holds 50 and 51 (above); the row with the largest id is
		// deleted, so its id must not come back.
		if err := dbtest.Exec(url, "INSERT INTO counted (name) VALUES ('gone'); DELETE FROM counted WHERE name = 'gone'"); err != nil {
			t.Fatal(err)
		}
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := tx.NextIDs(ctx, "counted", "id", 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 3 || ids[0] <= 52 || ids[1] <= ids[0] || ids[2] <= ids[1] {
			t.Fatalf("NextIDs = %v, want three rising ids past 52", ids)
		}
		cols := []serialize.Column{{Name: "id", Type: serialize.Int}, {Name: "name", Type: serialize.Text, Nullable: true}}
		var rows [][]serialize.Cell
		for _, id := range ids {
			rows = append(rows, []serialize.Cell{cell(strconv.FormatInt(id, 10)), text("allocated")})
		}
		if err := tx.Insert(ctx, "counted", cols, rows); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := dbtest.Exec(url, "INSERT INTO counted (name) VALUES ('app after')"); err != nil {
			t.Fatal(err)
		}
		out, _ := dbtest.Query(url, "SELECT id FROM counted WHERE name = 'app after'")
		if id, _ := strconv.ParseInt(strings.TrimSpace(out), 10, 64); id <= ids[2] {
			t.Errorf("the application's next id is %q, after allocated %v", out, ids)
		}
	})

	t.Run("one writer at a time", func(t *testing.T) {
		other := open(t)
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		start := time.Now()
		tx2, err := other.Begin(ctx)
		if err == nil {
			tx2.Rollback()
			t.Fatal("a second transaction began while the first held the database")
		}
		t.Logf("second writer refused after %v: %v", time.Since(start).Round(time.Millisecond), err)
	})

	t.Run("query with placeholders", func(t *testing.T) {
		var n int
		err := db.Query(ctx, "SELECT code FROM parent WHERE id = ? AND code = ?", []any{7, "seven"}, func(v []any) error {
			n++
			return nil
		})
		if err != nil || n != 1 {
			t.Errorf("Query: %d rows, %v", n, err)
		}
	})

	t.Run("a read-only session writes nothing", func(t *testing.T) {
		ro := open(t)
		if err := ro.SetReadOnly(ctx); err != nil {
			t.Fatal(err)
		}
		if err := ro.Query(ctx, "SELECT code FROM parent WHERE id = ?", []any{7}, func([]any) error { return nil }); err != nil {
			t.Errorf("reading: %v", err)
		}
		tx, err := ro.Begin(ctx)
		if err == nil {
			err = tx.Exec(ctx, "INSERT INTO parent (id, code) VALUES (?, ?)", 991, "written")
			tx.Rollback()
		}
		if err == nil {
			t.Error("a read-only session inserted a row")
		}
		var n int
		db.Query(ctx, "SELECT code FROM parent WHERE id = ?", []any{991}, func([]any) error { n++; return nil })
		if n != 0 {
			t.Error("the row is there")
		}
		// A connection made read-only is no reason the database is.
		if reason, err := dialect.ReadOnly(ctx, ro); reason != "" || err != nil {
			t.Errorf("ReadOnly() of a read-only session of a writable database = %q, %v; want \"\"", reason, err)
		}
	})

	t.Run("preflight: writable", func(t *testing.T) {
		if _, ok := db.(dialect.WriteChecker); !ok {
			t.Fatal("the engine cannot tell whether its database takes writes (dialect.WriteChecker)")
		}
		if reason, err := dialect.ReadOnly(ctx, db); reason != "" || err != nil {
			t.Errorf("ReadOnly() = %q, %v; want \"\"", reason, err)
		}
	})

	t.Run("preflight: read-only", func(t *testing.T) {
		ro, err := dialect.Open(ctx, dbtest.ReadOnlyURL(t, url), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		reason, err := dialect.ReadOnly(ctx, ro)
		if err != nil || !strings.Contains(reason, "read-only") {
			t.Errorf("ReadOnly() = %q, %v; want why it takes no write", reason, err)
		}
		t.Logf("read-only: %s", reason)
	})

	t.Run("where: one database, whatever reached it", func(t *testing.T) {
		other, err := dialect.Open(ctx, url, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if same, err := dialect.SameDatabase(ctx, db, other); !same || err != nil {
			t.Errorf("two connections to one database: same = %v, %v", same, err)
		}
		if _, ok := db.(dialect.Locator); !ok {
			t.Fatal("the engine cannot name its database (dialect.Locator)")
		}
		u := dbtest.NewDatabase(t, engine)
		if err := dbtest.Exec(u, "CREATE TABLE t (a INTEGER)"); err != nil {
			t.Fatal(err)
		}
		third, err := dialect.Open(ctx, u, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer third.Close()
		if same, err := dialect.SameDatabase(ctx, db, third); same || err != nil {
			t.Errorf("two databases: same = %v, %v", same, err)
		}
	})
}
