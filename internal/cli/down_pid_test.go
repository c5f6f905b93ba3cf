package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/testutil"
)

// Issue 18 item 4: `down` trusted a stale pid file. It matched only the
// basename of argv[0], so it signalled any process called prometheus
// whose pid a stale pid file named: an unrelated program, or another
// stack's Prometheus. Each case here writes the pid of a real process
// that is not this stack's into the pid file, runs down, and wants that
// process alive afterwards.

// otherProcess starts bin with args in its own process group and stops it
// when the test ends.
func otherProcess(t *testing.T, bin string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	// Let the kernel switch its argv to the new program first.
	deadline := time.Now().Add(10 * time.Second)
	for {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid))
		if strings.Contains(string(cmdline), bin+"\x00") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start", bin)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cmd
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err != nil || !strings.Contains(string(stat), ") Z ")
}

func TestDownLeavesProcessesThatAreNotThisStacks(t *testing.T) {
	root := t.TempDir()
	state := filepath.Join(root, "st")
	// What up recorded: this stack's Prometheus binary, config and data.
	ourBin := filepath.Join(root, "tools", "prometheus")
	recorded := map[string]any{
		"backend": "local", "prometheus": "http://127.0.0.1:1", "alertmanager": "http://127.0.0.1:1",
		"processes": map[string]any{
			"prometheus": map[string]any{"path": ourBin, "args": []string{
				"--config.file=" + filepath.Join(state, "config", "prometheus", "prometheus.yml"),
				"--storage.tsdb.path=" + filepath.Join(state, "data", "prometheus"),
			}, "addr": "127.0.0.1:1"},
		},
	}
	data, _ := json.Marshal(recorded)
	os.MkdirAll(filepath.Join(state, "run"), 0o700)
	if err := os.WriteFile(filepath.Join(state, "state.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}

	// A program that is not Prometheus at all, but called prometheus.
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	impostor := filepath.Join(t.TempDir(), "prometheus")
	if data, err := os.ReadFile(sleep); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(impostor, data, 0o755); err != nil {
		t.Fatal(err)
	}

	// Another stack's real Prometheus: the same binary name, other paths.
	other := t.TempDir()
	otherCfg := filepath.Join(other, "prometheus.yml")
	os.WriteFile(otherCfg, []byte("global: {}\n"), 0o600)

	tests := []struct {
		name  string
		start func(t *testing.T) *exec.Cmd
	}{
		{"a program called prometheus that is not this stack's", func(t *testing.T) *exec.Cmd {
			return otherProcess(t, impostor, "300")
		}},
		{"another stack's Prometheus, with its own config and data", func(t *testing.T) *exec.Cmd {
			return otherProcess(t, testutil.Bin(t, "prometheus"), "--config.file="+otherCfg, "--storage.tsdb.path="+filepath.Join(other, "data"),
				"--web.listen-address=127.0.0.1:"+strconv.Itoa(testutil.FreePort(t)))
		}},
		{"this stack's binary with the same config but another data dir", func(t *testing.T) *exec.Cmd {
			// ourBin is a script that takes any flags and waits; only the
			// data path differs from what up recorded.
			os.MkdirAll(filepath.Dir(ourBin), 0o755)
			os.WriteFile(ourBin, []byte("#!/bin/sh\nsleep 300\n"), 0o755)
			return otherProcess(t, ourBin, "--config.file="+filepath.Join(state, "config", "prometheus", "prometheus.yml"),
				"--storage.tsdb.path="+filepath.Join(other, "data"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := tt.start(t)
			pid := cmd.Process.Pid
			pidFile := filepath.Join(state, "run", "prometheus.pid")
			if err := os.WriteFile(pidFile, []byte(strconv.Itoa(pid)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errOut testutil.LockedBuffer
			f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
			code := Main(t.Context(), []string{"down", "--state", state, "--dir", filepath.Join(root, "monitoring")}, f)
			// Give a signal, had one been sent, time to land.
			time.Sleep(200 * time.Millisecond)
			if !alive(pid) {
				t.Fatalf("down killed pid %d, which is not this stack's Prometheus (exit %d)\n%s%s", pid, code, out.String(), errOut.String())
			}
			if code != 0 {
				t.Errorf("down: exit %d\n%s%s", code, out.String(), errOut.String())
			}
			if !strings.Contains(out.String()+errOut.String(), fmt.Sprintf("pid %d", pid)) {
				t.Errorf("down does not say it left pid %d alone:\n%s%s", pid, out.String(), errOut.String())
			}
			if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
				t.Error("the stale pid file is still there")
			}
		})
	}
}
