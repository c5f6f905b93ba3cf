package stack

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"

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
