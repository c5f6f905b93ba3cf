package stack

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/spec"
)

// Backend is one way of running the stack: local processes or docker
// compose. Every command that acts on the running stack (up, down,
// backup, restore, grafana reset-password) asks the backend instead of
// telling the two apart itself.
type Backend interface {
	// Name is Local or Compose, as the state file records it.
	Name() string
	// Up starts the stack, or brings a running one up to date.
	Up(ctx context.Context, o Options) (State, error)
	// Down stops the stack; st is what the state file records.
	Down(ctx context.Context, o DownOptions, st State) error
	// Stop stops one component and keeps its data. It reports whether
	// the component was running (compose cannot tell, and says true).
	Stop(ctx context.Context, component string) (bool, error)
	// Start starts a stopped component again as Up last ran it and
	// returns once it is ready.
	Start(ctx context.Context, component string) error
	// Data says where a component's data lives.
	Data(component string) DataPlace
	// Exec is the command line that runs a program beside the
	// component (docker exec -i <container>), or nil when the component
	// runs as a plain process and is reached through its API only.
	Exec(component string) []string
}

// DataPlace is where a component's data lives: a directory on this
// machine (Dir), or a directory inside a container (Container, Path)
// whose files belong to Owner and which a helper container of Image can
// reach.
type DataPlace struct {
	Dir                           string
	Container, Path, Image, Owner string
}

// NewBackend returns the backend called name for the stack of s generated
// in dir, with the local state directory l. Start waits up to timeout
// (two minutes when zero).
func NewBackend(name string, s *spec.Spec, dir string, l Layout, timeout time.Duration) (Backend, error) {
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	switch name {
	case Local:
		return localBackend{l: l, timeout: timeout}, nil
	case Compose:
		return composeBackend{s: s, dir: dir, l: l, timeout: timeout}, nil
	}
	return nil, fmt.Errorf("%w %q: use %s or %s", ErrUnknownState, name, Compose, Local)
}

// OpenBackend returns the backend of the stack the state file records,
// and compose when there is none (a compose stack started by hand).
func OpenBackend(s *spec.Spec, dir string, l Layout, timeout time.Duration) (Backend, error) {
	st, err := l.LoadState()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return NewBackend(Compose, s, dir, l, timeout)
	case err != nil:
		return nil, err
	}
	b, err := NewBackend(st.Backend, s, dir, l, timeout)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.StateFile(), err)
	}
	return b, nil
}

type localBackend struct {
	l       Layout
	timeout time.Duration
}

func (localBackend) Name() string { return Local }

func (b localBackend) Up(ctx context.Context, o Options) (State, error) { return upLocal(ctx, o) }

func (b localBackend) Down(ctx context.Context, o DownOptions, st State) error {
	return downLocal(ctx, o, st)
}

func (b localBackend) Stop(ctx context.Context, component string) (bool, error) {
	return stopLocal(ctx, b.l, component)
}

func (b localBackend) Start(ctx context.Context, component string) error {
	return startLocal(ctx, b.l, component, b.timeout)
}

func (b localBackend) Data(component string) DataPlace { return DataPlace{Dir: b.l.Data(component)} }

func (localBackend) Exec(string) []string { return nil }

type composeBackend struct {
	s       *spec.Spec
	dir     string
	l       Layout
	timeout time.Duration
}

func (composeBackend) Name() string { return Compose }

func (b composeBackend) Up(ctx context.Context, o Options) (State, error) { return upCompose(ctx, o) }

func (b composeBackend) Down(ctx context.Context, o DownOptions, st State) error {
	return downCompose(ctx, o, st)
}

// file is the compose file up recorded, else the generated one.
func (b composeBackend) file() string {
	if st, err := b.l.LoadState(); err == nil && st.ComposeFile != "" {
		return st.ComposeFile
	}
	return filepath.Join(b.dir, render.ComposeFile)
}

// Stop: docker compose stop succeeds on a stopped service as well, so
// the answer is always true.
func (b composeBackend) Stop(ctx context.Context, component string) (bool, error) {
	return true, composeService(ctx, b.file(), "stop", component)
}

func (b composeBackend) Start(ctx context.Context, component string) error {
	// compose waits up to --wait-timeout; the call gets that and a margin.
	ctx, cancel := DockerContext(ctx, b.timeout+30*time.Second)
	defer cancel()
	return composeService(ctx, b.file(), "up", "-d", "--wait", "--wait-timeout", waitSeconds(b.timeout), component)
}

func (b composeBackend) Data(component string) DataPlace {
	c, ok := b.s.Component(component)
	if !ok {
		return DataPlace{}
	}
	return DataPlace{Container: c.Container, Path: c.DataMount, Image: c.Image, Owner: c.Owner}
}

func (b composeBackend) Exec(component string) []string {
	c, ok := b.s.Component(component)
	if !ok {
		return nil
	}
	return []string{"docker", "exec", "-i", c.Container}
}
