// Package lock makes the commands that change a stack take turns: up,
// down, backup, restore, generate and grafana reset-password each hold
// an exclusive lock on the stack while they run, so two of them never
// interleave their writes (two `up` both starting an Alertmanager, a
// generate rewriting .env while a backup adds its key to it).
//
// The lock is flock(2) on a file that also records who holds it (command,
// pid, argv, start time). The kernel drops a flock when its holder exits,
// however it exits, so a lock left by a killed process is free at once;
// the record then tells the next holder whose run was cut short. Where
// the file system refuses flock, the record alone decides: it is stale
// when its process is gone or no longer runs the recorded command
// (stack's /proc cmdline check, which a reused pid does not pass).
package lock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/investiq/investiq-mon/internal/proc"
	"github.com/investiq/investiq-mon/internal/textsafe"
)

// ErrBusy is another run holding the lock; BusyError says which.
var ErrBusy = errors.New("the stack is busy")

// Holder is the record in the lock file.
type Holder struct {
	Command string    `json:"command"`
	PID     int       `json:"pid"`
	Argv    []string  `json:"argv"`
	Started time.Time `json:"started"`
}

func (h Holder) String() string {
	return fmt.Sprintf("`investiq-mon %s` (pid %d, started %s)", textsafe.Line(h.Command), h.PID, h.Started.UTC().Format("2006-01-02 15:04:05 UTC"))
}

// BusyError is the refusal: one sentence naming the command and process
// holding the lock.
type BusyError struct {
	Path   string
	Holder Holder
	// Waited is how long this run waited before giving up (0: not at all).
	Waited time.Duration
}

func (e *BusyError) Error() string {
	who := "another investiq-mon run"
	if e.Holder.PID > 0 {
		who = e.Holder.String()
	}
	if e.Waited > 0 {
		return fmt.Sprintf("%s still holds the lock %s after %s of waiting: nothing was changed; rerun when it has finished, or with a longer --lock-wait", who, e.Path, e.Waited)
	}
	return fmt.Sprintf("%s is working on this stack (lock %s): nothing was changed; rerun when it has finished, or pass --lock-wait 5m to wait for it", who, e.Path)
}

func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// Options of Acquire.
type Options struct {
	// Command is the subcommand that takes the lock, e.g. "up".
	Command string
	// Wait is how long to wait for a busy lock; 0 refuses at once.
	Wait time.Duration
	// Notify receives one line when Acquire waits, or takes over a lock
	// whose holder was killed. Nil: silent.
	Notify func(string)
}

// Lock is a held lock; Release frees it.
type Lock struct {
	f    *os.File
	path string
	// flock is false where the file system refuses flock and the record
	// alone is the lock.
	flock bool
}

// pollEvery is how often a waiting run tries again.
const pollEvery = 100 * time.Millisecond

// Acquire takes the lock at path (creating the file, mode 0600, and its
// directory, 0700). It returns a *BusyError when another run holds it
// past o.Wait, and ctx's error when ctx ends first.
func Acquire(ctx context.Context, path string, o Options) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	l := &Lock{f: f, path: path, flock: true}
	start := time.Now()
	notified := false
	for {
		held, err := l.try(o)
		if err != nil {
			f.Close()
			return nil, err
		}
		if held == nil {
			return l, nil
		}
		waited := time.Since(start)
		if waited >= o.Wait {
			f.Close()
			return nil, &BusyError{Path: path, Holder: *held, Waited: o.Wait}
		}
		if !notified && o.Notify != nil {
			o.Notify(fmt.Sprintf("waiting up to %s for %s to release the lock %s", o.Wait, held, path))
			notified = true
		}
		t := time.NewTimer(min(pollEvery, o.Wait-waited))
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// try takes the lock if it is free and returns nil, or returns who holds
// it.
func (l *Lock) try(o Options) (*Holder, error) {
	if l.flock {
		err := unix.Flock(int(l.f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case errors.Is(err, unix.EWOULDBLOCK):
			h := l.read()
			return &h, nil
		case errors.Is(err, unix.ENOLCK) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS):
			l.flock = false
		case err != nil:
			return nil, fmt.Errorf("lock %s: %w", l.path, err)
		}
		if l.flock {
			// The holder may have removed the file (and its directory)
			// on release, after this run opened it (ReleaseRemovingDir):
			// then the flock is on a file nobody else will see. Open
			// the path again and try once more.
			if fi, err := l.f.Stat(); err == nil {
				if pi, err := os.Stat(l.path); err != nil || !os.SameFile(fi, pi) {
					unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
					l.f.Close()
					if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
						return nil, fmt.Errorf("lock: %w", err)
					}
					f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o600)
					if err != nil {
						return nil, fmt.Errorf("lock: %w", err)
					}
					l.f = f
					return l.try(o)
				}
			}
		}
	}
	prev := l.read()
	if !l.flock && prev.PID > 0 && prev.PID != os.Getpid() && Running(prev) {
		return &prev, nil
	}
	if prev.PID > 0 && prev.PID != os.Getpid() && o.Notify != nil {
		// Release empties the record: one left behind is a run that
		// ended without releasing, i.e. was killed.
		o.Notify(fmt.Sprintf("took over the lock %s left by %s, which is no longer running: what it was doing may be half done", l.path, prev))
	}
	me := Holder{Command: o.Command, PID: os.Getpid(), Argv: os.Args, Started: time.Now().UTC()}
	data, err := json.Marshal(me)
	if err != nil {
		return nil, err
	}
	if err := l.f.Truncate(0); err != nil {
		return nil, fmt.Errorf("lock %s: %w", l.path, err)
	}
	if _, err := l.f.WriteAt(append(data, '\n'), 0); err != nil {
		return nil, fmt.Errorf("lock %s: %w", l.path, err)
	}
	return nil, nil
}

// read returns the record in the lock file, zero when empty or garbled.
func (l *Lock) read() Holder {
	var h Holder
	data, err := io.ReadAll(io.NewSectionReader(l.f, 0, 1<<16))
	if err != nil || len(strings.TrimSpace(string(data))) == 0 {
		return h
	}
	if json.Unmarshal(data, &h) != nil {
		return Holder{}
	}
	return h
}

// Running reports whether h's process still runs the command it recorded.
func Running(h Holder) bool {
	if h.PID <= 0 || len(h.Argv) == 0 {
		return false
	}
	return proc.Runs(h.PID, h.Argv[0], h.Argv[1:])
}

// Release empties the record and frees the lock. The file stays: removing
// it would let a waiter lock the unlinked file while a third run creates
// and locks a new one.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Truncate(0)
	if l.flock {
		if e := unix.Flock(int(l.f.Fd()), unix.LOCK_UN); err == nil {
			err = e
		}
	}
	if e := l.f.Close(); err == nil {
		err = e
	}
	l.f = nil
	return err
}

// ReleaseRemovingDir releases the lock, and when its directory holds
// nothing but the lock file, removes both: for a run that created the
// directory only to lock it and then failed before writing anything
// there. Both are removed while the lock is still held; a run waiting on
// the old file notices (try) and locks the path anew.
func (l *Lock) ReleaseRemovingDir() error {
	if l == nil || l.f == nil {
		return nil
	}
	dir := filepath.Dir(l.path)
	if ents, err := os.ReadDir(dir); err == nil && len(ents) == 1 && ents[0].Name() == filepath.Base(l.path) {
		if os.Remove(l.path) == nil {
			os.Remove(dir)
		}
	}
	return l.Release()
}

// Path is the lock file.
func (l *Lock) Path() string { return l.path }
