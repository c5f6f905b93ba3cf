package validate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/investiq/investiq-mon/spec"
)

// seriesKind is what a series is for the functions over it.
type seriesKind int

const (
	kindUnknown seriesKind = iota // recording-rule output: any function goes
	kindCounter                   // counters and the _bucket/_sum/_count of histograms
	kindGauge
)

// seriesInfo is what the spec says about one series name.
type seriesInfo struct {
	kind seriesKind
	// labels maps each allowed label to its allowed values (nil: any).
	labels map[string][]string
	// anyLabel lets any label through (ALERTS carries the alert's labels,
	// recording rules carry whatever their expression keeps).
	anyLabel bool
	// histogram is the family name for _bucket/_sum/_count series.
	histogram string
	bucket    bool
	buckets   []float64
}

// universe is everything a query may name: the spec's metrics, the series
// Prometheus makes itself, and what the files being validated define.
type universe struct {
	spec        *spec.Spec
	series      map[string]*seriesInfo
	alerts      []string
	datasources map[string]bool
	// provisioned is set when provisioning files were among the inputs;
	// otherwise the spec's datasource uid is the only known one.
	provisioned bool
}

// scrapeSeries are the series Prometheus writes for every target, with
// --enable-feature=extra-scrape-metrics included.
var scrapeSeries = []string{"up", "scrape_duration_seconds", "scrape_samples_scraped",
	"scrape_samples_post_metric_relabeling", "scrape_series_added", "scrape_timeout_seconds",
	"scrape_sample_limit", "scrape_body_size_bytes"}

func newUniverse(opts Options, files []*file) *universe {
	s := opts.Spec
	u := &universe{spec: s, series: map[string]*seriesInfo{}, datasources: map[string]bool{}}
	for _, f := range files {
		u.alerts = append(u.alerts, f.alerts...)
		for _, d := range f.datasources {
			u.datasources[d] = true
			u.provisioned = true
		}
		if f.kind == KindProvisioning && len(f.datasources) > 0 {
			u.provisioned = true
		}
	}
	if s == nil {
		return u
	}
	if !u.provisioned && s.DatasourceUID != "" {
		u.datasources[s.DatasourceUID] = true
	}
	var jobs []string
	for _, j := range s.Jobs {
		jobs = append(jobs, j.Name)
	}
	for _, a := range s.Alerts {
		u.alerts = append(u.alerts, a.Name)
	}
	for _, a := range opts.Alerts {
		if !slices.Contains(u.alerts, a) {
			u.alerts = append(u.alerts, a)
		}
	}
	target := func(jobValues []string) map[string][]string {
		return map[string][]string{"job": jobValues, "instance": nil}
	}
	for _, m := range s.Metrics {
		jv := jobs
		if m.Job != "" {
			jv = []string{m.Job}
		}
		ls := target(jv)
		for _, l := range m.Labels {
			ls[l.Name] = l.Values
		}
		switch m.Type {
		case spec.Histogram:
			for _, name := range m.Series() {
				info := &seriesInfo{kind: kindCounter, labels: ls, histogram: m.Name}
				if strings.HasSuffix(name, "_bucket") {
					bl := map[string][]string{}
					for k, v := range ls {
						bl[k] = v
					}
					bl["le"] = nil
					info.labels, info.bucket, info.buckets = bl, true, m.Buckets
				}
				u.series[name] = info
			}
		case spec.Counter:
			u.series[m.Name] = &seriesInfo{kind: kindCounter, labels: ls}
		default:
			u.series[m.Name] = &seriesInfo{kind: kindGauge, labels: ls}
		}
	}
	for _, name := range scrapeSeries {
		u.series[name] = &seriesInfo{kind: kindGauge, labels: target(jobs)}
	}
	alertLabels := map[string][]string{"alertname": u.alerts, "alertstate": {"pending", "firing"}}
	u.series["ALERTS"] = &seriesInfo{kind: kindGauge, anyLabel: true, labels: alertLabels}
	u.series["ALERTS_FOR_STATE"] = &seriesInfo{kind: kindGauge, anyLabel: true, labels: map[string][]string{"alertname": u.alerts}}
	records := slices.Clone(opts.Records)
	for _, f := range files {
		records = append(records, f.records...)
	}
	for _, r := range records {
		if _, ok := u.series[r]; !ok {
			u.series[r] = &seriesInfo{kind: kindUnknown, anyLabel: true}
		}
	}
	return u
}

