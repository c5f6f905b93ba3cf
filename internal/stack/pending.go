package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"
)

// A local up that is killed after starting its servers but before saving
// its state used to leave them running unrecorded: the next up found
// their ports busy and no down could stop them. So up saves the state it
// is about to create, marked Pending and with the old file hashes, before
// it starts anything; the pid files plus these recorded commands let the
// next up and down find the servers. A failed up puts the old state back.

// stopPending stops the servers an up that did not finish left running
// (prev is Pending): they were never seen ready, so this up starts them
// again from its own files, keeping their data, and says so.
func (l Layout) stopPending(ctx context.Context, out io.Writer, prev State, running map[string]int) error {
	if !prev.Pending || len(running) == 0 {
		return nil
	}
	names := make([]string, 0, len(running))
	for c := range running {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		if _, err := l.stop(ctx, c, prev.Processes[c], 30*time.Second); err != nil {
			return fmt.Errorf("stopping %s, left running by an up that did not finish: %w", c, err)
		}
		delete(running, c)
	}
	fmt.Fprintf(out, "an earlier up was cut short after starting %s: stopped them; this up starts the stack again, data kept\n", strings.Join(names, ", "))
	return nil
}

// savePending records next's processes (with prev's hashes, so the next
// up still sees the files as changed) before any of them starts.
func (l Layout) savePending(prev, next State) error {
	p := next
	p.Hashes = prev.Hashes
	p.Pending = true
	return l.SaveState(p)
}

// putBackState restores the state file as it was before this up (none,
// if there was none).
func (l Layout) putBackState(prev State) error {
	if prev.Backend == "" {
		if err := os.Remove(l.StateFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	return l.SaveState(prev)
}
