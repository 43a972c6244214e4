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
	status := repo.StartStatus(w.Root)
	res, staged, err := w.stage(ctx, opts.Version, status)
	if err != nil {
		return res, err
	}
	st, err := status.Wait() // as git commit found the index
	// Only what the hook staged can have changed git's judgement, made
	// before it ran, of whether there is anything to commit.
	if err != nil || st.Head == "" || !staged || commitsAnyway(opts.GitPID) {
		return res, nil
	}
	emptyNow := (repo.Git{Dir: w.Root}).Run("diff", "--cached", "--quiet", "HEAD") == nil
	switch {
	case st.Staged() && emptyNow:
		// git judged the commit not empty and will not judge again: it
		// would make an empty commit.
		return res, fmt.Errorf("nothing left to commit: what was staged in %s/ was another form of the rows HEAD holds (whitespace, key order), which the export wrote back as they are", w.Config.Dir)
	case !st.Staged() && !emptyNow && strings.HasSuffix(os.Getenv("GIT_INDEX_FILE"), ".lock"):
		// git commit -a (or with paths) gave the hook an index of its
		// own, which git throws away as it stops: the export stays in
		// the files, unstaged.
		res.Notes = append(res.Notes, fmt.Sprintf("exported the database's changes into %s/, but git decided before this hook ran that there was nothing to commit, so it will stop here without them\nhint: run the same git commit -a again (it takes the files exported now), or commit with 'git dbsync commit -a -m <message>'", w.Config.Dir))
	case !st.Staged() && !emptyNow:
		res.Notes = append(res.Notes, fmt.Sprintf("staged the database's changes in %s/, but git decided before this hook ran that there was nothing to commit, so it will stop here\nhint: run the same git commit again, or commit with 'git dbsync commit -m <message>'", w.Config.Dir))
	}
	return res, nil
}

// Stage brings the database in step with the files, exports it and
// stages the export directory: what pre-commit and git dbsync commit do.
func (w *Workspace) Stage(ctx context.Context, version string) (*HookResult, error) {
	res, _, err := w.stage(ctx, version, repo.StartStatus(w.Root))
	return res, err
}

// stage is Stage with the git status of the work tree taken as it began,
// which the sync, the export and the staging share (a hook used to run
// two dozen git commands); it reports whether it staged any file.
func (w *Workspace) stage(ctx context.Context, version string, status *repo.PendingStatus) (*HookResult, bool, error) {
	res := &HookResult{}
	var err error
	if res.Sync, res.Export, err = w.syncThenExport(ctx, version, status); err != nil {
		return res, false, err
	}
	st, err := status.Wait()
	if err != nil {
		return res, false, err
	}
	// Stage with git itself: it honours GIT_INDEX_FILE, which commit -a
	// and --only set for hooks (go-git does not).
	git := repo.Git{Dir: w.Root}
	var paths []string
	if res.Export.Changed() {
		// The status is older than the files written: ask git again.
		if paths, err = w.unstagedTableFiles(git); err != nil {
			return res, false, err
		}
	} else {
		paths = w.tableFiles(st.Unstaged(w.Config.Dir))
	}
	if len(paths) > 0 {
		input := []byte(strings.Join(paths, "\x00") + "\x00")
		if _, err := git.WithInput(input, streamBigFiles("update-index", "--add", "--remove", "-z", "--stdin")...); err != nil {
			return res, false, err
		}
	}
	// Remember what was staged: post-commit then knows that the commit
	// holds exactly the database's configuration.
	tree := ""
	if len(paths) == 0 && indexAsHead(st, w.Config.Dir) {
		// The index holds the export directory as HEAD does: HEAD's tree,
		// read in this process (git write-tree reads the whole index).
		tree = repo.TreeOf(w.Root, st.Head, w.Config.Dir)
	} else {
		tree, _ = git.Line("write-tree", "--prefix="+w.Config.Dir+"/")
	}
	if tree == "" {
		return res, len(paths) > 0, nil // nothing of the export directory staged: nothing to remember
	}
	return res, len(paths) > 0, w.writeMarker(tree)
}

// errSyncWrote ends an export read ahead of a sync that wrote rows.
var errSyncWrote = errors.New("the sync wrote rows the export read before")

// syncThenExport brings the database in step with the files, then
// exports it. The export reads the database while the sync finds out
// whether it has anything to write (usually not: git status must answer
// first) and waits for its answer before writing a file; when the sync
// wrote rows, the export is made again. With a progress meter to show,
// the two run one after the other.
func (w *Workspace) syncThenExport(ctx context.Context, version string, status *repo.PendingStatus) (*ApplyResult, *ExportResult, error) {
	if w.Meter != nil {
		synced, err := w.Sync(ctx, SyncOptions{Version: version, Status: status})
		if err != nil {
			return synced, nil, err
		}
		exported, err := w.Export(ctx, ExportOptions{Status: status})
		return synced, exported, err
	}
	var synced *ApplyResult
	var syncErr error
	syncDone := make(chan struct{})
	var exported *ExportResult
	var exportErr error
	exportDone := make(chan struct{})
	go func() {
		defer close(exportDone)
		exported, exportErr = w.Export(ctx, ExportOptions{Status: status, Before: func() error {
			<-syncDone
			if syncErr != nil || synced != nil && !synced.Already {
				return errSyncWrote
			}
			return nil
		}})
	}()
	synced, syncErr = w.Sync(ctx, SyncOptions{Version: version, Status: status})
	close(syncDone)
	<-exportDone
	if syncErr != nil {
		return synced, nil, syncErr
	}
	if synced != nil && !synced.Already { // what was read ahead is stale, error or not
		exported, exportErr = w.Export(ctx, ExportOptions{Status: status})
	}
	return synced, exported, exportErr
}

// indexAsHead reports whether the index holds dir exactly as HEAD does,
// as a status says.
func indexAsHead(st *repo.Status, dir string) bool {
	if st.Head == "" {
		return false
	}
	for _, e := range st.Entries {
		if (e.Unmerged || e.Staged != '.' && e.Staged != '?') && (e.Path == dir || strings.HasPrefix(e.Path, dir+"/")) {
			return false
		}
	}
	return true
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

// unstagedTableFiles lists the files of the export directory's tables
// that differ from the index (added, changed, removed), and nothing else
// there. The paths go to update-index, not to git add as pathspecs: git
// add matches every pathspec against every file, which took minutes for
// the 100,000 row files of a first commit.
func (w *Workspace) unstagedTableFiles(git repo.Git) ([]string, error) {
	out, err := git.Output("ls-files", "-z", "--modified", "--deleted", "--others", "--exclude-standard", "--", w.Config.Dir)
	if err != nil {
		return nil, err
	}
	return w.tableFiles(strings.Split(string(out), "\x00")), nil
}

// tableFiles keeps the paths of tables' files.
func (w *Workspace) tableFiles(paths []string) []string {
	var out []string
	for _, p := range paths {
		if exportdir.IsTableFile(w.Config.Dir, p) {
			out = append(out, p)
		}
	}
	return out
}

// streamBigFiles returns the arguments of a git command that hashes and
// stores a file of more than 16 MiB in chunks rather than read whole: a
// lines file of a million rows (115 MB) took git add to 116 MB of memory.
// Those objects go to a pack without deltas, which git gc deltifies later.
func streamBigFiles(args ...string) []string {
	return append([]string{"-c", "core.bigFileThreshold=16m"}, args...)
}
