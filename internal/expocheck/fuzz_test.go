package expocheck_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/investiq/investiq-mon/internal/expocheck"
	"github.com/investiq/investiq-mon/internal/simulate"
	"github.com/investiq/investiq-mon/spec"
)

var parseLineRE = regexp.MustCompile(`line (\d+)`)

// FuzzExposition is check-metrics on a saved exposition (issue 17): the
// verdict is stable, a parse error names a line inside the input, and
// every problem names a metric that is in the input or that the spec
// declares for the job (a missing one).
func FuzzExposition(f *testing.F) {
	s := spec.Default()
	sim, err := simulate.New(s, simulate.Options{Seed: 1})
	if err != nil {
		f.Fatal(err)
	}
	sim.Step(time.Minute)
	mfs, err := sim.APIRegistry().Gather()
	if err != nil {
		f.Fatal(err)
	}
	for _, format := range []expfmt.Format{expfmt.FmtText, expfmt.FmtOpenMetrics_1_0_0} {
		var buf bytes.Buffer
		enc := expfmt.NewEncoder(&buf, format)
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				f.Fatal(err)
			}
		}
		if c, ok := enc.(expfmt.Closer); ok {
			c.Close()
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte("# HELP x y\n# TYPE x counter\nx{a=\"b\"} 1\nx{a=\"b\"} 2\n"))
	f.Add([]byte("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_bucket{le=\"1\"} 2\nh_count 1\n# EOF\n"))
	f.Add([]byte("{\"quoted.name\",a=\"\\n\"} 1 2\n"))
	declared := map[string]bool{}
	for _, m := range s.Metrics {
		if m.Job == spec.JobAPI {
			declared[m.Name] = true
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "metrics.txt")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		fams, err1 := expocheck.Load(t.Context(), nil, p)
		again, err2 := expocheck.Load(t.Context(), nil, p)
		if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
			t.Fatalf("unstable parse: %v, then %v", err1, err2)
		}
		if err1 != nil {
			lines := bytes.Count(data, []byte("\n")) + 1
			for _, m := range parseLineRE.FindAllStringSubmatch(err1.Error(), -1) {
				if n, _ := strconv.Atoi(m[1]); n < 1 || n > lines {
					t.Errorf("error names line %d of a %d-line input: %v", n, lines, err1)
				}
			}
			return
		}
		r1 := expocheck.Check(s, spec.JobAPI, fams)
		r2 := expocheck.Check(s, spec.JobAPI, again)
		if !slices.Equal(r1.Problems, r2.Problems) {
			t.Fatalf("unstable verdict:\n%v\n%v", r1.Problems, r2.Problems)
		}
		inInput := map[string]bool{}
		for _, mf := range fams {
			inInput[mf.GetName()] = true
		}
		for _, pr := range r1.Problems {
			if !inInput[pr.Metric] && !(pr.Kind == expocheck.Missing && declared[pr.Metric]) {
				t.Errorf("problem about %q, which is neither in the input nor a missing spec metric: %v", pr.Metric, pr)
			}
		}
	})
}
