package validate

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Class says whose rule a check enforces.
type Class string

const (
	// Upstream checks are what promtool, amtool, docker compose or Grafana
	// refuse (or, for rules/duplicate, lint). They run on every file, so
	// the exit code on a rule file or config is promtool's or amtool's.
	Upstream Class = "upstream"
	// House checks are this project's conventions: the spec cross-checks,
	// alert annotations, dashboard layout, security. By default they run
	// only on the project's own files (see Options.OwnDir).
	House Class = "house"
)

// Check is one named check: the id a finding carries and --enable or
// --disable take.
type Check struct {
	ID    string
	Class Class
	// Doc says what the check finds, in a line.
	Doc string
}

// Checks is every check validate runs, in the order the README lists them.
var Checks = []Check{
	{"input/unreadable", Upstream, "the file cannot be read, is not a regular file (a device, a FIFO) or is past the size limit"},
	{"input/kind", Upstream, "the file is not YAML or JSON, or no known kind of file"},
	{"input/crash", Upstream, "an upstream parser crashed on the file"},
	{"rules/syntax", Upstream, "`promtool check rules`: YAML and unknown fields"},
	{"rules/invalid", Upstream, "`promtool check rules`: rule and group structure"},
	{"rules/template", Upstream, "`promtool check rules`: label and annotation templates"},
	{"promql/syntax", Upstream, "PromQL that does not parse (rules, rule tests, dashboards)"},
	{"rules/duplicate", Upstream, "promtool's default lint: the same rule name and labels twice in one file (a warning)"},
	{"prometheus/config", Upstream, "`promtool check config`: the config loader"},
	{"prometheus/rule-files", Upstream, "`promtool check config`: a rule file that does not exist"},
	{"prometheus/missing-file", Upstream, "`promtool check config`: a credentials or TLS file that does not exist"},
	{"prometheus/tls", Upstream, "`promtool check config`: a client certificate without its key, or the reverse"},
	{"prometheus/file-sd", Upstream, "`promtool check config`: file_sd files (a missing one is only noted)"},
	{"prometheus/targets", Upstream, "`promtool check config`: static and file_sd targets (host:port, labels, relabelling), Alertmanager targets"},
	{"prometheus/unsupported-sd", Upstream, "a service discovery this build does not link: check that file with promtool"},
	{"alertmanager/config", Upstream, "`amtool check-config`: the config loader"},
	{"alertmanager/template", Upstream, "`amtool check-config`: the templates the config names"},
	{"alertmanager/unknown-receiver", Upstream, "`amtool check-config`: a route names a receiver that does not exist"},
	{"rule-test/invalid", Upstream, "a rule test file `promtool test rules` refuses to decode"},
	{"rule-test/series", Upstream, "a rule test input series or expected label set that does not parse"},
	{"rule-test/series-size", Upstream, "a rule test input series past 1,000,000 values (10,000,000 a file), or an eval_time past 1,000,000 evaluation intervals: refused before anything expands them"},
	{"web-config/invalid", Upstream, "`promtool check web-config`: bcrypt hashes, TLS settings and files"},
	{"http-config/invalid", Upstream, "the HTTP client file promtool and amtool load with --http.config.file"},
	{"compose/invalid", Upstream, "docker compose's loader and schema"},
	{"dashboard/invalid", Upstream, "dashboard JSON Grafana cannot load"},
	{"settings/invalid", Upstream, "investiq-mon.yaml, the stack's settings: unknown keys, durations, host:port addresses, ports"},
	{"provisioning/invalid", Upstream, "provisioning files Grafana refuses: apiVersion, names, two default datasources, providers"},
	{"kubernetes/invalid", Upstream, "a Kubernetes manifest that is not YAML, or lacks apiVersion, kind or metadata.name"},
	{"kubernetes/schema", Upstream, "a manifest field the resource's API type does not have, or of the wrong type (prometheus-operator's and Kubernetes' types, decoded strictly)"},
	{"kubernetes/kind", Upstream, "a Kubernetes kind investiq-mon does not check (a warning)"},
	{"kubernetes/servicemonitor", Upstream, "a ServiceMonitor endpoint without a port, or with an interval or relabelling Prometheus refuses; one selecting every Service (a warning)"},
	{"kubernetes/missing-resource", Upstream, "a kustomization resource that does not exist"},
	{"kubernetes/kustomize", Upstream, "the kustomization does not build (kustomize, as kubectl apply -k runs it)"},

	{"rule-test/rule-files", House, "a rule test file names a rule file that does not exist (promtool only warns)"},
	{"promql/unknown-metric", House, "a selector names a metric the spec does not declare"},
	{"promql/unknown-label", House, "a matcher on a label the metric does not have"},
	{"promql/unknown-label-value", House, "a matcher on a label value the spec does not declare"},
	{"promql/rate-gauge", House, "rate(), increase() or irate() over a gauge"},
	{"promql/histogram-le", House, "histogram_quantile over buckets aggregated without le"},
	{"promql/raw-counter", House, "an alert compares a raw counter instead of its rate"},
	{"alerts/severity", House, "an alert without severity critical, warning or info"},
	{"alerts/annotations", House, "an alert without summary and description annotations"},
	{"dashboard/uid", House, "a dashboard without a uid"},
	{"dashboard/schema", House, "the Grafana foundation SDK's strict schema (a warning)"},
	{"dashboard/panel-id", House, "two panels with one id"},
	{"dashboard/gridpos", House, "panels overlapping or past the 24-column grid"},
	{"dashboard/datasource", House, "a datasource uid provisioning does not define"},
	{"provisioning/datasource-uid", House, "a datasource without a fixed, unique uid"},
	{"compose/missing-mount", House, "a bind mount, config or secret file that does not exist"},
	{"compose/unset-variable", House, "a variable the compose file needs that .env does not set (a warning; only noted when there is no .env yet)"},
	{"security/inline-secret", House, "a secret written into a config instead of read from a file (a warning)"},
	{"security/secret-file-mode", House, ".env or a secret file readable by group or others (a warning)"},
	{"security/published-port", House, "compose publishes a port beyond 127.0.0.1 (a warning)"},
	{"security/admin-api", House, "the TSDB admin API enabled on a port published beyond 127.0.0.1 (a warning)"},
	{"security/open-web", House, "a web config with neither users nor TLS client auth (a warning)"},
	{"kubernetes/job", House, "a ServiceMonitor setting a job the spec has no scrape job for: no alert sees its series"},
	{"kubernetes/configmap", House, "a dashboard ConfigMap key Grafana's sidecar does not load (a warning)"},
}

