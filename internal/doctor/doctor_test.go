package doctor_test

import (
	"bytes"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/muesli/termenv"

	"github.com/investiq/investiq-mon/internal/doctor"
	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/simulate"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/internal/testutil"
)

// env is a real stack on loopback ports the test picked: the simulator as
// the API and ML service, Prometheus and (optionally) Alertmanager on the
// files rendered from the spec, scraping and evaluating every second.
type env struct {
	rs   *testutil.RenderedStack
	sim  *simulate.Simulator
	opts doctor.Options
}

func startEnv(t *testing.T, withAlertmanager bool) *env {
	t.Helper()
	rs, sim, apiURL := testutil.SimulatedStack(t)
	if withAlertmanager {
		testutil.StartAlertmanager(t, rs)
	}
	testutil.StartPrometheus(t, rs)
	return &env{rs: rs, sim: sim, opts: doctor.Options{
		Spec: rs.Spec, Dir: rs.Dir, APIURL: apiURL,
		Endpoints: stack.Endpoints{
			Backend: stack.Local, Prometheus: rs.PrometheusURL(), Alertmanager: rs.AlertmanagerURL(),
			User: rs.User, Password: rs.Password,
		},
		Timeout: 5 * time.Second,
	}}
}

func itoa(n int) string { return strconv.Itoa(n) }

func result(t *testing.T, rs []doctor.Result, check string) doctor.Result {
	t.Helper()
	for _, r := range rs {
		if r.Check == check {
			return r
		}
	}
	t.Fatalf("no %s check in %v", check, rs)
	return doctor.Result{}
}

// waitFor runs doctor until check reaches status (Prometheus needs a
// scrape or an evaluation to notice a change), and returns that run.
func waitFor(t *testing.T, o doctor.Options, check string, status doctor.Status) []doctor.Result {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rs := doctor.Run(t.Context(), o)
		if result(t, rs, check).Status == status || time.Now().After(deadline) {
			if got := result(t, rs, check); got.Status != status {
				t.Fatalf("%s stayed %s, want %s:\n%s", check, got.Status, status, report(rs))
			}
			return rs
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func report(rs []doctor.Result) string {
	var b bytes.Buffer
	doctor.Write(&b, rs, termenv.Ascii)
	return b.String()
}

// expect asserts check's status and that its summary, details and fix
// together mention every one of want.
func expect(t *testing.T, rs []doctor.Result, check string, status doctor.Status, want ...string) {
	t.Helper()
	r := result(t, rs, check)
	if r.Status != status {
		t.Errorf("%s: %s, want %s:\n%s", check, r.Status, status, report(rs))
		return
	}
	text := r.Summary + "\n" + strings.Join(r.Details, "\n") + "\n" + r.Fix
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s does not mention %q:\n%s", check, w, report(rs))
		}
	}
	if status != doctor.Pass && r.Fix == "" {
		t.Errorf("%s failed without a fix", check)
	}
}

