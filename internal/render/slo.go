package render

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/investiq/investiq-mon/spec"
)

// SLOs become recording rules and multiwindow, multi-burn-rate alerts, as
// Sloth and the Google SRE workbook build them. The recorded series follow
// Sloth's names so that dashboards and habits carry over:
//
//	slo:sli_error:ratio_rate<window>{slo="..."}   share of bad events over the window
//	slo:objective:ratio{slo="..."}                the objective, e.g. 0.999
//	slo:error_budget:ratio{slo="..."}             1 - objective
//	slo:period_error_budget_remaining:ratio{...}  share of the period's budget left
const (
	SLOErrorRatioRecord      = "slo:sli_error:ratio_rate"
	SLOObjectiveRecord       = "slo:objective:ratio"
	SLOErrorBudgetRecord     = "slo:error_budget:ratio"
	SLOBudgetRemainingRecord = "slo:period_error_budget_remaining:ratio"
	// SLOLabel names the SLO on every recorded series and alert.
	SLOLabel = "slo"
)

// SLORulesTest is the promtool unit test file of the SLO rules.
const SLORulesTest = "prometheus/slo_rules_test.yml"

// burnWindow is one multiwindow condition: the error ratio exceeds Factor
// times the budget over both Long and Short. Short (1/12 of Long) makes
// the alert stop soon after the burn stops.
type burnWindow struct {
	Short, Long time.Duration
	// BudgetShare is the share of the whole period's budget that burning
	// at Factor for Long consumes; Factor is derived from it so that the
	// same alert works for any SLO period.
	BudgetShare float64
}

// Factor is the burn rate that spends BudgetShare of the budget of period
// within Long: 14.4 for 2% in 1h of 30d.
func (w burnWindow) Factor(period time.Duration) float64 {
	f := w.BudgetShare * float64(period) / float64(w.Long)
	// Rounded to 6 significant digits so 0.02*720 prints as 14.4, and the
	// test arithmetic compares against exactly the number in the rule.
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 6, 64), 64)
	return v
}

// burnAlert is one of the two alerts of an SLO: the page and the ticket.
type burnAlert struct {
	Suffix   string
	Severity spec.Severity
	Windows  []burnWindow
	Urgency  string
}

// sloBurnAlerts are the workbook's windows. For a 30-day period the
// factors come out as STACK.md lists them: page at 14.4 (5m & 1h) or 6
// (30m & 6h), ticket at 3 (2h & 1d) or 1 (6h & 3d).
var sloBurnAlerts = []burnAlert{
	{Suffix: "BudgetBurnFast", Severity: spec.Critical, Urgency: "page", Windows: []burnWindow{
		{Short: 5 * time.Minute, Long: time.Hour, BudgetShare: 0.02},
		{Short: 30 * time.Minute, Long: 6 * time.Hour, BudgetShare: 0.05},
	}},
	{Suffix: "BudgetBurnSlow", Severity: spec.Warning, Urgency: "ticket", Windows: []burnWindow{
		{Short: 2 * time.Hour, Long: 24 * time.Hour, BudgetShare: 0.10},
		{Short: 6 * time.Hour, Long: 72 * time.Hour, BudgetShare: 0.10},
	}},
}

// SLOWindows are the windows the error ratio is recorded over: every
// window an alert reads, then the SLO period, without duplicates.
func SLOWindows(slo spec.SLO) []time.Duration {
	var ws []time.Duration
	for _, a := range sloBurnAlerts {
		for _, w := range a.Windows {
			ws = append(ws, w.Short, w.Long)
		}
	}
	// Sorted by length so the rule file reads from 5m up to the period.
	slices.Sort(ws)
	ws = slices.Compact(ws)
	if !slices.Contains(ws, slo.Window) {
		ws = append(ws, slo.Window)
	}
	return ws
}

// SLOErrorRatio is the name of the series recording slo's error ratio over
// window w, e.g. slo:sli_error:ratio_rate5m.
func SLOErrorRatio(w time.Duration) string { return SLOErrorRatioRecord + dur(w) }

// sloSelector selects one SLO's recorded series.
func sloSelector(record string, slo spec.SLO) string {
	return record + "{" + SLOLabel + "=" + strconv.Quote(slo.Name) + "}"
}

