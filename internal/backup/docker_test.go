package backup

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/internal/testutil"
)

// fakeDockerFS writes a docker stand-in for `docker cp` and `docker exec
// rm` that maps each container's filesystem to a local directory, and logs
// its argv. Paths: <root>/<container>/<path inside the container>, linked
// here to the real servers' data dirs so the snapshot comes from a real
// Prometheus.
func fakeDockerFS(t *testing.T, mounts map[string]string) (docker, argvLog string) {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "containers")
	for target, local := range mounts {
		p := filepath.Join(root, filepath.FromSlash(target))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(local, p); err != nil {
			t.Fatal(err)
		}
	}
	argvLog = filepath.Join(dir, "argv")
	script := `#!/bin/sh
printf '%s\n' "$*" >> ` + argvLog + `
root=` + root + `
case "$1" in
cp)
  src=${2%%:*}; path=${2#*:}
  if [ ! -e "$root/$src$path" ]; then
    echo "Error response from daemon: Could not find the file $path in container $src" >&2; exit 1
  fi
  cp -RL "$root/$src$path" "$3" ;;
exec)
  c=$2; shift 2
  if [ "$1" = rm ]; then shift; while [ "$1" != "--" ]; do shift; done; shift; rm -rf "$root/$c$1"; exit $?; fi
  echo "unexpected exec $*" >&2; exit 2 ;;
*) echo "unexpected docker $*" >&2; exit 2 ;;
esac
`
	docker = filepath.Join(dir, "docker")
	if err := os.WriteFile(docker, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return docker, argvLog
}

// TestBackupThroughDocker backs up the compose stack's way: the snapshot,
// state files and grafana.db come out of the containers with `docker cp`
// (a fake docker over a real Prometheus' data dir) and Grafana through its
// API (the double). The snapshot is deleted inside the container after.
func TestBackupThroughDocker(t *testing.T) {
	l := startLiveStack(t)
	l.waitForSamples(t)
	grafanaData := t.TempDir()
	if err := os.WriteFile(filepath.Join(grafanaData, "grafana.db"), []byte("SQLite format 3\x00fake"), 0o640); err != nil {
		t.Fatal(err)
	}
	gpw := l.env.Get("GRAFANA_ADMIN_PASSWORD")
	g := testutil.NewFakeGrafana(t, "admin", gpw)
	g.Dashboards["latency"] = map[string]any{"dashboard": map[string]any{"uid": "latency", "title": "Latency"}, "meta": map[string]any{}}
	g.Datasources["investiq-prometheus"] = map[string]any{"uid": "investiq-prometheus", "name": "Prometheus", "type": "prometheus",
		"basicAuth": true, "basicAuthUser": "investiq", "secureJsonFields": map[string]bool{"basicAuthPassword": true}}
	ep := l.ep
	ep.Backend, ep.Grafana, ep.GrafanaUser, ep.GrafanaPassword = "compose", g.URL, "admin", gpw

	docker, argvLog := fakeDockerFS(t, map[string]string{
		"investiq-prometheus/prometheus":     l.layout.PrometheusData(),
		"investiq-alertmanager/alertmanager": l.layout.AlertmanagerData(),
		"investiq-grafana/var/lib/grafana":   grafanaData,
	})
	out := t.TempDir()
	archive := filepath.Join(out, "b.tar.gz")
	var logs bytes.Buffer
	m, err := Create(context.Background(), Options{
		Output: archive, Endpoints: ep, Files: ComposeFiles(l.spec, docker, out), MonitoringDir: l.monitoring,
		Secrets: l.env.Values(l.spec), Log: slog.New(slog.NewTextHandler(&logs, nil)), Key: l.env.BackupKey(),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"prometheus/snapshot/", fileGrafanaDB, "grafana/dashboards/latency.json", fileDatasrc, fileSilences} {
		if !m.Has(strings.TrimSuffix(want, "/")) {
			t.Errorf("archive lacks %s: %v", want, m.Files)
		}
	}
	if c, _ := m.Component(Grafana); c.Status != Saved || c.Version != "12.3.0" {
		t.Errorf("grafana component: %+v", c)
	}
	argv, _ := os.ReadFile(argvLog)
	calls := string(argv)
	if !strings.Contains(calls, "cp investiq-prometheus:/prometheus/snapshots/") ||
		!strings.Contains(calls, "exec investiq-prometheus rm -rf -- /prometheus/snapshots/") ||
		!strings.Contains(calls, "cp investiq-grafana:/var/lib/grafana/grafana.db") {
		t.Errorf("docker calls:\n%s", calls)
	}
	if entries, _ := os.ReadDir(filepath.Join(l.layout.PrometheusData(), "snapshots")); len(entries) != 0 {
		t.Errorf("snapshot left in the container: %v", entries)
	}
	// Only the archive is left beside it: the docker cp copies are gone.
	if entries, _ := os.ReadDir(out); len(entries) != 1 {
		t.Errorf("files beside the archive: %v", entries)
	}
	for _, s := range l.env.Values(l.spec) {
		if strings.Contains(calls, s) {
			t.Error("a secret is on docker's command line")
		}
	}
	assertNoSecrets(t, l, archive, logs.String())
}
