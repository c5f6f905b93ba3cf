package stack

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
	"github.com/prometheus/alertmanager/api/v2/client/general"
	promapi "github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/investiq/investiq-mon/spec"
)

// Report is what `status` shows. It holds URLs and states, never a
// credential, so it is safe to print as JSON.
type Report struct {
	Backend    string          `json:"backend"`
	Components []ComponentInfo `json:"components"`
	Containers []Container     `json:"containers,omitempty"`
	Targets    []TargetInfo    `json:"targets"`
	RuleGroups []RuleGroupInfo `json:"ruleGroups"`
	Alerts     []AlertInfo     `json:"alerts"`
	Health     HealthInfo      `json:"health"`
	// RequestRate and ErrorRate are the dashboard's top row over the last
	// Window, one point per Step (per second; NaN-free: gaps are dropped).
	RequestRate []float64     `json:"requestRate"`
	ErrorRate   []float64     `json:"errorRate"`
	Window      time.Duration `json:"-"`
	Step        time.Duration `json:"-"`
	// WindowSeconds and StepSeconds are Window and Step for JSON readers.
	WindowSeconds float64 `json:"windowSeconds"`
	StepSeconds   float64 `json:"stepSeconds"`
	// Errors are the requests that failed, so a half-broken stack still
	// shows what it can.
	Errors []string `json:"errors,omitempty"`
}

// ComponentInfo is one server of the stack.
type ComponentInfo struct {
	Name    string `json:"name"`
	URL     string `json:"url"`
	Up      bool   `json:"up"`
	Version string `json:"version,omitempty"`
	Error   string `json:"error,omitempty"`
	// Optional: the stack works without it (Grafana), so its being down
	// is not the stack's.
	Optional bool `json:"optional,omitempty"`
}

// TargetInfo is one scrape target.
type TargetInfo struct {
	Job        string    `json:"job"`
	Instance   string    `json:"instance"`
	Health     string    `json:"health"`
	LastError  string    `json:"lastError,omitempty"`
	LastScrape time.Time `json:"lastScrape"`
}

// RuleGroupInfo is one rule group and its rules' errors.
type RuleGroupInfo struct {
	Name   string   `json:"name"`
	File   string   `json:"file"`
	Rules  int      `json:"rules"`
	Errors []string `json:"errors,omitempty"`
}

// AlertInfo is one pending or firing alert.
type AlertInfo struct {
	Name     string            `json:"name"`
	State    string            `json:"state"`
	Labels   map[string]string `json:"labels"`
	ActiveAt time.Time         `json:"activeAt"`
}

// HealthInfo is InvestIQ's health row: each dependency up or down, and
// whether trading is active or halted ("unknown" without data).
type HealthInfo struct {
	Dependencies map[string]bool `json:"dependencies"`
	Trading      string          `json:"trading"`
}

// StatusOptions say where to look.
type StatusOptions struct {
	// ComposeFile, for the compose backend, lists containers too.
	ComposeFile string
	// Window of the sparklines (15m) and number of points (30).
	Window time.Duration
	Points int
	// Components are the spec's (Spec.Components); nil means the three
	// servers every stack has.
	Components []spec.Component
}

