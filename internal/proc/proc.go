// Package proc tells whether a process recorded earlier (by a pid file
// or the stack lock) is still the same program. A pid can outlive its
// process and be reused by any program, so a pid alone proves nothing:
// the process must run exactly the recorded command line.
package proc

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
)

// Runs reports whether pid is alive, not a zombie, and runs path with
// exactly args: /proc/<pid>/cmdline is path followed by args (after an
// interpreter and its argument, for a script started through its #!
// line). Without /proc nothing can be verified, so nothing is.
func Runs(pid int, path string, args []string) bool {
	if path == "" || !Alive(pid) {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	return SameArgv(cmdline, path, args)
}

// SameArgv reports whether cmdline (NUL-separated, as /proc has it) is
// path and args, allowing for up to two leading words of an interpreter.
func SameArgv(cmdline []byte, path string, args []string) bool {
	argv := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
	want := append([]string{path}, args...)
	for skip := 0; skip <= 2 && skip < len(argv); skip++ {
		if slices.Equal(argv[skip:], want) {
			return true
		}
	}
	return false
}

// Alive: the process exists and is not a zombie its parent has not
// reaped yet (as good as gone).
func Alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// The state follows the parenthesised command name.
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return false
		}
	}
	return true
}
