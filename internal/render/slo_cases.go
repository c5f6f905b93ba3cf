package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/investiq/investiq-mon/spec"
)

// The SLO rules are proven by promtool unit tests rendered from the spec.
// Each scenario is traffic with a known share of bad requests; a small
// model below computes, minute by minute, the error ratio Prometheus will
// see over every window and from it which alerts must fire. promtool (and
// `investiq-mon test`) then check that the real rules agree.
//
// The arithmetic is exact, not approximate, because of how the input is
// shaped: samples every minute, counters that start far above zero (so
// rate()'s extrapolation treats errors and requests alike and their ratio
// is just the ratio of their increases between the first and last sample
// in the window), and integer counts per minute.

// sloTestRequestsPerMin is the test traffic: 100 requests a second.
const sloTestRequestsPerMin = 6000

// Counters start here, as if the API had been up for a while.
const (
	sloTestTotalStart = 100_000_000
	sloTestBadStart   = 1_000_000
)

// sloTestEvalEvery is the tests' evaluation interval in minutes. Every
// evaluation runs every SLO rule, so evaluating every other minute halves
// the run time; the samples stay a minute apart so that the 5m window
// always holds several. Checks fall on evaluation minutes.
const sloTestEvalEvery = 2

// sloTestMargin keeps every decisive comparison at least 5% away from its
// threshold, so float rounding can never decide a test.
const sloTestMargin = 0.05

// sloPhase is a stretch of minutes with a constant number of bad requests
// per minute.
type sloPhase struct {
	Minutes   int
	BadPerMin int
}

// sloScenario is one promtool test group.
type sloScenario struct {
	Name string
	Kind string // healthy, fast, slow, noerrors
	// Phases run back to back from t=0.
	Phases []sloPhase
	// NoErrorSeries leaves the error counter out entirely (ratio SLIs).
	NoErrorSeries bool
	// BurnStart is the minute the burn starts; Detect the minute the
	// alert under test is first (clearly) firing, 0 if it never does.
	BurnStart, Detect int
	// AlertsAt are the minutes at which both alerts are checked.
	AlertsAt []int
	// ExprAt is the minute the recorded ratios are checked, over Windows.
	ExprAt  int
	Windows []time.Duration
}

// sloModel is the cumulative count of requests and bad requests at every
// minute, without the counters' starting values.
type sloModel struct {
	total, bad []int
}

func newSLOModel(phases []sloPhase) sloModel {
	m := sloModel{total: []int{0}, bad: []int{0}}
	for _, p := range phases {
		for range p.Minutes {
			m.total = append(m.total, m.total[len(m.total)-1]+sloTestRequestsPerMin)
			m.bad = append(m.bad, m.bad[len(m.bad)-1]+p.BadPerMin)
		}
	}
	return m
}

// ratio is the error ratio at minute t over window w, as rate() sees it:
// samples in (t-w, t], the increase between the first and the last.
func (m sloModel) ratio(t int, w time.Duration) (float64, bool) {
	first := max(0, t-int(w/time.Minute)+1)
	if t >= len(m.total) || first >= t {
		return 0, false
	}
	return float64(m.bad[t]-m.bad[first]) / float64(m.total[t]-m.total[first]), true
}

// tri is a verdict that may be too close to call.
type tri int

const (
	no tri = iota
	yes
	unsure
)

func triAnd(a, b tri) tri {
	switch {
	case a == no || b == no:
		return no
	case a == yes && b == yes:
		return yes
	}
	return unsure
}

func triOr(a, b tri) tri {
	switch {
	case a == yes || b == yes:
		return yes
	case a == no && b == no:
		return no
	}
	return unsure
}

// above says whether the ratio is clearly above thr.
func (m sloModel) above(t int, w time.Duration, thr float64) tri {
	r, ok := m.ratio(t, w)
	switch {
	case !ok || r < thr*(1-sloTestMargin):
		return no
	case r > thr*(1+sloTestMargin):
		return yes
	}
	return unsure
}

// fires says whether the burn alert fires at minute t: exactly the rule's
// expression, evaluated on the model.
func (m sloModel) fires(slo spec.SLO, ba burnAlert, t int) tri {
	v := no
	for _, w := range ba.Windows {
		thr := w.Factor(slo.Window) * sloBudget(slo)
		v = triOr(v, triAnd(m.above(t, w.Short, thr), m.above(t, w.Long, thr)))
	}
	return v
}

func sloBadPerMin(share float64) int {
	return int(math.Round(share * sloTestRequestsPerMin))
}

