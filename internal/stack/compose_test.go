package stack

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/google/go-cmp/cmp"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/spec"
)

// fakeDocker puts a `docker` on PATH that records each call's arguments,
// one call per line, and answers like the real client: `docker info`
// fails when FAKE_DOCKER_NO_ENGINE is set, `compose ps` prints one JSON
// object per line. There is no Docker engine on the CI machines, so this
// tests what investiq-mon asks of compose, not what compose does.
func fakeDocker(t *testing.T) (logFile string) {
	t.Helper()
	bin := t.TempDir()
	logFile = filepath.Join(bin, "calls.log")
	script := `#!/bin/sh
echo "$*" >> "` + logFile + `"
case "$1" in
info)
	if [ -n "$FAKE_DOCKER_NO_ENGINE" ]; then
		echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2
		exit 1
	fi
	echo 27.0.0; exit 0;;
esac
case "$*" in
*" ps --format json"*)
	echo '{"Service":"prometheus","Name":"investiq-prometheus","State":"running","Health":"healthy","Status":"Up 2 minutes (healthy)"}'
	echo '{"Service":"alertmanager","Name":"investiq-alertmanager","State":"running","Health":"healthy","Status":"Up 2 minutes (healthy)"}'
	;;
*" up "*)
	if [ -n "$FAKE_DOCKER_UP_FAILS" ]; then
		echo "Error response from daemon: pull access denied for prom/prometheus" >&2
		exit 1
	fi;;
esac
exit 0
`
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return logFile
}

