package gitdb

import (
	"slices"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
)

// The shell's completions: what the repository containing a directory
// offers. Nothing here fails: outside a repository, or with a broken
// .dbsync, there is simply nothing to offer.

// EnvNames returns the environments of .dbsync and of git config
// (dbsync.env.<name>.url), sorted.
func EnvNames(dir string) []string {
	root, err := repo.FindRoot(dir)
	if err != nil {
		return nil
	}
	var names []string
	if cfg, err := config.Load(root); err == nil {
		names = cfg.EnvNames()
	}
	out, _ := repo.Git{Dir: root}.Output("config", "--name-only", "--get-regexp", `^dbsync\.env\..*\.url$`)
	for _, line := range strings.Fields(string(out)) {
		if name, ok := strings.CutPrefix(line, "dbsync.env."); ok {
			names = append(names, strings.TrimSuffix(name, ".url"))
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Revisions returns the tags, newest first, then the branches.
func Revisions(dir string) []string {
	var revs []string
	for _, refs := range []string{"refs/tags", "refs/heads"} {
		out, _ := repo.Git{Dir: dir}.Output("for-each-ref", "--sort=-creatordate", "--format=%(refname:short)", refs)
		revs = append(revs, strings.Fields(string(out))...)
	}
	return revs
}

// Tag is a tag of the repository that points at a commit.
type Tag = repo.Tag

// Tags lists the repository's tags that point at commits, oldest commit
// first: the releases, as status's pending list orders them.
func (w *Workspace) Tags() ([]Tag, error) {
	s, err := w.openRepoOnly()
	if err != nil {
		return nil, err
	}
	defer s.close()
	return s.rep.Tags()
}
