package gitdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/exportdir"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/internal/atomicfile"
)

// The hooks keep the development database and the commits in step:
//
//   - pre-commit merges into the database what changed in the files since
//     it was last in step (Sync), exports it and stages the export
//     directory, so the commit carries the database's configuration. While
//     git concludes a merge, rebase, cherry-pick, revert or am, it leaves
//     the export directory as the person resolved it.
//   - post-commit records the commit as in step when it holds exactly what
//     pre-commit exported, and otherwise (a resolved merge, a cherry-pick, a
//     commit made without the hook) merges the commit's files into the
//     database.
//   - post-checkout, post-merge, post-rewrite (after a rebase) and
//     post-applypatch (git am) merge the files checked out into it.

// HookResult is what a hook did, for the command to say.
type HookResult struct {
	Skipped string        // why nothing was done, when nothing was
	Export  *ExportResult // pre-commit's export
	Sync    *ApplyResult  // the database brought in step, when it changed
	Notes   []string      // what the person should know
}

// PreCommitOptions are the inputs of PreCommit.
type PreCommitOptions struct {
	Version string
	// GitPID is the process id of the git that runs the hook, when known:
	// its command line tells an amend or --allow-empty, which commit even
	// when nothing else is staged.
	GitPID int
}

// PreCommit is the pre-commit hook's work; an error stops the commit.
func (w *Workspace) PreCommit(ctx context.Context, opts PreCommitOptions) (*HookResult, error) {
	if op := repo.InProgress(w.Root); op != "" {
		return &HookResult{Skipped: fmt.Sprintf("concluding a %s: %s/ is committed as resolved, and the database follows once the commit exists", op, w.Config.Dir)}, nil
	}
	nothingStaged := repo.Commit(w.Root, "HEAD") != "" && repo.Git{Dir: w.Root}.Run("diff", "--cached", "--quiet", "HEAD") == nil
	res, err := w.Stage(ctx, opts.Version)
	if err != nil {
		return res, err
	}
	stagedNow := repo.Git{Dir: w.Root}.Run("diff", "--cached", "--quiet", "HEAD") != nil
	if nothingStaged && stagedNow && !commitsAnyway(opts.GitPID) {
		res.Notes = append(res.Notes, fmt.Sprintf("staged the database's changes in %s/, but git decided before this hook ran that there was nothing to commit, so it will stop here\nhint: run the same git commit again, or commit with 'git dbsync commit -m <message>'", w.Config.Dir))
	}
	return res, nil
}

// Stage brings the database in step with the files, exports it and
// stages the export directory: what pre-commit and git dbsync commit do.
func (w *Workspace) Stage(ctx context.Context, version string) (*HookResult, error) {
	res := &HookResult{}
	var err error
	if res.Sync, err = w.Sync(ctx, SyncOptions{Version: version}); err != nil {
		return res, err
	}
	if res.Export, err = w.Export(ctx, ExportOptions{}); err != nil {
		return res, err
	}
	// Stage with git itself: it honours GIT_INDEX_FILE, which commit -a
	// and --only set for hooks (go-git does not).
	git := repo.Git{Dir: w.Root}
	// A clean export directory that the export left alone has nothing to
	// stage: listing it would stat every file again (0.17 s of a hook's
	// 1 s with 100,000 row files).
	if res.Sync == nil || !res.Sync.Clean || res.Export.Changed() {
		if err := w.stageTableFiles(git); err != nil {
			return res, err
		}
	}
	// Remember what was staged: post-commit then knows that the commit
	// holds exactly the database's configuration.
	tree, err := git.Line("write-tree", "--prefix="+w.Config.Dir+"/")
	if err != nil {
		return res, nil // nothing of the export directory staged: nothing to remember
	}
	return res, w.writeMarker(tree)
}

