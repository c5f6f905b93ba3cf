package cli

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/simulate"
	"github.com/investiq/investiq-mon/spec"
)

// TestCheckMetricsCommand runs check-metrics on a live simulator and on
// the saved expositions a user would give it.
func TestCheckMetricsCommand(t *testing.T) {
	sim, err := simulate.New(spec.Default(), simulate.Options{Tick: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(t.Context(), "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	api := "http://" + srv.APIAddr() + "/metrics"

	code, out, errOut := runCLI(t, nil, "check-metrics", api)
	if code != ExitOK || !strings.Contains(errOut, "every metric of job investiq-api matches the spec") {
		t.Errorf("live simulator: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "investiq_request_duration_milliseconds: note:") {
		t.Errorf("the milliseconds note is not printed:\n%s", out)
	}

	resp, err := http.Get(api)
	if err != nil {
		t.Fatal(err)
	}
	var saved bytes.Buffer
	saved.ReadFrom(resp.Body)
	resp.Body.Close()
	dir := t.TempDir()
	bad := strings.ReplaceAll(saved.String(), `name="redis"`, `name="mongodb"`)
	bad = strings.ReplaceAll(bad, "# TYPE investiq_trading_halted gauge", "# TYPE investiq_trading_halted counter")
	badFile := filepath.Join(dir, "bad.prom")
	os.WriteFile(badFile, []byte(bad), 0o644)
	code, out, errOut = runCLI(t, nil, "check-metrics", badFile)
	if code != ExitError {
		t.Errorf("bad file: exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		`investiq_dependency_health: label name has values ["mongodb"]`,
		"investiq_trading_halted: wrong type: exposed as counter, the spec says gauge",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("bad file output lacks %q:\n%s", want, out)
		}
	}

	lintOnly := filepath.Join(dir, "lint.prom")
	os.WriteFile(lintOnly, []byte(saved.String()+"# TYPE cacheHits counter\ncacheHits 1\n"), 0o644)
	if code, out, _ := runCLI(t, nil, "check-metrics", lintOnly); code != ExitLint || !strings.Contains(out, "cacheHits: lint: ") {
		t.Errorf("lint-only file: exit %d, want %d (promtool's lint code)\n%s", code, ExitLint, out)
	}

	sim.SetScenario(simulate.MLDown)
	code, _, errOut = runCLI(t, nil, "check-metrics", "--job", spec.JobML, "http://"+srv.MLAddr()+"/metrics")
	if code != ExitError || !strings.Contains(errOut, "503") {
		t.Errorf("ML service down: exit %d\n%s", code, errOut)
	}

	if code, _, errOut := runCLI(t, nil, "check-metrics", "--job", "nope", api); code != ExitUsage || !strings.Contains(errOut, "choose one of investiq-api") {
		t.Errorf("unknown job: exit %d\n%s", code, errOut)
	}
}
