package doctor_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/doctor"
	"github.com/investiq/investiq-mon/internal/files"
	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/spec"
)

// localState records a local stack in a fresh state directory and, when
// apiAddr is set, writes the prometheus.yml the local backend renders for
// an API at apiAddr, as `up --backend local --api-address` does.
func localState(t *testing.T, backend, apiAddr string) stack.Layout {
	t.Helper()
	l := stack.Layout{Root: t.TempDir()}
	if err := l.SaveState(stack.State{Backend: backend}); err != nil {
		t.Fatal(err)
	}
	if apiAddr == "" {
		return l
	}
	s, err := stack.LocalSpec(nil, spec.Settings{APIAddress: apiAddr}, l, 19090, 19093, 13000)
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := render.Render(s)
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
	return l
}

func TestStackAPIURL(t *testing.T) {
	ctx := context.Background()

	// The local backend's rendered prometheus.yml names the API it scrapes.
	l := localState(t, stack.Local, "127.0.0.1:18000")
	if got, ok := doctor.StackAPIURL(ctx, l, stack.Endpoints{}, time.Second); !ok || got != "http://127.0.0.1:18000/metrics" {
		t.Errorf("from the local config: %q, %v", got, ok)
	}

	// Without the config, Prometheus' active targets of investiq-api.
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/targets" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"success","data":{"activeTargets":[
			{"scrapePool":"prometheus","scrapeUrl":"http://127.0.0.1:19090/metrics","health":"up","labels":{},"discoveredLabels":{}},
			{"scrapePool":"investiq-api","scrapeUrl":"http://127.0.0.1:18001/metrics","health":"down","labels":{},"discoveredLabels":{}}],
			"droppedTargets":[]}}`))
	}))
	t.Cleanup(prom.Close)
	bare := localState(t, stack.Local, "")
	if got, ok := doctor.StackAPIURL(ctx, bare, stack.Endpoints{Backend: stack.Local, Prometheus: prom.URL}, time.Second); !ok || got != "http://127.0.0.1:18001/metrics" {
		t.Errorf("from Prometheus' targets: %q, %v", got, ok)
	}

	// Nothing to go on: no state, a compose stack (its targets are
	// addresses inside its network), a local stack with neither source.
	for name, tc := range map[string]struct {
		l  stack.Layout
		ep stack.Endpoints
	}{
		"no state":                  {stack.Layout{Root: t.TempDir()}, stack.Endpoints{Prometheus: prom.URL}},
		"compose":                   {localState(t, stack.Compose, ""), stack.Endpoints{Backend: stack.Compose, Prometheus: prom.URL}},
		"local, nothing to ask":     {bare, stack.Endpoints{Backend: stack.Local}},
		"local, Prometheus is down": {bare, stack.Endpoints{Backend: stack.Local, Prometheus: "http://127.0.0.1:1"}},
	} {
		if got, ok := doctor.StackAPIURL(ctx, tc.l, tc.ep, time.Second); ok {
			t.Errorf("%s: got %q, want none", name, got)
		}
	}
}

// The files check compares --dir with the spec the flags build; when
// flags changed the spec, its fix names them and points at --api-url.
func TestDoctorFilesNamesTheSpecFlags(t *testing.T) {
	dir := t.TempDir()
	rendered, err := render.Render(spec.InvestIQ(spec.Settings{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := files.Write(dir, rendered); err != nil {
		t.Fatal(err)
	}
	o := doctor.Options{
		Spec: spec.InvestIQ(spec.Settings{APIAddress: "127.0.0.1:18000"}), Dir: dir,
		APIURL: "http://127.0.0.1:1/metrics", Endpoints: stack.Endpoints{Prometheus: "http://127.0.0.1:1", Grafana: "http://127.0.0.1:1"},
		Timeout: time.Second, SpecFlags: []string{"--api-address 127.0.0.1:18000"},
	}
	rs := doctor.Run(context.Background(), o)
	expect(t, rs, doctor.CheckFiles, doctor.Fail, "prometheus/prometheus.yml", "generate --api-address 127.0.0.1:18000 --dir", "spec built with --api-address 127.0.0.1:18000", "--api-url")

	// The same files against the spec they were generated from: in sync,
	// and no flag is named without drift.
	o.Spec, o.SpecFlags = spec.InvestIQ(spec.Settings{}), nil
	expect(t, doctor.Run(context.Background(), o), doctor.CheckFiles, doctor.Pass)

	// Drift without spec flags keeps the plain fix.
	p := filepath.Join(dir, filepath.FromSlash(render.PrometheusConfig))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, append(data, "# hand edit\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	r := result(t, doctor.Run(context.Background(), o), doctor.CheckFiles)
	if r.Status != doctor.Fail || strings.Contains(r.Fix, "spec built with") || !strings.Contains(r.Fix, "generate --dir "+dir) {
		t.Errorf("drift without spec flags: %s: %s", r.Status, r.Fix)
	}
}
