// Package sizing estimates, from the spec alone, how many series the
// InvestIQ stack's Prometheus holds and what memory and disk a retention
// needs at the spec's scrape and evaluation intervals.
//
// Series are counted as Prometheus creates them: per target, every
// combination of a metric's label values (its declared Values, else its
// MaxValues), a histogram's buckets plus +Inf, _sum and _count, the five
// series Prometheus adds to every scrape, and the output of every
// recording rule, worked out from its PromQL (an aggregation keeps the
// combinations of the labels it groups by). The resource figures follow
// the published rules of thumb named on the constants below, so they are
// planning figures, not guarantees.
package sizing

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/spec"
)

// The figures and where they come from.
const (
	// SyntheticSeriesPerTarget are the series Prometheus writes for every
	// scrape of a target: up, scrape_duration_seconds,
	// scrape_samples_scraped, scrape_samples_post_metric_relabeling and
	// scrape_series_added (Prometheus docs, "Jobs and instances").
	SyntheticSeriesPerTarget = 5
	// BytesPerSampleLow and BytesPerSampleHigh bound a sample on disk
	// after compression: "On average, Prometheus uses only around 1-2
	// bytes per sample" (Prometheus docs, "Storage", operational aspects).
	BytesPerSampleLow  = 1.0
	BytesPerSampleHigh = 2.0
	// BlockOverhead allows 10% for blocks straddling the retention
	// boundary and 10% of temporary space during compaction (Robust
	// Perception, "How much disk space do Prometheus blocks use?").
	BlockOverhead = 1.2
	// HeadBytesPerSeries is the memory of one series in the head block,
	// its samples at a usual scrape interval included: "as of Prometheus
	// 2.20 a good rule of thumb should be around 3kB per series in the
	// head" (Robust Perception, "Why does Prometheus use so much RAM?").
	HeadBytesPerSeries = 3000
	// WALBytesPerSample is a sample record in the write-ahead log before
	// compression, about 13 bytes (Robust Perception, "How much space does
	// the WAL take up?"); WALSpan is the raw data it keeps: at least two
	// hours (Prometheus docs, "Storage"), up to three before the head is
	// compacted.
	WALBytesPerSample = 13
	WALSpan           = 3 * time.Hour
)

// Estimate is what the spec's stack needs.
type Estimate struct {
	Retention time.Duration `json:"-"`
	// RetentionSeconds is Retention for JSON readers.
	RetentionSeconds float64 `json:"retentionSeconds"`
	Jobs             []Job   `json:"jobs"`
	Rules            []Rule  `json:"rules"`
	// Series is every series in the head in steady state: the jobs' and
	// the recording rules'. ALERTS series exist only while alerts are
	// pending or firing: AlertSeries is their most, two per alert instance
	// (ALERTS and ALERTS_FOR_STATE), not included in Series.
	Series      int `json:"series"`
	AlertSeries int `json:"alertSeries"`
	// SamplesPerSecond is the ingestion rate: each series once per scrape
	// or evaluation interval.
	SamplesPerSecond float64 `json:"samplesPerSecond"`
	// MemoryBytes is the head's memory (Series x HeadBytesPerSeries); the
	// process needs some tens of MB more for itself.
	MemoryBytes float64 `json:"memoryBytes"`
	// DiskBytesLow and DiskBytesHigh bound the blocks for Retention; WAL
	// is the write-ahead log on top.
	DiskBytesLow  float64 `json:"diskBytesLow"`
	DiskBytesHigh float64 `json:"diskBytesHigh"`
	WALBytes      float64 `json:"walBytes"`
	// Unbounded names the labels with neither Values nor MaxValues, each
	// counted once: the estimate is a floor until they are bounded.
	Unbounded []string `json:"unbounded,omitempty"`
	// Undeclared names the jobs whose own metrics the spec does not
	// declare (Prometheus and Alertmanager scraping themselves): only their
	// synthetic series are counted.
	Undeclared []string `json:"undeclared,omitempty"`
}

// Job is one scrape job's share.
type Job struct {
	Name     string        `json:"name"`
	Targets  int           `json:"targets"`
	Interval time.Duration `json:"-"`
	// IntervalSeconds is Interval for JSON readers.
	IntervalSeconds float64 `json:"intervalSeconds"`
	// PerTarget is the declared metrics' series plus the synthetic ones.
	PerTarget int      `json:"perTarget"`
	Series    int      `json:"series"`
	Metrics   []Metric `json:"metrics,omitempty"`
	// Declared is false for a job whose metrics the spec does not declare.
	Declared bool `json:"declared"`
}

// Metric is one metric family's series per target, and why.
type Metric struct {
	Name    string `json:"name"`
	Series  int    `json:"series"`
	Formula string `json:"formula"`
}

// Rule is one recording rule's output.
type Rule struct {
	Record   string        `json:"record"`
	Group    string        `json:"group"`
	Interval time.Duration `json:"-"`
	Series   int           `json:"series"`
}

// Options tune the estimate.
type Options struct {
	// Retention overrides the spec's.
	Retention time.Duration
}

