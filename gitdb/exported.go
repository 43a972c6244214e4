package gitdb

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/ledger"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/internal/atomicfile"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// An export records, in the clone, which database it read and the tree
// of the files it left. A development database with no ledger yet whose
// last export is exactly what HEAD holds (exported, then committed with
// plain git commit) is in step with HEAD: the rows it lacks since were
// deleted there, and the next commit exports that. Any other database
// with no ledger gets a first apply of the files (Sync).

type exported struct {
	Where string `json:"where"` // the database, as dialect.Locator names it
	Tree  string `json:"tree"`  // the export directory's tree as the export left it
}

func (w *Workspace) exportedPath(env string) (string, error) {
	gitDir, err := repo.GitDir(w.Root)
	return filepath.Join(gitDir, "dbsync", "exported", serialize.FileName(env)), err
}

// recordExport notes what an export of env's database left in the
// working tree; a failure only loses the note.
func (w *Workspace) recordExport(ctx context.Context, db dialect.Dialect, env string) {
	l, ok := db.(dialect.Locator)
	if !ok {
		return
	}
	where, err := l.Where(ctx)
	if err != nil {
		return
	}
	tree, err := w.workTreeExport()
	p, perr := w.exportedPath(env)
	if err != nil || perr != nil {
		return
	}
	data, _ := json.Marshal(exported{Where: where, Tree: tree})
	if os.MkdirAll(filepath.Dir(p), 0o777) == nil {
		atomicfile.WriteFile(p, data, 0o666)
	}
}

// lastExport returns the note of db's last export from this clone; nil
// when there is none, or it was of another database.
func (w *Workspace) lastExport(ctx context.Context, db dialect.Dialect, env string) *exported {
	p, err := w.exportedPath(env)
	if err != nil {
		return nil
	}
	data, err := os.ReadFile(p)
	var e exported
	if err != nil || json.Unmarshal(data, &e) != nil {
		return nil
	}
	if l, ok := db.(dialect.Locator); ok {
		if where, err := l.Where(ctx); err == nil && where == e.Where {
			return &e
		}
	}
	return nil
}

// exportedAtHead reports whether db's last export from this clone left
// exactly the export directory HEAD holds.
func (w *Workspace) exportedAtHead(ctx context.Context, db dialect.Dialect, env string) bool {
	e := w.lastExport(ctx, db, env)
	head, err := repo.Git{Dir: w.Root}.Line("rev-parse", "HEAD:"+w.Config.Dir)
	return e != nil && err == nil && head == e.Tree
}

// workTreeExport is the tree id the working tree's export directory
// would have in a commit, computed in an index of its own (the
// repository's index is left alone).
func (w *Workspace) workTreeExport() (string, error) {
	gitDir, err := repo.GitDir(w.Root)
	if err != nil {
		return "", err
	}
	index := filepath.Join(gitDir, "dbsync", "export-index")
	defer os.Remove(index)
	git := repo.Git{Dir: w.Root, Env: []string{"GIT_INDEX_FILE=" + index}}
	if _, err := git.Output(streamBigFiles("add", "-A", "--", w.Config.Dir)...); err != nil {
		return "", err
	}
	return git.Line("write-tree", "--prefix="+w.Config.Dir+"/")
}

// neverInStep reports a database that has never been in step with the
// files of this clone: no ledger entry (no sync, no apply) and no export
// of it from here. Exporting it would take every row it lacks for a row
// deleted: a new clone's empty database would delete the team's
// configuration.
func (w *Workspace) neverInStep(ctx context.Context, db dialect.Dialect, env string) (bool, error) {
	l, err := ledger.Read(ctx, db)
	if err != nil || len(l.Entries) > 0 {
		return false, err
	}
	return w.lastExport(ctx, db, env) == nil, nil
}
