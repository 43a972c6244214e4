// Package fault stops the process at named points for the crash and
// concurrency tests: Point kills the process, as a power cut would, when
// $DBSYNC_FAULT names the point, and pauses there for two seconds when
// $DBSYNC_PAUSE names it. Unset, it does nothing. A leaf any package may
// import.
package fault

import (
	"os"
	"time"
)

// Point marks a named point of a run.
func Point(name string) {
	if os.Getenv("DBSYNC_PAUSE") == name {
		time.Sleep(2 * time.Second)
	}
	if os.Getenv("DBSYNC_FAULT") == name {
		if self, err := os.FindProcess(os.Getpid()); err == nil {
			self.Kill() // SIGKILL: no deferred function runs
		}
		select {}
	}
}
