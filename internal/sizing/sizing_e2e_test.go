package sizing_test

import (
	"context"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/investiq/investiq-mon/internal/sizing"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// The estimate against a real Prometheus: the InvestIQ stack's server,
// with its rule files, scraping the simulator (which serves every series
// the spec declares, open labels up to their MaxValues). Once every target
// has been scraped and every rule group evaluated, the head's series count
// from /api/v1/status/tsdb must be within 20% of the estimate made from
// the spec alone. The self-monitoring jobs are left out of this workload:
// their metrics are Prometheus' and Alertmanager's, not the spec's.
func TestEstimateMatchesARealPrometheus(t *testing.T) {
	ctx := context.Background()
	workload := func(set spec.Settings) *spec.Spec {
		s := spec.InvestIQ(set)
		s.Jobs = []spec.ScrapeJob{}
		for _, j := range spec.InvestIQ(set).Jobs {
			if !j.StackAuth {
				s.Jobs = append(s.Jobs, j)
			}
		}
		return s
	}
	rs, _, _ := testutil.SimulatedStackWith(t, workload)
	est, err := sizing.FromSpec(rs.Spec, sizing.Options{})
	if err != nil {
		t.Fatal(err)
	}
	testutil.StartPrometheus(t, rs)
	api := testutil.PromAPI(t, rs.PrometheusURL(), rs.User, rs.Password)

	// Steady state: every target scraped twice and every rule group
	// (the one-minute ones too) evaluated at least once.
	deadline := time.Now().Add(120 * time.Second)
	for !steady(ctx, t, api) {
		if time.Now().After(deadline) {
			t.Fatal("no steady state after 2 minutes: targets not scraped or rule groups not evaluated")
		}
		time.Sleep(500 * time.Millisecond)
	}
	st, err := api.TSDB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	real := st.HeadStats.NumSeries
	off := math.Abs(float64(est.Series-real)) / float64(real)
	rules := 0
	for _, r := range est.Rules {
		rules += r.Series
	}
	t.Logf("estimate from the spec: %d series (%d of jobs, %d of recording rules), %.1f samples/s; real head: %d series: off by %.1f%%",
		est.Series, est.Series-rules, rules, est.SamplesPerSecond, real, 100*off)
	for _, s := range st.SeriesCountByMetricName {
		t.Logf("  real: %-50s %d", s.Name, s.Value)
	}
	if heap, rss := serverMemory(t, rs); heap > 0 {
		t.Logf("estimated head memory %.1f MB (3 kB/series); the server's Go heap in use %.1f MB, RSS %.1f MB (the process' own overhead dominates at this size)",
			est.MemoryBytes/1e6, heap/1e6, rss/1e6)
	}
	if off > 0.20 {
		t.Errorf("the estimate (%d series) is %.1f%% off the real head (%d series): more than 20%%", est.Series, 100*off, real)
	}
}

// steady reports whether every target has been scraped at least twice and
// every rule group evaluated.
func steady(ctx context.Context, t *testing.T, api v1.API) bool {
	t.Helper()
	tr, err := api.Targets(ctx)
	if err != nil || len(tr.Active) == 0 {
		return false
	}
	for _, tg := range tr.Active {
		if tg.Health != v1.HealthGood || time.Since(tg.LastScrape) > 5*time.Second {
			return false
		}
	}
	rules, err := api.Rules(ctx, nil)
	if err != nil || len(rules.Groups) == 0 {
		return false
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			var last time.Time
			switch r := r.(type) {
			case v1.RecordingRule:
				last = r.LastEvaluation
			case v1.AlertingRule:
				last = r.LastEvaluation
			}
			if last.IsZero() {
				return false
			}
		}
	}
	// Two scrapes of each target: scrape_series_added is 0 from the second.
	v, _, _, err := api.Query(ctx, `max(scrape_series_added)`, time.Now())
	if err != nil {
		return false
	}
	vec, ok := v.(model.Vector)
	return ok && len(vec) == 1 && vec[0].Value == 0
}

// serverMemory reads the server's own heap and resident memory from its
// /metrics, for the log.
func serverMemory(t *testing.T, rs *testutil.RenderedStack) (heap, rss float64) {
	req, _ := http.NewRequest(http.MethodGet, rs.PrometheusURL()+"/metrics", nil)
	req.SetBasicAuth(rs.User, rs.Password)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		return 0, 0
	}
	get := func(name string) float64 {
		if f, ok := fams[name]; ok && len(f.GetMetric()) > 0 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
		return 0
	}
	return get("go_memstats_heap_inuse_bytes"), get("process_resident_memory_bytes")
}
