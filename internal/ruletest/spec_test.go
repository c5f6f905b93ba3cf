package ruletest_test

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/ruletest"
	"github.com/investiq/investiq-mon/spec"
)

// runSpec renders s in memory and runs its alert rule tests, only the
// groups matching run.
func runSpec(t *testing.T, s *spec.Spec, run *regexp.Regexp) ruletest.FileResult {
	t.Helper()
	files, err := render.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	mem := fstest.MapFS{}
	for _, f := range files {
		mem[f.Path] = &fstest.MapFile{Data: f.Data}
	}
	res := ruletest.Run(context.Background(), ruletest.FS{FS: mem}, []string{render.AlertRulesTest}, ruletest.Options{Run: run})
	if res[0].Err != nil {
		t.Fatalf("%s did not run: %v", render.AlertRulesTest, res[0].Err)
	}
	return res[0]
}

func report(r ruletest.FileResult) string {
	var buf bytes.Buffer
	ruletest.WriteText(&buf, []ruletest.FileResult{r}, true)
	return buf.String()
}

func TestSpecCasesPass(t *testing.T) {
	res := runSpec(t, spec.Default(), nil)
	if res.Failed() {
		t.Fatalf("the spec's own cases fail:\n%s", report(res))
	}
	n := 0
	for _, a := range spec.Default().Alerts {
		n += len(a.Cases)
	}
	if len(res.Groups) != n {
		t.Fatalf("%d test groups ran, the spec has %d cases", len(res.Groups), n)
	}
}

// Every alert proves it fires and proves it stays silent; an alert on
// absent() also proves it fires when its series disappear (a case whose
// series end in a stale marker and that expects a firing alert).
func TestEveryAlertHasTheRequiredKindsOfCase(t *testing.T) {
	for _, a := range spec.Default().Alerts {
		var fires, silent, firesWhenGone bool
		for _, c := range a.Cases {
			firing := false
			for _, ch := range c.Checks {
				firing = firing || len(ch.Firing) > 0
			}
			gone := false
			for _, s := range c.Series {
				gone = gone || strings.HasSuffix(strings.TrimSpace(s.Values), "stale")
			}
			fires = fires || firing
			silent = silent || (!firing && len(c.Checks) > 0)
			firesWhenGone = firesWhenGone || (firing && gone)
		}
		if !fires || !silent {
			t.Errorf("%s: has a firing case: %v, a silent case: %v; it needs both", a.Name, fires, silent)
		}
		if strings.Contains(a.Expr, "absent(") && !firesWhenGone {
			t.Errorf("%s uses absent() but no case shows it firing once its series are gone", a.Name)
		}
	}
}

// A mutant is the alert with one deliberate bug.
type mutant struct {
	name  string
	alert spec.Alert
}

var comparisonFlip = map[parser.ItemType]parser.ItemType{
	parser.GTR: parser.LSS, parser.LSS: parser.GTR,
	parser.GTE: parser.LTE, parser.LTE: parser.GTE,
	parser.EQLC: parser.NEQ, parser.NEQ: parser.EQLC,
}

// thresholds finds each comparison of the expression against a number.
func thresholds(expr parser.Expr) []*parser.BinaryExpr {
	var out []*parser.BinaryExpr
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		b, ok := n.(*parser.BinaryExpr)
		if !ok || !b.Op.IsComparisonOperator() {
			return nil
		}
		_, l := b.LHS.(*parser.NumberLiteral)
		_, r := b.RHS.(*parser.NumberLiteral)
		if l || r {
			out = append(out, b)
		}
		return nil
	})
	return out
}

func number(b *parser.BinaryExpr) *parser.NumberLiteral {
	if n, ok := b.RHS.(*parser.NumberLiteral); ok {
		return n
	}
	return b.LHS.(*parser.NumberLiteral)
}

// mutate rewrites the i-th threshold comparison of a fresh parse of expr.
func mutate(t *testing.T, expr string, i int, f func(*parser.BinaryExpr)) string {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		t.Fatal(err)
	}
	f(thresholds(e)[i])
	return e.String()
}

// mutants are the bugs a case set must catch: each threshold nudged past
// its boundary both ways (by 20% for an ordering, by 1 for an equality,
// which only ever compares to whole states), each comparison flipped, and
// `for` doubled.
func mutants(t *testing.T, a spec.Alert) []mutant {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(a.Expr)
	if err != nil {
		t.Fatal(err)
	}
	var ms []mutant
	add := func(name string, change func(*spec.Alert)) {
		m := a
		change(&m)
		ms = append(ms, mutant{name: name, alert: m})
	}
	for i, b := range thresholds(e) {
		v := number(b).Val
		var up, down float64
		switch {
		case b.Op == parser.EQLC || b.Op == parser.NEQ:
			up, down = v+1, v-1
		case v == 0:
			up, down = 1, -1
		default:
			up, down = v*1.2, v*0.8
		}
		for _, nv := range []float64{up, down} {
			add(fmt.Sprintf("threshold %v -> %v", v, nv), func(m *spec.Alert) {
				m.Expr = mutate(t, a.Expr, i, func(b *parser.BinaryExpr) { number(b).Val = nv })
			})
		}
		add(fmt.Sprintf("comparison %s flipped", b.Op), func(m *spec.Alert) {
			m.Expr = mutate(t, a.Expr, i, func(b *parser.BinaryExpr) { b.Op = comparisonFlip[b.Op] })
		})
	}
	if a.For > 0 {
		add(fmt.Sprintf("for %s doubled", a.For), func(m *spec.Alert) { m.For = 2 * a.For })
	}
	return ms
}