// CollectStatus asks the running stack what `status` shows. A component
// that does not answer is reported down, not returned as an error.
func CollectStatus(ctx context.Context, ep Endpoints, o StatusOptions) *Report {
	if o.Window <= 0 {
		o.Window = 15 * time.Minute
	}
	if o.Points <= 0 {
		o.Points = 30
	}
	r := &Report{Backend: ep.Backend, Window: o.Window, Step: o.Window / time.Duration(o.Points)}
	r.WindowSeconds, r.StepSeconds = r.Window.Seconds(), r.Step.Seconds()
	if ep.Backend == Compose && o.ComposeFile != "" {
		cs, err := composePS(ctx, o.ComposeFile)
		if err != nil {
			r.Errors = append(r.Errors, err.Error())
		}
		r.Containers = cs
	}

	// Every component: does it answer, and which version runs. The one
	// that answers Prometheus' API then gives targets, rules, alerts,
	// health and rates.
	comps := o.Components
	if comps == nil {
		comps = (&spec.Spec{}).Components()
	}
	var api v1.API
	promUp := false
	for _, c := range comps {
		u := ep.URL(c.Name)
		if u == "" && c.Optional {
			continue // not part of this stack
		}
		info := ComponentInfo{Name: c.Name, URL: u, Optional: c.Optional}
		v, a, err := probe(ctx, ep, c, u)
		if err != nil {
			info.Error = Explain(err, RequestTimeout).Error()
		} else {
			info.Up, info.Version = true, v
		}
		if a != nil && !promUp {
			api, promUp = a, info.Up
		}
		r.Components = append(r.Components, info)
	}

	r.Health = HealthInfo{Dependencies: map[string]bool{}, Trading: "unknown"}
	if !promUp {
		return r
	}
	add := func(what string, err error) {
		r.Errors = append(r.Errors, what+": "+err.Error())
	}
	if tr, err := api.Targets(ctx); err != nil {
		add("targets", err)
	} else {
		for _, t := range tr.Active {
			r.Targets = append(r.Targets, TargetInfo{
				Job: string(t.Labels[model.JobLabel]), Instance: string(t.Labels[model.InstanceLabel]),
				Health: string(t.Health), LastError: t.LastError, LastScrape: t.LastScrape,
			})
		}
		sort.Slice(r.Targets, func(i, j int) bool {
			return r.Targets[i].Job+r.Targets[i].Instance < r.Targets[j].Job+r.Targets[j].Instance
		})
	}
	if rr, err := api.Rules(ctx, nil); err != nil {
		add("rules", err)
	} else {
		for _, g := range rr.Groups {
			gi := RuleGroupInfo{Name: g.Name, File: g.File, Rules: len(g.Rules)}
			for _, rule := range g.Rules {
				switch ru := rule.(type) {
				case v1.AlertingRule:
					if ru.LastError != "" {
						gi.Errors = append(gi.Errors, ru.Name+": "+ru.LastError)
					}
				case v1.RecordingRule:
					if ru.LastError != "" {
						gi.Errors = append(gi.Errors, ru.Name+": "+ru.LastError)
					}
				}
			}
			r.RuleGroups = append(r.RuleGroups, gi)
		}
	}
	if ar, err := api.Alerts(ctx); err != nil {
		add("alerts", err)
	} else {
		for _, a := range ar.Alerts {
			labels := map[string]string{}
			for k, v := range a.Labels {
				labels[string(k)] = string(v)
			}
			r.Alerts = append(r.Alerts, AlertInfo{
				Name: string(a.Labels[model.AlertNameLabel]), State: string(a.State), Labels: labels, ActiveAt: a.ActiveAt,
			})
		}
		sort.Slice(r.Alerts, func(i, j int) bool { return r.Alerts[i].Name < r.Alerts[j].Name })
	}
	now := time.Now()
	if v, _, _, err := api.Query(ctx, "investiq_dependency_health", now); err != nil {
		add("dependency health", err)
	} else if vec, ok := v.(model.Vector); ok {
		for _, s := range vec {
			r.Health.Dependencies[string(s.Metric["name"])] = s.Value == 1
		}
	}
	if v, _, _, err := api.Query(ctx, "max(investiq_trading_halted)", now); err != nil {
		add("trading status", err)
	} else if vec, ok := v.(model.Vector); ok && len(vec) == 1 {
		r.Health.Trading = "active"
		if vec[0].Value == 1 {
			r.Health.Trading = "halted"
		}
	}
	rng := v1.Range{Start: now.Add(-o.Window), End: now, Step: r.Step}
	r.RequestRate = rangeValues(ctx, api, "sum(rate(investiq_requests_total[1m]))", rng, add)
	r.ErrorRate = rangeValues(ctx, api, "sum(rate(investiq_errors_total[1m]))", rng, add)
	return r
}

