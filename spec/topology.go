package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// The stack's topology: which servers make it up, and for each the names,
// places and ways of running, probing and saving it that every other part
// of investiq-mon agrees on. render writes them into docker-compose.yml;
// stack runs, stops, reloads and finds them; status probes them; backup
// saves their data; doctor names them. They iterate Components() and read
// the fields below: adding a component (an exporter, say) is one entry in
// Components (or in Spec.ExtraComponents) plus the renderer of its files.

// Component names: the compose service, the local process, the folder of
// its files under monitoring/, the section of a backup.
const (
	Prometheus   = "prometheus"
	Alertmanager = "alertmanager"
	Grafana      = "grafana"
)

// Environment variables of .env that the stack itself reads (the secrets'
// ones are in Secrets()).
const (
	EnvStackPassword   = "INVESTIQ_STACK_PASSWORD"
	EnvStackBcrypt     = "INVESTIQ_STACK_PASSWORD_BCRYPT"
	EnvStackBcryptSum  = "INVESTIQ_STACK_PASSWORD_BCRYPT_SUM"
	EnvStackUser       = "INVESTIQ_STACK_USER"
	EnvGrafanaPassword = "GRAFANA_ADMIN_PASSWORD"
	EnvGrafanaUser     = "GRAFANA_ADMIN_USER"
	EnvBackupKey       = "INVESTIQ_BACKUP_KEY"
)

// Default published ports, and the local backend's.
const (
	DefaultPrometheusPort   = 9090
	DefaultAlertmanagerPort = 9093
	DefaultGrafanaPort      = 3001
)

// ComponentNames lists the three servers every stack has, in the order of
// Components.
func ComponentNames() []string { return []string{Prometheus, Alertmanager, Grafana} }

// ComponentNames lists the names of s's components, in the order of
// Components: the servers, then ExtraComponents.
func (s *Spec) ComponentNames() []string {
	var out []string
	for _, c := range s.Components() {
		out = append(out, c.Name)
	}
	return out
}

// Probe is how status and backup ask a component whether it answers, and
// which version it runs.
type Probe string

const (
	// ProbeReady: ReadyPath answers 200; no version.
	ProbeReady Probe = ""
	// ProbePrometheus: Prometheus' build info API.
	ProbePrometheus Probe = "prometheus"
	// ProbeAlertmanager: Alertmanager's /api/v2/status.
	ProbeAlertmanager Probe = "alertmanager"
)

// Backup is how a backup saves a component's data.
type Backup string

const (
	// BackupNone: nothing to save (an exporter that keeps no state).
	BackupNone Backup = ""
	// BackupFiles copies the DataFiles of its data directory as they are.
	BackupFiles Backup = "files"
	// BackupTSDBSnapshot takes a consistent TSDB snapshot through
	// Prometheus' admin API, never a copy of the live blocks.
	BackupTSDBSnapshot Backup = "tsdb-snapshot"
	// BackupSilences saves Alertmanager's silences through its API, and
	// its state files.
	BackupSilences Backup = "silences"
	// BackupGrafanaAPI exports dashboards, folders and datasources
	// through Grafana's API, and copies grafana.db.
	BackupGrafanaAPI Backup = "grafana-api"
)

// Component is one server of the stack.
type Component struct {
	// Name is the compose service, the local process and the folder of
	// its configuration under the output directory.
	Name string
	// Title is how people read the name, and the field of Ports and
	// Images that configures it.
	Title string
	// Image is the container image of the compose stack.
	Image string
	// Container is the compose container's name (<project>-<name>).
	Container string
	// Port is the port the server listens on inside its container; the
	// published (and local) port is HostPort.
	Port, HostPort int
	// ConfigMount is where the container sees the component's folder.
	ConfigMount string
	// Volume is the compose named volume of its data, mounted at
	// DataMount, owned by Owner (uid:gid) inside the container.
	Volume, DataMount, Owner string
	// Auth says the server answers only with the stack's basic auth.
	Auth bool
	// ReadyPath answers 200 once the server serves.
	ReadyPath string
	// Optional: the stack runs without it, saying so, when its program
	// (local backend) or its image (compose with --pull never) is missing.
	Optional bool

	// Program is how the local backend runs it.
	Program Program
	// ReloadPath, when set, is the path a POST to which makes the running
	// server reread changed files. Without it, RereadNote says how the
	// server picks changes up itself; with neither, a running server
	// whose files changed is restarted.
	ReloadPath string
	RereadNote string
	// Probe is how status and backup tell that it answers.
	Probe Probe
	// Backup is how a backup saves its data; DataFiles are the files of
	// its data directory that BackupFiles copies (and restore puts back).
	Backup    Backup
	DataFiles []string
}