// sloScenarios are the tests of one SLO: a healthy service, a fast burn,
// a slow burn and, for ratio SLIs, an API that never failed.
func sloScenarios(slo spec.SLO) []sloScenario {
	page, ticket := sloBurnAlerts[0], sloBurnAlerts[1]
	budget := sloBudget(slo)
	healthy := sloBadPerMin(0.5 * budget)
	// Halfway between the ticket's highest factor and the page's lowest:
	// enough for a ticket, never a page.
	slowFactor := (maxFactor(slo, ticket) + minFactor(slo, page)) / 2
	slow := sloBadPerMin(slowFactor * budget)
	fast := sloTestRequestsPerMin / 2
	var out []sloScenario

	out = append(out, sloScenario{
		// Seven hours fill every window up to the 6h one; longer would
		// only make the test slower.
		Name:     fmt.Sprintf("%s: a healthy service (0.5x the budget for 7h) triggers nothing", slo.Name),
		Kind:     "healthy",
		Phases:   []sloPhase{{Minutes: 7 * 60, BadPerMin: healthy}},
		AlertsAt: []int{10, 60, 6 * 60, 7 * 60},
		ExprAt:   7 * 60,
		Windows:  SLOWindows(slo),
	})

	// Fast: half of the requests go bad after six healthy hours (enough
	// history that the 30m/6h pair cannot fire first): the 5m/1h pair pages.
	out = append(out, burnScenario(slo, "fast", 6*60, healthy, fast, page, 60,
		fmt.Sprintf("a fast burn (50%% of requests bad, %sx the budget)", fmtFloat(0.5/budget)), "pages", "through the 5m/1h windows"))

	// Sustained: a burn between the page's two factors, too slow for the
	// 5m/1h pair whatever the history: the 30m/6h pair pages. Two healthy
	// hours keep it from paging at once.
	mid := (minFactor(slo, page) + maxFactor(slo, page)) / 2
	out = append(out, burnScenario(slo, "sustained", 2*60, healthy, sloBadPerMin(mid*budget), page, 12*60,
		fmt.Sprintf("a sustained burn (%sx the budget)", fmtFloat(mid)), "pages", "through the 30m/6h windows"))

	// Slow: a steady burn between the ticket's and the page's factors.
	out = append(out, burnScenario(slo, "slow", 2*60, healthy, slow, ticket, 24*60,
		fmt.Sprintf("a slow burn (%sx the budget)", fmtFloat(slowFactor)), "opens a ticket", "and does not page"))

	if slo.Ratio != nil {
		out = append(out, sloScenario{
			Name:          fmt.Sprintf("%s: an API that never failed exports no error series: the SLI is 0 and the budget untouched", slo.Name),
			Kind:          "noerrors",
			Phases:        []sloPhase{{Minutes: 30}},
			NoErrorSeries: true,
			AlertsAt:      []int{30},
			ExprAt:        30,
			Windows:       []time.Duration{5 * time.Minute, slo.Window},
		})
	}
	return out
}

// burnScenario is a healthy service whose bad requests jump to bad per
// minute at minute start; it ends a quarter of an hour after the alert
// under test first fires, or after horizon minutes if it never does. The
// checks are at the start of the burn, half-way to the alert, when it
// fires and at the end.
func burnScenario(slo spec.SLO, kind string, start, healthy, bad int, under burnAlert, horizon int, what, verb, how string) sloScenario {
	sc := sloScenario{Kind: kind, BurnStart: start}
	m := newSLOModel([]sloPhase{{start, healthy}, {horizon + 16, bad}})
	for t := start + sloTestEvalEvery; t <= start+horizon; t += sloTestEvalEvery {
		if m.fires(slo, under, t) == yes {
			sc.Detect = t
			break
		}
	}
	end := start + horizon
	if sc.Detect == 0 {
		sc.Name = fmt.Sprintf("%s: %s from %s does not fire %s within %s", slo.Name, what, minutes(start), under.Urgency, minutes(horizon))
		sc.AlertsAt = []int{start, end}
		sc.ExprAt = end
	} else {
		end = sc.Detect + 16
		half := start + (sc.Detect-start)/2/sloTestEvalEvery*sloTestEvalEvery
		sc.Name = fmt.Sprintf("%s: %s from %s %s %s later %s", slo.Name, what, minutes(start), verb, minutes(sc.Detect-start), how)
		sc.AlertsAt = []int{start, half, sc.Detect, end}
		sc.ExprAt = sc.Detect
	}
	sc.Phases = []sloPhase{{start, healthy}, {end - start, bad}}
	for _, w := range under.Windows {
		sc.Windows = append(sc.Windows, w.Short, w.Long)
	}
	sc.Windows = append(sc.Windows, slo.Window)
	return sc
}

func maxFactor(slo spec.SLO, ba burnAlert) float64 {
	f := 0.0
	for _, w := range ba.Windows {
		f = max(f, w.Factor(slo.Window))
	}
	return f
}

func minFactor(slo spec.SLO, ba burnAlert) float64 {
	f := math.Inf(1)
	for _, w := range ba.Windows {
		f = min(f, w.Factor(slo.Window))
	}
	return f
}

