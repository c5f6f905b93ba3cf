package lock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSecondAcquireIsRefusedNamingTheHolder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "st", "lock")
	first, err := Acquire(context.Background(), p, Options{Command: "up"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(context.Background(), p, Options{Command: "down"})
	var be *BusyError
	if !errors.As(err, &be) || !errors.Is(err, ErrBusy) {
		t.Fatalf("second Acquire: %v, want a BusyError", err)
	}
	msg := err.Error()
	for _, want := range []string{"`investiq-mon up`", "pid " + strconv.Itoa(os.Getpid()), p, "--lock-wait"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal %q does not name %q", msg, want)
		}
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	second, err := Acquire(context.Background(), p, Options{Command: "down"})
	if err != nil {
		t.Fatalf("after Release: %v", err)
	}
	defer second.Release()
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file: %v, mode %v, want 0600", err, fi.Mode())
	}
}

func TestWaiterGetsTheLockOnceReleased(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	first, err := Acquire(context.Background(), p, Options{Command: "backup"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var notes []string
	waiting := make(chan struct{})
	got := make(chan error, 1)
	go func() {
		l, err := Acquire(context.Background(), p, Options{Command: "restore", Wait: time.Hour, Notify: func(s string) {
			mu.Lock()
			notes = append(notes, s)
			mu.Unlock()
			close(waiting)
		}})
		if err == nil {
			l.Release()
		}
		got <- err
	}()
	<-waiting // the waiter has seen the lock held
	first.Release()
	if err := <-got; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notes) != 1 || !strings.Contains(notes[0], "waiting up to 1h0m0s for `investiq-mon backup`") {
		t.Errorf("notes: %q", notes)
	}
}

func TestWaitEndsWithCancel(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	first, err := Acquire(context.Background(), p, Options{Command: "up"})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()
	ctx, cancel := context.WithCancel(context.Background())
	_, err = Acquire(ctx, p, Options{Command: "up", Wait: time.Hour, Notify: func(string) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire after cancel: %v", err)
	}
}

// A record left by a run that ended without Release (killed): the
// kernel freed the flock, the next run takes over and says whose it was.
func TestLockOfAKilledRunIsTakenOver(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	dead := deadPID(t)
	rec, _ := json.Marshal(Holder{Command: "restore", PID: dead, Argv: []string{"/bin/investiq-mon", "restore"}, Started: time.Now()})
	if err := os.WriteFile(p, rec, 0o600); err != nil {
		t.Fatal(err)
	}
	var notes []string
	l, err := Acquire(context.Background(), p, Options{Command: "up", Notify: func(s string) { notes = append(notes, s) }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if len(notes) != 1 || !strings.Contains(notes[0], "left by `investiq-mon restore` (pid "+strconv.Itoa(dead)) || !strings.Contains(notes[0], "no longer running") {
		t.Errorf("notes: %q", notes)
	}
	data, _ := os.ReadFile(p)
	var h Holder
	if err := json.Unmarshal(data, &h); err != nil || h.PID != os.Getpid() || h.Command != "up" {
		t.Errorf("record after takeover: %s (%v)", data, err)
	}
}

// Without flock the record decides: a live process running the recorded
// command holds it; a dead one, or a reused pid running something else,
// does not.
func TestRunningChecksTheRecordedCommand(t *testing.T) {
	sleep := exec.Command("sleep", "60")
	if err := sleep.Start(); err != nil {
		t.Skip("no sleep:", err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()
	pid := sleep.Process.Pid
	// Start returns once the child is forked, maybe before it has
	// executed sleep: until then its cmdline is this test binary's.
	for i := 0; i < 500; i++ {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.HasPrefix(string(b), "sleep\x00") {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !Running(Holder{PID: pid, Argv: []string{"sleep", "60"}}) {
		t.Error("a live process running its recorded command is not seen as running")
	}
	if Running(Holder{PID: pid, Argv: []string{"/bin/investiq-mon", "up"}}) {
		t.Error("a pid reused by another program is seen as the holder")
	}
	if Running(Holder{PID: deadPID(t), Argv: []string{"sleep", "60"}}) {
		t.Error("a dead process is seen as running")
	}
}

// deadPID is the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	c := exec.Command("true")
	if err := c.Run(); err != nil {
		t.Skip("no true:", err)
	}
	return c.Process.Pid
}

// A holder that removes the file and its directory on release
// (ReleaseRemovingDir, for a directory it created only to lock it) does
// not leave a waiter holding a lock on a file nobody else sees: the
// waiter locks the path anew, and a third run finds it busy.
func TestReleaseRemovingDirHandsOverToAWaiter(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fresh")
	p := filepath.Join(dir, "lock")
	first, err := Acquire(context.Background(), p, Options{Command: "up"})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *Lock, 1)
	go func() {
		l, err := Acquire(context.Background(), p, Options{Command: "up", Wait: time.Minute})
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	time.Sleep(3 * pollEvery) // let the waiter open the old file; correctness does not depend on it
	if err := first.ReleaseRemovingDir(); err != nil {
		t.Fatal(err)
	}
	second := <-got
	if second == nil {
		t.FailNow()
	}
	defer second.Release()
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the waiter holds a lock whose file is gone: %v", err)
	}
	var busy *BusyError
	if _, err := Acquire(context.Background(), p, Options{Command: "up"}); !errors.As(err, &busy) {
		t.Fatalf("a third run while the waiter holds the lock: %v, want busy", err)
	}
	if err := second.Release(); err != nil {
		t.Fatal(err)
	}
	// Released with something else in the directory, both stay.
	third, err := Acquire(context.Background(), p, Options{Command: "up"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".env"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := third.ReleaseRemovingDir(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Errorf("the lock file was removed from a directory holding more: %v", err)
	}
}