// RestoresDataDir says whether a restore puts the component's data back
// by replacing its data directory (the server stopped meanwhile), rather
// than through its API (Grafana) or not at all.
func (c Component) RestoresDataDir() bool {
	switch c.Backup {
	case BackupTSDBSnapshot, BackupSilences, BackupFiles:
		return true
	}
	return false
}

// Program is how the local backend runs a component.
type Program struct {
	// Binary is the program's name, looked up in INVESTIQ_TOOLS_BIN,
	// .tools/bin and then PATH; an absolute path is used as it is.
	Binary string
	// PortFlag is the option of `investiq-mon up` that moves its port,
	// named when the port is taken.
	PortFlag string
	// Command builds its arguments and added environment. Secrets reach
	// it as file names only, so `ps` shows nothing worth stealing.
	Command func(s *Spec, r Run) (args, env []string)
}

// Run is where the local backend runs a component, for Program.Command.
type Run struct {
	// Binary is the program found for Program.Binary.
	Binary string
	// ConfigDir is the folder of the component's rendered files.
	ConfigDir string
	// DataDir and LogDir are its own data folder and the stack's logs.
	DataDir, LogDir string
	// Host and Port are where it listens (127.0.0.1, HostPort); Addr is
	// both.
	Host string
	Port int
	Addr string
}

// Components lists the components of the stack: Prometheus, Alertmanager,
// Grafana, then ExtraComponents. Status lists them in this order; the
// local backend starts all before it waits for any, and stops them in
// reverse.
func (s *Spec) Components() []Component {
	out := []Component{
		{
			Name: Prometheus, Title: "Prometheus", Image: s.Images.Prometheus, Container: s.Project + "-" + Prometheus,
			Port: 9090, HostPort: s.Ports.Prometheus, ConfigMount: "/etc/prometheus",
			Volume: "prometheus_data", DataMount: "/prometheus", Owner: "65534:65534", // nobody, as prom/prometheus runs
			Auth: true, ReadyPath: "/-/ready",
			Program:    Program{Binary: "prometheus", PortFlag: "--prometheus-port", Command: prometheusCommand},
			ReloadPath: "/-/reload", Probe: ProbePrometheus, Backup: BackupTSDBSnapshot,
		},
		{
			Name: Alertmanager, Title: "Alertmanager", Image: s.Images.Alertmanager, Container: s.Project + "-" + Alertmanager,
			Port: 9093, HostPort: s.Ports.Alertmanager, ConfigMount: "/etc/alertmanager",
			Volume: "alertmanager_data", DataMount: "/alertmanager", Owner: "65534:65534", // nobody, as prom/alertmanager runs
			Auth: true, ReadyPath: "/-/ready",
			Program:    Program{Binary: "alertmanager", PortFlag: "--alertmanager-port", Command: alertmanagerCommand},
			ReloadPath: "/-/reload", Probe: ProbeAlertmanager, Backup: BackupSilences,
		},
		{
			Name: Grafana, Title: "Grafana", Image: s.Images.Grafana, Container: s.Project + "-" + Grafana,
			Port: 3000, HostPort: s.Ports.Grafana, ConfigMount: "/etc/grafana",
			Volume: "grafana_data", DataMount: "/var/lib/grafana", Owner: "472:0", // grafana/grafana's user
			ReadyPath: "/api/health", Optional: true,
			Program:    Program{Binary: "grafana", PortFlag: "--grafana-port", Command: grafanaCommand},
			RereadNote: "Grafana's provisioning changed: it rereads dashboards within 30s",
			Backup:     BackupGrafanaAPI,
		},
	}
	for _, c := range s.ExtraComponents {
		if c.Container == "" {
			c.Container = s.Project + "-" + c.Name
		}
		if c.Title == "" {
			c.Title = c.Name
		}
		out = append(out, c)
	}
	return out
}

// Component returns the component called name.
func (s *Spec) Component(name string) (Component, bool) {
	for _, c := range s.Components() {
		if c.Name == name {
			return c, true
		}
	}
	return Component{}, false
}

