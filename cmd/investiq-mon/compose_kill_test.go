package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/cli"
	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// Issue 17 on the compose backend, against real containers on the local
// Docker engine (the images and the compose plugin `make docker-images`
// builds; never a pull): `up`, `backup` and `restore` are stopped with
// SIGKILL at each named step (internal/testhook), then run again; a
// container stopped with `docker kill` during a backup. One compose
// project of the test's own (name, network and published ports), reused
// from step to step, and removed with everything it made at the end,
// also when the test fails.

// composeStackEnv makes the test binary, run as investiq-mon (runMainEnv),
// build its spec for the test's compose project:
// <project>:<prometheus port>:<alertmanager port>:<grafana port>.
const composeStackEnv = "INVESTIQ_TEST_COMPOSE_STACK"

// composeSpec is the spec of the project composeStackEnv names, with 1 s
// intervals (samples within seconds of up), as a user would set project,
// network and ports in spec/investiq.go to run a second stack.
func composeSpec(set spec.Settings) *spec.Spec {
	f := strings.Split(os.Getenv(composeStackEnv), ":")
	set.APIScrapeInterval, set.MLScrapeInterval, set.EvaluationInterval = time.Second, time.Second, time.Second
	s := spec.InvestIQ(set)
	if len(f) == 4 {
		s.Project, s.Network = f[0], f[0]
		s.Ports.Prometheus, _ = strconv.Atoi(f[1])
		s.Ports.Alertmanager, _ = strconv.Atoi(f[2])
		s.Ports.Grafana, _ = strconv.Atoi(f[3])
	}
	return s
}

// composeMain is main with composeSpec.
func composeMain() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGTERM)
	f := cli.System()
	f.Spec = composeSpec
	code := cli.Main(ctx, os.Args[1:], f)
	stop()
	os.Exit(code)
}

// composeStack is the test's compose project, generated in dir.
type composeStack struct {
	t              *testing.T
	project        string
	dir, state     string
	s              *spec.Spec
	user, password string
}

func newComposeStack(t *testing.T) *composeStack {
	testutil.RequireComposeEngine(t, "compose kill tests")
	b := make([]byte, 4)
	rand.Read(b)
	c := &composeStack{t: t, project: "iqmon-kill-" + hex.EncodeToString(b)}
	root := t.TempDir()
	c.dir, c.state = filepath.Join(root, "monitoring"), filepath.Join(root, ".investiq-mon")
	t.Setenv(composeStackEnv, fmt.Sprintf("%s:%d:%d:%d", c.project, testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t)))
	c.s = composeSpec(spec.Settings{})
	t.Cleanup(c.cleanup)
	if code, out := c.cli("generate", "--out", c.dir); code != 0 {
		t.Fatalf("generate: exit %d\n%s", code, out)
	}
	env, err := secrets.Load(c.dir)
	if err != nil {
		t.Fatal(err)
	}
	c.user, c.password = c.s.StackUser, env.StackPassword()
	return c
}

// cli runs investiq-mon in this process, with the project's spec.
func (c *composeStack) cli(args ...string) (int, string) {
	var out testutil.LockedBuffer
	f := cli.NewFactory(&cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out})
	f.Spec = composeSpec
	return cli.Main(context.Background(), args, f), out.String()
}

func (c *composeStack) upArgs(extra ...string) []string {
	return append([]string{"up", "--dir", c.dir, "--state", c.state, "--pull", "never", "--timeout", "2m"}, extra...)
}

func (c *composeStack) container(svc string) string { return c.project + "-" + svc }

// id is the container's id ("" when there is none); state its state and
// health.
func (c *composeStack) id(svc string) string {
	out, err := testutil.Docker("inspect", "--format", "{{.Id}}", c.container(svc))
	if err != nil {
		return ""
	}
	return out
}

func (c *composeStack) status(svc string) string {
	out, _ := testutil.Docker("inspect", "--format", "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}", c.container(svc))
	return out
}

