package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/simulate"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// The end-to-end tests run exactly the README's walkthrough, through the
// CLI: generate, simulate, up --backend local, status, switch the
// simulator's scenario, and watch the alert reach a webhook (this test's
// HTTP server), on the real pinned Prometheus and Alertmanager.

// e2eInterval is the scrape and evaluation interval of the end-to-end
// stacks, set through spec.Settings, never by changing a rule: alerts keep
// their real `for`, so the latencies below are the production ones minus
// the (10s) default intervals.
const e2eInterval = time.Second

func e2eSpec(set spec.Settings) *spec.Spec {
	set.APIScrapeInterval = e2eInterval
	set.MLScrapeInterval = e2eInterval
	set.EvaluationInterval = e2eInterval
	return spec.InvestIQ(set)
}

// e2eStack is one generated, simulated and started stack in a temporary
// directory, on ports the test picked.
type e2eStack struct {
	t          *testing.T
	root       string
	dir        string
	state      string
	api, ml    string
	promPort   int
	amPort     int
	hook       *testutil.Webhook
	env        *secrets.Env
	spec       *spec.Spec
	stderr     *testutil.LockedBuffer // every CLI message of the run, for the leak test
	statusJSON []string               // every status --json output, for the leak test
	// newSpec builds the spec the CLI runs with; e2eSpec when nil.
	newSpec func(spec.Settings) *spec.Spec
}

// cli runs investiq-mon with args, as a user would.
func (e *e2eStack) cli(args ...string) (int, string) {
	e.t.Helper()
	var out testutil.LockedBuffer
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: e.stderr})
	f.Spec = e2eSpec
	if e.newSpec != nil {
		f.Spec = e.newSpec
	}
	code := Main(context.Background(), args, f)
	return code, out.String()
}

func startE2E(t *testing.T) *e2eStack {
	t.Helper()
	testutil.Bin(t, "prometheus")
	testutil.Bin(t, "alertmanager")
	root := t.TempDir()
	e := &e2eStack{
		t: t, root: root,
		dir:      filepath.Join(root, "monitoring"),
		state:    filepath.Join(root, ".investiq-mon"),
		api:      fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)),
		ml:       fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)),
		promPort: testutil.FreePort(t),
		amPort:   testutil.FreePort(t),
		hook:     testutil.NewWebhook(t),
		stderr:   &testutil.LockedBuffer{},
	}

	// 1. investiq-mon generate
	if code, _ := e.cli("generate", "--dir", e.dir); code != 0 {
		t.Fatalf("generate: exit %d\n%s", code, e.stderr)
	}
	// The webhook receiver's URL is a secret like any other: it goes into
	// .env, reaches Alertmanager as a file, and must appear nowhere else.
	e.spec = e2eSpec(spec.Settings{})
	env, err := secrets.Load(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Set(e.spec, "WEBHOOK_URL", e.hook.URL); err != nil {
		t.Fatal(err)
	}
	e.env = env

	// 2. investiq-mon simulate &
	ctx, cancel := context.WithCancel(context.Background())
	simDone := make(chan int)
	go func() {
		var out testutil.LockedBuffer
		f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: e.stderr})
		simDone <- Main(ctx, []string{"simulate", "--listen", e.api, "--ml-listen", e.ml, "--tick", "200ms"}, f)
	}()
	t.Cleanup(func() { cancel(); <-simDone })
	waitHTTP(t, "http://"+e.api+simulate.ScenarioPath, 10*time.Second)

	// 3. investiq-mon up --backend local
	code, _ := e.cli("up", "--backend", "local", "--dir", e.dir, "--state", e.state,
		"--api-address", e.api, "--ml-address", e.ml,
		"--prometheus-port", strconv.Itoa(e.promPort), "--alertmanager-port", strconv.Itoa(e.amPort), "--timeout", "90s")
	t.Cleanup(func() {
		if code, _ := e.cli("down", "--state", e.state); code != 0 {
			t.Errorf("down: exit %d\n%s", code, e.stderr)
		}
		if t.Failed() {
			for _, c := range []string{"prometheus", "alertmanager"} {
				data, _ := os.ReadFile(filepath.Join(e.state, "logs", c+".log"))
				t.Logf("%s log (end):\n%s", c, tail(string(data), 20))
			}
			t.Logf("CLI stderr:\n%s", e.stderr)
		}
	})
	if code != 0 {
		t.Fatalf("up --backend local: exit %d\n%s", code, e.stderr)
	}
	return e
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func waitHTTP(t *testing.T, u string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not answering after %s: %v", u, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// status runs `status --json` and decodes it.
func (e *e2eStack) status() (int, stack.Report) {
	e.t.Helper()
	code, out := e.cli("status", "--json", "--dir", e.dir, "--state", e.state)
	e.statusJSON = append(e.statusJSON, out)
	var r stack.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		e.t.Fatalf("status --json: %v\n%s", err, out)
	}
	return code, r
}

