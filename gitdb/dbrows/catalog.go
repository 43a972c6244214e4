package dbrows

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Table is one table of class config, with everything export needs.
type Table struct {
	Meta    *serialize.Table
	Options *config.Table // nil when .dbsync has no [table] section for it
	Desc    *dialect.Table
	columns []string // Meta.Columns names, for ReadRows
	// checkUnique is set when the key is not a declared unique constraint:
	// export then proves it unique in the data.
	checkUnique bool
	mapping     []columnMapping // per Meta column: how it translates
	keyHasRef   bool            // a key column is a Ref: rows sort in memory
	keyOnly     bool            // a referable table of content: its ids and keys only (referable.go)
	// readOrder lists the Meta columns key columns first, the order a row
	// read converts them in (errors name the row); textRefCols those with
	// ids inside their text, converted last. Worked out once, not per row.
	readOrder, textRefCols []int
}

// TableFor describes a table whose metadata comes from files (a revision,
// the ledger) for reading its rows from a target.
func TableFor(meta *serialize.Table, opts *config.Table, desc *dialect.Table) (*Table, error) {
	names := make([]string, len(meta.Columns))
	for i, c := range meta.Columns {
		names[i] = c.Name
	}
	t := &Table{Meta: meta, Options: opts, Desc: desc, columns: names}
	return t, t.prepareMapping()
}

// Target describes a table whose metadata comes from the files of a
// revision (file names its table.json there) as the target has it.
func Target(ctx context.Context, db dialect.Reader, cfg *config.Config, meta *serialize.Table, file, rev string) (*Table, error) {
	desc, err := db.Describe(ctx, meta.Name)
	if err != nil {
		if busy := dialect.Explain(db, err); errors.As(busy, new(*dialect.BusyError)) {
			// A lock wait, or a deadlock (on Galera, the transaction
			// aborted by another node's commit), is not a missing table.
			return nil, fmt.Errorf("table %q: %w", meta.Name, busy)
		}
		return nil, fmt.Errorf("%s at %s: the target has no such table", path.Dir(file), rev)
	}
	if err := CheckColumns(meta, desc, file, rev); err != nil {
		return nil, err
	}
	return TableFor(meta, cfg.Tables[meta.Name], desc)
}

// CheckColumns proves that the target can hold the revision's rows.
func CheckColumns(meta *serialize.Table, desc *dialect.Table, file, rev string) error {
	if s := meta.Surrogate; s != "" {
		if dc := desc.Column(s); dc == nil || dc.Type != serialize.Int {
			return fmt.Errorf("%s at %s: the target has no integer column %q to hold the rows' ids", file, rev, s)
		}
	}
	for _, c := range meta.Columns {
		dc := desc.Column(c.Name)
		want := c.Type
		switch {
		case c.Type == serialize.Ref:
			want = serialize.Int // the referenced row's id
		case dc != nil && portableJSON(c, dc):
			want = dc.Type
		case c.Codec != "" && dc != nil && dc.Type == serialize.Bytes:
			want = serialize.Bytes // the encoded value
		case c.Codec != "":
			want = serialize.Text
		}
		switch {
		case dc == nil:
			return fmt.Errorf("%s at %s: column %q does not exist in the target", file, rev, c.Name)
		case dc.Generated:
			return fmt.Errorf("%s at %s: column %q is generated in the target and cannot be written", file, rev, c.Name)
		case dc.Type != want:
			return fmt.Errorf("%s at %s: column %q is %s in the files but %s (%s) in the target", file, rev, c.Name, want, dc.Type, dc.DeclType)
		}
	}
	return nil
}

// portableJSON reports a JSON value that one engine holds as JSON and
// another as JSON text: a json codec over text is the same files as a
// JSON column, so SQLite's TEXT and PostgreSQL's jsonb exchange revisions.
func portableJSON(c serialize.Column, dc *dialect.Column) bool {
	return c.Type == serialize.JSON && (c.Codec == "json" && dc.Type == serialize.JSON || c.Codec == "" && dc.Type == serialize.Text)
}

// Catalog is the classification of every table of a database.
type Catalog struct {
	Config []*Table
	// Referable are the tables of other classes that config refers to by
	// key (referable.go): for the translator only.
	Referable    []*Table
	Classes      map[string]config.Class
	Unclassified []string
	Warnings     []string
}