// problem is a cross-check finding inside one expression, at a byte offset.
type problem struct {
	offset   int
	severity Severity
	check    string
	msg      string
}

// selectorName is the metric name a selector asks for, if it names one.
func selectorName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

// checkExpr runs the spec cross-checks over one parsed expression. alert
// is set for alerting rule conditions, where a raw counter comparison is
// a bug (counters reset and only grow).
func (u *universe) checkExpr(expr parser.Expr, alert bool) []problem {
	var out []problem
	add := func(pos int, check, format string, args ...any) {
		out = append(out, problem{offset: pos, severity: Error, check: check, msg: fmt.Sprintf(format, args...)})
	}
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			u.checkSelector(n, add)
		case *parser.Call:
			switch n.Func.Name {
			case "rate", "increase", "irate":
				if len(n.Args) == 1 {
					if ms, ok := n.Args[0].(*parser.MatrixSelector); ok {
						vs := ms.VectorSelector.(*parser.VectorSelector)
						name := selectorName(vs)
						if info := u.series[name]; info != nil && info.kind == kindGauge {
							add(int(n.PosRange.Start), "promql/rate-gauge", "%s() over %s, which is a gauge: %s only makes sense over counters and histogram series (use deriv or delta for gauges)", n.Func.Name, name, n.Func.Name)
						}
					}
				}
			case "histogram_quantile":
				if len(n.Args) == 2 {
					if agg := u.dropsLe(n.Args[1]); agg != nil {
						add(int(agg.PosRange.Start), "promql/histogram-le", "histogram_quantile over _bucket series needs `le` kept by this %s: use `%s by (le, ...)`", agg.Op, agg.Op)
					}
				}
			}
		case *parser.BinaryExpr:
			if alert && n.Op.IsComparisonOperator() {
				for _, side := range []parser.Expr{n.LHS, n.RHS} {
					if name := u.rawCounter(side); name != "" {
						add(int(side.PositionRange().Start), "promql/raw-counter", "alert compares the raw counter %s: counters only grow and reset on restart; compare rate() or increase() of it instead", name)
					}
				}
			}
		}
		return nil
	})
	return out
}

func (u *universe) checkSelector(vs *parser.VectorSelector, add func(int, string, string, ...any)) {
	pos := int(vs.PosRange.Start)
	name := selectorName(vs)
	if name == "" {
		return // a selector by labels alone names no metric to check
	}
	info := u.series[name]
	if info == nil {
		hint := ""
		if m, ok := u.spec.Metric(name); ok && m.Type == spec.Histogram {
			hint = ": it is a histogram, query " + name + "_bucket, _sum or _count"
		} else if near := u.nearest(name); near != "" {
			hint = fmt.Sprintf(": did you mean %s?", near)
		}
		add(pos, "promql/unknown-metric", "metric %s is not declared in the spec%s", name, hint)
		return
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == model.MetricNameLabel {
			continue
		}
		allowed, ok := info.labels[m.Name]
		if !ok {
			if info.anyLabel {
				continue
			}
			add(pos, "promql/unknown-label", "label %q is not a label of %s (it has %s)", m.Name, name, labelList(info))
			continue
		}
		if m.Name == "le" && info.bucket {
			if m.Type == labels.MatchEqual && !isBucket(m.Value, info.buckets) {
				add(pos, "promql/unknown-label-value", "le=%q is not a bucket bound of %s (buckets: %s)", m.Value, name, bucketList(info.buckets))
			}
			continue
		}
		if allowed == nil || m.Value == "" || strings.Contains(m.Value, varMarker) {
			continue
		}
		switch m.Type {
		case labels.MatchEqual:
			if !slices.Contains(allowed, m.Value) {
				add(pos, "promql/unknown-label-value", "%s=%q: %s's %s is one of %s", m.Name, m.Value, name, m.Name, strings.Join(allowed, ", "))
			}
		case labels.MatchRegexp:
			if !slices.ContainsFunc(allowed, m.Matches) {
				add(pos, "promql/unknown-label-value", "%s=~%q matches no value of %s's %s (%s)", m.Name, m.Value, name, m.Name, strings.Join(allowed, ", "))
			}
		}
	}
}

