package ruletest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"

	"github.com/investiq/investiq-mon/internal/promtest"
)

// Options select and pace a run.
type Options struct {
	// Run, when set, runs only the test groups whose name it matches
	// (promtool's --run).
	Run *regexp.Regexp
	// Parallel is how many test groups run at once; 0 means GOMAXPROCS.
	// Groups share nothing (each has its own storage and rule manager), so
	// running them side by side changes no verdict, only the wall time.
	Parallel int
}

// FileResult is the outcome of one test file.
type FileResult struct {
	Path string
	// Err is set when the file could not be read, decoded or prepared; no
	// group ran then.
	Err error
	// Warnings are problems promtool only warns about (a rule file pattern
	// that matches nothing).
	Warnings []string
	Groups   []GroupResult
}

// Failed says whether anything in the file failed.
func (r FileResult) Failed() bool {
	if r.Err != nil {
		return true
	}
	for _, g := range r.Groups {
		if g.Failed() {
			return true
		}
	}
	return false
}

// GroupResult is the outcome of one test group.
type GroupResult struct {
	Name     string
	Duration time.Duration
	Failures []Failure
}

// Failed says whether the group failed.
func (g GroupResult) Failed() bool { return len(g.Failures) > 0 }

// Failure is one thing a group got wrong. Either Err is set (the group
// could not load or evaluate its rules or series), or Want and Got are the
// expected and actual results, one item per line, ready to diff.
type Failure struct {
	// Alertname or Expr says what was checked; EvalTime when.
	Alertname string
	Expr      string
	EvalTime  time.Duration
	Want, Got []string
	Err       error
}

// Run runs every test file read from src, in order. It reports failures in
// the results rather than as an error: a failing test is an answer.
func Run(ctx context.Context, src Source, files []string, opts Options) []FileResult {
	results := make([]FileResult, len(files))
	var jobs []func()
	for i, name := range files {
		results[i].Path = name
		prepared, err := prepare(src, name, opts.Run)
		if err != nil {
			results[i].Err = err
			continue
		}
		results[i].Warnings = prepared.warnings
		results[i].Groups = make([]GroupResult, len(prepared.groups))
		for j, g := range prepared.groups {
			res := &results[i].Groups[j]
			res.Name = g.name
			jobs = append(jobs, func() {
				start := time.Now()
				res.Failures = g.run(ctx, prepared)
				res.Duration = time.Since(start)
			})
		}
	}
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = runtime.GOMAXPROCS(0)
	}
	work := make(chan func())
	var wg sync.WaitGroup
	for range min(parallel, len(jobs)) {
		wg.Go(func() {
			for job := range work {
				job()
			}
		})
	}
	for _, job := range jobs {
		work <- job
	}
	close(work)
	wg.Wait()
	return results
}

// preparedFile is a decoded test file with its rule files resolved.
type preparedFile struct {
	evalInterval time.Duration
	groupOrder   map[string]int
	fuzzy        bool
	ruleFiles    []string
	loader       *loader
	groups       []preparedGroup
	warnings     []string
}

type preparedGroup struct {
	name string
	tg   promtest.TestGroup
}

// The parser promtool uses when no feature flag is given.
var promqlParser = parser.NewParser(parser.Options{})

func prepare(src Source, name string, run *regexp.Regexp) (*preparedFile, error) {
	data, err := src.ReadFile(name)
	if err != nil {
		return nil, err
	}
	f, err := promtest.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// Before anything expands the series notation: `0+1x1000000000` is
	// a billion samples in memory.
	if perrs := promtest.CheckPoints(data, f); len(perrs) > 0 {
		errs := make([]error, len(perrs))
		for i, e := range perrs {
			errs[i] = fmt.Errorf("%s:%d: %s (%w)", name, e.Line, e.Msg, promtest.ErrTooManyPoints)
		}
		return nil, errors.Join(errs...)
	}
	p := &preparedFile{
		evalInterval: time.Minute,
		groupOrder:   map[string]int{},
		fuzzy:        f.FuzzyCompare,
		loader:       &loader{src: src, parsed: map[string]loaded{}},
	}
	for _, rf := range f.RuleFiles {
		if rf == "" {
			continue
		}
		pattern := src.Join(src.Dir(name), rf)
		m, err := src.Glob(pattern)
		if err != nil {
			return nil, fmt.Errorf("%s: rule_files: %w", name, err)
		}
		if len(m) == 0 {
			// promtool warns and runs on without the rules.
			p.warnings = append(p.warnings, "no file matches pattern "+pattern)
		}
		p.ruleFiles = append(p.ruleFiles, m...)
	}
	if f.EvaluationInterval != 0 {
		p.evalInterval = time.Duration(f.EvaluationInterval)
	}
	for i, g := range f.GroupEvalOrder {
		if _, ok := p.groupOrder[g]; ok {
			return nil, fmt.Errorf("%s: group name repeated in evaluation order: %s", name, g)
		}
		p.groupOrder[g] = i
	}
	for i, tg := range f.Tests {
		if run != nil && !run.MatchString(tg.Name) {
			continue
		}
		gname := tg.Name
		if gname == "" {
			gname = fmt.Sprintf("unnamed#%d", i)
		}
		if tg.Interval == 0 {
			tg.Interval = model.Duration(p.evalInterval)
		}
		p.groups = append(p.groups, preparedGroup{name: gname, tg: tg})
	}
	return p, nil
}

