package gitdb

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/redact"
	"github.com/gitdbsync/git-dbsync/internal/fault"
	"github.com/gitdbsync/git-dbsync/internal/progress"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// tableCopy is one table on its way from the source to the target.
type tableCopy struct {
	src, dst         dialect.Dialect
	from, to         string
	srcDesc, dstDesc *dialect.Table
	scope            dialect.Table      // the source's table with the rows' filter
	names            []string           // the columns copied
	srcCols, dstCols []serialize.Column // as each side holds them
	key              []int              // the indexes of the primary key's columns in names
	others           []int              // the indexes of the other columns
	rules            *redact.Table
	// rowScope is a config table's row scope by key (rows = globs): only
	// the rows in it are copied and replaced. natKey indexes the columns
	// of a config table's key (natural, else primary) in names.
	rowScope *config.Table
	natKey   []int
	// keepCols index a config table's excluded columns (per-environment
	// values): the target keeps its values of them, by key, in kept.
	keepCols []int
	kept     map[string][]serialize.Cell
	result   PulledTable
	maxID    int64 // the largest id copied, for a single integer primary key
	// ids translate the columns that refer to a table the target keeps
	// (not pulled) and whose rows have a natural key: the source's id,
	// its row's key, the target's id for that key.
	ids []idMap
}

// idMap translates one column's ids of a referenced table from the
// source's to the target's, through the rows' natural key.
type idMap struct {
	col      int
	table    string
	none     []string
	srcByID  map[int64]string
	dstByKey map[string]int64
}

// translate replaces a row's ids of kept tables by the target's ids of
// the same rows (by natural key).
func (c *tableCopy) translate(key string, row []serialize.Cell) error {
	for _, m := range c.ids {
		cell := row[m.col]
		if string(cell) == string(serialize.NullCell) || serialize.NoneValue(m.none, cell) {
			continue
		}
		id, err := strconv.ParseInt(strings.Trim(string(cell), `"`), 10, 64)
		nat, ok := m.srcByID[id]
		if err != nil || !ok {
			return fmt.Errorf("table %q, row %s, column %q: refers to id %s of %q, which %q has no row of: nothing written", c.result.Table, c.label(key), c.names[m.col], cell, m.table, c.from)
		}
		dst, ok := m.dstByKey[nat]
		if !ok {
			return fmt.Errorf("table %q, row %s, column %q: refers to %s in %q, which %q does not have: nothing written\nhint: apply the configuration that adds it to %q first, or pull with --config", c.result.Table, c.label(key), c.names[m.col], nat, m.table, c.to, c.to)
		}
		row[m.col] = serialize.Cell(strconv.FormatInt(dst, 10))
	}
	return nil
}

// copyRows is how many rows go to the target in one call: the engines
// batch within it, and the progress display moves between calls.
const copyRows = 10000

// prepare checks that the target can hold the source's rows, compiles the
// redact rules and works out the rows in scope.
func (c *tableCopy) prepare(ctx context.Context, cfg *config.Config, key []byte) error {
	name := c.result.Table
	for _, sc := range c.srcDesc.Columns {
		if sc.Generated {
			continue
		}
		dc := c.dstDesc.Column(sc.Name)
		if dc == nil || dc.Generated {
			return fmt.Errorf("table %q: column %q is in %q but not in %q: bring %q's schema up to date first", name, sc.Name, c.from, c.to, c.to)
		}
		c.names = append(c.names, sc.Name)
		c.srcCols = append(c.srcCols, serialize.Column{Name: sc.Name, Type: sc.Type, Scale: sc.Scale, Nullable: sc.Nullable})
		c.dstCols = append(c.dstCols, serialize.Column{Name: dc.Name, Type: dc.Type, Scale: dc.Scale, Nullable: dc.Nullable})
	}
	for _, dc := range c.dstDesc.Columns {
		if !dc.Generated && c.srcDesc.Column(dc.Name) == nil {
			c.result.Kept = append(c.result.Kept, dc.Name)
		}
	}
	for _, k := range c.srcDesc.PrimaryKey {
		if i := slices.Index(c.names, k); i >= 0 {
			c.key = append(c.key, i)
		}
	}
	for i := range c.names {
		if !slices.Contains(c.key, i) {
			c.others = append(c.others, i)
		}
	}
	opts := cfg.Tables[name]
	var err error
	if c.rules, err = redact.Compile(c.dstDesc, c.dstCols, opts, key); err != nil {
		return err
	}
	if opts != nil {
		for _, r := range opts.Redactions {
			if r.Rule != "keep" {
				c.result.Redacted = append(c.result.Redacted, r.ColumnPath.String())
			}
		}
	}
	c.scope = *c.srcDesc
	c.scope.Filter = ""
	if c.result.Class == config.ClassConfig && opts != nil {
		// A config table's rows outside its scope are the environment's
		// own (a site URL, an admin address): they stay on the target.
		c.result.Where = opts.Where
		key := opts.Key
		if len(key) == 0 {
			key = c.srcDesc.PrimaryKey
		}
		for _, k := range key {
			i := slices.Index(c.names, k)
			if i < 0 {
				return fmt.Errorf("table %q: its key column %q is not copied", name, k)
			}
			c.natKey = append(c.natKey, i)
		}
		if opts.Scoped() {
			c.rowScope, c.result.Rows = opts, opts.Rows
		}
		for _, col := range opts.ExcludeColumns {
			if i := slices.Index(c.names, col); i >= 0 {
				c.keepCols = append(c.keepCols, i)
				c.result.KeptValues = append(c.result.KeptValues, col)
			}
		}
	}
	if p := cfg.Pull[name]; p != nil {
		c.result.Where = and(c.result.Where, p.Where)
		c.result.Limit = p.Limit
	}
	c.scope.Filter = c.result.Where
	if p := cfg.Pull[name]; p != nil && p.Limit > 0 {
		if c.scope.Filter, err = c.limited(ctx, p, c.result.Where); err != nil {
			return err
		}
	}
	return nil
}

