package validate

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// Issue 17: a fuzz target for every kind of file a user hands validate.
// Beyond "no panic", each asserts that
//   - the verdict is stable: the same bytes checked twice give the same
//     findings;
//   - every finding names a position inside the input: a line no further
//     than the file's last line and a column no further than its longest
//     line (0:0 is a finding about the whole file);
//   - findings are about the input and nothing else (SyntaxOnly: no file
//     the input names is read);
//   - an upstream parser that panics is an input/crash finding, never a
//     crash of the run; input/crash is accepted only for the upstream
//     bugs knownUpstreamCrash names.
//
// `go test` runs each target on its seeds: the project's own files
// (monitoring/, the golden renders, the fixtures) and the inputs of the
// bounded-resources tests. `make fuzz` runs each for FUZZTIME.

// fuzzSpec is the spec the house checks compare with; built once.
var fuzzSpec = spec.Default()

// seedFiles adds every file matching the globs (relative to this package)
// to the corpus.
func seedFiles(f *testing.F, globs ...string) {
	f.Helper()
	n := 0
	for _, g := range globs {
		ms, err := filepath.Glob(g)
		if err != nil {
			f.Fatal(err)
		}
		for _, m := range ms {
			data, err := os.ReadFile(m)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
			n++
		}
	}
	if n == 0 {
		f.Fatalf("no seed file matches %v", globs)
	}
}

// checkPositions fails when a finding points outside the input. Lines
// are counted as the input's format counts them: YAML breaks lines at
// \r, NEL, LS and PS too, JSON at \n only (a raw \r in a JSON string is
// inside its line; found by FuzzDashboard), so a position must lie
// within the larger of the two counts.
func checkPositions(t *testing.T, path string, data []byte, res *Result) {
	t.Helper()
	lines, longest := testutil.YAMLExtent(data)
	nl, nlLongest := testutil.NewlineExtent(data)
	lines, longest = max(lines, nl), max(longest, nlLongest)
	for _, fd := range res.Findings {
		if fd.Path != path {
			t.Errorf("finding about %s, not the input %s: %s", fd.Path, path, fd)
			continue
		}
		if fd.Check == "input/crash" && !knownUpstreamCrash(fd.Message) {
			t.Errorf("an upstream parser crashed: %s\ninput: %q", fd, data[:min(len(data), 2000)])
		}
		switch {
		case fd.Line < 0 || fd.Col < 0:
			t.Errorf("negative position: %s", fd)
		case fd.Line == 0 && fd.Col != 0:
			t.Errorf("a column without a line: %+v", fd)
		case fd.Line > lines:
			t.Errorf("line %d past the input's %d lines: %s", fd.Line, lines, fd)
		case fd.Line > 0 && fd.Col > longest+1:
			t.Errorf("column %d past the input's longest line (%d bytes): %s", fd.Col, longest, fd)
		}
	}
}

// knownUpstreamCrash says whether an input/crash finding is a panic of an
// upstream loader on which the upstream tool itself panics: Alertmanager's
// config package dereferences nil on a route list with an empty item
// (amtool check-config exits 2 with the same trace; the parity fixture
// am-29-route-empty-item.bad.yml documents it), and Prometheus' on an
// empty item of alerting.alertmanagers (`alertmanagers: [null]`: promtool
// 3.16 check config panics in AlertmanagerConfig.Validate; found by
// FuzzPrometheusConfig, kept in its testdata). validate turns each into
// an error at the file, which is the verdict wanted.
func knownUpstreamCrash(msg string) bool {
	return strings.Contains(msg, "nil pointer dereference in github.com/prometheus/alertmanager/config.") ||
		strings.Contains(msg, "nil pointer dereference in github.com/prometheus/prometheus/config.(*AlertmanagerConfig)")
}

// runKind validates data as a file of the given kind, twice, and checks
// the result; it returns the first result.
func runKind(t *testing.T, kind Kind, name string, data []byte) *Result {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	opts := Options{Kind: kind, SyntaxOnly: true, Spec: fuzzSpec, Profile: ProfileAll, Parallel: 1}
	first, err := Run(context.Background(), []string{path}, opts)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Run(context.Background(), []string{path}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(first.Findings, second.Findings) {
		t.Errorf("unstable verdict on the same bytes:\nfirst:\n%s\nsecond:\n%s", findingsText(first), findingsText(second))
	}
	checkPositions(t, path, data, first)
	return first
}

func fuzzKind(f *testing.F, kind Kind, name string, globs ...string) {
	seedFiles(f, globs...)
	for _, s := range hostileSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		runKind(t, kind, name, data)
	})
}

