package sizing

import (
	"testing"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/investiq/investiq-mon/spec"
)

// What a recording rule's PromQL returns, counted on the InvestIQ spec:
// endpoint has at most 10 values, the latency histogram 11 buckets + +Inf,
// dependency health 5 names, every job one target.
func TestRuleOutputSeries(t *testing.T) {
	for _, tc := range []struct {
		name string
		expr string
		want int
	}{
		{"a selector returns every series of the metric", `investiq_requests_total`, 10},
		{"rate keeps the series of its argument", `rate(investiq_requests_total[5m])`, 10},
		{"an equality matcher keeps one value", `investiq_requests_total{endpoint="/api/trades"}`, 1},
		{"a regex keeps the declared values it matches", `investiq_dependency_health{name=~"redis|database"}`, 2},
		{"a regex on le keeps the buckets it matches", `investiq_request_duration_milliseconds_bucket{le=~"500|1000"}`, 20},
		{"sum without grouping is one series", `sum(rate(investiq_requests_total[5m]))`, 1},
		{"sum by a label keeps its values", `sum by (endpoint) (rate(investiq_requests_total[5m]))`, 10},
		{"sum without a label drops it", `sum without (endpoint) (rate(investiq_requests_total[5m]))`, 1},
		{"histogram_quantile drops le", `histogram_quantile(0.9, sum by (le, endpoint) (rate(investiq_request_duration_milliseconds_bucket[5m])))`, 10},
		{"vector() is one series", `vector(1)`, 1},
		{"or of two single series with the same labels is one", `sum(rate(investiq_errors_total[5m])) or vector(0)`, 1},
		{"or of different label sets adds them", `investiq_errors_total or investiq_requests_total`, 15},
		{"a one-to-one operation matches at most the smaller side", `sum by (endpoint) (investiq_requests_total) / sum(investiq_requests_total)`, 1},
		{"absent returns nothing while the series exists", `absent(up{job="investiq-api"})`, 0},
		{"up of one job is its targets", `up{job="investiq-api"}`, 1},
		{"up of every job is every target", `up`, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expr, err := parser.NewParser(parser.Options{}).ParseExpr(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			if got := newInferrer(spec.Default()).infer(expr).count(); got != tc.want {
				t.Errorf("%s: %d series, want %d", tc.expr, got, tc.want)
			}
		})
	}
}
