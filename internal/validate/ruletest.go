package validate

import (
	"math"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/investiq/investiq-mon/internal/promtest"
)

// checkRuleTest checks a promtool rule-test file without running it (that
// is `investiq-mon test`): structure, that its rule files exist, and that
// every input series, expected label set and PromQL expression parses.
func checkRuleTest(f *file, opts Options) {
	// The verdict is promtool's decoder's (yaml v2, strict); our own parse
	// only places the findings.
	root, _ := parseYAML(f.data)
	t, err := promtest.Decode(f.data)
	if err != nil {
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
	// The expanding notation is checked for size before the parser
	// expands it (promtest.CheckPoints, which `test` runs too): the
	// positions are placed here from our own parse.
	tooBig := map[[2]int]bool{}
	var total int64
	for ti, tc := range t.Tests {
		for si, s := range tc.InputSeries {
			n := promtest.SeriesPoints(s.Values)
			if n > promtest.MaxSeriesPoints || total+n > promtest.MaxFilePoints {
				tooBig[[2]int{ti, si}] = true
			}
			total = min(total+n, math.MaxInt64/2)
		}
	}
	for _, e := range promtest.CheckPoints(f.data, t) {
		f.errorf(e.Line, 1, "rule-test/series-size", "%s", e.Msg)
	}
	for ti, tc := range t.Tests {
		tn := item(tests, ti)
		in := mapGet(tn, "input_series")
		for si, s := range tc.InputSeries {
			if tooBig[[2]int{ti, si}] {
				continue
			}
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