// loader is the rules manager's GroupLoader: it reads rule files from the
// Source and parses each once per test file, since every group of the file
// loads the same rules.
type loader struct {
	src    Source
	mu     sync.Mutex
	parsed map[string]loaded
}

type loaded struct {
	groups *rulefmt.RuleGroups
	errs   []error
}

func (l *loader) Load(name string, ignoreUnknownFields bool, scheme model.ValidationScheme) (*rulefmt.RuleGroups, []error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.parsed[name]; ok {
		return r.groups, r.errs
	}
	var r loaded
	data, err := l.src.ReadFile(name)
	if err != nil {
		r.errs = []error{fmt.Errorf("%s: %w", name, err)}
	} else {
		r.groups, r.errs = rulefmt.Parse(data, ignoreUnknownFields, scheme, promqlParser, promslog.NewNopLogger())
		for i := range r.errs {
			r.errs[i] = fmt.Errorf("%s: %w", name, r.errs[i])
		}
	}
	l.parsed[name] = r
	return r.groups, r.errs
}

func (l *loader) Parse(query string) (parser.Expr, error) { return promqlParser.ParseExpr(query) }

func errFailure(err error) []Failure { return []Failure{{Err: err}} }

// run evaluates the group's rules from its start to its last check, one
// evaluation_interval at a time, and checks alerts as it goes; promql_expr
// checks query the storage once the loop is done. This is promtool's
// order, and the order matters: an alert check at time t sees the
// evaluation at the last step at or before t.
func (g preparedGroup) run(ctx context.Context, pf *preparedFile) (failures []Failure) {
	tg := g.tg
	suite, err := promqltest.NewLazyLoader(seriesLoadString(tg), promqltest.LazyLoaderOpts{
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
		StartTime:            tg.StartTimestamp.Time,
		Parser:               promqlParser,
	})
	if err != nil {
		return errFailure(err)
	}
	defer func() {
		if err := suite.Close(); err != nil {
			failures = append(failures, Failure{Err: err})
		}
	}()
	suite.SubqueryInterval = pf.evalInterval

	mgr := rules.NewManager(&rules.ManagerOptions{
		QueryFunc:    rules.EngineQueryFunc(suite.QueryEngine(), suite.Storage()),
		AppendableV2: suite.Storage(),
		Context:      ctx,
		NotifyFunc:   func(context.Context, string, ...*rules.Alert) {},
		Logger:       promslog.NewNopLogger(),
		Parser:       promqlParser,
		GroupLoader:  pf.loader,
	})
	groupsMap, errs := mgr.LoadGroups(time.Duration(tg.Interval), labels.FromMap(tg.ExternalLabels), tg.ExternalURL, nil, false, pf.ruleFiles...)
	if errs != nil {
		for _, err := range errs {
			failures = append(failures, Failure{Err: err})
		}
		return failures
	}
	groups := orderGroups(groupsMap, pf.groupOrder)

	mint := time.Unix(0, 0).UTC()
	if !tg.StartTimestamp.IsZero() {
		mint = tg.StartTimestamp.Time
	}
	maxt := mint.Add(maxEvalTime(tg))

	checksAt := map[time.Duration][]promtest.AlertTestCase{}
	for _, at := range tg.AlertRuleTests {
		if at.Alertname == "" {
			return errFailure(fmt.Errorf("an item under alert_rule_test misses required attribute alertname at eval_time %v", at.EvalTime))
		}
		checksAt[time.Duration(at.EvalTime)] = append(checksAt[time.Duration(at.EvalTime)], at)
	}
	times := make([]time.Duration, 0, len(checksAt))
	for t := range checksAt {
		times = append(times, t)
	}
	slices.Sort(times)

	for _, grp := range groups {
		for _, r := range grp.Rules() {
			if ar, ok := r.(*rules.AlertingRule); ok {
				// As after a restart with nothing to restore, so that the
				// ALERTS series are written from the first evaluation.
				ar.SetRestored(true)
			}
		}
	}

	next := 0
	for ts := mint; !ts.After(maxt); ts = ts.Add(pf.evalInterval) {
		var evalErrs []Failure
		suite.WithSamplesTill(ts, func(err error) {
			if err != nil {
				failures = append(failures, Failure{Err: err})
				return
			}
			for _, grp := range groups {
				grp.Eval(suite.Context(), ts)
				for _, r := range grp.Rules() {
					if err := r.LastError(); err != nil {
						evalErrs = append(evalErrs, Failure{Err: fmt.Errorf("rule: %s, time: %s, err: %w", r.Name(), ts.Sub(time.Unix(0, 0).UTC()), err)})
					}
				}
			}
		})
		if len(evalErrs) > 0 {
			// Later checks would only report the same broken rule again.
			return append(failures, evalErrs...)
		}
		// A check at t is answered by the evaluation at ts <= t < ts+interval.
		for next < len(times) && ts.Sub(mint) <= times[next] && times[next] < ts.Add(pf.evalInterval).Sub(mint) {
			t := times[next]
			for _, c := range checksAt[t] {
				want := expectedAlerts(c)
				got := firingAlerts(groups, c.Alertname)
				if !slices.EqualFunc(want, got, alertEqual) {
					failures = append(failures, Failure{Alertname: c.Alertname, EvalTime: t, Want: alertLines(want), Got: alertLines(got)})
				}
			}
			next++
		}
	}

	for _, c := range tg.PromqlExprTests {
		if f, ok := exprCheck(suite, mint, c, pf.fuzzy); !ok {
			failures = append(failures, f)
		}
	}
	return failures
}

