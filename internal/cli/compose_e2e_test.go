package cli

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/simulate"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// The compose path on a real Docker engine, driven through the CLI as the
// README's compose walkthrough does it: the images `make images` builds
// (prom/prometheus:v3.16.0, prom/alertmanager:v0.31.1), the Compose v2
// plugin it builds into .tools/docker (DOCKER_CONFIG), real containers,
// volumes and a network. Grafana has no image here: `up --pull never`
// skips it and says so. The stack gets a compose project, container
// names, a network and published ports of its own (through the spec, as a
// user would edit spec/investiq.go), so it runs beside anything else on
// the engine, and every container, volume and network it made is removed
// at the end; the images stay cached.

// composeRun is one compose stack of the test: its own project, network
// and host ports.
type composeRun struct {
	t              *testing.T
	project        string
	ports          spec.Ports
	dir, state     string
	api, ml        string // host:port of the simulator, once started
	stderr         *testutil.LockedBuffer
	retention      string
	brokenRule     bool
	statusOutputs  []string
	containerNames []string
}

// newSpec is the end-to-end spec (1 s intervals) with this run's project,
// network and ports: what a user changes in spec/investiq.go to run a
// second stack beside the first.
func (c *composeRun) newSpec(set spec.Settings) *spec.Spec {
	s := e2eSpec(set)
	s.Project, s.Network, s.Ports = c.project, c.project, c.ports
	if c.brokenRule {
		s.Alerts = slices.Clone(s.Alerts)
		s.Alerts[0].Expr = "rate(investiq_errors_total[1m]"
	}
	return s
}

func (c *composeRun) cli(args ...string) (int, string) {
	c.t.Helper()
	var out testutil.LockedBuffer
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: c.stderr})
	f.Spec = c.newSpec
	return Main(context.Background(), args, f), out.String()
}

// up runs `investiq-mon up` as the README's walkthrough does.
func (c *composeRun) up(extra ...string) int {
	c.t.Helper()
	args := []string{"up", "--dir", c.dir, "--state", c.state, "--pull", "never", "--timeout", "2m"}
	if c.api != "" {
		args = append(args, "--api-address", c.api, "--ml-address", c.ml)
	}
	if c.retention != "" {
		args = append(args, "--retention", c.retention)
	}
	code, _ := c.cli(append(args, extra...)...)
	return code
}

func (c *composeRun) file() string { return filepath.Join(c.dir, render.ComposeFile) }

// container is the name, state and health of one of the stack's
// containers, and its id (a recreated container has a new one).
func (c *composeRun) container(service string) (id, health string) {
	c.t.Helper()
	out, err := testutil.Docker("inspect", "--format", "{{.Id}} {{if .State.Health}}{{.State.Health.Status}}{{end}}", c.project+"-"+service)
	if err != nil {
		c.t.Fatal(err)
	}
	id, health, _ = strings.Cut(out, " ")
	return id, health
}

// leftovers lists what the engine still holds of this project.
func (c *composeRun) leftovers() []string {
	c.t.Helper()
	label := "label=com.docker.compose.project=" + c.project
	var out []string
	for _, q := range [][]string{
		{"ps", "-a", "--filter", label, "--format", "container {{.Names}}"},
		{"volume", "ls", "--filter", label, "--format", "volume {{.Name}}"},
		{"network", "ls", "--filter", "name=^" + c.project + "$", "--format", "network {{.Name}}"},
	} {
		s, err := testutil.Docker(q...)
		if err != nil {
			c.t.Fatal(err)
		}
		if s != "" {
			out = append(out, strings.Split(s, "\n")...)
		}
	}
	return out
}

