//go:build unix

package proc

import (
	"errors"
	"syscall"
)

// processExists asks the kernel whether a process exists (signal 0).
func exists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
