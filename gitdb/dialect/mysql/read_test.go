package mysql

import (
	"context"
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/internal/dbtest"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// awkward holds values at the edges of every logical type, a row each,
// NULLs in the last.
const awkward = `CREATE TABLE awkward (
	id BIGINT UNSIGNED PRIMARY KEY, i BIGINT, ok TINYINT(1), f FLOAT, d DOUBLE, n DECIMAL(65,30), n2 DECIMAL(10,2),
	s TEXT, b BLOB, day DATE, tod TIME(6), ts DATETIME(6), tz TIMESTAMP(6) NULL, j JSON, u UUID, y YEAR, e ENUM('a','é'), bits BIT(9));
INSERT INTO awkward VALUES
	(1, -9223372036854775808, 0, 0.1, 0.1, -12345678901234567890123456789012345.123456789012345678901234567890, -0.01,
	 'é\n\t"''\\ ☃ 𝄞', X'00FF0A27', '1000-01-01', '-838:59:59', '1000-01-01 00:00:00', '1970-01-01 00:00:01', '{"b": [1, 2.50, 1e400], "a": "\\u00e9"}',
	 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 1901, 'é', b'101010101'),
	(2, 9223372036854775807, 1, -3.4e38, 1.7976931348623157e308, 99999999999999999999999999999999999.999999999999999999999999999999, 99999999.99,
	 '', X'', '9999-12-31', '838:59:59.999999', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.5', '[]',
	 '00000000-0000-0000-0000-000000000000', 2155, 'a', b'0'),
	(18446744073709551615, 0, 1, 1e-45, 5e-324, 0.000000000000000000000000000001, 0, 'plain', X'41', '2024-02-29', '00:00:00.5', '2024-02-29 12:30:00.123', '2024-02-29 11:30:00', '"text"',
	 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', 2024, 'a', b'111111111'),
	(4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);`

// ReadRows passes text as *[]byte into the driver's buffer (eachRow);
// the cells made of it are those made of the values database/sql copies
// into an any, as Query reads (and ReadRows did), errors included.
func TestReadRowsCellsAsQuery(t *testing.T) {
	u := dbtest.NewDatabase(t, "mysql")
	if err := dbtest.Exec(u, awkward); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := dialect.Open(ctx, u, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	desc, err := db.Describe(ctx, "awkward")
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(desc.Columns))
	for i, c := range desc.Columns {
		names[i] = c.Name
	}
	cells := func(v []any) []string {
		var out []string
		for i, c := range desc.Columns {
			cell, err := serialize.AppendCell(nil, &serialize.Column{Name: c.Name, Type: c.Type, Scale: c.Scale}, v[i])
			if err != nil {
				out = append(out, "error: "+err.Error())
				continue
			}
			out = append(out, string(cell))
		}
		return out
	}
	var read, queried [][]string
	if err := db.ReadRows(ctx, desc, names, []string{"id"}, func(v []any) error { read = append(read, cells(v)); return nil }); err != nil {
		t.Fatal(err)
	}
	q := "SELECT " + strings.Join(names, ", ") + " FROM awkward ORDER BY id"
	if err := db.Query(ctx, q, nil, func(v []any) error { queried = append(queried, cells(v)); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(read) != 4 || len(queried) != 4 {
		t.Fatalf("%d rows read, %d queried, want 4", len(read), len(queried))
	}
	for r := range read {
		for i, c := range desc.Columns {
			if read[r][i] != queried[r][i] {
				t.Errorf("row %d, column %s (%s): read %s, queried %s", r+1, c.Name, c.Type, read[r][i], queried[r][i])
			}
		}
	}
	if t.Failed() {
		for _, r := range read {
			t.Log(strings.Join(r, " | "))
		}
	}
}
