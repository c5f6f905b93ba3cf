package validate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/spec"
)

// write puts files (name -> content) in a fresh directory and returns it.
func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func run(t *testing.T, opts Options, paths ...string) *Result {
	t.Helper()
	res, err := Run(context.Background(), paths, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// alertFile is a rule file with one complete alert on expr.
func alertFile(expr string) string {
	return fmt.Sprintf(`groups:
  - name: g
    rules:
      - alert: Test
        expr: %s
        labels:
          severity: warning
        annotations:
          summary: s
          description: d
`, expr)
}

func recordFile(expr string) string {
	return fmt.Sprintf(`groups:
  - name: g
    rules:
      - record: test:record
        expr: %s
`, expr)
}

// Each cross-check class: a rule that trips it (the finding must name the
// check and sit on the expr line, 5) and a near miss that must not.
func TestCrossChecks(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		check string // empty: no finding at all
		line  int
		col   int
	}{
		{"an undeclared metric is reported", recordFile(`sum(investiq_request_total)`), "promql/unknown-metric", 5, 19},
		{"a histogram's family name alone is not a series", recordFile(`investiq_request_duration_milliseconds`), "promql/unknown-metric", 5, 15},
		{"histogram _bucket, _sum and _count are known", recordFile(`sum(rate(investiq_request_duration_milliseconds_sum[5m])) / sum(rate(investiq_request_duration_milliseconds_count[5m]))`), "", 0, 0},
		{"up, ALERTS and scrape series are known", recordFile(`up + on() group_left scrape_duration_seconds or ALERTS{alertstate="firing"} or ALERTS_FOR_STATE`), "", 0, 0},
		{"an undeclared label is reported", recordFile(`sum(investiq_errors_total{kind="db"})`), "promql/unknown-label", 5, 19},
		{"job and instance are every metric's labels", recordFile(`sum(investiq_errors_total{job="investiq-api", instance=~".+"})`), "", 0, 0},
		{"le is a label of _bucket only", recordFile(`sum(investiq_request_duration_milliseconds_count{le="500"})`), "promql/unknown-label", 5, 19},
		{"a value outside the allowed ones is reported", recordFile(`investiq_dependency_health{name="postgres"}`), "promql/unknown-label-value", 5, 15},
		{"a regex matching no allowed value is reported", recordFile(`investiq_dependency_health{name=~"pg|mysql"}`), "promql/unknown-label-value", 5, 15},
		{"a regex matching an allowed value passes", recordFile(`investiq_dependency_health{name=~"redis|pg"}`), "", 0, 0},
		{"a job the spec does not scrape is reported", recordFile(`up{job="api"}`), "promql/unknown-label-value", 5, 15},
		{"a metric queried under another job is reported", recordFile(`investiq_trades_total{job="ml-service"}`), "promql/unknown-label-value", 5, 15},
		{"an le that is not a bucket bound is reported", recordFile(`investiq_request_duration_milliseconds_bucket{le="750"}`), "promql/unknown-label-value", 5, 15},
		{"le=+Inf and a real bound pass", recordFile(`investiq_request_duration_milliseconds_bucket{le="+Inf"} - on(endpoint) investiq_request_duration_milliseconds_bucket{le="500"}`), "", 0, 0},
		{"rate over a gauge is reported", recordFile(`rate(investiq_active_connections[5m])`), "promql/rate-gauge", 5, 15},
		{"increase over a gauge is reported", recordFile(`sum(increase(investiq_trading_halted[1h]))`), "promql/rate-gauge", 5, 19},
		{"rate over a counter and a histogram passes", recordFile(`rate(investiq_trades_total[5m]) or irate(investiq_request_duration_milliseconds_bucket[5m])`), "", 0, 0},
		{"histogram_quantile dropping le is reported", recordFile(`histogram_quantile(0.9, sum(rate(investiq_request_duration_milliseconds_bucket[5m])))`), "promql/histogram-le", 5, 39},
		{"histogram_quantile aggregating le away with without is reported", recordFile(`histogram_quantile(0.9, sum without (le) (rate(investiq_request_duration_milliseconds_bucket[5m])))`), "promql/histogram-le", 5, 39},
		{"histogram_quantile keeping le passes", recordFile(`histogram_quantile(0.9, sum by (le, endpoint) (rate(investiq_request_duration_milliseconds_bucket[5m])))`), "", 0, 0},
		{"an alert comparing a raw counter is reported", alertFile(`sum(investiq_errors_total) > 100`), "promql/raw-counter", 5, 15},
		{"an alert comparing a counter's rate passes", alertFile(`sum(rate(investiq_errors_total[5m])) > 1`), "", 0, 0},
		{"a recording rule may keep a raw counter", recordFile(`sum(investiq_errors_total) > 0`), "", 0, 0},
		{"recording-rule outputs are known series", recordFile(`sum(rate(investiq_trades_total[5m]))`) + `      - record: test:derived
        expr: test:record * 60
`, "", 0, 0},
		{"an alert without severity is reported", strings.Replace(alertFile(`up == 0`), "          severity: warning\n", "          team: api\n", 1), "alerts/severity", 4, 9},
		{"an alert with a severity outside critical, warning, info is reported", strings.Replace(alertFile(`up == 0`), "severity: warning", "severity: page", 1), "alerts/severity", 7, 11},
		{"an alert without summary is reported", strings.Replace(alertFile(`up == 0`), "          summary: s\n", "", 1), "alerts/annotations", 4, 9},
		{"an alert without description is reported", strings.Replace(alertFile(`up == 0`), "          description: d\n", "", 1), "alerts/annotations", 4, 9},
		{"a block-scalar expr is located on its own line", "groups:\n  - name: g\n    rules:\n      - record: test:x\n        expr: |\n          sum(\n            nope_total\n          )\n", "promql/unknown-metric", 7, 13},
	}
	s := spec.Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := write(t, map[string]string{"rules.yml": tt.file})
			res := run(t, Options{Spec: s, Profile: ProfileAll}, dir)
			if tt.check == "" {
				if len(res.Findings) > 0 {
					t.Fatalf("want no finding, got:\n%s", findingsText(res))
				}
				return
			}
			var got []Finding
			for _, f := range res.Findings {
				if f.Check == tt.check {
					got = append(got, f)
				}
			}
			if len(got) != 1 {
				t.Fatalf("want one %s finding, got:\n%s", tt.check, findingsText(res))
			}
			if got[0].Line != tt.line || got[0].Col != tt.col || got[0].Severity != Error {
				t.Errorf("want an error at %d:%d, got %s", tt.line, tt.col, got[0])
			}
			// Silencing the check drops exactly that finding.
			res = run(t, Options{Spec: s, Profile: ProfileAll, Disable: []string{tt.check}}, dir)
			for _, f := range res.Findings {
				if f.Check == tt.check {
					t.Errorf("--disable %s kept %s", tt.check, f)
				}
			}
		})
	}
}