// ls lists a directory inside a running container of the stack.
func (c *composeStack) ls(svc, dir string) []string {
	c.t.Helper()
	out, err := testutil.Docker("exec", c.container(svc), "ls", "-A", dir)
	if err != nil {
		c.t.Fatal(err)
	}
	return strings.Fields(out)
}

// projectVolumes are the project's volumes.
func (c *composeStack) projectVolumes() []string {
	out, _ := testutil.Docker("volume", "ls", "-q", "--filter", "label=com.docker.compose.project="+c.project)
	return strings.Fields(out)
}

// leftovers is what the engine holds of this project: its containers,
// volumes and network, and any other container on its volumes (a
// restore's helper).
func (c *composeStack) leftovers(containersToo bool) []string {
	var out []string
	if containersToo {
		s, _ := testutil.Docker("ps", "-a", "--filter", "label=com.docker.compose.project="+c.project, "--format", "container {{.Names}}")
		out = append(out, strings.Fields(strings.ReplaceAll(s, "container ", "container:"))...)
	}
	for _, v := range c.projectVolumes() {
		if containersToo {
			out = append(out, "volume:"+v)
		}
		s, _ := testutil.Docker("ps", "-a", "--filter", "volume="+v, "--format", "{{.Names}}")
		for _, n := range strings.Fields(s) {
			if !strings.HasPrefix(n, c.project+"-") {
				out = append(out, "helper container:"+n)
			}
		}
	}
	if containersToo {
		if s, _ := testutil.Docker("network", "ls", "-q", "--filter", "name=^"+c.project+"$"); s != "" {
			out = append(out, "network:"+c.project)
		}
	}
	return out
}

func (c *composeStack) cleanup() {
	t := c.t
	if t.Failed() {
		if out, err := testutil.Docker("compose", "-f", filepath.Join(c.dir, render.ComposeFile), "--profile", render.ComposeProfile, "logs", "--tail", "20"); err == nil {
			t.Logf("compose logs (end):\n%s", out)
		}
	}
	c.cli("down", "--dir", c.dir, "--state", c.state, "--volumes")
	for _, v := range c.projectVolumes() {
		if ids, _ := testutil.Docker("ps", "-aq", "--filter", "volume="+v); ids != "" {
			testutil.Docker(append([]string{"rm", "-f", "-v"}, strings.Fields(ids)...)...)
		}
	}
	if ids, _ := testutil.Docker("ps", "-aq", "--filter", "label=com.docker.compose.project="+c.project); ids != "" {
		testutil.Docker(append([]string{"rm", "-f", "-v"}, strings.Fields(ids)...)...)
	}
	if vols := c.projectVolumes(); len(vols) > 0 {
		testutil.Docker(append([]string{"volume", "rm", "-f"}, vols...)...)
	}
	testutil.Docker("network", "rm", c.project)
	if left := c.leftovers(true); len(left) > 0 {
		t.Errorf("cleanup left %v on the engine", left)
	}
}

// get asks a server of the stack, with its credentials, and decodes the
// JSON answer into v.
func (c *composeStack) get(port int, path string, q url.Values, v any) error {
	u := fmt.Sprintf("http://127.0.0.1:%d%s?%s", port, path, q.Encode())
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.user, c.password)
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", path, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

// series is how many series `up` has at time at (within the 5 m
// lookback): 0 on a Prometheus that started on an empty data directory
// after at.
func (c *composeStack) series(at time.Time) (int, error) {
	var r struct{ Data struct{ Result []any } }
	err := c.get(c.s.Ports.Prometheus, "/api/v1/query", url.Values{"query": {"up"}, "time": {strconv.FormatInt(at.Unix(), 10)}}, &r)
	return len(r.Data.Result), err
}

// promConfig is the configuration the running Prometheus has loaded.
func (c *composeStack) promConfig() string {
	c.t.Helper()
	var r struct{ Data struct{ YAML string } }
	if err := c.get(c.s.Ports.Prometheus, "/api/v1/status/config", nil, &r); err != nil {
		c.t.Fatal(err)
	}
	return r.Data.YAML
}

