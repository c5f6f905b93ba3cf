// Package expocheck holds a metrics exposition (a live /metrics or a saved
// copy) to the spec: every metric the spec declares for a job must be
// there with its type, its labels and only the label values the spec
// allows, and the exposition must pass the lint `promtool check metrics`
// runs. It is what `investiq-mon check-metrics` and `doctor` report.
package expocheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	neturl "net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint/validations"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/investiq/investiq-mon/spec"
)

// Kind classifies a problem; callers branch on it (notes do not fail).
type Kind string

const (
	Missing         Kind = "missing"
	WrongType       Kind = "wrong type"
	MissingLabel    Kind = "missing label"
	UnexpectedLabel Kind = "unexpected label"
	BadLabelValue   Kind = "label value not allowed"
	MissingBucket   Kind = "missing bucket"
	BadState        Kind = "value not a state"
	// Lint is a finding of promtool check metrics' linter.
	Lint Kind = "lint"
	// Note is a lint finding about a name the spec itself declares (e.g.
	// _milliseconds instead of the base unit _seconds): the API has to use
	// the spec's name, so it is reported but fails nothing. Renaming is a
	// spec change (and a dashboard and alert change), not an API bug.
	Note Kind = "note"
)

// Problem is one finding, about one metric family.
type Problem struct {
	Metric string
	Kind   Kind
	Text   string
	// Lint is the linter's own words for Lint and Note problems, exactly as
	// promtool check metrics prints them after the metric name.
	Lint string
}

// String is the one line a person reads: the metric first.
func (p Problem) String() string { return p.Metric + ": " + p.Text }

// Report is the result of checking one exposition.
type Report struct {
	// Source is the URL or file checked.
	Source string
	// Job is the scrape job whose spec metrics were expected.
	Job string
	// Families is how many metric families the exposition has.
	Families int
	// Problems are spec mismatches and lint findings, sorted by metric.
	Problems []Problem
}

// SpecProblems are the problems that are not lint findings or notes:
// where the exposition does not match the spec.
func (r Report) SpecProblems() []Problem {
	var out []Problem
	for _, p := range r.Problems {
		if p.Kind != Lint && p.Kind != Note {
			out = append(out, p)
		}
	}
	return out
}

// SpecFailed reports whether the exposition does not match the spec
// (lint findings aside).
func (r Report) SpecFailed() bool { return len(r.SpecProblems()) > 0 }

// HasLint reports whether the linter found something beyond notes.
func (r Report) HasLint() bool { return r.Count(Lint) > 0 }

// Count is the number of problems of the given kinds.
func (r Report) Count(kinds ...Kind) int {
	n := 0
	for _, p := range r.Problems {
		if slices.Contains(kinds, p.Kind) {
			n++
		}
	}
	return n
}

var dtoType = map[spec.MetricType]dto.MetricType{
	spec.Counter:   dto.MetricType_COUNTER,
	spec.Gauge:     dto.MetricType_GAUGE,
	spec.Histogram: dto.MetricType_HISTOGRAM,
}

// Check compares metric families with the metrics the spec declares for
// job and lints them as promtool check metrics does.
func Check(s *spec.Spec, job string, fams []*dto.MetricFamily) Report {
	r := Report{Job: job, Families: len(fams)}
	byName := map[string]*dto.MetricFamily{}
	for _, mf := range fams {
		byName[mf.GetName()] = mf
	}
	for _, m := range s.Metrics {
		if m.Job != job {
			continue
		}
		mf, ok := byName[m.Name]
		if !ok || len(mf.GetMetric()) == 0 {
			r.add(m.Name, Missing, "missing: the spec declares this %s (job %s), the exposition has no series of it", m.Type, job)
			continue
		}
		r.Problems = append(r.Problems, checkFamily(m, mf)...)
	}
	r.Problems = append(r.Problems, lint(s, fams)...)
	slices.SortStableFunc(r.Problems, func(a, b Problem) int { return strings.Compare(a.Metric, b.Metric) })
	return r
}

