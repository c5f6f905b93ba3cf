package render

import (
	"testing"
	"time"

	"github.com/investiq/investiq-mon/spec"
)

// STACK.md: for a 30-day window, page at 14.4 (5m & 1h) or 6 (30m & 6h),
// ticket at 3 (2h & 1d) or 1 (6h & 3d).
func TestBurnFactorsForThirtyDaysAreTheWorkbooks(t *testing.T) {
	want := [][]float64{{14.4, 6}, {3, 1}}
	for i, ba := range sloBurnAlerts {
		for j, w := range ba.Windows {
			if got := w.Factor(30 * 24 * time.Hour); got != want[i][j] {
				t.Errorf("%s window %s/%s: factor %v, want %v", ba.Suffix, w.Short, w.Long, got, want[i][j])
			}
		}
	}
}

func TestSLOModelRatio(t *testing.T) {
	m := newSLOModel([]sloPhase{{Minutes: 60, BadPerMin: 6}, {Minutes: 10, BadPerMin: 600}})
	for _, tc := range []struct {
		name string
		t    int
		w    time.Duration
		want float64
	}{
		{"steady: 6 of 6000 a minute", 60, 30 * time.Minute, 0.001},
		// (t-5m, t] holds samples 66..70: four minutes of 600 bad.
		{"the 5m window sees the last four increases", 70, 5 * time.Minute, 0.1},
		// Samples 11..70: 49 minutes of 6 and 10 of 600, out of 59 minutes.
		{"the 1h window mixes both phases", 70, time.Hour, float64(49*6+10*600) / float64(59*6000)},
		{"a window longer than the data reads all of it", 70, 30 * 24 * time.Hour, float64(60*6+10*600) / float64(70*6000)},
	} {
		got, ok := m.ratio(tc.t, tc.w)
		if !ok || got != tc.want {
			t.Errorf("%s: ratio = %v, %v; want %v", tc.name, got, ok, tc.want)
		}
	}
	if _, ok := m.ratio(0, time.Hour); ok {
		t.Error("a single sample has no rate")
	}
}

// The rendered scenarios must test what their names say; checked here on
// the model at every minute, not only at the minutes promtool checks.
func TestSLOScenariosTestWhatTheySay(t *testing.T) {
	page, ticket := sloBurnAlerts[0], sloBurnAlerts[1]
	only := func(slo spec.SLO, ba burnAlert, i int) burnAlert {
		return burnAlert{Suffix: ba.Suffix, Windows: ba.Windows[i : i+1]}
	}
	for _, slo := range spec.Default().SLOs {
		for _, sc := range sloScenarios(slo) {
			m := newSLOModel(sc.Phases)
			end := len(m.total) - 1
			for _, at := range append(sc.AlertsAt, sc.ExprAt) {
				if at%sloTestEvalEvery != 0 {
					t.Errorf("%s: checks at %s, between two evaluations", sc.Name, minutes(at))
				}
			}
			switch sc.Kind {
			case "healthy", "noerrors":
				for t0 := 0; t0 <= end; t0++ {
					if m.fires(slo, page, t0) != no || m.fires(slo, ticket, t0) != no {
						t.Fatalf("%s: an alert fires at %s", sc.Name, minutes(t0))
					}
				}
			case "fast", "sustained":
				if sc.Detect == 0 {
					t.Fatalf("%s: never pages", sc.Name)
				}
				// The fast burn pages through the 5m/1h pair alone, the
				// sustained one through the 30m/6h pair alone.
				decisive, other := 0, 1
				if sc.Kind == "sustained" {
					decisive, other = 1, 0
				}
				if m.fires(slo, only(slo, page, decisive), sc.Detect) != yes {
					t.Errorf("%s: the page's pair %d does not fire at %s", sc.Name, decisive, minutes(sc.Detect))
				}
				for t0 := sc.BurnStart; t0 <= sc.Detect; t0++ {
					if m.fires(slo, only(slo, page, other), t0) != no {
						t.Errorf("%s: the page's pair %d fires at %s too, so the test cannot tell the pairs apart", sc.Name, other, minutes(t0))
						break
					}
				}
				if m.fires(slo, page, sc.Detect-sloTestEvalEvery) == yes {
					t.Errorf("%s: already paging an evaluation before %s", sc.Name, minutes(sc.Detect))
				}
				if sc.Kind == "fast" && slo.Ratio != nil && sc.Detect-sc.BurnStart > 5 {
					t.Errorf("%s: a fast burn of availability should page within the 5m short window, took %s", sc.Name, minutes(sc.Detect-sc.BurnStart))
				}
			case "slow":
				if sc.Detect == 0 {
					t.Fatalf("%s: never opens a ticket", sc.Name)
				}
				for t0 := 0; t0 <= end; t0++ {
					if m.fires(slo, page, t0) != no {
						t.Fatalf("%s: pages at %s", sc.Name, minutes(t0))
					}
				}
				if m.fires(slo, ticket, sc.Detect) != yes {
					t.Errorf("%s: no ticket at %s", sc.Name, minutes(sc.Detect))
				}
			default:
				t.Errorf("%s: unknown kind %q", sc.Name, sc.Kind)
			}
		}
	}
}
