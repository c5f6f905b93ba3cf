// Package spec is the single source of truth for InvestIQ's monitoring
// stack: the metrics the API exposes, how Prometheus scrapes them, the
// alerts and SLOs built on them, where notifications go and what the
// dashboards show.
//
// The types here are the vocabulary; investiq.go is the one file a user
// edits. Everything under monitoring/ is rendered from a *Spec by
// internal/render, so a dashboard cannot name a metric the spec does not
// declare without `investiq-mon validate` saying so.
package spec

import (
	"time"
)

// MetricType is the Prometheus metric type. Only the three types InvestIQ
// exposes are modelled; summaries are deliberately absent because their
// quantiles cannot be aggregated across instances.
type MetricType string

const (
	Counter   MetricType = "counter"
	Gauge     MetricType = "gauge"
	Histogram MetricType = "histogram"
)

// Label is one label of a metric. Values, when set, is the closed set of
// values the API may emit; validate rejects a matcher outside it.
type Label struct {
	Name   string
	Help   string
	Values []string
	// MaxValues bounds a label whose values are open (route templates,
	// error classes): the most distinct values the API may emit. Sizing
	// multiplies by it; a label with neither Values nor MaxValues is
	// unbounded and generate warns.
	MaxValues int
}

// State gives a gauge value a name, e.g. 0 = "Down", 1 = "Up". Healthy
// states are drawn green on dashboards, others red.
type State struct {
	Value   float64
	Text    string
	Healthy bool
}

// Metric is one metric family exposed by a scraped service.
type Metric struct {
	Name string
	Type MetricType
	Help string
	// Unit is the base unit as Prometheus' naming conventions want it in the
	// name suffix ("milliseconds", "requests"); empty for unitless gauges.
	Unit   string
	Labels []Label
	// Buckets are the histogram's upper bounds (without +Inf) as the API
	// exports them. SLO latency thresholds must be one of them.
	Buckets []float64
	// States names the values of a state gauge (0 = down, 1 = up).
	States []State
	// Job is the scrape job that exposes the metric.
	Job string
}

// Series returns the names of the series a metric produces: a histogram
// exposes _bucket, _sum and _count, every other type its own name.
func (m Metric) Series() []string {
	if m.Type == Histogram {
		return []string{m.Name + "_bucket", m.Name + "_sum", m.Name + "_count"}
	}
	return []string{m.Name}
}

// Label returns the label with the given name.
func (m Metric) Label(name string) (Label, bool) {
	for _, l := range m.Labels {
		if l.Name == name {
			return l, true
		}
	}
	return Label{}, false
}

// ScrapeJob is one Prometheus scrape job.
type ScrapeJob struct {
	// Name is the job label.
	Name string
	// Targets are host:port addresses on the stack's network.
	Targets     []string
	MetricsPath string
	Interval    time.Duration
	// StackAuth scrapes with the stack's own basic-auth credentials; set for
	// Prometheus and Alertmanager, which sit behind their web config.
	StackAuth bool
}

// Severity decides routing: critical pages, warning goes to chat.
type Severity string

const (
	Critical Severity = "critical"
	Warning  Severity = "warning"
	Info     Severity = "info"
)

// Alert is an alerting rule together with what a person needs when it
// fires and the cases that prove it fires when it should.
type Alert struct {
	Name string
	// Expr is the PromQL condition; the alert is pending while it returns
	// series and fires once it has done so for For.
	Expr          string
	For           time.Duration
	KeepFiringFor time.Duration
	Severity      Severity
	// Component names the part of InvestIQ at fault (api, ml, trading); it
	// becomes a label and groups the runbook.
	Component string
	// Summary and Description are annotation templates ($labels, $value).
	Summary     string
	Description string
	// Condition says in words when the alert fires, for the runbook.
	Condition string
	// Action is what the on-call person should do first.
	Action string
	// Panel is the title of the dashboard panel to open first.
	Panel string
	// Labels are extra labels attached to the alert.
	Labels map[string]string
	// Cases prove the alert fires when it should and stays silent when it
	// should not. They are run by `investiq-mon test` and rendered into
	// promtool's test format.
	Cases []Case
}