// cleanup removes every container, volume and network of the project,
// whatever state a failed test left them in.
func (c *composeRun) cleanup() {
	if c.t.Failed() {
		if out, err := testutil.Docker("compose", "-f", c.file(), "--profile", render.ComposeProfile, "logs", "--tail", "30"); err == nil {
			c.t.Logf("compose logs (end):\n%s", out)
		}
		c.t.Logf("CLI stderr:\n%s", c.stderr)
	}
	for _, n := range c.containerNames {
		testutil.Docker("rm", "-f", "-v", n)
	}
	if _, err := os.Stat(c.file()); err == nil {
		testutil.Docker("compose", "-f", c.file(), "--profile", render.ComposeProfile, "down", "--volumes", "--remove-orphans")
	}
	label := "label=com.docker.compose.project=" + c.project
	if ids, _ := testutil.Docker("ps", "-aq", "--filter", label); ids != "" {
		testutil.Docker(append([]string{"rm", "-f", "-v"}, strings.Fields(ids)...)...)
	}
	if vols, _ := testutil.Docker("volume", "ls", "-q", "--filter", label); vols != "" {
		testutil.Docker(append([]string{"volume", "rm", "-f"}, strings.Fields(vols)...)...)
	}
	testutil.Docker("network", "rm", c.project)
	if left := c.leftovers(); len(left) > 0 {
		c.t.Errorf("cleanup left %v on the engine", left)
	}
}

func randomProject(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "iqmon-e2e-" + hex.EncodeToString(b)
}

