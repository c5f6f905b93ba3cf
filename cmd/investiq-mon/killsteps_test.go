package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 17, killed at every step: each command is stopped with SIGKILL
// at each named step (testhook), then run again. The files are old or
// new, never half; nothing temporary is left once the next run is done;
// and that run says what it did.

// tempFiles lists the temporary files of files.Write under dir, and the
// scratch copies up validates the files in (.validate-*).
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && (strings.Contains(d.Name(), ".tmp-") || strings.HasPrefix(d.Name(), ".validate-")) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestGenerateKilledAtEachStep(t *testing.T) {
	for _, step := range []string{"write:staged", "write:renamed-one"} {
		t.Run(step, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "monitoring")
			r := start(t, step, "generate", "--dir", dir)
			r.cmd.Process.Kill()
			r.exit()
			if step == "write:staged" && len(tempFiles(t, dir)) == 0 {
				t.Fatal("the kill left no temporary file: the test tests nothing")
			}
			code, out := inProcess("generate", "--dir", dir)
			if code != 0 || !strings.Contains(out, "created "+filepath.Join(dir, ".env")) {
				t.Fatalf("generate after the kill: exit %d\n%s", code, out)
			}
			if left := tempFiles(t, dir); len(left) != 0 {
				t.Errorf("temporary files left after the next run: %v", left)
			}
			if code, out := inProcess("generate", "--check", "--dir", dir); code != 0 {
				t.Errorf("the files are not all new after the next run:\n%s", out)
			}
		})
	}
}

func TestLocalUpKilledAtEachStep(t *testing.T) {
	// write:staged pauses first while up writes the scratch copy it
	// validates the files in, inside the state dir.
	for _, step := range []string{"write:staged", "up:validated", "up:config-written", "up:started", "up:ready"} {
		t.Run(step, func(t *testing.T) {
			ls := newLocalStack(t)
			r := start(t, step, ls.upArgs()...)
			r.cmd.Process.Kill()
			r.exit()
			if step == "write:staged" && len(tempFiles(t, ls.state)) == 0 {
				t.Fatal("the kill left no scratch copy: the test tests nothing")
			}
			code, out := inProcess(ls.upArgs()...)
			if step == "write:staged" && !strings.Contains(out, "the scratch copy of an up killed while it validated") {
				t.Errorf("up does not say it removed the killed up's scratch copy:\n%s", out)
			}
			if code != 0 {
				t.Fatalf("up after a kill at %s: exit %d\n%s", step, code, out)
			}
			if !strings.Contains(out, "stack is up") && !strings.Contains(out, "nothing to do") {
				t.Errorf("up after the kill does not say the stack is up:\n%s", out)
			}
			if (step == "up:started" || step == "up:ready") && !strings.Contains(out, "an earlier up was cut short after starting alertmanager, prometheus") {
				t.Errorf("up does not say it found the servers of the killed up:\n%s", out)
			}
			if left := tempFiles(t, ls.state); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
			if code, out := inProcess("down", "--state", ls.state, "--dir", ls.dir); code != 0 {
				t.Fatalf("down: exit %d\n%s", code, out)
			}
			if left := stackProcesses(ls.state); len(left) != 0 {
				t.Errorf("after down, servers of this stack still run: pids %v (a killed up's servers no down stops)", left)
			}
		})
	}
}
