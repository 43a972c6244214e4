package gitdb

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
)

// A sync of a working tree whose export directory differs from HEAD's (a
// hand edit, a stash pop, a commit that then aborted) merges files no
// commit holds. Recorded as in step with HEAD, the database would keep
// what those files said after they were put back as HEAD has them, and
// the next commit would export it again: an edit thrown away would come
// back. So the sync first makes them a commit of their own, whose parent
// is HEAD, kept by a ref (worktreeRef), and merges that: the next
// sync takes it as its base, and a file put back is a change it merges.
// The commit is the same for the same files (its dates are HEAD's), so a
// sync of a working tree that did not change finds the database at it.

// worktreeRef is the ref that keeps an environment's last working-tree
// commit: one per linked worktree (each has a database of its own, and
// refs are shared), with the characters a ref cannot hold replaced.
func (w *Workspace) worktreeRef(env string) string {
	return "refs/dbsync/" + w.syncLock() + "/" + refUnsafe.ReplaceAllString(env, "_")
}

var refUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// dropWorkTreeRef removes the ref once the database is in step with a
// commit of the branch: nothing is based on its commit any more (it stays
// in the ledger's history, and git collects it in time).
func (w *Workspace) dropWorkTreeRef(env string) {
	ref := w.worktreeRef(env)
	if repo.Commit(w.Root, ref) != "" {
		repo.Git{Dir: w.Root}.Run("update-ref", "-d", ref)
	}
}

// snapshotWorkTree returns the commit of the working tree's export
// directory and .dbsync, made as described above, or "" when the export
// directory is as HEAD (head) has it.
func (w *Workspace) snapshotWorkTree(env, head string, status *repo.PendingStatus) (string, error) {
	if clean, err := w.clean(status); err != nil || clean {
		return "", err
	}
	gitDir, err := repo.GitDir(w.Root)
	if err != nil {
		return "", err
	}
	// A copy of the index git gave the hook (commit -a's own), so that
	// git add hashes only the files changed since it was written.
	index := os.Getenv("GIT_INDEX_FILE")
	if index == "" {
		index = filepath.Join(gitDir, "index")
	} else if !filepath.IsAbs(index) {
		index = filepath.Join(w.Root, index)
	}
	tmp := filepath.Join(gitDir, "dbsync", "tmp")
	if err := os.MkdirAll(tmp, 0o777); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(tmp, "worktree-index-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if src, err := os.Open(index); err == nil {
		_, err = io.Copy(f, src)
		src.Close()
		if err != nil {
			f.Close()
			return "", err
		}
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	git := repo.Git{Dir: w.Root, Env: []string{"GIT_INDEX_FILE=" + f.Name()}}
	if fi, err := os.Stat(f.Name()); err == nil && fi.Size() == 0 {
		if err := git.Run("read-tree", head); err != nil {
			return "", err
		}
	}
	paths := []string{w.Config.Dir}
	if _, err := os.Stat(filepath.Join(w.Root, config.FileName)); err == nil {
		paths = append(paths, config.FileName)
	}
	if err := git.Run(append([]string{"add", "--all", "--"}, paths...)...); err != nil {
		return "", err
	}
	tree, err := git.Line("write-tree")
	if err != nil {
		return "", err
	}
	when, err := git.Line("log", "-1", "--format=%cI", head)
	if err != nil {
		return "", err
	}
	author := repo.Git{Dir: w.Root, Env: []string{"GIT_AUTHOR_NAME=git dbsync", "GIT_AUTHOR_EMAIL=git-dbsync@localhost",
		"GIT_COMMITTER_NAME=git dbsync", "GIT_COMMITTER_EMAIL=git-dbsync@localhost", "GIT_AUTHOR_DATE=" + when, "GIT_COMMITTER_DATE=" + when}}
	commit, err := author.Line("commit-tree", "--no-gpg-sign", tree, "-p", head, "-m", fmt.Sprintf("git dbsync: the working tree's %s/ as synced into %q", w.Config.Dir, env))
	if err != nil {
		return "", err
	}
	if err := (repo.Git{Dir: w.Root}).Run("update-ref", w.worktreeRef(env), commit); err != nil {
		return "", err
	}
	w.pruneWorkTreeRefs()
	return commit, nil
}

// pruneWorkTreeRefs removes the refs of linked worktrees that are gone
// (git worktree remove), which nothing else would.
func (w *Workspace) pruneWorkTreeRefs() {
	common, err := repo.CommonDir(w.Root)
	if err != nil {
		return
	}
	git := repo.Git{Dir: w.Root}
	out, err := git.Output("for-each-ref", "--format=%(refname)", "refs/dbsync/")
	if err != nil {
		return
	}
	for _, ref := range strings.Fields(string(out)) {
		lock, _, _ := strings.Cut(strings.TrimPrefix(ref, "refs/dbsync/"), "/")
		name, linked := strings.CutPrefix(lock, "sync-")
		if _, err := os.Stat(filepath.Join(common, "worktrees", name)); linked && os.IsNotExist(err) {
			git.Run("update-ref", "-d", ref)
		}
	}
}
