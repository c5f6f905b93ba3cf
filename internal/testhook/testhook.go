// Package testhook lets a test stop a real investiq-mon process at a
// named step, to signal or kill it exactly there instead of guessing
// with sleeps. It does nothing unless INVESTIQ_TEST_PAUSE is set, which
// only tests do.
package testhook

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"time"
)

// Env names the step to pause at and the file to create once there:
// INVESTIQ_TEST_PAUSE=<step>=<ready file>.
const Env = "INVESTIQ_TEST_PAUSE"

// Pause, at the step Env names, creates the ready file and waits until
// ctx is done (the test sends a signal, which cancels it) and returns
// ctx's error, as if the signal had arrived during that step; or until
// the test removes the ready file, and then returns nil: the command
// goes on from that step. At every other step, or without Env, it
// returns nil at once.
func Pause(ctx context.Context, step string) error {
	want, ready, ok := strings.Cut(os.Getenv(Env), "=")
	if !ok || want != step {
		return nil
	}
	if err := os.WriteFile(ready, []byte(step+"\n"), 0o600); err != nil {
		return err
	}
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if _, err := os.Stat(ready); errors.Is(err, fs.ErrNotExist) {
				return nil
			}
		}
	}
}
