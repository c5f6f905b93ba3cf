package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/investiq/investiq-mon/internal/backup"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/spec"
)

// restoreTarget is where a restore of this stack puts its data: the
// local backend's data dirs and recorded commands, or the compose
// containers' volumes (staged under the state dir).
func restoreTarget(sl stackLocation, s *spec.Spec, ep stack.Endpoints, timeout time.Duration) (backup.RestoreOptions, error) {
	l := sl.layout()
	ro := backup.RestoreOptions{Endpoints: ep, ReadyTimeout: timeout}
	b, err := stack.NewBackend(ep.Backend, s, sl.Dir, l, timeout)
	if err != nil {
		return ro, fmt.Errorf("%w in %s; nothing was changed", err, l.StateFile())
	}
	// Grafana is restored through its API, not its data directory.
	data := backup.FilesOf(b, "", backup.Swapped(s.Components())...)
	ro.Data, ro.Stack = data, b
	if _, inContainers := data.(backup.DockerFiles); inContainers {
		// Staged beside the state, then copied into the volumes; data
		// dirs on this machine are staged on their own file system.
		ro.StageDir = l.Root
	}
	return ro, nil
}

// recoverRestore finishes or rolls back a restore that was killed
// halfway (its journal says which), and says what it did: restore and
// up run it before anything else, so no server starts on half-swapped
// data and no old data stays stranded in a pre-restore directory.
func recoverRestore(ctx context.Context, out io.Writer, sl stackLocation, f *Factory, timeout time.Duration) error {
	if _, err := sl.layout().LoadState(); errors.Is(err, fs.ErrNotExist) {
		return nil // nothing was ever up here, so nothing was restored
	}
	s, ep, err := sl.endpoints(f)
	if err != nil {
		return nil // the command itself reports what is missing
	}
	ro, err := restoreTarget(sl, s, ep, timeout)
	if err != nil {
		return nil
	}
	note, err := backup.Recover(ctx, ro)
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintln(out, note)
	}
	return nil
}
