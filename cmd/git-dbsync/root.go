package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

// version is set at build time with -ldflags "-X main.ldflagsVersion=…"
// (make build); otherwise it comes from the module's build information
// (go install …@v1.4.0), or the commit it was built from.
var version = func() string {
	bi, _ := debug.ReadBuildInfo()
	return versionOf(ldflagsVersion, bi)
}()

func versionOf(ldflags string, bi *debug.BuildInfo) string {
	if ldflags != "" {
		return ldflags
	}
	if bi == nil {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", ""
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && len(s.Value) >= 12:
			rev = s.Value[:12]
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = ", modified"
		}
	}
	if rev == "" {
		return "dev"
	}
	return "dev (" + rev + dirty + ")"
}

// ldflagsVersion is what make build sets.
var ldflagsVersion string

// streams are the command's standard streams.
type streams struct {
	In       io.Reader
	Out, Err io.Writer
	// Terminal is true when stdin and stdout are terminals: only then do
	// commands ask questions or draw progress.
	Terminal bool
	// view is how much plans and diffs show, and whether in colour: set
	// from the global options before a command runs.
	view view
	// errTerm is stderr when it is a terminal, for the progress display
	// (nil otherwise); progress is that display while a command runs.
	errTerm  io.Writer
	progress *progressDisplay
	// json is set by a command printing JSON on stdout: what it shows
	// people (a plan before its question, conflicts) goes to stderr.
	json bool
}

// forPeople is where a command prints plans and conflicts: stdout, or
// stderr when stdout carries JSON.
func (s *streams) forPeople() io.Writer {
	if s.json {
		return s.Err
	}
	return s.Out
}

// summary is where a command says what it did: stdout, or nowhere
// under -q.
func (s *streams) summary() io.Writer {
	if s.view.detail == quiet {
		return io.Discard
	}
	return s.Out
}

// notes is where a command says where it put things (a lock file, a saved
// plan): stderr, or nowhere under -q.
func (s *streams) notes() io.Writer {
	if s.view.detail == quiet {
		return io.Discard
	}
	return s.Err
}

func newStreams(in *os.File, out, errOut *os.File) *streams {
	s := &streams{In: in, Out: out, Err: errOut,
		Terminal: isatty.IsTerminal(in.Fd()) && isatty.IsTerminal(out.Fd())}
	if isatty.IsTerminal(errOut.Fd()) {
		s.errTerm = errOut
	}
	return s
}

// workspace opens the repository of the working directory, its meter
// drawn when progress shows.
func (s *streams) workspace() (*gitdb.Workspace, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	ws, err := gitdb.OpenWorkspace(wd)
	if err == nil && s.progress != nil {
		ws.Meter = &s.progress.meter
	}
	return ws, err
}

// run executes one command line and returns the process exit code.
func run(args []string, s *streams) int { return runContext(context.Background(), args, s) }

// runContext runs a command line until ctx is cancelled.
func runContext(ctx context.Context, args []string, s *streams) int {
	if log := os.Getenv("DBSYNC_MESSAGE_LOG"); log != "" { // the tests read every message back
		if f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666); err == nil {
			defer f.Close()
			s.Err = io.MultiWriter(s.Err, f)
		}
	}
	root := newRootCmd(s)
	root.SetArgs(args)
	root.InitDefaultHelpCmd()
	completing := len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd)
	var err error
	if _, _, ferr := root.Find(args); ferr != nil && !completing { // an unknown command
		err = &usageError{unknownCommand(root, args, ferr)}
	} else {
		err = root.ExecuteContext(ctx)
	}
	if s.progress != nil {
		s.progress.close()
	}
	if err != nil && ctx.Err() != nil { // interrupted: whatever failed on the way says less
		err = errInterrupted
	}
	if err != nil && !silent(err) {
		printError(s.Err, err)
	}
	return exitCode(err)
}

