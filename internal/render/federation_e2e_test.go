package render_test

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/simulate"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// The rendered global/prometheus.yml, on real servers: two InvestIQ
// Prometheus servers (a and b), each scraping its own simulator, and a
// global Prometheus federating both. The global one ends up with exactly
// the recording-rule series of each source, told apart by the cluster
// label, and the ALERTS series of the alert pending or firing on a; it
// holds no raw series of the API at all.
func TestFederationTakesRecordingRulesAndAlertsOnly(t *testing.T) {
	prometheus := testutil.Bin(t, "prometheus")
	ctx := context.Background()

	rsB, _, _ := testutil.SimulatedStack(t)
	globalAddr := "127.0.0.1:" + strconv.Itoa(testutil.FreePort(t))
	rsA, simA, _ := testutil.SimulatedStackWith(t, func(set spec.Settings) *spec.Spec {
		s := spec.InvestIQ(set)
		s.Federation = &spec.Federation{Interval: time.Second, Sources: []spec.FederationSource{
			{Name: "a", Address: set.PrometheusAddress},
			{Name: "b", Address: strings.TrimPrefix(rsB.PrometheusURL(), "http://"), PasswordSecret: "prometheus_b_password"},
		}}
		return s
	})
	// b's password is b's stack password, put in a's .env as a user would.
	env, err := secrets.Load(rsA.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Set(rsA.Spec, "PROMETHEUS_B_PASSWORD", rsB.Password); err != nil {
		t.Fatal(err)
	}
	if err := env.WriteFiles(rsA.Spec, rsA.Spec.SecretsDir, rsA.Spec.WebConfigFile); err != nil {
		t.Fatal(err)
	}

	testutil.StartPrometheus(t, rsA)
	testutil.StartPrometheus(t, rsB)
	data := t.TempDir()
	testutil.StartDaemon(t, &testutil.Daemon{
		Name: "global prometheus", Bin: prometheus,
		Args: []string{
			"--config.file=" + filepath.Join(rsA.Dir, filepath.FromSlash(render.GlobalPrometheusConfig)),
			"--storage.tsdb.path=" + data,
			"--web.listen-address=" + globalAddr,
		},
		ReadyURL: "http://" + globalAddr + "/-/ready",
	})
	if err := simA.SetScenario(simulate.Halted); err != nil {
		t.Fatal(err)
	}

	global := testutil.PromAPI(t, "http://"+globalAddr, "", "")
	sources := map[string]v1.API{
		"a": testutil.PromAPI(t, rsA.PrometheusURL(), rsA.User, rsA.Password),
		"b": testutil.PromAPI(t, rsB.PrometheusURL(), rsB.User, rsB.Password),
	}

	// Every recording-rule series of each source reaches the global server.
	// Groups evaluated every minute take up to a minute to first appear.
	var want, got map[string][]string
	deadline := time.Now().Add(120 * time.Second)
	for {
		want, got = map[string][]string{}, map[string][]string{}
		for name, api := range sources {
			// A series without a job label (a rule summing over every job)
			// gets the global server's job for that source, as any scraped
			// series without one does; honor_labels keeps every other.
			for _, m := range series(t, ctx, api, `{__name__=~".+:.+"}`) {
				if _, ok := m["job"]; !ok {
					m["job"] = model.LabelValue(render.FederationJob(name))
				}
				want[name] = append(want[name], m.String())
			}
			slices.Sort(want[name])
			got[name] = seriesSet(t, ctx, global, `{__name__=~".+:.+", cluster="`+name+`"}`, []model.LabelName{spec.FederationClusterLabel, "monitor"})
		}
		if len(want["a"]) >= 22 && slices.Equal(want["a"], got["a"]) && slices.Equal(want["b"], got["b"]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recording-rule series on the global server differ from the sources'\nsource a: %q\nglobal a: %q\nsource b: %q\nglobal b: %q", want["a"], got["a"], want["b"], got["b"])
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("recording-rule series: a %d, b %d, the same on the global server", len(want["a"]), len(want["b"]))

	// The alerts each source is raising are there, no more, no less: a
	// raises CircuitBreakerTripped; one that stops being pending at the
	// source stops being pending here too (track_timestamps_staleness).
	waitFor(t, 60*time.Second, "the ALERTS series of each source on the global server", func() bool {
		firing := false
		for name, api := range sources {
			var src []string
			for _, m := range series(t, ctx, api, `ALERTS`) {
				if _, ok := m["job"]; !ok {
					m["job"] = model.LabelValue(render.FederationJob(name))
				}
				src = append(src, m.String())
				firing = firing || (name == "a" && m["alertname"] == "CircuitBreakerTripped" && m["alertstate"] == "firing")
			}
			slices.Sort(src)
			if !slices.Equal(src, seriesSet(t, ctx, global, `ALERTS{cluster="`+name+`"}`, []model.LabelName{spec.FederationClusterLabel, "monitor"})) {
				return false
			}
		}
		return firing
	})

	// Nothing else: the sources hold the API's raw series, the global
	// server none of them.
	if raw := seriesSet(t, ctx, sources["a"], `{__name__=~"investiq_.+"}`, nil); len(raw) < 50 {
		t.Fatalf("source a holds only %d raw InvestIQ series: the check below would prove nothing", len(raw))
	}
	all := series(t, ctx, global, `{__name__=~".+"}`)
	var recording, alerts, own int
	for _, m := range all {
		name, job := string(m[model.MetricNameLabel]), string(m["job"])
		switch {
		case strings.Contains(name, ":"):
			recording++
		case name == "ALERTS":
			alerts++
		case strings.HasPrefix(job, "federate-") && (name == "up" || strings.HasPrefix(name, "scrape_")):
			own++ // the global server's own scrape of /federate
		default:
			t.Errorf("raw series on the global server: %s", m)
		}
	}
	t.Logf("global server: %d series: %d recording-rule, %d ALERTS, %d of its own federation jobs", len(all), recording, alerts, own)
}

// series are the label sets an instant query returns.
func series(t *testing.T, ctx context.Context, api v1.API, q string) []model.Metric {
	t.Helper()
	v, _, _, err := api.Query(ctx, q, time.Now())
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var out []model.Metric
	for _, s := range v.(model.Vector) {
		out = append(out, s.Metric)
	}
	return out
}

// seriesSet is the sorted label sets an instant query returns, without
// the given labels.
func seriesSet(t *testing.T, ctx context.Context, api v1.API, q string, without []model.LabelName) []string {
	t.Helper()
	var out []string
	for _, m := range series(t, ctx, api, q) {
		for _, l := range without {
			delete(m, l)
		}
		out = append(out, m.String())
	}
	slices.Sort(out)
	return out
}
