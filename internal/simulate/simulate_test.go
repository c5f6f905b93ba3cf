package simulate_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/investiq/investiq-mon/internal/expocheck"
	"github.com/investiq/investiq-mon/internal/simulate"
	"github.com/investiq/investiq-mon/spec"
)

func newSim(t *testing.T, scenario string) *simulate.Simulator {
	t.Helper()
	sim, err := simulate.New(spec.Default(), simulate.Options{Scenario: scenario, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return sim
}

// scrape fetches url as Prometheus would and decodes it with expfmt.
func scrape(t *testing.T, url string, accept string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	dec := expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header))
	out := map[string]*dto.MetricFamily{}
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("GET %s: decode: %v", url, err)
		}
		out[mf.GetName()] = mf
	}
	return out
}

var dtoType = map[spec.MetricType]dto.MetricType{
	spec.Counter: dto.MetricType_COUNTER, spec.Gauge: dto.MetricType_GAUGE, spec.Histogram: dto.MetricType_HISTOGRAM,
}

func TestServesEverySpecMetric(t *testing.T) {
	for _, format := range []struct{ name, accept string }{
		{"text format", ""},
		{"OpenMetrics", string(expfmt.FmtOpenMetrics_1_0_0)},
	} {
		t.Run(format.name, func(t *testing.T) {
			sim := newSim(t, simulate.Healthy)
			sim.Step(10 * time.Second)
			srv := httptest.NewServer(sim.Handler())
			defer srv.Close()
			fams := scrape(t, srv.URL+"/metrics", format.accept)
			s := spec.Default()
			for _, m := range s.Metrics {
				mf, ok := fams[m.Name]
				if !ok {
					t.Errorf("%s: not exposed", m.Name)
					continue
				}
				if mf.GetType() != dtoType[m.Type] {
					t.Errorf("%s: type %s, spec says %s", m.Name, mf.GetType(), m.Type)
				}
				if mf.GetHelp() != m.Help {
					t.Errorf("%s: help %q, spec says %q", m.Name, mf.GetHelp(), m.Help)
				}
				var want []string
				for _, l := range m.Labels {
					want = append(want, l.Name)
				}
				slices.Sort(want)
				seen := map[string]map[string]bool{}
				for _, series := range mf.GetMetric() {
					var got []string
					for _, lp := range series.GetLabel() {
						got = append(got, lp.GetName())
						if seen[lp.GetName()] == nil {
							seen[lp.GetName()] = map[string]bool{}
						}
						seen[lp.GetName()][lp.GetValue()] = true
					}
					slices.Sort(got)
					if !slices.Equal(got, want) {
						t.Errorf("%s: labels %v, spec says %v", m.Name, got, want)
					}
					if m.Type == spec.Histogram {
						var bounds []float64
						for _, b := range series.GetHistogram().GetBucket() {
							bounds = append(bounds, b.GetUpperBound())
						}
						bounds = slices.DeleteFunc(bounds, func(f float64) bool { return f > 1e300 })
						if !slices.Equal(bounds, m.Buckets) {
							t.Errorf("%s: buckets %v, spec says %v", m.Name, bounds, m.Buckets)
						}
					}
				}
				// Closed label sets are served in full, so every dashboard
				// panel on them has a series.
				for _, l := range m.Labels {
					for _, v := range l.Values {
						if !seen[l.Name][v] {
							t.Errorf("%s: no series with %s=%q", m.Name, l.Name, v)
						}
					}
					for v := range seen[l.Name] {
						if len(l.Values) > 0 && !slices.Contains(l.Values, v) {
							t.Errorf("%s: %s=%q is outside the spec's values %v", m.Name, l.Name, v, l.Values)
						}
					}
				}
			}
		})
	}
}

// TestExpositionMatchesSpec holds the simulator to the same contract as
// the real API: check-metrics' own checks and promtool's lint.
func TestExpositionMatchesSpec(t *testing.T) {
	sim := newSim(t, simulate.Healthy)
	sim.Step(time.Minute)
	mfs, err := sim.APIRegistry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	rep := expocheck.Check(spec.Default(), spec.JobAPI, mfs)
	for _, p := range rep.Problems {
		if p.Kind != expocheck.Note {
			t.Errorf("%s", p)
		}
	}
}

// counter sums every series of a counter family.
func counter(t *testing.T, sim *simulate.Simulator, name string) float64 {
	t.Helper()
	var sum float64
	for _, series := range family(t, sim, name).GetMetric() {
		sum += series.GetCounter().GetValue()
	}
	return sum
}

