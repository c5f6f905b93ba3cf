package spec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/spec"
)

func TestDefaultSpecWithItsSLOsPassesCheck(t *testing.T) {
	if err := spec.Default().Check(); err != nil {
		t.Fatal(err)
	}
}

// An impossible SLO is refused with a message naming the SLO and saying
// what is wrong, and every problem is reported, not just the first.
func TestCheckRefusesImpossibleSLOs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*spec.SLO)
		wants []string
	}{
		{"an objective of 1 leaves no error budget",
			func(s *spec.SLO) { s.Objective = 1 },
			[]string{`slos[availability].objective: 1 is not in (0,1): an objective of 1 leaves no error budget`}},
		{"an objective above 1 is impossible",
			func(s *spec.SLO) { s.Objective = 99.9 },
			[]string{`slos[availability].objective: 99.9 is not in (0,1)`}},
		{"an objective of 0 is no objective",
			func(s *spec.SLO) { s.Objective = 0 },
			[]string{`slos[availability].objective: 0 is not in (0,1)`}},
		{"a negative objective is impossible",
			func(s *spec.SLO) { s.Objective = -0.5 },
			[]string{`slos[availability].objective: -0.5 is not in (0,1)`}},
		{"a latency threshold between buckets cannot be counted",
			func(s *spec.SLO) {
				*s = spec.SLO{Name: "latency", Objective: 0.99, Window: s.Window,
					Latency: &spec.LatencySLI{Histogram: "investiq_request_duration_milliseconds", ThresholdMs: 400}}
			},
			[]string{`slos[latency].latency.thresholdMs: 400 is not a bucket of investiq_request_duration_milliseconds (buckets: [5 10 25 50 100 250 500 1000 2500 5000 10000]); the SLI can only count requests at a bucket bound`}},
		{"a latency SLI needs a declared histogram",
			func(s *spec.SLO) {
				*s = spec.SLO{Name: "latency", Objective: 0.99, Window: s.Window,
					Latency: &spec.LatencySLI{Histogram: "investiq_requests_total", ThresholdMs: 500}}
			},
			[]string{`slos[latency].latency.histogram: "investiq_requests_total" is not a declared histogram`}},
		{"both SLIs at once is ambiguous",
			func(s *spec.SLO) {
				s.Latency = &spec.LatencySLI{Histogram: "investiq_request_duration_milliseconds", ThresholdMs: 500}
			},
			[]string{`slos[availability]: set exactly one of ratio and latency`}},
		{"a ratio over an undeclared counter",
			func(s *spec.SLO) {
				s.Ratio = &spec.RatioSLI{Errors: "investiq_failures_total", Total: "investiq_requests_total"}
			},
			[]string{`slos[availability].ratio.errors: "investiq_failures_total" is not a declared counter`}},
		{"every problem is reported, not just the first",
			func(s *spec.SLO) { s.Objective = 1; s.Window = 0 },
			[]string{`slos[availability].objective: 1 is not in (0,1)`, `slos[availability].window: must be positive`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := spec.Default()
			tc.edit(&s.SLOs[0])
			err := s.Check()
			if err == nil {
				t.Fatal("Check accepted the spec")
			}
			if !errors.Is(err, spec.ErrInvalid) {
				t.Errorf("error does not wrap spec.ErrInvalid: %v", err)
			}
			for _, want := range tc.wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
		})
	}
}
