package ruletest_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/promtest"
	"github.com/investiq/investiq-mon/internal/ruletest"
	"github.com/investiq/investiq-mon/internal/testutil"
)

// handWritten are the promtool-format files under testdata, named
// *.pass.yml or *.fail.yml by the verdict promtool gives them.
func handWritten(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var pass, fail int
	for _, f := range files {
		switch {
		case strings.HasSuffix(f, ".pass.yml"):
			pass++
		case strings.HasSuffix(f, ".fail.yml"):
			fail++
		default:
			t.Fatalf("%s: name it *.pass.yml or *.fail.yml", f)
		}
	}
	// A parity check over files that all pass (or all fail) would prove
	// little: keep both kinds.
	if pass < 5 || fail < 5 {
		t.Fatalf("testdata has %d passing and %d failing files; want at least 5 of each", pass, fail)
	}
	return files
}

func runOne(t *testing.T, file string, opts ruletest.Options) ruletest.FileResult {
	t.Helper()
	res := ruletest.Run(context.Background(), ruletest.Disk{}, []string{file}, opts)
	if len(res) != 1 {
		t.Fatalf("%d results for one file", len(res))
	}
	return res[0]
}

// The verdict on every hand-written file is promtool's verdict, and both
// are the one the file's name states.
func TestVerdictsMatchPromtool(t *testing.T) {
	promtool := testutil.Bin(t, "promtool")
	for _, f := range handWritten(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			want := strings.HasSuffix(f, ".pass.yml")
			out, err := exec.Command(promtool, "test", "rules", f).CombinedOutput()
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				t.Fatal(err)
			}
			promtoolPass := err == nil
			ours := !runOne(t, f, ruletest.Options{}).Failed()
			if ours != promtoolPass {
				var buf bytes.Buffer
				ruletest.WriteText(&buf, []ruletest.FileResult{runOne(t, f, ruletest.Options{})}, true)
				t.Fatalf("investiq-mon says pass=%v, promtool says pass=%v\npromtool:\n%s\ninvestiq-mon:\n%s", ours, promtoolPass, out, buf.String())
			}
			if promtoolPass != want {
				t.Fatalf("promtool says pass=%v but the file is named %s: rename it or fix it\n%s", promtoolPass, filepath.Base(f), out)
			}
		})
	}
}

