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

// declaredTargets are the tables the whole-column references .dbsync
// declares refer to (cfg may be nil): those checkDeclaredRefs checks.
func declaredTargets(cfg *config.Config) map[string]bool {
	out := map[string]bool{}
	if cfg == nil {
		return out
	}
	for _, t := range cfg.Tables {
		for _, r := range t.References {
			if r.Path == "" && !r.InText() {
				out[r.Table] = true
			}
		}
	}
	return out
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
	keyCol := map[string]string{} // table the plans delete from → its key column as the database has it
	for _, tp := range plans {
		meta := tp.Meta
		planned[meta.Name] = true
		if tr.tables[meta.Name] == nil || meta.Surrogate == "" && len(meta.Key) != 1 || tp.Count(merge.Delete) == 0 {
			continue
		}
		keyCol[meta.Name] = meta.Key[0]
		if meta.Surrogate != "" {
			keyCol[meta.Name] = meta.Surrogate
		}
	}
	if len(keyCol) == 0 {
		return nil, nil
	}
	// What could refer to them, first: the deleted keys are gathered only
	// for a table something refers to (a rollback of a first apply of a
	// million rows deletes a million, usually of a table nothing outside
	// the plan refers to).
	names, err := tr.db.Tables(ctx)
	if err != nil {
		return nil, err
	}
	type ref struct {
		desc                  *dialect.Table
		name, column, deleted string
	}
	var refs []ref
	for _, name := range names {
		if planned[name] || config.Reserved(name) {
			continue
		}
		desc, err := tr.db.Describe(ctx, name)
		if err != nil {
			return nil, err
		}
		has := func(column, table string) bool {
			return slices.ContainsFunc(refs, func(r ref) bool { return r.name == name && r.column == column && r.deleted == table })
		}
		for _, fk := range desc.ForeignKeys {
			if keyCol[fk.RefTable] != "" && slices.Equal(fk.RefColumns, []string{keyCol[fk.RefTable]}) && len(fk.Columns) == 1 && !has(fk.Columns[0], fk.RefTable) {
				refs = append(refs, ref{desc, name, fk.Columns[0], fk.RefTable})
			}
		}
		if cfg != nil && cfg.Tables[name] != nil {
			for _, r := range cfg.Tables[name].References {
				if r.Path == "" && !r.InText() && keyCol[r.Table] != "" && desc.Column(r.Column) != nil && !has(r.Column, r.Table) {
					refs = append(refs, ref{desc, name, r.Column, r.Table})
				}
			}
		}
	}
	referred := map[string]bool{}
	for _, r := range refs {
		referred[r.deleted] = true
	}
	// deletes calls fn with each delete of a referred-to table, and its
	// key as the database holds it.
	deletes := func(fn func(table string, key string, op *merge.Op)) error {
		for _, tp := range plans {
			t := tr.tables[tp.Meta.Name]
			if !referred[tp.Meta.Name] || keyCol[tp.Meta.Name] == "" {
				continue
			}
			for op, err := range tp.Ops.All() {
				if err != nil {
					return err
				}
				if op.Kind != merge.Delete {
					continue
				}
				k, err := tr.dbKey(ctx, t, op.Before)
				if err != nil {
					return err
				}
				fn(tp.Meta.Name, string(k[0]), op)
			}
		}
		return nil
	}
	gone := map[string]map[string]string{} // table → key as the database holds it → the same, to count by
	err = deletes(func(table, key string, _ *merge.Op) {
		if gone[table] == nil {
			gone[table] = map[string]string{}
		}
		gone[table][key] = key
	})
	if err != nil {
		return nil, err
	}
	by := map[string]map[string][]string{} // table → key → what refers
	for _, r := range refs {
		count, err := referringCounts(ctx, tr.db, r.desc, r.column, gone[r.deleted])
		if err != nil {
			return nil, err
		}
		for k, n := range count {
			if by[r.deleted] == nil {
				by[r.deleted] = map[string][]string{}
			}
			by[r.deleted][k] = append(by[r.deleted][k], fmt.Sprintf("table %q, column %q (%s)", r.name, r.column, n))
		}
	}
	if len(by) == 0 {
		return nil, nil
	}
	var out []BlockedRow
	err = deletes(func(table, key string, op *merge.Op) {
		if refs := by[table][key]; len(refs) > 0 {
			out = append(out, BlockedRow{Table: table, Row: op.Before, ReferredBy: refs})
		}
	})
	return out, err
}
