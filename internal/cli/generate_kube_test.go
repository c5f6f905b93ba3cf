package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/internal/cmd/generate"
	"github.com/investiq/investiq-mon/spec"
)

// generate names every label nothing bounds, for both targets, and still
// writes the files.
func TestGenerateWarnsAboutUnboundedLabels(t *testing.T) {
	s := spec.Default()
	s.Metrics[0].Labels[0].MaxValues = 0
	for _, target := range []string{generate.TargetCompose, generate.TargetKubernetes} {
		out := filepath.Join(t.TempDir(), "out")
		code, _, errOut := runCLI(t, s, "generate", "--target", target, "--dir", out)
		if code != ExitOK {
			t.Fatalf("%s: exit %d\n%s", target, code, errOut)
		}
		if !strings.Contains(errOut, "warning: metrics[investiq_requests_total].labels[endpoint] has no bounded values") {
			t.Errorf("%s: no warning about the unbounded label:\n%s", target, errOut)
		}
	}
	_, _, errOut := runCLI(t, spec.Default(), "generate", "--dir", filepath.Join(t.TempDir(), "out"))
	if strings.Contains(errOut, "no bounded values") {
		t.Errorf("a warning for the default spec, whose labels are bounded:\n%s", errOut)
	}
}
