package gitdb

import (
	"fmt"

	"github.com/gitdbsync/git-dbsync/gitdb/dbrows"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// idRename says when a first apply of a table matched by its integer id
// would change a unique name in most of the rows it matches: the target's
// ids then mean other rows (the application was installed there on its
// own), and the apply would rename rows instead of updating them. "" when
// it would not.
func idRename(t *dbrows.Table, tp *merge.TablePlan) (string, error) {
	meta := t.Meta
	if meta.Surrogate != "" || len(meta.Key) != 1 || meta.Columns[meta.Index(meta.Key[0])].Type != serialize.Int || tp.Count(merge.Update) == 0 {
		return "", nil
	}
	key := meta.Index(meta.Key[0])
	matched := tp.Unchanged + tp.Count(merge.Update)
	for _, u := range t.Desc.Unique {
		if len(u) != 1 || !t.Desc.NotNull(u) {
			continue
		}
		i := meta.Index(u[0])
		if i < 0 || meta.Columns[i].Type != serialize.Text {
			continue
		}
		changed, example := 0, ""
		for op, err := range tp.Ops.All() {
			if err != nil {
				return "", err
			}
			if op.Kind == merge.Update && string(op.Before[i]) != string(op.After[i]) {
				if changed++; example == "" {
					example = fmt.Sprintf("%s=%s: %s → %s", meta.Key[0], op.After[key], op.Before[i], op.After[i])
				}
			}
		}
		if changed > 0 && changed*2 > matched {
			return fmt.Sprintf("table %q: this first apply changes %s in %d of the %d rows it matches by %s (%s): the ids mean other rows here; "+
				"match rows by name with 'key = %s' in [table %q] of .dbsync (then export and commit), or apply with --shared-ids if the ids are the same rows",
				meta.Name, u[0], changed, matched, meta.Key[0], example, u[0], meta.Name), nil
		}
	}
	return "", nil
}