func rangeValues(ctx context.Context, api v1.API, q string, rng v1.Range, add func(string, error)) []float64 {
	v, _, _, err := api.QueryRange(ctx, q, rng)
	if err != nil {
		add(q, err)
		return nil
	}
	m, ok := v.(model.Matrix)
	if !ok || len(m) == 0 {
		return nil
	}
	out := make([]float64, 0, len(m[0].Values))
	for _, p := range m[0].Values {
		out = append(out, float64(p.Value))
	}
	return out
}

// probe asks component c at base URL u whether it answers, as its Probe
// says, and returns its version when the probe tells one. For Prometheus
// it also returns its API client.
func probe(ctx context.Context, ep Endpoints, c spec.Component, u string) (string, v1.API, error) {
	if u == "" {
		return "", nil, fmt.Errorf("no URL for %s", c.Name)
	}
	hc := httpClient("", "")
	if c.Auth {
		hc = httpClient(ep.User, ep.Password)
	}
	switch c.Probe {
	case spec.ProbePrometheus:
		pc, err := promapi.NewClient(promapi.Config{Address: u, Client: hc})
		if err != nil {
			return "", nil, err
		}
		api := v1.NewAPI(pc)
		bi, err := api.Buildinfo(ctx)
		if err != nil {
			return "", api, err
		}
		return version(bi.Version, bi.GoVersion), api, nil
	case spec.ProbeAlertmanager:
		v, err := alertmanagerVersion(ctx, u, hc)
		return v, nil, err
	default:
		return "", nil, Ready(ctx, hc, strings.TrimSuffix(u, "/")+c.ReadyPath)
	}
}

// ProbeComponent asks component c of the stack at ep whether it answers,
// as its Probe says (status and doctor), and returns its version when the
// probe tells one.
func ProbeComponent(ctx context.Context, ep Endpoints, c spec.Component) (string, error) {
	v, _, err := probe(ctx, ep, c, ep.URL(c.Name))
	return v, err
}

// alertmanagerVersion asks /api/v2/status through Alertmanager's own
// OpenAPI client.
func alertmanagerVersion(ctx context.Context, base string, hc *http.Client) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	tr := client.NewWithClient(u.Host, strings.TrimSuffix(u.Path, "/")+amclient.DefaultBasePath, []string{u.Scheme}, hc)
	c := amclient.New(tr, strfmt.Default)
	resp, err := c.General.GetStatus(general.NewGetStatusParamsWithContext(ctx))
	if err != nil {
		return "", err
	}
	if resp.Payload == nil || resp.Payload.VersionInfo == nil || resp.Payload.VersionInfo.Version == nil {
		return "", fmt.Errorf("no version in /api/v2/status")
	}
	vi := resp.Payload.VersionInfo
	return version(*vi.Version, deref(vi.GoVersion)), nil
}

// version names a build: servers built with `go build` (as make tools
// does) carry no version string, only the Go version.
func version(v, goVersion string) string {
	if v != "" {
		return v
	}
	if goVersion != "" {
		return "unversioned build (" + goVersion + ")"
	}
	return "unversioned build"
}

// BuildVersion is how status names a server's build (version above):
// for backup, which reports the same servers.
func BuildVersion(v, goVersion string) string { return version(v, goVersion) }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Dependencies lists InvestIQ's dependencies as the spec declares them, so
// the health row shows one that has never reported as unknown, not missing.
func Dependencies(s *spec.Spec) []string {
	m, ok := s.Metric("investiq_dependency_health")
	if !ok {
		return nil
	}
	l, ok := m.Label("name")
	if !ok {
		return nil
	}
	return slices.Clone(l.Values)
}
