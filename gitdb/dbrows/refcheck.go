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
			if r.Path != "" || len(gone) == 0 {
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
	col := desc.Column(column)
	c := serialize.Column{Name: col.Name, Type: col.Type, Scale: col.Scale}
	count := map[string]int{}
	err := db.ReadRows(ctx, desc, []string{col.Name}, nil, func(values []any) error {
		cell, err := serialize.AppendCell(nil, &c, values[0])
		if name, ok := keys[string(cell)]; err == nil && ok {
			count[name]++
		}
		return err
	})
	if err != nil || len(count) == 0 {
		return "", err
	}
	var which []string
	for _, k := range slices.Sorted(maps.Keys(count)) {
		rows := "rows"
		if count[k] == 1 {
			rows = "row"
		}
		which = append(which, fmt.Sprintf("%s (%d %s)", k, count[k], rows))
	}
	return strings.Join(which, ", "), nil
}

// BlockedDeletes finds the rows of tables a plan does not write (content,
// above all) that still refer to rows it deletes, through the catalog's
// foreign keys or the references .dbsync declares: the engine would refuse
// the delete, or the rows would be left dangling. One message per
// referring column, naming the deleted rows and how many rows refer to
// each.
func (tr *Translator) BlockedDeletes(ctx context.Context, cfg *config.Config, plans []*merge.TablePlan) ([]string, error) {
	planned := map[string]bool{}
	gone := map[string]map[string]string{} // table → key as the database holds it → the row as the files name it
	keyCol := map[string]string{}
	for _, tp := range plans {
		meta, t := tp.Meta, tr.tables[tp.Meta.Name]
		planned[meta.Name] = true
		if t == nil || meta.Surrogate == "" && len(meta.Key) != 1 {
			continue
		}
		for _, op := range tp.Ops {
			if op.Kind != merge.Delete {
				continue
			}
			k, err := tr.dbKey(ctx, t, op.Before)
			if err != nil {
				return nil, err
			}
			if gone[meta.Name] == nil {
				gone[meta.Name], keyCol[meta.Name] = map[string]string{}, meta.Key[0]
				if meta.Surrogate != "" {
					keyCol[meta.Name] = meta.Surrogate
				}
			}
			gone[meta.Name][string(k[0])] = meta.DescribeKey(op.Before)
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
	var out []string
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
		if opts := cfg.Tables[name]; opts != nil {
			for _, r := range opts.References {
				if r.Path == "" && gone[r.Table] != nil && desc.Column(r.Column) != nil && !slices.Contains(refs, ref{r.Column, r.Table}) {
					refs = append(refs, ref{r.Column, r.Table})
				}
			}
		}
		for _, r := range refs {
			which, err := Referring(ctx, tr.db, desc, r.column, gone[r.table])
			if err != nil {
				return nil, err
			}
			if which != "" {
				out = append(out, fmt.Sprintf("table %q: column %q still refers to rows of %q that this revision deletes: %s", name, r.column, r.table, which))
			}
		}
	}
	return out, nil
}
