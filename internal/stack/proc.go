package stack

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/investiq/investiq-mon/spec"
)

// Component names (spec/topology.go).
const (
	Prometheus   = spec.Prometheus
	Alertmanager = spec.Alertmanager
	Grafana      = spec.Grafana
)

// ErrUnknownComponent is returned for a component the state file has no
// command for.
var ErrUnknownComponent = errors.New("unknown component")

// running returns the pid of a running component.
func (l Layout) running(st State, component string) (int, bool) {
	p, ok := st.Processes[component]
	if !ok {
		return 0, false
	}
	return l.readPID(component, p)
}

// start launches a component in its own session (so a Ctrl-C in the
// terminal that ran `up`, or `up` exiting, does not take it down), with
// output appended to its log file, and records its pid.
// The returned channel is closed when the process exits, which is how
// the readiness wait tells a crash from a slow start without trusting
// /proc.
func (l Layout) start(component string, p Process) (int, <-chan struct{}, error) {
	for _, d := range []string{l.LogDir(), filepath.Dir(l.PIDFile(component))} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return 0, nil, err
		}
	}
	logf, err := os.OpenFile(l.Log(component), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, nil, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "--- investiq-mon up: starting %s at %s\n", component, time.Now().UTC().Format(time.RFC3339))
	cmd := exec.Command(p.Path, p.Args...)
	cmd.Env = append(os.Environ(), p.Env...)
	cmd.Dir = l.Root
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, nil, fmt.Errorf("start %s: %w", component, err)
	}
	pid := cmd.Process.Pid
	// Reap the child if it dies while we are still around (tests, a
	// failed readiness wait), so it does not linger as a zombie.
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	if err := os.WriteFile(l.PIDFile(component), []byte(strconv.Itoa(pid)+"\n"), 0o600); err != nil {
		syscall.Kill(-pid, syscall.SIGTERM)
		return 0, nil, err
	}
	return pid, exited, nil
}

// stop sends SIGTERM to the component's process group and waits for it to
// exit; after wait it sends SIGKILL. Prometheus and Alertmanager flush
// their data on SIGTERM, so the wait matters. Only a process running
// exactly the recorded command p is signalled.
func (l Layout) stop(ctx context.Context, component string, p Process, wait time.Duration) (bool, error) {
	pid, alive := l.readPID(component, p)
	if !alive {
		os.Remove(l.PIDFile(component))
		return false, nil
	}
	signal := func(sig syscall.Signal) {
		syscall.Kill(-pid, sig) // the session's group: any helper it forked
		syscall.Kill(pid, sig)
	}
	signal(syscall.SIGTERM)
	deadline := time.Now().Add(wait)
	killed := false
	for processRuns(pid, p) {
		if time.Now().After(deadline) {
			if killed {
				return true, fmt.Errorf("%s (pid %d) did not exit after SIGKILL", component, pid)
			}
			signal(syscall.SIGKILL)
			killed = true
			deadline = time.Now().Add(5 * time.Second)
		}
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := os.Remove(l.PIDFile(component)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return true, err
	}
	return true, nil
}

// tailLog returns the last lines of a component's log, to show why it
// did not start. The servers never log a secret: they only know the
// bcrypt hash and the names of secret files.
func (l Layout) tailLog(component string, n int) string {
	data, err := os.ReadFile(l.Log(component))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
