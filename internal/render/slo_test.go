package render_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/ruletest"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// promtool checks the rule file and runs the rendered unit tests, exactly
// as `promtool test rules monitoring/prometheus/slo_rules_test.yml` would.
func TestSLORulesPassRealPromtool(t *testing.T) {
	promtool := testutil.Bin(t, "promtool")
	dir, _ := renderTo(t)
	for _, args := range [][]string{
		{"check", "rules", filepath.Join(dir, render.SLORules)},
		{"test", "rules", filepath.Join(dir, render.SLORulesTest)},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// The rendered tests must be able to fail: each mutation below breaks one
// part of the rules, and promtool must then report the scenario that
// exercises it. --run keeps each run to the groups concerned.
func TestSLOTestsCatchBrokenRules(t *testing.T) {
	promtool := testutil.Bin(t, "promtool")
	for _, tc := range []struct {
		name, old, new, run, want string
	}{
		{"a page factor of 144 instead of 14.4 misses the fast burn",
			"(14.4 * 0.001)", "(144 * 0.001)", "availability: a fast burn", "AvailabilityBudgetBurnFast"},
		{"a page factor of 60 instead of 6 misses the sustained burn",
			"(6 * 0.01)", "(60 * 0.01)", "latency: a sustained burn", "LatencyBudgetBurnFast"},
		{"a ticket factor of 2 instead of 1 misses the slow burn",
			"(1 * 0.001)", "(2 * 0.001)", "availability: a slow burn", "AvailabilityBudgetBurnSlow"},
		{"without `or vector(0)` an API that never failed has no SLI",
			" or vector(0)", "", "never failed", "slo:sli_error:ratio_rate5m"},
		{"a 6m window instead of 5m changes the recorded ratio",
			"[5m]", "[6m]", "fast burn", "slo:sli_error:ratio_rate5m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, _ := renderTo(t)
			rules := filepath.Join(dir, render.SLORules)
			data, err := os.ReadFile(rules)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), tc.old) {
				t.Fatalf("%s does not contain %q: the mutation is stale", render.SLORules, tc.old)
			}
			if err := os.WriteFile(rules, []byte(strings.ReplaceAll(string(data), tc.old, tc.new)), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(promtool, "test", "rules", "--run", tc.run, filepath.Join(dir, render.SLORulesTest)).CombinedOutput()
			if err == nil {
				t.Fatalf("promtool passed the broken rules:\n%s", out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("promtool failed, but not on %s:\n%s", tc.want, out)
			}
		})
	}
}

func TestPrometheusLoadsTheSLORules(t *testing.T) {
	dir, _ := renderTo(t)
	cfg, err := promconfig.LoadFile(filepath.Join(dir, render.PrometheusConfig), false, promslog.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cfg.RuleFiles, filepath.Join(dir, render.SLORules)) {
		t.Errorf("prometheus.yml rule_files = %v, want %s among them", cfg.RuleFiles, render.SLORules)
	}
	s := spec.Default()
	s.SLOs = nil
	if got := render.RuleFiles(s); slices.Contains(got, "slo_rules.yml") {
		t.Errorf("a spec without SLOs still loads slo_rules.yml: %v", got)
	}
}

// recorded returns every series slo_rules.yml records, and its alerts.
func recorded(t *testing.T, dir string) (records map[string]bool, alerts []rulefmt.Rule) {
	t.Helper()
	groups, errs := rulefmt.ParseFile(filepath.Join(dir, render.SLORules), false, model.UTF8Validation, parser.NewParser(parser.Options{}), promslog.NewNopLogger())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	records = map[string]bool{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				records[r.Record+"/"+r.Labels[render.SLOLabel]] = true
			} else {
				alerts = append(alerts, r)
			}
		}
	}
	return records, alerts
}

