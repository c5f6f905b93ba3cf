package render

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/investiq/investiq-mon/spec"
)

// The compose stack's profile and the name of its web config; every
// other name and place (services, containers, volumes, mounts, ports,
// variables) is the spec's topology (spec/topology.go).
const (
	composeProfile = "monitoring"
	webConfigName  = "web_config"
	ComposeProfile = composeProfile
)

type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Networks map[string]composeNetwork `yaml:"networks"`
	Volumes  map[string]struct{}       `yaml:"volumes"`
	Secrets  map[string]composeSecret  `yaml:"secrets"`
	Configs  map[string]composeConfig  `yaml:"configs"`
}

type composeService struct {
	Image         string                      `yaml:"image"`
	ContainerName string                      `yaml:"container_name"`
	Profiles      []string                    `yaml:"profiles"`
	Restart       string                      `yaml:"restart"`
	Command       []string                    `yaml:"command,omitempty"`
	Environment   map[string]string           `yaml:"environment,omitempty"`
	Ports         []string                    `yaml:"ports"`
	Volumes       []string                    `yaml:"volumes"`
	Secrets       []string                    `yaml:"secrets,omitempty"`
	Configs       []composeConfigRef          `yaml:"configs,omitempty"`
	Networks      []string                    `yaml:"networks"`
	DependsOn     map[string]composeCondition `yaml:"depends_on,omitempty"`
	Healthcheck   composeHealthcheck          `yaml:"healthcheck"`
}

type composeConfigRef struct {
	Source string `yaml:"source"`
	Target string `yaml:"target"`
}

type composeCondition struct {
	Condition string `yaml:"condition"`
}

type composeHealthcheck struct {
	Test        []string `yaml:"test"`
	Interval    string   `yaml:"interval"`
	Timeout     string   `yaml:"timeout"`
	Retries     int      `yaml:"retries"`
	StartPeriod string   `yaml:"start_period"`
}

type composeNetwork struct {
	Name string `yaml:"name"`
}

// Secrets come from .env through the environment, so compose writes them
// into the containers at /run/secrets and no secret file sits on the host
// with ownership the container users (nobody, grafana) cannot read.
type composeSecret struct {
	Environment string `yaml:"environment"`
}

type composeConfig struct {
	Content string `yaml:"content"`
}

func health(test ...string) composeHealthcheck {
	return composeHealthcheck{Test: test, Interval: "10s", Timeout: "5s", Retries: 6, StartPeriod: "20s"}
}

// WebConfig is the web config file Prometheus and Alertmanager load: the
// stack user with a bcrypt hash, never the password.
func WebConfig(user, bcryptHash string) ([]byte, error) {
	return yaml.Marshal(map[string]any{"basic_auth_users": map[string]string{user: bcryptHash}})
}

