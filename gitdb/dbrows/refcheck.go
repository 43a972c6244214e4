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
	col := desc.Column(r.Column)
	if col == nil {
		return &config.Error{Pos: r.Pos, Msg: fmt.Sprintf("table %q has no column %q", table, r.Column)}
	}
	set := map[string]bool{}
	for _, k := range gone {
		set[string(k)] = true
	}
	c := serialize.Column{Name: col.Name, Type: col.Type, Scale: col.Scale}
	count := map[string]int{}
	err = tx.ReadRows(ctx, desc, []string{col.Name}, nil, func(values []any) error {
		cell, err := serialize.AppendCell(nil, &c, values[0])
		if err == nil && set[string(cell)] {
			count[string(cell)]++
		}
		return err
	})
	if err != nil || len(count) == 0 {
		return err
	}
	var which []string
	for _, k := range slices.Sorted(maps.Keys(count)) {
		rows := "rows"
		if count[k] == 1 {
			rows = "row"
		}
		which = append(which, fmt.Sprintf("%s (%d %s)", k, count[k], rows))
	}
	return fmt.Errorf("table %q: column %q still refers to rows of %q that this apply deletes: %s (declared at %s); nothing was written",
		table, r.Column, r.Table, strings.Join(which, ", "), r.Pos)
}