func family(t *testing.T, sim *simulate.Simulator, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := sim.APIRegistry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	t.Fatalf("%s not gathered", name)
	return nil
}

func gauge(t *testing.T, sim *simulate.Simulator, name string, labels map[string]string) float64 {
	t.Helper()
	for _, series := range family(t, sim, name).GetMetric() {
		match := true
		for _, lp := range series.GetLabel() {
			if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
				match = false
			}
		}
		if match {
			return series.GetGauge().GetValue()
		}
	}
	t.Fatalf("%s%v not found", name, labels)
	return 0
}

// p95 estimates the 95th percentile of the request histogram's increase
// as histogram_quantile does: linear interpolation inside the bucket.
func p95(t *testing.T, before, after *dto.MetricFamily) float64 {
	t.Helper()
	cum := func(mf *dto.MetricFamily) (bounds, counts []float64) {
		for i, series := range mf.GetMetric() {
			for j, b := range series.GetHistogram().GetBucket() {
				if i == 0 {
					bounds = append(bounds, b.GetUpperBound())
					counts = append(counts, 0)
				}
				counts[j] += float64(b.GetCumulativeCount())
			}
		}
		return bounds, counts
	}
	bounds, a := cum(after)
	_, b := cum(before)
	total := 0.0
	for i := range a {
		a[i] -= b[i]
		total = max(total, a[i])
	}
	if total == 0 {
		t.Fatal("no requests observed")
	}
	rank := 0.95 * total
	lower, prev := 0.0, 0.0
	for i, c := range a {
		if c >= rank {
			return lower + (bounds[i]-lower)*(rank-prev)/(c-prev)
		}
		lower, prev = bounds[i], c
	}
	return lower
}

func TestScenariosMoveTheRightNumbers(t *testing.T) {
	const window = 5 * time.Minute
	errorRate := func(t *testing.T, sim *simulate.Simulator) float64 {
		before := counter(t, sim, "investiq_errors_total")
		sim.Step(window)
		return (counter(t, sim, "investiq_errors_total") - before) / window.Seconds()
	}
	latency := func(t *testing.T, sim *simulate.Simulator) float64 {
		before := family(t, sim, "investiq_request_duration_milliseconds")
		sim.Step(window)
		return p95(t, before, family(t, sim, "investiq_request_duration_milliseconds"))
	}
	tests := []struct {
		name     string
		scenario string
		check    func(t *testing.T, sim *simulate.Simulator)
	}{
		{"healthy keeps errors far below HighErrorRate's 0.1/s and p95 under 500 ms, all up", simulate.Healthy, func(t *testing.T, sim *simulate.Simulator) {
			if r := errorRate(t, sim); r >= 0.05 || r == 0 {
				t.Errorf("error rate %.3f/s, want a little above 0 and below 0.05", r)
			}
			if q := latency(t, sim); q >= 500 {
				t.Errorf("p95 %.0f ms, want < 500", q)
			}
			if v := gauge(t, sim, "investiq_trading_halted", nil); v != 0 {
				t.Errorf("trading halted = %v", v)
			}
			for _, d := range []string{"database", "redis", "polygon", "alpaca", "ml_service"} {
				if v := gauge(t, sim, "investiq_dependency_health", map[string]string{"name": d}); v != 1 {
					t.Errorf("%s health = %v, want 1", d, v)
				}
			}
			before := counter(t, sim, "investiq_requests_total")
			sim.Step(time.Minute)
			if r := (counter(t, sim, "investiq_requests_total") - before) / 60; r < 5 {
				t.Errorf("request rate %.1f/s, want some traffic", r)
			}
		}},
		{"errors is well above 0.1 errors/s", simulate.Errors, func(t *testing.T, sim *simulate.Simulator) {
			if r := errorRate(t, sim); r < 1 {
				t.Errorf("error rate %.3f/s, want >= 1", r)
			}
		}},
		{"slow has p95 above 1000 ms", simulate.Slow, func(t *testing.T, sim *simulate.Simulator) {
			if q := latency(t, sim); q <= 1000 {
				t.Errorf("p95 %.0f ms, want > 1000", q)
			}
			if r := errorRate(t, sim); r >= 0.1 {
				t.Errorf("error rate %.3f/s: slow alone must not trip HighErrorRate", r)
			}
		}},
		{"halted sets trading halted and stops trades", simulate.Halted, func(t *testing.T, sim *simulate.Simulator) {
			if v := gauge(t, sim, "investiq_trading_halted", nil); v != 1 {
				t.Errorf("trading halted = %v, want 1", v)
			}
			before := counter(t, sim, "investiq_trades_total")
			sim.Step(window)
			if d := counter(t, sim, "investiq_trades_total") - before; d != 0 {
				t.Errorf("%v trades while halted", d)
			}
		}},
		{"dependency-down:redis takes only redis down", simulate.DependencyDown("redis"), func(t *testing.T, sim *simulate.Simulator) {
			for d, want := range map[string]float64{"redis": 0, "database": 1, "polygon": 1, "alpaca": 1, "ml_service": 1} {
				if v := gauge(t, sim, "investiq_dependency_health", map[string]string{"name": d}); v != want {
					t.Errorf("%s health = %v, want %v", d, v, want)
				}
			}
		}},
		{"ml-down marks the ml_service dependency down", simulate.MLDown, func(t *testing.T, sim *simulate.Simulator) {
			if v := gauge(t, sim, "investiq_dependency_health", map[string]string{"name": "ml_service"}); v != 0 {
				t.Errorf("ml_service health = %v, want 0", v)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, newSim(t, tt.scenario))
		})
	}
}