func renderCompose(s *spec.Spec) ([]File, error) {
	publish := func(host, container int) []string {
		return []string{fmt.Sprintf("%s:%d:%d", s.PublishAddress, host, container)}
	}
	var receiverSecrets []string
	secrets := map[string]composeSecret{}
	for _, sec := range s.Secrets() {
		secrets[sec.File] = composeSecret{Environment: sec.Env}
	}
	for _, r := range s.Receivers {
		if !slices.Contains(receiverSecrets, r.SecretFile) {
			receiverSecrets = append(receiverSecrets, r.SecretFile)
		}
	}
	// The user is the spec's, as in every client file (.env's copy is
	// for reference, and generate refuses one that differs).
	webConfig, err := WebConfig(s.StackUser, "${"+spec.EnvStackBcrypt+":?run investiq-mon generate to create .env}")
	if err != nil {
		return nil, err
	}
	webRef := []composeConfigRef{{Source: webConfigName, Target: s.WebConfigFile}}
	nets := []string{s.Network}
	prom, _ := s.Component(spec.Prometheus)
	am, _ := s.Component(spec.Alertmanager)
	gf, _ := s.Component(spec.Grafana)
	volumes := map[string]struct{}{}
	for _, c := range s.Components() {
		if c.Volume != "" {
			volumes[c.Volume] = struct{}{}
		}
	}
	grafanaProvDir := gf.ConfigMount + "/provisioning"

	cf := composeFile{
		Name: s.Project,
		Services: map[string]composeService{
			prom.Name: {
				Image: prom.Image, ContainerName: prom.Container,
				Profiles: []string{composeProfile}, Restart: "unless-stopped",
				// Links in notifications (generatorURL) point at the
				// published port: without the flag they name the
				// container's hostname, which no browser resolves.
				Command: append(s.PrometheusArgs(prom.ConfigMount+"/prometheus.yml", prom.DataMount),
					fmt.Sprintf("--web.external-url=http://%s:%d", spec.BrowserHost(s.PublishAddress), s.Ports.Prometheus)),
				Ports:   publish(prom.HostPort, prom.Port),
				Volumes: []string{"./" + prom.Name + ":" + prom.ConfigMount + ":ro", prom.Volume + ":" + prom.DataMount},
				// remote write's credentials too (spec/scale.go).
				Secrets:  append([]string{spec.SecretStackPassword}, s.RemoteWriteSecrets()...),
				Configs:  webRef,
				Networks: nets,
				Healthcheck: health("CMD", "promtool", "check", "healthy", fmt.Sprintf("--url=http://localhost:%d", prom.Port),
					"--http.config.file="+prom.ConfigMount+"/promtool-http.yml"),
			},
			am.Name: {
				Image: am.Image, ContainerName: am.Container,
				Profiles: []string{composeProfile}, Restart: "unless-stopped",
				// One Alertmanager: clustering off. Without the empty
				// listen address it gossips on 0.0.0.0:9094, where any
				// container on the network can join as a peer and
				// replicate silences past basic auth (the local backend
				// adds the same flag).
				Command: append(s.AlertmanagerArgs(am.ConfigMount+"/alertmanager.yml", am.DataMount), "--cluster.listen-address="),
				Ports:   publish(am.HostPort, am.Port),
				Volumes: []string{"./" + am.Name + ":" + am.ConfigMount + ":ro", am.Volume + ":" + am.DataMount},
				// stack_password: the healthcheck's amtool authenticates with it.
				Secrets:  append([]string{spec.SecretStackPassword}, receiverSecrets...),
				Configs:  webRef,
				Networks: nets,
				Healthcheck: health("CMD", "amtool", fmt.Sprintf("--alertmanager.url=http://localhost:%d", am.Port),
					"--http.config.file="+am.ConfigMount+"/amtool-http.yml", "config", "show"),
			},
			gf.Name: {
				Image: gf.Image, ContainerName: gf.Container,
				Profiles: []string{composeProfile}, Restart: "unless-stopped",
				Environment: map[string]string{
					"GF_SECURITY_ADMIN_USER": "${" + spec.EnvGrafanaUser + ":-admin}",
					// Read once, when Grafana first starts with an empty
					// database; afterwards use `investiq-mon grafana reset-password`.
					"GF_SECURITY_ADMIN_PASSWORD__FILE": s.SecretPath(spec.SecretGrafanaPassword),
					"GF_USERS_ALLOW_SIGN_UP":           "false",
					"GF_AUTH_ANONYMOUS_ENABLED":        "false",
					"GF_ANALYTICS_REPORTING_ENABLED":   "false",
				},
				Ports: publish(gf.HostPort, gf.Port),
				Volumes: []string{
					"./" + gf.Name + "/provisioning:" + grafanaProvDir + ":ro",
					"./" + DashboardsDir + ":" + s.GrafanaDashboardsDir + ":ro",
					gf.Volume + ":" + gf.DataMount,
				},
				Secrets:     []string{spec.SecretStackPassword, spec.SecretGrafanaPassword},
				Networks:    nets,
				DependsOn:   map[string]composeCondition{prom.Name: {Condition: "service_healthy"}},
				Healthcheck: health("CMD", "wget", "-q", "-O", "/dev/null", fmt.Sprintf("http://localhost:%d%s", gf.Port, gf.ReadyPath)),
			},
		},
		Networks: map[string]composeNetwork{s.Network: {Name: s.Network}},
		Volumes:  volumes,
		Secrets:  secrets,
		Configs:  map[string]composeConfig{webConfigName: {Content: string(webConfig)}},
	}
	// Every other component (Spec.ExtraComponents) runs as its Program
	// says, inside its container: its folder and data volume mounted, its
	// port published, ready when ReadyPath answers.
	for _, c := range s.Components() {
		if _, ok := cf.Services[c.Name]; ok || c.Program.Command == nil {
			continue
		}
		cf.Services[c.Name] = extraService(s, c, publish(c.HostPort, c.Port), nets)
	}
	f, err := yamlFile(ComposeFile, fmt.Sprintf("Monitoring stack for %s: docker compose --profile %s up -d --wait", s.Project, composeProfile), cf)
	if err != nil {
		return nil, err
	}
	return []File{f.as("", Deployment)}, nil
}

// extraService is the compose service of a component the spec adds.
func extraService(s *spec.Spec, c spec.Component, ports, nets []string) composeService {
	args, env := c.Program.Command(s, spec.Run{
		ConfigDir: c.ConfigMount, DataDir: c.DataMount, LogDir: c.DataMount,
		Host: "0.0.0.0", Port: c.Port, Addr: fmt.Sprintf("0.0.0.0:%d", c.Port),
	})
	svc := composeService{
		Image: c.Image, ContainerName: c.Container,
		Profiles: []string{composeProfile}, Restart: "unless-stopped",
		Command: args, Ports: ports, Networks: nets,
		Volumes:     []string{"./" + c.Name + ":" + c.ConfigMount + ":ro"},
		Healthcheck: health("CMD", "wget", "-q", "-O", "/dev/null", fmt.Sprintf("http://localhost:%d%s", c.Port, c.ReadyPath)),
	}
	if c.Volume != "" {
		svc.Volumes = append(svc.Volumes, c.Volume+":"+c.DataMount)
	}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			if svc.Environment == nil {
				svc.Environment = map[string]string{}
			}
			svc.Environment[k] = v
		}
	}
	if c.Auth {
		svc.Secrets = []string{spec.SecretStackPassword}
		svc.Configs = []composeConfigRef{{Source: webConfigName, Target: s.WebConfigFile}}
	}
	return svc
}