func calls(t *testing.T, logFile string) []string {
	t.Helper()
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func composeOpts(t *testing.T) Options {
	root := t.TempDir()
	return Options{
		Backend: Compose,
		Dir:     filepath.Join(root, "monitoring"),
		Layout:  Layout{Root: filepath.Join(root, "state")},
		Timeout: 90 * time.Second,
		Out:     &syncBuffer{},
	}
}

func TestComposeUpDownStatusCallCompose(t *testing.T) {
	log := fakeDocker(t)
	o := composeOpts(t)
	st, err := Up(context.Background(), o)
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	file := filepath.Join(o.Dir, render.ComposeFile)
	// up generated the stack first, and the file is one compose accepts.
	if _, err := os.Stat(filepath.Join(o.Dir, ".env")); err != nil {
		t.Errorf("up did not create .env: %v", err)
	}
	po, err := cli.NewProjectOptions([]string{file}, cli.WithWorkingDirectory(o.Dir), cli.WithEnvFiles(filepath.Join(o.Dir, ".env")), cli.WithDotEnv, cli.WithProfiles([]string{render.ComposeProfile}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := po.LoadProject(context.Background()); err != nil {
		t.Errorf("compose-go refuses the file up runs: %v", err)
	}
	want := "compose -f " + file + " --profile monitoring up -d --wait --wait-timeout 90"
	if got := calls(t, log); len(got) != 2 || got[0] != "info --format {{.ServerVersion}}" || got[1] != want {
		t.Errorf("docker calls:\n%s\nwant info, then\n%s", strings.Join(got, "\n"), want)
	}
	if st.Backend != Compose || st.Prometheus != "http://127.0.0.1:9090" {
		t.Errorf("state %+v", st)
	}

	// status lists the containers through ps with the profile.
	r := CollectStatus(context.Background(), Endpoints{Backend: Compose, Prometheus: "http://127.0.0.1:1", Alertmanager: "http://127.0.0.1:1"},
		StatusOptions{ComposeFile: file})
	if len(r.Containers) != 2 || r.Containers[0].Service != "prometheus" || r.Containers[0].Health != "healthy" {
		t.Errorf("containers from ps: %+v", r.Containers)
	}
	if got := calls(t, log); got[len(got)-1] != "compose -f "+file+" --profile monitoring ps --format json" {
		t.Errorf("ps call: %s", got[len(got)-1])
	}

	// A restore stops and starts one service, with the profile.
	if was, err := StopComponent(context.Background(), o.Layout, Prometheus); err != nil || !was {
		t.Fatalf("StopComponent: %v %v", was, err)
	}
	if err := StartComponent(context.Background(), o.Layout, Prometheus, time.Minute); err != nil {
		t.Fatal(err)
	}
	got := calls(t, log)
	if got[len(got)-2] != "compose -f "+file+" --profile monitoring stop prometheus" ||
		got[len(got)-1] != "compose -f "+file+" --profile monitoring up -d --wait --wait-timeout 60 prometheus" {
		t.Errorf("stop/start calls:\n%s", strings.Join(got[len(got)-2:], "\n"))
	}

	// down keeps volumes unless asked, and always passes the profile.
	if err := Down(context.Background(), DownOptions{Dir: o.Dir, Layout: o.Layout}); err != nil {
		t.Fatal(err)
	}
	if got := calls(t, log); got[len(got)-1] != "compose -f "+file+" --profile monitoring down" {
		t.Errorf("down call: %s", got[len(got)-1])
	}
	if _, err := os.Stat(o.Layout.StateFile()); !os.IsNotExist(err) {
		t.Errorf("down kept the compose state file (%v): a later local up would be refused", err)
	}
	if err := Down(context.Background(), DownOptions{Backend: Compose, Dir: o.Dir, Layout: o.Layout, Volumes: true}); err != nil {
		t.Fatal(err)
	}
	if got := calls(t, log); got[len(got)-1] != "compose -f "+file+" --profile monitoring down --volumes" {
		t.Errorf("down --volumes call: %s", got[len(got)-1])
	}
}

func TestComposeWithoutEngineSaysSoInOneLine(t *testing.T) {
	fakeDocker(t)
	t.Setenv("FAKE_DOCKER_NO_ENGINE", "1")
	o := composeOpts(t)
	_, err := Up(context.Background(), o)
	if !errors.Is(err, ErrNoEngine) {
		t.Fatalf("up without an engine: %v, want ErrNoEngine", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "--backend local") || !strings.Contains(msg, "Cannot connect to the Docker daemon") {
		t.Errorf("want one line naming the cause and suggesting --backend local, got:\n%s", msg)
	}
	if _, err := os.Stat(o.Dir); !os.IsNotExist(err) {
		t.Error("a failed up generated files anyway")
	}
}

func TestComposeUpFailureShowsComposeOutput(t *testing.T) {
	fakeDocker(t)
	t.Setenv("FAKE_DOCKER_UP_FAILS", "1")
	o := composeOpts(t)
	_, err := Up(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "pull access denied") {
		t.Fatalf("want compose's own output in the error, got %v", err)
	}
	if _, err := os.Stat(o.Layout.StateFile()); !os.IsNotExist(err) {
		t.Error("a failed up recorded a state file")
	}
}

func TestComposeInsecureDevWarns(t *testing.T) {
	fakeDocker(t)
	o := composeOpts(t)
	s := spec.Default()
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	env, err := ensureEnv(o, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Set(s, "GRAFANA_ADMIN_PASSWORD", "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := Up(context.Background(), o); !errors.Is(err, ErrInsecure) {
		t.Fatalf("admin/admin without --insecure-dev: %v", err)
	}
	o.InsecureDev = true
	if _, err := Up(context.Background(), o); err != nil {
		t.Fatalf("with --insecure-dev: %v", err)
	}
	if out := o.Out.(*syncBuffer).String(); !strings.Contains(out, "warning: --insecure-dev") {
		t.Errorf("no warning with --insecure-dev:\n%s", out)
	}
}

// reloadServer stands in for Prometheus or Alertmanager: it counts
// authenticated POST /-/reload calls and refuses anything else.
type reloadServer struct {
	srv      *httptest.Server
	mu       sync.Mutex
	reloads  int
	badCalls []string
	fail     bool
}

func newReloadServer(t *testing.T, user, password string) *reloadServer {
	rs := &reloadServer{}
	rs.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != password {
			rs.badCalls = append(rs.badCalls, r.Method+" "+r.URL.Path+" without the stack's credentials")
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodPost || r.URL.Path != "/-/reload" {
			rs.badCalls = append(rs.badCalls, r.Method+" "+r.URL.Path)
			http.NotFound(w, r)
			return
		}
		if rs.fail {
			http.Error(w, "failed to reload config: boom", http.StatusInternalServerError)
			return
		}
		rs.reloads++
	}))
	t.Cleanup(rs.srv.Close)
	return rs
}

func (rs *reloadServer) port(t *testing.T) int {
	u, err := url.Parse(rs.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (rs *reloadServer) count(t *testing.T) int {
	t.Helper()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, c := range rs.badCalls {
		t.Errorf("unexpected call: %s", c)
	}
	rs.badCalls = nil
	return rs.reloads
}

// readTree maps every file under dir to its bytes.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		out[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestComposeUpValidatesAndReloadsChangedFiles(t *testing.T) {
	log := fakeDocker(t)
	o := composeOpts(t)
	out := o.Out.(*syncBuffer)
	// .env first, so the stand-ins know the stack's credentials.
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	env, err := ensureEnv(o, spec.Default())
	if err != nil {
		t.Fatal(err)
	}
	user, pw := env.StackUser(spec.Default()), env.StackPassword()
	prom, am := newReloadServer(t, user, pw), newReloadServer(t, user, pw)
	evalInterval := 10 * time.Second
	newSpec := func(set spec.Settings) *spec.Spec {
		set.EvaluationInterval = evalInterval
		s := spec.InvestIQ(set)
		s.Ports.Prometheus, s.Ports.Alertmanager = prom.port(t), am.port(t)
		return s
	}
	o.NewSpec = newSpec

	// First up: nothing ran before, so nothing is reloaded (and compose
	// is not even asked: there was no compose file).
	if _, err := Up(context.Background(), o); err != nil {
		t.Fatalf("first up: %v\n%s", err, out.String())
	}
	if prom.count(t)+am.count(t) != 0 {
		t.Error("first up reloaded a server that was not running")
	}
	for _, c := range calls(t, log) {
		if strings.Contains(c, " ps ") {
			t.Errorf("first up asked compose ps without a compose file: %s", c)
		}
	}
	applied := readTree(t, o.Dir)

	// A file that does not load is not applied, nor is anything else.
	broken := o
	evalInterval = 2 * time.Second // prometheus.yml changes too
	broken.renderFiles = func(s *spec.Spec) ([]render.File, error) {
		fs, err := render.Render(s)
		for i := range fs {
			if fs[i].Path == render.AlertRules {
				fs[i].Data = bytes.Replace(fs[i].Data, []byte("max(investiq_trading_halted) == 1"), []byte("max(investiq_trading_halted == 1"), 1)
			}
		}
		return fs, err
	}
	_, err = Up(context.Background(), broken)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "alert_rules.yml") {
		t.Fatalf("up with a broken rule file: %v, want ErrInvalid naming alert_rules.yml", err)
	}
	// A target the spec refuses never gets rendered at all.
	bad := o
	bad.Settings = spec.Settings{APIAddress: "http://x:1"}
	if _, err := Up(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "http://x:1") {
		t.Fatalf("up with APIAddress http://x:1: %v, want it refused", err)
	}
	if got := readTree(t, o.Dir); !cmp.Equal(got, applied) {
		t.Errorf("a refused up changed %s:\n%s", o.Dir, cmp.Diff(applied, got))
	}
	if all := strings.Join(calls(t, log), "\n"); strings.Count(all, " up -d") != 1 {
		t.Errorf("a refused up ran compose up:\n%s", all)
	}
	if prom.count(t)+am.count(t) != 0 {
		t.Error("a refused up reloaded a server")
	}

	// A valid change on the running stack (the fake's ps says both run):
	// Prometheus' files changed, so Prometheus reloads, Alertmanager not.
	if _, err := Up(context.Background(), o); err != nil {
		t.Fatalf("up with a new evaluation interval: %v\n%s", err, out.String())
	}
	if !strings.Contains(readTree(t, o.Dir)[filepath.Join(o.Dir, filepath.FromSlash(render.PrometheusConfig))], "evaluation_interval: 2s") {
		t.Error("the new prometheus.yml was not written")
	}
	if got := prom.count(t); got != 1 {
		t.Errorf("prometheus reloads: %d, want 1\n%s", got, out.String())
	}
	if got := am.count(t); got != 0 {
		t.Errorf("alertmanager reloaded %d times; its files did not change", got)
	}
	if !strings.Contains(out.String(), "reloaded prometheus") {
		t.Errorf("up did not say it reloaded prometheus:\n%s", out.String())
	}
	got := calls(t, log)
	if n := len(got); n < 3 || !strings.HasSuffix(got[n-2], " ps --format json") || !strings.Contains(got[n-1], " up -d --wait") {
		t.Errorf("want compose ps before compose up, got:\n%s", strings.Join(got, "\n"))
	}

	// An Alertmanager change reloads Alertmanager; a failed reload is an
	// error that says how to load the files.
	o.renderFiles = func(s *spec.Spec) ([]render.File, error) {
		fs, err := render.Render(s)
		for i := range fs {
			if fs[i].Path == render.AlertmanagerConfig {
				fs[i].Data = append(fs[i].Data, "# changed\n"...)
			}
		}
		return fs, err
	}
	am.mu.Lock()
	am.fail = true
	am.mu.Unlock()
	_, err = Up(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "alertmanager did not reload") || !strings.Contains(err.Error(), "boom") ||
		!strings.Contains(err.Error(), "restart alertmanager") {
		t.Errorf("failed reload: %v", err)
	}
	if strings.Contains(err.Error(), pw) || strings.Contains(out.String(), pw) {
		t.Error("the stack password was printed")
	}
	if got := prom.count(t); got != 1 {
		t.Errorf("prometheus reloaded again (%d); its files did not change", got)
	}

	// Unchanged files: no reload.
	am.mu.Lock()
	am.fail = false
	am.mu.Unlock()
	if _, err := Up(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if prom.count(t) != 1 || am.count(t) != 0 {
		t.Error("up on unchanged files reloaded a server")
	}
}
