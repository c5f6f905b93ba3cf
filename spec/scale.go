package spec

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
	"k8s.io/apimachinery/pkg/util/validation"
)

// This file is the vocabulary for growing past one machine: sending every
// sample to a long-term store (remote write), a global Prometheus that
// federates the recording rules and alerts of several InvestIQ servers,
// and the same stack on Kubernetes through prometheus-operator.

// RemoteWrite sends every sample Prometheus ingests to a long-term store
// that speaks Prometheus' remote-write protocol: Thanos Receive, Cortex,
// Mimir, a hosted service, or another Prometheus started with
// --web.enable-remote-write-receiver. Prometheus keeps its own TSDB as
// before; the queue reads the write-ahead log, so a store that is down for
// a while receives the samples once it is back.
type RemoteWrite struct {
	// Name tells queues apart in Prometheus' own metrics (remote_name).
	Name string
	// URL is the store's write endpoint, e.g.
	// https://mimir.example/api/v1/push or http://host:9090/api/v1/write.
	URL string
	// BasicAuthUser with PasswordSecret, or BearerTokenSecret alone: the
	// secret's file name under SecretsDir (its value lives in .env as the
	// upper-cased name). The value is never in the spec or prometheus.yml,
	// which names the file (password_file, credentials_file).
	BasicAuthUser     string
	PasswordSecret    string
	BearerTokenSecret string
	// Queue tunes the sending queue; zero fields keep Prometheus' defaults.
	Queue Queue
	// Relabel runs on every series before it is sent, in order: drop what
	// the long-term store does not need (high-cardinality histogram
	// buckets, per-instance detail). The local TSDB keeps everything.
	Relabel []WriteRelabel
}

// Queue is remote write's queue_config. Zero keeps Prometheus' default.
type Queue struct {
	Capacity          int
	MinShards         int
	MaxShards         int
	MaxSamplesPerSend int
	BatchSendDeadline time.Duration
	MinBackoff        time.Duration
	MaxBackoff        time.Duration
}

// RelabelAction is what a write relabel rule does with what Regex matches.
type RelabelAction string

const (
	// Drop does not send series whose SourceLabels match.
	Drop RelabelAction = "drop"
	// Keep sends only series whose SourceLabels match.
	Keep RelabelAction = "keep"
	// LabelDrop removes the labels whose names match.
	LabelDrop RelabelAction = "labeldrop"
	// LabelKeep removes every label whose name does not match.
	LabelKeep RelabelAction = "labelkeep"
)

// WriteRelabel is one write_relabel_configs rule.
type WriteRelabel struct {
	Action RelabelAction
	// SourceLabels are joined with ";" and matched by Regex (drop and
	// keep); empty means the metric name (__name__).
	SourceLabels []string
	// Regex is fully anchored, as in Prometheus.
	Regex string
}

// Federation is a global Prometheus that scrapes /federate of one or more
// InvestIQ Prometheus servers, taking only the recording rules and the
// alert series: a fleet-wide view of SLOs and alerts at a fraction of the
// raw series. Rendered as global/prometheus.yml, a config for a separate
// server.
type Federation struct {
	// Sources are the InvestIQ Prometheus servers to federate.
	Sources []FederationSource
	// Interval is how often the global server scrapes each source.
	Interval time.Duration
	// Match are the match[] selectors; empty means FederationMatch.
	Match []string
}

// FederationSource is one InvestIQ Prometheus server.
type FederationSource struct {
	// Name becomes the cluster label of every series from this source, so
	// servers whose series are otherwise identical stay apart.
	Name string
	// Address is host:port of the server's web listener.
	Address string
	// User and PasswordSecret are its basic auth; empty means the stack's
	// own user and password (a source run from this same spec and .env).
	User           string
	PasswordSecret string
}

// FederationClusterLabel is the label naming the source of a federated
// series on the global server.
const FederationClusterLabel = "cluster"

// FederationMatch selects what a global server takes by default: every
// series whose name has a colon (by Prometheus' naming convention,
// level:metric:operations, only recording rules have one; Check refuses a
// declared metric with a colon) and the ALERTS series of pending and
// firing alerts.
var FederationMatch = []string{`{__name__=~".+:.+"}`, `{__name__="ALERTS"}`}

// MatchSelectors returns the federation's match[] selectors.
func (f *Federation) MatchSelectors() []string {
	if len(f.Match) > 0 {
		return f.Match
	}
	return FederationMatch
}

