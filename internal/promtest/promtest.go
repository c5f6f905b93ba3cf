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
