package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/investiq/investiq-mon/internal/proc"
	"github.com/investiq/investiq-mon/internal/textsafe"
)

// A pid file can outlive its process (a reboot, a kill -9, a copied
// state dir) and its pid be reused by any program. Before a pid is
// signalled or trusted as running, the process must run exactly the
// command up recorded: the binary, and every argument, which holds this
// stack's config file and data dir. Matching only the program's name
// signalled unrelated programs called prometheus and other stacks'
// servers.

// readPID returns the pid recorded for a component and whether that
// process is still the one `up` started as p.
func (l Layout) readPID(component string, p Process) (int, bool) {
	pid, ok := l.pidFromFile(component)
	if !ok {
		return 0, false
	}
	return pid, processRuns(pid, p)
}

func (l Layout) pidFromFile(component string) (int, bool) {
	data, err := os.ReadFile(l.PIDFile(component))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// processRuns reports whether pid is alive and runs the command p
// exactly (proc.Runs).
func processRuns(pid int, p Process) bool { return proc.Runs(pid, p.Path, p.Args) }

func sameArgv(cmdline []byte, p Process) bool { return proc.SameArgv(cmdline, p.Path, p.Args) }

func processAlive(pid int) bool { return proc.Alive(pid) }

// stalePIDNote says, when a component's pid file names a live process
// that is not the recorded command, that it is left alone. It names the
// other program by its file name only: its arguments are another user's
// business (and may hold their secrets).
func (l Layout) stalePIDNote(component string, p Process) string {
	pid, ok := l.pidFromFile(component)
	if !ok || !processAlive(pid) || processRuns(pid, p) {
		return ""
	}
	what := "a process"
	if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		argv0, _, _ := strings.Cut(string(cmdline), "\x00")
		what = textsafe.Line(filepath.Base(argv0))
	}
	if p.Path == "" {
		return fmt.Sprintf("%s: %s names pid %d (%s), but %s records no command for %s: not signalled; stop it by hand if it is yours", component, l.PIDFile(component), pid, what, l.StateFile(), component)
	}
	return fmt.Sprintf("%s: %s names pid %d (%s), which is not this stack's %s (%s with its config and data dir): not signalled; the stale pid file is removed", component, l.PIDFile(component), pid, what, component, p.Path)
}
