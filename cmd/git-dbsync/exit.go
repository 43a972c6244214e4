package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

// Exit codes, the same for every command. Scripts may rely on them. They
// are decided here, in exitCode, from the type of the error a command
// returns, and nowhere else.
const (
	exitOK    = 0
	exitError = 1
	// exitChanges is "there are changes" for plan --exit-code, diff
	// --exit-code and export --check: 2, as terraform plan
	// -detailed-exitcode has it, apart from 1 so that a script tells a
	// change from a failure.
	exitChanges   = 2
	exitConflicts = 3 // an apply met conflicts and wrote nothing
	exitLocked    = 4 // another apply holds the target's lock
	// exitUsage is a bad command line: 129, as git exits on one, so that
	// no other outcome is taken for it.
	exitUsage = 129
	// exitInterrupted is 128 + SIGINT, as shells report a command a
	// signal stopped.
	exitInterrupted = 130
)

// exitCodes documents the codes in every command's help.
var exitCodes = []struct {
	code int
	what string
}{
	{exitOK, "success"},
	{exitError, "error"},
	{exitChanges, "plan --exit-code, diff --exit-code, export --check: there are changes"},
	{exitConflicts, "conflicts (blocked deletes included): nothing was written; plan --exit-code: conflicts are unresolved"},
	{exitLocked, "locked: another apply is in progress, or a lock was waited on for the whole lock-timeout"},
	{exitUsage, "bad command line (unknown command or flag, bad value, wrong arguments)"},
	{exitInterrupted, "interrupted (SIGINT or SIGTERM): nothing was written"},
}

func exitStatusHelp(string) string {
	var b strings.Builder
	b.WriteString("\n\nEXIT STATUS\n")
	for _, e := range exitCodes {
		fmt.Fprintf(&b, "  %-3d  %s\n", e.code, e.what)
	}
	return strings.TrimRight(b.String(), "\n")
}

// usageError is a bad command line: an unknown command or flag, a bad
// flag value, wrong arguments, options that do not go together.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// changesError is what plan --exit-code, diff --exit-code and export
// --check return when there are changes: the command has shown them.
type changesError struct{}

func (*changesError) Error() string { return "there are changes" }

// unresolvedError is what plan --exit-code returns when conflicts
// (blocked deletes among them) are unresolved, and draft when it left conflicts in the
// files: the command has shown them.
type unresolvedError struct{}

func (*unresolvedError) Error() string { return "conflicts are unresolved" }

// reportedError is a failure the command has already told the user about
// (a line per environment, man's own message): nothing more is printed,
// and the exit code is err's.
type reportedError struct{ err error }

func (e *reportedError) Error() string { return e.err.Error() }
func (e *reportedError) Unwrap() error { return e.err }

// errInterrupted replaces whatever a command interrupted by a signal
// failed with on the way.
var errInterrupted = errors.New("interrupted: nothing was written")

// exitCode maps an error to the process exit code: the one place where
// they are decided.
func exitCode(err error) int {
	var (
		usage    *usageError
		merged   *gitdb.MergeConflictsError
		git      *gitdb.GitExitError
		conflict *gitdb.ConflictError
		locked   *gitdb.LockedError
		busy     *gitdb.BusyError
		ref      *gitdb.RefError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errInterrupted):
		return exitInterrupted
	case errors.As(err, &usage), errors.As(err, new(*gitdb.ChoiceError)):
		// A --resolve naming no conflict, or no column, is a bad
		// command line, found only once the plan is made.
		return exitUsage
	case errors.As(err, &merged):
		// git's merge-driver protocol: the number of conflicts left.
		return min(max(merged.N, 1), 127)
	case errors.As(err, &git):
		// git commit's own status, as git dbsync commit documents.
		return min(max(git.Code, 1), 255)
	case errors.As(err, new(*changesError)):
		return exitChanges
	case errors.As(err, new(*unresolvedError)), errors.As(err, &conflict):
		return exitConflicts
	case errors.As(err, &ref) && ref.Content:
		return exitConflicts // content the target lacks: its data, not the command, is in the way
	case errors.As(err, &locked), errors.As(err, &busy):
		return exitLocked
	}
	return exitError
}

// silent says whether an error has been told already: by the command
// (changes, conflicts shown, a line per environment), or by git.
func silent(err error) bool {
	return errors.As(err, new(*reportedError)) || errors.As(err, new(*changesError)) ||
		errors.As(err, new(*unresolvedError)) || errors.As(err, new(*gitdb.MergeConflictsError)) ||
		errors.As(err, new(*gitdb.GitExitError))
}

// usageArgs makes cobra's argument check report a usage error: what was
// wrong, in words, and the command's usage line.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			what := "too many arguments"
			if strings.Contains(err.Error(), "received 0") || strings.HasPrefix(err.Error(), "requires at least") {
				what = "missing arguments"
			}
			if len(args) > 0 && what == "too many arguments" {
				what += ": " + strings.Join(args, " ")
			}
			return usageErrorf("%s\nusage: %s\nhint: see 'git dbsync %s --help'", what, strings.TrimSuffix(cmd.UseLine(), " [flags]"), cmd.Name())
		}
		return nil
	}
}
