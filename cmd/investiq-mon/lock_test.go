package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/cli"
	"github.com/investiq/investiq-mon/internal/testhook"
	"github.com/investiq/investiq-mon/internal/testutil"
)

// Issue 17, one writer at a time. Found by trying it as a new user would:
// two `up --backend local` at the same moment in one folder both said
// "stack is up", and after `down` one Alertmanager was left running that
// no later `down` stopped (the second up had overwritten the first's pid
// files). The race is made deterministic with testhook: the first up is
// held after it has checked the ports and written its config, the second
// runs meanwhile, then the first goes on.

// run is one investiq-mon process (this test binary running main).
type run struct {
	*proc
	ready string
}

// start starts investiq-mon args; with step set it pauses there, and
// start returns once it has.
func start(t *testing.T, step string, args ...string) *run {
	t.Helper()
	r := &run{ready: filepath.Join(t.TempDir(), "paused")}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	if step != "" {
		cmd.Env = append(cmd.Env, testhook.Env+"="+step+"="+r.ready)
	}
	r.proc = &proc{cmd: cmd, done: make(chan struct{}), stderr: &testutil.LockedBuffer{}}
	cmd.Stdout, cmd.Stderr = r.stderr, r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.err = cmd.Wait(); close(r.done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-r.done })
	if step == "" {
		return r
	}
	deadline := time.After(3 * time.Minute)
	for {
		if _, err := os.Stat(r.ready); err == nil {
			return r
		}
		select {
		case <-r.done:
			t.Fatalf("investiq-mon %s exited before reaching %s:\n%s", args[0], step, r.stderr)
		case <-deadline:
			t.Fatalf("investiq-mon %s did not reach %s:\n%s", args[0], step, r.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// resume lets a paused run go on from its step.
func (r *run) resume(t *testing.T) {
	t.Helper()
	if err := os.Remove(r.ready); err != nil {
		t.Fatal(err)
	}
}

// exit waits for the run and returns its exit code and output.
func (r *run) exit() (int, string) {
	err := r.wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), r.stderr.String()
	}
	if err != nil {
		return -1, r.stderr.String() + err.Error()
	}
	return 0, r.stderr.String()
}

// localStack is a generated stack with free ports, not yet up.
type localStack struct {
	dir, state       string
	promPort, amPort int
}

func newLocalStack(t *testing.T) *localStack {
	testutil.Bin(t, "prometheus")
	testutil.Bin(t, "alertmanager")
	root := t.TempDir()
	ls := &localStack{dir: filepath.Join(root, "monitoring"), state: filepath.Join(root, "st"),
		promPort: testutil.FreePort(t), amPort: testutil.FreePort(t)}
	if code, out := inProcess("generate", "--out", ls.dir); code != 0 {
		t.Fatalf("generate: %s", out)
	}
	t.Cleanup(func() {
		inProcess("down", "--state", ls.state, "--dir", ls.dir)
		for _, pid := range stackProcesses(ls.state) {
			syscallKill(pid)
		}
	})
	return ls
}

func (ls *localStack) upArgs(extra ...string) []string {
	return append([]string{"up", "--backend", "local", "--dir", ls.dir, "--state", ls.state, "--api-address", "127.0.0.1:1",
		"--prometheus-port", strconv.Itoa(ls.promPort), "--alertmanager-port", strconv.Itoa(ls.amPort), "--timeout", "90s"}, extra...)
}

func inProcess(args ...string) (int, string) {
	var out testutil.LockedBuffer
	f := cli.NewFactory(&cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out})
	return cli.Main(context.Background(), args, f), out.String()
}

// stackProcesses are the pids of every process whose command line names
// the state dir: the servers of that stack, whoever started them.
func stackProcesses(state string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), state+string(filepath.Separator)) {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil {
			if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
				continue
			}
		}
		if strings.Contains(string(cmdline), "prometheus") || strings.Contains(string(cmdline), "alertmanager") {
			pids = append(pids, pid)
		}
	}
	return pids
}

func TestTwoUpsAtOnceOneWriter(t *testing.T) {
	ls := newLocalStack(t)
	first := start(t, "up:config-written", ls.upArgs()...)
	second := start(t, "", ls.upArgs()...)
	code2, out2 := second.exit()
	first.resume(t)
	code1, out1 := first.exit()
	t.Logf("first up: exit %d\n%s\nsecond up: exit %d\n%s", code1, out1, code2, out2)

	if code1 != 0 || !strings.Contains(out1, "stack is up") {
		t.Errorf("the first up (holding the lock) did not bring the stack up: exit %d", code1)
	}
	if code2 == 0 || strings.Contains(out2, "stack is up") {
		t.Errorf("the second up ran beside the first: exit %d, want a refusal", code2)
	}
	want := "`investiq-mon up` (pid " + strconv.Itoa(first.cmd.Process.Pid) + ","
	if !strings.Contains(out2, want) || !strings.Contains(out2, "is working on this stack") {
		t.Errorf("the refusal does not name the command and pid holding the lock (%s)", want)
	}
	// Notes about this run's flags (a settings override) may come
	// first; the refusal itself is one line.
	var refusal []string
	for _, l := range strings.Split(strings.TrimSpace(out2), "\n") {
		if !strings.HasPrefix(l, "note: ") {
			refusal = append(refusal, l)
		}
	}
	if len(refusal) != 1 {
		t.Errorf("the refusal is %d lines, want one sentence: %q", len(refusal), refusal)
	}
	if code, out := inProcess("down", "--state", ls.state, "--dir", ls.dir); code != 0 {
		t.Fatalf("down: exit %d\n%s", code, out)
	}
	if left := stackProcesses(ls.state); len(left) != 0 {
		t.Errorf("after down, servers of this stack still run: pids %v", left)
	}
}

