package stack

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// There is no Grafana build for this machine (see STACK.md), so this
// stands in for the binary: a script that serves /api/health on the port
// investiq-mon gives it and dumps the settings it received. It checks the
// wiring (settings, password by file, readiness, status), not Grafana.
const fakeGrafana = `#!/usr/bin/python3
import http.server, json, os, sys
with open(os.environ["GF_PATHS_DATA"] + "/seen.json", "w") as f:
    json.dump({"argv": sys.argv[1:], "env": {k: v for k, v in os.environ.items() if k.startswith("GF_")}}, f)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"database":"ok","version":"fake"}'
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer((os.environ["GF_SERVER_HTTP_ADDR"], int(os.environ["GF_SERVER_HTTP_PORT"])), H).serve_forever()
`

func TestLocalGrafanaWhenOnPath(t *testing.T) {
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "grafana"), []byte(fakeGrafana), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	ls := newLocalStack(t)
	ls.opts.GrafanaPort = testutil.FreePort(t)
	st := ls.up(t)
	if strings.Contains(ls.out.String(), "Grafana skipped") {
		t.Fatalf("grafana on PATH, yet skipped:\n%s", ls.out.String())
	}
	if st.Grafana != fmt.Sprintf("http://127.0.0.1:%d", ls.opts.GrafanaPort) {
		t.Errorf("state's Grafana URL %q", st.Grafana)
	}
	seen, err := os.ReadFile(filepath.Join(ls.opts.Layout.GrafanaData(), "seen.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"GF_SECURITY_ADMIN_PASSWORD__FILE": "` + filepath.Join(ls.opts.Layout.SecretsDir(), spec.SecretGrafanaPassword) + `"`,
		`"GF_PATHS_PROVISIONING": "` + filepath.Join(ls.opts.Layout.ConfigDir(), "grafana", "provisioning") + `"`,
		`"GF_SERVER_HTTP_ADDR": "127.0.0.1"`,
		`"GF_AUTH_ANONYMOUS_ENABLED": "false"`,
	} {
		if !strings.Contains(string(seen), want) {
			t.Errorf("Grafana did not get %s; it saw %s", want, seen)
		}
	}
	for _, v := range ls.env.Values(ls.spec()) {
		if bytes.Contains(seen, []byte(v)) {
			t.Error("a secret value reached Grafana's argv or environment instead of a file")
		}
	}
	r := CollectStatus(context.Background(), Endpoints{Backend: Local, Prometheus: st.Prometheus, Alertmanager: st.Alertmanager, Grafana: st.Grafana,
		User: ls.spec().StackUser, Password: ls.env.StackPassword()}, StatusOptions{})
	if len(r.Components) != 3 || !r.Components[2].Up {
		t.Errorf("status components: %+v, want Grafana up", r.Components)
	}
	if err := Down(context.Background(), DownOptions{Layout: ls.opts.Layout, Out: ls.out}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ls.out.String(), "stopped grafana") {
		t.Errorf("down did not stop grafana:\n%s", ls.out.String())
	}
}

func TestComponentThatDiesShowsItsLogAndStopsTheRest(t *testing.T) {
	bin := t.TempDir()
	script := "#!/bin/sh\necho 'grafana: cannot open database: disk full' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "grafana"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	ls := newLocalStack(t)
	ls.opts.GrafanaPort = testutil.FreePort(t)
	_, err := Up(context.Background(), ls.opts)
	if err == nil || !strings.Contains(err.Error(), "grafana exited while starting") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("up with a crashing grafana: %v, want the crash and its log", err)
	}
	for _, c := range []string{Prometheus, Alertmanager} {
		if ls.opts.Layout.livePID(c) {
			t.Errorf("%s left running after a failed up", c)
		}
	}
	if _, err := os.Stat(ls.opts.Layout.StateFile()); !os.IsNotExist(err) {
		t.Error("a failed up recorded a state file")
	}
}
