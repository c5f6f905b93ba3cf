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
	"slices"
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
"image inspect "*)
	case "$*" in *"$FAKE_DOCKER_NO_IMAGE"*)
		if [ -n "$FAKE_DOCKER_NO_IMAGE" ]; then echo "Error: No such image: $5" >&2; exit 1; fi;;
	esac
	echo sha256:0123; exit 0;;
"compose version --short")
	if [ -n "$FAKE_DOCKER_NO_COMPOSE" ]; then echo "unknown flag: --short" >&2; exit 125; fi
	echo "${FAKE_COMPOSE_VERSION-2.29.7}"; exit 0;;
"exec "*)
	echo "OCI runtime exec failed: the fake docker runs no container" >&2; exit 126;;
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
	want := []string{
		"info --format {{.ServerVersion}}",
		"compose version --short",
		"volume ls -q --filter label=com.docker.compose.project=investiq",
		"compose -f " + file + " --profile monitoring up -d --wait --wait-timeout 90",
	}
	if got := calls(t, log); !cmp.Equal(got, want) {
		t.Errorf("docker calls:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
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
	user, pw := spec.Default().StackUser, env.StackPassword()
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
	lastPS, lastUp := -1, -1
	for i, c := range got {
		if strings.HasSuffix(c, " ps --format json") {
			lastPS = i
		}
		if strings.Contains(c, " up -d --wait") {
			lastUp = i
		}
	}
	if lastPS < 0 || lastUp < lastPS {
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

	// The files are unchanged now, but Alertmanager never loaded them:
	// the next up reloads it (and only it), and says why.
	am.mu.Lock()
	am.fail = false
	am.mu.Unlock()
	before := len(out.String())
	if _, err := Up(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if prom.count(t) != 1 || am.count(t) != 1 {
		t.Errorf("up after a failed reload: prometheus reloads %d (want 1), alertmanager %d (want 1)", prom.count(t), am.count(t))
	}
	if msg := out.String()[before:]; !strings.Contains(msg, "an earlier up was cut short (killed, or its reload failed) before alertmanager loaded new files: this up reloads them") {
		t.Errorf("up does not say why it reloads alertmanager:\n%s", msg)
	}

	// Unchanged files, nothing left to reload: no reload.
	if _, err := Up(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if prom.count(t) != 1 || am.count(t) != 1 {
		t.Error("up on unchanged files reloaded a server")
	}
}

func TestVersionAtLeast(t *testing.T) {
	for _, c := range []struct {
		v    string
		want bool
	}{
		{"2.23.1", true},
		{"2.23.0", false},
		{"2.24", true},
		{"2.9.9", false},
		{"5.6.0", true},
		{"2.30.0-desktop.1", true},
		{"2.23.1+azure-1", true},
		{"1.29.2", false},
		{"dev", false},
		{"", false},
		{"2", false},
	} {
		if got := versionAtLeast(c.v, MinComposeVersion); got != c.want {
			t.Errorf("versionAtLeast(%q, %s) = %v, want %v", c.v, MinComposeVersion, got, c.want)
		}
	}
}

// What up says when the compose plugin cannot run the file, before
// anything is generated or started. The real engine's end-to-end test
// covers an old plugin; these are the answers it cannot produce.
func TestComposePluginRefusals(t *testing.T) {
	for _, c := range []struct {
		name, env, val, want string
	}{
		{"a docker client without the plugin", "FAKE_DOCKER_NO_COMPOSE", "1", "the docker compose plugin is missing (docker compose version: unknown flag: --short): install Compose 2.23.1 or later"},
		{"a plugin that prints no version", "FAKE_COMPOSE_VERSION", "", "printed no version"},
		{"Compose 2.20", "FAKE_COMPOSE_VERSION", "v2.20.3", "docker compose 2.20.3 is older than 2.23.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			log := fakeDocker(t)
			t.Setenv(c.env, c.val)
			o := composeOpts(t)
			_, err := Up(context.Background(), o)
			if !errors.Is(err, ErrCompose) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("up: %v\nwant ErrCompose in one line saying %q", err, c.want)
			}
			if _, err := os.Stat(o.Dir); !os.IsNotExist(err) {
				t.Error("a refused up generated files anyway")
			}
			if all := strings.Join(calls(t, log), "\n"); strings.Contains(all, " up ") {
				t.Errorf("a refused up ran compose up:\n%s", all)
			}
		})
	}
}

func TestComposePullNever(t *testing.T) {
	t.Run("Grafana's image missing: up runs the rest and says so", func(t *testing.T) {
		log := fakeDocker(t)
		t.Setenv("FAKE_DOCKER_NO_IMAGE", "grafana/grafana")
		o := composeOpts(t)
		o.Pull = "never"
		st, err := Up(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(o.Dir, render.ComposeFile)
		want := "compose -f " + file + " --profile monitoring up -d --wait --wait-timeout 90 --pull never prometheus alertmanager" // the spec's order (spec/topology.go); compose orders by depends_on
		if !slices.Contains(calls(t, log), want) {
			t.Errorf("docker calls:\n%s\nwant\n%s", strings.Join(calls(t, log), "\n"), want)
		}
		if st.Grafana != "" {
			t.Errorf("state records Grafana at %s, which was not started", st.Grafana)
		}
		if out := o.Out.(*syncBuffer).String(); !strings.Contains(out, "Grafana skipped: its image grafana/grafana:") {
			t.Errorf("up did not say Grafana was skipped:\n%s", out)
		}
	})
	t.Run("Prometheus' image missing: refused before anything starts", func(t *testing.T) {
		log := fakeDocker(t)
		t.Setenv("FAKE_DOCKER_NO_IMAGE", "prom/prometheus")
		o := composeOpts(t)
		o.Pull = "never"
		_, err := Up(context.Background(), o)
		if err == nil || !strings.Contains(err.Error(), "prometheus: image prom/prometheus:v3.16.0 is not on this engine and --pull never forbids pulling it") {
			t.Fatalf("up: %v", err)
		}
		if all := strings.Join(calls(t, log), "\n"); strings.Contains(all, " up ") {
			t.Errorf("a refused up ran compose up:\n%s", all)
		}
	})
	t.Run("images present: every service, with --pull never", func(t *testing.T) {
		log := fakeDocker(t)
		o := composeOpts(t)
		o.Pull = "never"
		st, err := Up(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(o.Dir, render.ComposeFile)
		if want := "compose -f " + file + " --profile monitoring up -d --wait --wait-timeout 90 --pull never"; !slices.Contains(calls(t, log), want) {
			t.Errorf("docker calls:\n%s\nwant\n%s", strings.Join(calls(t, log), "\n"), want)
		}
		if st.Grafana == "" {
			t.Error("state has no Grafana although it was started")
		}
	})
}
