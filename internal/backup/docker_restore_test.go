package backup

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/spec"
)

// fakeDockerVolumes is a docker stand-in for a compose restore: stop and
// start are recorded (start of a container fails while <dir>/fail-start-<c>
// exists), `docker cp` copies into <root>/<container>/<path>, and
// `docker run ... --volumes-from C ... sh -c SCRIPT` runs the script with
// every absolute path rebased under <root>/C. chown is recorded only.
func fakeDockerVolumes(t *testing.T) (docker, root, argvLog string) {
	t.Helper()
	dir := t.TempDir()
	root = filepath.Join(dir, "containers")
	argvLog = filepath.Join(dir, "argv")
	script := `#!/bin/sh
printf '%s\n' "$*" >> ` + argvLog + `
root=` + root + `
case "$1" in
stop) exit 0 ;;
start)
  if [ -e "` + dir + `/fail-start-$2" ]; then rm "` + dir + `/fail-start-$2"; echo "Error response from daemon: driver failed" >&2; exit 1; fi
  exit 0 ;;
cp)
  c=${3%%:*}; p=${3#*:}
  cp -R "$2" "$root/$c$p" ;;
run)
  c=""; while [ "$1" != "-c" ]; do [ "$1" = "--volumes-from" ] && c=$2; shift; done
  s=$(printf '%s' "$2" | sed "s# /# $root/$c/#g")
  case "$s" in chown*) exit 0 ;; esac
  exec sh -c "$s" ;;
*) echo "unexpected docker $*" >&2; exit 2 ;;
esac
`
	docker = filepath.Join(dir, "docker")
	if err := os.WriteFile(docker, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return docker, root, argvLog
}

// amDouble answers what a restore asks of the servers once they are back:
// readiness and the silences API.
func amDouble(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/-/ready":
		case r.URL.Path == "/api/v2/silences" && r.Method == "GET":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte("[]"))
		case r.URL.Path == "/api/v2/silences" && r.Method == "POST":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"silenceID":"new"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// composeArchive holds one real TSDB block (named by the returned ULID)
// and Alertmanager state.
func composeArchive(t *testing.T) (string, string) {
	t.Helper()
	ulid, block := testBlock(t)
	members := snapshotMembers(ulid, block, map[string]string{
		"alertmanager/state/silences": "new silences",
		fileSilences:                  "[]",
	})
	return writeTestArchive(t, members), ulid
}

func seedVolumes(t *testing.T, root string) (promDir, amDir string) {
	t.Helper()
	promDir = filepath.Join(root, "investiq-prometheus", "prometheus")
	amDir = filepath.Join(root, "investiq-alertmanager", "alertmanager")
	for _, d := range []string{filepath.Join(promDir, "01OLD"), filepath.Join(promDir, "wal"), amDir} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(filepath.Join(promDir, "01OLD", "meta.json"), []byte("old"), 0o644)
	os.WriteFile(filepath.Join(amDir, "silences"), []byte("old silences"), 0o644)
	return promDir, amDir
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestRestoreCompose restores into the compose stack's volumes through a
// fake docker: containers stopped and started, the old data moved aside
// inside the volume and deleted after success, the blocks copied in with
// docker cp and handed back to nobody.
func TestRestoreCompose(t *testing.T) {
	docker, root, argvLog := fakeDockerVolumes(t)
	promDir, amDir := seedVolumes(t, root)
	srv := amDouble(t)
	df := ComposeFiles(spec.InvestIQ(spec.Settings{}), docker, "")
	ep := stack.Endpoints{Backend: stack.Compose, Prometheus: srv.URL, Alertmanager: srv.URL, User: "investiq", Password: "pw"}
	archive, ulid := composeArchive(t)
	res, err := Restore(context.Background(), RestoreOptions{Archive: archive, Endpoints: ep, Data: df, Stack: df, StageDir: t.TempDir(), Trust: testTrust})
	if err != nil {
		t.Fatal(err)
	}
	if res.Blocks != 1 {
		t.Errorf("blocks: %d", res.Blocks)
	}
	if got := names(t, promDir); !slices.Equal(got, []string{ulid}) {
		t.Errorf("prometheus volume after restore: %v, want only the restored block", got)
	}
	if got, _ := os.ReadFile(filepath.Join(amDir, "silences")); string(got) != "new silences" {
		t.Errorf("alertmanager state: %q", got)
	}
	argv, _ := os.ReadFile(argvLog)
	calls := string(argv)
	for _, want := range []string{
		"stop investiq-prometheus", "stop investiq-alertmanager",
		"run --rm --network none --volumes-from investiq-prometheus --user 0 --entrypoint sh prom/prometheus:v3.16.0 -c set -e; mkdir /prometheus/.pre-restore-",
		"/. investiq-prometheus:/prometheus/",
		"-c chown -R 65534:65534 /prometheus",
		"start investiq-prometheus", "start investiq-alertmanager",
		"-c rm -rf /prometheus/.pre-restore-",
	} {
		if !strings.Contains(calls, want) {
			t.Errorf("docker calls lack %q:\n%s", want, calls)
		}
	}
	if strings.Contains(calls, "pw") {
		t.Error("a password is on docker's command line")
	}
}

// TestRestoreComposeRollsBack: a container that does not start again gets
// its previous data back inside the volume.
func TestRestoreComposeRollsBack(t *testing.T) {
	docker, root, _ := fakeDockerVolumes(t)
	promDir, _ := seedVolumes(t, root)
	if err := os.WriteFile(filepath.Join(filepath.Dir(docker), "fail-start-investiq-prometheus"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := amDouble(t)
	df := ComposeFiles(spec.InvestIQ(spec.Settings{}), docker, "")
	ep := stack.Endpoints{Prometheus: srv.URL, Alertmanager: srv.URL}
	archive, _ := composeArchive(t)
	_, err := Restore(context.Background(), RestoreOptions{Archive: archive, Endpoints: ep, Data: df, Stack: df, StageDir: t.TempDir(), Trust: testTrust})
	if err == nil || !strings.Contains(err.Error(), "previous data was put back") {
		t.Fatalf("Restore: %v", err)
	}
	if got := names(t, promDir); !slices.Equal(got, []string{"01OLD", "wal"}) {
		t.Errorf("prometheus volume after rollback: %v, want the old data", got)
	}
}