// freePortOn is a port on host that was free a moment ago.
func freePortOn(t *testing.T, host string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestComposeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("compose end-to-end: several minutes on a real engine")
	}
	testutil.RequireComposeEngine(t, "compose end-to-end")
	root := t.TempDir()
	c := &composeRun{
		t: t, project: randomProject(t),
		ports: spec.Ports{Prometheus: testutil.FreePort(t), Alertmanager: testutil.FreePort(t), Grafana: testutil.FreePort(t)},
		dir:   filepath.Join(root, "monitoring"), state: filepath.Join(root, ".investiq-mon"),
		stderr: &testutil.LockedBuffer{},
	}
	c.containerNames = []string{c.project + "-peer"}
	t.Cleanup(c.cleanup)

	// 1. generate.
	if code, _ := c.cli("generate", "--dir", c.dir); code != 0 {
		t.Fatalf("generate: exit %d\n%s", code, c.stderr)
	}
	env, err := secrets.Load(c.dir)
	if err != nil {
		t.Fatal(err)
	}

	// What a user hits when something is wrong: one sentence, exit 1,
	// and nothing of the stack on the engine afterwards.
	refused := func(t *testing.T, want string) {
		t.Helper()
		before := len(c.stderr.String())
		if code := c.up(); code != ExitError {
			t.Errorf("up: exit %d, want %d", code, ExitError)
		}
		msg := c.stderr.String()[before:]
		if !strings.Contains(msg, want) {
			t.Errorf("up said:\n%s\nwant %q", msg, want)
		}
	}
	// Asked of the real engine once the subtest's environment is gone.
	nothingLeft := func(what string) {
		t.Helper()
		if left := c.leftovers(); len(left) > 0 {
			t.Errorf("%s: the refused up left %v on the engine", what, left)
		}
	}
	t.Run("port taken", func(t *testing.T) {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", c.ports.Prometheus))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		refused(t, fmt.Sprintf("prometheus: port in use: 127.0.0.1:%d is held by pid %d", c.ports.Prometheus, os.Getpid()))
	})
	nothingLeft("port taken")
	t.Run("engine not running", func(t *testing.T) {
		t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(root, "no-engine.sock"))
		refused(t, "no Docker engine answers (docker info: Cannot connect to the Docker daemon")
	})
	nothingLeft("engine not running")
	t.Run("compose plugin too old", func(t *testing.T) {
		// A stand-in plugin reporting 2.20.3; the docker client that
		// finds it, asks its metadata and runs it is the real one.
		cfg := t.TempDir()
		plugin := `#!/bin/sh
if [ "$1" = docker-cli-plugin-metadata ]; then
	echo '{"SchemaVersion":"0.1.0","Vendor":"investiq-mon tests","Version":"v2.20.3","ShortDescription":"stand-in for an old Compose"}'
	exit 0
fi
shift
if [ "$*" = "version --short" ]; then echo 2.20.3; exit 0; fi
echo "old compose stand-in: refusing $*" >&2
exit 1
`
		if err := os.MkdirAll(filepath.Join(cfg, "cli-plugins"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cfg, "cli-plugins", "docker-compose"), []byte(plugin), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv("DOCKER_CONFIG", cfg)
		refused(t, "docker compose 2.20.3 is older than "+stack.MinComposeVersion)
	})
	nothingLeft("compose plugin too old")
	if t.Failed() {
		t.FailNow()
	}

	// 1. up: both containers healthy by their own healthchecks (promtool
	// and amtool inside the images, with the stack's credentials).
	if code := c.up(); code != 0 {
		t.Fatalf("up: exit %d\n%s", code, c.stderr)
	}
	if !strings.Contains(c.stderr.String(), "Grafana skipped: its image") {
		t.Errorf("up did not say that Grafana was skipped:\n%s", c.stderr)
	}
	for _, svc := range []string{"prometheus", "alertmanager"} {
		if _, health := c.container(svc); health != "healthy" {
			t.Errorf("%s container: health %q after up --wait, want healthy", svc, health)
		}
	}
	// status shows both, with their versions, and both containers.
	code, out := c.cli("status", "--json", "--dir", c.dir, "--state", c.state)
	c.statusOutputs = append(c.statusOutputs, out)
	var r stack.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("status --json: exit %d: %v\n%s", code, err, out)
	}
	versions := map[string]string{}
	for _, comp := range r.Components {
		versions[comp.Name] = comp.Version
	}
	if code != 0 || versions["prometheus"] != "3.16.0" || versions["alertmanager"] != "0.31.1" || len(r.Components) != 2 {
		t.Errorf("status: exit %d, components %+v, want prometheus 3.16.0 and alertmanager 0.31.1 up, no grafana", code, r.Components)
	}
	running := 0
	for _, ct := range r.Containers {
		if ct.State == "running" && ct.Health == "healthy" {
			running++
		}
	}
	if running != 2 || len(r.Containers) != 2 {
		t.Errorf("status containers: %+v, want 2 running and healthy", r.Containers)
	}
	// Published on 127.0.0.1: 401 without credentials, 200 with .env's.
	b := &brStack{t: t, promPort: c.ports.Prometheus, amPort: c.ports.Alertmanager, env: env}
	for _, u := range []string{
		fmt.Sprintf("http://127.0.0.1:%d/api/v1/status/buildinfo", c.ports.Prometheus),
		fmt.Sprintf("http://127.0.0.1:%d/api/v2/status", c.ports.Alertmanager),
	} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous GET %s: %s, want 401", u, resp.Status)
		}
		b.do("GET", u, nil, nil) // fails the test unless 200
	}
	// The secret from .env's environment reached /run/secrets, readable by
	// the images' user; the data volumes belong to that user too.
	wantPw := sha256.Sum256([]byte(env.StackPassword()))
	for svc, data := range map[string]string{"prometheus": "/prometheus", "alertmanager": "/alertmanager"} {
		out, err := testutil.Docker("exec", c.project+"-"+svc, "sh", "-c", "id -u; sha256sum < /run/secrets/stack_password; stat -c %u:%g "+data)
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(out)
		if len(f) != 4 || f[0] != "65534" || f[1] != hex.EncodeToString(wantPw[:]) || f[3] != "65534:65534" {
			t.Errorf("%s: id, secret sum, data dir owner = %q, want 65534, the password's sha256, 65534:65534", svc, out)
		}
	}
	if _, err := testutil.Docker("network", "inspect", c.project); err != nil {
		t.Errorf("the stack's network: %v", err)
	}

	// 2. An alert end to end. The stand-in API (simulate) and the webhook
	// listen on the host's address on the stack's network, where the
	// containers reach them. Setting WEBHOOK_URL in .env and pointing the
	// targets at the simulator is a change to a secret and to
	// prometheus.yml: up recreates Alertmanager (compose alone would keep
	// the old secret) and reloads Prometheus, which keeps running.
	gw, err := testutil.Docker("network", "inspect", "--format", "{{range .IPAM.Config}}{{.Gateway}}{{end}}", c.project)
	if err != nil || net.ParseIP(gw) == nil {
		t.Fatalf("gateway of the stack's network: %q %v", gw, err)
	}
	hl, err := net.Listen("tcp", net.JoinHostPort(gw, "0"))
	if err != nil {
		t.Fatal(err)
	}
	hook := testutil.NewWebhookOn(t, hl)
	c.api = net.JoinHostPort(gw, strconv.Itoa(freePortOn(t, gw)))
	c.ml = net.JoinHostPort(gw, strconv.Itoa(freePortOn(t, gw)))
	ctx, cancel := context.WithCancel(context.Background())
	simDone := make(chan int)
	go func() {
		f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &testutil.LockedBuffer{}, ErrOut: c.stderr})
		simDone <- Main(ctx, []string{"simulate", "--listen", c.api, "--ml-listen", c.ml, "--tick", "200ms"}, f)
	}()
	t.Cleanup(func() { cancel(); <-simDone })
	waitHTTP(t, "http://"+c.api+simulate.ScenarioPath, 10*time.Second)
	if err := env.Set(c.newSpec(spec.Settings{}), "WEBHOOK_URL", hook.URL); err != nil {
		t.Fatal(err)
	}
	promID, _ := c.container("prometheus")
	amID, _ := c.container("alertmanager")
	start := time.Now()
	if code := c.up(); code != 0 {
		t.Fatalf("up with the simulator's addresses: exit %d\n%s", code, c.stderr)
	}
	if id, _ := c.container("prometheus"); id != promID {
		t.Error("up recreated Prometheus for a change of its targets; it should only reload it")
	}
	if id, _ := c.container("alertmanager"); id == amID {
		t.Error("up kept the Alertmanager container that holds the old WEBHOOK_URL")
	}
	for _, want := range []string{"recreating alertmanager: secrets in .env changed", "reloaded prometheus"} {
		if !strings.Contains(c.stderr.String(), want) {
			t.Errorf("up did not say %q:\n%s", want, c.stderr)
		}
	}
	e := &e2eStack{
		t: t, root: root, dir: c.dir, state: c.state, api: c.api, ml: c.ml,
		promPort: c.ports.Prometheus, amPort: c.ports.Alertmanager,
		hook: hook, env: env, stderr: c.stderr, newSpec: c.newSpec,
		spec: c.newSpec(spec.Settings{APIAddress: c.api, MLAddress: c.ml}),
	}
	e.healthyPhase(20 * time.Second)
	e.fireAndResolve(simulate.Halted, "CircuitBreakerTripped", map[string]string{
		"alertname": "CircuitBreakerTripped", "severity": "critical", "component": "trading",
	})
	c.statusOutputs = append(c.statusOutputs, e.statusJSON...)

	// Alertmanager's gossip is off (issue 18): a peer on the network
	// cannot reach port 9094, and the stack's Alertmanager has no cluster.
	amImage := spec.Default().Images.Alertmanager
	if _, err := testutil.Docker("run", "-d", "--name", c.project+"-peer", "--network", c.project, amImage,
		"--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager",
		"--cluster.peer=alertmanager:9094", "--cluster.peer-timeout=2s"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var peerStatus struct {
		Cluster struct {
			Status string
			Peers  []any
		}
	}
	for {
		out, err := testutil.Docker("exec", c.project+"-peer", "wget", "-qO-", "http://localhost:9093/api/v2/status")
		if err == nil && json.Unmarshal([]byte(out), &peerStatus) == nil && peerStatus.Cluster.Status == "ready" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the peer Alertmanager did not settle: %v %s", err, out)
		}
		time.Sleep(time.Second)
	}
	if len(peerStatus.Cluster.Peers) != 1 {
		t.Errorf("the peer sees %d cluster members, want only itself", len(peerStatus.Cluster.Peers))
	}
	var amStatus struct{ Cluster struct{ Status string } }
	b.do("GET", fmt.Sprintf("http://127.0.0.1:%d/api/v2/status", c.ports.Alertmanager), nil, &amStatus)
	if amStatus.Cluster.Status != "disabled" {
		t.Errorf("the stack's Alertmanager cluster status %q, want disabled", amStatus.Cluster.Status)
	}
	if out, err := testutil.Docker("exec", c.project+"-peer", "sh", "-c", "nc -w 3 alertmanager 9094 </dev/null"); err == nil || !strings.Contains(out, "refused") {
		t.Errorf("nc alertmanager 9094 from a container on the network: %v %s, want connection refused", err, out)
	}
	testutil.Docker("rm", "-f", "-v", c.project+"-peer")

	// 3. backup from the running containers, down with the volumes, up
	// on empty volumes, restore: every sample and the silence are back.
	b.do("POST", fmt.Sprintf("http://127.0.0.1:%d/api/v2/silences", c.ports.Alertmanager), map[string]any{
		"matchers": []map[string]any{{"name": "alertname", "value": "InvestIQAPIDown", "isRegex": false, "isEqual": true}},
		"startsAt": time.Now().UTC().Format(time.RFC3339), "endsAt": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339),
		"createdBy": "oncall", "comment": "planned API deploy",
	}, nil)
	wantSilences := b.silences()
	at := time.Now().Add(-time.Second).Truncate(time.Second)
	window := at.Sub(start) + 2*time.Minute
	want := b.counts(at, window)
	if len(want) < 20 {
		t.Fatalf("only %d series scraped before the backup", len(want))
	}
	archive := filepath.Join(root, "backup.tar.gz")
	if code, out := c.cli("backup", "--dir", c.dir, "--state", c.state, "--output", archive); code != 0 || strings.TrimSpace(out) != archive {
		t.Fatalf("backup: exit %d, stdout %q\n%s", code, out, c.stderr)
	}
	if code, _ := c.cli("down", "--dir", c.dir, "--state", c.state, "--volumes"); code != 0 {
		t.Fatalf("down --volumes: exit %d\n%s", code, c.stderr)
	}
	if left := c.leftovers(); len(left) > 0 {
		t.Errorf("down --volumes left %v", left)
	}
	if code := c.up(); code != 0 {
		t.Fatalf("up on empty volumes: exit %d\n%s", code, c.stderr)
	}
	if got := b.counts(at, window); len(got) != 0 {
		t.Fatalf("the new volumes already hold %d series of the backed-up range", len(got))
	}
	if got := b.silences(); len(got) != 0 {
		t.Fatalf("the new Alertmanager already has silences: %v", got)
	}
	if code, _ := c.cli("restore", archive, "--yes", "--dir", c.dir, "--state", c.state, "--timeout", "90s"); code != 0 {
		t.Fatalf("restore --yes: exit %d\n%s", code, c.stderr)
	}
	checkSamples := func(when string) {
		t.Helper()
		got := b.counts(at, window)
		lost := 0
		for k, v := range want {
			if got[k] != v {
				lost++
				if lost <= 5 {
					t.Errorf("%s: %s: %q samples, %q at backup time", when, k, got[k], v)
				}
			}
		}
		if lost > 0 || len(got) != len(want) {
			t.Errorf("%s: %d of %d series differ (%d series now)", when, lost, len(want), len(got))
		}
	}
	checkSamples("after restore")
	if got := b.silences(); !slices.Equal(got, wantSilences) {
		t.Errorf("silences after restore: %v, want %v", got, wantSilences)
	}
	if code, out := c.cli("backup", "verify", "--dir", c.dir, archive); code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("backup verify: exit %d\n%s\n%s", code, out, c.stderr)
	}

	// 4. A spec change: --retention changes Prometheus' command alone, so
	// compose recreates that container and no other, on the same volume.
	promID, _ = c.container("prometheus")
	amID, _ = c.container("alertmanager")
	c.retention = "30d"
	if code := c.up(); code != 0 {
		t.Fatalf("up --retention 30d: exit %d\n%s", code, c.stderr)
	}
	if id, _ := c.container("prometheus"); id == promID {
		t.Error("up --retention 30d kept the Prometheus container with the old flag")
	}
	if id, _ := c.container("alertmanager"); id != amID {
		t.Error("up --retention 30d recreated Alertmanager, whose service did not change")
	}
	var flags struct{ Data map[string]string }
	b.do("GET", fmt.Sprintf("http://127.0.0.1:%d/api/v1/status/flags", c.ports.Prometheus), nil, &flags)
	if got := flags.Data["storage.tsdb.retention.time"]; got != "30d" {
		t.Errorf("Prometheus retention after up --retention 30d: %q", got)
	}
	checkSamples("after the recreate")
	// A broken rule is refused before anything running is touched.
	rulesFile := filepath.Join(c.dir, "prometheus", "alert_rules.yml")
	rulesBefore, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	promID, _ = c.container("prometheus")
	c.brokenRule = true
	before := len(c.stderr.String())
	if code := c.up(); code == 0 {
		t.Error("up applied a spec with a broken rule")
	}
	if msg := c.stderr.String()[before:]; !strings.Contains(msg, "alerts[HighErrorRate].expr: 1:31: parse error") {
		t.Errorf("up refused the broken rule without naming it and where it breaks:\n%s", msg)
	}
	c.brokenRule = false
	if rulesAfter, _ := os.ReadFile(rulesFile); string(rulesAfter) != string(rulesBefore) {
		t.Error("the refused up rewrote alert_rules.yml")
	}
	if id, _ := c.container("prometheus"); id != promID {
		t.Error("the refused up recreated Prometheus")
	}
	if id, _ := c.container("alertmanager"); id != amID {
		t.Error("the refused up recreated Alertmanager")
	}

	// No secret in what a person or a log collector sees: the CLI's
	// messages, status --json, state.json, and the containers' command
	// lines, environment and labels.
	stateJSON, _ := os.ReadFile(filepath.Join(c.state, "state.json"))
	inspect, err := testutil.Docker("inspect", "--format", "{{json .Config}}", c.project+"-prometheus", c.project+"-alertmanager")
	if err != nil {
		t.Fatal(err)
	}
	values := env.Values(c.newSpec(spec.Settings{}))
	if len(values) < 3 {
		t.Fatalf("only %d secret values to look for", len(values))
	}
	for what, text := range map[string]string{
		"CLI output": c.stderr.String(), "status --json": strings.Join(c.statusOutputs, "\n"),
		"state.json": string(stateJSON), "docker inspect": inspect,
	} {
		for i, v := range values {
			if strings.Contains(text, v) {
				t.Errorf("secret #%d of .env found in %s", i, what)
			}
		}
	}

	// 5. down leaves no container; down --volumes no volume, no network.
	if code, _ := c.cli("down", "--dir", c.dir, "--state", c.state); code != 0 {
		t.Fatalf("down: exit %d\n%s", code, c.stderr)
	}
	left := c.leftovers()
	if slices.ContainsFunc(left, func(s string) bool { return strings.HasPrefix(s, "container ") }) {
		t.Errorf("down left containers: %v", left)
	}
	if n := len(slices.DeleteFunc(slices.Clone(left), func(s string) bool { return !strings.HasPrefix(s, "volume ") })); n != 2 {
		t.Errorf("down kept %d volumes, want Prometheus' and Alertmanager's: %v", n, left)
	}
	if code, _ := c.cli("down", "--dir", c.dir, "--state", c.state, "--backend", "compose", "--volumes"); code != 0 {
		t.Fatalf("down --backend compose --volumes: exit %d\n%s", code, c.stderr)
	}
	if left := c.leftovers(); len(left) > 0 {
		t.Errorf("down --volumes left %v", left)
	}
	if _, err := os.Stat(filepath.Join(c.state, "state.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state.json after down: %v, want it gone", err)
	}
}
