//go:build !linux

package proc

import "os/exec"

// DieWithParent does nothing where the kernel has no parent-death signal.
func DieWithParent(cmd *exec.Cmd) {}
