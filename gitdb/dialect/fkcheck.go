package dialect

import (
	"context"
	"fmt"
	"strings"
)

// CheckForeignKeys proves, for an engine whose foreign keys were not
// enforced while a transaction wrote (MySQL with foreign_key_checks off,
// PostgreSQL loading with triggers off), that every foreign key from or to
// a table written still finds its parent row. table quotes (and
// qualifies) a table's name, column a column's.
func CheckForeignKeys(ctx context.Context, r Reader, written map[string]bool, table, column func(string) string) error {
	if len(written) == 0 {
		return nil
	}
	tables, err := r.Tables(ctx)
	if err != nil {
		return err
	}
	for _, child := range tables {
		desc, err := r.Describe(ctx, child)
		if err != nil {
			return err
		}
		for _, fk := range desc.ForeignKeys {
			if !written[child] && !written[fk.RefTable] {
				continue
			}
			var on, notNull, cols []string
			for i := range fk.Columns {
				on = append(on, "p."+column(fk.RefColumns[i])+" = c."+column(fk.Columns[i]))
				notNull = append(notNull, "c."+column(fk.Columns[i])+" IS NOT NULL")
				cols = append(cols, "c."+column(fk.Columns[i]))
			}
			q := "SELECT " + strings.Join(cols, ", ") + " FROM " + table(child) + " c WHERE " + strings.Join(notNull, " AND ") +
				" AND NOT EXISTS (SELECT 1 FROM " + table(fk.RefTable) + " p WHERE " + strings.Join(on, " AND ") + ") LIMIT 1"
			var bad []string
			err := r.Query(ctx, q, nil, func(v []any) error {
				for _, x := range v {
					bad = append(bad, Text(x))
				}
				return nil
			})
			if err != nil {
				return err
			}
			if bad != nil {
				return fmt.Errorf("table %q: the row with (%s) = (%s) refers to a row of %q that does not exist (a foreign key): nothing written",
					child, strings.Join(fk.Columns, ", "), strings.Join(bad, ", "), fk.RefTable)
			}
		}
	}
	return nil
}

// Text is a driver value as text, "" for NULL.
func Text(v any) string {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case string:
		return x
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