// and joins two SQL conditions, either of which may be "".
func and(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return "(" + a + ") AND (" + b + ")"
}

// keyText is a config table's row key as text, one part per column.
func (c *tableCopy) keyText(row []serialize.Cell) []string {
	text := make([]string, len(c.natKey))
	for i, k := range c.natKey {
		text[i] = strings.Trim(string(row[k]), `"`)
	}
	return text
}

// inScope reports whether a row (cells in names' order) is in the config
// table's row scope by key.
func (c *tableCopy) inScope(row []serialize.Cell) bool {
	return c.rowScope == nil || c.rowScope.InScope(c.keyText(row))
}

// keepValues puts the target's values of the excluded columns into a row
// the target has too (by key).
func (c *tableCopy) keepValues(row []serialize.Cell) {
	if v, ok := c.kept[strings.Join(c.keyText(row), "\x00")]; ok {
		for i, k := range c.keepCols {
			row[k] = v[i]
		}
	}
}

// deleteInScope deletes the target's rows in scope: with a row scope by
// key, those whose key matches it, by primary key; else all that meet
// the filter.
func (c *tableCopy) deleteInScope(ctx context.Context, tx dialect.Tx) (int64, error) {
	if c.rowScope == nil && len(c.keepCols) == 0 {
		return tx.DeleteWhere(ctx, c.result.Table, c.result.Where)
	}
	if len(c.key) == 0 {
		return 0, fmt.Errorf("table %q has no primary key to delete the rows of its scope by", c.result.Table)
	}
	target := *c.dstDesc
	target.Filter = c.result.Where
	var keys [][]serialize.Cell
	c.kept = map[string][]serialize.Cell{}
	err := tx.ReadRows(ctx, &target, c.names, nil, func(values []any) error {
		row := make([]serialize.Cell, len(values))
		for i, v := range values {
			cell, err := serialize.AppendCell(nil, &c.dstCols[i], v)
			if err != nil {
				return fmt.Errorf("column %q: %w", c.names[i], err)
			}
			row[i] = cell
		}
		if !c.inScope(row) {
			return nil
		}
		key := make([]serialize.Cell, len(c.key))
		for i, k := range c.key {
			key[i] = row[k]
		}
		keys = append(keys, key)
		if len(c.keepCols) > 0 {
			c.kept[strings.Join(c.keyText(row), "\x00")] = serialize.Pick(row, c.keepCols)
		}
		return nil
	})
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	keyCols := make([]serialize.Column, len(c.key))
	for i, k := range c.key {
		keyCols[i] = c.dstCols[k]
	}
	return int64(len(keys)), tx.Delete(ctx, c.result.Table, keyCols, keys)
}

// limited is the source's filter that keeps the Limit rows with the
// highest primary key: the newest, in a table with ids.
func (c *tableCopy) limited(ctx context.Context, p *config.PullTable, where string) (string, error) {
	pk := c.srcDesc.PrimaryKey
	if len(pk) != 1 || c.srcDesc.Column(pk[0]).Type != serialize.Int {
		return "", fmt.Errorf("%s: table %q: limit keeps the rows with the highest ids, and needs a primary key of one integer column", p.Pos["limit"], c.result.Table)
	}
	q := "SELECT " + c.src.Quote(pk[0]) + " FROM " + c.src.Quote(c.result.Table) + dialect.Where(&dialect.Table{Filter: where}) +
		" ORDER BY " + c.src.Quote(pk[0]) + " DESC LIMIT 1 OFFSET " + strconv.FormatInt(p.Limit-1, 10)
	var cutoff any
	if err := c.src.Query(ctx, q, nil, func(v []any) error { cutoff = v[0]; return nil }); err != nil {
		return "", fmt.Errorf("%s: table %q: %w", p.Pos["limit"], c.result.Table, err)
	}
	if cutoff == nil {
		return where, nil // fewer rows than the limit
	}
	cell, err := serialize.AppendCell(nil, &serialize.Column{Type: serialize.Int}, cutoff)
	if err != nil {
		return "", err
	}
	return and(where, c.src.Quote(pk[0])+" >= "+string(cell)), nil
}