func labelList(info *seriesInfo) string {
	var ls []string
	for l := range info.labels {
		ls = append(ls, l)
	}
	slices.Sort(ls)
	return strings.Join(ls, ", ")
}

func isBucket(v string, buckets []float64) bool {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return false
	}
	if v == "+Inf" {
		return true
	}
	return slices.Contains(buckets, f)
}

func bucketList(b []float64) string {
	s := make([]string, 0, len(b)+1)
	for _, v := range b {
		s = append(s, strconv.FormatFloat(v, 'g', -1, 64))
	}
	return strings.Join(append(s, "+Inf"), ", ")
}

// dropsLe returns the aggregation under a histogram_quantile argument that
// aggregates declared _bucket series away without keeping le; the
// quantile of that is meaningless (Prometheus returns nothing).
func (u *universe) dropsLe(e parser.Expr) *parser.AggregateExpr {
	var bad *parser.AggregateExpr
	parser.Inspect(e, func(node parser.Node, _ []parser.Node) error {
		agg, ok := node.(*parser.AggregateExpr)
		if !ok || bad != nil {
			return nil
		}
		switch agg.Op {
		case parser.TOPK, parser.BOTTOMK, parser.LIMITK, parser.LIMIT_RATIO:
			return nil // these keep every label of what they select
		}
		keeps := slices.Contains(agg.Grouping, "le")
		if agg.Without {
			keeps = !keeps
		}
		if !keeps && u.hasBucket(agg.Expr) {
			bad = agg
		}
		return nil
	})
	return bad
}

func (u *universe) hasBucket(e parser.Expr) bool {
	found := false
	parser.Inspect(e, func(node parser.Node, _ []parser.Node) error {
		if vs, ok := node.(*parser.VectorSelector); ok {
			if info := u.series[selectorName(vs)]; info != nil && info.bucket {
				found = true
			}
		}
		return nil
	})
	return found
}

// rawCounter names the counter an expression's value comes straight from
// (through parentheses, aggregations and arithmetic, but no function).
func (u *universe) rawCounter(e parser.Expr) string {
	switch n := e.(type) {
	case *parser.ParenExpr:
		return u.rawCounter(n.Expr)
	case *parser.VectorSelector:
		if info := u.series[selectorName(n)]; info != nil && info.kind == kindCounter {
			return selectorName(n)
		}
	case *parser.AggregateExpr:
		switch n.Op {
		case parser.SUM, parser.MIN, parser.MAX, parser.AVG, parser.TOPK, parser.BOTTOMK, parser.QUANTILE:
			return u.rawCounter(n.Expr)
		}
	case *parser.BinaryExpr:
		if !n.Op.IsComparisonOperator() && !n.Op.IsSetOperator() {
			if c := u.rawCounter(n.LHS); c != "" {
				return c
			}
			return u.rawCounter(n.RHS)
		}
	}
	return ""
}

// nearest is the declared series closest to a misspelt name, if one is
// within a few edits of it.
func (u *universe) nearest(name string) string {
	best, bestD := "", 4
	for s := range u.series {
		if d := editDistance(name, s); d < bestD || (d == bestD && s < best) {
			best, bestD = s, d
		}
	}
	return best
}

// editDistance is Levenshtein's distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
