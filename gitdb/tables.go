package gitdb

import (
	"context"
	"fmt"
	"sort"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// configTable is one table of class config, with everything export needs.
type configTable struct {
	Meta    *serialize.Table
	Options *config.Table // nil when .dbsync has no [table] section for it
	Desc    *dialect.Table
	columns []string // Meta.Columns names, for ReadRows
	// checkUnique is set when the key is not a declared unique constraint:
	// export then proves it unique in the data.
	checkUnique bool
}

// tableFor describes a table whose metadata comes from files (a revision,
// the ledger) for reading its rows from a target.
func tableFor(meta *serialize.Table, opts *config.Table, desc *dialect.Table) *configTable {
	names := make([]string, len(meta.Columns))
	for i, c := range meta.Columns {
		names[i] = c.Name
	}
	return &configTable{Meta: meta, Options: opts, Desc: desc, columns: names}
}

// catalog is the classification of every table of a database.
type catalog struct {
	Config       []*configTable
	Classes      map[string]config.Class
	Unclassified []string
	Warnings     []string
}

// readCatalog classifies every table of db and builds the metadata of the
// config tables, validating the [table] options against the catalog.
func readCatalog(ctx context.Context, cfg *config.Config, db dialect.Dialect) (*catalog, error) {
	names, err := db.Tables(ctx)
	if err != nil {
		return nil, err
	}
	cat := &catalog{Classes: map[string]config.Class{}}
	present := map[string]bool{}
	var configNames []string
	for _, name := range names {
		present[name] = true
		class, _, err := cfg.Classify(name)
		if err != nil {
			return nil, err
		}
		if class == "" {
			cat.Unclassified = append(cat.Unclassified, name)
			continue
		}
		cat.Classes[name] = class
		if class == config.ClassConfig {
			configNames = append(configNames, name)
		}
	}
	exported := map[string]bool{}
	for _, n := range configNames {
		exported[n] = true
	}
	for _, name := range configNames {
		t, err := buildConfigTable(ctx, cfg, db, name, exported)
		if err != nil {
			return nil, err
		}
		cat.Config = append(cat.Config, t)
	}
	var opts []string
	for name := range cfg.Tables {
		opts = append(opts, name)
	}
	sort.Strings(opts)
	for _, name := range opts {
		p := cfg.Tables[name].First
		switch {
		case !present[name]:
			cat.Warnings = append(cat.Warnings, fmt.Sprintf("%s:%d: [table %q] names a table the database does not have", p.File, p.Line, name))
		case cat.Classes[name] != config.ClassConfig:
			cat.Warnings = append(cat.Warnings, fmt.Sprintf("%s:%d: [table %q] has options but the table is not of class config", p.File, p.Line, name))
		}
	}
	return cat, nil
}

func buildConfigTable(ctx context.Context, cfg *config.Config, db dialect.Dialect, name string, exported map[string]bool) (*configTable, error) {
	desc, err := db.Describe(ctx, name)
	if err != nil {
		return nil, err
	}
	opts := cfg.Tables[name]
	excluded := map[string]bool{}
	if opts != nil {
		for _, c := range opts.ExcludeColumns {
			if desc.Column(c) == nil {
				return nil, &config.Error{Pos: opts.Pos["exclude-columns"], Msg: fmt.Sprintf("table %q has no column %q", name, c)}
			}
			excluded[c] = true
		}
	}
	t := &configTable{Options: opts, Desc: desc, Meta: &serialize.Table{Name: name, Layout: serialize.LayoutRows}}
	for _, c := range desc.Columns {
		if excluded[c.Name] || c.Generated {
			continue
		}
		t.Meta.Columns = append(t.Meta.Columns, serialize.Column{Name: c.Name, Type: c.Type, Nullable: c.Nullable, Scale: c.Scale})
		t.columns = append(t.columns, c.Name)
	}
	switch {
	case opts != nil && len(opts.Key) > 0:
		for _, k := range opts.Key {
			if desc.Column(k) == nil {
				return nil, &config.Error{Pos: opts.Pos["key"], Msg: fmt.Sprintf("table %q has no column %q", name, k)}
			}
			if excluded[k] {
				return nil, &config.Error{Pos: opts.Pos["key"], Msg: fmt.Sprintf("key column %q of table %q is also in exclude-columns", k, name)}
			}
		}
		t.Meta.Key = opts.Key
		t.checkUnique = !desc.IsUnique(opts.Key)
	case len(desc.PrimaryKey) > 0:
		t.Meta.Key = desc.PrimaryKey
	default:
		for _, u := range desc.Unique {
			if notNull(desc, u) {
				t.Meta.Key = u
				break
			}
		}
		if len(t.Meta.Key) == 0 {
			return nil, fmt.Errorf("table %q has no primary key or unique NOT NULL columns: set [table %q] key = <columns> in %s", name, name, cfg.File)
		}
	}
	if opts != nil && opts.Layout != "" {
		t.Meta.Layout = opts.Layout
	}
	for _, fk := range desc.ForeignKeys {
		if exported[fk.RefTable] {
			t.Meta.References = append(t.Meta.References, serialize.Reference{Columns: fk.Columns, Table: fk.RefTable, To: fk.RefColumns})
		}
	}
	if err := t.Meta.Prepare(); err != nil {
		if opts != nil && len(opts.Key) > 0 {
			return nil, &config.Error{Pos: opts.Pos["key"], Msg: err.Error()}
		}
		return nil, err
	}
	return t, nil
}

func notNull(t *dialect.Table, cols []string) bool {
	for _, c := range cols {
		if col := t.Column(c); col == nil || col.Nullable {
			return false
		}
	}
	return true
}
