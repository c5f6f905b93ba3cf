package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/validate/hostile"
)

// Issue 17, bounded resources: validate and test, run as a user runs
// them (a process of their own), on a 100 MB file, YAML alias bombs and
// 10,000-deep nesting, finish with a verdict, an error naming the file,
// in bounded memory. The bound is an absolute one, generous enough for
// the race detector's overhead and far below what reading and parsing
// the 100 MB file costs (promtool check rules peaks at 1.5 GiB on it and
// runs for minutes: bench/hostile.sh).
const peakBound = 768 << 20

func TestHostileInputsStayBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200 MB of input")
	}
	dir := t.TempDir()
	if err := hostile.WriteAll(dir); err != nil {
		t.Fatal(err)
	}
	for name, kind := range hostile.Files {
		args := []string{"test", filepath.Join(dir, name)}
		if kind != "" {
			args = []string{"validate", "--kind", kind, filepath.Join(dir, name)}
		}
		t.Run(strings.Join(args[:len(args)-1], " ")+" "+name, func(t *testing.T) {
			code, peak, out := runChild(t, args...)
			t.Logf("exit %d, peak RSS %d MiB", code, peak>>20)
			if code != 1 {
				t.Errorf("exit %d, want 1 (an error about the file):\n%s", code, out)
			}
			if !strings.Contains(out, name) {
				t.Errorf("the output does not name %s:\n%s", name, out)
			}
			if peak > peakBound {
				t.Errorf("peak RSS %d MiB, more than the %d MiB bound", peak>>20, peakBound>>20)
			}
		})
	}
}

// runChild runs this test binary as investiq-mon (runMainEnv) and returns
// its exit code, peak RSS in bytes and combined output (the first 4 KiB).
func runChild(t *testing.T, args ...string) (int, int64, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%v still running after 5 minutes", args)
	}
	var ee *exec.ExitError
	if err != nil && !errorsAs(err, &ee) {
		t.Fatal(err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Skip("no rusage on this platform")
	}
	s := out.String()
	if len(s) > 4096 {
		s = s[:4096]
	}
	return cmd.ProcessState.ExitCode(), ru.Maxrss << 10, s // Linux: Maxrss in KiB
}

func errorsAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}