// copy streams the source's rows in scope into the target's transaction,
// converted to the target's types and redacted. Reading and writing
// overlap: batches go from the reader to a writer goroutine, at most two
// waiting, so memory stays flat and the two databases work at once.
func (c *tableCopy) copy(ctx context.Context, tx dialect.Tx, meter *progress.Meter) error {
	name := c.result.Table
	total, err := c.src.CountRows(ctx, name)
	if err != nil {
		total = -1
	}
	meter.Start("pulling "+name, total)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan [][]serialize.Cell, 1)
	written := make(chan error, 1)
	go func() {
		var err error
		for batch := range batches {
			if err != nil {
				continue // drained: the reader stops at the cancel
			}
			if err = tx.Insert(ctx, name, c.dstCols, batch); err != nil {
				err = fmt.Errorf("table %q: writing the pulled rows: %w", name, dialect.Explain(tx, err))
				cancel()
				continue
			}
			c.result.Copied += int64(len(batch))
			meter.Add(len(batch))
			fault.Point("mid-pull")
		}
		written <- err
	}()
	err = c.read(ctx, func(batch [][]serialize.Cell) { batches <- batch })
	close(batches)
	if werr := <-written; werr != nil {
		return werr // the reader's error, if any, is the cancel's
	}
	return err
}

// read reads the source's rows in scope, in batches of copyRows rows in
// the target's form, redacted.
func (c *tableCopy) read(ctx context.Context, send func([][]serialize.Cell)) error {
	name := c.result.Table
	order := append(append([]int(nil), c.key...), c.others...) // the key first: it names the row in messages
	batch := make([][]serialize.Cell, 0, copyRows)
	var arena []byte // the cells of a batch, in one buffer as big as the last batch's
	n := int64(0)
	// In no order: the engine reads the table as it lies, as pg_dump does.
	err := c.src.ReadRows(ctx, &c.scope, c.names, nil, func(values []any) error {
		n++
		row := make([]serialize.Cell, len(values))
		key := ""
		for _, i := range order {
			start := len(arena)
			var err error
			if arena, err = c.appendCell(arena, i, values[i]); err != nil {
				if key == "" {
					key = "#" + strconv.FormatInt(n, 10)
				}
				return fmt.Errorf("table %q, row %s, column %q: %w", name, c.label(key), c.names[i], err)
			}
			row[i] = serialize.Cell(arena[start:len(arena):len(arena)])
			if i == c.lastKey() {
				key = c.rowKey(row, n)
			}
		}
		if key == "" {
			key = c.rowKey(row, n)
		}
		if !c.inScope(row) {
			return nil
		}
		c.keepValues(row)
		if err := c.translate(key, row); err != nil {
			return err
		}
		if len(c.key) == 1 && c.srcCols[c.key[0]].Type == serialize.Int {
			if id, err := strconv.ParseInt(key, 10, 64); err == nil && id > c.maxID {
				c.maxID = id
			}
		}
		if err := c.rules.Apply(key, c.label, row); err != nil {
			return err
		}
		if batch = append(batch, row); len(batch) == copyRows {
			send(batch)
			batch, arena = make([][]serialize.Cell, 0, copyRows), make([]byte, 0, cap(arena))
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		send(batch)
	}
	return err
}

// appendCell appends the target's cell for a source value of column i.
func (c *tableCopy) appendCell(dst []byte, i int, v any) ([]byte, error) {
	out, err := serialize.AppendConverted(dst, &c.srcCols[i], &c.dstCols[i], v)
	if err != nil && c.srcCols[i].Type != c.dstCols[i].Type {
		return dst, fmt.Errorf("%s in %q, %s in %q: %w", c.srcCols[i].Type, c.from, c.dstCols[i].Type, c.to, err)
	}
	return out, err
}

// label names a row in messages: id=3, or #n in a table without a key.
func (c *tableCopy) label(key string) string {
	if len(c.key) == 0 || strings.HasPrefix(key, "#") {
		return key
	}
	names := make([]string, len(c.key))
	for i, k := range c.key {
		names[i] = c.names[k]
	}
	return strings.Join(names, ",") + "=" + key
}

// lastKey is the index of the primary key's last column, -1 for none.
func (c *tableCopy) lastKey() int {
	if len(c.key) == 0 {
		return -1
	}
	return c.key[len(c.key)-1]
}

// rowKey names a row by its primary key's values, or by its place (#n)
// in a table without one.
func (c *tableCopy) rowKey(row []serialize.Cell, n int64) string {
	if len(c.key) == 0 {
		return "#" + strconv.FormatInt(n, 10)
	}
	parts := make([]string, len(c.key))
	for i, k := range c.key {
		parts[i] = strings.Trim(string(row[k]), `"`)
	}
	return strings.Join(parts, "/")
}