// Profile is the base selection of house checks, before --enable and
// --disable.
type Profile string

const (
	// ProfileDefault runs the house checks on the project's own files.
	ProfileDefault Profile = "default"
	// ProfilePromtool runs no house check: exactly promtool and amtool.
	ProfilePromtool Profile = "promtool"
	// ProfileAll runs the house checks on every file.
	ProfileAll Profile = "all"
)

// Profiles are the values Options.Profile takes.
var Profiles = []Profile{ProfileDefault, ProfilePromtool, ProfileAll}

// GeneratedMarker is in the header of every file `investiq-mon generate`
// writes (the description of a dashboard): a file that carries it is the
// project's own wherever it lies.
const GeneratedMarker = "Generated by `investiq-mon generate`"

// markerWindow is how far into a file the marker is looked for: the header
// comment of a YAML file, the first keys of a dashboard.
const markerWindow = 4096

func checkByID(id string) (Check, bool) {
	i := slices.IndexFunc(Checks, func(c Check) bool { return c.ID == id })
	if i < 0 {
		return Check{}, false
	}
	return Checks[i], true
}

// matches says whether a pattern (a check id, or a prefix ending in "/")
// names the check.
func matches(pattern, id string) bool {
	return pattern == id || (strings.HasSuffix(pattern, "/") && strings.HasPrefix(id, pattern))
}

// CheckPattern reports an --enable or --disable value that names no check.
func CheckPattern(pattern string) error {
	if slices.ContainsFunc(Checks, func(c Check) bool { return matches(pattern, c.ID) }) {
		return nil
	}
	return fmt.Errorf("%q names no check (a check id such as alerts/severity, or a prefix such as security/)", pattern)
}

// selection decides which checks run on which file.
type selection struct {
	profile         Profile
	enable, disable []string
}

func newSelection(opts Options) selection {
	p := opts.Profile
	if p == "" {
		p = ProfileDefault
	}
	return selection{profile: p, enable: opts.Enable, disable: opts.Disable}
}

// on says whether a check runs on a file that is (own) or is not the
// project's. --disable wins over everything, --enable over the profile;
// upstream checks are on unless disabled, so that the exit code is the
// upstream tool's.
func (s selection) on(id string, own bool) bool {
	if slices.ContainsFunc(s.disable, func(p string) bool { return matches(p, id) }) {
		return false
	}
	c, known := checkByID(id)
	if !known || c.Class == Upstream {
		return true
	}
	if slices.ContainsFunc(s.enable, func(p string) bool { return matches(p, id) }) {
		return true
	}
	switch s.profile {
	case ProfilePromtool:
		return false
	case ProfileAll:
		return true
	}
	return own
}

// anyHouseOn says whether any house check under prefix runs on the file:
// whole phases (the spec cross-checks) are skipped when none would report.
func (s selection) anyHouseOn(prefix string, own bool) bool {
	for _, c := range Checks {
		if c.Class == House && strings.HasPrefix(c.ID, prefix) && s.on(c.ID, own) {
			return true
		}
	}
	return false
}

// ownership tells the project's own files from the others: a file is its
// own when it carries the generated-file marker, or lies under the
// project's directory (the spec's monitoring/, where hand-edited copies
// and .env live too).
type ownership struct {
	dir string // absolute, cleaned; empty when there is none
}

func newOwnership(dir string) ownership {
	if dir == "" {
		return ownership{}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ownership{}
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	return ownership{dir: filepath.Clean(abs)}
}

func (o ownership) owns(path string, data []byte) bool {
	if bytes.Contains(data[:min(len(data), markerWindow)], []byte(GeneratedMarker)) {
		return true
	}
	if o.dir == "" {
		return false
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	rel, err := filepath.Rel(o.dir, abs)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