// sliErrorExpr is the share of bad events over window w.
func sliErrorExpr(slo spec.SLO, w time.Duration) string {
	r := "[" + dur(w) + "]"
	switch {
	case slo.Ratio != nil:
		// An API that has never failed exports no error series at all
		// (a labelled counter appears on its first increment); without
		// the `or vector(0)` its SLI would be empty instead of 0.
		return fmt.Sprintf("(sum(rate(%s%s)) or vector(0)) / sum(rate(%s%s))", slo.Ratio.Errors, r, slo.Ratio.Total, r)
	case slo.Latency != nil:
		h := slo.Latency.Histogram
		return fmt.Sprintf("1 - (sum(rate(%s_bucket{le=~%s}%s)) / sum(rate(%s_count%s)))", h, strconv.Quote(leRegexp(slo.Latency.ThresholdMs)), r, h, r)
	}
	return ""
}

// leRegexp matches the bucket bound as it is stored. The API exports
// le="500"; Prometheus 3 normalises classic histogram bounds to float
// notation on ingestion (le="500.0"), while promtool's test input keeps
// what it is given. Both spellings are accepted so that the rule works
// on either.
func leRegexp(v float64) string {
	g := strconv.FormatFloat(v, 'g', -1, 64)
	forms := []string{regexp.QuoteMeta(g)}
	if !strings.ContainsAny(g, ".e") {
		forms = append(forms, regexp.QuoteMeta(g+".0"))
	}
	return strings.Join(forms, "|")
}

// fmtFloat writes a number the way a person would, without binary noise:
// 1 - 0.999 is 0.001, not 0.0010000000000000009.
func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', 12, 64) }

// sloBudget is 1 - objective, rounded as fmtFloat prints it.
func sloBudget(slo spec.SLO) float64 {
	v, _ := strconv.ParseFloat(fmtFloat(1-slo.Objective), 64)
	return v
}

// SLOTitle is how an SLO is named to people: "availability" → "Availability".
func SLOTitle(slo spec.SLO) string {
	t := strings.ReplaceAll(slo.Name, "_", " ")
	if t == "" {
		return t
	}
	return strings.ToUpper(t[:1]) + t[1:]
}

// SLOBurnRatePanel is the dashboard panel an SLO alert's runbook section
// sends the on-call person to; SLODashboard titles its panel so, and the
// runbook refuses an alert whose panel no dashboard has.
func SLOBurnRatePanel(slo spec.SLO) string { return SLOTitle(slo) + " burn rate" }

// SLOAlerts are the alerts generated from the spec's SLOs, as spec.Alert
// values so that the rule file, the runbook and the routing tests treat
// them like the hand-written ones.
func SLOAlerts(s *spec.Spec) []spec.Alert {
	var out []spec.Alert
	for _, slo := range s.SLOs {
		for _, ba := range sloBurnAlerts {
			out = append(out, sloAlert(slo, ba))
		}
	}
	return out
}