// copyDir copies the generated stack with its file modes, so a test can
// break the copy without touching what the running servers read.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "monitoring")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, info.Mode().Perm())
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, data, info.Mode().Perm()); err != nil {
			return err
		}
		return os.Chmod(target, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	info, _ := os.Stat(path)
	if err := os.WriteFile(path, bytes.ReplaceAll(data, []byte(old), []byte(new)), info.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
}

func TestDoctorOnARunningStack(t *testing.T) {
	e := startEnv(t, true)

	t.Run("a healthy stack passes every check", func(t *testing.T) {
		rs := waitFor(t, e.opts, doctor.CheckTargets, doctor.Pass)
		for _, r := range rs {
			if r.Status != doctor.Pass {
				t.Errorf("%s: %s: %s %v", r.Check, r.Status, r.Summary, r.Details)
			}
		}
		if doctor.Failed(rs) {
			t.Error("Failed() on a healthy stack")
		}
		expect(t, rs, doctor.CheckRules, doctor.Pass, "all "+strconv.Itoa(len(e.rs.Spec.Alerts))+" alerts")
		expect(t, rs, doctor.CheckAlertmanager, doctor.Pass, e.rs.AlertmanagerURL())
	})

	t.Run("the API down fails the API check", func(t *testing.T) {
		o := e.opts
		o.APIURL = "http://127.0.0.1:" + itoa(testutil.FreePort(t)) + "/metrics"
		rs := doctor.Run(t.Context(), o)
		expect(t, rs, doctor.CheckAPI, doctor.Fail, o.APIURL, "connection refused", "investiq-mon simulate")
		if !doctor.Failed(rs) {
			t.Error("Failed() is false with the API down")
		}
	})

	t.Run("an API exposing the wrong metrics fails the API check, naming them", func(t *testing.T) {
		wrong := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			w.Write([]byte("# HELP investiq_requests_total x\n# TYPE investiq_requests_total gauge\ninvestiq_requests_total{route=\"/\"} 1\n"))
		}))
		defer wrong.Close()
		o := e.opts
		o.APIURL = wrong.URL + "/metrics"
		rs := doctor.Run(t.Context(), o)
		expect(t, rs, doctor.CheckAPI, doctor.Fail, "investiq_requests_total: wrong type", "investiq_trades_total: missing", `unexpected label "route"`, "check-metrics")
	})

	t.Run("a target down fails the targets check with Prometheus' error, and recovers", func(t *testing.T) {
		if err := e.sim.SetScenario(simulate.MLDown); err != nil {
			t.Fatal(err)
		}
		rs := waitFor(t, e.opts, doctor.CheckTargets, doctor.Fail)
		expect(t, rs, doctor.CheckTargets, doctor.Fail, "job ml-service", "503", "ML signal-models service")
		expect(t, rs, doctor.CheckAPI, doctor.Pass)
		e.sim.SetScenario(simulate.Healthy)
		waitFor(t, e.opts, doctor.CheckTargets, doctor.Pass)
	})

	t.Run("a dashboard referencing another datasource uid fails the Grafana check", func(t *testing.T) {
		o := e.opts
		o.Dir = copyDir(t, e.rs.Dir)
		dash := filepath.Join(o.Dir, "grafana", "dashboards", "investiq-overview.json")
		editFile(t, dash, `"uid": "investiq-prometheus"`, `"uid": "old-prometheus"`)
		rs := doctor.Run(t.Context(), o)
		expect(t, rs, doctor.CheckGrafana, doctor.Fail, "investiq-overview.json", `"old-prometheus"`, `panel "Request Rate"`, "investiq-prometheus")
	})

	t.Run("an import placeholder in a dashboard fails the Grafana check", func(t *testing.T) {
		o := e.opts
		o.Dir = copyDir(t, e.rs.Dir)
		dash := filepath.Join(o.Dir, "grafana", "dashboards", "investiq-overview.json")
		editFile(t, dash, `"uid": "investiq-prometheus"`, `"uid": "${DS_PROMETHEUS}"`)
		expect(t, doctor.Run(t.Context(), o), doctor.CheckGrafana, doctor.Fail, "${DS_PROMETHEUS}")
	})

	t.Run("a drifted and a missing file fail the files check, naming them", func(t *testing.T) {
		o := e.opts
		o.Dir = copyDir(t, e.rs.Dir)
		f, _ := os.OpenFile(filepath.Join(o.Dir, "alertmanager", "alertmanager.yml"), os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString("# hand edit\n")
		f.Close()
		os.Remove(filepath.Join(o.Dir, "prometheus", "promtool-http.yml"))
		rs := doctor.Run(t.Context(), o)
		expect(t, rs, doctor.CheckFiles, doctor.Fail, "alertmanager/alertmanager.yml: differs", "prometheus/promtool-http.yml: missing", "investiq-mon generate --dir "+o.Dir)
		expect(t, rs, doctor.CheckGrafana, doctor.Pass)
	})

	t.Run("a wrong password fails with a fix about credentials, never printing it", func(t *testing.T) {
		o := e.opts
		o.Endpoints.Password = "not-the-password"
		rs := doctor.Run(t.Context(), o)
		expect(t, rs, doctor.CheckTargets, doctor.Fail, "credentials")
		if strings.Contains(report(rs), "not-the-password") || strings.Contains(report(rs), e.rs.Password) {
			t.Error("the report contains a password")
		}
	})

	t.Run("Prometheus not answering fails targets and skips what depends on it", func(t *testing.T) {
		o := e.opts
		o.Endpoints.Prometheus = "http://127.0.0.1:" + itoa(testutil.FreePort(t))
		rs := doctor.Run(t.Context(), o)
		expect(t, rs, doctor.CheckTargets, doctor.Fail, o.Endpoints.Prometheus, "investiq-mon up")
		expect(t, rs, doctor.CheckRules, doctor.Skip)
		expect(t, rs, doctor.CheckAlertmanager, doctor.Skip)
	})

	t.Run("a reachable Grafana missing the provisioned datasource fails the Grafana check", func(t *testing.T) {
		// Grafana cannot run here (see STACK.md): this server follows its
		// documented HTTP API for the three calls doctor makes.
		var user, pass string
		grafana := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user, pass, _ = r.BasicAuth()
			switch {
			case r.URL.Path == "/api/health":
				w.Write([]byte(`{"database":"ok","version":"12.3.0"}`))
			case strings.HasPrefix(r.URL.Path, "/api/dashboards/uid/investiq-overview"):
				w.Write([]byte(`{"dashboard":{},"meta":{}}`))
			default:
				http.Error(w, `{"message":"Data source not found"}`, http.StatusNotFound)
			}
		}))
		defer grafana.Close()
		o := e.opts
		o.Endpoints.Grafana, o.Endpoints.GrafanaUser, o.Endpoints.GrafanaPassword = grafana.URL, "admin", "grafana-secret"
		rs := doctor.Run(t.Context(), o)
		expect(t, rs, doctor.CheckGrafana, doctor.Fail, `no datasource uid "investiq-prometheus"`, "404")
		if user != "admin" || pass != "grafana-secret" {
			t.Errorf("Grafana was asked as %q without the Grafana credentials", user)
		}
	})
}