// Without a spec only the upstream checks run: the same undeclared metric
// passes, as it does in promtool.
func TestNoSpecRunsUpstreamChecksOnly(t *testing.T) {
	dir := write(t, map[string]string{"rules.yml": alertFile(`sum(nope_total) > 1`)})
	if res := run(t, Options{}, dir); len(res.Findings) > 0 {
		t.Fatalf("want no finding without a spec, got:\n%s", findingsText(res))
	}
}

// An Alertmanager route naming a receiver that does not exist is the
// upstream loader's error; validate must place it on the route.
func TestUnknownReceiverIsLocated(t *testing.T) {
	dir := write(t, map[string]string{"am.yml": `route:
  receiver: team
  routes:
    - matchers: [severity="critical"]
      receiver: oncall
receivers:
  - name: team
    webhook_configs:
      - url_file: /run/secrets/webhook_url
`})
	res := run(t, Options{Spec: spec.Default(), Profile: ProfileAll}, dir)
	if len(res.Findings) != 1 {
		t.Fatalf("want one finding, got:\n%s", findingsText(res))
	}
	f := res.Findings[0]
	if f.Check != "alertmanager/unknown-receiver" || f.Line != 5 || f.Col != 17 {
		t.Errorf("want alertmanager/unknown-receiver at 5:17, got %s", f)
	}
}

