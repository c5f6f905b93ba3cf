package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A compose up that wrote new files into the stack's directory and was
// killed (or whose reload failed) before the running Prometheus and
// Alertmanager reloaded them left them running the old files; the next
// up found the files equal to the spec and reloaded nothing, so the
// change never reached the servers and up still said "stack is up"
// (found by TestComposeKilledAtEachStep, step up:config-written). So the
// servers whose files change are recorded in the state file (Reload)
// before the files are written, and only a finished reload clears them.

// markReload records, before this up writes new files, which servers of
// the recorded compose stack must reload them. Without a recorded
// compose stack nothing runs whose files could go stale.
func markReload(l Layout, prev State, prevErr error, comps map[string]bool) error {
	if prevErr != nil || prev.Backend != Compose {
		return nil
	}
	want := reloadable(comps)
	for _, c := range prev.Reload {
		if !slices.Contains(want, c) {
			want = append(want, c)
		}
	}
	slices.Sort(want)
	if slices.Equal(want, prev.Reload) {
		return nil
	}
	prev.Reload = want
	return l.SaveState(prev)
}

// reloadLeft adds the servers an earlier up left to reload to changed,
// and says so.
func reloadLeft(out io.Writer, prev State, prevErr error, changed map[string]bool) map[string]bool {
	if prevErr != nil || prev.Backend != Compose || len(prev.Reload) == 0 {
		return changed
	}
	if changed == nil {
		changed = map[string]bool{}
	}
	for _, c := range prev.Reload {
		changed[c] = true
	}
	fmt.Fprintf(out, "an earlier up was cut short (killed, or its reload failed) before %s loaded new files: this up reloads them\n", strings.Join(prev.Reload, ", "))
	return changed
}

// reloadable are the components of changed that reload their files on
// POST /-/reload, sorted.
func reloadable(changed map[string]bool) []string {
	var out []string
	for _, c := range []string{Alertmanager, Prometheus} {
		if changed[c] {
			out = append(out, c)
		}
	}
	return out
}

// waitTimedOut tells a compose up that ran out of time waiting for the
// healthchecks (--wait-timeout, or this call's own deadline) from one
// that failed.
func waitTimedOut(ctx context.Context, out []byte) bool {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return true
	}
	for _, s := range composeWaitTimeoutMessages {
		if bytes.Contains(out, []byte(s)) {
			return true
		}
	}
	return false
}

// composeWaitTimeoutMessages are what docker compose prints when
// --wait-timeout expires (compose v5.6.0 pkg/compose/start.go: "application
// not healthy after 1m0s").
var composeWaitTimeoutMessages = []string{"application not healthy after"}

// waitSeconds is d for --wait-timeout, in whole seconds rounded up: 0,
// which a --timeout under 1s truncated to, makes compose wait forever.
func waitSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}
