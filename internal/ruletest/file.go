// Package ruletest runs Prometheus rule unit tests, written in promtool's
// test file format, in process: the same PromQL engine, rule evaluation and
// series loader (promqltest) as `promtool test rules` at the pinned
// Prometheus version, so a verdict here is promtool's verdict.
//
// It is the step after render: render writes prometheus/*_test.yml from the
// spec's alert cases, and ruletest runs any such file, generated or written
// by hand, against the rule files it names. Rule files are read through a
// Source, so a test can run against a render that was never written to disk.
// The file format itself is package promtest's.
package ruletest