// seriesLoadString is the group's input as a promqltest load command,
// which expands the series notation exactly as promtool's loader does.
func seriesLoadString(tg promtest.TestGroup) string {
	var b strings.Builder
	fmt.Fprintf(&b, "load %v\n", tg.Interval)
	for _, is := range tg.InputSeries {
		fmt.Fprintf(&b, "  %v %v\n", is.Series, is.Values)
	}
	return b.String()
}

func maxEvalTime(tg promtest.TestGroup) time.Duration {
	var m model.Duration
	for _, a := range tg.AlertRuleTests {
		m = max(m, a.EvalTime)
	}
	for _, e := range tg.PromqlExprTests {
		m = max(m, e.EvalTime)
	}
	return time.Duration(m)
}

// orderGroups follows group_eval_order; groups it does not name come
// first, ordered by file and name. promtool leaves their order to map
// iteration, so any fixed order is one promtool may also take.
func orderGroups(m map[string]*rules.Group, order map[string]int) []*rules.Group {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	groups := make([]*rules.Group, len(keys))
	for i, k := range keys {
		groups[i] = m[k]
	}
	slices.SortStableFunc(groups, func(a, b *rules.Group) int {
		return cmp.Compare(order[a.Name()], order[b.Name()])
	})
	return groups
}

// alert is one alert's labels and annotations, the two things promtool
// compares.
type alert struct {
	Labels, Annotations labels.Labels
}

func alertCompare(a, b alert) int {
	if c := labels.Compare(a.Labels, b.Labels); c != 0 {
		return c
	}
	return labels.Compare(a.Annotations, b.Annotations)
}

func alertEqual(a, b alert) bool {
	return labels.Equal(a.Labels, b.Labels) && labels.Equal(a.Annotations, b.Annotations)
}

func expectedAlerts(c promtest.AlertTestCase) []alert {
	var out []alert
	for _, e := range c.ExpAlerts {
		l := map[string]string{}
		for k, v := range e.ExpLabels {
			l[k] = v
		}
		// The rule adds alertname; the test names it once, for all.
		l[labels.AlertName] = c.Alertname
		out = append(out, alert{Labels: labels.FromMap(l), Annotations: labels.FromMap(e.ExpAnnotations)})
	}
	slices.SortFunc(out, alertCompare)
	return out
}

// firingAlerts collects the firing (not pending) alerts of every alerting
// rule with the name, from every group: one name may be used twice.
func firingAlerts(groups []*rules.Group, name string) []alert {
	var out []alert
	for _, g := range groups {
		for _, r := range g.Rules() {
			ar, ok := r.(*rules.AlertingRule)
			if !ok || ar.Name() != name {
				continue
			}
			for _, a := range ar.ActiveAlerts() {
				if a.State == rules.StateFiring {
					out = append(out, alert{Labels: a.Labels.Copy(), Annotations: a.Annotations.Copy()})
				}
			}
		}
	}
	slices.SortFunc(out, alertCompare)
	return out
}

