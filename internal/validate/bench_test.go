package validate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/spec"
)

// BenchmarkRulesDir validates 100 rule files of 100 rules, the shape of
// bench/validate.sh's directory case, to profile the per-file cost.
func BenchmarkRulesDir(b *testing.B) {
	dir := b.TempDir()
	for f := 0; f < 100; f++ {
		var sb strings.Builder
		sb.WriteString("groups:\n")
		for g := 0; g < 10; g++ {
			fmt.Fprintf(&sb, "  - name: g%d\n    rules:\n", g)
			for r := 0; r < 10; r++ {
				fmt.Fprintf(&sb, "      - record: f%d:requests:rate5m_%d_%d\n        expr: sum by (endpoint) (rate(investiq_requests_total{endpoint=\"/api/%d\"}[5m]))\n", f, g, r, r)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("r%d.yml", f)), []byte(sb.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	s := spec.Default()
	b.ResetTimer()
	for b.Loop() {
		res, err := Run(context.Background(), []string{dir}, Options{Spec: s})
		if err != nil || len(res.Findings) > 0 {
			b.Fatal(err, res.Findings)
		}
	}
}
