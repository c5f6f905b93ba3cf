package spec

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// ErrInvalid is wrapped by every error Check returns, so callers can tell a
// bad spec from an I/O failure with errors.Is.
var ErrInvalid = errors.New("invalid spec")

// Problem is one thing wrong with the spec, located by its path in the
// spec, e.g. `alerts[HighLatency].expr`.
type Problem struct {
	Path    string
	Message string
}

func (p Problem) Error() string { return p.Path + ": " + p.Message }

// Problems is every problem found; its Error lists them one per line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

func (ps Problems) Unwrap() error { return ErrInvalid }

var (
	componentNameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	metricNameRE    = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelNameRE     = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	alertNameRE     = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	sloNameRE       = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// Check reports every problem in the spec, not just the first. A nil
// result means the spec can be rendered.
func (s *Spec) Check() error {
	var ps Problems
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if s.Project == "" {
		add("project", "must not be empty")
	}
	if s.EvaluationInterval <= 0 {
		add("evaluationInterval", "must be positive")
	}
	if s.Retention <= 0 {
		add("retention", "must be positive")
	}

	metrics := map[string]bool{}
	for i, m := range s.Metrics {
		p := fmt.Sprintf("metrics[%s]", name(m.Name, i))
		switch {
		case !metricNameRE.MatchString(m.Name):
			add(p+".name", "%q is not a valid Prometheus metric name", m.Name)
		case metrics[m.Name]:
			add(p+".name", "declared twice")
		}
		metrics[m.Name] = true
		switch m.Type {
		case Counter:
			if !strings.HasSuffix(m.Name, "_total") {
				add(p+".name", "a counter's name must end in _total (Prometheus naming conventions)")
			}
		case Gauge:
		case Histogram:
			if len(m.Buckets) == 0 {
				add(p+".buckets", "a histogram needs its bucket bounds")
			}
			if !slices.IsSorted(m.Buckets) {
				add(p+".buckets", "must be in increasing order")
			}
		default:
			add(p+".type", "%q is not counter, gauge or histogram", m.Type)
		}
		if m.Type != Histogram && len(m.Buckets) > 0 {
			add(p+".buckets", "only histograms have buckets")
		}
		if m.Help == "" {
			add(p+".help", "must not be empty")
		}
		if m.Job != "" {
			if _, ok := s.Job(m.Job); !ok {
				add(p+".job", "no scrape job is named %q", m.Job)
			}
		}
		seen := map[string]bool{}
		for _, l := range m.Labels {
			lp := fmt.Sprintf("%s.labels[%s]", p, l.Name)
			if !labelNameRE.MatchString(l.Name) || strings.HasPrefix(l.Name, "__") {
				add(lp, "not a valid label name")
			}
			if l.Name == "le" || l.Name == "job" || l.Name == "instance" {
				add(lp, "%q is set by Prometheus or the histogram; choose another name", l.Name)
			}
			if seen[l.Name] {
				add(lp, "declared twice")
			}
			seen[l.Name] = true
		}
	}

	jobs := map[string]bool{}
	for i, j := range s.Jobs {
		p := fmt.Sprintf("jobs[%s]", name(j.Name, i))
		if j.Name == "" {
			add(p+".name", "must not be empty")
		}
		if jobs[j.Name] {
			add(p+".name", "declared twice")
		}
		jobs[j.Name] = true
		if len(j.Targets) == 0 {
			add(p+".targets", "needs at least one host:port")
		}
		for ti, t := range j.Targets {
			if err := checkHostPort(t); err != nil {
				add(fmt.Sprintf("%s.targets[%d]", p, ti), "%q %v", t, err)
			}
		}
		if j.Interval <= 0 {
			add(p+".interval", "must be positive")
		}
	}

	comps := map[string]bool{}
	for i, c := range s.Components() {
		p := fmt.Sprintf("components[%s]", name(c.Name, i))
		if !componentNameRE.MatchString(c.Name) {
			add(p+".name", "%q: a component's name is a folder, a compose service and a process: lower-case letters, digits, - and _", c.Name)
		}
		if comps[c.Name] {
			add(p+".name", "declared twice")
		}
		comps[c.Name] = true
		if c.Backup == BackupFiles && len(c.DataFiles) == 0 {
			add(p+".dataFiles", "backup %q copies the data files listed here: name at least one", c.Backup)
		}
	}

	alerts := map[string]bool{}
	for i, a := range s.Alerts {
		p := fmt.Sprintf("alerts[%s]", name(a.Name, i))
		if !alertNameRE.MatchString(a.Name) {
			add(p+".name", "%q: alert names are UpperCamelCase", a.Name)
		}
		if alerts[a.Name] {
			add(p+".name", "declared twice")
		}
		alerts[a.Name] = true
		if _, err := parser.NewParser(parser.Options{}).ParseExpr(a.Expr); err != nil {
			add(p+".expr", "%v", err)
		}
		switch a.Severity {
		case Critical, Warning, Info:
		default:
			add(p+".severity", "%q is not critical, warning or info", a.Severity)
		}
		for field, v := range map[string]string{"summary": a.Summary, "description": a.Description, "action": a.Action} {
			if v == "" {
				add(p+"."+field, "must not be empty: the person paged needs it")
			}
		}
		if a.For < 0 || a.KeepFiringFor < 0 {
			add(p+".for", "must not be negative")
		}
	}

	for i, slo := range s.SLOs {
		p := fmt.Sprintf("slos[%s]", name(slo.Name, i))
		if !sloNameRE.MatchString(slo.Name) {
			add(p+".name", "%q: SLO names are lower_snake_case (they become rule names)", slo.Name)
		}
		if !(slo.Objective > 0 && slo.Objective < 1) {
			add(p+".objective", "%v is not in (0,1): an objective of 1 leaves no error budget", slo.Objective)
		}
		if slo.Window <= 0 {
			add(p+".window", "must be positive")
		}
		switch {
		case (slo.Ratio == nil) == (slo.Latency == nil):
			add(p, "set exactly one of ratio and latency")
		case slo.Ratio != nil:
			for field, n := range map[string]string{"errors": slo.Ratio.Errors, "total": slo.Ratio.Total} {
				if m, ok := s.Metric(n); !ok || m.Type != Counter {
					add(p+".ratio."+field, "%q is not a declared counter", n)
				}
			}
		case slo.Latency != nil:
			m, ok := s.Metric(slo.Latency.Histogram)
			if !ok || m.Type != Histogram {
				add(p+".latency.histogram", "%q is not a declared histogram", slo.Latency.Histogram)
			} else if !slices.Contains(m.Buckets, slo.Latency.ThresholdMs) {
				add(p+".latency.thresholdMs", "%v is not a bucket of %s (buckets: %v); the SLI can only count requests at a bucket bound",
					slo.Latency.ThresholdMs, m.Name, m.Buckets)
			}
		}
	}

	receivers := map[string]bool{}
	for i, r := range s.Receivers {
		p := fmt.Sprintf("receivers[%s]", name(r.Name, i))
		if receivers[r.Name] {
			add(p+".name", "declared twice")
		}
		receivers[r.Name] = true
		switch r.Kind {
		case Discord, Slack, PagerDuty, Webhook, Email:
		default:
			add(p+".kind", "%q is not a known integration", r.Kind)
		}
		if r.SecretFile == "" || strings.Contains(r.SecretFile, "/") {
			add(p+".secretFile", "must be a plain file name under monitoring/secrets/")
		}
		if r.Kind == Email && (r.To == "" || r.From == "" || r.Smarthost == "") {
			add(p, "email needs to, from and smarthost")
		}
	}
	if !receivers[s.Routing.Default] {
		add("routing.default", "no receiver is named %q", s.Routing.Default)
	}
	for i, r := range s.Routing.Routes {
		if !receivers[r.Receiver] {
			add(fmt.Sprintf("routing.routes[%d].receiver", i), "no receiver is named %q", r.Receiver)
		}
	}

	uids := map[string]bool{}
	for i, d := range s.Dashboards {
		p := fmt.Sprintf("dashboards[%s]", name(d.UID, i))
		if d.UID == "" || len(d.UID) > 40 {
			add(p+".uid", "must be 1 to 40 characters (Grafana's limit)")
		}
		if uids[d.UID] {
			add(p+".uid", "declared twice")
		}
		uids[d.UID] = true
		if !strings.HasSuffix(d.File, ".json") {
			add(p+".file", "must be a .json file name")
		}
		for _, row := range d.Rows {
			for _, pn := range row.Panels {
				pp := fmt.Sprintf("%s.rows[%s].panels[%s]", p, row.Title, pn.Title)
				if len(pn.Queries) == 0 {
					add(pp, "has no query")
				}
				switch pn.Kind {
				case TimeSeries, Stat:
				default:
					add(pp+".kind", "%q is not timeseries or stat", pn.Kind)
				}
			}
		}
	}
	if s.DatasourceUID == "" {
		add("datasourceUID", "must not be empty: every panel references it")
	}
	s.checkScale(add)
	if len(ps) == 0 {
		return nil
	}
	return ps
}

func name(n string, i int) string {
	if n == "" {
		return fmt.Sprint(i)
	}
	return n
}

// checkHostPort accepts what Prometheus takes as a static target: host:port
// with no scheme or path (--api-address api-server:3000, not a URL).
func checkHostPort(t string) error {
	host, port, err := net.SplitHostPort(t)
	if err != nil || host == "" || strings.ContainsAny(host, "/?#@") {
		return errors.New("is not host:port (no scheme or path), e.g. api-server:3000")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return errors.New("has no port number from 1 to 65535")
	}
	return nil
}
