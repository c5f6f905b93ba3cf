// Package stack runs the generated monitoring stack: docker compose with
// the monitoring profile (the production path) or local processes (the
// path that works without Docker, and the one the tests use), and tells
// the rest of investiq-mon how to reach it.
//
// The Go API, for commands beyond up/down/status (backup, restore, doctor):
//
//	Up(ctx, Options)            start, or reload a running stack whose files changed
//	Down(ctx, DownOptions)      stop; data is removed only with Volumes
//	NewBackend(name, ...)       the Backend (local, compose): Up, Down, Stop/Start
//	OpenBackend(s, dir, l, ..)  a component, Data (where it lives), Exec (how to run beside it)
//	StopComponent(ctx, l, name) stop one component of the recorded stack, keep its data; was it running
//	StartComponent(ctx, l, name, timeout) start it again as Up last did, wait until ready
//	LoadEndpoints(spec, dir, l) where the running stack answers, with credentials
//	CollectStatus(ctx, ep, ...) what status shows, as values
//
// What runs is the spec's topology (spec.Spec.Components): the local
// backend starts each component as its Program says, reloads it at its
// ReloadPath (or restarts it), and status probes it as its Probe says;
// nothing here names a server but the State fields older state files and
// the servers' API clients read.
//
// A local Up is planned (planLocal) and then applied step by step
// (applyLocal, the StepUp* constants of steps.go, where internal/testhook
// can pause it); a failed or interrupted apply undoes its steps.
//
// Down without Volumes followed by Up keeps every sample, silence and
// notification log: the data directories (local) and named volumes
// (compose) are only removed by Down with Volumes. A restore that must swap
// Prometheus' data directory stops the component with Backend.Stop, puts
// the blocks in place and calls Backend.Start; the other components keep
// running.
package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/investiq/investiq-mon/internal/files"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/spec"
)

// Backend names.
const (
	Compose = "compose"
	Local   = "local"
)

// DefaultStateDir holds the local backend's data, logs, pid files, rendered
// configs and secret files.
const DefaultStateDir = ".investiq-mon"

// Layout is the local backend's state directory.
type Layout struct{ Root string }

func (l Layout) ConfigDir() string        { return filepath.Join(l.Root, "config") }
func (l Layout) SecretsDir() string       { return filepath.Join(l.Root, "secrets") }
func (l Layout) WebConfig() string        { return filepath.Join(l.Root, "secrets", "web.yml") }
func (l Layout) PrometheusData() string   { return l.Data(spec.Prometheus) }
func (l Layout) AlertmanagerData() string { return l.Data(spec.Alertmanager) }
func (l Layout) GrafanaData() string      { return l.Data(spec.Grafana) }

// Data is where the local backend keeps a component's data.
func (l Layout) Data(component string) string { return filepath.Join(l.Root, "data", component) }
func (l Layout) LogDir() string               { return filepath.Join(l.Root, "logs") }
func (l Layout) Log(component string) string {
	return filepath.Join(l.Root, "logs", component+".log")
}
func (l Layout) PIDFile(component string) string {
	return filepath.Join(l.Root, "run", component+".pid")
}

// StateFile records what `up` started (backend, ports, hashes of the
// applied files) so later commands find the stack without flags.
func (l Layout) StateFile() string { return filepath.Join(l.Root, "state.json") }

// Endpoints is how investiq-mon talks to a running stack. Passwords are
// loaded from .env when needed and never printed, logged or serialised:
// the json tags keep them out of `status --json`.
type Endpoints struct {
	Backend string `json:"backend"`
	// URLs are the base URLs of every component that runs, by name; the
	// three fields below repeat the servers' for the code that speaks
	// their APIs.
	URLs            map[string]string `json:"urls,omitempty"`
	Prometheus      string            `json:"prometheus"`   // base URL, e.g. http://127.0.0.1:9090
	Alertmanager    string            `json:"alertmanager"` // base URL
	Grafana         string            `json:"grafana,omitempty"`
	User            string            `json:"user"`
	Password        string            `json:"-"`
	GrafanaUser     string            `json:"grafanaUser,omitempty"`
	GrafanaPassword string            `json:"-"`
}

// URL is where component answers, empty when it does not run.
func (ep Endpoints) URL(component string) string {
	if u, ok := ep.URLs[component]; ok {
		return u
	}
	// Endpoints built by hand (--prometheus-url, tests) name the
	// servers' fields only.
	return map[string]string{Prometheus: ep.Prometheus, Alertmanager: ep.Alertmanager, Grafana: ep.Grafana}[component]
}

// SetURL points component at url, e.g. from a --prometheus-url flag.
func (ep *Endpoints) SetURL(component, url string) {
	st := State{Prometheus: ep.Prometheus, Alertmanager: ep.Alertmanager, Grafana: ep.Grafana, URLs: maps.Clone(ep.URLs)}
	st.recordURL(component, url)
	ep.URLs, ep.Prometheus, ep.Alertmanager, ep.Grafana = st.URLs, st.Prometheus, st.Alertmanager, st.Grafana
}

