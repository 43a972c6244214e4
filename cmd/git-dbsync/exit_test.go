package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

// Each kind of error has its one exit code, however deeply it is wrapped;
// a bad command line never shares one with an outcome a script tests for.
func TestExitCodes(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("env %q: %w", "prod", err) }
	for _, tc := range []struct {
		name   string
		err    error
		code   int
		silent bool
	}{
		{"success", nil, exitOK, false},
		{"error", errors.New("boom"), exitError, false},
		{"usage", usageErrorf("unknown flag: --resolv"), exitUsage, false},
		{"wrapped usage", wrap(usageErrorf("x")), exitUsage, false},
		{"a --resolve naming no conflict", wrap(&gitdb.ChoiceError{Why: "no conflict at that key"}), exitUsage, false},
		{"changes", &changesError{}, exitChanges, true},
		{"unresolved", &unresolvedError{}, exitConflicts, true},
		{"conflict", wrap(&gitdb.ConflictError{Plan: &gitdb.Plan{}}), exitConflicts, false},
		{"locked", &gitdb.LockedError{}, exitLocked, false},
		{"busy", wrap(&gitdb.BusyError{}), exitLocked, false},
		{"interrupted", errInterrupted, exitInterrupted, false},
		{"reported conflict", &reportedError{&gitdb.ConflictError{Plan: &gitdb.Plan{}}}, exitConflicts, true},
		{"reported error", &reportedError{errors.New("2 environments cannot be read")}, exitError, true},
		{"merge driver", &gitdb.MergeConflictsError{N: 3}, 3, true},
		{"merge driver, many", &gitdb.MergeConflictsError{N: 500}, 127, true},
		{"git commit", &gitdb.GitExitError{Command: "commit", Code: 1}, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.err); got != tc.code {
				t.Errorf("exit code %d, want %d", got, tc.code)
			}
			if tc.err != nil && silent(tc.err) != tc.silent {
				t.Errorf("silent = %v, want %v", !tc.silent, tc.silent)
			}
		})
	}
	seen := map[int]string{}
	for _, e := range exitCodes {
		if prev, ok := seen[e.code]; ok {
			t.Errorf("exit code %d means both %q and %q", e.code, prev, e.what)
		}
		seen[e.code] = e.what
	}
}

// The README's table of exit codes is the help's.
func TestREADMEListsExitCodes(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(data), "### Exit status")
	section, _, _ = strings.Cut(section, "\n## ")
	for _, e := range exitCodes {
		if !strings.Contains(section, fmt.Sprintf("\n| %d | ", e.code)) {
			t.Errorf("README: the exit status table lacks %d (%s)", e.code, e.what)
		}
	}
	if n := strings.Count(section, "\n| ") - 2; n != len(exitCodes) { // less the header and its rule
		t.Errorf("README: the exit status table has %d codes, the help %d", n, len(exitCodes))
	}
}

// A typo on the command line of a CI gate exits 129, not the 2 of "there
// are changes" that "|| [ $? -eq 2 ]" lets through.
func TestUsageIsNotChanges(t *testing.T) {
	for _, args := range [][]string{
		{"plan", "v1", "--exit-code", "--no-such-flag"},
		{"plan", "v1", "--exit-code", "--resolv", "s:a=ours"},
		{"diff", "--exit-code", "a", "b", "c"},
		{"export", "--check", "--jobs", "2"},
		{"nonesuch"},
	} {
		var out, errOut strings.Builder
		if code := runContext(context.Background(), args, &streams{In: strings.NewReader(""), Out: &out, Err: &errOut}); code != exitUsage {
			t.Errorf("git dbsync %s: exit %d, want %d\n%s", strings.Join(args, " "), code, exitUsage, errOut.String())
		}
		if !strings.HasPrefix(errOut.String(), "error: ") || !strings.Contains(errOut.String(), "hint: see 'git dbsync") {
			t.Errorf("git dbsync %s: stderr %q, want an error and a hint", strings.Join(args, " "), errOut.String())
		}
	}
	// A bad global option's value too, found before the command runs.
	var out, errOut strings.Builder
	if code := runContext(context.Background(), []string{"export", "--check", "--color", "sometimes"}, &streams{In: strings.NewReader(""), Out: &out, Err: &errOut}); code != exitUsage {
		t.Errorf("--color sometimes: exit %d, want %d\n%s", code, exitUsage, errOut.String())
	}
}