// Kubernetes says how `generate --target kubernetes` writes the stack as
// prometheus-operator resources.
type Kubernetes struct {
	// Namespace every resource is put in (the kustomization's namespace).
	Namespace string
	// Labels go on every resource. The operator's Prometheus and
	// Alertmanager pick PrometheusRules, ServiceMonitors and
	// AlertmanagerConfigs by label (ruleSelector, serviceMonitorSelector,
	// alertmanagerConfigSelector): kube-prometheus-stack selects
	// release: <its Helm release name>.
	Labels map[string]string
	// SecretName is the Secret holding .env's values under their variable
	// names, which AlertmanagerConfig references (never the values):
	// kubectl create secret generic NAME --from-env-file=monitoring/.env
	SecretName string
	// PrometheusURL is the operator's Prometheus inside the cluster, for
	// the Grafana datasource the dashboards reference.
	PrometheusURL string
	// Services says how each scrape job finds its Service. A job not listed
	// gets the selector app.kubernetes.io/name=<host of its first target>
	// and the Service port named "http".
	Services []KubeService
}

// KubeService is how a ServiceMonitor selects the Service of a job.
type KubeService struct {
	Job string
	// Selector are the Service's labels.
	Selector map[string]string
	// Port is the name of the Service port serving /metrics.
	Port string
	// Namespace of the Service; empty means Kubernetes.Namespace.
	Namespace string
}

// ServiceFor returns how the job's Service is found.
func (k Kubernetes) ServiceFor(j ScrapeJob) KubeService {
	for _, ks := range k.Services {
		if ks.Job == j.Name {
			if ks.Port == "" {
				ks.Port = "http"
			}
			return ks
		}
	}
	host := j.Name
	if len(j.Targets) > 0 {
		if h, _, ok := strings.Cut(j.Targets[0], ":"); ok && h != "" {
			host = h
		}
	}
	return KubeService{Job: j.Name, Selector: map[string]string{"app.kubernetes.io/name": host}, Port: "http"}
}

// scaleSecrets are the secrets remote write and federation read, after the
// receivers' in Secrets.
func (s *Spec) scaleSecrets() []Secret {
	var out []Secret
	seen := map[string]bool{SecretStackPassword: true, SecretGrafanaPassword: true}
	for _, r := range s.Receivers {
		seen[r.SecretFile] = true
	}
	add := func(file, help string) {
		if file == "" || seen[file] {
			return
		}
		seen[file] = true
		out = append(out, Secret{File: file, Env: strings.ToUpper(file), Help: help})
	}
	for _, rw := range s.RemoteWrite {
		add(rw.PasswordSecret, "Basic-auth password for remote write "+rw.Name+" ("+rw.URL+").")
		add(rw.BearerTokenSecret, "Bearer token for remote write "+rw.Name+" ("+rw.URL+").")
	}
	if s.Federation != nil {
		for _, src := range s.Federation.Sources {
			add(src.PasswordSecret, "Basic-auth password of the federated Prometheus "+src.Name+" ("+src.Address+").")
		}
	}
	return out
}

