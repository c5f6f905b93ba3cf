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
	switch ep.Backend {
	case stack.Local:
		if _, err := l.LoadState(); err != nil {
			return ro, fmt.Errorf("no local stack recorded in %s: start it with `investiq-mon up --backend local` first; nothing was changed", l.StateFile())
		}
		ro.Data = backup.LocalFiles{backup.Prometheus: l.PrometheusData(), backup.Alertmanager: l.AlertmanagerData()}
		ro.Stack = localStack{l, timeout}
	case stack.Compose:
		df := backup.ComposeFiles(s, "", "")
		ro.Data, ro.Stack, ro.StageDir = df, df, l.Root
	default:
		return ro, fmt.Errorf("unknown backend %q in %s; nothing was changed", ep.Backend, l.StateFile())
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
