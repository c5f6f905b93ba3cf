package validate

import (
	"fmt"
	"strings"
	"testing"

	yamlr "go.yaml.in/yaml/v3"
)

// bigRules writes a rule file of n groups; item writes the lines of group
// g.
func bigRules(n int, item func(g int) string) []byte {
	var b strings.Builder
	b.WriteString("# a big rule file\ngroups:\n")
	for g := range n {
		b.WriteString(item(g))
	}
	return []byte(b.String())
}

func plainGroup(ind string) func(int) string {
	return func(g int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "%s- name: g%d\n%s  rules:\n", ind, g, ind)
		for r := range 10 {
			fmt.Fprintf(&b, "%s    - alert: A%d_%d\n%s      expr: rate(x_total{a=\"%d\"}[5m]) > %d\n%s      labels: {severity: warning}\n", ind, g, r, ind, r, r, ind)
		}
		return b.String()
	}
}

// nodesEqual compares two node trees as decoding sees them: kinds, tags,
// values, styles and positions (comments aside).
func nodesEqual(a, b *yamlr.Node, path string) string {
	if a.Kind != b.Kind || a.Tag != b.Tag || a.Value != b.Value || a.Style != b.Style || a.Line != b.Line || a.Column != b.Column || len(a.Content) != len(b.Content) {
		return fmt.Sprintf("%s: %d %q %q %d:%d (%d children) vs %d %q %q %d:%d (%d children)", path,
			a.Kind, a.Tag, a.Value, a.Line, a.Column, len(a.Content), b.Kind, b.Tag, b.Value, b.Line, b.Column, len(b.Content))
	}
	for i := range a.Content {
		if d := nodesEqual(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", path, i)); d != "" {
			return d
		}
	}
	return ""
}

func TestSplitParseMatchesWholeParse(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		split bool // whether the file can be split at all
	}{
		{"plain, items indented by two", bigRules(400, plainGroup("  ")), true},
		{"plain, items at column one", bigRules(400, plainGroup("")), true},
		{"comments and blank lines between groups", bigRules(400, func(g int) string {
			return "\n  # group " + fmt.Sprint(g) + "\n" + plainGroup("  ")(g) + "  # trailing\n\n"
		}), true},
		{"block scalars holding lines that look like items", bigRules(400, func(g int) string {
			return plainGroup("  ")(g) + "      - record: r" + fmt.Sprint(g) + "\n        expr: |\n          sum(x)\n          - 1\n"
		}), true},
		{"a quoted scalar whose next line looks like an item", bigRules(400, func(g int) string {
			s := plainGroup("  ")(g)
			if g == 200 {
				s += "      - alert: Q\n        expr: \"up\n  - 1\"\n"
			}
			return s
		}), false},
		{"an alias to an anchor in another group", bigRules(400, func(g int) string {
			s := plainGroup("  ")(g)
			switch g {
			case 1:
				s = strings.Replace(s, "labels: {severity: warning}", "labels: &sev {severity: warning}", 1)
			case 350:
				s = strings.Replace(s, "labels: {severity: warning}", "labels: *sev", 1)
			}
			return s
		}), false},
		{"a second top-level key", append(bigRules(400, plainGroup("  ")), []byte("extra: 1\n")...), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.data) <= splitRuleGroupsMin {
				t.Fatalf("%d bytes is below the split threshold: add groups", len(tt.data))
			}
			var whole yamlr.Node
			wholeErr := yamlr.Unmarshal(tt.data, &whole)
			got, ok := parseGroupsSplit(tt.data, 2)
			if !ok {
				if tt.split && wholeErr == nil {
					t.Fatalf("a file the split handles was parsed whole")
				}
				return
			}
			if wholeErr != nil {
				t.Fatalf("the split parse succeeded where the whole parse fails: %v", wholeErr)
			}
			if d := nodesEqual(&whole, got, ""); d != "" {
				t.Fatalf("the joined tree differs from the whole one at %s", d)
			}
			if !tt.split {
				t.Logf("split although not required: the trees agree")
			}
		})
	}
}
