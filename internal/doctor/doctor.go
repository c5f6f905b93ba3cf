// Package doctor walks the troubleshooting steps a person would otherwise
// do by hand when an alert does not arrive or a panel stays empty, in the
// order data flows: the API exposes its metrics, Prometheus scrapes them,
// its rules load, it reaches Alertmanager, Grafana's dashboards point at
// the provisioned datasource, and the files on disk are what the spec
// renders. Each step passes or fails with what to do about it.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/investiq/investiq-mon/internal/expocheck"
	"github.com/investiq/investiq-mon/internal/files"
	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/spec"
)

// Status of one check.
type Status string

const (
	Pass Status = "pass"
	Fail Status = "fail"
	// Skip is a check that could not run because an earlier one failed
	// (Prometheus did not answer); it is not a pass.
	Skip Status = "skip"
)

// Check names, stable for scripts and tests.
const (
	CheckAPI          = "api"
	CheckComponents   = "components"
	CheckTargets      = "targets"
	CheckRules        = "rules"
	CheckAlertmanager = "alertmanager"
	CheckGrafana      = "grafana"
	CheckFiles        = "files"
)

// Result is the outcome of one check.
type Result struct {
	Check   string   `json:"check"`
	Title   string   `json:"title"`
	Status  Status   `json:"status"`
	Summary string   `json:"summary"`
	Details []string `json:"details,omitempty"`
	// Fix says what to do when the check did not pass.
	Fix string `json:"fix,omitempty"`
}

// Options say what to check and where. Endpoints carry the stack's
// password; it is only ever put in a request's Authorization header.
type Options struct {
	Spec *spec.Spec
	// Dir is the generated stack (monitoring/).
	Dir string
	// APIURL is the InvestIQ API's /metrics as seen from here.
	APIURL    string
	Endpoints stack.Endpoints
	// EndpointsErr is why the credentials could not be loaded (no .env):
	// named in the fixes of the checks that need them.
	EndpointsErr error
	// Timeout bounds each request; zero means 10s.
	Timeout time.Duration
	// SpecFlags are the flags that changed the spec from its defaults
	// (e.g. "--api-address 127.0.0.1:18000"): the files check compares
	// Dir with the spec they build, as `generate --check` does, and names
	// them when Dir differs, since files generated without them do.
	SpecFlags []string
	// NotificationWindow is how far back failed notifications count;
	// zero means 5m.
	NotificationWindow time.Duration
}

// Failed reports whether any check did not pass.
func Failed(results []Result) bool {
	return slices.ContainsFunc(results, func(r Result) bool { return r.Status != Pass })
}

// Run runs every check, in the order a person would troubleshoot.
func Run(ctx context.Context, o Options) []Result {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.NotificationWindow <= 0 {
		o.NotificationWindow = 5 * time.Minute
	}
	d := &doctor{o: o, auth: stack.HTTPClient(o.Endpoints.User, o.Endpoints.Password, o.Timeout)}
	results := []Result{d.api(ctx), d.components(ctx)}
	prom, promErr := d.prometheus(ctx)
	if promErr != nil {
		results = append(results, d.promDown(CheckTargets, "Prometheus scrapes every target", promErr))
		skip := func(check, title string) Result {
			return Result{Check: check, Title: title, Status: Skip, Summary: "skipped: Prometheus did not answer (see above)",
				Fix: "make Prometheus answer first, then run doctor again"}
		}
		results = append(results, skip(CheckRules, titleRules), skip(CheckAlertmanager, titleAlertmanager))
	} else {
		results = append(results, d.targets(ctx, prom), d.rules(ctx, prom), d.alertmanager(ctx, prom))
	}
	return append(results, d.grafana(ctx), d.rendered())
}

type doctor struct {
	o    Options
	auth *http.Client
}

