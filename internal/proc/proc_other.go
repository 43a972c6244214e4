//go:build !unix

package proc

import "os"

// processExists reports whether a process exists: on Windows, finding it
// opens a handle to it, which fails once it has exited.
func exists(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}
