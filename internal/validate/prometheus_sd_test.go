package validate

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/investiq/investiq-mon/internal/testutil"
)

// TestUnlinkedSDIsNamedNotMisreported: a service discovery this build does
// not link (gce since issue 13, to keep Google's compute client out of the
// build) is one prometheus/unsupported-sd error at its key, pointing at
// promtool, never a made-up config error; promtool itself accepts the file.
func TestUnlinkedSDIsNamedNotMisreported(t *testing.T) {
	for _, tc := range []struct{ sd, body string }{
		{"gce", "project: investiq-prod\n        zone: europe-west1-b\n        port: 3000"},
		{"kubernetes", "role: pod"},
	} {
		t.Run(tc.sd, func(t *testing.T) {
			cfg := "global:\n  scrape_interval: 1m\nscrape_configs:\n  - job_name: api\n    " +
				tc.sd + "_sd_configs:\n      - " + tc.body + "\n"
			path := filepath.Join(t.TempDir(), "prometheus.yml")
			if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			res := run(t, Options{}, path)
			if len(res.Findings) != 1 {
				t.Fatalf("want one finding, got:\n%s", findingsText(res))
			}
			f := res.Findings[0]
			if f.Check != "prometheus/unsupported-sd" || f.Severity != Error || f.Line != 5 {
				t.Errorf("got %s:%d:%d %s [%s], want an error at line 5 [prometheus/unsupported-sd]", f.Path, f.Line, f.Col, f.Severity, f.Check)
			}
			out, err := exec.Command(testutil.Bin(t, "promtool"), "check", "config", path).CombinedOutput()
			if err != nil {
				t.Errorf("promtool check config refuses the file, so unsupported-sd is the wrong finding: %v\n%s", err, out)
			}
		})
	}
}