// Dashboard queries go through the same cross-checks, located at the
// target's expr in the JSON.
func TestDashboardCrossChecks(t *testing.T) {
	dash := `{
  "uid": "d",
  "title": "D", "schemaVersion": 42, "templating": {"list": []}, "annotations": {"list": []},
  "panels": [
    {
      "id": 1, "type": "timeseries", "title": "Errors",
      "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
      "datasource": {"type": "prometheus", "uid": "investiq-prometheus"},
      "targets": [
        {"refId": "A", "expr": "sum by (type) (rate(investiq_error_total{type=~\"$type\"}[$__rate_interval]))"}
      ]
    }
  ]
}
`
	dir := write(t, map[string]string{"d.json": dash})
	res := run(t, Options{Spec: spec.Default(), Profile: ProfileAll}, dir)
	if len(res.Findings) != 1 || res.Findings[0].Check != "promql/unknown-metric" || res.Findings[0].Line != 10 {
		t.Fatalf("want one promql/unknown-metric on line 10, got:\n%s", findingsText(res))
	}
}

// A dashboard validated alone (validate monitoring/grafana) knows the
// series the spec's rendered recording rules write, through
// Options.Records, as read by RuleNames; a name no rule records is still
// unknown.
func TestDashboardAloneKnowsTheSpecsRecordingRules(t *testing.T) {
	dir, s := generated(t)
	files, err := render.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	var records, alerts []string
	for _, f := range files {
		if k, err := Detect(f.Path, f.Data); err != nil || k != KindRules {
			continue
		}
		r, a, err := RuleNames(f.Data)
		if err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		records, alerts = append(records, r...), append(alerts, a...)
	}
	if !slices.Contains(records, "slo:objective:ratio") {
		t.Fatalf("RuleNames of the rendered rule files lack slo:objective:ratio: %v", records)
	}
	dash := filepath.Join(dir, filepath.FromSlash(render.DashboardsDir), "investiq-slo.json")
	opts := Options{Spec: s, Profile: ProfileAll, Records: records, Alerts: alerts}

	if res := run(t, Options{Spec: s, Profile: ProfileAll}, dash); res.Errors() == 0 {
		t.Fatal("without Records the SLO dashboard alone should name unknown series; the test proves nothing")
	}
	if res := run(t, opts, dash); len(res.Findings) > 0 {
		t.Fatalf("the generated SLO dashboard alone has findings:\n%s", findingsText(res))
	}

	data, err := os.ReadFile(dash)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), "slo:objective:ratio{", "slo:nope:ratio{", 1)
	if bad == string(data) {
		t.Fatal("the SLO dashboard no longer queries slo:objective:ratio")
	}
	badPath := filepath.Join(t.TempDir(), "investiq-slo.json")
	if err := os.WriteFile(badPath, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	res := run(t, opts, badPath)
	if len(res.Findings) != 1 || res.Findings[0].Check != "promql/unknown-metric" || !strings.Contains(res.Findings[0].Message, "slo:nope:ratio") {
		t.Fatalf("want one unknown-metric finding for slo:nope:ratio, got:\n%s", findingsText(res))
	}
}

func TestRuleNamesRefusesABrokenFile(t *testing.T) {
	if _, _, err := RuleNames([]byte("groups:\n  - name: g\n    rules:\n      - record: x\n        expr: sum(\n")); err == nil {
		t.Fatal("RuleNames of a broken rule file: want an error")
	}
	r, a, err := RuleNames([]byte(recordFile("up") + strings.Replace(alertFile("up == 0"), "groups:\n  - name: g", "  - name: h", 1)))
	if err != nil || !slices.Equal(r, []string{"test:record"}) || !slices.Equal(a, []string{"Test"}) {
		t.Fatalf("RuleNames = %v, %v, %v", r, a, err)
	}
}
