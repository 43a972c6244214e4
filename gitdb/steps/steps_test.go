//go:build unix

package steps

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunRecordsOutcomeAndTail(t *testing.T) {
	dir := t.TempDir()
	var live bytes.Buffer
	r := Run(context.Background(), Command{Phase: Check, Text: `echo "$DBSYNC_PHASE $X"; seq 1 5000; echo bye >&2; exit 3`, Dir: dir,
		Env: []string{"DBSYNC_PHASE=check", "X=y"}, Timeout: time.Minute, Out: &live})
	if r.Status != "failed" || r.Exit != 3 || r.OK() {
		t.Fatalf("%+v", r)
	}
	if !strings.HasPrefix(live.String(), "check y\n1\n") || !strings.HasSuffix(r.Tail, "5000\nbye") || len(r.Tail) > tailBytes {
		t.Errorf("live output %q…, tail %q", live.String()[:20], r.Tail)
	}
	if r := Run(context.Background(), Command{Phase: Before, Text: "pwd > where", Dir: dir, Timeout: time.Minute}); !r.OK() {
		t.Fatalf("%+v", r)
	}
	if where, _ := os.ReadFile(filepath.Join(dir, "where")); strings.TrimSpace(string(where)) != dir {
		t.Errorf("ran in %q, want %q", where, dir)
	}
}

// A command that outlives its timeout is killed with its children.
func TestRunTimesOut(t *testing.T) {
	dir := t.TempDir()
	r := Run(context.Background(), Command{Phase: After, Text: "sleep 60 & echo $! > child; wait", Dir: dir, Timeout: 300 * time.Millisecond})
	if !strings.HasPrefix(r.Status, "timed out after 300ms") || r.OK() {
		t.Fatalf("%+v", r)
	}
	data, err := os.ReadFile(filepath.Join(dir, "child"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	for i := 0; i < 50 && running(pid); i++ {
		time.Sleep(20 * time.Millisecond) // the kill is sent; the process goes
	}
	if running(pid) {
		t.Errorf("the command's child %d outlived it", pid)
	}
}

// running reports a process that exists and is not a zombie (a killed
// orphan waits for its new parent to reap it).
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}