// FromSpec estimates the stack the spec renders.
func FromSpec(s *spec.Spec, opts Options) (*Estimate, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	e := &Estimate{Retention: s.Retention, Unbounded: s.UnboundedLabels()}
	if opts.Retention > 0 {
		e.Retention = opts.Retention
	}
	e.RetentionSeconds = e.Retention.Seconds()
	for _, j := range s.Jobs {
		job := Job{Name: j.Name, Targets: len(j.Targets), Interval: j.Interval, IntervalSeconds: j.Interval.Seconds(), PerTarget: SyntheticSeriesPerTarget}
		for _, m := range s.Metrics {
			if m.Job != j.Name {
				continue
			}
			n, formula := metricSeries(m)
			job.Metrics = append(job.Metrics, Metric{Name: m.Name, Series: n, Formula: formula})
			job.PerTarget += n
		}
		job.Declared = len(job.Metrics) > 0 || !j.StackAuth
		if !job.Declared {
			e.Undeclared = append(e.Undeclared, j.Name)
		}
		job.Series = job.PerTarget * job.Targets
		e.Jobs = append(e.Jobs, job)
		e.Series += job.Series
		e.SamplesPerSecond += float64(job.Series) / j.Interval.Seconds()
	}

	rules, alertSeries, err := ruleSeries(s)
	if err != nil {
		return nil, err
	}
	e.Rules, e.AlertSeries = rules, alertSeries
	for _, r := range rules {
		e.Series += r.Series
		e.SamplesPerSecond += float64(r.Series) / r.Interval.Seconds()
	}

	e.MemoryBytes = float64(e.Series) * HeadBytesPerSeries
	samples := e.SamplesPerSecond * e.Retention.Seconds()
	e.DiskBytesLow = samples * BytesPerSampleLow * BlockOverhead
	e.DiskBytesHigh = samples * BytesPerSampleHigh * BlockOverhead
	e.WALBytes = e.SamplesPerSecond * WALSpan.Seconds() * WALBytesPerSample
	return e, nil
}

// metricSeries is a metric family's series per target: every combination
// of its labels' values, times the series a histogram exposes for each.
func metricSeries(m spec.Metric) (int, string) {
	n := 1
	var parts []string
	for _, l := range m.Labels {
		c := l.Cardinality()
		n *= c
		switch {
		case len(l.Values) > 0:
			parts = append(parts, fmt.Sprintf("%d %s", c, l.Name))
		case l.MaxValues > 0:
			parts = append(parts, fmt.Sprintf("at most %d %s", c, l.Name))
		default:
			parts = append(parts, fmt.Sprintf("1 %s (unbounded)", l.Name))
		}
	}
	if m.Type == spec.Histogram {
		per := len(m.Buckets) + 3
		n *= per
		parts = append(parts, fmt.Sprintf("(%d buckets + +Inf + _sum + _count)", len(m.Buckets)))
	}
	if len(parts) == 0 {
		return n, "1"
	}
	return n, strings.Join(parts, " × ")
}

// ruleSeries reads the rule files the spec renders, exactly as Prometheus
// loads them, and counts each recording rule's output series and the
// alert series the alerting rules can create.
func ruleSeries(s *spec.Spec) ([]Rule, int, error) {
	files, err := render.Render(s)
	if err != nil {
		return nil, 0, err
	}
	byPath := map[string][]byte{}
	for _, f := range files {
		byPath[f.Path] = f.Data
	}
	in := newInferrer(s)
	var rules []Rule
	alerts := 0
	p := parser.NewParser(parser.Options{})
	for _, name := range render.RuleFiles(s) {
		path := "prometheus/" + name
		data, ok := byPath[path]
		if !ok {
			return nil, 0, fmt.Errorf("sizing: rule file %s was not rendered", path)
		}
		groups, errs := rulefmt.Parse(data, false, model.UTF8Validation, p, slog.New(slog.DiscardHandler))
		if len(errs) > 0 {
			return nil, 0, fmt.Errorf("sizing: %s: %w", path, errs[0])
		}
		for _, g := range groups.Groups {
			interval := s.EvaluationInterval
			if g.Interval != 0 {
				interval = time.Duration(g.Interval)
			}
			for _, r := range g.Rules {
				expr, err := p.ParseExpr(r.Expr)
				if err != nil {
					return nil, 0, fmt.Errorf("sizing: %s: %s: %w", path, r.Expr, err)
				}
				out := in.infer(expr)
				labels := map[string]string{}
				for k, v := range g.Labels {
					labels[k] = v
				}
				for k, v := range r.Labels {
					labels[k] = v
				}
				if r.Record != "" {
					in.record(r.Record, out, labels)
					rules = append(rules, Rule{Record: r.Record, Group: g.Name, Interval: interval, Series: out.count()})
				} else {
					alerts += 2 * out.count()
				}
			}
		}
	}
	slices.SortStableFunc(rules, func(a, b Rule) int { return strings.Compare(a.Group, b.Group) })
	return rules, alerts, nil
}