func (r *Report) add(metric string, kind Kind, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Metric: metric, Kind: kind, Text: fmt.Sprintf(format, args...)})
}

func checkFamily(m spec.Metric, mf *dto.MetricFamily) []Problem {
	var r Report
	if want := dtoType[m.Type]; mf.GetType() != want {
		r.add(m.Name, WrongType, "wrong type: exposed as %s, the spec says %s", strings.ToLower(mf.GetType().String()), m.Type)
	}
	declared := map[string]spec.Label{}
	for _, l := range m.Labels {
		declared[l.Name] = l
	}
	missing, unexpected, badValues := map[string]bool{}, map[string]bool{}, map[string]map[string]bool{}
	var missingBuckets []float64
	badStates := map[float64]bool{}
	for _, series := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range series.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for _, l := range m.Labels {
			if _, ok := have[l.Name]; !ok {
				missing[l.Name] = true
			}
		}
		for name, v := range have {
			l, ok := declared[name]
			switch {
			case !ok:
				unexpected[name] = true
			case len(l.Values) > 0 && !slices.Contains(l.Values, v):
				if badValues[name] == nil {
					badValues[name] = map[string]bool{}
				}
				badValues[name][v] = true
			}
		}
		if h := series.GetHistogram(); h != nil && m.Type == spec.Histogram && len(h.GetBucket()) > 0 {
			var bounds []float64
			for _, b := range h.GetBucket() {
				bounds = append(bounds, b.GetUpperBound())
			}
			for _, want := range m.Buckets {
				if !slices.ContainsFunc(bounds, func(b float64) bool { return math.Abs(b-want) < 1e-9 }) && !slices.Contains(missingBuckets, want) {
					missingBuckets = append(missingBuckets, want)
				}
			}
		}
		if g := series.GetGauge(); g != nil && len(m.States) > 0 {
			v := g.GetValue()
			if !slices.ContainsFunc(m.States, func(st spec.State) bool { return st.Value == v }) {
				badStates[v] = true
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(missing)) {
		r.add(m.Name, MissingLabel, "missing label %q: the spec declares labels %s", name, labelNames(m))
	}
	for _, name := range slices.Sorted(maps.Keys(unexpected)) {
		r.add(m.Name, UnexpectedLabel, "unexpected label %q: the spec declares labels %s", name, labelNames(m))
	}
	for _, name := range slices.Sorted(maps.Keys(badValues)) {
		vals := slices.Sorted(maps.Keys(badValues[name]))
		r.add(m.Name, BadLabelValue, "label %s has values %s outside the spec's %s", name, quoteAll(vals), quoteAll(declared[name].Values))
	}
	if len(missingBuckets) > 0 {
		r.add(m.Name, MissingBucket, "missing buckets %v: the spec's buckets are %v (SLO thresholds and alerts read them)", missingBuckets, m.Buckets)
	}
	for _, v := range slices.Sorted(maps.Keys(badStates)) {
		var states []string
		for _, st := range m.States {
			states = append(states, fmt.Sprintf("%g=%s", st.Value, st.Text))
		}
		r.add(m.Name, BadState, "value %g is none of the spec's states %s", v, strings.Join(states, ", "))
	}
	return r.Problems
}

func labelNames(m spec.Metric) string {
	if len(m.Labels) == 0 {
		return "none"
	}
	var names []string
	for _, l := range m.Labels {
		names = append(names, l.Name)
	}
	return "[" + strings.Join(names, " ") + "]"
}

func quoteAll(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = fmt.Sprintf("%q", v)
	}
	return "[" + strings.Join(q, " ") + "]"
}