// seriesValues writes a counter in promtool's expanding notation, one
// `start+stepxN` term per phase, from its value at t=0.
func seriesValues(start int, phases []sloPhase, perMin func(sloPhase) int) string {
	terms := []string{strconv.Itoa(start)}
	v := start
	for _, p := range phases {
		step := perMin(p)
		terms = append(terms, fmt.Sprintf("%d+%dx%d", v+step, step, p.Minutes-1))
		v += step * p.Minutes
	}
	return strings.Join(terms, " ")
}

func minutes(t int) model.Duration { return model.Duration(time.Duration(t) * time.Minute) }

// ppm rounds a ratio to parts per million. Rules compute ratios by float
// division, which can differ from the model's in the last binary digit;
// promtool compares floats exactly, so the tests compare whole ppm.
func ppm(v float64) (float64, error) {
	x := v * 1e6
	if f := x - math.Floor(x); math.Abs(f-0.5) < 1e-3 {
		return 0, fmt.Errorf("%v ppm is too close to a rounding tie to test", x)
	}
	return math.Round(x), nil
}

func sloTestGroup(s *spec.Spec, slo spec.SLO, sc sloScenario) (promTestGroup, error) {
	g := promTestGroup{Name: sc.Name, Interval: model.Duration(time.Minute)}
	requests := func(sloPhase) int { return sloTestRequestsPerMin }
	bad := func(p sloPhase) int { return p.BadPerMin }
	good := func(p sloPhase) int { return sloTestRequestsPerMin - p.BadPerMin }
	switch {
	case slo.Ratio != nil:
		g.InputSeries = append(g.InputSeries, promTestSeries{Series: slo.Ratio.Total, Values: seriesValues(sloTestTotalStart, sc.Phases, requests)})
		if !sc.NoErrorSeries {
			g.InputSeries = append(g.InputSeries, promTestSeries{Series: slo.Ratio.Errors, Values: seriesValues(sloTestBadStart, sc.Phases, bad)})
		}
	case slo.Latency != nil:
		h := slo.Latency.Histogram
		le := strconv.FormatFloat(slo.Latency.ThresholdMs, 'g', -1, 64)
		g.InputSeries = append(g.InputSeries,
			promTestSeries{Series: h + "_count", Values: seriesValues(sloTestTotalStart, sc.Phases, requests)},
			promTestSeries{Series: h + `_bucket{le="` + le + `"}`, Values: seriesValues(sloTestTotalStart-sloTestBadStart, sc.Phases, good)})
	}

	m := newSLOModel(sc.Phases)
	for _, t := range sc.AlertsAt {
		for _, ba := range sloBurnAlerts {
			a := sloAlert(slo, ba)
			test := promAlertTest{EvalTime: minutes(t), Alertname: a.Name}
			switch m.fires(slo, ba, t) {
			case yes:
				test.ExpAlerts = []promExpAlert{{ExpLabels: AlertLabels(a), ExpAnnotations: AlertAnnotations(s, a)}}
			case unsure:
				return g, fmt.Errorf("slos[%s]: test %q: %s at %s is too close to its threshold to test", slo.Name, sc.Name, a.Name, minutes(t))
			}
			g.AlertRuleTests = append(g.AlertRuleTests, test)
		}
	}

	labels := "{" + SLOLabel + "=" + strconv.Quote(slo.Name) + "}"
	for _, w := range sc.Windows {
		r, ok := m.ratio(sc.ExprAt, w)
		if !ok {
			continue
		}
		v, err := ppm(r)
		if err != nil {
			return g, fmt.Errorf("slos[%s]: test %q: %s: %w", slo.Name, sc.Name, SLOErrorRatio(w), err)
		}
		g.PromqlExprTests = append(g.PromqlExprTests, promExprTest{
			Expr:       "round(1e6 * " + sloSelector(SLOErrorRatio(w), slo) + ")",
			EvalTime:   minutes(sc.ExprAt),
			ExpSamples: []promExpSample{{Labels: labels, Value: v}},
		})
		if w == slo.Window {
			left, err := ppm(1 - r/sloBudget(slo))
			if err != nil {
				return g, fmt.Errorf("slos[%s]: test %q: budget remaining: %w", slo.Name, sc.Name, err)
			}
			g.PromqlExprTests = append(g.PromqlExprTests, promExprTest{
				Expr:       "round(1e6 * " + sloSelector(SLOBudgetRemainingRecord, slo) + ")",
				EvalTime:   minutes(sc.ExprAt),
				ExpSamples: []promExpSample{{Labels: labels, Value: left}},
			})
		}
	}
	return g, nil
}

func sloTestFile(s *spec.Spec) (promTestFile, error) {
	f := promTestFile{RuleFiles: []string{"slo_rules.yml"}, EvaluationInterval: minutes(sloTestEvalEvery)}
	for _, slo := range s.SLOs {
		for _, sc := range sloScenarios(slo) {
			g, err := sloTestGroup(s, slo, sc)
			if err != nil {
				return f, err
			}
			f.Tests = append(f.Tests, g)
		}
	}
	return f, nil
}