const (
	titleAPI          = "The API's /metrics exposes the spec's metrics"
	titleComponents   = "Every component of the stack answers"
	titleRules        = "Prometheus loaded the rule files without errors"
	titleAlertmanager = "Prometheus is connected to Alertmanager"
	titleGrafana      = "Grafana's dashboards use the provisioned datasource uid"
	titleFiles        = "The generated files match the spec"
)

func (d *doctor) api(ctx context.Context) Result {
	r := Result{Check: CheckAPI, Title: titleAPI}
	fams, err := expocheck.Fetch(ctx, &http.Client{Timeout: d.o.Timeout}, d.o.APIURL)
	if err != nil {
		r.Status, r.Summary = Fail, err.Error()
		if stack.TimedOut(err) {
			r.Summary = fmt.Sprintf("%s %s", d.o.APIURL, stack.Explain(err, d.o.Timeout))
		}
		r.Fix = "start the InvestIQ API, or `investiq-mon simulate` for a stand-in; if it listens elsewhere, pass --api-url http://HOST:PORT/metrics"
		return r
	}
	rep := expocheck.Check(d.o.Spec, spec.JobAPI, fams)
	if rep.SpecFailed() {
		r.Status = Fail
		problems := rep.SpecProblems()
		r.Summary = fmt.Sprintf("%s: %d problem(s) against the spec", d.o.APIURL, len(problems))
		for _, p := range problems {
			r.Details = append(r.Details, p.String())
		}
		r.Fix = "the API must expose what spec/investiq.go declares: fix the API, or change the spec and run `investiq-mon generate`; `investiq-mon check-metrics " + d.o.APIURL + "` lists every finding"
		return r
	}
	n := 0
	for _, m := range d.o.Spec.Metrics {
		if m.Job == spec.JobAPI {
			n++
		}
	}
	r.Status = Pass
	r.Summary = fmt.Sprintf("%s exposes all %d metrics of job %s as the spec declares them", d.o.APIURL, n, spec.JobAPI)
	if lint := rep.Count(expocheck.Lint); lint > 0 {
		r.Summary += fmt.Sprintf(" (%d lint finding(s): run `investiq-mon check-metrics %s`)", lint, d.o.APIURL)
	}
	return r
}

// components asks every component of the spec's topology whether it
// answers, as status does. An optional one (Grafana) that does not is
// said, not failed: the stack works without it.
func (d *doctor) components(ctx context.Context) Result {
	r := Result{Check: CheckComponents, Title: titleComponents}
	var up, optionalDown []string
	failed := 0
	for _, c := range d.o.Spec.Components() {
		u := d.o.Endpoints.URL(c.Name)
		if u == "" && c.Optional {
			continue // not part of this stack
		}
		var err error
		if u == "" {
			err = errors.New("no URL: the state file does not record it")
		} else {
			ctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
			_, err = stack.ProbeComponent(ctx, d.o.Endpoints, c)
			cancel()
		}
		switch {
		case err == nil:
			up = append(up, c.Name)
		case c.Optional:
			optionalDown = append(optionalDown, c.Name)
		default:
			failed++
			r.Details = append(r.Details, fmt.Sprintf("%s at %s: %v", c.Name, u, stack.Explain(err, d.o.Timeout)))
		}
	}
	note := ""
	if len(optionalDown) > 0 {
		note = fmt.Sprintf(" (%s does not answer; the stack works without it)", strings.Join(optionalDown, ", "))
	}
	if failed > 0 {
		r.Status = Fail
		r.Summary = fmt.Sprintf("%d component(s) do not answer%s", failed, note)
		r.Fix = "start the stack with `investiq-mon up` (`investiq-mon status` shows what runs; a component's log is in the state directory's logs/)"
		if d.o.EndpointsErr != nil {
			r.Fix = fmt.Sprintf("the stack's credentials could not be loaded (%v); run `investiq-mon generate`, then `investiq-mon up`", d.o.EndpointsErr)
		}
		return r
	}
	r.Status, r.Summary = Pass, fmt.Sprintf("%s answer%s", strings.Join(up, ", "), note)
	return r
}