// commitsAnyway reports whether the git command that runs the hook makes
// a commit even when nothing is staged (--amend, --allow-empty), as far as
// its command line can be read (on Linux).
func commitsAnyway(pid int) bool {
	if pid <= 0 {
		return false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	for _, arg := range bytes.Split(cmdline, []byte{0}) {
		if a := string(arg); a == "--amend" || a == "--allow-empty" || strings.HasPrefix(a, "--amend=") {
			return true
		}
	}
	return false
}

// PostCommit is the post-commit hook's work.
func (w *Workspace) PostCommit(ctx context.Context, version string) (*HookResult, error) {
	if repo.InProgress(w.Root) == "rebase" {
		return &HookResult{Skipped: "the database follows when the rebase ends"}, nil
	}
	w.alignIndex()
	marker, _ := w.readMarker()
	w.removeMarker()
	tree, err := repo.Git{Dir: w.Root}.Line("rev-parse", "HEAD:"+w.Config.Dir)
	if clean, cerr := repo.Clean(w.Root, w.Config.Dir); err == nil && cerr == nil && clean && marker != "" && marker == tree {
		_, err := w.RecordSync(ctx, "", version)
		return &HookResult{}, err
	}
	return w.syncHook(ctx, version)
}

// alignIndex puts the export directory of the index back in step with
// the commit just made where the files are: git commit --only <paths>
// commits through an index of its own, in which pre-commit staged the
// export, and leaves the export directory of the real index as it was,
// a staged revert of what was committed. Nothing is lost: the files are
// the commit's.
func (w *Workspace) alignIndex() {
	git := repo.Git{Dir: w.Root}
	if git.Run("diff", "--cached", "--quiet", "HEAD", "--", w.Config.Dir) == nil || git.Run("diff", "--quiet", "HEAD", "--", w.Config.Dir) != nil {
		return // the index is the commit's, or the files are not
	}
	git.Run("reset", "-q", "HEAD", "--", w.Config.Dir)
}

// SyncHook merges the files checked out into the development database,
// for the hooks after a checkout, a merge or a patch applied by git am.
// During a rebase it waits for the end (RebaseEnded). It does nothing when
// the commit has no .dbsync.
func (w *Workspace) SyncHook(ctx context.Context, version string) (*HookResult, error) {
	if repo.InProgress(w.Root) == "rebase" {
		return &HookResult{Skipped: "the database follows when the rebase ends"}, nil
	}
	return w.syncHook(ctx, version)
}

// RebaseEnded merges the files of a rebased branch into the development
// database: the post-rewrite hook's work after a rebase.
func (w *Workspace) RebaseEnded(ctx context.Context, version string) (*HookResult, error) {
	return w.syncHook(ctx, version)
}

func (w *Workspace) syncHook(ctx context.Context, version string) (*HookResult, error) {
	res, err := w.Sync(ctx, SyncOptions{Version: version})
	if errors.Is(err, ErrNoConfig) {
		return &HookResult{Skipped: "the commit has no " + config.FileName}, nil
	}
	return &HookResult{Sync: res}, err
}

// The marker of what pre-commit staged lives in the work tree's own git
// directory: linked worktrees each commit their own.
func (w *Workspace) markerPath() (string, error) {
	gitDir, err := repo.GitDir(w.Root)
	return filepath.Join(gitDir, "dbsync", "staged-export"), err
}

func (w *Workspace) writeMarker(tree string) error {
	p, err := w.markerPath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
		return err
	}
	return atomicfile.WriteFile(p, []byte(tree+"\n"), 0o666)
}

func (w *Workspace) readMarker() (string, error) {
	p, err := w.markerPath()
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(p)
	return strings.TrimSpace(string(data)), err
}

func (w *Workspace) removeMarker() {
	if p, err := w.markerPath(); err == nil {
		os.Remove(p)
	}
}

// CommitOptions are the inputs of Commit.
type CommitOptions struct {
	Args    []string // git commit's options: -m, -a, --amend …
	Version string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	// Env is added to git commit's environment (the hooks read it).
	Env []string
	// Staged is told what was exported and staged, before git commit runs.
	Staged func(*HookResult)
}

// Commit exports the development database, stages the export directory
// and runs git commit with the given options, so that a change made only
// in the database becomes a commit (git decides whether there is anything
// to commit before any hook runs). While git concludes a merge or the
// like, the export directory is left as resolved. A failing git commit is
// a *GitExitError with its exit code.
func (w *Workspace) Commit(ctx context.Context, opts CommitOptions) error {
	code, err := w.commit(ctx, opts)
	if err == nil && code != 0 {
		return &GitExitError{Command: "commit", Code: code}
	}
	return err
}

// commit is Commit, returning git commit's exit code.
func (w *Workspace) commit(ctx context.Context, opts CommitOptions) (int, error) {
	res := &HookResult{}
	if op := repo.InProgress(w.Root); op != "" {
		res.Skipped = fmt.Sprintf("concluding a %s: %s/ is committed as resolved, and the database follows once the commit exists", op, w.Config.Dir)
	} else {
		var err error
		if res, err = w.Stage(ctx, opts.Version); err != nil {
			return 1, err
		}
	}
	if opts.Staged != nil {
		opts.Staged(res)
	}
	cmd := repo.Git{Dir: w.Root}.Command(append([]string{"commit"}, opts.Args...)...)
	cmd.Dir = "" // where the person ran it: paths in the options are theirs
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.Stdin, opts.Stdout, opts.Stderr
	cmd.Env = append(os.Environ(), opts.Env...)
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 1, err
	}
	// Without the hooks installed, nothing took the marker of what was
	// staged: record the development database in step with the commit
	// here, as post-commit would (else the next commit would take this
	// one's changes for changes made to the files).
	if marker, _ := w.readMarker(); marker != "" {
		if _, err := w.PostCommit(ctx, opts.Version); err != nil {
			return 1, err
		}
	}
	return 0, nil
}

// stageTableFiles stages what changed among the files of the export
// directory's tables (added, changed, removed), and nothing else there.
// The paths go to update-index, not to git add as pathspecs: git add
// matches every pathspec against every file, which took minutes for the
// 100,000 row files of a first commit.
func (w *Workspace) stageTableFiles(git repo.Git) error {
	out, err := git.Output("ls-files", "-z", "--modified", "--deleted", "--others", "--exclude-standard", "--", w.Config.Dir)
	if err != nil {
		return err
	}
	var list bytes.Buffer
	for _, p := range strings.Split(string(out), "\x00") {
		if exportdir.IsTableFile(w.Config.Dir, p) {
			list.WriteString(p + "\x00")
		}
	}
	if list.Len() == 0 {
		return nil
	}
	_, err = git.WithInput(list.Bytes(), streamBigFiles("update-index", "--add", "--remove", "-z", "--stdin")...)
	return err
}

// streamBigFiles returns the arguments of a git command that hashes and
// stores a file of more than 16 MiB in chunks rather than read whole: a
// lines file of a million rows (115 MB) took git add to 116 MB of memory.
// Those objects go to a pack without deltas, which git gc deltifies later.
func streamBigFiles(args ...string) []string {
	return append([]string{"-c", "core.bigFileThreshold=16m"}, args...)
}
