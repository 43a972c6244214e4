package gitdb

import "fmt"

// MergeConflictsError is the outcome of the merge driver (MergeFile) when
// it left conflicts between conflict markers in the file: git reads the
// driver's exit status as their number.
type MergeConflictsError struct{ N int }

func (e *MergeConflictsError) Error() string {
	if e.N == 1 {
		return "1 conflict left between conflict markers"
	}
	return fmt.Sprintf("%d conflicts left between conflict markers", e.N)
}

// GitExitError is a git command that git dbsync ran for the user (git
// commit) and that failed, having said why itself: the command exits with
// git's status.
type GitExitError struct {
	Command string // "commit"
	Code    int
}

func (e *GitExitError) Error() string {
	return fmt.Sprintf("git %s exited with status %d", e.Command, e.Code)
}