// prometheus returns an API client once Prometheus has answered.
func (d *doctor) prometheus(ctx context.Context) (v1.API, error) {
	if d.o.Endpoints.Prometheus == "" {
		return nil, errors.New("no Prometheus URL")
	}
	c, err := promapi.NewClient(promapi.Config{Address: d.o.Endpoints.Prometheus, Client: d.auth})
	if err != nil {
		return nil, err
	}
	api := v1.NewAPI(c)
	if _, err := api.Buildinfo(ctx); err != nil {
		// Explain drops the URL the message repeats, and says what a
		// timeout means.
		err = stack.Explain(err, d.o.Timeout)
		//lint:ignore ST1005 the error is the first sentence of a check's report, which names the server
		return nil, fmt.Errorf("Prometheus at %s: %w", d.o.Endpoints.Prometheus, err)
	}
	return api, nil
}

func (d *doctor) promDown(check, title string, err error) Result {
	r := Result{Check: check, Title: title, Status: Fail, Summary: err.Error()}
	switch {
	case d.o.EndpointsErr != nil:
		r.Fix = fmt.Sprintf("the stack's credentials could not be loaded (%v); run `investiq-mon generate`, then `investiq-mon up`", d.o.EndpointsErr)
	case unauthorized(err):
		r.Fix = "Prometheus refused the stack's credentials: the password in " + d.o.Dir + "/.env is not the one the running stack was started with; run `investiq-mon up` to apply it"
	default:
		r.Fix = "start the stack with `investiq-mon up` (`investiq-mon status` shows what runs); if Prometheus listens elsewhere, pass --prometheus-url"
	}
	return r
}

func unauthorized(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "Unauthorized"))
}

func (d *doctor) targets(ctx context.Context, api v1.API) Result {
	r := Result{Check: CheckTargets, Title: "Prometheus scrapes every target"}
	res, err := api.Targets(ctx)
	if err != nil {
		return d.promDown(CheckTargets, r.Title, fmt.Errorf("GET /api/v1/targets: %w", stack.Explain(err, d.o.Timeout)))
	}
	var fixes []string
	total, down := 0, 0
	for _, j := range d.o.Spec.Jobs {
		var ts []v1.ActiveTarget
		for _, t := range res.Active {
			if t.ScrapePool == j.Name {
				ts = append(ts, t)
			}
		}
		if len(ts) == 0 {
			down++
			r.Details = append(r.Details, fmt.Sprintf("job %s: no target at all: Prometheus does not run the generated prometheus.yml", j.Name))
			fixes = appendOnce(fixes, "run `investiq-mon generate` and `investiq-mon up` so Prometheus loads the spec's scrape jobs")
			continue
		}
		for _, t := range ts {
			total++
			if t.Health == v1.HealthGood {
				continue
			}
			down++
			why := t.LastError
			if t.Health == v1.HealthUnknown {
				why = "not scraped yet; run doctor again after one scrape interval (" + model.Duration(j.Interval).String() + ")"
			}
			r.Details = append(r.Details, fmt.Sprintf("job %s, %s: %s: %s", j.Name, t.ScrapeURL, t.Health, why))
			fixes = appendOnce(fixes, targetFix(j))
		}
	}
	if down > 0 {
		r.Status = Fail
		r.Summary = fmt.Sprintf("%d of %d target(s) not up", down, max(total, down))
		r.Fix = strings.Join(fixes, "; ")
		return r
	}
	r.Status, r.Summary = Pass, fmt.Sprintf("all %d targets of %d jobs are up", total, len(d.o.Spec.Jobs))
	return r
}

