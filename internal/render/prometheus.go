package render

import (
	"fmt"
	"maps"
	"path"
	"strings"
	"time"

	"github.com/investiq/investiq-mon/spec"
)

// The Prometheus config is built from these few typed values rather than
// from prometheus/config's types: those marshal every default field, which
// would bury the dozen lines a person needs to read. validate loads the
// result back through config.Load, so nothing is lost by it.
type promConfig struct {
	Global        promGlobal   `yaml:"global"`
	Alerting      promAlerting `yaml:"alerting"`
	RuleFiles     []string     `yaml:"rule_files"`
	ScrapeConfigs []promScrape `yaml:"scrape_configs"`
	// RemoteWrite is in remotewrite.go.
	RemoteWrite []promRemoteWrite `yaml:"remote_write,omitempty"`
}

type promGlobal struct {
	ScrapeInterval     string            `yaml:"scrape_interval"`
	EvaluationInterval string            `yaml:"evaluation_interval"`
	ExternalLabels     map[string]string `yaml:"external_labels,omitempty"`
}

type promAlerting struct {
	Alertmanagers []promAMConfig `yaml:"alertmanagers"`
}

type promAMConfig struct {
	BasicAuth     *basicAuth     `yaml:"basic_auth,omitempty"`
	StaticConfigs []staticConfig `yaml:"static_configs"`
}

type basicAuth struct {
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
}

type staticConfig struct {
	Targets []string `yaml:"targets"`
}

type promScrape struct {
	JobName        string         `yaml:"job_name"`
	ScrapeInterval string         `yaml:"scrape_interval"`
	MetricsPath    string         `yaml:"metrics_path"`
	BasicAuth      *basicAuth     `yaml:"basic_auth,omitempty"`
	StaticConfigs  []staticConfig `yaml:"static_configs"`
}

// stackAuth is how the stack's own clients authenticate to Prometheus and
// Alertmanager: the password is read from a file, never written here.
func stackAuth(s *spec.Spec) *basicAuth {
	return &basicAuth{Username: s.StackUser, PasswordFile: s.SecretPath(spec.SecretStackPassword)}
}

// RuleFiles are the rule files prometheus.yml loads, relative to it.
func RuleFiles(s *spec.Spec) []string {
	files := []string{"alert_rules.yml"}
	if len(s.SLOs) > 0 {
		files = append(files, path.Base(SLORules))
	}
	return files
}

func renderPrometheus(s *spec.Spec) ([]File, error) {
	cfg := promConfig{
		Global: promGlobal{
			ScrapeInterval:     dur(minInterval(s)),
			EvaluationInterval: dur(s.EvaluationInterval),
			ExternalLabels:     map[string]string{"monitor": s.Project},
		},
		RuleFiles: RuleFiles(s),
	}
	am := strings.TrimPrefix(strings.TrimPrefix(s.AlertmanagerURL, "http://"), "https://")
	cfg.Alerting.Alertmanagers = []promAMConfig{{BasicAuth: stackAuth(s), StaticConfigs: []staticConfig{{Targets: []string{am}}}}}
	for _, j := range s.Jobs {
		sc := promScrape{
			JobName:        j.Name,
			ScrapeInterval: dur(j.Interval),
			MetricsPath:    j.MetricsPath,
			StaticConfigs:  []staticConfig{{Targets: j.Targets}},
		}
		if j.StackAuth {
			sc.BasicAuth = stackAuth(s)
		}
		cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, sc)
	}
	cfg.RemoteWrite = remoteWrite(s)
	prom, err := yamlFile(PrometheusConfig, "Prometheus configuration for "+s.Project+".", cfg)
	if err != nil {
		return nil, err
	}
	// promtool check healthy/ready in the container's healthcheck, and any
	// other promtool query, authenticate with this client config.
	client, err := yamlFile(PromtoolHTTPConfig, "HTTP client config for promtool (healthchecks) to reach Prometheus.",
		map[string]any{"basic_auth": stackAuth(s)})
	if err != nil {
		return nil, err
	}
	return []File{prom.as(spec.Prometheus, ServerConfig), client.as(spec.Prometheus, ClientConfig)}, nil
}

func minInterval(s *spec.Spec) (d time.Duration) {
	for i, j := range s.Jobs {
		if i == 0 || j.Interval < d {
			d = j.Interval
		}
	}
	return d
}

// Rule files use their own types for the same reason as the config: the
// order of keys is the order a reader expects (alert, expr, for, labels,
// annotations), which rulefmt's types do not guarantee once marshalled.
type ruleGroups struct {
	Groups []ruleGroup `yaml:"groups"`
}

type ruleGroup struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval,omitempty"`
	Rules    []rule `yaml:"rules"`
}

type rule struct {
	Record        string            `yaml:"record,omitempty"`
	Alert         string            `yaml:"alert,omitempty"`
	Expr          string            `yaml:"expr"`
	For           string            `yaml:"for,omitempty"`
	KeepFiringFor string            `yaml:"keep_firing_for,omitempty"`
	Labels        map[string]string `yaml:"labels,omitempty"`
	Annotations   map[string]string `yaml:"annotations,omitempty"`
}

// AlertLabels are the labels the rule attaches to every instance of the
// alert: severity, component and the alert's extra labels.
func AlertLabels(a spec.Alert) map[string]string {
	l := map[string]string{"severity": string(a.Severity)}
	if a.Component != "" {
		l["component"] = a.Component
	}
	maps.Copy(l, a.Labels)
	return l
}

// AlertAnnotations are the rule's annotation templates.
func AlertAnnotations(s *spec.Spec, a spec.Alert) map[string]string {
	ann := map[string]string{
		"summary":     a.Summary,
		"description": a.Description,
		"action":      a.Action,
	}
	if s.RunbookURL != "" {
		ann["runbook_url"] = s.RunbookURL + "#" + RunbookAnchor(a.Name)
	}
	return ann
}

// RunbookAnchor is the Markdown heading anchor of an alert's runbook
// section (GitHub style: lower case).
func RunbookAnchor(alert string) string { return strings.ToLower(alert) }

// AlertRule is the rule the spec's alert renders to.
func alertRule(s *spec.Spec, a spec.Alert) rule {
	r := rule{
		Alert:       a.Name,
		Expr:        a.Expr,
		Labels:      AlertLabels(a),
		Annotations: AlertAnnotations(s, a),
	}
	if a.For > 0 {
		r.For = dur(a.For)
	}
	if a.KeepFiringFor > 0 {
		r.KeepFiringFor = dur(a.KeepFiringFor)
	}
	return r
}

func renderAlertRules(s *spec.Spec) ([]File, error) {
	g := ruleGroup{Name: s.RuleGroup}
	for _, a := range s.Alerts {
		g.Rules = append(g.Rules, alertRule(s, a))
	}
	names := make([]string, len(s.Alerts))
	for i, a := range s.Alerts {
		names[i] = a.Name
	}
	f, err := yamlFile(AlertRules, fmt.Sprintf("Alerting rules: %s.", strings.Join(names, ", ")), ruleGroups{Groups: []ruleGroup{g}})
	if err != nil {
		return nil, err
	}
	return []File{f.as(spec.Prometheus, ServerConfig)}, nil
}
