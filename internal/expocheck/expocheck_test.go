package expocheck_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/investiq/investiq-mon/internal/expocheck"
	"github.com/investiq/investiq-mon/internal/simulate"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// goodExposition is what the simulator serves: every spec metric, right.
func goodExposition(t *testing.T, format expfmt.Format) string {
	t.Helper()
	sim, err := simulate.New(spec.Default(), simulate.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	sim.Step(time.Minute)
	mfs, err := sim.APIRegistry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, format)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	if c, ok := enc.(expfmt.Closer); ok {
		c.Close()
	}
	return buf.String()
}

// edit applies regexp replacements line by line to an exposition.
func edit(text string, pairs ...string) string {
	for i := 0; i < len(pairs); i += 2 {
		text = regexp.MustCompile(`(?m)`+pairs[i]).ReplaceAllString(text, pairs[i+1])
	}
	return text
}

func checkText(t *testing.T, text string) expocheck.Report {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "metrics.txt")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	fams, err := expocheck.Load(t.Context(), nil, p)
	if err != nil {
		t.Fatal(err)
	}
	return expocheck.Check(spec.Default(), spec.JobAPI, fams)
}

func TestCheck(t *testing.T) {
	good := goodExposition(t, expfmt.FmtText)
	tests := []struct {
		name string
		text string
		// want are "metric|kind" of every problem except notes.
		want []string
	}{
		{"the simulator's exposition matches the spec", good, nil},
		{"the OpenMetrics exposition matches the spec too", goodExposition(t, expfmt.FmtOpenMetrics_1_0_0), nil},
		{"a metric that is not exposed is missing",
			edit(good, `^(# (HELP|TYPE) )?investiq_trades_total.*\n`, ""),
			[]string{"investiq_trades_total|missing"}},
		{"a counter exposed as a gauge has the wrong type",
			edit(good, `^# TYPE investiq_errors_total counter`, "# TYPE investiq_errors_total gauge"),
			[]string{"investiq_errors_total|wrong type"}},
		{"a metric without a TYPE line is untyped, the wrong type",
			edit(good, `^# TYPE investiq_analyses_total counter\n`, ""),
			[]string{"investiq_analyses_total|wrong type"}},
		{"a series without a declared label lacks it",
			edit(good, `^investiq_errors_total\{type="database"\}`, "investiq_errors_total"),
			[]string{"investiq_errors_total|missing label"}},
		{"a label the spec does not declare is unexpected",
			edit(good, `^investiq_active_connections `, `investiq_active_connections{pod="a"} `),
			[]string{"investiq_active_connections|unexpected label"}},
		{"a dependency outside the spec's closed set is refused",
			edit(good, `name="redis"`, `name="mongodb"`),
			[]string{"investiq_dependency_health|label value not allowed"}},
		{"a histogram without the SLO's 500 ms bucket misses it",
			edit(good, `^investiq_request_duration_milliseconds_bucket\{.*le="500"\}.*\n`, ""),
			[]string{"investiq_request_duration_milliseconds|missing bucket"}},
		{"a state gauge at a value that is no state",
			edit(good, `^investiq_trading_halted 0`, "investiq_trading_halted 2"),
			[]string{"investiq_trading_halted|value not a state"}},
		{"a metric outside the spec is only linted",
			good + "# TYPE investiqCache_hits counter\ninvestiqCache_hits 3\n",
			[]string{"investiqCache_hits|lint", "investiqCache_hits|lint", "investiqCache_hits|lint"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := checkText(t, tt.text)
			var got []string
			for _, p := range rep.Problems {
				if p.Kind == expocheck.Note {
					continue
				}
				got = append(got, p.Metric+"|"+string(p.Kind))
				if !strings.HasPrefix(p.String(), p.Metric+": ") {
					t.Errorf("problem line %q does not start with its metric", p)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems %v, want %v; report:\n%s", got, tt.want, lines(rep))
			}
			if rep.SpecFailed() != slices.ContainsFunc(tt.want, func(s string) bool { return !strings.HasSuffix(s, "|lint") }) {
				t.Errorf("SpecFailed = %v for %v", rep.SpecFailed(), tt.want)
			}
		})
	}
}

func lines(rep expocheck.Report) string {
	var b strings.Builder
	for _, p := range rep.Problems {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}

// TestMillisecondsIsANote: the spec names the latency histogram in
// milliseconds, which promlint flags; that is the spec's decision, so the
// API is not failed for it.
func TestMillisecondsIsANote(t *testing.T) {
	rep := checkText(t, goodExposition(t, expfmt.FmtText))
	i := slices.IndexFunc(rep.Problems, func(p expocheck.Problem) bool {
		return p.Metric == "investiq_request_duration_milliseconds" && p.Kind == expocheck.Note
	})
	if i < 0 {
		t.Fatalf("no note about the milliseconds unit:\n%s", lines(rep))
	}
	if rep.HasLint() || rep.SpecFailed() {
		t.Errorf("a note alone fails the check:\n%s", lines(rep))
	}
}

// TestLintMatchesPromtool runs the real promtool check metrics on the
// same exposition: what it prints is exactly what expocheck reports as
// lint (and notes).
func TestLintMatchesPromtool(t *testing.T) {
	promtool := testutil.Bin(t, "promtool")
	text := goodExposition(t, expfmt.FmtText) +
		"# TYPE investiqCache_hits counter\ninvestiqCache_hits 3\n" +
		"# HELP worker_latency_ms Latency.\n# TYPE worker_latency_ms histogram\nworker_latency_ms_bucket{le=\"+Inf\"} 1\nworker_latency_ms_sum 1\nworker_latency_ms_count 1\n"
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
	want := strings.Split(strings.TrimSpace(string(out)), "\n")
	rep := checkText(t, text)
	var got []string
	for _, p := range rep.Problems {
		if p.Kind == expocheck.Lint || p.Kind == expocheck.Note {
			got = append(got, p.Metric+" "+p.Lint)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("lint findings differ from promtool's\n got: %q\nwant: %q", got, want)
	}
}

func TestLoadErrorsNameTheSource(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("investiq_trades_total{ 1\n"), 0o644)
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html></html>"))
	}))
	defer html.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()

	sim, err := simulate.New(spec.Default(), simulate.Options{Scenario: simulate.MLDown})
	if err != nil {
		t.Fatal(err)
	}
	ml := httptest.NewServer(sim.MLHandler())
	defer ml.Close()

	tests := []struct {
		name, source string
		want         []string
	}{
		{"a missing file names the file", filepath.Join(dir, "nope.txt"), []string{"nope.txt", "no such file"}},
		{"a malformed file names the file and the line", bad, []string{"bad.txt", "line 1"}},
		{"an HTML page is not an exposition", html.URL, []string{html.URL, "not a metrics exposition", "text/html"}},
		{"a refused connection names the URL", downURL + "/metrics", []string{downURL, "connection refused"}},
		{"a 503 names the URL and status", ml.URL + "/metrics", []string{ml.URL, "503", "ml-down"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := expocheck.Load(t.Context(), nil, tt.source)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestFetchLiveSimulator scrapes a running simulator (real listener,
// content negotiation as Prometheus does it).
func TestFetchLiveSimulator(t *testing.T) {
	sim, err := simulate.New(spec.Default(), simulate.Options{Tick: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(t.Context(), "127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	fams, err := expocheck.Fetch(t.Context(), nil, "http://"+srv.APIAddr()+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	rep := expocheck.Check(spec.Default(), spec.JobAPI, fams)
	if rep.SpecFailed() || rep.HasLint() {
		t.Errorf("live simulator fails the check:\n%s", lines(rep))
	}
	if rep.Families != len(spec.Default().Metrics) {
		t.Errorf("%d families, want %d", rep.Families, len(spec.Default().Metrics))
	}
}
