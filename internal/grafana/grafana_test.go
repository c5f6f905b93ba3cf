package grafana

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/testutil"
)

func TestSetPassword(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		user, pass string
		setup      func(*testutil.FakeGrafana)
		login      string
		want       error
	}{
		{name: "a server admin changes the admin password", user: "admin", pass: "old-secret", login: "admin"},
		{name: "wrong credentials are a 401", user: "admin", pass: "wrong", login: "admin", want: ErrUnauthorized},
		{name: "a blocked login is a lockout, not a wrong password", user: "admin", pass: "old-secret", login: "admin",
			setup: func(g *testutil.FakeGrafana) {
				bad, _ := New(g.URL, "admin", "guess")
				for range 3 {
					bad.SetPassword(ctx, "admin", "x")
				}
			}, want: ErrLockedOut},
		{name: "a lockout answered with 429 is a lockout too", user: "admin", pass: "old-secret", login: "admin",
			setup: func(g *testutil.FakeGrafana) {
				g.LockStatus = http.StatusTooManyRequests
				bad, _ := New(g.URL, "admin", "guess")
				for range 3 {
					bad.SetPassword(ctx, "admin", "x")
				}
			}, want: ErrLockedOut},
		{name: "an unknown user is not found", user: "admin", pass: "old-secret", login: "nobody", want: ErrNotFound},
		{name: "a user who is not a server admin is forbidden", user: "viewer", pass: "viewer-pw", login: "admin",
			setup: func(g *testutil.FakeGrafana) {
				g.Users["viewer"] = &testutil.FakeGrafanaUser{ID: 2, Password: "viewer-pw"}
			}, want: ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := testutil.NewFakeGrafana(t, "admin", "old-secret")
			if tt.setup != nil {
				tt.setup(g)
			}
			c, err := New(g.URL, tt.user, tt.pass)
			if err != nil {
				t.Fatal(err)
			}
			err = c.SetPassword(ctx, tt.login, "n3w-Passw0rd-long-enough")
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got := g.Password("admin"); got != "n3w-Passw0rd-long-enough" {
					t.Errorf("password not changed")
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("SetPassword: %v, want %v", err, tt.want)
			}
			if g.Password("admin") != "old-secret" {
				t.Error("password changed although the call failed")
			}
			for _, s := range []string{"old-secret", "n3w-Passw0rd-long-enough", tt.pass} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error message leaks a password: %v", err)
				}
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	port := testutil.FreePort(t)
	c, err := New("http://127.0.0.1:"+strconv.Itoa(port), "admin", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Health(context.Background()); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Health on a closed port: %v, want ErrUnreachable", err)
	}
	if _, err := New("grafana:3000", "admin", "pw"); err == nil {
		t.Error("a URL without scheme was accepted")
	}
}

// TestExportImport moves dashboards, folders and datasources from one
// Grafana into an empty one the way backup and restore do.
func TestExportImport(t *testing.T) {
	ctx := context.Background()
	src := testutil.NewFakeGrafana(t, "admin", "pw")
	src.Folders = []map[string]any{{"id": 1, "uid": "ops", "title": "Ops"}}
	src.Datasources["investiq-prometheus"] = map[string]any{"id": 1, "uid": "investiq-prometheus", "name": "Prometheus", "type": "prometheus",
		"url": "http://prometheus:9090", "access": "proxy", "basicAuth": true, "basicAuthUser": "investiq",
		"secureJsonFields": map[string]bool{"basicAuthPassword": true}, "readOnly": true}
	src.Datasources["loki"] = map[string]any{"id": 2, "uid": "loki", "name": "Loki", "type": "loki", "url": "http://loki:3100", "access": "proxy",
		"jsonData": map[string]any{"maxLines": 1000.0}}
	src.Dashboards["latency"] = map[string]any{
		"dashboard": map[string]any{"id": 7.0, "uid": "latency", "title": "Latency", "panels": []any{map[string]any{"id": 1.0, "type": "timeseries"}}, "schemaVersion": 41.0},
		"meta":      map[string]any{"folderUid": "ops"},
	}
	src.Dashboards["investiq-overview"] = map[string]any{
		"dashboard": map[string]any{"id": 8.0, "uid": "investiq-overview", "title": "InvestIQ Overview"},
		"meta":      map[string]any{"provisioned": true},
	}
	sc, _ := New(src.URL, "admin", "pw")
	exp, err := sc.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(exp.Folders) != 1 || len(exp.Datasources) != 2 || len(exp.Dashboards) != 2 {
		t.Fatalf("export: %d folders, %d datasources, %d dashboards", len(exp.Folders), len(exp.Datasources), len(exp.Dashboards))
	}

	dst := testutil.NewFakeGrafana(t, "admin", "pw2")
	// The provisioned datasource exists already: Grafana provisions it from
	// the generated file at start.
	dst.Datasources["investiq-prometheus"] = map[string]any{"uid": "investiq-prometheus", "name": "Prometheus", "type": "prometheus"}
	dc, _ := New(dst.URL, "admin", "pw2")
	res, err := dc.Import(ctx, exp)
	if err != nil {
		t.Fatal(err)
	}
	if len(dst.Folders) != 1 || dst.Folders[0]["uid"] != "ops" {
		t.Errorf("folders after import: %v", dst.Folders)
	}
	if d, ok := dst.Datasources["loki"]; !ok || d["url"] != "http://loki:3100" {
		t.Errorf("datasource loki after import: %v", d)
	}
	if _, ok := dst.Datasources["investiq-prometheus"]["basicAuthUser"]; ok {
		t.Error("an existing datasource was overwritten")
	}
	got, ok := dst.Dashboards["latency"]
	if !ok {
		t.Fatalf("dashboard latency not imported: %v", res)
	}
	if got["meta"].(map[string]any)["folderUid"] != "ops" || len(got["dashboard"].(map[string]any)["panels"].([]any)) != 1 {
		t.Errorf("dashboard latency after import: %v", got)
	}
	if _, ok := dst.Dashboards["investiq-overview"]; ok {
		t.Error("a provisioned dashboard was pushed through the API")
	}
	if !strings.Contains(strings.Join(res.Skipped, "\n"), "investiq-overview: provisioned") {
		t.Errorf("skipped: %v", res.Skipped)
	}
	// Import does not change its input (backup may still write it).
	if exp.Dashboards[0].Dashboard.(map[string]any)["id"] == nil && exp.Dashboards[1].Dashboard.(map[string]any)["id"] == nil {
		t.Error("Import changed the export")
	}
	// Importing again is harmless: nothing duplicated.
	if _, err := dc.Import(ctx, exp); err != nil {
		t.Fatal(err)
	}
	if len(dst.Folders) != 1 {
		t.Errorf("second import duplicated folders: %v", dst.Folders)
	}
}

