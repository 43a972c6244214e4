package dbrows

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// checkDeclaredRefs proves, after an apply's writes and before its commit,
// that no row still refers to a row the apply deleted through a reference
// .dbsync declares: the database cannot check those (WordPress, Drupal 7
// and ProcessWire declare no foreign keys), and a dangling id there is
// lost data. Declarations on tables of any class count, so that content
// (ProcessWire's pages.templates_id) can guard the config it uses.
func checkDeclaredRefs(ctx context.Context, tx dialect.Tx, cfg *config.Config, deleted map[string][]serialize.Cell) error {
	if cfg == nil || len(deleted) == 0 {
		return nil
	}
	names := make([]string, 0, len(cfg.Tables))
	for name := range cfg.Tables {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, r := range cfg.Tables[name].References {
			gone := deleted[r.Table]
			if r.Path != "" || r.InText() || len(gone) == 0 {
				continue
			}
			if err := checkRef(ctx, tx, name, r, gone); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkRef reads the referring column of a table and fails on the first
// value among the deleted keys.
func checkRef(ctx context.Context, tx dialect.Tx, table string, r config.Reference, gone []serialize.Cell) error {
	desc, err := tx.Describe(ctx, table)
	if err != nil {
		return nil // the table is not in this database: nothing refers
	}
	if desc.Column(r.Column) == nil {
		return &config.Error{Pos: r.Pos, Msg: fmt.Sprintf("table %q has no column %q", table, r.Column)}
	}
	set := map[string]string{}
	for _, k := range gone {
		set[string(k)] = string(k)
	}
	which, err := Referring(ctx, tx, desc, r.Column, set)
	if err != nil || which == "" {
		return err
	}
	return fmt.Errorf("table %q: column %q still refers to rows of %q that this apply deletes: %s (declared at %s); nothing was written",
		table, r.Column, r.Table, which, r.Pos)
}

// Referring reads a column of a table and says which of the given keys
// (database cell → how to name the row) it holds, and how often: "" for
// none.
func Referring(ctx context.Context, db dialect.Reader, desc *dialect.Table, column string, keys map[string]string) (string, error) {
	count, err := referringCounts(ctx, db, desc, column, keys)
	if err != nil || len(count) == 0 {
		return "", err
	}
	var which []string
	for _, k := range slices.Sorted(maps.Keys(count)) {
		which = append(which, fmt.Sprintf("%s (%s)", k, count[k]))
	}
	return strings.Join(which, ", "), nil
}

// referring is the rows of a table that hold one key: how many, and the
// first few by their primary key, to name them.
type referring struct {
	n     int
	names []string
}

// shown is how many referring rows a message names.
const shown = 3

func (r *referring) String() string {
	if len(r.names) == 0 {
		return rowCount(r.n)
	}
	s := strings.Join(r.names, ", ")
	if more := r.n - len(r.names); more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s + ": " + rowCount(r.n)
}

// referringCounts reads a column of a table and gathers, per key it
// holds among the given ones (database cell → a name), the rows holding
// it: how many, and the first few named by their primary key.
func referringCounts(ctx context.Context, db dialect.Reader, desc *dialect.Table, column string, keys map[string]string) (map[string]*referring, error) {
	col := desc.Column(column)
	cols := []serialize.Column{{Name: col.Name, Type: col.Type, Scale: col.Scale}}
	names := []string{col.Name}
	for _, k := range desc.PrimaryKey {
		if kc := desc.Column(k); kc != nil {
			cols, names = append(cols, serialize.Column{Name: kc.Name, Type: kc.Type, Scale: kc.Scale}), append(names, kc.Name)
		}
	}
	count := map[string]*referring{}
	err := db.ReadRows(ctx, desc, names, nil, func(values []any) error {
		cell, err := serialize.AppendCell(nil, &cols[0], values[0])
		name, ok := keys[string(cell)]
		if err != nil || !ok {
			return err
		}
		r := count[name]
		if r == nil {
			r = &referring{}
			count[name] = r
		}
		r.n++
		if len(r.names) < shown && len(cols) > 1 {
			var parts []string
			for i := 1; i < len(cols); i++ {
				c, err := serialize.AppendCell(nil, &cols[i], values[i])
				if err != nil {
					return err
				}
				parts = append(parts, names[i]+"="+strings.Trim(string(c), `"`))
			}
			r.names = append(r.names, strings.Join(parts, " "))
		}
		return nil
	})
	return count, err
}

func rowCount(n int) string {
	if n == 1 {
		return "1 row"
	}
	return fmt.Sprintf("%d rows", n)
}

// BlockedRow is a row a plan deletes that rows of tables it does not
// write still refer to.
type BlockedRow struct {
	Table string
	Row   serialize.Row // the target's row, as the delete's Before has it
	// ReferredBy names each referring table and column, and how many of
	// its rows refer: table "posts", column "type_id" (2 rows).
	ReferredBy []string
}

// BlockedDeletes finds the rows of tables a plan does not write (content,
// above all) that still refer to rows it deletes, through the catalog's
// foreign keys or the references .dbsync declares (cfg may be nil): the
// engine would refuse the delete, or the rows would be left dangling. One
// BlockedRow per deleted row still referred to, in the plans' order.
func (tr *Translator) BlockedDeletes(ctx context.Context, cfg *config.Config, plans []*merge.TablePlan) ([]BlockedRow, error) {
	planned := map[string]bool{}
	gone := map[string]map[string]string{} // table → key as the database holds it → the same, to count by
	rows := map[string]map[string]serialize.Row{}
	keyCol := map[string]string{}
	var order [][2]string // table and key of each delete, in the plans' order
	for _, tp := range plans {
		meta, t := tp.Meta, tr.tables[tp.Meta.Name]
		planned[meta.Name] = true
		if t == nil || meta.Surrogate == "" && len(meta.Key) != 1 {
			continue
		}
		for op, err := range tp.Ops.All() {
			if err != nil {
				return nil, err
			}
			if op.Kind != merge.Delete {
				continue
			}
			k, err := tr.dbKey(ctx, t, op.Before)
			if err != nil {
				return nil, err
			}
			if gone[meta.Name] == nil {
				gone[meta.Name], rows[meta.Name], keyCol[meta.Name] = map[string]string{}, map[string]serialize.Row{}, meta.Key[0]
				if meta.Surrogate != "" {
					keyCol[meta.Name] = meta.Surrogate
				}
			}
			gone[meta.Name][string(k[0])] = string(k[0])
			rows[meta.Name][string(k[0])] = op.Before
			order = append(order, [2]string{meta.Name, string(k[0])})
		}
	}
	if len(gone) == 0 {
		return nil, nil
	}
	names, err := tr.db.Tables(ctx)
	if err != nil {
		return nil, err
	}
	type ref struct{ column, table string }
	by := map[string]map[string][]string{} // table → key → what refers
	for _, name := range names {
		if planned[name] || config.Reserved(name) {
			continue
		}
		desc, err := tr.db.Describe(ctx, name)
		if err != nil {
			return nil, err
		}
		var refs []ref
		for _, fk := range desc.ForeignKeys {
			if gone[fk.RefTable] != nil && slices.Equal(fk.RefColumns, []string{keyCol[fk.RefTable]}) && len(fk.Columns) == 1 {
				refs = append(refs, ref{fk.Columns[0], fk.RefTable})
			}
		}
		if cfg != nil && cfg.Tables[name] != nil {
			for _, r := range cfg.Tables[name].References {
				if r.Path == "" && !r.InText() && gone[r.Table] != nil && desc.Column(r.Column) != nil && !slices.Contains(refs, ref{r.Column, r.Table}) {
					refs = append(refs, ref{r.Column, r.Table})
				}
			}
		}
		for _, r := range refs {
			count, err := referringCounts(ctx, tr.db, desc, r.column, gone[r.table])
			if err != nil {
				return nil, err
			}
			for k, n := range count {
				if by[r.table] == nil {
					by[r.table] = map[string][]string{}
				}
				by[r.table][k] = append(by[r.table][k], fmt.Sprintf("table %q, column %q (%s)", name, r.column, n))
			}
		}
	}
	var out []BlockedRow
	for _, tk := range order {
		if refs := by[tk[0]][tk[1]]; len(refs) > 0 {
			out = append(out, BlockedRow{Table: tk[0], Row: rows[tk[0]][tk[1]], ReferredBy: refs})
		}
	}
	return out, nil
}