// RemoteWriteSecrets are the secret files Prometheus reads for remote
// write, which compose must hand to Prometheus.
func (s *Spec) RemoteWriteSecrets() []string {
	var out []string
	for _, rw := range s.RemoteWrite {
		for _, f := range []string{rw.PasswordSecret, rw.BearerTokenSecret} {
			if f != "" && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// UnboundedLabels names, by spec path, every label that declares neither
// its Values nor MaxValues: nothing bounds the series it can create, and
// sizing counts it once.
func (s *Spec) UnboundedLabels() []string {
	var out []string
	for _, m := range s.Metrics {
		for _, l := range m.Labels {
			if len(l.Values) == 0 && l.MaxValues <= 0 {
				out = append(out, fmt.Sprintf("metrics[%s].labels[%s]", m.Name, l.Name))
			}
		}
	}
	return out
}

// Cardinality is how many values a label may take: its declared Values,
// else MaxValues, else 1 (unbounded: see UnboundedLabels).
func (l Label) Cardinality() int {
	switch {
	case len(l.Values) > 0:
		return len(l.Values)
	case l.MaxValues > 0:
		return l.MaxValues
	}
	return 1
}

var (
	dnsLabelRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

// checkScale adds the problems of the remote write, federation and
// Kubernetes parts of the spec.
func (s *Spec) checkScale(add func(path, format string, args ...any)) {
	for _, m := range s.Metrics {
		if strings.Contains(m.Name, ":") {
			add(fmt.Sprintf("metrics[%s].name", m.Name), "colons are reserved for recording rules (Prometheus naming conventions); federation selects recording rules by them")
		}
		for _, l := range m.Labels {
			if l.MaxValues < 0 {
				add(fmt.Sprintf("metrics[%s].labels[%s].maxValues", m.Name, l.Name), "must not be negative")
			}
			if len(l.Values) > 0 && l.MaxValues > 0 {
				add(fmt.Sprintf("metrics[%s].labels[%s]", m.Name, l.Name), "set Values (a closed set) or MaxValues (a bound on an open one), not both")
			}
		}
	}

	names := map[string]bool{}
	for i, rw := range s.RemoteWrite {
		p := fmt.Sprintf("remoteWrite[%s]", name(rw.Name, i))
		switch {
		case rw.Name == "":
			add(p+".name", "must not be empty: it names the queue in Prometheus' metrics")
		case names[rw.Name]:
			add(p+".name", "declared twice")
		}
		names[rw.Name] = true
		if u, err := url.Parse(rw.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add(p+".url", "%q is not an http(s) URL with a host", rw.URL)
		} else if u.User != nil {
			add(p+".url", "must not carry credentials: use BasicAuthUser and PasswordSecret")
		}
		if rw.PasswordSecret != "" && rw.BearerTokenSecret != "" {
			add(p, "set basic auth (BasicAuthUser, PasswordSecret) or BearerTokenSecret, not both")
		}
		if (rw.BasicAuthUser == "") != (rw.PasswordSecret == "") {
			add(p, "basic auth needs both BasicAuthUser and PasswordSecret")
		}
		for field, f := range map[string]string{"passwordSecret": rw.PasswordSecret, "bearerTokenSecret": rw.BearerTokenSecret} {
			if strings.Contains(f, "/") {
				add(p+"."+field, "must be a plain file name under the secrets directory")
			}
		}
		q := rw.Queue
		for field, v := range map[string]int{"capacity": q.Capacity, "minShards": q.MinShards, "maxShards": q.MaxShards, "maxSamplesPerSend": q.MaxSamplesPerSend} {
			if v < 0 {
				add(p+".queue."+field, "must not be negative")
			}
		}
		for field, v := range map[string]time.Duration{"batchSendDeadline": q.BatchSendDeadline, "minBackoff": q.MinBackoff, "maxBackoff": q.MaxBackoff} {
			if v < 0 {
				add(p+".queue."+field, "must not be negative")
			}
		}
		if q.MinShards > 0 && q.MaxShards > 0 && q.MinShards > q.MaxShards {
			add(p+".queue", "minShards %d is above maxShards %d", q.MinShards, q.MaxShards)
		}
		for j, r := range rw.Relabel {
			rp := fmt.Sprintf("%s.relabel[%d]", p, j)
			switch r.Action {
			case Drop, Keep, LabelDrop, LabelKeep:
			default:
				add(rp+".action", "%q is not drop, keep, labeldrop or labelkeep", r.Action)
			}
			if (r.Action == LabelDrop || r.Action == LabelKeep) && len(r.SourceLabels) > 0 {
				add(rp+".sourceLabels", "%s matches label names: it takes no source labels", r.Action)
			}
			if r.Regex == "" {
				add(rp+".regex", "must not be empty")
			} else if _, err := regexp.Compile("^(?s:" + r.Regex + ")$"); err != nil {
				add(rp+".regex", "%v", err)
			}
			for _, l := range r.SourceLabels {
				if !labelNameRE.MatchString(l) {
					add(rp+".sourceLabels", "%q is not a label name", l)
				}
			}
		}
	}

	if f := s.Federation; f != nil {
		if len(f.Sources) == 0 {
			add("federation.sources", "needs at least one InvestIQ Prometheus server")
		}
		if f.Interval < 0 {
			add("federation.interval", "must not be negative")
		}
		srcs := map[string]bool{}
		for i, src := range f.Sources {
			p := fmt.Sprintf("federation.sources[%s]", name(src.Name, i))
			switch {
			case src.Name == "":
				add(p+".name", "must not be empty: it becomes the %s label", FederationClusterLabel)
			case srcs[src.Name]:
				add(p+".name", "declared twice: the sources' series would collide")
			}
			srcs[src.Name] = true
			if err := checkHostPort(src.Address); err != nil {
				add(p+".address", "%q %v", src.Address, err)
			}
			if strings.Contains(src.PasswordSecret, "/") {
				add(p+".passwordSecret", "must be a plain file name under the secrets directory")
			}
		}
		for i, m := range f.Match {
			if _, err := parser.NewParser(parser.Options{}).ParseMetricSelector(m); err != nil {
				add(fmt.Sprintf("federation.match[%d]", i), "%v", err)
			}
		}
	}

	k := s.Kubernetes
	if k.Namespace != "" && !dnsLabelRE.MatchString(k.Namespace) {
		add("kubernetes.namespace", "%q is not a DNS-1123 label (lower case letters, digits and '-')", k.Namespace)
	}
	if k.SecretName != "" {
		for _, msg := range validation.IsDNS1123Subdomain(k.SecretName) {
			add("kubernetes.secretName", "%s", msg)
		}
	}
	for key, v := range k.Labels {
		for _, msg := range validation.IsQualifiedName(key) {
			add("kubernetes.labels["+key+"]", "%s", msg)
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			add("kubernetes.labels["+key+"]", "%s", msg)
		}
	}
	for i, ks := range k.Services {
		p := fmt.Sprintf("kubernetes.services[%s]", name(ks.Job, i))
		if _, ok := s.Job(ks.Job); !ok {
			add(p+".job", "no scrape job is named %q", ks.Job)
		}
		if len(ks.Selector) == 0 {
			add(p+".selector", "must not be empty: it would select every Service")
		}
	}
}
