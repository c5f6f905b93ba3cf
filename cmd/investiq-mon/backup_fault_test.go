package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/investiq/investiq-mon/internal/cli"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/internal/testutil"
)

// Issue 17, faults of the stack itself: a component killed (kill -9 of
// the local process) before a backup. Without --allow-partial the backup
// fails and writes nothing; with it, the archive is written and names
// what is missing.
func TestBackupWithAComponentKilled(t *testing.T) {
	s := newSigStack(t)
	data, err := os.ReadFile(filepath.Join(s.state, "run", "alertmanager.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	archive := filepath.Join(out, "b.tar.gz")
	code, msg := inProcess("backup", "--dir", s.dir, "--state", s.state, "--output", archive)
	t.Logf("backup: exit %d\n%s", code, msg)
	if code == 0 {
		t.Errorf("backup with Alertmanager killed: exit 0, want a failure\n%s", msg)
	}
	if !strings.Contains(strings.ToLower(msg), "alertmanager") {
		t.Errorf("the failure does not name Alertmanager:\n%s", msg)
	}
	if left, _ := os.ReadDir(out); len(left) != 0 {
		t.Errorf("a failed backup wrote %v", left)
	}
	code, msg = inProcess("backup", "--dir", s.dir, "--state", s.state, "--output", archive, "--allow-partial")
	t.Logf("backup --allow-partial: exit %d\n%s", code, msg)
	if code != 0 {
		t.Fatalf("backup --allow-partial: exit %d\n%s", code, msg)
	}
	if !strings.Contains(strings.ToLower(msg), "alertmanager") {
		t.Errorf("--allow-partial does not say Alertmanager is missing:\n%s", msg)
	}
	// What is reported of the rest is what status reports of it: once
	// "version unknown" for a Prometheus that answered with its build.
	var st, stErr testutil.LockedBuffer
	cli.Main(context.Background(), []string{"status", "--json", "--dir", s.dir, "--state", s.state},
		cli.NewFactory(&cli.IOStreams{In: strings.NewReader(""), Out: &st, ErrOut: &stErr}))
	var report stack.Report
	if err := json.Unmarshal([]byte(st.String()), &report); err != nil {
		t.Fatalf("status --json: %v\n%s%s", err, st.String(), stErr.String())
	}
	for _, c := range report.Components {
		if c.Name == stack.Prometheus && (c.Version == "" || !strings.Contains(msg, "saved    version "+c.Version+",")) {
			t.Errorf("backup --allow-partial does not report Prometheus' version as status does (%q):\n%s", c.Version, msg)
		}
	}
	if strings.Contains(msg, "version unknown") || !strings.Contains(msg, "down at backup time: dial tcp") {
		t.Errorf("the summary should name each version as status does and why Alertmanager was skipped:\n%s", msg)
	}
	if code, vmsg := inProcess("backup", "verify", archive, "--dir", s.dir); code != 0 || !strings.Contains(strings.ToLower(vmsg), "alertmanager") {
		t.Errorf("verify of the partial archive: exit %d, want it to verify and name the missing Alertmanager\n%s", code, vmsg)
	}
}

// Issue 17: the disk fills up during `backup`. The archive goes to a
// folder on a small tmpfs (where this machine lets the test mount one) or
// to a process whose files may not grow past RLIMIT_FSIZE (everywhere);
// either way the backup must fail, say so in a sentence naming the
// output, and leave no partial archive, no temp file and no Prometheus
// snapshot behind; and the stack must still back up elsewhere.
func TestBackupOnAFullDisk(t *testing.T) {
	s := newSigStack(t)
	fi, err := os.Stat(s.archive)
	if err != nil {
		t.Fatal(err)
	}
	// Half the archive newSigStack just wrote: the next one cannot fit.
	limit := fi.Size() / 2 &^ 4095
	if limit < 4096 {
		t.Fatalf("the archive is %d bytes, too small to fill a file system with", fi.Size())
	}
	check := func(t *testing.T, out string, code int, msg string) {
		t.Helper()
		t.Logf("backup into %d bytes of room: exit %d\n%s", limit, code, msg)
		if code == 0 {
			t.Fatalf("backup on a full disk: exit 0\n%s", msg)
		}
		if !strings.Contains(msg, out) || !strings.Contains(msg, "nothing was written") {
			t.Errorf("the error does not say where it failed and that nothing was written:\n%s", msg)
		}
		if left, _ := os.ReadDir(filepath.Dir(out)); len(left) != 0 {
			var names []string
			for _, e := range left {
				names = append(names, e.Name())
			}
			t.Errorf("a failed backup left %v", names)
		}
		if snaps, _ := filepath.Glob(filepath.Join(s.state, "data", "prometheus", "snapshots", "*")); len(snaps) != 0 {
			t.Errorf("a failed backup left Prometheus snapshots %v", snaps)
		}
	}
	t.Run("tmpfs", func(t *testing.T) {
		dir := t.TempDir()
		if err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+strconv.FormatInt(limit, 10), "tmpfs", dir).Run(); err != nil {
			t.Skipf("cannot mount a tmpfs here (%v): the RLIMIT_FSIZE case stands in for it", err)
		}
		t.Cleanup(func() {
			if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
				t.Errorf("umount %s: %v %s", dir, err, out)
			}
		})
		out := filepath.Join(dir, "b.tar.gz")
		code, msg := inProcess("backup", "--dir", s.dir, "--state", s.state, "--output", out)
		check(t, out, code, msg)
	})
	t.Run("RLIMIT_FSIZE", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "b.tar.gz")
		cmd := exec.Command(os.Args[0], "backup", "--dir", s.dir, "--state", s.state, "--output", out)
		cmd.Env = append(os.Environ(), runMainEnv+"=1", fileSizeLimitEnv+"="+strconv.FormatInt(limit, 10))
		msg, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				t.Fatalf("backup killed by %v instead of failing:\n%s", ws.Signal(), msg)
			}
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		check(t, out, code, string(msg))
	})
	// Nothing was harmed: a backup with room succeeds.
	if code, msg := inProcess("backup", "--dir", s.dir, "--state", s.state, "--output", filepath.Join(t.TempDir(), "ok.tar.gz")); code != 0 {
		t.Errorf("backup with room after the full-disk failures: exit %d\n%s", code, msg)
	}
}
