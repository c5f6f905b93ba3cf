package simulate_test

import (
	"testing"

	"github.com/investiq/investiq-mon/internal/simulate"
	"github.com/investiq/investiq-mon/spec"
)

// An open label is served with as many values as its MaxValues, so a
// scrape of the simulator has the series count sizing plans for.
func TestOpenLabelsAreServedUpToTheirMaxValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		max  int
		want int
	}{
		{"a bound above the sample values pads them", 7, 7},
		{"a bound below the sample values cuts them", 2, 2},
		{"no bound keeps the sample values", 0, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := spec.Default()
			for i, m := range s.Metrics {
				if m.Name == "investiq_requests_total" {
					s.Metrics[i].Labels[0].MaxValues = tc.max
				}
			}
			sim, err := simulate.New(s, simulate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			mfs, err := sim.APIRegistry().Gather()
			if err != nil {
				t.Fatal(err)
			}
			for _, mf := range mfs {
				if mf.GetName() == "investiq_requests_total" {
					if got := len(mf.GetMetric()); got != tc.want {
						t.Errorf("%d series of investiq_requests_total, want %d", got, tc.want)
					}
					return
				}
			}
			t.Fatal("investiq_requests_total not served")
		})
	}
}
