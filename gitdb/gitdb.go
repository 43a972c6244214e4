// Package gitdb is the engine of git dbsync: the use cases (Init, Export,
// and later Plan, Apply, Rollback, Status) that the commands call. It ties
// the repository's .dbsync (config), the database (dialect) and the
// canonical files (serialize) together; it prints nothing and returns
// results and typed errors for the command layer to report.
package gitdb

import (
	"context"
	"fmt"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	_ "github.com/gitdbsync/git-dbsync/gitdb/dialect/mysql"
	_ "github.com/gitdbsync/git-dbsync/gitdb/dialect/postgres"
	_ "github.com/gitdbsync/git-dbsync/gitdb/dialect/sqlite" // the embedded default engine
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
)

// FindRoot returns the top of the git work tree that contains dir.
func FindRoot(dir string) (string, error) { return repo.FindRoot(dir) }

// Workspace is a repository with a loaded .dbsync.
type Workspace struct {
	Root   string
	Config *config.Config
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
		return nil, env, err
	}
	db, err := dialect.Open(ctx, url, w.Root)
	if err != nil {
		return nil, env, fmt.Errorf("environment %q (url from %s): %w", env, source, err)
	}
	return db, env, nil
}
