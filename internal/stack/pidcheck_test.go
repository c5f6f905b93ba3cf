package stack

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// livePID reports whether a component's pid file names a live process,
// whatever it runs: after a failed up or a down, none may.
func (l Layout) livePID(component string) bool {
	pid, ok := l.pidFromFile(component)
	return ok && processAlive(pid)
}

func TestSameArgv(t *testing.T) {
	p := Process{Path: "/opt/tools/prometheus", Args: []string{"--config.file=/st/config/prometheus.yml", "--storage.tsdb.path=/st/data/prometheus"}}
	argv := func(a ...string) []byte { return []byte(strings.Join(a, "\x00") + "\x00") }
	tests := []struct {
		name    string
		cmdline []byte
		want    bool
	}{
		{"the recorded command", argv(p.Path, p.Args[0], p.Args[1]), true},
		{"the recorded script through its interpreter", argv("/bin/sh", p.Path, p.Args[0], p.Args[1]), true},
		{"another binary of the same name", argv("/usr/bin/prometheus", p.Args[0], p.Args[1]), false},
		{"the same binary with another data dir", argv(p.Path, p.Args[0], "--storage.tsdb.path=/other/data"), false},
		{"the same binary with an extra flag", argv(p.Path, p.Args[0], p.Args[1], "--web.enable-lifecycle"), false},
		{"the same binary with a flag missing", argv(p.Path, p.Args[0]), false},
		{"a program called prometheus", argv("prometheus", "300"), false},
		{"the binary as an argument of something else", argv("/usr/bin/strace", "-f", "-o", p.Path, p.Args[0], p.Args[1]), false},
	}
	for _, tt := range tests {
		if got := sameArgv(tt.cmdline, p); got != tt.want {
			t.Errorf("%s: sameArgv = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestProcessRunsNeedsTheRecordedCommand(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep")
	}
	cmd := exec.Command(sleep, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := cmd.Process.Pid
	// Start returns once the child is forked, maybe before it has
	// executed sleep: until then its cmdline is this test binary's.
	for i := 0; i < 500; i++ {
		if b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); strings.HasPrefix(string(b), sleep+"\x00") {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if processRuns(pid, Process{Path: filepath.Join(filepath.Dir(sleep), "other"), Args: []string{"30"}}) {
		t.Error("a process matched a command it does not run")
	}
	if processRuns(pid, Process{}) {
		t.Error("a process matched an empty record")
	}
	if !processRuns(pid, Process{Path: sleep, Args: []string{"30"}}) {
		t.Error("the process does not match its own command")
	}
	cmd.Process.Kill()
	cmd.Wait()
	if processRuns(pid, Process{Path: sleep, Args: []string{"30"}}) || processAlive(pid) {
		t.Error("a dead process still runs")
	}

}
