package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

// Exit codes, the same for every command. Scripts may rely on them.
const (
	exitOK        = 0
	exitError     = 1 // an error; also "files would change" for export --check
	exitUsage     = 2 // bad command line
	exitChanges   = 2 // plan --exit-code: there are changes
	exitConflicts = 3 // an apply met conflicts and wrote nothing
	exitLocked    = 4 // another apply holds the target's lock
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
	{exitError, "error (export --check: files would change)"},
	{exitUsage, "bad command line; plan --exit-code: there are changes"},
	{exitConflicts, "conflicts: nothing was written; plan --exit-code: conflicts are unresolved or deletes blocked"},
	{exitLocked, "locked: another apply is in progress, or a lock was waited on for the whole lock-timeout"},
	{exitInterrupted, "interrupted (SIGINT or SIGTERM): nothing was written"},
}

func exitStatusHelp(string) string {
	var b strings.Builder
	b.WriteString("\n\nEXIT STATUS\n")
	for _, e := range exitCodes {
		fmt.Fprintf(&b, "  %d  %s\n", e.code, e.what)
	}
	return strings.TrimRight(b.String(), "\n")
}

// codedError carries an exit code through cobra.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &codedError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// silentError sets the exit code of a command that has already said why.
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// exitCode maps an error to the process exit code: the one place where
// they are decided.
func exitCode(err error) int {
	var c *codedError
	var s *silentError
	var conflict *gitdb.ConflictError
	var locked *gitdb.LockedError
	var busy *gitdb.BusyError
	switch {
	case errors.As(err, &s):
		return s.code
	case errors.As(err, &c):
		return c.code
	case errors.As(err, &conflict):
		return exitConflicts
	case errors.As(err, &locked), errors.As(err, &busy):
		return exitLocked
	}
	return exitError
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
