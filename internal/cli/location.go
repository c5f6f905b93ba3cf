package cli

import (
	"context"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/spec"
)

// stackLocation is where a command finds the stack: the generated files
// with their .env (credentials), and the local backend's state directory.
// Commands embed it so every one spells --dir and --state the same way.
type stackLocation struct {
	Dir   string
	State string
}

func (sl *stackLocation) addFlags(fl *pflag.FlagSet) {
	fl.StringVar(&sl.Dir, "dir", DefaultDir, "the generated stack: compose file and .env (credentials)")
	fl.StringVar(&sl.State, "state", stack.DefaultStateDir, "state directory of the local backend (data, logs, pids)")
}

func (sl stackLocation) layout() stack.Layout { return stack.Layout{Root: sl.State} }

// endpoints loads the spec and finds the running stack: the state file of
// `up`, else the compose stack on the spec's published ports.
func (sl stackLocation) endpoints(f *Factory) (*spec.Spec, stack.Endpoints, error) {
	s, err := f.LoadSpec()
	if err != nil {
		return nil, stack.Endpoints{}, err
	}
	ep, err := stack.LoadEndpoints(s, sl.Dir, sl.layout())
	return s, ep, err
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
