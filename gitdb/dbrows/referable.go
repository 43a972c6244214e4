package dbrows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Configuration often points at content: a menu link at a page, a front
// page setting at a post. A table of another class than config (content,
// ignore …) whose [table] section declares a key is referable: its rows
// are never exported, but references to them travel by that key (a
// page's slug, a node's uuid) and are looked up on the target, whose ids
// differ.

// referable reports whether .dbsync lets references into a table of
// another class travel by key: it declares the key.
func referable(cfg *config.Config, name string, class config.Class) bool {
	opts := cfg.Tables[name]
	return class != config.ClassConfig && opts != nil && len(opts.Key) > 0
}

// keyTable describes a referable table for the translator: its surrogate
// id and its key columns, no more (its rows are looked up, never read
// whole). It fails when the table has no single integer id the key
// stands for.
func keyTable(opts *config.Table, desc *dialect.Table) (*Table, error) {
	sur := surrogateOf(desc, opts)
	if sur == "" {
		return nil, &config.Error{Pos: opts.Pos["key"], Msg: fmt.Sprintf("table %q: references to it travel by its key, which needs a single integer primary key (the id the key stands for) besides the key columns", desc.Name)}
	}
	meta := &serialize.Table{Name: desc.Name, Surrogate: sur, Key: opts.Key, Layout: serialize.LayoutRows}
	for _, k := range opts.Key {
		c := desc.Column(k)
		if c == nil {
			return nil, &config.Error{Pos: opts.Pos["key"], Msg: fmt.Sprintf("table %q has no column %q", desc.Name, k)}
		}
		meta.Columns = append(meta.Columns, serialize.Column{Name: c.Name, Type: c.Type, Nullable: c.Nullable, Scale: c.Scale})
	}
	if err := meta.Prepare(); err != nil {
		return nil, err
	}
	t := &Table{Meta: meta, Options: opts, Desc: desc, columns: slices.Clone(opts.Key), keyOnly: true}
	return t, t.prepareMapping()
}

// Referenced describes, on a target, the referable tables the revision's
// tables refer to and does not export (as the revision's .dbsync declares
// their keys), for the translator: a reference into content is looked up
// by key there.
func Referenced(ctx context.Context, db dialect.Reader, cfg *config.Config, tables []*Table) ([]*Table, error) {
	have := map[string]bool{}
	for _, t := range tables {
		have[t.Meta.Name] = true
	}
	var out []*Table
	for _, t := range tables {
		for _, table := range t.referredTables() {
			if have[table] {
				continue
			}
			have[table] = true
			opts := cfg.Tables[table]
			if opts == nil || len(opts.Key) == 0 {
				continue // a reference the target checks by id (a foreign key to a table without a key)
			}
			desc, err := db.Describe(ctx, table)
			if err != nil {
				return nil, fmt.Errorf("table %q refers to %q, which the target does not have", t.Meta.Name, table)
			}
			kt, err := keyTable(opts, desc)
			if err != nil {
				return nil, err
			}
			out = append(out, kt)
		}
	}
	return out, nil
}

// referredTables lists the tables t's columns refer to: its column
// references, and those of ids inside its values and text.
func (t *Table) referredTables() []string {
	var out []string
	for _, r := range t.Meta.References {
		out = append(out, r.Table)
	}
	if t.Options != nil {
		for _, r := range t.Options.References {
			if r.Path != "" || r.InText() {
				out = append(out, r.Table)
			}
		}
	}
	return out
}

// KeyIDs reads the ids and natural keys of every row of a table that
// .dbsync gives a natural key standing for a single integer id: the
// translation between two databases' ids of one row (pull). ok is false
// when the table has no such key.
func KeyIDs(ctx context.Context, db dialect.Reader, cfg *config.Config, table string) (byID map[int64]string, byKey map[string]int64, ok bool, err error) {
	opts := cfg.Tables[table]
	if opts == nil || len(opts.Key) == 0 {
		return nil, nil, false, nil
	}
	desc, err := db.Describe(ctx, table)
	if err != nil {
		return nil, nil, false, err
	}
	if surrogateOf(desc, opts) == "" {
		return nil, nil, false, nil
	}
	kt, err := keyTable(opts, desc)
	if err != nil {
		return nil, nil, false, err
	}
	km, err := NewTranslator(db, []*Table{kt}).keyMap(ctx, table)
	if err != nil {
		return nil, nil, false, err
	}
	for key := range km.ambiguous { // rows sharing a key: none is found by it
		delete(km.byKey, key)
	}
	return km.byID, km.byKey, true, nil
}

// MissingContent finds the first row the plans write whose reference
// into referable content names a key the target does not have: what the
// write would refuse, found by the plan, so that plan and apply agree.
// (References inside JSON values are found by the write.)
func (tr *Translator) MissingContent(ctx context.Context, plans []*merge.TablePlan) error {
	var missing MissingContentError // every one, so that one run names them all
	for _, p := range plans {
		t := tr.tables[p.Meta.Name]
		if t == nil {
			continue
		}
		for i := range t.mapping {
			if !tr.refersToContent(&t.mapping[i]) {
				continue
			}
			for op, err := range p.Ops.All() {
				if err != nil {
					return err
				}
				if op.After == nil || string(op.After[i]) == string(serialize.NullCell) {
					continue
				}
				_, err := tr.cellToDB(ctx, t, i, op.After, nil)
				var ref *RefError
				switch {
				case errors.As(err, &ref) && ref.Content:
					missing = append(missing, ref)
				case err != nil:
					return err
				}
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return missing
}

// MissingContentError lists the references into content that name rows
// the target does not have. It unwraps to each *RefError.
type MissingContentError []*RefError

func (e MissingContentError) Error() string {
	if len(e) == 1 {
		return e[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d references name rows of content the target does not have: nothing written", len(e))
	for _, r := range e {
		fmt.Fprintf(&b, "\n  table %q, row %s: column %q refers to %s in %q", r.Table, r.Row, r.Column, r.Key, r.RefTable)
	}
	b.WriteString("\nhint: create those rows on the target (or change the references in the revision), then apply again")
	return b.String()
}

func (e MissingContentError) Unwrap() []error {
	out := make([]error, len(e))
	for i, r := range e {
		out[i] = r
	}
	return out
}

// refersToContent reports a column whose references (whole, or ids
// inside its text) lead into a referable table of another class.
func (tr *Translator) refersToContent(m *columnMapping) bool {
	content := func(table string) bool { ref := tr.tables[table]; return ref != nil && ref.keyOnly }
	return content(m.ref) || slices.ContainsFunc(m.textRefs, func(r textRef) bool { return content(r.table) }) ||
		slices.ContainsFunc(m.pathRefs, func(r pathRef) bool { return content(r.table) })
}
