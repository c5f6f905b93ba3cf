package validate

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
)

// parseRules splits rulefmt.Parse across the CPUs; it must return what
// rulefmt.Parse returns: the same groups and the same errors (order aside),
// on every rule file of the corpus, on a big file, and with rule-level and
// group-level errors spread over a file big enough to be split.
func TestParseRulesMatchesRulefmt(t *testing.T) {
	inputs := map[string][]byte{}
	files, err := filepath.Glob(filepath.Join("testdata", "parity", "rules-*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[filepath.Base(f)] = data
	}
	var big, broken strings.Builder
	big.WriteString("groups:\n")
	broken.WriteString("groups:\n")
	for g := range 40 {
		fmt.Fprintf(&big, "  - name: g%d\n    labels: {team: t%d}\n    rules:\n", g, g)
		name := fmt.Sprintf("g%d", g)
		if g%13 == 5 {
			name = "g1" // repeated group name
		}
		fmt.Fprintf(&broken, "  - name: %s\n    rules:\n", name)
		for r := range 20 {
			fmt.Fprintf(&big, "      - alert: A%d_%d\n        expr: rate(x_total[5m]) > %d\n        labels: {severity: warning}\n        annotations: {summary: \"{{ $value }} at %d\"}\n", g, r, r, r)
			switch {
			case r%7 == 3:
				fmt.Fprintf(&broken, "      - record: r:%d:%d\n        expr: sum(x\n", g, r)
			case r%7 == 5:
				fmt.Fprintf(&broken, "      - alert: B%d\n        expr: up == 0\n        annotations: {summary: \"{{ .Bad \"}\n", r)
			case r%11 == 4:
				fmt.Fprintf(&broken, "      - record: r:%d:%d\n        alert: both\n        expr: up\n        for: 1m\n", g, r)
			default:
				fmt.Fprintf(&broken, "      - record: r:%d:%d\n        expr: sum(rate(x_total[5m]))\n", g, r)
			}
		}
	}
	inputs["big"] = []byte(big.String())
	inputs["broken"] = []byte(broken.String())
	inputs["unknown field in a big file"] = []byte(strings.Replace(big.String(), "        labels: {severity: warning}\n", "        owner: me\n", 3))
	inputs["empty"] = nil
	one := func(rule string) []byte { return []byte("groups:\n  - name: g\n    rules:\n" + rule) }
	inputs["an unknown field in a rule"] = one("      - alert: A\n        expr: up\n        owner: me\n")
	inputs["an unknown field in a group"] = []byte("groups:\n  - name: g\n    owner: me\n    rules: []\n")
	inputs["an unknown top-level field"] = []byte("group:\n  - name: g\n")
	inputs["anchors and aliases"] = one("      - alert: A\n        expr: up\n        labels: &l {severity: page}\n      - alert: B\n        expr: up\n        labels: *l\n")
	inputs["a merge key"] = one("      - alert: A\n        expr: up\n        labels: &l {severity: page}\n      - alert: B\n        expr: up\n        labels:\n          <<: *l\n          team: x\n")
	inputs["a merge key bringing an unknown field"] = one("      - &r {alert: A, expr: up, owner: me}\n")
	inputs["a second document"] = []byte("groups: []\n---\ngroups: [{name: x, rules: [{record: y}]}]\n")
	inputs["plain but invalid label names"] = one("      - alert: A\n        expr: up\n        labels: {__name__: x, \"\": y, \"a.b\": z}\n        annotations: {\"\": w, ok: fine}\n")
	inputs["templates and plain text mixed"] = one("      - alert: A\n        expr: up\n        labels: {severity: page, who: \"{{ $labels.job }}\"}\n        annotations: {summary: plain, description: \"{{ .Broken\", runbook: \"}} not a template {\"}\n")
	inputs["a recording rule with annotations"] = one("      - record: a:b\n        expr: up\n        annotations: {summary: s}\n")
	inputs["a duration where a number goes"] = []byte("groups:\n  - name: g\n    limit: 5m\n    rules: []\n")
	inputs["a tagged key"] = one("      - !!str alert: A\n        expr: up\n")

	errStrings := func(errs []error) []string {
		var out []string
		for _, e := range errs {
			out = append(out, e.Error())
		}
		slices.Sort(out)
		return out
	}
	for name, data := range inputs {
		for _, ignore := range []bool{false, true} {
			wantGroups, wantErrs := rulefmt.Parse(data, ignore, model.UTF8Validation, promqlParser, discard)
			if name == "broken" {
				// The comparison is only worth something if every kind of
				// error is there.
				all := strings.Join(errStrings(wantErrs), "\n")
				for _, want := range []string{"is repeated", "could not parse expression", "annotation \"summary\"", "only one of", "invalid field 'for'"} {
					if !strings.Contains(all, want) {
						t.Fatalf("the broken file lacks %q errors:\n%s", want, all)
					}
				}
			}
			for _, workers := range []int{1, 4} {
				gotGroups, exprs, gotErrs := parseRules(data, ignore, workers)
				if w, g := errStrings(wantErrs), errStrings(gotErrs); !slices.Equal(w, g) {
					t.Errorf("%s (ignore unknown fields %v, %d workers): errors differ\nrulefmt:\n%s\nparseRules:\n%s", name, ignore, workers, strings.Join(w, "\n"), strings.Join(g, "\n"))
				}
				if (wantGroups == nil) != (gotGroups == nil) || (wantGroups != nil && !reflect.DeepEqual(*wantGroups, *gotGroups)) {
					t.Errorf("%s (%d workers): groups differ", name, workers)
				}
				if gotGroups == nil {
					continue
				}
				// Every rule whose expression parses has it kept.
				for gi, g := range gotGroups.Groups {
					for ri, r := range g.Rules {
						_, perr := promqlParser.ParseExpr(r.Expr)
						if (perr == nil) != (exprs[gi][ri] != nil) {
							t.Errorf("%s: group %d rule %d: expression kept: %v, parses: %v", name, gi, ri, exprs[gi][ri] != nil, perr == nil)
						}
					}
				}
			}
		}
	}
}
