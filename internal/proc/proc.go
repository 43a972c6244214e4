// Package proc tells whether a process of this machine still runs: a lock
// or a temporary directory left by a process that is gone can be taken
// over. A leaf any package may import.
package proc

import (
	"bytes"
	"fmt"
	"os"
)

// Alive reports whether the process pid runs on this machine.
func Alive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	// On Linux, /proc tells a zombie (dead, not yet reaped: common for a
	// killed child in a container without an init) from a live process.
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) {
			state := stat[i+2]
			return state != 'Z' && state != 'X'
		}
	} else if _, err := os.Stat("/proc/self"); err == nil {
		return false // /proc is there and the process is not
	}
	return exists(pid)
}