// PrometheusArgs are the flags Prometheus runs with, in both backends.
// The admin API (snapshots for backup) is on, but only ever behind basic
// auth on a loopback-published port.
func (s *Spec) PrometheusArgs(configFile, dataDir string) []string {
	return []string{
		"--config.file=" + configFile,
		"--storage.tsdb.path=" + dataDir,
		"--storage.tsdb.retention.time=" + durationString(s.Retention),
		"--web.config.file=" + s.WebConfigFile,
		"--web.enable-lifecycle",
		"--web.enable-admin-api",
	}
}

// AlertmanagerArgs are the flags Alertmanager runs with, in both backends.
func (s *Spec) AlertmanagerArgs(configFile, dataDir string) []string {
	return []string{
		"--config.file=" + configFile,
		"--storage.path=" + dataDir,
		"--web.config.file=" + s.WebConfigFile,
		"--web.external-url=" + s.AlertmanagerExternalURL(),
	}
}

// AlertmanagerExternalURL is where people reach Alertmanager: ExternalURL
// when the spec sets one, else its published port on the publish address,
// so a port changed in the settings file changes the links too.
func (s *Spec) AlertmanagerExternalURL() string {
	if s.ExternalURL != "" {
		return s.ExternalURL
	}
	return fmt.Sprintf("http://%s:%d", BrowserHost(s.PublishAddress), s.Ports.Alertmanager)
}

// BrowserHost is the host a browser on this machine uses for a published
// address: localhost for the wildcard addresses (or none), brackets
// around an IPv6 address.
func BrowserHost(addr string) string {
	if addr == "" || addr == "0.0.0.0" || addr == "::" {
		return "localhost"
	}
	if strings.Contains(addr, ":") {
		return "[" + addr + "]"
	}
	return addr
}

func prometheusCommand(s *Spec, r Run) ([]string, []string) {
	return append(s.PrometheusArgs(filepath.Join(r.ConfigDir, "prometheus.yml"), r.DataDir),
		"--web.listen-address="+r.Addr,
		// Links in notifications (generatorURL) point here, not at
		// the machine's hostname.
		"--web.external-url=http://"+r.Addr), nil
}

func alertmanagerCommand(s *Spec, r Run) ([]string, []string) {
	return append(s.AlertmanagerArgs(filepath.Join(r.ConfigDir, "alertmanager.yml"), r.DataDir),
		"--web.listen-address="+r.Addr,
		// A single local instance: no gossip port to collide with.
		"--cluster.listen-address="), nil
}

// grafanaCommand: Grafana reads its settings from GF_ variables, the
// admin password from a file (the __FILE form), never a value.
func grafanaCommand(s *Spec, r Run) ([]string, []string) {
	args := []string{"server"}
	if home := grafanaHome(r.Binary); home != "" {
		args = append(args, "--homepath="+home)
	}
	return args, []string{
		"GF_PATHS_DATA=" + r.DataDir,
		"GF_PATHS_LOGS=" + r.LogDir,
		"GF_PATHS_PROVISIONING=" + filepath.Join(r.ConfigDir, "provisioning"),
		"GF_SERVER_HTTP_ADDR=" + r.Host,
		fmt.Sprintf("GF_SERVER_HTTP_PORT=%d", r.Port),
		"GF_SECURITY_ADMIN_PASSWORD__FILE=" + s.SecretPath(SecretGrafanaPassword),
		"GF_USERS_ALLOW_SIGN_UP=false",
		"GF_AUTH_ANONYMOUS_ENABLED=false",
		"GF_ANALYTICS_REPORTING_ENABLED=false",
	}
}

// grafanaHome finds Grafana's home (conf/defaults.ini, public/): beside
// the binary in a release tarball, /usr/share/grafana in the packages.
func grafanaHome(bin string) string {
	if real, err := filepath.EvalSymlinks(bin); err == nil {
		bin = real
	}
	for _, dir := range []string{filepath.Dir(filepath.Dir(bin)), "/usr/share/grafana"} {
		if _, err := os.Stat(filepath.Join(dir, "conf", "defaults.ini")); err == nil {
			return dir
		}
	}
	return ""
}

// durationString writes a duration the way Prometheus does (15d, 1h30m).
func durationString(d time.Duration) string { return model.Duration(d).String() }