func TestSwitchingBackRestoresHealth(t *testing.T) {
	sim := newSim(t, simulate.Halted)
	if err := sim.SetScenario("dependency-down:database"); err != nil {
		t.Fatal(err)
	}
	if v := gauge(t, sim, "investiq_trading_halted", nil); v != 0 {
		t.Errorf("trading halted = %v after leaving halted", v)
	}
	if err := sim.SetScenario(simulate.Healthy); err != nil {
		t.Fatal(err)
	}
	if v := gauge(t, sim, "investiq_dependency_health", map[string]string{"name": "database"}); v != 1 {
		t.Errorf("database health = %v after recovery", v)
	}
}

func TestUnknownScenario(t *testing.T) {
	for _, name := range []string{"", "boom", "dependency-down:", "dependency-down:mongodb", "Healthy"} {
		sim := newSim(t, simulate.Healthy)
		err := sim.SetScenario(name)
		if !errors.Is(err, simulate.ErrUnknownScenario) {
			t.Errorf("SetScenario(%q) = %v, want ErrUnknownScenario", name, err)
		} else if !strings.Contains(err.Error(), "dependency-down:redis") {
			t.Errorf("SetScenario(%q) error does not list the choices: %v", name, err)
		}
		if sim.Scenario() != simulate.Healthy {
			t.Errorf("a refused switch changed the scenario to %q", sim.Scenario())
		}
	}
	if _, err := simulate.New(spec.Default(), simulate.Options{Scenario: "boom"}); !errors.Is(err, simulate.ErrUnknownScenario) {
		t.Errorf("New with a bad scenario = %v", err)
	}
}

func TestScenariosListsEveryDependency(t *testing.T) {
	got := newSim(t, "").Scenarios()
	for _, want := range []string{"healthy", "errors", "slow", "ml-down", "halted", "dependency-down:database", "dependency-down:redis", "dependency-down:polygon", "dependency-down:alpaca", "dependency-down:ml_service"} {
		if !slices.Contains(got, want) {
			t.Errorf("Scenarios() = %v, lacks %s", got, want)
		}
	}
}

// TestRolesAreDeclaredBySpec fails when the spec renames a metric the
// simulator drives: alerts on it would silently stop firing in the e2e
// tests otherwise.
func TestRolesAreDeclaredBySpec(t *testing.T) {
	s := spec.Default()
	for name, typ := range map[string]spec.MetricType{
		"investiq_requests_total": spec.Counter, "investiq_request_duration_milliseconds": spec.Histogram,
		"investiq_errors_total": spec.Counter, "investiq_active_connections": spec.Gauge,
		"investiq_trades_total": spec.Counter, "investiq_analyses_total": spec.Counter,
		"investiq_dependency_health": spec.Gauge, "investiq_trading_halted": spec.Gauge,
	} {
		m, ok := s.Metric(name)
		if !ok {
			t.Errorf("spec no longer declares %s: update internal/simulate's roles", name)
			continue
		}
		if m.Type != typ {
			t.Errorf("%s is a %s in the spec, simulate drives a %s", name, m.Type, typ)
		}
	}
}

