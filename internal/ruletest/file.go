// Package ruletest runs Prometheus rule unit tests, written in promtool's
// test file format, in process: the same PromQL engine, rule evaluation and
// series loader (promqltest) as `promtool test rules` at the pinned
// Prometheus version, so a verdict here is promtool's verdict.
//
// It is the step after render: render writes prometheus/*_test.yml from the
// spec's alert cases, and ruletest runs any such file, generated or written
// by hand, against the rule files it names. Rule files are read through a
// Source, so a test can run against a render that was never written to disk.
package ruletest

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"go.yaml.in/yaml/v2"
)

// The types below mirror promtool's unit test file. They are decoded with
// yaml v2's strict mode, as promtool decodes them, so an unknown or
// duplicated key fails here exactly when it fails there.

// File is one test file.
type File struct {
	RuleFiles          []string       `yaml:"rule_files"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval,omitempty"`
	GroupEvalOrder     []string       `yaml:"group_eval_order"`
	Tests              []TestGroup    `yaml:"tests"`
	FuzzyCompare       bool           `yaml:"fuzzy_compare,omitempty"`
}

// TestGroup is input series and the checks run against them.
type TestGroup struct {
	Interval        model.Duration   `yaml:"interval"`
	InputSeries     []Series         `yaml:"input_series"`
	AlertRuleTests  []AlertTestCase  `yaml:"alert_rule_test,omitempty"`
	PromQLExprTests []PromQLTestCase `yaml:"promql_expr_test,omitempty"`
	ExternalLabels  labels.Labels    `yaml:"external_labels,omitempty"`
	ExternalURL     string           `yaml:"external_url,omitempty"`
	Name            string           `yaml:"name,omitempty"`
	StartTimestamp  StartTimestamp   `yaml:"start_timestamp,omitempty"`
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

// PromQLTestCase is an instant query and the samples it must return.
type PromQLTestCase struct {
	Expr       string         `yaml:"expr"`
	EvalTime   model.Duration `yaml:"eval_time"`
	ExpSamples []Sample       `yaml:"exp_samples"`
}

// Sample is one expected query result; a non-empty Histogram means Value
// is ignored.
type Sample struct {
	Labels    string  `yaml:"labels"`
	Value     float64 `yaml:"value"`
	Histogram string  `yaml:"histogram"`
}

// StartTimestamp accepts RFC 3339 or Unix seconds, as promtool does.
type StartTimestamp struct{ time.Time }

// UnmarshalYAML implements yaml v2's Unmarshaler.
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

// Parse decodes a test file strictly.
func Parse(data []byte) (*File, error) {
	var f File
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, err
	}
	return &f, nil
}