// wait polls cond until it holds, for up to two minutes.
func wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after 2m", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// healthy: both containers run and pass their healthchecks.
func (c *composeStack) healthy() error {
	for _, svc := range []string{spec.Prometheus, spec.Alertmanager} {
		if st := c.status(svc); st != "running healthy" {
			return fmt.Errorf("%s: %q, want running healthy", svc, st)
		}
	}
	return nil
}

// hidden lists the files a backup or restore writes beside its output
// or in the state dir while it works (names starting with a dot), and a
// restore's journal.
func hidden(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, ".*"))
	return m
}

func TestComposeKilledAtEachStep(t *testing.T) {
	if testing.Short() {
		t.Skip("compose kill-at-every-step: minutes on a real engine")
	}
	c := newComposeStack(t)
	started := time.Now()
	lap := func(what string) { t.Logf("%s done at %s", what, time.Since(started).Round(time.Second)) }

	// README's exit codes: `up` that times out waiting for the stack
	// exits 4, on compose too (it exited 1), and leaves nothing behind.
	// The healthchecks first run 10 s after the start, so 1 s cannot
	// see them pass.
	t.Run("wait-timeout", func(t *testing.T) {
		code, out := c.cli("up", "--dir", c.dir, "--state", c.state, "--pull", "never", "--timeout", "1s")
		if code != cli.ExitTimeout || !strings.Contains(out, "timed out waiting for the stack to be ready after 1s") {
			t.Errorf("up --timeout 1s: exit %d, want %d and a timeout:\n%s", code, cli.ExitTimeout, out)
		}
		if left := c.leftovers(true); len(left) != 0 {
			t.Errorf("the timed-out first up left %v", left)
		}
	})
	lap("wait-timeout")

	// The first up, killed before and after compose up.
	t.Run("first up", func(t *testing.T) {
		r := start(t, "up:config-written", c.upArgs()...)
		r.cmd.Process.Kill()
		r.exit()
		if left := c.leftovers(true); len(left) != 0 {
			t.Errorf("up killed at up:config-written: %v on the engine, want nothing yet", left)
		}
		r = start(t, "up:ready", c.upArgs()...)
		r.cmd.Process.Kill()
		r.exit()
		if err := c.healthy(); err != nil {
			t.Fatalf("up killed at up:ready (after compose up --wait): %v", err)
		}
		if _, err := os.Stat(filepath.Join(c.state, "state.json")); err == nil {
			t.Error("up killed at up:ready wrote state.json")
		}
		promID, amID := c.id(spec.Prometheus), c.id(spec.Alertmanager)
		code, out := c.cli(c.upArgs()...)
		if code != 0 || !strings.Contains(out, "stack is up") {
			t.Fatalf("up after the kill: exit %d\n%s", code, out)
		}
		if c.id(spec.Prometheus) != promID || c.id(spec.Alertmanager) != amID {
			t.Error("the next up recreated the containers the killed up had started")
		}
		if _, err := os.Stat(filepath.Join(c.state, "state.json")); err != nil {
			t.Errorf("state.json after the next up: %v", err)
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	lap("first up")

	// A change on the running stack (the API's address, in
	// prometheus.yml), killed at each step. The files are old or new;
	// the next up leaves the new ones loaded in the running Prometheus,
	// in the same containers, and no temporary file.
	addr := "10.255.0.1:3000"
	// (write:staged is not among them: in up it first pauses while
	// validateFiles stages a scratch copy; TestGenerateKilledAtEachStep
	// kills files.Write itself.)
	for i, step := range []string{"up:validated", "up:config-written", "up:ready"} {
		t.Run("change/"+step, func(t *testing.T) {
			old, next := addr, fmt.Sprintf("10.255.0.%d:3000", i+2)
			if i == 0 {
				old = "api-server:3000"
			}
			promID, amID := c.id(spec.Prometheus), c.id(spec.Alertmanager)
			r := start(t, step, c.upArgs("--api-address", next)...)
			r.cmd.Process.Kill()
			r.exit()
			filesAt := old
			if step == "up:config-written" || step == "up:ready" {
				filesAt = next
			}
			if code, out := c.cli("generate", "--check", "--out", c.dir, "--api-address", filesAt); code != 0 {
				t.Errorf("after a kill at %s the files are not all at %s:\n%s", step, filesAt, out)
			}
			code, out := c.cli(c.upArgs("--api-address", next)...)
			if code != 0 || !strings.Contains(out, "stack is up") {
				t.Fatalf("up after a kill at %s: exit %d\n%s", step, code, out)
			}
			if step == "up:config-written" || step == "up:ready" {
				if !strings.Contains(out, "before prometheus loaded new files: this up reloads them") {
					t.Errorf("the next up does not say it finishes the killed one's reload:\n%s", out)
				}
			}
			if cfg := c.promConfig(); !strings.Contains(cfg, next) {
				t.Errorf("after the next up the running Prometheus still has the old targets (want %s):\n%s", next, out)
			}
			if left := tempFiles(t, c.dir); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
			if c.id(spec.Prometheus) != promID || c.id(spec.Alertmanager) != amID {
				t.Error("a change of targets recreated a container")
			}
			if err := c.healthy(); err != nil {
				t.Error(err)
			}
			addr = next
		})
	}
	lap("up steps")

	// Alertmanager writes its state files (nflog, silences) at shutdown
	// and every 15 minutes: a graceful restart puts them in its volume,
	// so the archives hold both servers' data and a restore swaps two
	// volumes (restore:swapping is then one swapped, one not).
	if _, err := testutil.Docker("restart", c.container(spec.Alertmanager)); err != nil {
		t.Fatal(err)
	}
	wait(t, "healthy after the restart", func() bool { return c.healthy() == nil })

	// Samples from before any backup: every restore below, rolled back
	// or finished, must bring them back.
	var before time.Time
	wait(t, "scraping", func() bool {
		n, err := c.series(time.Now())
		if n > 0 {
			before = time.Now()
		}
		return err == nil && n > 0
	})
	time.Sleep(2 * time.Second) // so `before` is not the newest sample

	out := t.TempDir()
	snapshots := func() []string { return c.ls(spec.Prometheus, "/prometheus/snapshots") }
	var archive string
	for _, step := range []string{"backup:snapshot-taken", "backup:archived"} {
		t.Run(step, func(t *testing.T) {
			killed := filepath.Join(out, "killed-"+strings.ReplaceAll(step, ":", "-")+".tar.gz")
			r := start(t, step, "backup", "--dir", c.dir, "--state", c.state, "--output", killed)
			r.cmd.Process.Kill()
			r.exit()
			if len(hidden(t, out)) == 0 {
				t.Fatal("the kill left no temporary file: the test tests nothing")
			}
			if step == "backup:snapshot-taken" && len(snapshots()) == 0 {
				t.Fatal("the kill left no snapshot: the test tests nothing")
			}
			if _, err := os.Stat(killed); err == nil {
				t.Errorf("a killed backup left an archive at %s", killed)
			}
			archive = filepath.Join(out, "next-"+strings.ReplaceAll(step, ":", "-")+".tar.gz")
			code, msg := c.cli("backup", "--dir", c.dir, "--state", c.state, "--output", archive)
			if code != 0 || !strings.Contains(msg, "removed what a backup killed halfway") {
				t.Fatalf("backup after the kill: exit %d, want 0 and what it removed\n%s", code, msg)
			}
			if left := hidden(t, out); len(left) != 0 {
				t.Errorf("temporary files left after the next backup: %v", left)
			}
			if left := snapshots(); len(left) != 0 {
				t.Errorf("snapshots left in the Prometheus volume: %v", left)
			}
			if code, msg := c.cli("backup", "verify", archive, "--dir", c.dir); code != 0 {
				t.Errorf("the next backup's archive does not verify:\n%s", msg)
			}
		})
	}
	if archive == "" || t.Failed() {
		t.FailNow()
	}
	lap("backup steps")

	// docker kill of Alertmanager during a backup (paused once the
	// snapshot is taken): without --allow-partial the backup fails and
	// writes nothing, and removes its snapshot; with it, it writes an
	// archive that says Alertmanager is missing.
	t.Run("docker kill during backup", func(t *testing.T) {
		dir := t.TempDir()
		r := start(t, "backup:snapshot-taken", "backup", "--dir", c.dir, "--state", c.state, "--output", filepath.Join(dir, "b.tar.gz"))
		if _, err := testutil.Docker("kill", c.container(spec.Alertmanager)); err != nil {
			t.Fatal(err)
		}
		r.resume(t)
		code, msg := r.exit()
		t.Logf("backup, Alertmanager killed during it: exit %d\n%s", code, msg)
		if code == 0 || !strings.Contains(strings.ToLower(msg), "alertmanager") {
			t.Errorf("exit %d, want a failure naming alertmanager", code)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("the failed backup wrote %v", left)
		}
		if left := snapshots(); len(left) != 0 {
			t.Errorf("the failed backup left its snapshot: %v", left)
		}

		// Killed between the probe and its turn, with --allow-partial.
		if _, err := testutil.Docker("start", c.container(spec.Alertmanager)); err != nil {
			t.Fatal(err)
		}
		wait(t, "healthy again", func() bool { return c.healthy() == nil })
		partial := filepath.Join(dir, "partial.tar.gz")
		r = start(t, "backup:snapshot-taken", "backup", "--dir", c.dir, "--state", c.state, "--output", partial, "--allow-partial")
		if _, err := testutil.Docker("kill", c.container(spec.Alertmanager)); err != nil {
			t.Fatal(err)
		}
		r.resume(t)
		code, msg = r.exit()
		t.Logf("backup --allow-partial, Alertmanager killed during it: exit %d\n%s", code, msg)
		if code != 0 || !strings.Contains(msg, "went down during the backup") {
			t.Errorf("exit %d, want 0 and an archive that says alertmanager went down", code)
		}
		if code, vmsg := c.cli("backup", "verify", partial, "--dir", c.dir); code != 0 || !strings.Contains(vmsg, "alertmanager skipped") {
			t.Errorf("verify of the partial archive: exit %d\n%s", code, vmsg)
		}

		// Down before the backup starts, with --allow-partial.
		partial2 := filepath.Join(dir, "partial2.tar.gz")
		code, msg = c.cli("backup", "--dir", c.dir, "--state", c.state, "--output", partial2, "--allow-partial")
		if code != 0 || !strings.Contains(msg, "down at backup time") {
			t.Errorf("backup --allow-partial with Alertmanager down: exit %d\n%s", code, msg)
		}
		if code, msg := c.cli(c.upArgs("--api-address", addr)...); code != 0 {
			t.Fatalf("up to start Alertmanager again: exit %d\n%s", code, msg)
		}
		if left := hidden(t, dir); len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
		if left := snapshots(); len(left) != 0 {
			t.Errorf("snapshots left: %v", left)
		}
	})
	// docker kill of Prometheus once its snapshot is taken: the snapshot
	// can still be copied out of the stopped container (docker cp), but
	// not deleted with docker exec; a helper container on the volume
	// deletes it, and nothing is left for the next backup to find.
	t.Run("docker kill of prometheus during backup", func(t *testing.T) {
		dir := t.TempDir()
		r := start(t, "backup:snapshot-taken", "backup", "--dir", c.dir, "--state", c.state, "--output", filepath.Join(dir, "b.tar.gz"))
		if _, err := testutil.Docker("kill", c.container(spec.Prometheus)); err != nil {
			t.Fatal(err)
		}
		r.resume(t)
		code, msg := r.exit()
		t.Logf("backup, Prometheus killed after its snapshot: exit %d\n%s", code, msg)
		files, _ := os.ReadDir(dir)
		switch {
		case code == 0:
			if code, vmsg := c.cli("backup", "verify", filepath.Join(dir, "b.tar.gz"), "--dir", c.dir); code != 0 {
				t.Errorf("the archive does not verify:\n%s", vmsg)
			}
		case len(files) != 0:
			t.Errorf("the failed backup wrote %v", files)
		}
		if left := hidden(t, dir); len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
		if code, msg := c.cli(c.upArgs("--api-address", addr)...); code != 0 {
			t.Fatalf("up to start Prometheus again: exit %d\n%s", code, msg)
		}
		if left := snapshots(); len(left) != 0 {
			t.Errorf("the snapshot of the backup stays in the volume: %v", left)
		}
		if _, err := os.Stat(filepath.Join(c.state, "backup.journal")); err == nil {
			t.Error("backup.journal left although nothing is left to remove")
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	lap("docker kill")

	// Restore killed at each step. Markers in both volumes tell the data
	// from before the restore (markers there) from the archive's (none).
	setMarkers := func(t *testing.T) {
		for _, svc := range []string{spec.Prometheus, spec.Alertmanager} {
			if _, err := testutil.Docker("exec", c.container(svc), "sh", "-c", "echo old > /"+svc+"/iq-marker"); err != nil {
				t.Fatal(err)
			}
		}
	}
	markers := func(t *testing.T) (n int) {
		for _, svc := range []string{spec.Prometheus, spec.Alertmanager} {
			if slices.Contains(c.ls(svc, "/"+svc), "iq-marker") {
				n++
			}
		}
		return n
	}
	asides := func(t *testing.T) (out []string) {
		for _, svc := range []string{spec.Prometheus, spec.Alertmanager} {
			for _, e := range c.ls(svc, "/"+svc) {
				if strings.HasPrefix(e, ".pre-restore-") {
					out = append(out, svc+":"+e)
				}
			}
		}
		return out
	}
	restoreArgs := []string{"restore", archive, "--yes", "--dir", c.dir, "--state", c.state, "--timeout", "2m"}
	for _, tc := range []struct {
		step, next string
	}{
		{"restore:stopped", "restore"},
		{"restore:swapping", "restore"},
		{"restore:swapping", "up"},
		{"restore:swapped", "restore"},
		{"restore:ready", "restore"},
	} {
		t.Run(tc.step+"/next "+tc.next, func(t *testing.T) {
			setMarkers(t)
			r := start(t, tc.step, restoreArgs...)
			r.cmd.Process.Kill()
			r.exit()
			if _, err := os.Stat(filepath.Join(c.state, ".restore-journal.json")); err != nil {
				t.Fatalf("the killed restore left no journal: the test tests nothing (%v)", err)
			}
			var code int
			var msg string
			if tc.next == "up" {
				code, msg = c.cli(c.upArgs("--api-address", addr)...)
			} else {
				code, msg = c.cli(restoreArgs...)
			}
			t.Logf("%s after a restore killed at %s: exit %d\n%s", tc.next, tc.step, code, msg)
			if code != 0 {
				t.Fatalf("%s after the kill: exit %d", tc.next, code)
			}
			said := ""
			for _, s := range []string{"rolled back a restore of " + archive, "finished a restore of " + archive} {
				if strings.Contains(msg, s) {
					said = s
				}
			}
			if said == "" {
				t.Errorf("%s says neither that it rolled back nor that it finished the killed restore", tc.next)
			}
			m := markers(t)
			switch {
			case m != 0 && m != 2:
				t.Errorf("half old, half new: markers in %d of 2 volumes", m)
			case tc.next == "restore" && m != 0:
				t.Errorf("after the next restore the data from before it is live (markers in %d volumes)", m)
			case tc.next == "up" && strings.HasPrefix(said, "rolled back") && m != 2:
				t.Errorf("rolled back, but the data from before is not live (markers in %d volumes)", m)
			}
			if l := asides(t); len(l) != 0 {
				t.Errorf("moved-aside data left in the volumes: %v", l)
			}
			if l := hidden(t, c.state); len(l) != 0 {
				t.Errorf("left in the state dir: %v", l)
			}
			if l := c.leftovers(false); len(l) != 0 {
				t.Errorf("left on the engine: %v", l)
			}
			if err := c.healthy(); err != nil {
				t.Fatal(err)
			}
			wait(t, "answering", func() bool { _, err := c.series(before); return err == nil })
			if n, _ := c.series(before); n == 0 {
				t.Errorf("Prometheus runs on an empty data directory after a restore killed at %s and %s", tc.step, tc.next)
			}
		})
	}
	lap("restore steps")
}
