package proc

import (
	"os/exec"
	"syscall"
)

// DieWithParent has the kernel send cmd SIGTERM when the process that
// started it dies, SIGKILL included. A docker call left running by a
// killed investiq-mon would otherwise go on changing the stack beside the
// next run, which takes the stale lock over. (The signal follows the OS
// thread that forked; the Go runtime does not end its threads.)
func DieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
}