// nameValidations are the promlint checks that look at a family's name
// only: for a name the spec declares, their findings are the spec's choice.
var nameValidations = []promlint.Validation{
	validations.LintMetricUnits,
	validations.LintCounter,
	validations.LintMetricTypeInName,
	validations.LintReservedChars,
	validations.LintCamelCase,
	validations.LintUnitAbbreviations,
}

// lint runs promlint, the linter behind promtool check metrics.
func lint(s *spec.Spec, fams []*dto.MetricFamily) []Problem {
	problems, err := promlint.NewWithMetricFamilies(fams).Lint()
	if err != nil {
		return []Problem{{Metric: "(exposition)", Kind: Lint, Text: "lint: " + err.Error()}}
	}
	byName := map[string]*dto.MetricFamily{}
	for _, mf := range fams {
		byName[mf.GetName()] = mf
	}
	var out []Problem
	for _, p := range problems {
		kind := Lint
		if _, declared := s.Metric(p.Metric); declared && nameFinding(byName[p.Metric], p.Text) {
			kind = Note
		}
		text := "lint: " + p.Text
		if kind == Note {
			text = "note: lint: " + p.Text + " (the spec declares this name; rename it there if at all)"
		}
		out = append(out, Problem{Metric: p.Metric, Kind: kind, Text: text, Lint: p.Text})
	}
	return out
}

func nameFinding(mf *dto.MetricFamily, text string) bool {
	if mf == nil {
		return false
	}
	for _, v := range nameValidations {
		for _, err := range v(mf) {
			if err.Error() == text {
				return true
			}
		}
	}
	return false
}

// ErrFormat is returned for an exposition that cannot be decoded.
var ErrFormat = errors.New("not a metrics exposition")

// Parse decodes an exposition in the given format (text format, or
// OpenMetrics).
func Parse(r io.Reader, format expfmt.Format) ([]*dto.MetricFamily, error) {
	dec := expfmt.NewDecoder(r, format)
	var fams []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		err := dec.Decode(mf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
		fams = append(fams, mf)
	}
	slices.SortFunc(fams, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return fams, nil
}

// sniff tells OpenMetrics from the text format in a saved file: an
// OpenMetrics exposition must end with "# EOF".
func sniff(data []byte) expfmt.Format {
	if bytes.HasSuffix(bytes.TrimRight(data, "\n"), []byte("# EOF")) {
		return expfmt.FmtOpenMetrics_1_0_0
	}
	return expfmt.FmtText
}

// accept asks for OpenMetrics first, as Prometheus does, so check-metrics
// sees what the scraper sees.
const accept = `application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1`

// Load reads an exposition from an http(s) URL or a file path. client may
// be nil.
func Load(ctx context.Context, client *http.Client, source string) ([]*dto.MetricFamily, error) {
	if strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://") {
		return Fetch(ctx, client, source)
	}
	data, err := os.ReadFile(source)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (give a saved /metrics file, or an http:// URL)", source, errors.Unwrap(err))
	}
	return ParseData(source, data)
}

// ParseData parses a saved exposition (text format or OpenMetrics, told
// apart by its content) read from source, e.g. standard input.
func ParseData(source string, data []byte) ([]*dto.MetricFamily, error) {
	fams, err := Parse(bytes.NewReader(data), sniff(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return fams, nil
}

// bareError drops net/http's `Get "URL": ` prefix, which would repeat
// the URL the message already names.
func bareError(err error) error {
	var ue *neturl.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Fetch scrapes url as Prometheus would and decodes the answer.
func Fetch(ctx context.Context, client *http.Client, url string) ([]*dto.MetricFamily, error) {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	req.Header.Set("Accept", accept)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, bareError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	format := expfmt.ResponseFormat(resp.Header)
	if format.FormatType() == expfmt.TypeUnknown {
		return nil, fmt.Errorf("GET %s: %w: Content-Type %q", url, ErrFormat, resp.Header.Get("Content-Type"))
	}
	fams, err := Parse(resp.Body, format)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return fams, nil
}
