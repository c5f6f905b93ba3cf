// Package promtest is promtool's rule unit-test file format (`promtool test
// rules`), typed once for the three packages that handle it: render writes
// it, ruletest runs it and validate checks it.
//
// It holds only the types and their strict decoding, so that render can
// use it without importing the PromQL engine ruletest needs. Field order is
// the order a reader expects (name, interval, input, then checks) because
// render's YAML encoder writes fields in declaration order; fields render
// never sets are omitempty so the generated files do not carry them.
package promtest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"
	yaml3 "go.yaml.in/yaml/v3"
)

// File is one test file.
type File struct {
	RuleFiles          []string       `yaml:"rule_files"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval"`
	GroupEvalOrder     []string       `yaml:"group_eval_order,omitempty"`
	FuzzyCompare       bool           `yaml:"fuzzy_compare,omitempty"`
	Tests              []TestGroup    `yaml:"tests"`
}

// TestGroup is input series and the checks run against them.
type TestGroup struct {
	Name            string            `yaml:"name"`
	Interval        model.Duration    `yaml:"interval"`
	InputSeries     []Series          `yaml:"input_series"`
	AlertRuleTests  []AlertTestCase   `yaml:"alert_rule_test,omitempty"`
	PromqlExprTests []PromqlTestCase  `yaml:"promql_expr_test,omitempty"`
	ExternalLabels  map[string]string `yaml:"external_labels,omitempty"`
	ExternalURL     string            `yaml:"external_url,omitempty"`
	StartTimestamp  StartTimestamp    `yaml:"start_timestamp,omitempty"`
}

// Series is one input series in the expanding notation (`0+10x100`).
type Series struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// AlertTestCase lists the alerts of one rule that must be firing at
// EvalTime; an empty ExpAlerts means none.
type AlertTestCase struct {
	EvalTime  model.Duration `yaml:"eval_time"`
	Alertname string         `yaml:"alertname"`
	ExpAlerts []ExpAlert     `yaml:"exp_alerts"`
}

// ExpAlert is one expected alert: its labels beyond alertname, and every
// annotation (an omitted map means the alert has none).
type ExpAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

// PromqlTestCase is an instant query and the samples it must return.
type PromqlTestCase struct {
	Expr       string         `yaml:"expr"`
	EvalTime   model.Duration `yaml:"eval_time"`
	ExpSamples []Sample       `yaml:"exp_samples"`
}

// Sample is one expected query result; a non-empty Histogram means Value
// is ignored.
type Sample struct {
	Labels    string  `yaml:"labels"`
	Value     float64 `yaml:"value"`
	Histogram string  `yaml:"histogram,omitempty"`
}

// StartTimestamp accepts RFC 3339 or Unix seconds, as promtool does. The
// zero value means the Unix epoch, promtool's default.
type StartTimestamp struct{ time.Time }

// UnmarshalYAML implements the yaml Unmarshaler of both yaml v2 and v3.
func (t *StartTimestamp) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		t.Time = time.Unix(int64(sec), int64(frac*float64(time.Second))).UTC()
		return nil
	}
	p, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("cannot parse %q to a valid timestamp", s)
	}
	t.Time = p
	return nil
}

// Decode decodes a test file as promtool does: yaml v2 in strict mode, so
// an unknown or repeated key fails here exactly when it fails there. Its
// errors carry the line ("line 7: field foo not found in type ...").
func Decode(data []byte) (*File, error) {
	var f File
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, clampLine(err, data)
	}
	return &f, nil
}

var syntaxLineRE = regexp.MustCompile(`^yaml: line (\d+):`)

// clampLine points a syntax error the YAML scanner reports one line past
// the end of an input without a final newline at its last line instead.
func clampLine(err error, data []byte) error {
	m := syntaxLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	// The last line, counting the empty one after a final newline.
	n := bytes.Count(data, []byte("\n")) + 1
	if line, _ := strconv.Atoi(m[1]); line <= n {
		return err
	}
	return errors.New("yaml: line " + strconv.Itoa(n) + ":" + err.Error()[len(m[0]):])
}

// MaxSeriesPoints bounds the values one input series may expand to, and
// MaxFilePoints those of a whole file. The expanding notation is tiny for
// what it asks: `0+1x1000000000` is a billion samples, 24 GB once
// expanded, which promtool and the PromQL test loader build in memory
// before anything can object. A day of samples every 15 s is 5,760; the
// limits leave room for far more and refuse the rest with the line.
//
// MaxEvalSteps bounds how far a test group's eval_time may reach: the
// test evaluates every rule at each evaluation_interval up to it, so
// `eval_time: 10000w` would run for days. A million steps is two
// years at the default 1m.
const (
	MaxSeriesPoints = 1_000_000
	MaxFilePoints   = 10_000_000
	MaxEvalSteps    = 1_000_000
)

// ErrTooManyPoints is returned by CheckPoints.
var ErrTooManyPoints = errors.New("past the size limits of a rule-test file")

