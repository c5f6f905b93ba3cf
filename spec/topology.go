package spec

// The stack's topology: which servers make it up, and for each the names
// and places every other part of investiq-mon agrees on. render writes
// them into docker-compose.yml; stack runs, stops and finds them; backup
// copies their data; doctor and status name them. They are read from
// here, never spelled again elsewhere.

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

// ComponentNames lists the components in start order: Alertmanager
// before the Prometheus that sends to it, Grafana last, which reads
// Prometheus. Components() follows it.
func ComponentNames() []string { return []string{Alertmanager, Prometheus, Grafana} }

// ComponentNames lists the components' names, in the order of Components.
func (s *Spec) ComponentNames() []string { return ComponentNames() }

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
}

// Components lists the servers of the stack, in the order of
// ComponentNames.
func (s *Spec) Components() []Component {
	return []Component{
		{
			Name: Alertmanager, Title: "Alertmanager", Image: s.Images.Alertmanager, Container: s.Project + "-" + Alertmanager,
			Port: 9093, HostPort: s.Ports.Alertmanager, ConfigMount: "/etc/alertmanager",
			Volume: "alertmanager_data", DataMount: "/alertmanager", Owner: "65534:65534", // nobody, as prom/alertmanager runs
			Auth: true, ReadyPath: "/-/ready",
		},
		{
			Name: Prometheus, Title: "Prometheus", Image: s.Images.Prometheus, Container: s.Project + "-" + Prometheus,
			Port: 9090, HostPort: s.Ports.Prometheus, ConfigMount: "/etc/prometheus",
			Volume: "prometheus_data", DataMount: "/prometheus", Owner: "65534:65534", // nobody, as prom/prometheus runs
			Auth: true, ReadyPath: "/-/ready",
		},
		{
			Name: Grafana, Title: "Grafana", Image: s.Images.Grafana, Container: s.Project + "-" + Grafana,
			Port: 3000, HostPort: s.Ports.Grafana, ConfigMount: "/etc/grafana",
			Volume: "grafana_data", DataMount: "/var/lib/grafana", Owner: "472:0", // grafana/grafana's user
			ReadyPath: "/api/health",
		},
	}
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
