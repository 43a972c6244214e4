package gitdb

import (
	"context"
	"fmt"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/merge"
)

// BlockedDeleteError is a delete chosen (--theirs, --resolve …=theirs)
// for a row that rows outside the plan still refer to: it cannot be
// written, and nothing is.
type BlockedDeleteError struct {
	Table, Key string
	ReferredBy []string
}

func (e *BlockedDeleteError) Error() string {
	return fmt.Sprintf("table %q, row %q: cannot delete the row: %s still %s to it; nothing written\n"+
		"hint: keep the row (--ours), or change the rows that refer to it first",
		e.Table, e.Key, strings.Join(e.ReferredBy, " and "), refer(len(e.ReferredBy)))
}

func refer(n int) string {
	if n == 1 {
		return "refers"
	}
	return "refer"
}

// block turns each delete of the plan that rows outside it (content,
// above all) still refer to into a conflict of its own (blocked-delete),
// and settles those a side was chosen for: by choices (--resolve), else
// by rest (--ours, --theirs; never a table's merge policy, which cannot
// know what content uses). Keeping the row drops the delete; deleting it
// cannot be written and is an error naming what refers to it.
func (p *planned) block(ctx context.Context, choices Choices, rest merge.Resolution) error {
	blocked, err := p.tr.BlockedDeletes(ctx, p.cfg, p.Tables)
	if err != nil {
		return err
	}
	byTable := map[string][]merge.Blocked{}
	for _, b := range blocked {
		byTable[b.Table] = append(byTable[b.Table], merge.Blocked{Row: b.Row, ReferredBy: b.ReferredBy})
	}
	for _, tp := range p.Tables {
		if rows := byTable[tp.Meta.Name]; len(rows) > 0 {
			if _, err := tp.Block(rows); err != nil {
				return err
			}
		}
	}
	for _, tp := range p.Tables {
		choose := choices.chooser(tp.Meta)
		for i := range tp.Conflicts {
			c := &tp.Conflicts[i]
			if c.Kind != merge.BlockedDelete || c.Resolution != merge.Unresolved {
				continue
			}
			side, ok := choose(c.Row(), "", "")
			if !ok {
				side = rest
			}
			switch side {
			case merge.Ours:
				c.Resolution = merge.Ours
			case merge.Theirs:
				return &BlockedDeleteError{Table: tp.Meta.Name, Key: keyText(tp.Meta, c.Row()), ReferredBy: c.ReferredBy}
			}
		}
	}
	return nil
}
