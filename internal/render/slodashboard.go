package render

import (
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/investiq/investiq-mon/spec"
)

// Dashboards are the spec's dashboards and, when it has SLOs, the SLO
// dashboard derived from them (as the SLO rules, tests and runbook
// sections are): render, the runbook and the Kubernetes output read this
// list, never s.Dashboards alone.
func Dashboards(s *spec.Spec) []spec.Dashboard {
	out := slices.Clone(s.Dashboards)
	if len(s.SLOs) > 0 {
		out = append(out, SLODashboard(s))
	}
	return out
}

// SLODashboard shows, for each SLO, the objective, how much of the
// period's error budget is left and how fast it is burning. Its queries
// read the recording rules of slo_rules.yml and its thresholds are the
// burn-rate alerts' factors, so the numbers are exactly the ones the
// alerts compare. The burn-rate panel is SLOBurnRatePanel: the SLO
// alerts' runbook sections send the on-call person there.
func SLODashboard(s *spec.Spec) spec.Dashboard {
	var rows []spec.Row
	for _, slo := range s.SLOs {
		sel := sloSelector("", slo)
		title := SLOTitle(slo)
		period := model.Duration(slo.Window).String()
		burn := func(w time.Duration, instant bool) spec.Query {
			return spec.Query{
				Expr:    SLOErrorRatio(w) + sel + ` / on(` + SLOLabel + `) ` + SLOErrorBudgetRecord + sel,
				Legend:  dur(w),
				Instant: instant,
			}
		}
		// The stat reads every alert's long window; the graph adds the
		// fast page's short one, which shows a burn as it starts, and
		// leaves out the longest, too slow to read on a week's graph.
		var longs []time.Duration
		for _, a := range sloBurnAlerts {
			for _, w := range a.Windows {
				longs = append(longs, w.Long)
			}
		}
		graphed := append([]time.Duration{sloBurnAlerts[0].Windows[0].Short}, longs[:len(longs)-1]...)
		var now, series []spec.Query
		for _, w := range longs {
			now = append(now, burn(w, true))
		}
		for _, w := range graphed {
			series = append(series, burn(w, false))
		}
		thresholds := burnThresholds(slo)
		rows = append(rows, spec.Row{Title: title + ": " + strings.TrimSuffix(slo.Description, "."), Panels: []spec.Panel{
			{
				Title: title + " objective", Kind: spec.Stat, Unit: "percentunit", Width: 4,
				Description: "Target share of good events over " + period + ".",
				Queries:     []spec.Query{{Expr: SLOObjectiveRecord + sel, Instant: true}},
			},
			{
				Title: title + " error budget remaining", Kind: spec.Stat, Unit: "percentunit", Width: 5,
				Description: "Share of the " + period + " error budget not yet spent; below 0 once it is overspent.",
				Queries:     []spec.Query{{Expr: SLOBudgetRemainingRecord + sel, Instant: true}},
				Thresholds:  []spec.Threshold{{Color: "red"}, {Value: 0, Color: "orange"}, {Value: 0.25, Color: "green"}},
			},
			{
				Title: title + " burn rate now", Kind: spec.Stat, Unit: "none", Width: 6,
				Description: "How many times faster than sustainable the budget is being spent, over the windows the alerts read.",
				Queries:     now,
				Thresholds:  thresholds,
			},
			{
				Title: SLOBurnRatePanel(slo), Kind: spec.TimeSeries, Unit: "none",
				Description: "Burn rate over the alerts' windows; the lines are the alerts' factors.",
				Queries:     series,
				Thresholds:  thresholds,
			},
		}})
	}
	return spec.Dashboard{
		UID: "investiq-slo", Title: "InvestIQ SLOs", File: "investiq-slo.json",
		Tags: []string{"investiq", "slo"}, From: "now-7d", Refresh: "1m",
		Rows: rows,
	}
}

// burnThresholds colour a burn rate by the alerts it trips: 1 spends the
// budget exactly over the period; yellow from the slowest ticket's
// factor, orange from the slower page's, red from the fastest page's
// (1, 6 and 14.4 for 30 days).
func burnThresholds(slo spec.SLO) []spec.Threshold {
	factors := func(a burnAlert) []float64 {
		var fs []float64
		for _, w := range a.Windows {
			fs = append(fs, w.Factor(slo.Window))
		}
		return fs
	}
	page, ticket := factors(sloBurnAlerts[0]), factors(sloBurnAlerts[1])
	return []spec.Threshold{
		{Color: "green"},
		{Value: slices.Min(ticket), Color: "yellow"},
		{Value: slices.Min(page), Color: "orange"},
		{Value: slices.Max(page), Color: "red"},
	}
}