// ReadCatalog classifies every table of db and builds the metadata of the
// config tables, validating the [table] options against the catalog.
func ReadCatalog(ctx context.Context, cfg *config.Config, db dialect.Dialect) (*Catalog, error) {
	names, err := db.Tables(ctx)
	if err != nil {
		return nil, err
	}
	cat := &Catalog{Classes: map[string]config.Class{}}
	present := map[string]bool{}
	var configNames []string
	for _, name := range names {
		present[name] = true
		if config.Reserved(name) && !slices.Contains(config.OwnTables, name) {
			cat.Warnings = append(cat.Warnings, fmt.Sprintf("table %q has a name git dbsync reserves (dbsync_*, whatever the case): it is never exported", name))
		}
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
	// The surrogate of every exported table first: references to it are
	// exported as natural keys.
	// Every table described at once: a round trip each is most of what a
	// server's catalog costs.
	var described []string
	for _, name := range names {
		if class := cat.Classes[name]; class == config.ClassConfig || class != "" && referable(cfg, name, class) {
			described = append(described, name)
		}
	}
	descs, err := dialect.DescribeTables(ctx, db, described)
	if err != nil {
		return nil, err
	}
	surrogates := map[string]string{}
	for _, name := range configNames {
		surrogates[name] = surrogateOf(descs[name], cfg.Tables[name])
	}
	for _, name := range names {
		if class := cat.Classes[name]; class == "" || !referable(cfg, name, class) {
			continue
		}
		desc := descs[name]
		kt, err := keyTable(cfg.Tables[name], desc)
		if err != nil {
			return nil, err
		}
		descs[name], surrogates[name] = desc, kt.Meta.Surrogate
		cat.Referable = append(cat.Referable, kt)
	}
	for _, name := range configNames {
		t, err := buildConfigTable(cfg, descs[name], descs, surrogates)
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
		case cat.Classes[name] != config.ClassConfig && !onlyAnyClassOptions(cfg.Tables[name]) && !referable(cfg, name, cat.Classes[name]):
			cat.Warnings = append(cat.Warnings, fmt.Sprintf("%s:%d: [table %q] has options but the table is not of class config", p.File, p.Line, name))
		}
	}
	return cat, nil
}