// alertLines prints alerts one line per label set and annotation, so a
// line diff points at the annotation or label that differs.
func alertLines(as []alert) []string {
	if len(as) == 0 {
		return []string{"(no alert firing)"}
	}
	var lines []string
	for _, a := range as {
		lines = append(lines, a.Labels.String())
		a.Annotations.Range(func(l labels.Label) {
			lines = append(lines, fmt.Sprintf("    %s: %q", l.Name, l.Value))
		})
	}
	return lines
}

// exprSample is a query result as compared: labels, float value, and a
// native histogram in its test notation.
type exprSample struct {
	Labels    labels.Labels
	Value     float64
	Histogram string
}

func (s exprSample) String() string {
	if s.Histogram != "" {
		return s.Labels.String() + " " + s.Histogram
	}
	return fmt.Sprintf("%s %s", s.Labels.String(), formatFloat(s.Value))
}

func formatFloat(f float64) string { return fmt.Sprintf("%v", f) }

func exprCheck(suite *promqltest.LazyLoader, mint time.Time, c promtest.PromqlTestCase, fuzzy bool) (Failure, bool) {
	fail := Failure{Expr: c.Expr, EvalTime: time.Duration(c.EvalTime)}
	got, err := instantQuery(suite, c.Expr, mint.Add(time.Duration(c.EvalTime)))
	if err != nil {
		fail.Err = fmt.Errorf("expr: %q, time: %s, err: %w", c.Expr, c.EvalTime, err)
		return fail, false
	}
	var want []exprSample
	for _, s := range c.ExpSamples {
		lb, err := promqlParser.ParseMetric(s.Labels)
		var hist *histogram.FloatHistogram
		if err == nil && s.Histogram != "" {
			_, values, perr := promqlParser.ParseSeriesDesc("{} " + s.Histogram)
			switch {
			case perr != nil:
				err = perr
			case len(values) != 1:
				err = fmt.Errorf("expected 1 value, got %d", len(values))
			case values[0].Histogram == nil:
				err = fmt.Errorf("expected histogram, got %v", values[0])
			default:
				hist = values[0].Histogram
			}
		}
		if err != nil {
			fail.Err = fmt.Errorf("expr: %q, time: %s, err: labels %q: %w", c.Expr, c.EvalTime, s.Labels, err)
			return fail, false
		}
		want = append(want, exprSample{Labels: lb, Value: s.Value, Histogram: promqltest.HistogramTestExpression(hist)})
	}
	byLabels := func(a, b exprSample) int { return labels.Compare(a.Labels, b.Labels) }
	slices.SortStableFunc(want, byLabels)
	slices.SortStableFunc(got, byLabels)
	// Plain == on floats, as promtool: NaN never equals NaN. fuzzy_compare
	// forgives one ulp either way.
	floatEq := gocmp.Comparer(func(x, y float64) bool { return x == y })
	if fuzzy {
		floatEq = gocmp.Comparer(func(x, y float64) bool {
			return x == y || math.Nextafter(x, math.Inf(-1)) == y || math.Nextafter(x, math.Inf(1)) == y
		})
	}
	// promtool builds both lists by appending, so "no sample" is a nil
	// slice on both sides; the engine's empty vector is not nil. Without
	// this, an expected absence against an empty result would fail with
	// "(no sample)" on both sides.
	if len(want) == 0 {
		want = nil
	}
	if len(got) == 0 {
		got = nil
	}
	if gocmp.Equal(want, got, gocmp.Comparer(labels.Equal), floatEq) {
		return fail, true
	}
	fail.Want, fail.Got = sampleLines(want), sampleLines(got)
	return fail, false
}

func sampleLines(ss []exprSample) []string {
	if len(ss) == 0 {
		return []string{"(no sample)"}
	}
	lines := make([]string, len(ss))
	for i, s := range ss {
		lines[i] = s.String()
	}
	return lines
}

func instantQuery(suite *promqltest.LazyLoader, qs string, t time.Time) ([]exprSample, error) {
	q, err := suite.QueryEngine().NewInstantQuery(suite.Context(), suite.Queryable(), nil, qs, t)
	if err != nil {
		return nil, err
	}
	res := q.Exec(suite.Context())
	if res.Err != nil {
		return nil, res.Err
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		out := make([]exprSample, len(v))
		for i, s := range v {
			out[i] = exprSample{Labels: s.Metric.Copy(), Value: s.F, Histogram: promqltest.HistogramTestExpression(s.H)}
		}
		return out, nil
	case promql.Scalar:
		return []exprSample{{Labels: labels.EmptyLabels(), Value: v.V, Histogram: promqltest.HistogramTestExpression(nil)}}, nil
	default:
		return nil, errors.New("rule result is not a vector or scalar")
	}
}