func TestSLORulesRecordEveryWindowTheAlertsRead(t *testing.T) {
	dir, _ := renderTo(t)
	records, alerts := recorded(t, dir)
	for _, slo := range spec.Default().SLOs {
		for _, w := range []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"} {
			if !records[render.SLOErrorRatioRecord+w+"/"+slo.Name] {
				t.Errorf("slo %s: %s%s is not recorded", slo.Name, render.SLOErrorRatioRecord, w)
			}
		}
		for _, r := range []string{render.SLOObjectiveRecord, render.SLOErrorBudgetRecord, render.SLOBudgetRemainingRecord} {
			if !records[r+"/"+slo.Name] {
				t.Errorf("slo %s: %s is not recorded", slo.Name, r)
			}
		}
	}
	if len(alerts) != 2*len(spec.Default().SLOs) {
		t.Fatalf("%d SLO alerts, want a page and a ticket per SLO", len(alerts))
	}
	// Every series an alert reads is recorded.
	for _, a := range alerts {
		expr, err := parser.NewParser(parser.Options{}).ParseExpr(a.Expr)
		if err != nil {
			t.Fatal(err)
		}
		for _, vs := range selectors(expr) {
			if !records[vs.name+"/"+vs.slo] {
				t.Errorf("alert %s reads %s{slo=%q}, which no rule records", a.Alert, vs.name, vs.slo)
			}
		}
	}
}

type selector struct{ name, slo string }

func selectors(expr parser.Expr) []selector {
	var out []selector
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			sel := selector{name: vs.Name}
			for _, m := range vs.LabelMatchers {
				if m.Name == render.SLOLabel {
					sel.slo = m.Value
				}
			}
			out = append(out, sel)
		}
		return nil
	})
	return out
}

// The SLO dashboard is derived from the SLOs; every series it queries must
// be one the SLO rules record, for an SLO that exists.
func TestSLODashboardQueriesRecordedSeries(t *testing.T) {
	dir, _ := renderTo(t)
	records, _ := recorded(t, dir)
	var found bool
	for _, d := range render.Dashboards(spec.Default()) {
		if d.UID != "investiq-slo" {
			continue
		}
		found = true
		for _, row := range d.Rows {
			for _, p := range row.Panels {
				for _, q := range p.Queries {
					expr, err := parser.NewParser(parser.Options{}).ParseExpr(q.Expr)
					if err != nil {
						t.Fatalf("%s: %v", p.Title, err)
					}
					for _, vs := range selectors(expr) {
						if !records[vs.name+"/"+vs.slo] {
							t.Errorf("panel %q queries %s{slo=%q}, which slo_rules.yml does not record", p.Title, vs.name, vs.slo)
						}
					}
				}
			}
		}
	}
	if !found {
		t.Fatal("no dashboard with uid investiq-slo")
	}
	if _, err := os.Stat(filepath.Join(dir, render.DashboardsDir, "investiq-slo.json")); err != nil {
		t.Error(err)
	}
}

// `investiq-mon test` runs the same file in-process with the Prometheus
// rule engine; it must agree with promtool on the real rules and on a
// broken one.
func TestSLOTestsPassInvestiqMonTestEngine(t *testing.T) {
	dir, _ := renderTo(t)
	file := filepath.Join(dir, render.SLORulesTest)
	res := ruletest.Run(context.Background(), ruletest.Disk{}, []string{file}, ruletest.Options{})
	var buf bytes.Buffer
	ruletest.WriteText(&buf, res, false)
	if sum := ruletest.Summarize(res); !sum.OK() || sum.Failed != 0 || len(res) != 1 || len(res[0].Groups) < 8 {
		t.Fatalf("investiq-mon test engine on %s:\n%s", render.SLORulesTest, buf.String())
	}

	rules := filepath.Join(dir, render.SLORules)
	data, err := os.ReadFile(rules)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rules, bytes.ReplaceAll(data, []byte("(14.4 * 0.001)"), []byte("(144 * 0.001)")), 0o644); err != nil {
		t.Fatal(err)
	}
	res = ruletest.Run(context.Background(), ruletest.Disk{}, []string{file}, ruletest.Options{Run: regexp.MustCompile("availability: a fast burn")})
	if ruletest.Summarize(res).OK() {
		t.Fatal("the engine passed a page factor of 144")
	}
}