func targetFix(j spec.ScrapeJob) string {
	addr := strings.Join(j.Targets, ", ")
	switch {
	case j.Name == spec.JobAPI:
		return "start the InvestIQ API at " + addr + " (or `investiq-mon simulate` for a stand-in)"
	case j.Name == spec.JobML:
		return "start the ML signal-models service at " + addr + " (`investiq-mon simulate` serves a stand-in)"
	case j.StackAuth:
		return "check that " + j.Name + " runs at " + addr + "; a 401 means its web config and the password file Prometheus reads disagree: run `investiq-mon up` again"
	default:
		return "check that " + j.Name + " runs at " + addr + " and is reachable from Prometheus"
	}
}

func appendOnce(xs []string, x string) []string {
	if slices.Contains(xs, x) {
		return xs
	}
	return append(xs, x)
}

func (d *doctor) rules(ctx context.Context, api v1.API) Result {
	r := Result{Check: CheckRules, Title: titleRules}
	rt, err := api.Runtimeinfo(ctx)
	if err != nil {
		return d.promDown(CheckRules, r.Title, fmt.Errorf("GET /api/v1/status/runtimeinfo: %w", stack.Explain(err, d.o.Timeout)))
	}
	if !rt.ReloadConfigSuccess {
		r.Details = append(r.Details, fmt.Sprintf("the last configuration reload failed (%s): Prometheus keeps running the configuration and rules it had before", rt.LastConfigTime.UTC().Format(time.RFC3339)))
	}
	res, err := api.Rules(ctx, nil)
	if err != nil {
		return d.promDown(CheckRules, r.Title, fmt.Errorf("GET /api/v1/rules: %w", stack.Explain(err, d.o.Timeout)))
	}
	loaded := map[string]bool{}
	n := 0
	for _, g := range res.Groups {
		for _, rule := range g.Rules {
			n++
			switch rule := rule.(type) {
			case v1.AlertingRule:
				loaded[rule.Name] = true
				if rule.Health == v1.RuleHealthBad || rule.LastError != "" {
					r.Details = append(r.Details, fmt.Sprintf("%s: alert %s: %s", g.File, rule.Name, rule.LastError))
				}
			case v1.RecordingRule:
				if rule.Health == v1.RuleHealthBad || rule.LastError != "" {
					r.Details = append(r.Details, fmt.Sprintf("%s: record %s: %s", g.File, rule.Name, rule.LastError))
				}
			}
		}
	}
	for _, a := range d.o.Spec.Alerts {
		if !loaded[a.Name] {
			r.Details = append(r.Details, fmt.Sprintf("alert %s of the spec is not loaded", a.Name))
		}
	}
	if len(r.Details) > 0 {
		r.Status = Fail
		r.Summary = fmt.Sprintf("%d problem(s) with the rules Prometheus runs", len(r.Details))
		r.Fix = "run `investiq-mon generate --check` and `promtool check rules` on the rule files (Prometheus' log names the error), restore them with `investiq-mon generate`, then `investiq-mon up` to reload"
		return r
	}
	r.Status = Pass
	r.Summary = fmt.Sprintf("%d rule(s) in %d group(s) loaded and healthy, including all %d alerts of the spec", n, len(res.Groups), len(d.o.Spec.Alerts))
	return r
}

