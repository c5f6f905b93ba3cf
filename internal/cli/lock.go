package cli

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

// lockFlags is --lock-wait, on the commands that take the lock.
type lockFlags struct{ LockWait time.Duration }

func (lf *lockFlags) addFlags(fl *pflag.FlagSet) {
	durationVar(fl, &lf.LockWait, "lock-wait", 0, "when another investiq-mon run holds this stack's lock, wait this long for it (default: refuse at once, naming the command and pid holding it)")
}

// lockDirs locks each of dirs that exists (create says which to create
// first), in order, and returns the function that releases them all.
func lockDirs(ctx context.Context, f *Factory, command string, wait time.Duration, create map[string]bool, paths ...string) (func(), error) {
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
			Notify: func(msg string) { fmt.Fprintln(f.IO.ErrOut, msg) },
		})
		if err != nil {
			release()
			return nil, err
		}
		held = append(held, l)
		created[l] = !exists
	}
	return release, nil
}

// lock locks the stack sl names: its generated directory and its state
// directory, both created first when create is true. up passes true: in a
// fresh folder it generates the files and starts the servers, so it must
// hold both locks before either directory exists (otherwise two ups, or a
// generate and an up, ran there unlocked and each wrote its own .env).
// The other commands pass false: where neither directory exists they
// change nothing (backup, restore and grafana reset-password stop at the
// missing .env, down finds no stack to stop), so there is nothing to
// protect, and they should not leave empty directories behind.
func (sl stackLocation) lock(ctx context.Context, f *Factory, command string, lf lockFlags, create bool) (func(), error) {
	return lockDirs(ctx, f, command, lf.LockWait, map[string]bool{filepath.Clean(sl.Dir): create, filepath.Clean(sl.State): create},
		filepath.Join(sl.Dir, DirLockName), filepath.Join(sl.State, StateLockName))
}
