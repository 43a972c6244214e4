// Package gitdb is the engine of git dbsync: the use cases the commands
// call (init, export, diff, status, plan, apply, rollback, the hooks'
// sync, and the git drivers). Each ties the repository's .dbsync (config),
// the repository (repo), the export directory (exportdir) and a target's
// rows in the files' form (dbrows) together, and records changes in the
// target's ledger (ledger). It prints nothing: it returns results,
// reports and typed errors for the command layer to show.
package gitdb

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dbrows"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	_ "github.com/gitdbsync/git-dbsync/gitdb/dialect/mysql"
	_ "github.com/gitdbsync/git-dbsync/gitdb/dialect/postgres"
	_ "github.com/gitdbsync/git-dbsync/gitdb/dialect/sqlite" // the embedded default engine
	"github.com/gitdbsync/git-dbsync/gitdb/exportdir"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/internal/progress"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// FindRoot returns the top of the git work tree that contains dir.
func FindRoot(dir string) (string, error) { return repo.FindRoot(dir) }

// Workspace is a repository with a loaded .dbsync.
type Workspace struct {
	Root   string
	Config *config.Config
	// Meter, when set, counts the rows export, plan, apply and rollback
	// read and write, for a progress display.
	Meter *progress.Meter
}

// OpenWorkspace finds the repository containing dir and loads its .dbsync.
func OpenWorkspace(dir string) (*Workspace, error) {
	root, err := FindRoot(dir)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(root)
	if err != nil {
		return nil, err
	}
	return &Workspace{Root: root, Config: cfg}, nil
}

// OpenEnv opens the database of an environment ("" for the default one)
// and returns it with the environment's name.
func (w *Workspace) OpenEnv(ctx context.Context, env string) (dialect.Dialect, string, error) {
	if env == "" {
		var err error
		if env, err = w.Config.DefaultEnv(); err != nil {
			return nil, "", err
		}
	}
	url, source, err := w.Config.URL(env)
	if err != nil {
		if known := EnvNames(w.Root); len(known) > 0 && !slices.Contains(known, env) { // misspelt, most likely
			err = fmt.Errorf("%w\nhint: the environments %s and git config name are %s", err, w.Config.File, strings.Join(known, ", "))
		}
		return nil, env, err
	}
	db, err := dialect.Open(ctx, url, w.Root)
	if err != nil {
		return nil, env, fmt.Errorf("environment %q (url from %s): %w", env, source, err)
	}
	// A cluster's node that takes no work is refused before anything
	// reads it: its reads would be stale, its writes refused half-way.
	why, err := dialect.NotReady(ctx, db)
	if err == nil && why != "" {
		err = &NotReadyError{Env: env, Why: why}
	}
	if err != nil {
		db.Close()
		return nil, env, err
	}
	return db, env, nil
}

// NotReadyError is an environment whose database is a node of a cluster
// that takes no work now: nothing was read or written.
type NotReadyError struct {
	Env, Why string
}

func (e *NotReadyError) Error() string {
	return fmt.Sprintf("environment %q is %s: nothing done\nhint: use a URL of a node of the primary component, or wait until this one has rejoined it", e.Env, e.Why)
}

// fileSet is the files of a revision or of the working tree: its .dbsync
// and its exported tables.
type fileSet struct {
	name   string // for messages: v1.4, the working tree
	cfg    *config.Config
	tables []exportdir.TableFiles
	tree   exportdir.Tree
}

// revisionFiles reads the .dbsync and the exported tables of a commit.
func (s *session) revisionFiles(commit, name string) (*fileSet, error) {
	data, err := s.rep.ReadFile(commit, config.FileName)
	if err != nil {
		return nil, err
	}
	if data == nil {
		return nil, fmt.Errorf("%s has %w: it was not made with git dbsync", name, config.ErrNoFile)
	}
	cfg, err := config.Parse(s.ws.Root, config.FileName+" at "+name, data)
	if err != nil {
		return nil, err
	}
	fs := &fileSet{name: name, cfg: cfg, tree: s.revision(commit, name)}
	fs.tables, err = exportdir.ReadTables(fs.tree, cfg.Dir)
	return fs, err
}

// workTreeFiles reads the exported tables of the working tree, with the
// working tree's .dbsync.
func (s *session) workTreeFiles() (*fileSet, error) {
	fs := &fileSet{name: "the working tree", cfg: s.ws.Config, tree: exportdir.WorkTree{Root: s.ws.Root}}
	var err error
	fs.tables, err = exportdir.ReadTables(fs.tree, s.ws.Config.Dir)
	return fs, err
}

// revision is the tree of a commit, named name in messages.
func (s *session) revision(commit, name string) exportdir.Revision {
	return exportdir.Revision{Repo: s.rep, Commit: commit, Rev: name}
}

// targetTables describes each table of a revision (rev names it) as the
// database db has it, ready to read its rows in the files' form; after
// them come the referable tables they refer to (content looked up by
// key), for the translator.
func targetTables(ctx context.Context, db dialect.Reader, cfg *config.Config, tables []exportdir.TableFiles, rev string) ([]*dbrows.Table, error) {
	out := make([]*dbrows.Table, len(tables))
	for i, tf := range tables {
		var err error
		if out[i], err = dbrows.Target(ctx, db, cfg, tf.Meta, tf.Dir+"/"+serialize.MetaFile, rev); err != nil {
			return nil, fmt.Errorf("table %q: %w", tf.Meta.Name, err)
		}
	}
	extra, err := dbrows.Referenced(ctx, db, cfg, out)
	return append(out, extra...), err
}

// GitColor says whether git's configuration wants colour for dbsync's
// output (color.dbsync, falling back to color.ui, whose "auto" colours a
// terminal only), answered by git itself so every form git accepts counts.
func GitColor(dir string, terminal bool) bool {
	v, _ := repo.Git{Dir: dir}.Line("config", "--get-colorbool", "color.dbsync", strconv.FormatBool(terminal))
	return v == "true"
}
