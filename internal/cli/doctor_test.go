package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/files"
	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/simulate"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// runCLI runs investiq-mon with args on a Factory whose spec is s, and
// returns the exit code, stdout and stderr.
func runCLI(t *testing.T, s *spec.Spec, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	if s != nil {
		f.Spec = func(spec.Settings) *spec.Spec { return s }
	}
	code := Main(t.Context(), args, f)
	return code, out.String(), errOut.String()
}

// TestDoctorCommandOnARealStack runs `investiq-mon doctor` as a user
// would, finding the stack through the state file `up` writes and the
// password through .env, against real Prometheus and Alertmanager.
func TestDoctorCommandOnARealStack(t *testing.T) {
	rs, _, apiURL := testutil.SimulatedStack(t)
	testutil.StartAlertmanager(t, rs)
	testutil.StartPrometheus(t, rs)

	state := t.TempDir()
	l := stack.Layout{Root: state}
	if err := l.SaveState(stack.State{Backend: stack.Local, Prometheus: rs.PrometheusURL(), Alertmanager: rs.AlertmanagerURL()}); err != nil {
		t.Fatal(err)
	}
	args := []string{"doctor", "--dir", rs.Dir, "--state", state, "--api-url", apiURL}

	var code int
	var out, errOut string
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, out, errOut = runCLI(t, rs.Spec, args...)
		if code == ExitOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond) // the first scrapes
	}
	if code != ExitOK {
		t.Fatalf("doctor on a healthy stack: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "7 checks: 7 passed, 0 failed, 0 skipped") {
		t.Errorf("summary missing:\n%s", out)
	}
	if strings.Contains(out+errOut, rs.Password) {
		t.Error("doctor printed the stack password")
	}

	// A hand edit of a generated file fails doctor with exit 1, naming it.
	p := filepath.Join(rs.Dir, "grafana", "provisioning", "dashboards", "investiq.yml")
	data, _ := os.ReadFile(p)
	os.WriteFile(p, append(data, "# hand edit\n"...), 0o644)
	code, out, _ = runCLI(t, rs.Spec, args...)
	if code != ExitError || !strings.Contains(out, "FAIL  The generated files match the spec") || !strings.Contains(out, "grafana/provisioning/dashboards/investiq.yml: differs") {
		t.Errorf("doctor with a drifted file: exit %d\n%s", code, out)
	}
	os.WriteFile(p, data, 0o644)

	// --json gives the same verdicts to scripts.
	code, out, _ = runCLI(t, rs.Spec, append(args, "--json")...)
	if code != ExitOK || !strings.Contains(out, `"check": "alertmanager"`) || strings.Contains(out, `"status": "fail"`) {
		t.Errorf("doctor --json: exit %d\n%s", code, out)
	}

	// The URL flags override what the state file says.
	code, out, _ = runCLI(t, rs.Spec, append(args, "--prometheus-url", "http://127.0.0.1:"+strconv.Itoa(testutil.FreePort(t)))...)
	if code != ExitError || !strings.Contains(out, "SKIP  Prometheus loaded the rule files") {
		t.Errorf("doctor with --prometheus-url of nothing: exit %d\n%s", code, out)
	}
}

// TestDoctorWithoutEnv: with no .env (generate never ran), doctor still
// runs every check and says how to get one, instead of stopping at the
// first error.
func TestDoctorWithoutEnv(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI(t, nil, "doctor", "--dir", dir, "--state", t.TempDir(),
		"--api-url", "http://127.0.0.1:"+strconv.Itoa(testutil.FreePort(t))+"/metrics",
		"--prometheus-url", "http://127.0.0.1:"+strconv.Itoa(testutil.FreePort(t)))
	if code != ExitError {
		t.Errorf("exit %d, want %d\n%s%s", code, ExitError, out, errOut)
	}
	for _, want := range []string{"FAIL  The API's /metrics", "FAIL  Prometheus scrapes every target", ".env not found", "FAIL  Grafana's dashboards", "FAIL  The generated files match the spec", "investiq-mon generate"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestDoctorFindsTheAPITheLocalStackScrapes: without --api-url, doctor
// probes the investiq-api target of the running local stack (not
// 127.0.0.1:3000), and the drift check compares --dir with the spec of
// the flags given: none here, as generate ran without any. With
// --api-address, the spec changes as for generate, and the fix says so.
func TestDoctorFindsTheAPITheLocalStackScrapes(t *testing.T) {
	apiAddr := "127.0.0.1:" + strconv.Itoa(testutil.FreePort(t))
	mlAddr := "127.0.0.1:" + strconv.Itoa(testutil.FreePort(t))
	s := spec.InvestIQ(spec.Settings{})
	sim, err := simulate.New(s, simulate.Options{Tick: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(context.Background(), apiAddr, mlAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	dir := filepath.Join(t.TempDir(), "monitoring")
	if code, out, errOut := runCLI(t, nil, "generate", "--dir", dir); code != ExitOK {
		t.Fatalf("generate: exit %d\n%s%s", code, out, errOut)
	}
	// What `up --backend local --api-address apiAddr` leaves in --state.
	l := stack.Layout{Root: t.TempDir()}
	ls, err := stack.LocalSpec(nil, spec.Settings{APIAddress: apiAddr, MLAddress: mlAddr}, l, 19090, 19093, 13000)
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := render.Render(ls)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rendered {
		if f.Path == render.PrometheusConfig {
			if err := files.Write(l.ConfigDir(), []render.File{f}); err != nil {
				t.Fatal(err)
			}
		}
	}
	nothing := "http://127.0.0.1:" + strconv.Itoa(testutil.FreePort(t))
	if err := l.SaveState(stack.State{Backend: stack.Local, Prometheus: nothing, Alertmanager: nothing}); err != nil {
		t.Fatal(err)
	}
	args := []string{"doctor", "--dir", dir, "--state", l.Root, "--grafana-url", nothing, "--timeout", "2s"}

	_, out, errOut := runCLI(t, nil, args...)
	for _, want := range []string{
		"PASS  The API's /metrics exposes the spec's metrics: http://" + apiAddr + "/metrics exposes all",
		"PASS  The generated files match the spec",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor without flags lacks %q:\n%s%s", want, out, errOut)
		}
	}

	_, out, errOut = runCLI(t, nil, append(args, "--api-address", apiAddr)...)
	for _, want := range []string{
		"PASS  The API's /metrics exposes the spec's metrics: http://" + apiAddr + "/metrics",
		"FAIL  The generated files match the spec",
		"prometheus/prometheus.yml: differs",
		"spec built with --api-address " + apiAddr,
		"use --api-url",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor --api-address lacks %q:\n%s%s", want, out, errOut)
		}
	}
}
