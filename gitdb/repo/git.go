package repo

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Git runs the git command in a directory: the one place git dbsync starts
// git, so that the working directory, the environment (git's own hook
// variables such as GIT_INDEX_FILE pass through) and the errors are
// handled once. go-git reads revisions; the command does what go-git does
// not do as git does: the index of a commit in progress, config includes,
// merges of files, and streaming blobs.
type Git struct {
	Dir string   // where git runs; "" for the current directory
	Env []string // added to the environment git runs in
}

// GitError is a git command that failed: its arguments, exit code and
// what it said on stderr.
type GitError struct {
	Args     []string
	ExitCode int // -1 when git did not run
	Stderr   string
	Err      error
}

func (e *GitError) Error() string {
	msg := e.Stderr
	if msg == "" {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("git %s: %s", strings.Join(e.Args, " "), strings.TrimPrefix(msg, "fatal: "))
}

func (e *GitError) Unwrap() error { return e.Err }

// Command returns the command, for a caller that streams its input and
// output.
func (g Git) Command(args ...string) *exec.Cmd {
	cmd := exec.Command("git", args...)
	cmd.Dir = g.Dir
	if len(g.Env) > 0 {
		cmd.Env = append(os.Environ(), g.Env...)
	}
	return cmd
}

// Output runs git and returns its standard output.
func (g Git) Output(args ...string) ([]byte, error) { return g.WithInput(nil, args...) }

// WithInput runs git with input on its standard input and returns its
// standard output.
func (g Git) WithInput(input []byte, args ...string) ([]byte, error) {
	cmd := g.Command(args...)
	if input != nil {
		cmd.Stdin = bytes.NewReader(input)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		ge := &GitError{Args: args, ExitCode: -1, Stderr: strings.TrimSpace(stderr.String()), Err: err}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			ge.ExitCode = ee.ExitCode()
		}
		return out, ge
	}
	return out, nil
}

// Line runs git and returns the first line of its output, trimmed.
func (g Git) Line(args ...string) (string, error) {
	out, err := g.Output(args...)
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line), err
}

// Run runs git for its effect.
func (g Git) Run(args ...string) error {
	_, err := g.Output(args...)
	return err
}

// path runs git rev-parse for a path and makes it absolute.
func (g Git) path(args ...string) (string, error) {
	p, err := g.Line(append([]string{"rev-parse"}, args...)...)
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(g.Dir, p)
	}
	return filepath.Clean(p), nil
}

// FindRoot returns the top of the git work tree that contains dir, the way
// git itself finds it (linked worktrees, GIT_DIR and GIT_WORK_TREE).
func FindRoot(dir string) (string, error) {
	root, err := Git{Dir: dir}.path("--show-toplevel")
	if err != nil {
		var ge *GitError
		if errors.As(err, &ge) && ge.Stderr != "" {
			return "", fmt.Errorf("not in a git work tree: %s", strings.TrimPrefix(ge.Stderr, "fatal: "))
		}
		return "", fmt.Errorf("not in a git work tree: %w", err)
	}
	return root, nil
}

// CommonDir returns the common git directory of the work tree at root
// (shared by linked worktrees), where git dbsync keeps its lock files.
func CommonDir(root string) (string, error) {
	d, err := gitDirs(root)
	return d[1], err
}

// GitDir returns the git directory of the work tree at root: its own in a
// linked worktree, where git keeps the state of a merge in progress.
func GitDir(root string) (string, error) {
	d, err := gitDirs(root)
	return d[0], err
}

// dirsOf keeps, per work tree, its git directory and common git directory:
// they never change while a process runs, and a hook asked git for them a
// dozen times.
var dirsOf sync.Map // root → [2]string

// gitDirs returns the git directory and the common git directory of the
// work tree at root, asking git (one process for both) the first time.
func gitDirs(root string) ([2]string, error) {
	if d, ok := dirsOf.Load(root); ok {
		return d.([2]string), nil
	}
	out, err := Git{Dir: root}.Output("rev-parse", "--git-dir", "--git-common-dir")
	if err != nil {
		return [2]string{}, err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		return [2]string{}, fmt.Errorf("git rev-parse --git-dir --git-common-dir: unexpected %q", out)
	}
	var d [2]string
	for i, p := range lines {
		if !filepath.IsAbs(p) {
			p = filepath.Join(root, p)
		}
		d[i] = filepath.Clean(p)
	}
	dirsOf.Store(root, d)
	return d, nil
}

// HooksDir returns the hooks directory git uses for the work tree at root:
// core.hooksPath, or the common git directory's hooks.
func HooksDir(root string) (string, error) { return Git{Dir: root}.path("--git-path", "hooks") }

// Commit resolves a revision to a commit hash with git itself; "" when it
// names none (a fresh clone has no ORIG_HEAD).
func Commit(root, rev string) string {
	c, err := Git{Dir: root}.Line("rev-parse", "-q", "--verify", rev+"^{commit}")
	if err != nil {
		return ""
	}
	return c
}

// Unmerged lists the files under dir that the index holds in conflict.
func Unmerged(root, dir string) ([]string, error) {
	// The index alone says it (unmerged entries have stages 1-3): no
	// need to look at every file of the working tree.
	out, err := Git{Dir: root}.Output("ls-files", "--unmerged", "--", dir)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if _, p, ok := strings.Cut(line, "\t"); ok && (len(paths) == 0 || paths[len(paths)-1] != p) {
			paths = append(paths, p)
		}
	}
	return paths, nil
}

// Clean reports whether the working tree and the index hold dir exactly as
// HEAD does, untracked files included.
func Clean(root, dir string) (bool, error) {
	out, err := Git{Dir: root}.Output("status", "--porcelain", "--untracked-files=all", "--", dir)
	return len(out) == 0, err
}

// InProgress names the operation git is in the middle of in the work tree
// at root, or "" when none: "merge", "rebase", "cherry-pick", "revert" or
// "am". Its commit concludes what a person resolved.
func InProgress(root string) string {
	gitDir, err := GitDir(root)
	if err != nil {
		return ""
	}
	for _, s := range []struct{ path, op string }{
		{"rebase-merge", "rebase"}, {"rebase-apply/applying", "am"}, {"rebase-apply", "rebase"},
		{"MERGE_HEAD", "merge"}, {"CHERRY_PICK_HEAD", "cherry-pick"}, {"REVERT_HEAD", "revert"},
	} {
		if _, err := os.Stat(filepath.Join(gitDir, s.path)); err == nil {
			return s.op
		}
	}
	return ""
}
