//go:build unix

package steps

import (
	"os/exec"
	"syscall"
)

// inGroup runs the command in a process group of its own, which a timeout
// kills whole: a step's children (a server it started, a sleep) go too.
func inGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