// Case is one unit test of an alert: input series and what must be firing
// at each evaluation time.
type Case struct {
	Name string
	// Interval is the spacing of the input samples; zero means the global
	// scrape interval of the tests (1m, as promtool).
	Interval time.Duration
	Series   []Series
	Checks   []Check
}

// Series is one input series in promtool's notation, e.g.
// `investiq_errors_total{type="db"}` with values `0+6x20`.
type Series struct {
	Series string
	Values string
}

// Check states which alerts of the rule fire at time At. An empty Firing
// means the alert must be silent then.
type Check struct {
	At     time.Duration
	Firing []Expected
}

// Expected is one alert instance expected to fire. Labels are the labels
// of the series the expression returns (job, instance, ...): alertname and
// the rule's own labels (severity, component, ...) are added for you.
// Annotations not given here are the rule's templates expanded with these
// labels; give the ones whose template uses $value, with the value worked
// out by hand, so the test states the number rather than echoing the engine.
type Expected struct {
	Labels      map[string]string
	Annotations map[string]string
}

// SLO is a service level objective with multiwindow, multi-burn-rate
// alerts generated from it.
type SLO struct {
	Name        string
	Description string
	// Objective is the target share of good events, in (0,1): 0.999.
	Objective float64
	// Window is the compliance period, 30 days by default.
	Window time.Duration
	// Exactly one of Ratio and Latency is set.
	Ratio   *RatioSLI
	Latency *LatencySLI
}

// RatioSLI measures errors as a share of all events: Errors and Total are
// counter metric names, summed over every label.
type RatioSLI struct {
	Errors string
	Total  string
}

// LatencySLI measures the share of requests slower than ThresholdMs, read
// from a histogram's bucket: the threshold must be one of its buckets.
type LatencySLI struct {
	Histogram   string
	ThresholdMs float64
}

// ReceiverKind is the notification integration of a receiver.
type ReceiverKind string

const (
	Discord   ReceiverKind = "discord"
	Slack     ReceiverKind = "slack"
	Email     ReceiverKind = "email"
	PagerDuty ReceiverKind = "pagerduty"
	Webhook   ReceiverKind = "webhook"
)

// Receiver is an Alertmanager receiver. Its secret (webhook URL, API URL,
// routing key or SMTP password) is never in the spec: Alertmanager reads it
// from SecretFile at send time, using the integration's *_file option.
type Receiver struct {
	Name string
	Kind ReceiverKind
	// SecretFile is the secret's file name under the stack's secrets
	// directory (monitoring/secrets/).
	SecretFile string
	// Email only.
	To, From, Smarthost, AuthUsername string
	// Slack only.
	Channel      string
	SendResolved bool
}

// Route sends alerts matching every matcher to Receiver; Continue lets the
// alert go on to later sibling routes too.
type Route struct {
	Matchers []string
	Receiver string
	Continue bool
}

// Inhibit mutes alerts matching Target while an alert matching Source fires
// with the same values of Equal.
type Inhibit struct {
	Source []string
	Target []string
	Equal  []string
}

// Routing is Alertmanager's routing tree: a root with one level of routes.
type Routing struct {
	Default        string
	GroupBy        []string
	GroupWait      time.Duration
	GroupInterval  time.Duration
	RepeatInterval time.Duration
	Routes         []Route
	Inhibit        []Inhibit
}

// PanelKind is the Grafana visualisation of a panel.
type PanelKind string

const (
	TimeSeries PanelKind = "timeseries"
	Stat       PanelKind = "stat"
)

// Query is one PromQL target of a panel.
type Query struct {
	Expr   string
	Legend string
	// Instant asks for the last value only (stat panels over a range).
	Instant bool
}

// Threshold colours a panel's value from Value upwards; the first
// threshold's Value is ignored (it is the base colour).
type Threshold struct {
	Value float64
	Color string
}

