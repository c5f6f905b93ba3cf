package cmdutil

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/investiq/investiq-mon/internal/lock"
)

// One writer at a time: up, down, backup, restore, generate and grafana
// reset-password lock the stack for as long as they run. The lock is two
// files, taken in this order: DirLockName in the generated directory
// (its files and .env) and StateLockName in the state directory (data,
// pids, state.json).
const (
	DirLockName   = ".investiq-mon.lock"
	StateLockName = "lock"
)

// LockFlags is --lock-wait, on the commands that take the lock.
type LockFlags struct{ LockWait time.Duration }

func (lf *LockFlags) AddFlags(fl *pflag.FlagSet) {
	DurationVar(fl, &lf.LockWait, "lock-wait", 0, "when another investiq-mon run holds this stack's lock, wait this long for it (default: refuse at once, naming the command and pid holding it)")
}

// LockDirs locks each of dirs that exists (create says which to create
// first), in order, and returns the function that releases them all.
func LockDirs(ctx context.Context, f *Factory, command string, wait time.Duration, create map[string]bool, paths ...string) (func(), error) {
	var held []*lock.Lock
	// created are the locks whose directory this run created: released,
	// they take the directory away again when the command wrote nothing
	// there (up that fails its first checks leaves no empty folder).
	created := map[*lock.Lock]bool{}
	release := func() {
		for i := len(held) - 1; i >= 0; i-- {
			if created[held[i]] {
				held[i].ReleaseRemovingDir()
			} else {
				held[i].Release()
			}
		}
	}
	deadline := time.Now().Add(wait)
	for _, p := range paths {
		dir := filepath.Dir(p)
		fi, err := os.Stat(dir)
		exists := err == nil && fi.IsDir()
		if !create[dir] && !exists {
			continue // nothing there to protect; the command says what is missing
		}
		l, err := lock.Acquire(ctx, p, lock.Options{
			Command: command, Wait: max(0, time.Until(deadline).Round(time.Second)),
			Notify: func(msg string) { fmt.Fprintln(f.IO.Info(), msg) },
		})
		if err != nil {
			release()
			return nil, err
		}
		held = append(held, l)
		created[l] = !exists
		f.Log.Debug("lock taken", "path", p, "command", command)
	}
	return release, nil
}