// onlyAnyClassOptions reports a [table] section whose options all serve
// a table of any class: references, which apply checks, and what pull
// reads, the redact rules (and the codec their paths decode with).
func onlyAnyClassOptions(t *config.Table) bool {
	for key := range t.Pos {
		switch key {
		case "reference", "redact":
		case "codec":
			if len(t.Redactions) == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// surrogateOf returns the id column a natural key stands in for: a
// single integer primary key column that is not part of the key set in
// .dbsync.
func surrogateOf(desc *dialect.Table, opts *config.Table) string {
	if opts == nil || len(opts.Key) == 0 || len(desc.PrimaryKey) != 1 || slices.Contains(opts.Key, desc.PrimaryKey[0]) {
		return ""
	}
	if c := desc.Column(desc.PrimaryKey[0]); c == nil || c.Type != serialize.Int {
		return ""
	}
	return desc.PrimaryKey[0]
}

// buildConfigTable builds the files' metadata of a table; surrogates
// holds the surrogate column of every exported table ("" for none).
func buildConfigTable(cfg *config.Config, desc *dialect.Table, descs map[string]*dialect.Table, surrogates map[string]string) (*Table, error) {
	name := desc.Name
	opts := cfg.Tables[name]
	excluded := map[string]bool{}
	if err := checkColumnOptions(opts, desc); err != nil {
		return nil, err
	}
	if opts != nil {
		for _, c := range opts.ExcludeColumns {
			if desc.Column(c) == nil {
				return nil, &config.Error{Pos: opts.Pos["exclude-columns"], Msg: fmt.Sprintf("table %q has no column %q", name, c)}
			}
			excluded[c] = true
		}
	}
	t := &Table{Options: opts, Desc: desc, Meta: &serialize.Table{Name: name, Layout: serialize.LayoutRows}}
	t.Meta.Surrogate = surrogates[name]
	refs, err := references(cfg, desc, descs, surrogates)
	if err != nil {
		return nil, err
	}
	for _, c := range desc.Columns {
		if excluded[c.Name] || c.Generated || c.Name == t.Meta.Surrogate {
			continue
		}
		col := serialize.Column{Name: c.Name, Type: c.Type, Nullable: c.Nullable, Scale: c.Scale}
		for _, r := range refs {
			if len(r.Columns) == 1 && r.Columns[0] == c.Name && surrogates[r.Table] != "" && r.To[0] == surrogates[r.Table] {
				col.Type, col.Scale = serialize.Ref, 0
			}
		}
		if err := columnOptions(opts, c, &col); err != nil {
			return nil, err
		}
		t.Meta.Columns = append(t.Meta.Columns, col)
		t.columns = append(t.columns, c.Name)
	}
	t.Meta.References = refs
	switch {
	case opts != nil && len(opts.Key) > 0:
		for _, k := range opts.Key {
			if desc.Column(k) == nil {
				return nil, &config.Error{Pos: opts.Pos["key"], Msg: fmt.Sprintf("table %q has no column %q", name, k)}
			}
			if excluded[k] {
				return nil, &config.Error{Pos: opts.Pos["key"], Msg: fmt.Sprintf("key column %q of table %q is also in exclude-columns", k, name)}
			}
			for _, s := range opts.Secrets {
				if s.Column == k {
					return nil, &config.Error{Pos: s.Pos, Msg: fmt.Sprintf("key column %q of table %q cannot be secret", k, name)}
				}
			}
		}
		t.Meta.Key = opts.Key
		t.checkUnique = !desc.IsUnique(opts.Key)
	case len(desc.PrimaryKey) > 0:
		t.Meta.Key = desc.PrimaryKey
	default:
		for _, u := range desc.Unique {
			if desc.NotNull(u) {
				t.Meta.Key = u
				break
			}
		}
		if len(t.Meta.Key) == 0 {
			return nil, fmt.Errorf("table %q has no primary key or unique NOT NULL columns: set [table %q] key = <columns> in %s", name, name, cfg.File)
		}
	}
	if !opts.AutoLayout() {
		t.Meta.Layout = opts.Layout
	}
	if err := t.Meta.Prepare(); err != nil {
		if opts != nil && len(opts.Key) > 0 {
			return nil, &config.Error{Pos: opts.Pos["key"], Msg: err.Error()}
		}
		return nil, err
	}
	return t, t.prepareMapping()
}

// references lists a table's references to exported tables: the foreign
// keys of the catalog and the column references .dbsync declares (for
// applications without foreign keys), ordered by their columns.
func references(cfg *config.Config, desc *dialect.Table, descs map[string]*dialect.Table, surrogates map[string]string) ([]serialize.Reference, error) {
	var refs []serialize.Reference
	for _, fk := range desc.ForeignKeys {
		if _, exported := surrogates[fk.RefTable]; exported {
			refs = append(refs, serialize.Reference{Columns: fk.Columns, Table: fk.RefTable, To: fk.RefColumns})
		}
	}
	var declared []config.Reference
	if opts := cfg.Tables[desc.Name]; opts != nil {
		declared = opts.References
	}
	for _, r := range declared {
		sur, exported := surrogates[r.Table]
		switch {
		case desc.Column(r.Column) == nil:
			return nil, &config.Error{Pos: r.Pos, Msg: fmt.Sprintf("table %q has no column %q", desc.Name, r.Column)}
		case !exported:
			return nil, &config.Error{Pos: r.Pos, Msg: fmt.Sprintf("table %q is not exported (class config), nor referable: declare its key ([table %q] key = <columns>) for references to it to travel by key", r.Table, r.Table)}
		case (r.Path != "" || r.InText()) && sur == "":
			return nil, &config.Error{Pos: r.Pos, Msg: fmt.Sprintf("ids inside values can only refer to a table with a natural key; %q has none", r.Table)}
		case r.WhereColumn != "" && desc.Column(r.WhereColumn) == nil:
			return nil, &config.Error{Pos: r.Pos, Msg: fmt.Sprintf("table %q has no column %q", desc.Name, r.WhereColumn)}
		case r.Path != "" || r.InText():
			continue // translated inside the value; not a column reference
		}
		to := []string{sur}
		if sur == "" {
			to = descs[r.Table].PrimaryKey
		}
		if len(to) != 1 {
			return nil, &config.Error{Pos: r.Pos, Msg: fmt.Sprintf("table %q has no single-column primary key to refer to", r.Table)}
		}
		ref := serialize.Reference{Columns: []string{r.Column}, Table: r.Table, To: to, None: r.None}
		if i := slices.IndexFunc(refs, func(fk serialize.Reference) bool {
			return slices.Equal(fk.Columns, ref.Columns) && fk.Table == ref.Table
		}); i >= 0 {
			refs[i].None = r.None // a foreign key SQLite does not enforce may hold "no row" values too
			continue
		}
		refs = append(refs, ref)
	}
	// Each engine lists foreign keys in its own order; table.json must be
	// the same bytes whichever engine exported it.
	slices.SortStableFunc(refs, func(a, b serialize.Reference) int {
		if c := slices.Compare(a.Columns, b.Columns); c != 0 {
			return c
		}
		return strings.Compare(a.Table, b.Table)
	})
	return refs, nil
}

// checkColumnOptions proves that the columns codec, secret, exclude-paths
// and reference name exist: a misspelt secret column would otherwise be
// exported.
func checkColumnOptions(opts *config.Table, desc *dialect.Table) error {
	if opts == nil {
		return nil
	}
	missing := func(col string, p config.Pos) error {
		if desc.Column(col) != nil {
			return nil
		}
		return &config.Error{Pos: p, Msg: fmt.Sprintf("table %q has no column %q", desc.Name, col)}
	}
	for _, col := range slices.Sorted(maps.Keys(opts.Codecs)) {
		if err := missing(col, opts.Pos["codec"]); err != nil {
			return err
		}
	}
	for _, list := range [][]config.ColumnPath{opts.Secrets, opts.ExcludePaths, opts.Sets} {
		for _, cp := range list {
			if err := missing(cp.Column, cp.Pos); err != nil {
				return err
			}
		}
	}
	return nil
}

// columnOptions applies a column's codec and secret options.
func columnOptions(opts *config.Table, dc dialect.Column, col *serialize.Column) error {
	if opts == nil {
		return nil
	}
	if name, ok := opts.Codecs[dc.Name]; ok {
		switch {
		case name == "json" && (dc.Type == serialize.Text || dc.Type == serialize.JSON):
			// JSON held as text is a JSON column in the files, so the
			// same .dbsync and the same files serve TEXT and jsonb alike.
			col.Type = serialize.JSON
		case dc.Type != serialize.Text && dc.Type != serialize.Bytes:
			return &config.Error{Pos: opts.Pos["codec"], Msg: fmt.Sprintf("column %q of table %q is %s (%s): a codec decodes text or bytes", dc.Name, opts.Name, dc.Type, dc.DeclType)}
		default:
			col.Type, col.Codec = serialize.JSON, name
		}
	}
	for _, s := range opts.Secrets {
		if s.Column == dc.Name && s.Path == "" {
			col.Secret = true
		}
	}
	for _, s := range opts.Sets {
		if s.Column != dc.Name {
			continue
		}
		if col.Type != serialize.JSON {
			return &config.Error{Pos: s.Pos, Msg: fmt.Sprintf("column %q of table %q holds no JSON (set a codec for it): it has no arrays to merge as sets", dc.Name, opts.Name)}
		}
		col.Sets = append(col.Sets, merge.PathOf(memberNames(s.Path)...))
	}
	return nil
}

// memberNames splits a path of members (a.b, a\.b for a dot in a name).
func memberNames(path string) []string {
	if path == "" {
		return nil
	}
	var names []string
	var cur strings.Builder
	for i := 0; i < len(path); i++ {
		switch {
		case path[i] == '\\' && i+1 < len(path):
			i++
			cur.WriteByte(path[i])
		case path[i] == '.':
			names = append(names, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(path[i])
		}
	}
	return append(names, cur.String())
}

// Tables are the tables a translator of this database needs: the config
// ones and the referable ones.
func (c *Catalog) Tables() []*Table { return append(slices.Clip(c.Config), c.Referable...) }