// fakeDocker writes a docker stand-in that records its argv and stdin, and
// fails `grafana cli` like an old image when oldImage is set.
func fakeDocker(t *testing.T, oldImage bool) (docker, argvLog, stdinLog string) {
	t.Helper()
	dir := t.TempDir()
	argvLog, stdinLog = filepath.Join(dir, "argv"), filepath.Join(dir, "stdin")
	old := "false"
	if oldImage {
		old = "true"
	}
	script := `#!/bin/sh
printf '%s\n' "$*" >> ` + argvLog + `
cat >> ` + stdinLog + `
if [ "$4" = "grafana" ] && ` + old + `; then
  echo 'OCI runtime exec failed: exec failed: unable to start container process: exec: "grafana": executable file not found in $PATH: unknown' >&2
  exit 127
fi
echo "Admin password changed successfully ✔"
`
	docker = filepath.Join(dir, "docker")
	if err := os.WriteFile(docker, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return docker, argvLog, stdinLog
}

func TestResetWithCLI(t *testing.T) {
	const pw = "Zq8-container-secret-value"
	for _, oldImage := range []bool{false, true} {
		name := map[bool]string{false: "grafana cli on a current image", true: "grafana-cli on an old image"}[oldImage]
		t.Run(name, func(t *testing.T) {
			docker, argvLog, stdinLog := fakeDocker(t, oldImage)
			if err := ResetWithCLI(context.Background(), []string{docker, "exec", "-i", "investiq-grafana"}, pw); err != nil {
				t.Fatal(err)
			}
			argv, _ := os.ReadFile(argvLog)
			stdin, _ := os.ReadFile(stdinLog)
			if strings.Contains(string(argv), pw) {
				t.Fatalf("the password is on docker's command line: %s", argv)
			}
			lines := strings.Split(strings.TrimSpace(string(argv)), "\n")
			want := []string{"exec -i investiq-grafana grafana cli admin reset-admin-password --password-from-stdin"}
			if oldImage {
				want = append(want, "exec -i investiq-grafana grafana-cli admin reset-admin-password --password-from-stdin")
			}
			if strings.Join(lines, "\n") != strings.Join(want, "\n") {
				t.Errorf("docker calls:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
			}
			if wantIn := strings.Repeat(pw+"\n", len(want)); string(stdin) != wantIn {
				t.Errorf("stdin: %q, want the password once per call", stdin)
			}
		})
	}
	t.Run("a failing container is an error without the password", func(t *testing.T) {
		dir := t.TempDir()
		docker := filepath.Join(dir, "docker")
		os.WriteFile(docker, []byte("#!/bin/sh\ncat >/dev/null\necho 'Error response from daemon: No such container: investiq-grafana' >&2\nexit 1\n"), 0o755)
		err := ResetWithCLI(context.Background(), []string{docker, "exec", "-i", "investiq-grafana"}, pw)
		if err == nil || !strings.Contains(err.Error(), "No such container") {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), pw) {
			t.Error("error leaks the password")
		}
	})
}

// An exec command that never answers (a hung engine) ends at ExecTimeout
// with a sentence saying so, not never.
func TestResetWithCLIEndsWhenTheEngineHangs(t *testing.T) {
	defer func(d time.Duration) { ExecTimeout = d }(ExecTimeout)
	ExecTimeout = time.Second
	done := make(chan error, 1)
	go func() {
		// sh -c 'sleep 60' sh <Grafana's CLI arguments...>: a "docker
		// exec" that hangs whatever it is asked to run.
		done <- ResetWithCLI(context.Background(), []string{"sh", "-c", "exec sleep 60", "sh"}, "pw")
	}()
	select {
	case err := <-done:
		if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "did not finish in time") {
			t.Errorf("got %v, want a deadline error saying the command did not finish", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ResetWithCLI still waits after 30 s on a command that never answers")
	}
}