const rootLong = `git dbsync keeps the configuration part of an application's database in git.

Configuration tables (settings, menus, roles, permissions, content types …)
are exported as canonical JSON files next to the code, one folder per table,
so that every commit carries the database configuration that goes with it.
Which tables are configuration is set in .dbsync at the repository root.

Databases, by URL:
  SQLite (built in)   sqlite:PATH (relative to the repository root)
  PostgreSQL          postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…&schema=…]
  MySQL, MariaDB      mysql://USER[:PASSWORD]@HOST[:PORT]/DB
The URL of an environment comes from, in order: $DBSYNC_ENV_<NAME>_URL,
git config dbsync.env.<name>.url, and [env "<name>"] url in .dbsync; keep
passwords out of git with the first two.`

func newRootCmd(s *streams) *cobra.Command {
	root := &cobra.Command{
		Use:           "git-dbsync",
		Short:         "Keep the configuration tables of a database in git",
		Long:          rootLong,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "git dbsync"},
		Example: `  git dbsync init --url sqlite:var/dev.db   # classify the tables, write .dbsync
  git dbsync export                         # database → db/*.json
  git dbsync export --check                 # in CI: fail when the files are stale
  git tag v1.4 && git dbsync plan v1.4 --env prod
  git dbsync apply v1.4 --env prod          # three-way merge into production
  git dbsync rollback v1.4 --env prod       # undo it, keeping later edits`,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	var vf viewFlags
	vf.add(root)
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		var err error
		if s.view, err = vf.view(s.Out); err != nil {
			return err
		}
		if s.view.detail == quiet {
			s.Out, s.Err = quietOut(s.Out, cmd), quietErr(s.Err)
		}
		if s.errTerm != nil && s.view.detail != quiet && s.progress == nil {
			s.progress = newProgressDisplay(s.errTerm)
			s.Out, s.Err = s.progress.pause(s.Out), s.progress.pause(s.Err)
		}
		return nil
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		hint := ""
		if name, ok := strings.CutPrefix(err.Error(), "unknown flag: --"); ok {
			for _, f := range closeFlags(c, name) {
				hint += fmt.Sprintf("\nhint: did you mean --%s?", f)
			}
		}
		return usageErrorf("%v%s\nhint: see 'git dbsync %s --help'", err, hint, c.Name())
	})
	root.AddCommand(
		newInitCmd(s),
		newExportCmd(s),
		newDiffCmd(s),
		newStatusCmd(s),
		newPlanCmd(s),
		newApplyCmd(s),
		newRollbackCmd(s),
		newCommitCmd(s),
		newSyncCmd(s),
		newDraftCmd(s),
		newPullCmd(s),
		newBackupsCmd(s),
		newRestoreCmd(s),
		newWebCmd(s),
		newHooksCmd(s),
		newHookCmd(s),
		newMergeFileCmd(),
		newTextconvCmd(s),
		newManCmd(),
		newManViewerCmd(s),
	)
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newCompletionCmd(root))
	registerCompletions(root)
	for _, c := range root.Commands() {
		if c.Long != "" && !c.Hidden {
			c.Long += exitStatusHelp(c.Name())
		}
	}
	return root
}

// unknownCommand says, in git's voice, that a command does not exist and
// which ones its name is close to (cobra's own message spreads over blank
// lines).
func unknownCommand(root *cobra.Command, args []string, err error) error {
	name := ""
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			name = a
			break
		}
	}
	if name == "" {
		return fmt.Errorf("%w\nhint: see 'git dbsync --help'", err)
	}
	msg := fmt.Sprintf("%q is not a git dbsync command", name)
	for _, s := range root.SuggestionsFor(name) {
		msg += fmt.Sprintf("\nhint: did you mean 'git dbsync %s'?", s)
	}
	return errors.New(msg + "\nhint: see 'git dbsync --help'")
}

// closeFlags lists the flags of c whose names are close to name: a
// prefix either way, or at most two edits away.
func closeFlags(c *cobra.Command, name string) []string {
	var out []string
	visit := func(f *pflag.Flag) {
		if f.Hidden || slices.Contains(out, f.Name) {
			return
		}
		if strings.HasPrefix(f.Name, name) || strings.HasPrefix(name, f.Name) || editDistance(name, f.Name) <= 2 {
			out = append(out, f.Name)
		}
	}
	c.Flags().VisitAll(visit)
	c.InheritedFlags().VisitAll(visit)
	return out
}

// editDistance is the Levenshtein distance of two short names.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