// scenario switches the simulator as the README does with curl.
func (e *e2eStack) scenario(name string) time.Time {
	e.t.Helper()
	resp, err := http.PostForm("http://"+e.api+simulate.ScenarioPath, url.Values{"name": {name}})
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("switch to %s: %s", name, resp.Status)
	}
	return time.Now()
}

// healthyPhase waits until every target is up, then keeps the stack
// healthy for longer than the shortest `for` plus the pipeline's delays,
// and checks that nothing was pending, firing or delivered.
func (e *e2eStack) healthyPhase(d time.Duration) {
	t := e.t
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, r := e.status()
		up := 0
		for _, tg := range r.Targets {
			if tg.Health == "up" {
				up++
			}
		}
		if code == 0 && up == len(r.Targets) && up == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("targets not all up after 30s: %+v", r.Targets)
		}
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(d)
	code, r := e.status()
	if code != 0 {
		t.Fatalf("status: exit %d", code)
	}
	for _, c := range r.Components {
		if c.Name != stack.Grafana && (!c.Up || c.Version == "") {
			t.Errorf("status: component %+v, want up with a version", c)
		}
	}
	if len(r.Alerts) != 0 {
		t.Errorf("healthy for %s, yet alerts are pending or firing: %+v", d, r.Alerts)
	}
	for _, g := range r.RuleGroups {
		if len(g.Errors) > 0 {
			t.Errorf("rule group %s has errors: %v", g.Name, g.Errors)
		}
	}
	if r.Health.Trading != "active" || len(r.Health.Dependencies) != 5 {
		t.Errorf("health row: %+v, want trading active and 5 dependencies", r.Health)
	}
	for name, up := range r.Health.Dependencies {
		if !up {
			t.Errorf("dependency %s down while healthy", name)
		}
	}
	if len(r.RequestRate) == 0 {
		t.Error("status has no request-rate sparkline data")
	}
	if msgs := e.hook.Messages(); len(msgs) != 0 {
		t.Errorf("healthy stack delivered %d notifications, first: %+v", len(msgs), msgs[0])
	}
}

// latency is one alert's measured detection time and its bound.
type latency struct {
	Alert    string
	For      time.Duration
	Measured time.Duration
	Bound    time.Duration
	Resolved time.Duration
}

var (
	latencyMu sync.Mutex
	latencies []latency
)

// bound is the worst case from the condition starting to the webhook:
// the next scrape sees it, the next evaluation makes it pending, `for`
// later an evaluation makes it firing, Alertmanager holds a new group
// for group_wait. The margin covers the lag of rate()'s window (about 3s
// for HighErrorRate at 2 errors/s: 0.1/s x 60s / 2/s), the evaluation that
// turns pending into firing, the simulator's tick and the HTTP hops.
func bound(s *spec.Spec, a spec.Alert) time.Duration {
	const margin = 3*e2eInterval + 10*time.Second
	return e2eInterval + s.EvaluationInterval + a.For + s.Routing.GroupWait + margin
}

func (e *e2eStack) alert(name string) spec.Alert {
	for _, a := range e.spec.Alerts {
		if a.Name == name {
			return a
		}
	}
	e.t.Fatalf("spec has no alert %s", name)
	return spec.Alert{}
}

