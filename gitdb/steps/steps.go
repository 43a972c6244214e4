// Package steps runs the commands a deploy runs around a change (before,
// after, check: maintenance mode, cache flushes, smoke tests) and records
// how each went. A leaf: lock files and the ledger import it for Result.
package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Phases of a change, in the order they run; manual steps are asked for
// with the before commands, in the order .dbsync gives them.
const (
	Before = "before"
	Manual = "manual"
	Check  = "check"
	After  = "after"
)

// Result is how one step went, as lock files and the ledger record it.
type Result struct {
	Phase   string  `json:"phase"`
	Command string  `json:"command"` // the command, or a manual step's text
	Status  string  `json:"status"`  // ok, failed, timed out, confirmed, declined
	Exit    int     `json:"exit,omitempty"`
	Seconds float64 `json:"seconds"`
	Tail    string  `json:"tail,omitempty"` // the end of its output
}

// OK reports a step that succeeded (or was confirmed).
func (r Result) OK() bool { return r.Status == "ok" || r.Status == "confirmed" }

func (r Result) String() string {
	s := fmt.Sprintf("%s %q: %s", r.Phase, r.Command, r.Status)
	if r.Exit != 0 {
		s += fmt.Sprintf(" (exit %d)", r.Exit)
	}
	return s
}

// tailBytes is how much of a step's output is recorded: its end, where
// errors are.
const tailBytes = 2000

// Command is a command to run: through sh -c in Dir, with Env added to
// the environment, killed (with its children) after Timeout. Its output
// goes to Out as it comes, and its end is kept.
type Command struct {
	Phase, Text string
	Dir         string
	Env         []string
	Timeout     time.Duration
	Out         io.Writer
}

// Run runs a command and says how it went.
func Run(ctx context.Context, c Command) Result {
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", c.Text)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), c.Env...)
	inGroup(cmd) // its children die with it
	cmd.WaitDelay = time.Second
	var tail tailBuffer
	out := io.Writer(&tail)
	if c.Out != nil {
		out = io.MultiWriter(c.Out, &tail)
	}
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	r := Result{Phase: c.Phase, Command: c.Text, Status: "ok", Seconds: time.Since(t0).Seconds(), Tail: tail.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		r.Status = fmt.Sprintf("timed out after %s", c.Timeout)
	case errors.As(err, &exit):
		r.Status, r.Exit = "failed", exit.ExitCode()
	default:
		r.Status, r.Tail = "failed", err.Error()
	}
	return r
}

// tailBuffer keeps the last tailBytes written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - tailBytes; over > 0 {
		t.b = t.b[over:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	return strings.TrimRight(string(bytes.ToValidUTF8(t.b, nil)), "\n")
}