func TestSecondRunWaitsWithLockWait(t *testing.T) {
	ls := newLocalStack(t)
	first := start(t, "up:validated", ls.upArgs()...)
	second := start(t, "", ls.upArgs("--lock-wait", "5m")...)
	// The second says it waits, and does nothing else meanwhile.
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(second.stderr.String(), "waiting up to 5m0s for `investiq-mon up` (pid "+strconv.Itoa(first.cmd.Process.Pid)) {
		if time.Now().After(deadline) {
			t.Fatalf("the second up does not say it waits:\n%s", second.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	first.resume(t)
	if code, out := first.exit(); code != 0 || !strings.Contains(out, "stack is up") {
		t.Fatalf("first up: exit %d\n%s", code, out)
	}
	code, out := second.exit()
	if code != 0 || !strings.Contains(out, "nothing to do") {
		t.Errorf("the second up, after waiting, did not find the stack up: exit %d\n%s", code, out)
	}
}

func TestLockOfAKilledUpIsTakenOver(t *testing.T) {
	ls := newLocalStack(t)
	first := start(t, "up:config-written", ls.upArgs()...)
	first.cmd.Process.Kill()
	first.exit()
	code, out := inProcess(ls.upArgs()...)
	if code != 0 || !strings.Contains(out, "stack is up") {
		t.Fatalf("up after a killed up: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "left by `investiq-mon up` (pid "+strconv.Itoa(first.cmd.Process.Pid)) {
		t.Errorf("up does not say whose lock it took over:\n%s", out)
	}
}

func TestTwoGeneratesTakeTurns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "monitoring")
	first := start(t, "write:staged", "generate", "--out", dir)
	code, out := inProcess("generate", "--out", dir)
	if code == 0 || !strings.Contains(out, "`investiq-mon generate` (pid "+strconv.Itoa(first.cmd.Process.Pid)) {
		t.Errorf("a second generate beside the first: exit %d\n%s", code, out)
	}
	first.resume(t)
	if code, out := first.exit(); code != 0 || !strings.Contains(out, "created "+filepath.Join(dir, ".env")) {
		t.Errorf("first generate: exit %d\n%s", code, out)
	}
}

func syscallKill(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

// In a folder where neither the generated directory nor the state
// directory exists yet, up creates both before locking them: it writes
// .env and starts servers there, so a second up, or a generate, must wait
// for it. Before, up locked only what already existed, which in a fresh
// folder was nothing.
func TestUpInAFreshFolderTakesTheLock(t *testing.T) {
	testutil.Bin(t, "prometheus")
	testutil.Bin(t, "alertmanager")
	root := t.TempDir()
	ls := &localStack{dir: filepath.Join(root, "monitoring"), state: filepath.Join(root, "st"),
		promPort: testutil.FreePort(t), amPort: testutil.FreePort(t)}
	t.Cleanup(func() {
		inProcess("down", "--state", ls.state, "--dir", ls.dir)
		for _, pid := range stackProcesses(ls.state) {
			syscallKill(pid)
		}
	})
	first := start(t, "up:validated", ls.upArgs()...)
	for _, args := range [][]string{ls.upArgs(), {"generate", "--dir", ls.dir}} {
		code, out := inProcess(args...)
		if code == 0 || !strings.Contains(out, "is working on this stack") {
			t.Errorf("%s while the first up holds the fresh folder: exit %d, want a refusal naming the up\n%s", args[0], code, out)
		}
	}
	first.resume(t)
	if code, out := first.exit(); code != 0 {
		t.Fatalf("first up: exit %d\n%s", code, out)
	}
}

// The commands that do not create the directories change nothing where
// neither exists: that is why they need no lock there (see
// stackLocation.lock). Each fails or says there is nothing to do, and
// leaves no directory behind.
func TestCommandsInAnEmptyFolderCreateNothing(t *testing.T) {
	root := t.TempDir()
	archive := filepath.Join(t.TempDir(), "b.tar.gz")
	if err := os.WriteFile(archive, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dir, state := filepath.Join(root, "monitoring"), filepath.Join(root, "st")
	for _, args := range [][]string{
		{"backup", "--output", filepath.Join(root, "out.tar.gz")},
		{"restore", archive, "--yes"},
		{"down"},
		{"down", "--backend", "local"},
		{"grafana", "reset-password"},
	} {
		code, out := inProcess(append(args, "--dir", dir, "--state", state)...)
		t.Logf("%v: exit %d: %s", args, code, strings.TrimSpace(out))
		if code == 0 && !strings.Contains(out, "nothing to stop") && !strings.Contains(out, "no local component was running") {
			t.Errorf("%v in an empty folder: exit 0 without saying there is nothing to do\n%s", args, out)
		}
		if left, _ := os.ReadDir(root); len(left) != 0 {
			t.Fatalf("%v in an empty folder created %v", args, left)
		}
	}
}
