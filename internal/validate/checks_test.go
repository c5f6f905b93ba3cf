package validate

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/spec"
)

var checkIDRE = regexp.MustCompile(`^[a-z]+(-[a-z]+)*/[a-z]+(-[a-z]+)*$`)

// Every check id the code reports is in Checks (so --enable, --disable
// and the class of the check know it), and every one in Checks is in the
// README's table.
func TestEveryCheckIsRegisteredAndDocumented(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]token.Position{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "checks.go" {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		imports := map[*ast.BasicLit]bool{}
		for _, im := range f.Imports {
			imports[im.Path] = true
		}
		// Every string literal shaped like a check id: ids are passed to
		// errorf and friends, set in Finding literals, or chosen into a
		// variable first.
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING || imports[lit] {
				return true
			}
			if id, err := strconv.Unquote(lit.Value); err == nil && checkIDRE.MatchString(id) {
				used[id] = fset.Position(lit.Pos())
			}
			return true
		})
	}
	if len(used) < 20 {
		t.Fatalf("found only %d check ids in the code: the scan is broken", len(used))
	}
	for id, pos := range used {
		if _, ok := checkByID(id); !ok {
			t.Errorf("%s: check %q is not in Checks", pos, id)
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Checks {
		if _, ok := used[c.ID]; !ok {
			t.Errorf("check %q is in Checks but nothing reports it", c.ID)
		}
		if !strings.Contains(string(readme), "`"+c.ID+"`") {
			t.Errorf("check %q is not in the README", c.ID)
		}
	}
}

// houseRules is a rule file promtool accepts, with lint (a duplicate) and
// with what the house checks refuse: an undeclared metric, a severity
// outside the vocabulary, no description.
const houseRules = `groups:
  - name: g
    rules:
      - alert: Odd
        expr: sum(rate(nope_total[5m])) > 1
        labels:
          severity: page
        annotations:
          summary: s
      - record: a:b
        expr: sum(up)
      - record: a:b
        expr: sum(up)
`

func TestHouseChecksFollowOwnership(t *testing.T) {
	s := spec.Default()
	root := t.TempDir()
	own := filepath.Join(root, "monitoring")
	foreign := filepath.Join(root, "theirs")
	for _, d := range []string{own, foreign, filepath.Join(own, "prometheus")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	theirs := writeIn(t, foreign, "rules.yml", houseRules)
	ours := writeIn(t, filepath.Join(own, "prometheus"), "rules.yml", houseRules)
	marked := writeIn(t, foreign, "marked.yml", "# Alerting rules.\n# "+GeneratedMarker+" from spec/investiq.go.\n"+houseRules)
	houseOf := func(res *Result, path string) int {
		n := 0
		for _, f := range res.Findings {
			if c, _ := checkByID(f.Check); f.Path == path && c.Class == House {
				n++
			}
		}
		return n
	}
	tests := []struct {
		name   string
		opts   Options
		path   string
		house  bool
		code   int // without --lint-fatal
		fatal3 bool
	}{
		{"someone else's file gets promtool's verdict: lint only", Options{}, theirs, false, 0, true},
		{"a file under the project's directory gets the house checks", Options{}, ours, true, 1, false},
		{"a file with the generated header gets them anywhere", Options{}, marked, true, 1, false},
		{"--profile all runs them on someone else's file", Options{Profile: ProfileAll}, theirs, true, 1, false},
		{"--profile promtool runs none on the project's file", Options{Profile: ProfilePromtool}, ours, false, 0, true},
		{"--enable runs one on someone else's file", Options{Enable: []string{"alerts/severity"}}, theirs, true, 1, false},
		{"--disable wins over --enable", Options{Enable: []string{"alerts/"}, Disable: []string{"alerts/severity", "alerts/annotations"}}, theirs, false, 0, true},
		{"--disable of every house prefix leaves the project's file with promtool's verdict", Options{Disable: []string{"alerts/", "promql/unknown-metric"}}, ours, false, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Spec, tt.opts.OwnDir = s, own
			res := run(t, tt.opts, tt.path)
			if got := houseOf(res, tt.path) > 0; got != tt.house {
				t.Fatalf("house findings: %v, want %v\n%s", got, tt.house, findingsText(res))
			}
			if res.ExitCode(false) != tt.code {
				t.Errorf("exit code %d, want %d\n%s", res.ExitCode(false), tt.code, findingsText(res))
			}
			if tt.fatal3 && res.ExitCode(true) != 3 {
				t.Errorf("with --lint-fatal: exit code %d, want 3 (the duplicate is lint)", res.ExitCode(true))
			}
		})
	}
}

// A rule file reached through a Prometheus config's rule_files is the
// project's only when the config is and the rule file itself is.
func TestRuleFilesTakeTheirConfigsOwnership(t *testing.T) {
	s := spec.Default()
	root := t.TempDir()
	own := filepath.Join(root, "monitoring")
	foreign := filepath.Join(root, "theirs")
	for _, d := range []string{own, foreign} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ourRules := writeIn(t, own, "rules.yml", houseRules)
	theirRules := writeIn(t, foreign, "rules.yml", houseRules)
	theirCfg := writeIn(t, foreign, "prometheus.yml", "rule_files: [rules.yml, ../monitoring/rules.yml]\n")
	ourCfg := writeIn(t, own, "prometheus.yml", "rule_files: [rules.yml, ../theirs/rules.yml]\n")
	houseAt := func(res *Result, path string) bool {
		for _, f := range res.Findings {
			if c, _ := checkByID(f.Check); filepath.Clean(f.Path) == filepath.Clean(path) && c.Class == House {
				return true
			}
		}
		return false
	}
	res := run(t, Options{Spec: s, OwnDir: own}, theirCfg)
	if houseAt(res, theirRules) || houseAt(res, ourRules) {
		t.Errorf("through someone else's config no rule file gets the house checks:\n%s", findingsText(res))
	}
	if res.ExitCode(false) != 0 || res.ExitCode(true) != 3 {
		t.Errorf("exit codes %d, %d with --lint-fatal; want promtool's 0 and 3", res.ExitCode(false), res.ExitCode(true))
	}
	res = run(t, Options{Spec: s, OwnDir: own}, ourCfg)
	if !houseAt(res, ourRules) {
		t.Errorf("the project's config and rule file: want the house checks\n%s", findingsText(res))
	}
	if houseAt(res, theirRules) {
		t.Errorf("a rule file outside the project, even through its config, is not the project's:\n%s", findingsText(res))
	}
}

func TestUnknownCheckNamesAreRefused(t *testing.T) {
	dir := write(t, map[string]string{"rules.yml": recordFile("sum(up)")})
	for _, opts := range []Options{
		{Enable: []string{"alerts/severty"}},
		{Disable: []string{"nope/"}},
		{Profile: "strict"},
	} {
		if _, err := Run(t.Context(), []string{dir}, opts); err == nil {
			t.Errorf("%+v: want an error", opts)
		}
	}
	for _, p := range []string{"security/", "alerts/severity", "promql/"} {
		if err := CheckPattern(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if !slices.ContainsFunc(Checks, func(c Check) bool { return c.Class == Upstream && c.ID == "rules/duplicate" }) {
		t.Error("rules/duplicate is promtool's lint: it must be an upstream check")
	}
}

// Every file generate writes that validate reads is recognised as the
// project's by its header alone, wherever it is copied: the marker
// validate looks for is the one render writes.
func TestGeneratedFilesAreOursByTheirHeader(t *testing.T) {
	files, err := render.Render(spec.Default())
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		if !walked(filepath.Base(f.Path)) {
			continue // RUNBOOK.md, .gitignore, .env.example: not validated
		}
		checked++
		if !(ownership{}).owns(f.Path, f.Data) {
			t.Errorf("%s: not recognised as generated (no %q in its first %d bytes)", f.Path, GeneratedMarker, markerWindow)
		}
	}
	if checked < 8 {
		t.Fatalf("only %d rendered files checked", checked)
	}
	if (ownership{}).owns("theirs.yml", []byte("groups: []\n")) {
		t.Error("a file without the header, outside any own directory, is recognised as generated")
	}
}
