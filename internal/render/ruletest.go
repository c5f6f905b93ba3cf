package render

import (
	"context"
	"fmt"
	"maps"
	"math"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/template"

	"github.com/investiq/investiq-mon/spec"
)

// defaultCaseInterval is promtool's sample spacing when none is given. The
// file's evaluation_interval is the spec's, so a case without an interval
// states 1m explicitly rather than inherit it.
const defaultCaseInterval = time.Minute

// TestName is the name of a case's test group: `--run` matches it, so a
// pattern can pick an alert, a case, or both.
func TestName(alert, caseName string) string { return alert + "/" + caseName }

// renderAlertRulesTest writes the spec's alert cases as a promtool test
// file next to the rules, evaluated at the spec's evaluation interval so
// `for` is tested at the resolution Prometheus will run it.
func renderAlertRulesTest(s *spec.Spec) ([]File, error) {
	tf := promTestFile{
		RuleFiles:          []string{path.Base(AlertRules)},
		EvaluationInterval: model.Duration(s.EvaluationInterval),
	}
	var problems []string
	for _, a := range s.Alerts {
		for i, c := range a.Cases {
			p := fmt.Sprintf("alerts[%s].cases[%d]", a.Name, i)
			g, err := ruleTestCase(s, a, c)
			if err != nil {
				problems = append(problems, p+": "+err.Error())
				continue
			}
			tf.Tests = append(tf.Tests, g)
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("render %s:\n%s", AlertRulesTest, strings.Join(problems, "\n"))
	}
	if len(tf.Tests) == 0 {
		return nil, nil
	}
	f, err := yamlFile(AlertRulesTest, "Unit tests of the alerting rules, from each alert's cases; run with `investiq-mon test` or `promtool test rules`.", tf)
	if err != nil {
		return nil, err
	}
	return []File{f.as(spec.Prometheus, RuleTest)}, nil
}

func ruleTestCase(s *spec.Spec, a spec.Alert, c spec.Case) (promTestGroup, error) {
	if c.Name == "" {
		return promTestGroup{}, fmt.Errorf("a case needs a name")
	}
	interval := c.Interval
	if interval == 0 {
		interval = defaultCaseInterval
	}
	g := promTestGroup{Name: TestName(a.Name, c.Name), Interval: model.Duration(interval)}
	for _, in := range c.Series {
		g.InputSeries = append(g.InputSeries, promTestSeries(in))
	}
	for _, ch := range c.Checks {
		t := promAlertTest{EvalTime: model.Duration(ch.At), Alertname: a.Name, ExpAlerts: []promExpAlert{}}
		for _, e := range ch.Firing {
			exp, err := expectedAlert(s, a, e)
			if err != nil {
				return promTestGroup{}, fmt.Errorf("check at %s: %w", dur(ch.At), err)
			}
			t.ExpAlerts = append(t.ExpAlerts, exp)
		}
		g.AlertRuleTests = append(g.AlertRuleTests, t)
	}
	return g, nil
}

// usesValue matches a template that reads the alert's value, which only
// the case's author can state.
var usesValue = regexp.MustCompile(`\$value\b|\.Value\b`)

// expectedAlert is the alert as Prometheus will send it: the series'
// labels plus the rule's, and every annotation. Annotations the case does
// not give are the rule's templates expanded with the series' labels, as
// Prometheus expands them; one that reads $value must be given.
func expectedAlert(s *spec.Spec, a spec.Alert, e spec.Expected) (promExpAlert, error) {
	lbls := map[string]string{}
	maps.Copy(lbls, e.Labels)
	maps.Copy(lbls, AlertLabels(a))
	ann := map[string]string{}
	rule := AlertAnnotations(s, a)
	for k := range e.Annotations {
		if _, ok := rule[k]; !ok {
			return promExpAlert{}, fmt.Errorf("annotation %q: the rule has no such annotation", k)
		}
	}
	for k, text := range rule {
		if v, ok := e.Annotations[k]; ok {
			ann[k] = v
			continue
		}
		if usesValue.MatchString(text) {
			return promExpAlert{}, fmt.Errorf("annotation %q uses $value: give its expected text in Expected.Annotations", k)
		}
		v, err := expandAnnotation(a.Name, text, e.Labels)
		if err != nil {
			return promExpAlert{}, fmt.Errorf("annotation %q: %w", k, err)
		}
		// Prometheus drops an annotation that expands to nothing.
		if v != "" {
			ann[k] = v
		}
	}
	return promExpAlert{ExpLabels: lbls, ExpAnnotations: ann}, nil
}

// expandAnnotation expands an annotation template the way the rules
// manager does (same variables, same template package), with no value.
func expandAnnotation(alert, text string, lbls map[string]string) (string, error) {
	defs := "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
	data := template.AlertTemplateData(lbls, nil, "", promql.Sample{F: math.NaN()})
	exp := template.NewTemplateExpander(context.Background(), defs+text, "__alert_"+alert, data, model.Time(0), nil, nil, nil)
	return exp.Expand()
}