// Panel is one dashboard panel.
type Panel struct {
	Title       string
	Description string
	Kind        PanelKind
	// Unit is a Grafana unit id ("reqps", "ms", "short", "none"), or a
	// custom one such as "suffix: errors/s".
	Unit    string
	Queries []Query
	// Thresholds are drawn on time series (as lines) and colour stats.
	Thresholds []Threshold
	// States maps values to text and colour (stat panels of state gauges).
	States []State
	// Width in grid units out of 24; zero shares the row equally.
	Width int
}

// Row is a titled row of panels.
type Row struct {
	Title  string
	Panels []Panel
}

// Dashboard is a Grafana dashboard with a stable uid so links survive
// re-provisioning.
type Dashboard struct {
	UID   string
	Title string
	// File is the JSON file name under grafana/dashboards/.
	File    string
	Tags    []string
	From    string // "now-1h"
	Refresh string // "30s"
	Rows    []Row
}

// Ports are the host ports the compose stack publishes.
type Ports struct {
	Prometheus   int
	Alertmanager int
	Grafana      int
}

// Images pins the container images of the compose stack.
type Images struct {
	Prometheus   string
	Alertmanager string
	Grafana      string
}

// Spec is the whole monitoring stack.
type Spec struct {
	// Project names the compose project and prefixes container names.
	Project string
	Metrics []Metric
	Jobs    []ScrapeJob
	// EvaluationInterval is how often rules are evaluated.
	EvaluationInterval time.Duration
	// Retention is how long Prometheus keeps samples.
	Retention time.Duration
	// RuleGroup names the group holding the alerts.
	RuleGroup string
	Alerts    []Alert
	SLOs      []SLO
	Receivers []Receiver
	Routing   Routing
	// DatasourceUID is the uid of the provisioned Prometheus datasource that
	// every panel references.
	DatasourceUID string
	Dashboards    []Dashboard
	Ports         Ports
	Images        Images
	// PublishAddress is the host address compose publishes ports on.
	// 127.0.0.1 keeps the stack off the network; anything wider is a
	// deliberate choice that validate warns about.
	PublishAddress string
	// StackUser is the basic-auth user Prometheus and Alertmanager accept;
	// its password lives in .env, never in the spec.
	StackUser string
	// RunbookURL is where RUNBOOK.md is published; each alert's runbook_url
	// annotation points at its section.
	RunbookURL string
	// ExternalURL is the address people use to reach Alertmanager; links in
	// notifications point there. Empty: Alertmanager's published port on
	// the publish address (AlertmanagerExternalURL).
	ExternalURL string
	// SecretsDir is where Prometheus, Alertmanager and Grafana read secret
	// files (passwords, webhook URLs) at run time: /run/secrets in the
	// compose stack, where compose materialises them from .env; the local
	// backend points it at its own 0700 state directory.
	SecretsDir string
	// WebConfigFile is the path of the web config (basic auth, bcrypt
	// hashes) that Prometheus and Alertmanager load.
	WebConfigFile string
	// Network is the docker network shared with the InvestIQ API, so the
	// API's /metrics is scraped over it and never published.
	Network string
	// PrometheusURL and AlertmanagerURL are how the stack's own services
	// reach Prometheus and Alertmanager (Grafana's datasource, Prometheus'
	// alerting client).
	PrometheusURL   string
	AlertmanagerURL string
	// GrafanaDashboardsDir is where Grafana's file provider reads the
	// dashboard JSON.
	GrafanaDashboardsDir string

	// Growing past one machine (spec/scale.go): remote write to a
	// long-term store, a global Prometheus federating this one, and the
	// prometheus-operator resources of `generate --target kubernetes`.
	RemoteWrite []RemoteWrite
	Federation  *Federation
	Kubernetes  Kubernetes

	// ExtraComponents run beside Prometheus, Alertmanager and Grafana (an
	// exporter, say): up, down, status, backup and doctor pick them up
	// from here (spec/topology.go says what each field means).
	ExtraComponents []Component
}

// Metric returns the declared metric with the given family name.
func (s *Spec) Metric(name string) (Metric, bool) {
	for _, m := range s.Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// Job returns the scrape job with the given name.
func (s *Spec) Job(name string) (ScrapeJob, bool) {
	for _, j := range s.Jobs {
		if j.Name == name {
			return j, true
		}
	}
	return ScrapeJob{}, false
}