// fireAndResolve switches to scenario, waits for the alert's firing
// notification and checks it, then back to healthy and waits for the
// resolved one.
func (e *e2eStack) fireAndResolve(scenario, alertName string, wantLabels map[string]string) latency {
	t := e.t
	a := e.alert(alertName)
	b := bound(e.spec, a)
	start := e.scenario(scenario)
	ctx, cancel := context.WithTimeout(context.Background(), b+time.Minute)
	defer cancel()
	msg, ok := e.hook.WaitFor(ctx, func(m testutil.WebhookMessage) bool {
		_, ok := m.Alert(alertName, "firing")
		return ok
	})
	if !ok {
		_, r := e.status()
		t.Fatalf("%s: no firing %s at the webhook within %s; alerts in Prometheus: %+v", scenario, alertName, b+time.Minute, r.Alerts)
	}
	got := latency{Alert: alertName, For: a.For, Measured: msg.Received.Sub(start), Bound: b}
	if got.Measured < a.For {
		t.Errorf("%s delivered after %s, before its for (%s)", alertName, got.Measured, a.For)
	}
	if got.Measured > b {
		t.Errorf("%s delivered after %s, beyond the bound %s", alertName, got.Measured, b)
	}
	fired, _ := msg.Alert(alertName, "firing")
	if msg.Version != "4" || msg.Receiver != "webhook" || msg.Status != "firing" {
		t.Errorf("payload version %q receiver %q status %q, want 4 webhook firing", msg.Version, msg.Receiver, msg.Status)
	}
	for k, v := range wantLabels {
		if fired.Labels[k] != v {
			t.Errorf("%s label %s = %q, want %q (labels %v)", alertName, k, fired.Labels[k], v, fired.Labels)
		}
	}
	for _, k := range []string{"summary", "description", "action", "runbook_url"} {
		if fired.Annotations[k] == "" {
			t.Errorf("%s has no %s annotation: %v", alertName, k, fired.Annotations)
		}
	}
	if want := fmt.Sprintf("http://127.0.0.1:%d/", e.promPort); !strings.HasPrefix(fired.GeneratorURL, want) {
		t.Errorf("%s generatorURL %q does not link to this Prometheus (%s)", alertName, fired.GeneratorURL, want)
	}
	if fired.Annotations["summary"] != a.Summary {
		t.Errorf("%s summary %q, want %q", alertName, fired.Annotations["summary"], a.Summary)
	}
	if !strings.HasSuffix(fired.Annotations["runbook_url"], "#"+strings.ToLower(alertName)) {
		t.Errorf("%s runbook_url %q does not point at its section", alertName, fired.Annotations["runbook_url"])
	}
	// status shows it firing too.
	_, r := e.status()
	if !slices.ContainsFunc(r.Alerts, func(x stack.AlertInfo) bool { return x.Name == alertName && x.State == "firing" }) {
		t.Errorf("status does not show %s firing: %+v", alertName, r.Alerts)
	}

	recovered := e.scenario(simulate.Healthy)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel2()
	res, ok := e.hook.WaitFor(ctx2, func(m testutil.WebhookMessage) bool {
		_, ok := m.Alert(alertName, "resolved")
		return ok
	})
	if !ok {
		t.Fatalf("no resolved %s within 3m of recovery", alertName)
	}
	got.Resolved = res.Received.Sub(recovered)
	t.Logf("%s: delivered %s after the condition started (bound %s = scrape %s + eval %s + for %s + group_wait %s + margin); resolved %s after recovery",
		alertName, got.Measured.Round(100*time.Millisecond), b, e2eInterval, e.spec.EvaluationInterval, a.For, e.spec.Routing.GroupWait, got.Resolved.Round(100*time.Millisecond))
	latencyMu.Lock()
	latencies = append(latencies, got)
	latencyMu.Unlock()
	return got
}