func TestDoctorBrokenRules(t *testing.T) {
	e := startEnv(t, true)
	waitFor(t, e.opts, doctor.CheckRules, doctor.Pass)
	rules := filepath.Join(e.rs.Dir, filepath.FromSlash(render.AlertRules))

	reload := func() int {
		req, _ := http.NewRequest(http.MethodPost, e.rs.PrometheusURL()+"/-/reload", nil)
		req.SetBasicAuth(e.rs.User, e.rs.Password)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	t.Run("a rule file that does not load fails the rules check", func(t *testing.T) {
		os.WriteFile(rules, []byte("groups:\n- name: investiq.alerts\n  rules:\n  - alert: Broken\n    expr: sum(rate(\n"), 0o644)
		if code := reload(); code == http.StatusOK {
			t.Fatal("Prometheus accepted a broken rule file")
		}
		rs := doctor.Run(t.Context(), e.opts)
		expect(t, rs, doctor.CheckRules, doctor.Fail, "last configuration reload failed", "promtool check rules")
		expect(t, rs, doctor.CheckFiles, doctor.Fail, "prometheus/alert_rules.yml")
	})

	t.Run("rules that load but lack the spec's alerts or fail to evaluate fail the rules check", func(t *testing.T) {
		// Four `up` series joined on no labels: a many-to-many error at
		// every evaluation.
		os.WriteFile(rules, []byte(`groups:
- name: investiq.alerts
  rules:
  - alert: ServiceDown
    expr: up{job="investiq-api"} == 0
  - alert: Broken
    expr: up + on() up
`), 0o644)
		if code := reload(); code != http.StatusOK {
			t.Fatalf("reload: %d", code)
		}
		rs := waitFor(t, e.opts, doctor.CheckRules, doctor.Fail)
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(report(rs), "alert Broken:") && time.Now().Before(deadline) {
			time.Sleep(300 * time.Millisecond)
			rs = doctor.Run(t.Context(), e.opts)
		}
		expect(t, rs, doctor.CheckRules, doctor.Fail, "alert HighErrorRate of the spec is not loaded", "alert CircuitBreakerTripped of the spec is not loaded", "alert Broken:", "many-to-many")
		if strings.Contains(report(rs), "reload failed") {
			t.Error("a successful reload is reported as failed")
		}
	})
}

func TestDoctorWithoutAlertmanager(t *testing.T) {
	e := startEnv(t, false)
	rs := waitFor(t, e.opts, doctor.CheckTargets, doctor.Fail) // the alertmanager job is down too
	expect(t, rs, doctor.CheckAlertmanager, doctor.Fail, "Prometheus sends alerts to", "does not answer", "connection refused")
	expect(t, rs, doctor.CheckRules, doctor.Pass)
}

// Verdicts are coloured only when the profile allows it, and the words
// stay the same either way.
func TestWriteColoursOnlyWithAProfile(t *testing.T) {
	rs := []doctor.Result{
		{Title: "one", Status: doctor.Pass, Summary: "fine"},
		{Title: "two", Status: doctor.Fail, Summary: "broken", Fix: "mend it"},
	}
	var plain, coloured bytes.Buffer
	doctor.Write(&plain, rs, termenv.Ascii)
	doctor.Write(&coloured, rs, termenv.ANSI)
	if strings.Contains(plain.String(), "\x1b[") {
		t.Errorf("Ascii profile wrote escape codes:\n%q", plain.String())
	}
	if !strings.Contains(coloured.String(), "\x1b[") {
		t.Errorf("ANSI profile wrote no colour:\n%q", coloured.String())
	}
	for _, w := range []string{"PASS", "FAIL", "fix: mend it"} {
		if !strings.Contains(plain.String(), w) || !strings.Contains(coloured.String(), w) {
			t.Errorf("report lacks %q:\n%s\n%s", w, plain.String(), coloured.String())
		}
	}
}
