package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
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
	if code, vmsg := inProcess("backup", "verify", archive, "--dir", s.dir); code != 0 || !strings.Contains(strings.ToLower(vmsg), "alertmanager") {
		t.Errorf("verify of the partial archive: exit %d, want it to verify and name the missing Alertmanager\n%s", code, vmsg)
	}
}