// TestNewMetricIsServed: a metric added to the spec is served without
// touching the simulator.
func TestNewMetricIsServed(t *testing.T) {
	s := spec.Default()
	s.Metrics = append(s.Metrics, spec.Metric{
		Name: "investiq_orders_rejected_total", Type: spec.Counter, Job: spec.JobAPI, Help: "Orders rejected.",
		Labels: []spec.Label{{Name: "reason", Values: []string{"risk", "funds"}}},
	}, spec.Metric{
		Name: "investiq_ml_inference_milliseconds", Type: spec.Histogram, Job: spec.JobML, Help: "ML latency.",
		Buckets: []float64{10, 100},
	})
	sim, err := simulate.New(s, simulate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sim.Step(10 * time.Second)
	api := httptest.NewServer(sim.Handler())
	defer api.Close()
	ml := httptest.NewServer(sim.MLHandler())
	defer ml.Close()
	if mf := scrape(t, api.URL+"/metrics", "")["investiq_orders_rejected_total"]; len(mf.GetMetric()) != 2 {
		t.Errorf("new API counter: %v, want one series per reason", mf)
	}
	if _, ok := scrape(t, ml.URL+"/metrics", "")["investiq_ml_inference_milliseconds"]; !ok {
		t.Error("a metric of the ML job is not served by the ML listener")
	}
	if _, ok := scrape(t, api.URL+"/metrics", "")["investiq_ml_inference_milliseconds"]; ok {
		t.Error("a metric of the ML job is served by the API listener")
	}
}

func TestTypeChangeIsRefused(t *testing.T) {
	s := spec.Default()
	for i := range s.Metrics {
		if s.Metrics[i].Name == "investiq_trading_halted" {
			s.Metrics[i].Type = spec.Counter
		}
	}
	if _, err := simulate.New(s, simulate.Options{}); err == nil || !strings.Contains(err.Error(), "investiq_trading_halted") {
		t.Errorf("New = %v, want an error naming investiq_trading_halted", err)
	}
}

// TestStartServesAndSwitchesOverHTTP runs the simulator as the e2e tests
// and the CLI do: real listeners, a fast ticker, switches over HTTP, and
// rates measured over wall time.
func TestStartServesAndSwitchesOverHTTP(t *testing.T) {
	sim, err := simulate.New(spec.Default(), simulate.Options{Tick: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(t.Context(), "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	api, ml := "http://"+srv.APIAddr(), "http://"+srv.MLAddr()

	post := func(name string) (int, string) {
		resp, err := http.Post(api+simulate.ScenarioPath+"?name="+name, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := post("errors"); code != http.StatusOK {
		t.Fatalf("POST errors: %d %s", code, body)
	}
	if code, body := post("nonsense"); code != http.StatusBadRequest || !strings.Contains(body, "choose one of") {
		t.Errorf("POST nonsense: %d %q, want 400 listing the scenarios", code, body)
	}
	resp, err := http.Get(api + simulate.ScenarioPath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(body)) != "errors" {
		t.Errorf("GET scenario = %q, want errors", body)
	}

	errorsNow := func() float64 {
		var sum float64
		for _, m := range scrape(t, api+"/metrics", "")["investiq_errors_total"].GetMetric() {
			sum += m.GetCounter().GetValue()
		}
		return sum
	}
	start, t0 := errorsNow(), time.Now()
	time.Sleep(1500 * time.Millisecond)
	rate := (errorsNow() - start) / time.Since(t0).Seconds()
	if rate <= 0.1 {
		t.Errorf("errors scenario over wall time: %.2f errors/s, want > 0.1", rate)
	}

	mlStatus := func() int {
		resp, err := http.Get(ml + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := mlStatus(); s != http.StatusOK {
		t.Errorf("ML /metrics while healthy: %d", s)
	}
	post("ml-down")
	if s := mlStatus(); s != http.StatusServiceUnavailable {
		t.Errorf("ML /metrics in ml-down: %d, want 503", s)
	}
	post("healthy")
	if s := mlStatus(); s != http.StatusOK {
		t.Errorf("ML /metrics after recovery: %d", s)
	}
}

func TestStartRefusesBusyPortAndStopsWithContext(t *testing.T) {
	sim := newSim(t, "")
	ctx, cancel := context.WithCancel(t.Context())
	srv, err := sim.Start(ctx, "127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	if srv.MLAddr() != "" {
		t.Errorf("MLAddr = %q without an ML listener", srv.MLAddr())
	}
	if _, err := sim.Start(t.Context(), srv.APIAddr(), ""); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("second Start on %s = %v, want address already in use", srv.APIAddr(), err)
	}
	cancel()
	done := make(chan error)
	go func() { done <- srv.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Wait = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("simulator did not stop when its context was cancelled")
	}
	if _, err := http.Get("http://" + srv.APIAddr() + "/metrics"); err == nil {
		t.Error("API still answers after stop")
	}
}