func (d *doctor) alertmanager(ctx context.Context, api v1.API) Result {
	r := Result{Check: CheckAlertmanager, Title: titleAlertmanager, Status: Fail}
	res, err := api.AlertManagers(ctx)
	if err != nil {
		return d.promDown(CheckAlertmanager, r.Title, fmt.Errorf("GET /api/v1/alertmanagers: %w", stack.Explain(err, d.o.Timeout)))
	}
	if len(res.Active) == 0 {
		r.Summary = "Prometheus has no active Alertmanager: alerts fire but reach nobody"
		r.Fix = "the alerting section of prometheus.yml names none; run `investiq-mon generate` and `investiq-mon up`"
		return r
	}
	var active []string
	for _, am := range res.Active {
		active = append(active, am.URL)
	}
	sends := "Prometheus sends alerts to " + strings.Join(active, ", ")

	// Prometheus lists a configured Alertmanager as active whether or not
	// it answers, so ask Alertmanager itself.
	amURL := strings.TrimSuffix(d.o.Endpoints.Alertmanager, "/")
	if err := stack.Ready(ctx, d.auth, amURL+"/-/ready"); err != nil {
		r.Summary = sends + ", but Alertmanager does not answer: " + stack.Explain(err, d.o.Timeout).Error()
		r.Fix = "start the stack with `investiq-mon up`; its log says why Alertmanager stopped (`investiq-mon status`); if it listens elsewhere, pass --alertmanager-url"
		if unauthorized(err) {
			r.Fix = "Alertmanager refused the stack's credentials: run `investiq-mon up` so it loads the web config of " + d.o.Dir + "/.env"
		}
		return r
	}
	if d.o.Endpoints.Backend == stack.Local {
		if u, err := url.Parse(amURL); err == nil && !slices.ContainsFunc(active, func(a string) bool { return strings.Contains(a, "//"+u.Host+"/") }) {
			r.Summary = sends + ", but the stack's Alertmanager is at " + amURL
			r.Fix = "Prometheus runs an older configuration: run `investiq-mon up` to apply the generated one"
			return r
		}
	}
	// Failed deliveries show in Prometheus' own metrics (it scrapes
	// itself); without that job there is simply no evidence either way.
	q := fmt.Sprintf("sum by (alertmanager) (increase(prometheus_notifications_errors_total[%s])) > 0", model.Duration(d.o.NotificationWindow))
	if v, _, _, err := api.Query(ctx, q, time.Now()); err == nil {
		if vec, ok := v.(model.Vector); ok && len(vec) > 0 {
			for _, s := range vec {
				r.Details = append(r.Details, fmt.Sprintf("%s: %.0f notification(s) failed in the last %s", s.Metric["alertmanager"], float64(s.Value), model.Duration(d.o.NotificationWindow)))
			}
			r.Summary = sends + ", but deliveries fail"
			r.Fix = "Prometheus' log says why; a 401 means the password file Prometheus reads and Alertmanager's web config disagree: run `investiq-mon up`"
			return r
		}
	}
	r.Status = Pass
	r.Summary = sends + "; Alertmanager at " + amURL + " is ready"
	return r
}

func (d *doctor) rendered() Result {
	r := Result{Check: CheckFiles, Title: titleFiles}
	rendered, err := render.Render(d.o.Spec)
	if err != nil {
		r.Status, r.Summary = Fail, "the spec does not render: "+err.Error()
		r.Fix = "fix spec/investiq.go; `investiq-mon validate` explains"
		return r
	}
	drifts, err := files.Check(d.o.Dir, rendered)
	if err != nil {
		r.Status, r.Summary = Fail, err.Error()
		r.Fix = "make " + d.o.Dir + " readable, or pass --dir"
		return r
	}
	if len(drifts) > 0 {
		r.Status = Fail
		r.Summary = fmt.Sprintf("%d of %d files in %s differ from the spec", len(drifts), len(rendered), d.o.Dir)
		for _, dr := range drifts {
			r.Details = append(r.Details, d.o.Dir+"/"+dr.Path+": "+dr.Reason)
		}
		flags := ""
		if len(d.o.SpecFlags) > 0 {
			flags = " " + strings.Join(d.o.SpecFlags, " ")
		}
		r.Fix = "hand edits belong in spec/investiq.go: run `investiq-mon generate" + flags + " --dir " + d.o.Dir + "` (`generate --check --diff` shows what changes), then `investiq-mon up` to apply"
		if len(d.o.SpecFlags) > 0 {
			r.Fix += "; the files were compared with the spec built with" + flags + ": if " + d.o.Dir +
				" was generated without them, run doctor without them too (to say where the API is, use --api-url)"
		}
		return r
	}
	r.Status, r.Summary = Pass, fmt.Sprintf("all %d files in %s match the spec", len(rendered), d.o.Dir)
	return r
}
