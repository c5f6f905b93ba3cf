package stack

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/proc"
)

// A docker call outlives nothing: when investiq-mon is killed (SIGKILL,
// no chance to cancel), the docker client it started is signalled too,
// so a `docker compose up` of the killed run cannot go on changing the
// stack beside the next run. The test kills a process in the middle of
// a docker call (a fake docker client that sleeps) and watches the
// client go.
func TestDockerCallDiesWithTheCommand(t *testing.T) {
	if fake := os.Getenv("INVESTIQ_TEST_FAKE_DOCKER"); fake != "" {
		// The process the test kills: one docker call, as up makes it.
		_, _ = composeUp(context.Background(), fake, "compose", "up", "--wait")
		return
	}
	dir := t.TempDir()
	fake, pidFile := filepath.Join(dir, "docker"), filepath.Join(dir, "pid")
	script := "#!/bin/sh\necho $$ > " + pidFile + ".tmp && mv " + pidFile + ".tmp " + pidFile + "\nexec sleep 300\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	parent := exec.Command(os.Args[0], "-test.run=^TestDockerCallDiesWithTheCommand$", "-test.count=1")
	parent.Env = append(os.Environ(), "INVESTIQ_TEST_FAKE_DOCKER="+fake)
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	for deadline := time.Now().Add(30 * time.Second); pid == 0; time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(pidFile); err == nil {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		if time.Now().After(deadline) {
			parent.Process.Kill()
			t.Fatal("the fake docker client never started")
		}
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	if err := parent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()
	for deadline := time.Now().Add(10 * time.Second); proc.Alive(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the docker client (pid %d) still runs 10 s after the command that started it was killed", pid)
		}
	}
}
