package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 17: backup killed at each step leaves no archive; the next backup
// removes the snapshot and temporary files it left, says so, and writes
// its own archive.
func TestBackupKilledAtEachStep(t *testing.T) {
	s := newSigStack(t)
	snapshots := func() []string {
		m, _ := filepath.Glob(filepath.Join(s.state, "data", "prometheus", "snapshots", "*"))
		return m
	}
	for _, step := range []string{"backup:snapshot-taken", "backup:archived"} {
		t.Run(step, func(t *testing.T) {
			out := t.TempDir()
			archive := filepath.Join(out, "b.tar.gz")
			r := start(t, step, "backup", "--dir", s.dir, "--state", s.state, "--output", archive)
			r.cmd.Process.Kill()
			r.exit()
			temps, _ := filepath.Glob(filepath.Join(out, ".*"))
			if len(temps) == 0 {
				t.Fatal("the kill left no temporary file: the test tests nothing")
			}
			if step == "backup:snapshot-taken" && len(snapshots()) == 0 {
				t.Fatal("the kill left no snapshot: the test tests nothing")
			}
			if _, err := os.Stat(archive); err == nil {
				t.Errorf("a killed backup left an archive at %s", archive)
			}
			next := filepath.Join(out, "next.tar.gz")
			code, msg := inProcess("backup", "--dir", s.dir, "--state", s.state, "--output", next)
			if code != 0 {
				t.Fatalf("backup after the kill: exit %d\n%s", code, msg)
			}
			if !strings.Contains(msg, "removed what a backup killed halfway") {
				t.Errorf("the next backup does not say it cleaned up:\n%s", msg)
			}
			if left, _ := filepath.Glob(filepath.Join(out, ".*")); len(left) != 0 {
				t.Errorf("temporary files left after the next backup: %v", left)
			}
			if left := snapshots(); len(left) != 0 {
				t.Errorf("Prometheus snapshots left after the next backup: %v", left)
			}
			if code, msg := inProcess("backup", "verify", next, "--dir", s.dir); code != 0 {
				t.Errorf("the next backup's archive does not verify:\n%s", msg)
			}
		})
	}
}