// State is what `up` records in the state file.
type State struct {
	Backend      string `json:"backend"`
	Prometheus   string `json:"prometheus"`
	Alertmanager string `json:"alertmanager"`
	Grafana      string `json:"grafana,omitempty"`
	// URLs are the base URLs of every component up started, by name
	// (the three above included).
	URLs map[string]string `json:"urls,omitempty"`
	// Components are the spec's components in start order, as up saw
	// them: down stops them in reverse, and down --volumes removes their
	// data.
	Components []string `json:"components,omitempty"`
	// Hashes are sha256 sums of the files `up` applied, by path relative
	// to the config directory, so `up` knows when to reload.
	Hashes map[string]string `json:"hashes,omitempty"`
	// Processes are the local backend's commands by component, recorded
	// so StartComponent can start one again exactly as Up did. They hold
	// paths to secret files, never a secret.
	Processes map[string]Process `json:"processes,omitempty"`
	// ComposeFile is the compose backend's file, for down and status.
	ComposeFile string `json:"composeFile,omitempty"`
	// Pending marks a state saved by a local up before it started its
	// servers (pending.go): true until that up has seen them ready.
	Pending bool `json:"pending,omitempty"`
	// Reload lists the compose servers a compose up wrote new files for
	// and that have not reloaded them yet (composepending.go).
	Reload []string `json:"reload,omitempty"`
}

// Process is how the local backend runs one component.
type Process struct {
	Path string   `json:"path"`
	Args []string `json:"args"`
	// Env is added to investiq-mon's environment; only names of files,
	// never values of secrets.
	Env []string `json:"env,omitempty"`
	// Addr is the 127.0.0.1:port the component listens on.
	Addr string `json:"addr"`
	// Ready is the URL that answers 200 once the component serves.
	Ready string `json:"ready"`
	// Auth says Ready needs the stack's basic auth.
	Auth bool `json:"auth"`
}

// order is Components, or for a state file written before it existed the
// servers it knew.
func (st State) order() []string {
	if len(st.Components) > 0 {
		return st.Components
	}
	out := []string{Alertmanager, Prometheus, Grafana}
	for _, c := range sortedKeys(st.Processes) {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// recordURL records where component answers.
func (st *State) recordURL(component, url string) {
	if st.URLs == nil {
		st.URLs = map[string]string{}
	}
	st.URLs[component] = url
	st.legacyURLs()
}

// legacyURLs keeps the servers' own fields and URLs in step: state files
// written before URLs existed have only the fields; readers of the
// servers' APIs read the fields.
func (st *State) legacyURLs() {
	if st.URLs == nil {
		st.URLs = map[string]string{}
	}
	for _, f := range []struct {
		name  string
		field *string
	}{{Prometheus, &st.Prometheus}, {Alertmanager, &st.Alertmanager}, {Grafana, &st.Grafana}} {
		if u, ok := st.URLs[f.name]; ok {
			*f.field = u
		} else if *f.field != "" {
			st.URLs[f.name] = *f.field
		}
	}
}

// LoadState reads the state file; a missing file is fs.ErrNotExist.
func (l Layout) LoadState() (State, error) {
	var st State
	data, err := os.ReadFile(l.StateFile())
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("%s: %w", l.StateFile(), err)
	}
	st.legacyURLs()
	return st, nil
}

// SaveState writes the state file atomically.
func (l Layout) SaveState(st State) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(l.Root, 0o700); err != nil {
		return err
	}
	return files.WriteFileAtomic(l.StateFile(), append(data, '\n'), 0o600)
}

// LoadEndpoints finds the running stack: the state file of `up` when there
// is one, else the compose stack's published ports on the spec's publish
// address. Credentials come from monitoringDir/.env.
func LoadEndpoints(s *spec.Spec, monitoringDir string, l Layout) (Endpoints, error) {
	st, err := l.LoadState()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// A compose stack started by hand: every component on its
		// published port.
		st = State{Backend: Compose}
		for _, c := range s.Components() {
			st.recordURL(c.Name, fmt.Sprintf("http://%s:%d", loopback(s.PublishAddress), c.HostPort))
		}
	case err != nil:
		return Endpoints{Backend: Compose}, err
	}
	ep := Endpoints{Backend: st.Backend, URLs: st.URLs, Prometheus: st.Prometheus, Alertmanager: st.Alertmanager, Grafana: st.Grafana}
	env, err := secrets.Load(monitoringDir)
	if err != nil {
		return ep, err
	}
	ep.User = s.StackUser
	ep.Password = env.StackPassword()
	ep.GrafanaUser = env.Get(spec.EnvGrafanaUser)
	ep.GrafanaPassword = env.Get(spec.EnvGrafanaPassword)
	return ep, nil
}

// loopback turns a wildcard publish address into one a client can dial.
func loopback(addr string) string {
	if addr == "" || addr == "0.0.0.0" || addr == "::" {
		return "127.0.0.1"
	}
	return addr
}