// SeriesPoints counts the values of the expanding notation without
// expanding it: each `...xN` term stands for up to N+1 values, any other
// term for one. Histogram terms (`{{...}}`) may hold spaces. It never
// fails: a term promtool's parser refuses is counted as one value and left
// to that parser; a count too large for an int64 saturates.
func SeriesPoints(values string) int64 {
	var total int64
	add := func(n int64) {
		if total > math.MaxInt64-n {
			total = math.MaxInt64
			return
		}
		total += n
	}
	depth := 0
	start := -1
	term := func(end int) {
		if start < 0 {
			return
		}
		add(termPoints(values[start:end]))
		start = -1
	}
	for i := 0; i < len(values); i++ {
		c := values[i]
		switch {
		case c == '{':
			depth++
		case c == '}':
			if depth > 0 {
				depth--
			}
		case depth == 0 && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			term(i)
			continue
		}
		if start < 0 {
			start = i
		}
	}
	term(len(values))
	return total
}

var repeatRE = regexp.MustCompile(`^(.*[^\s])x([0-9]+)$`)

// termPoints is how many values one term stands for.
func termPoints(t string) int64 {
	m := repeatRE.FindStringSubmatch(t)
	// `0x10` is a hexadecimal number, not zero repeated.
	if m == nil || m[1] == "0" || m[1] == "+0" || m[1] == "-0" {
		return 1
	}
	n, err := strconv.ParseInt(m[2], 10, 64)
	if err != nil || n == math.MaxInt64 {
		return math.MaxInt64
	}
	return n + 1
}

// PointsError is a series (or an expected histogram) past the limits, at
// a line of the file (0 when it cannot be found).
type PointsError struct {
	Line int
	Msg  string
}

func (e *PointsError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

func (e *PointsError) Unwrap() error { return ErrTooManyPoints }

func humanCount(n int64) string {
	if n >= math.MaxInt64/2 {
		return "more than 4e18"
	}
	return strconv.FormatInt(n, 10)
}

// CheckPoints refuses a file whose input series expand past
// MaxSeriesPoints each or MaxFilePoints together, or whose expected
// histogram stands for more than one value, before anything expands
// them. data is the file f was decoded from: the errors name its lines.
func CheckPoints(data []byte, f *File) []*PointsError {
	var errs []*PointsError
	var doc *yaml3.Node
	line := func(path ...any) int {
		if doc == nil {
			doc = &yaml3.Node{}
			if err := yaml3.Unmarshal(data, doc); err != nil {
				doc = &yaml3.Node{}
			}
		}
		return lineOf(doc, path...)
	}
	var total int64
	interval := time.Duration(f.EvaluationInterval)
	if interval <= 0 {
		interval = time.Minute // promtool's default
	}
	steps := func(at model.Duration, path ...any) {
		if n := int64(time.Duration(at) / interval); n > MaxEvalSteps {
			errs = append(errs, &PointsError{Line: line(path...),
				Msg: fmt.Sprintf("eval_time %s is %s evaluations of every rule at evaluation_interval %s, past the limit of %d a test group; test nearer times", at, humanCount(n), model.Duration(interval), MaxEvalSteps)})
		}
	}
	for ti, tg := range f.Tests {
		for ai, at := range tg.AlertRuleTests {
			steps(at.EvalTime, "tests", ti, "alert_rule_test", ai, "eval_time")
		}
		for pi, pc := range tg.PromqlExprTests {
			steps(pc.EvalTime, "tests", ti, "promql_expr_test", pi, "eval_time")
		}
		for si, s := range tg.InputSeries {
			n := SeriesPoints(s.Values)
			switch {
			case n > MaxSeriesPoints:
				errs = append(errs, &PointsError{Line: line("tests", ti, "input_series", si, "values"),
					Msg: fmt.Sprintf("input series %s: its values expand to %s samples, past the limit of %d a series; shorten its xN repeats", s.Series, humanCount(n), MaxSeriesPoints)})
			case total+n > MaxFilePoints:
				errs = append(errs, &PointsError{Line: line("tests", ti, "input_series", si, "values"),
					Msg: fmt.Sprintf("input series %s: with the series before it, the file's values expand to %s samples, past the limit of %d a file", s.Series, humanCount(total+n), MaxFilePoints)})
			}
			total = min(total+n, math.MaxInt64/2)
		}
		for pi, pc := range tg.PromqlExprTests {
			for ei, es := range pc.ExpSamples {
				if es.Histogram == "" {
					continue
				}
				if n := SeriesPoints(es.Histogram); n > 1 {
					errs = append(errs, &PointsError{Line: line("tests", ti, "promql_expr_test", pi, "exp_samples", ei, "histogram"),
						Msg: fmt.Sprintf("exp_samples %s: the histogram stands for %s values, want one", es.Labels, humanCount(n))})
				}
			}
		}
	}
	return errs
}

// lineOf finds the line of a node by its path (keys and sequence
// indexes): the deepest one found, 0 when the document is empty.
func lineOf(doc *yaml3.Node, path ...any) int {
	if len(doc.Content) == 0 {
		return 0
	}
	n := doc.Content[0]
	for _, p := range path {
		var next *yaml3.Node
		switch p := p.(type) {
		case string:
			if n.Kind == yaml3.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == p {
						next = n.Content[i+1]
					}
				}
			}
		case int:
			if n.Kind == yaml3.SequenceNode && p < len(n.Content) {
				next = n.Content[p]
			}
		}
		if next == nil {
			return n.Line
		}
		n = next
	}
	return n.Line
}
