package validate

import (
	"bytes"
	"os"
	"path/filepath"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// ruleTestFile mirrors promtool's unit test file (cmd/promtool/unittest.go),
// which promtool decodes strictly: an unknown field is an error there too.
type ruleTestFile struct {
	RuleFiles          []string       `yaml:"rule_files"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval,omitempty"`
	GroupEvalOrder     []string       `yaml:"group_eval_order"`
	FuzzyCompare       bool           `yaml:"fuzzy_compare,omitempty"`
	Tests              []struct {
		Interval    model.Duration `yaml:"interval"`
		InputSeries []struct {
			Series string `yaml:"series"`
			Values string `yaml:"values"`
		} `yaml:"input_series"`
		AlertRuleTests []struct {
			EvalTime  model.Duration `yaml:"eval_time"`
			Alertname string         `yaml:"alertname"`
			ExpAlerts []struct {
				ExpLabels      map[string]string `yaml:"exp_labels"`
				ExpAnnotations map[string]string `yaml:"exp_annotations"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test,omitempty"`
		PromqlExprTests []struct {
			Expr       string         `yaml:"expr"`
			EvalTime   model.Duration `yaml:"eval_time"`
			ExpSamples []struct {
				Labels    string  `yaml:"labels"`
				Value     float64 `yaml:"value"`
				Histogram string  `yaml:"histogram"`
			} `yaml:"exp_samples"`
		} `yaml:"promql_expr_test,omitempty"`
		ExternalLabels map[string]string `yaml:"external_labels,omitempty"`
		ExternalURL    string            `yaml:"external_url,omitempty"`
		TestGroupName  string            `yaml:"name,omitempty"`
		StartTimestamp any               `yaml:"start_timestamp,omitempty"`
	} `yaml:"tests"`
}

// checkRuleTest checks a promtool rule-test file without running it (that
// is `investiq-mon test`): structure, that its rule files exist, and that
// every input series, expected label set and PromQL expression parses.
func checkRuleTest(f *file, opts Options) {
	root, err := parseYAML(f.data)
	if err != nil {
		line, col := yamlErrorPos(err)
		f.errorf(line, col, "rule-test/invalid", "%v", err)
		return
	}
	var t ruleTestFile
	if err := root.Decode(&t); err != nil {
		for _, lm := range splitYAMLError(err.Error()) {
			line, col := lm.at(root)
			f.errorf(line, col, "rule-test/invalid", "%s", lm.msg)
		}
		return
	}
	// Strictness as promtool: decode again rejecting unknown fields.
	dec := yaml.NewDecoder(bytes.NewReader(f.data))
	dec.KnownFields(true)
	var strict ruleTestFile
	if err := dec.Decode(&strict); err != nil {
		for _, lm := range splitYAMLError(err.Error()) {
			line, col := lm.at(root)
			f.errorf(line, col, "rule-test/invalid", "%s", lm.msg)
		}
		return
	}
	if !opts.SyntaxOnly {
		rf := mapGet(root, "rule_files")
		for i, p := range t.RuleFiles {
			full := p
			if !filepath.IsAbs(full) {
				full = filepath.Join(filepath.Dir(f.path), p)
			}
			matches, _ := filepath.Glob(full)
			if len(matches) == 0 {
				if _, err := os.Stat(full); err != nil {
					line, col := nodePos(item(rf, i))
					f.errorf(line, col, "rule-test/rule-files", "rule file %q does not exist", p)
				}
			}
		}
	}
	tests := mapGet(root, "tests")
	for ti, tc := range t.Tests {
		tn := item(tests, ti)
		in := mapGet(tn, "input_series")
		for si, s := range tc.InputSeries {
			if _, _, err := promqlParser.ParseSeriesDesc(s.Series + " " + s.Values); err != nil {
				line, col := nodePos(item(in, si))
				if n := mapGet(item(in, si), "series"); n != nil {
					line, col = n.Line, n.Column
				}
				f.errorf(line, col, "rule-test/series", "input series %q values %q: %v", s.Series, s.Values, err)
			}
		}
		pt := mapGet(tn, "promql_expr_test")
		for pi, pc := range tc.PromqlExprTests {
			n := item(pt, pi)
			if _, err := promqlParser.ParseExpr(pc.Expr); err != nil {
				line, col := nodePos(n)
				if en := mapGet(n, "expr"); en != nil {
					line, col = en.Line, en.Column
				}
				f.errorf(line, col, "promql/syntax", "%v", err)
			}
			es := mapGet(n, "exp_samples")
			for ei, s := range pc.ExpSamples {
				if s.Labels == "" {
					continue
				}
				if _, err := promqlParser.ParseMetric(s.Labels); err != nil {
					line, col := nodePos(mapGet(item(es, ei), "labels"))
					f.errorf(line, col, "rule-test/series", "exp_samples labels %q: %v", s.Labels, err)
				}
			}
		}
	}
}

// item is the i-th entry of a sequence node, or nil.
func item(n *yaml.Node, i int) *yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
		return nil
	}
	return n.Content[i]
}

func nodePos(n *yaml.Node) (int, int) {
	if n == nil {
		return 0, 0
	}
	return n.Line, n.Column
}