// hostileSeeds are small versions of the bounded-resources inputs: an
// alias bomb, deep nesting in YAML flow and block style and in JSON.
func hostileSeeds() [][]byte {
	var bomb strings.Builder
	bomb.WriteString("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n")
	for i := 'b'; i <= 'e'; i++ {
		bomb.WriteString(string(i) + ": &" + string(i) + " [")
		for j := range 9 {
			if j > 0 {
				bomb.WriteString(",")
			}
			bomb.WriteString("*" + string(i-1))
		}
		bomb.WriteString("]\n")
	}
	return [][]byte{
		[]byte(bomb.String()),
		[]byte(strings.Repeat("[", 200) + strings.Repeat("]", 200)),
		[]byte(strings.Repeat("{\"a\":", 200) + "1" + strings.Repeat("}", 200)),
		[]byte("groups:\n" + strings.Repeat("  ", 1) + nestedBlock(50)),
		{},
		[]byte("\r\r\u2028x: \"\\x\""),
	}
}

func nestedBlock(depth int) string {
	var b strings.Builder
	for i := range depth {
		b.WriteString(strings.Repeat(" ", 2*i) + "- a:\n")
	}
	return b.String()
}

// FuzzRules checks a rule file as `validate` does, and compares its
// verdict with rulefmt's on whether the file parses at all: validate may
// say more than rulefmt (house checks) but never less, and never reject a
// file rulefmt accepts on an upstream check.
func FuzzRules(f *testing.F) {
	seedFiles(f, "../../monitoring/prometheus/*_rules.yml", "testdata/parity/rules-*.yml",
		"../render/testdata/golden*/prometheus/*_rules.yml", "../ruletest/testdata/rules/*.yml")
	for _, s := range hostileSeeds() {
		f.Add(s)
	}
	p := parser.NewParser(parser.Options{})
	f.Fuzz(func(t *testing.T, data []byte) {
		res := runKind(t, KindRules, "rules.yml", data)
		_, errs := rulefmt.Parse(data, false, model.UTF8Validation, p, promslog.NewNopLogger())
		upstream := 0
		for _, fd := range res.Findings {
			if c, _ := checkByID(fd.Check); fd.Severity == Error && c.Class == Upstream {
				upstream++
			}
		}
		if (len(errs) == 0) != (upstream == 0) {
			t.Errorf("rulefmt says %d errors %v, validate %d upstream errors:\n%s", len(errs), errs, upstream, findingsText(res))
		}
	})
}

// FuzzPrometheusConfig checks prometheus.yml.
func FuzzPrometheusConfig(f *testing.F) {
	fuzzKind(f, KindPrometheus, "prometheus.yml", "../../monitoring/prometheus/prometheus.yml",
		"testdata/parity/prom-*.yml", "testdata/fixtures/prom-*.yml", "../render/testdata/golden*/prometheus/prometheus.yml")
}

// FuzzAlertmanagerConfig checks alertmanager.yml.
func FuzzAlertmanagerConfig(f *testing.F) {
	fuzzKind(f, KindAlertmanager, "alertmanager.yml", "../../monitoring/alertmanager/alertmanager.yml",
		"testdata/parity/am-*.yml", "testdata/fixtures/am-*.yml", "../render/testdata/golden*/alertmanager/alertmanager.yml")
}

// FuzzRuleTestFile checks a promtool rule-test file as validate does.
func FuzzRuleTestFile(f *testing.F) {
	fuzzKind(f, KindRuleTest, "rules_test.yml", "../../monitoring/prometheus/*_test.yml",
		"testdata/fixtures/ruletest-*.yml", "../ruletest/testdata/*.yml")
}

// FuzzDashboard checks a Grafana dashboard JSON.
func FuzzDashboard(f *testing.F) {
	fuzzKind(f, KindDashboard, "dashboard.json", "../../monitoring/grafana/dashboards/*.json",
		"testdata/fixtures/dashboard-*.json")
}

// FuzzCompose checks a compose file.
func FuzzCompose(f *testing.F) {
	fuzzKind(f, KindCompose, "docker-compose.yml", "../../monitoring/docker-compose.yml",
		"testdata/fixtures/compose-*.yml", "../render/testdata/golden*/docker-compose.yml")
}

// FuzzDetect walks the kind detection every walked file goes through,
// with every seed of the targets above.
func FuzzDetect(f *testing.F) {
	seedFiles(f, "../../monitoring/*/*.yml", "../../monitoring/*.yml", "../../monitoring/grafana/*/*.json",
		"testdata/fixtures/*.good.*")
	for _, s := range hostileSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		runKind(t, "", "input.yml", data)
	})
}