func camel(snake string) string {
	var b strings.Builder
	for _, part := range strings.Split(snake, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

func sloAlert(slo spec.SLO, ba burnAlert) spec.Alert {
	budget := sloBudget(slo)
	period := dur(slo.Window)
	var clauses, words []string
	for _, w := range ba.Windows {
		f := w.Factor(slo.Window)
		thr := "(" + fmtFloat(f) + " * " + fmtFloat(budget) + ")"
		clauses = append(clauses, fmt.Sprintf("(\n  %s > %s\nand\n  %s > %s\n)",
			sloSelector(SLOErrorRatio(w.Short), slo), thr, sloSelector(SLOErrorRatio(w.Long), slo), thr))
		words = append(words, fmt.Sprintf("more than %s× the budget over both the last %s and the last %s (%s of the %s budget spent in %s)",
			fmtFloat(f), dur(w.Long), dur(w.Short), pct(w.BudgetShare), period, dur(w.Long)))
	}
	first := ba.Windows[0]
	exhaust := time.Duration(float64(slo.Window) / first.Factor(slo.Window)).Round(time.Hour)
	what := "bad events"
	action := ""
	switch {
	case slo.Ratio != nil:
		what = "failed requests: " + slo.Ratio.Errors + " over " + slo.Ratio.Total
		action = "Open the Error Rate panel on the overview to see which error type rose; check the last deploy and the dependencies (database, Redis, Polygon, Alpaca)."
	case slo.Latency != nil:
		what = fmt.Sprintf("requests slower than %s ms, from %s", fmtFloat(slo.Latency.ThresholdMs), slo.Latency.Histogram)
		action = "Open the Latency panel on the overview to see which quantiles moved; check database query times and upstream (Polygon, Alpaca) latency."
	}
	a := spec.Alert{
		Name:     camel(slo.Name) + ba.Suffix,
		Severity: ba.Severity,
		Expr:     strings.Join(clauses, "\nor\n"),
		Labels:   map[string]string{SLOLabel: slo.Name},
		Panel:    SLOBurnRatePanel(slo),
		Condition: fmt.Sprintf("The error ratio of the %s SLI (%s) is %s.",
			slo.Name, what, strings.Join(words, ", or ")),
	}
	objective := fmt.Sprintf("objective %s over %s", pct(slo.Objective), period)
	desc := strings.TrimSuffix(slo.Description, ".")
	if ba.Severity == spec.Critical {
		a.Summary = fmt.Sprintf("%s SLO: error budget burning fast", SLOTitle(slo))
		a.Description = fmt.Sprintf("%s (%s). At this rate the whole %s error budget is gone in about %s.",
			desc, objective, period, dur(exhaust))
		a.Action = "Page: mitigate now (roll back, fail over, shed load), investigate after. " + action
	} else {
		a.Summary = fmt.Sprintf("%s SLO: error budget burning steadily", SLOTitle(slo))
		a.Description = fmt.Sprintf("%s (%s). Not urgent, but at this rate the %s error budget runs out in about %s.",
			desc, objective, period, dur(exhaust))
		a.Action = "Ticket: no need to wake anyone; open a ticket and fix it within working hours. " + action
	}
	return a
}

// pct prints a share as a percentage: 0.999 → 99.9%.
func pct(v float64) string { return strconv.FormatFloat(v*100, 'g', 10, 64) + "%" }

// sloGroups are one rule group per SLO. The error ratios and the alerts
// that read them share a group because rules in a group are evaluated in
// order: the alerts always see this evaluation's ratios (promtool even
// evaluates separate groups in random order). The period's figures only
// feed dashboards and cost a rate over the whole period, so they live in
// their own group evaluated once a minute. (Not every 5m: a series
// written every 5m falls out of PromQL's 5m lookback between writes and
// the dashboard would flicker to "No data".)
func sloGroups(s *spec.Spec) []ruleGroup {
	var groups []ruleGroup
	for _, slo := range s.SLOs {
		lbl := map[string]string{SLOLabel: slo.Name}
		g := ruleGroup{Name: "slo:" + slo.Name}
		for _, w := range SLOWindows(slo) {
			if w == slo.Window {
				continue
			}
			g.Rules = append(g.Rules, rule{Record: SLOErrorRatio(w), Expr: sliErrorExpr(slo, w), Labels: lbl})
		}
		for _, ba := range sloBurnAlerts {
			g.Rules = append(g.Rules, alertRule(s, sloAlert(slo, ba)))
		}
		period := ruleGroup{Name: "slo:" + slo.Name + ":period", Interval: "1m", Rules: []rule{
			{Record: SLOErrorRatio(slo.Window), Expr: sliErrorExpr(slo, slo.Window), Labels: lbl},
			{Record: SLOObjectiveRecord, Expr: "vector(" + fmtFloat(slo.Objective) + ")", Labels: lbl},
			{Record: SLOErrorBudgetRecord, Expr: "vector(" + fmtFloat(sloBudget(slo)) + ")", Labels: lbl},
			{
				Record: SLOBudgetRemainingRecord,
				// Below 0 once the budget is overspent: the dashboard shows
				// by how much.
				Expr:   "1 - (" + sloSelector(SLOErrorRatio(slo.Window), slo) + " / " + fmtFloat(sloBudget(slo)) + ")",
				Labels: lbl,
			},
		}}
		groups = append(groups, g, period)
	}
	return groups
}

func renderSLORules(s *spec.Spec) ([]File, error) {
	if len(s.SLOs) == 0 {
		return nil, nil
	}
	names := make([]string, len(s.SLOs))
	for i, slo := range s.SLOs {
		names[i] = slo.Name
	}
	rules, err := yamlFile(SLORules, "SLO recording rules and burn-rate alerts: "+strings.Join(names, ", ")+".", ruleGroups{Groups: sloGroups(s)})
	if err != nil {
		return nil, err
	}
	tf, err := sloTestFile(s)
	if err != nil {
		return nil, err
	}
	tests, err := yamlFile(SLORulesTest, "promtool unit tests of slo_rules.yml: fast burn pages, slow burn opens a ticket, healthy is silent. Run: promtool test rules "+SLORulesTest, tf)
	if err != nil {
		return nil, err
	}
	return []File{rules.as(spec.Prometheus, ServerConfig), tests.as(spec.Prometheus, RuleTest)}, nil
}
