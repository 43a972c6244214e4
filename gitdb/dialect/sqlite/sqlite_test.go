package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/serialize"
)

func TestLogicalType(t *testing.T) {
	tests := []struct {
		decl  string
		want  serialize.Type
		scale int
	}{
		{"INTEGER", serialize.Int, -1}, {"bigint", serialize.Int, -1}, {"TINYINT(1)", serialize.Int, -1},
		{"TEXT", serialize.Text, -1}, {"VARCHAR(255)", serialize.Text, -1}, {"", serialize.Text, -1},
		{"BLOB", serialize.Bytes, -1}, {"REAL", serialize.Float, -1}, {"DOUBLE PRECISION", serialize.Float, -1},
		{"DECIMAL(10,2)", serialize.Decimal, 2}, {"NUMERIC", serialize.Decimal, -1}, {"DECIMAL(5)", serialize.Decimal, 0},
		{"BOOLEAN", serialize.Boolean, -1}, {"DATE", serialize.Date, -1}, {"TIME", serialize.Time, -1},
		{"DATETIME", serialize.Timestamp, -1}, {"TIMESTAMP", serialize.Timestamp, -1},
		{"TIMESTAMPTZ", serialize.TimestampTZ, -1}, {"JSON", serialize.JSON, -1}, {"UUID", serialize.UUID, -1},
		{"MONEY", serialize.Decimal, -1},
	}
	for _, tt := range tests {
		got, scale := LogicalType(tt.decl)
		if got != tt.want || scale != tt.scale {
			t.Errorf("LogicalType(%q) = %s, %d; want %s, %d", tt.decl, got, scale, tt.want, tt.scale)
		}
	}
}

func TestDescribe(t *testing.T) {
	db, err := OpenFile(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.SQL().Exec(`
CREATE TABLE menus (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE "Menu Items" (
  menu INTEGER REFERENCES menus,
  pos INTEGER,
  "sel""ect" TEXT,
  parent_menu INTEGER, parent_pos INTEGER,
  total INTEGER GENERATED ALWAYS AS (pos * 2) VIRTUAL,
  PRIMARY KEY (pos, menu),
  FOREIGN KEY (parent_menu, parent_pos) REFERENCES "Menu Items" (menu, pos)
);
CREATE UNIQUE INDEX items_sel ON "Menu Items" ("sel""ect");
CREATE UNIQUE INDEX items_partial ON "Menu Items" (parent_pos) WHERE parent_pos IS NOT NULL;
CREATE UNIQUE INDEX items_expr ON "Menu Items" (pos, lower("sel""ect"));`)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tables, _ := db.Tables(ctx)
	if !reflect.DeepEqual(tables, []string{"Menu Items", "menus"}) {
		t.Errorf("tables %q", tables)
	}
	d, err := db.Describe(ctx, "Menu Items")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.PrimaryKey, []string{"pos", "menu"}) {
		t.Errorf("primary key %q", d.PrimaryKey)
	}
	if !reflect.DeepEqual(d.Unique, [][]string{{`sel"ect`}}) {
		t.Errorf("unique %q", d.Unique)
	}
	if len(d.ForeignKeys) != 2 || d.ForeignKeys[0].RefTable != "Menu Items" && d.ForeignKeys[1].RefTable != "Menu Items" {
		t.Errorf("foreign keys %+v", d.ForeignKeys)
	}
	for _, fk := range d.ForeignKeys {
		if fk.RefTable == "menus" && !reflect.DeepEqual(fk.RefColumns, []string{"id"}) {
			t.Errorf("implicit parent key: %+v", fk)
		}
	}
	if c := d.Column("total"); c == nil || !c.Generated {
		t.Errorf("generated column: %+v", c)
	}
	if all, err := db.DescribeTables(ctx, tables); err != nil || !reflect.DeepEqual(all["Menu Items"], d) {
		t.Errorf("described with the others: %+v %v", all["Menu Items"], err)
	}
	var got [][]any
	err = db.ReadRows(ctx, d, []string{`sel"ect`, "pos"}, []string{"pos"}, func(v []any) error {
		got = append(got, append([]any(nil), v...))
		return nil
	})
	if err != nil || len(got) != 0 {
		t.Errorf("ReadRows on an empty table: %v %v", got, err)
	}
}

// A file whose directory takes no new file cannot keep its journal: the
// preflight says so before a change starts. By the mode bits, so that it
// holds as root too.
func TestReadOnlyDirectory(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := OpenFile(filepath.Join(dir, "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SQL().Exec("CREATE TABLE t (id INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if reason, err := db.ReadOnly(ctx); reason != "" || err != nil {
		t.Fatalf("ReadOnly() = %q, %v before the chmod", reason, err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o755)
	if reason, err := db.ReadOnly(ctx); !strings.Contains(reason, "read-only directory") || err != nil {
		t.Errorf("ReadOnly() = %q, %v; want a read-only directory", reason, err)
	}
}