func TestFailureShowsExpectedAgainstGotAsDiff(t *testing.T) {
	res := runOne(t, filepath.Join("testdata", "for.fail.yml"), ruletest.Options{})
	if !res.Failed() {
		t.Fatal("for.fail.yml passed")
	}
	var buf bytes.Buffer
	ruletest.WriteText(&buf, []ruletest.FileResult{res}, false)
	for _, want := range []string{
		"FAIL  testdata/for.fail.yml: errors climb",
		"alertname: HighErrors, time: 2m",
		"--- expected",
		"+++ got",
		`-{alertname="HighErrors", job="api", severity="page"}`,
		`-    summary: "api errors at 1/s"`,
		"+(no alert firing)",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestRunSelectsGroupsByName(t *testing.T) {
	f := filepath.Join("testdata", "run_unnamed.fail.yml")
	for _, tc := range []struct {
		name   string
		run    string
		groups []string
		failed bool
	}{
		{"no pattern runs every group", "", []string{"fine", "unnamed#1"}, true},
		{"a pattern that matches the passing group runs it alone", "^fine$", []string{"fine"}, false},
		{"an unnamed group has the empty name, as in promtool", "^$", []string{"unnamed#1"}, true},
		{"a pattern that matches nothing runs nothing", "nothing", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts ruletest.Options
			if tc.run != "" {
				opts.Run = regexp.MustCompile(tc.run)
			}
			res := runOne(t, f, opts)
			var names []string
			for _, g := range res.Groups {
				names = append(names, g.Name)
			}
			if strings.Join(names, ",") != strings.Join(tc.groups, ",") || res.Failed() != tc.failed {
				t.Errorf("ran %v (failed=%v), want %v (failed=%v)", names, res.Failed(), tc.groups, tc.failed)
			}
		})
	}
}

func TestJUnitReport(t *testing.T) {
	files := []string{
		filepath.Join("testdata", "order.pass.yml"),
		filepath.Join("testdata", "promql.fail.yml"),
		filepath.Join("testdata", "unknown_field.fail.yml"),
	}
	res := ruletest.Run(context.Background(), ruletest.Disk{}, files, ruletest.Options{})
	var buf bytes.Buffer
	if err := ruletest.WriteJUnit(&buf, res); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string  `xml:"name,attr"`
				Failure *string `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if doc.Tests != 3 || doc.Failures != 1 || doc.Errors != 1 || len(doc.Suites) != 3 {
		t.Fatalf("tests=%d failures=%d errors=%d suites=%d, want 3 1 1 3\n%s", doc.Tests, doc.Failures, doc.Errors, len(doc.Suites), buf.String())
	}
	failed := doc.Suites[1].Cases[0]
	if failed.Name != "recorded rate" || failed.Failure == nil || !strings.Contains(*failed.Failure, "+++ got") {
		t.Errorf("promql.fail.yml's case: %+v, want a failure named \"recorded rate\" with the diff\n%s", failed, buf.String())
	}
	if doc.Suites[0].Cases[0].Failure != nil {
		t.Errorf("order.pass.yml's case has a failure:\n%s", buf.String())
	}
}

// Groups run side by side; the verdicts and failures must not depend on it.
func TestParallelRunGivesTheSameResults(t *testing.T) {
	files := handWritten(t)
	report := func(parallel int) string {
		var buf bytes.Buffer
		ruletest.WriteText(&buf, ruletest.Run(context.Background(), ruletest.Disk{}, files, ruletest.Options{Parallel: parallel}), false)
		return buf.String()
	}
	if one, many := report(1), report(8); one != many {
		t.Errorf("one at a time:\n%s\neight at a time:\n%s", one, many)
	}
}

// --run picks the same groups as promtool's --run: the verdict on a file
// with a passing and a failing group turns on which are selected.
func TestRunMatchesPromtoolRun(t *testing.T) {
	promtool := testutil.Bin(t, "promtool")
	f := filepath.Join("testdata", "run_unnamed.fail.yml")
	for _, pattern := range []string{"^fine$", "^$", "fi", "nothing"} {
		t.Run(pattern, func(t *testing.T) {
			err := exec.Command(promtool, "test", "rules", "--run", pattern, f).Run()
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				t.Fatal(err)
			}
			ours := !runOne(t, f, ruletest.Options{Run: regexp.MustCompile(pattern)}).Failed()
			if ours != (err == nil) {
				t.Errorf("--run %q: investiq-mon pass=%v, promtool pass=%v", pattern, ours, err == nil)
			}
		})
	}
}

// A series written as `0+1x1000000000` (a billion samples, 24 GB once
// expanded) is refused with the file and line before anything expands it.
// An eval_time far out would evaluate every rule at each interval up to
// it (days of work for `10000w`): refused at its line, at once.
func TestFarEvalTimeIsRefusedWithItsLine(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "r.yml"), []byte("groups: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "far_test.yml")
	if err := os.WriteFile(file, []byte(`rule_files: [r.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: up
        values: '1'
    alert_rule_test:
      - alertname: X
        eval_time: 5m
      - alertname: X
        eval_time: 10000w
`), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan ruletest.FileResult, 1)
	go func() { done <- runOne(t, file, ruletest.Options{}) }()
	select {
	case res := <-done:
		if !errors.Is(res.Err, promtest.ErrTooManyPoints) || !strings.Contains(res.Err.Error(), file+":12: eval_time 10000w") {
			t.Errorf("got %v, want a refusal at %s:12", res.Err, file)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("still evaluating after two minutes: the eval_time is not bounded")
	}
}

func TestHugeSeriesExpansionIsRefusedWithItsLine(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "r.yml"), []byte("groups: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "bomb_test.yml")
	if err := os.WriteFile(file, []byte(`rule_files: [r.yml]
tests:
  - interval: 1m
    input_series:
      - series: up
        values: '0+1x1000000000'
`), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runOne(t, file, ruletest.Options{})
	if !errors.Is(res.Err, promtest.ErrTooManyPoints) || !strings.Contains(res.Err.Error(), file+":6: input series up") {
		t.Errorf("got %v, want ErrTooManyPoints at %s:6", res.Err, file)
	}
}
