// Package stack runs the generated monitoring stack: docker compose with
// the monitoring profile (the production path) or local processes (the
// path that works without Docker, and the one the tests use), and tells
// the rest of investiq-mon how to reach it.
package stack

import (
	"path/filepath"
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
func (l Layout) PrometheusData() string   { return filepath.Join(l.Root, "data", "prometheus") }
func (l Layout) AlertmanagerData() string { return filepath.Join(l.Root, "data", "alertmanager") }
func (l Layout) GrafanaData() string      { return filepath.Join(l.Root, "data", "grafana") }
func (l Layout) LogDir() string           { return filepath.Join(l.Root, "logs") }
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
	Backend         string `json:"backend"`
	Prometheus      string `json:"prometheus"`   // base URL, e.g. http://127.0.0.1:9090
	Alertmanager    string `json:"alertmanager"` // base URL
	Grafana         string `json:"grafana,omitempty"`
	User            string `json:"user"`
	Password        string `json:"-"`
	GrafanaUser     string `json:"grafanaUser,omitempty"`
	GrafanaPassword string `json:"-"`
}