// leakCheck greps everything a person or a log collector could see for
// the secrets: every file under the state directory except the secrets
// directory (rendered configs, state.json, pid files, the servers' logs),
// the CLI's messages and every status --json, and the servers' argv.
func (e *e2eStack) leakCheck() {
	t := e.t
	values := e.env.Values(e.spec)
	if len(values) < 3 {
		t.Fatalf("only %d secret values to look for; the leak test would prove nothing", len(values))
	}
	look := func(where string, data []byte) {
		for i, v := range values {
			if bytes.Contains(data, []byte(v)) {
				t.Errorf("secret #%d (of .env) found in %s", i, where)
			}
		}
	}
	secretsDir := filepath.Join(e.state, "secrets")
	files := 0
	filepath.WalkDir(e.state, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Error(err)
			return nil
		}
		if d.IsDir() {
			if p == secretsDir {
				return filepath.SkipDir
			}
			// TSDB and nflog data hold samples, not configuration.
			if p == filepath.Join(e.state, "data") {
				return filepath.SkipDir
			}
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
			return nil
		}
		files++
		look(p, data)
		return nil
	})
	if files < 8 {
		t.Errorf("leak test read only %d files under %s", files, e.state)
	}
	look("the CLI's stderr", []byte(e.stderr.String()))
	for _, s := range e.statusJSON {
		look("status --json", []byte(s))
	}
	for _, c := range []string{"prometheus", "alertmanager"} {
		pidData, err := os.ReadFile(filepath.Join(e.state, "run", c+".pid"))
		if err != nil {
			t.Errorf("%s pid file: %v", c, err)
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + strings.TrimSpace(string(pidData)) + "/cmdline")
		if err != nil {
			t.Errorf("%s cmdline: %v", c, err)
			continue
		}
		look(c+"'s argv", cmdline)
	}
}

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: several minutes on real servers")
	}
	t.Run("alerts", func(t *testing.T) {
		// Each scenario has its own stack, so the 2-minute wait of
		// HighErrorRate runs alongside the others.
		t.Run("halted", func(t *testing.T) {
			t.Parallel()
			e := startE2E(t)

			// Issue 8 on the running stack: anonymous requests refused.
			for _, u := range []string{
				fmt.Sprintf("http://127.0.0.1:%d/api/v1/query?query=up", e.promPort),
				fmt.Sprintf("http://127.0.0.1:%d/api/v2/alerts", e.amPort),
			} {
				resp, err := http.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("anonymous GET %s: %s, want 401", u, resp.Status)
				}
			}
			// `up` again on unchanged files does nothing.
			code, _ := e.cli("up", "--backend", "local", "--dir", e.dir, "--state", e.state,
				"--api-address", e.api, "--ml-address", e.ml,
				"--prometheus-port", strconv.Itoa(e.promPort), "--alertmanager-port", strconv.Itoa(e.amPort))
			if code != 0 || !strings.Contains(e.stderr.String(), "nothing to do") {
				t.Errorf("second up: exit %d, want 0 and nothing to do:\n%s", code, e.stderr)
			}

			e.healthyPhase(40 * time.Second)
			// The table form is what a person reads.
			if code, out := e.cli("status", "--dir", e.dir, "--state", e.state); code != 0 ||
				!strings.Contains(out, "InvestIQ health") || !strings.Contains(out, "investiq.alerts") {
				t.Errorf("status: exit %d\n%s", code, out)
			}
			e.fireAndResolve(simulate.Halted, "CircuitBreakerTripped", map[string]string{
				"alertname": "CircuitBreakerTripped", "severity": "critical", "component": "trading",
			})
			e.leakCheck()
		})
		t.Run("errors", func(t *testing.T) {
			t.Parallel()
			e := startE2E(t)
			e.healthyPhase(20 * time.Second)
			e.fireAndResolve(simulate.Errors, "HighErrorRate", map[string]string{
				"alertname": "HighErrorRate", "severity": "warning", "component": "api",
			})
			e.leakCheck()
		})
	})
	latencyMu.Lock()
	defer latencyMu.Unlock()
	t.Logf("%-22s %8s %10s %8s %10s", "alert", "for", "measured", "bound", "resolved")
	for _, l := range latencies {
		t.Logf("%-22s %8s %10s %8s %10s", l.Alert, l.For, l.Measured.Round(100*time.Millisecond), l.Bound, l.Resolved.Round(100*time.Millisecond))
	}
}
