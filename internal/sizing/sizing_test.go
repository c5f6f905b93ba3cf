package sizing_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/sizing"
	"github.com/investiq/investiq-mon/spec"
)

// tiny is a spec with one job of two targets scraped every 10s and one
// metric, changed by each case; no SLOs, so no recording rules.
func tiny(m spec.Metric) *spec.Spec {
	s := spec.Default()
	s.SLOs = nil
	s.Dashboards = nil
	s.Alerts = s.Alerts[:0]
	s.Jobs = []spec.ScrapeJob{{Name: "api", Targets: []string{"a:1", "b:1"}, MetricsPath: "/metrics", Interval: 10 * time.Second}}
	m.Job = "api"
	m.Help = "help"
	s.Metrics = []spec.Metric{m}
	s.Retention = 10 * 24 * time.Hour
	return s
}

func TestSeriesFromTheSpec(t *testing.T) {
	for _, tc := range []struct {
		name      string
		metric    spec.Metric
		perTarget int // declared series per target, before the 5 synthetic ones
		unbounded []string
	}{
		{"a counter without labels is one series",
			spec.Metric{Name: "x_total", Type: spec.Counter}, 1, nil},
		{"a closed label multiplies by its values",
			spec.Metric{Name: "x_total", Type: spec.Counter, Labels: []spec.Label{{Name: "a", Values: []string{"1", "2", "3"}}}}, 3, nil},
		{"labels multiply with each other",
			spec.Metric{Name: "x_total", Type: spec.Counter, Labels: []spec.Label{{Name: "a", Values: []string{"1", "2", "3"}}, {Name: "b", MaxValues: 4}}}, 12, nil},
		{"a histogram has its buckets, +Inf, _sum and _count per label combination",
			spec.Metric{Name: "x_seconds", Type: spec.Histogram, Buckets: []float64{0.1, 1}, Labels: []spec.Label{{Name: "b", MaxValues: 4}}}, 4 * (2 + 3), nil},
		{"an unbounded label counts once and is named",
			spec.Metric{Name: "x_total", Type: spec.Counter, Labels: []spec.Label{{Name: "path"}}}, 1, []string{"metrics[x_total].labels[path]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := sizing.FromSpec(tiny(tc.metric), sizing.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := e.Jobs[0].PerTarget; got != tc.perTarget+sizing.SyntheticSeriesPerTarget {
				t.Errorf("per target: %d series, want %d + %d synthetic", got, tc.perTarget, sizing.SyntheticSeriesPerTarget)
			}
			want := 2 * (tc.perTarget + sizing.SyntheticSeriesPerTarget)
			if e.Series != want {
				t.Errorf("%d series, want %d (two targets)", e.Series, want)
			}
			if !slices.Equal(e.Unbounded, tc.unbounded) {
				t.Errorf("unbounded %q, want %q", e.Unbounded, tc.unbounded)
			}
		})
	}
}

// The resource figures are the stated formulas, worked by hand for 12
// series scraped every 10s and kept 10 days.
func TestResourcesFollowTheStatedFormulas(t *testing.T) {
	s := tiny(spec.Metric{Name: "x_total", Type: spec.Counter})
	e, err := sizing.FromSpec(s, sizing.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// 2 targets x (1 + 5) = 12 series; 12 / 10s = 1.2 samples/s.
	if e.Series != 12 || math.Abs(e.SamplesPerSecond-1.2) > 1e-9 {
		t.Fatalf("%d series at %v samples/s, want 12 at 1.2", e.Series, e.SamplesPerSecond)
	}
	// 10 days = 864000 s: 1.2 x 864000 = 1036800 samples; x 1-2 bytes x 1.2.
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"memory", e.MemoryBytes, 12 * 3000},
		{"disk (low)", e.DiskBytesLow, 1036800 * 1 * 1.2},
		{"disk (high)", e.DiskBytesHigh, 1036800 * 2 * 1.2},
		{"WAL", e.WALBytes, 1.2 * 3 * 3600 * 13},
	} {
		if math.Abs(c.got-c.want) > 1e-6*c.want {
			t.Errorf("%s: %v bytes, want %v", c.what, c.got, c.want)
		}
	}
	e30, err := sizing.FromSpec(s, sizing.Options{Retention: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(e30.DiskBytesHigh/e.DiskBytesHigh-3) > 1e-9 {
		t.Errorf("30 days of retention need %v bytes, 10 days %v: want three times as much", e30.DiskBytesHigh, e.DiskBytesHigh)
	}
}

// The InvestIQ spec: the API's declared families, the recording rules of
// its two SLOs, and the self-monitoring jobs named as not declared.
func TestInvestIQEstimate(t *testing.T) {
	e, err := sizing.FromSpec(spec.Default(), sizing.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// requests 10 + latency histogram 10 x 14 + errors 5 + 3 plain gauges
	// and counters + dependency health 5 + halted 1 = 164, + 5 synthetic.
	if got := e.Jobs[0].PerTarget; e.Jobs[0].Name != spec.JobAPI || got != 169 {
		t.Errorf("%s: %d series per target, want investiq-api with 169", e.Jobs[0].Name, got)
	}
	// Each SLO records 7 burn-rate windows, the 30d ratio, objective,
	// budget and budget remaining, each summed to one series.
	if len(e.Rules) != 22 {
		t.Errorf("%d recording rules, want 22", len(e.Rules))
	}
	for _, r := range e.Rules {
		if r.Series != 1 {
			t.Errorf("%s in %s: %d series, want 1 (it sums over everything)", r.Record, r.Group, r.Series)
		}
	}
	if !slices.Equal(e.Undeclared, []string{spec.JobPrometheus, spec.JobAlertmanager}) {
		t.Errorf("undeclared jobs %q", e.Undeclared)
	}
	if len(e.Unbounded) != 0 {
		t.Errorf("the InvestIQ spec bounds every label, but %q are unbounded", e.Unbounded)
	}
}
