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

// Addresses come from flags (--api-address, --ml-address): a URL where
// host:port belongs is refused before any file is written.
func TestCheckRefusesTargetsThatAreNotHostPort(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  spec.Settings
		want string
	}{
		{"a URL instead of host:port", spec.Settings{APIAddress: "http://api:3000"}, `jobs[investiq-api].targets[0]: "http://api:3000" is not host:port`},
		{"no port", spec.Settings{MLAddress: "ml-service"}, `jobs[ml-service].targets[0]: "ml-service" is not host:port`},
		{"a port out of range", spec.Settings{APIAddress: "api:70000"}, `jobs[investiq-api].targets[0]: "api:70000" has no port number`},
		{"a path after the port", spec.Settings{APIAddress: "api:3000/metrics"}, `has no port number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := spec.InvestIQ(tc.set).Check()
			if !errors.Is(err, spec.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check() = %v, want an ErrInvalid saying %q", err, tc.want)
			}
		})
	}
	for _, ok := range []string{"127.0.0.1:3000", "[::1]:3000", "api-server:3000"} {
		if err := spec.InvestIQ(spec.Settings{APIAddress: ok}).Check(); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
}
