// Package fault stops the process at named points for the crash and
// concurrency tests: Point kills the process, as a power cut would, when
// $DBSYNC_FAULT names the point, and pauses there for two seconds when
// $DBSYNC_PAUSE names it (a comma-separated list may name several, for a
// run that must stop at each, as the progress tests' phases do). Unset, it
// does nothing. A leaf any package may import.
package fault

import (
	"os"
	"slices"
	"strings"
	"time"
)

// Point marks a named point of a run.
func Point(name string) {
	if slices.Contains(strings.Split(os.Getenv("DBSYNC_PAUSE"), ","), name) {
		time.Sleep(2 * time.Second)
	}
	if os.Getenv("DBSYNC_FAULT") == name {
		if self, err := os.FindProcess(os.Getpid()); err == nil {
			self.Kill() // SIGKILL: no deferred function runs
		}
		select {}
	}
}