// survivors returns the mutants of s.Alerts[i] that no case of the alert
// catches: with the mutant in place, every one of its cases still passes.
func survivors(t *testing.T, s *spec.Spec, i int) (survived []string, tried int) {
	t.Helper()
	a := s.Alerts[i]
	only := regexp.MustCompile("^" + regexp.QuoteMeta(render.TestName(a.Name, "")))
	if res := runSpec(t, s, only); res.Failed() || len(res.Groups) == 0 {
		t.Fatalf("%s: the unmutated alert must pass at least one case first:\n%s", a.Name, report(res))
	}
	ms := mutants(t, a)
	for _, m := range ms {
		ms := *s
		ms.Alerts = append([]spec.Alert(nil), s.Alerts...)
		ms.Alerts[i] = m.alert
		res := runSpec(t, &ms, only)
		caught := false
		for _, g := range res.Groups {
			for _, f := range g.Failures {
				// A check that got the wrong alerts; a mutant that merely
				// breaks evaluation proves nothing about the cases.
				caught = caught || f.Err == nil
			}
		}
		t.Logf("%s: %s: caught=%v", a.Name, m.name, caught)
		if !caught {
			survived = append(survived, fmt.Sprintf("%s (expr %q, for %s)", m.name, m.alert.Expr, m.alert.For))
		}
	}
	return survived, len(ms)
}

// Teeth: each alert's cases catch every mutant of it. One survivor means a
// bug of that kind in the alert would ship with all its cases green.
func TestCasesCatchEveryMutant(t *testing.T) {
	s := spec.Default()
	for i, a := range s.Alerts {
		t.Run(a.Name, func(t *testing.T) {
			t.Parallel()
			survived, tried := survivors(t, s, i)
			if tried < 3 {
				t.Errorf("only %d mutants of %s; expected a threshold nudged both ways, a flipped comparison and a doubled for", tried, a.Name)
			}
			if len(survived) > 0 {
				t.Errorf("%d of %d mutants of %s pass all its cases; add a case that tells them apart:\n  %s",
					len(survived), tried, a.Name, strings.Join(survived, "\n  "))
			}
		})
	}
}

// The mutation check itself must be able to fail: an alert proven only by
// one firing check, long after the condition began, lets a doubled `for`
// through.
func TestMutationCheckFindsWeakCases(t *testing.T) {
	s := spec.Default()
	i := -1
	for j, a := range s.Alerts {
		if a.Name == "ServiceDown" {
			i = j
		}
	}
	if i < 0 {
		t.Fatal("no ServiceDown alert in the spec")
	}
	weak := *s
	weak.Alerts = append([]spec.Alert(nil), s.Alerts...)
	a := weak.Alerts[i]
	// Only "fires once down", checked after 4m down: with `for` doubled to
	// 2m it fires all the same.
	a.Cases = []spec.Case{{
		Name: "fires once down", Interval: 10 * time.Second,
		Series: []spec.Series{{Series: `up{job="investiq-api",instance="api-server:3000"}`, Values: "0x30"}},
		Checks: []spec.Check{{At: 4 * time.Minute, Firing: []spec.Expected{{Labels: map[string]string{"job": "investiq-api", "instance": "api-server:3000"}}}}},
	}}
	weak.Alerts[i] = a
	survived, _ := survivors(t, &weak, i)
	if len(survived) == 0 {
		t.Fatal("every mutant of ServiceDown was caught by a single firing case; the mutation check cannot tell weak cases from strong ones")
	}
}

// BenchmarkSpecCases times one run of the spec's alert cases, rendered in
// memory (bench/ruletest.sh compares the CLI with promtool).
func BenchmarkSpecCases(b *testing.B) {
	files, err := render.Render(spec.Default())
	if err != nil {
		b.Fatal(err)
	}
	mem := fstest.MapFS{}
	for _, f := range files {
		mem[f.Path] = &fstest.MapFile{Data: f.Data}
	}
	for b.Loop() {
		res := ruletest.Run(context.Background(), ruletest.FS{FS: mem}, []string{render.AlertRulesTest}, ruletest.Options{})
		if res[0].Failed() {
			b.Fatal("the spec's cases fail")
		}
	}
}
