package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/simulate"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// syncBuffer collects Up's messages; the servers never write to it, but
// the race detector would flag a plain buffer read while Up still runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fast shortens the intervals through the spec's own settings, never by
// touching a rule.
func fast(set spec.Settings) *spec.Spec {
	set.APIScrapeInterval = time.Second
	set.MLScrapeInterval = time.Second
	set.EvaluationInterval = time.Second
	return spec.InvestIQ(set)
}

type localStack struct {
	opts Options
	out  *syncBuffer
	env  *secrets.Env
	sim  *simulate.Simulator
}

// newLocalStack prepares (does not start) a local stack on free ports,
// with the simulator as the InvestIQ API.
func newLocalStack(t *testing.T) *localStack {
	t.Helper()
	testutil.Bin(t, "prometheus")
	testutil.Bin(t, "alertmanager")
	root := t.TempDir()
	dir := filepath.Join(root, "monitoring")
	sim, srv := testutil.StartSimulator(t, fast(spec.Settings{}), 200*time.Millisecond)
	out := &syncBuffer{}
	ls := &localStack{
		out: out,
		sim: sim,
		opts: Options{
			Backend:          Local,
			Settings:         spec.Settings{APIAddress: srv.APIAddr(), MLAddress: srv.MLAddr()},
			NewSpec:          fast,
			Dir:              dir,
			Layout:           Layout{Root: filepath.Join(root, "state")},
			Timeout:          60 * time.Second,
			PrometheusPort:   testutil.FreePort(t),
			AlertmanagerPort: testutil.FreePort(t),
			Out:              out,
			// Exercises the progress bar; it writes to out like the rest.
			Terminal: true,
		},
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.Ensure(dir, ls.spec()); err != nil {
		t.Fatal(err)
	}
	env, err := secrets.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ls.env = env
	t.Cleanup(func() {
		if err := Down(context.Background(), DownOptions{Layout: ls.opts.Layout, Out: io.Discard}); err != nil {
			t.Errorf("cleanup: down: %v", err)
		}
		if t.Failed() {
			for _, c := range []string{Prometheus, Alertmanager} {
				t.Logf("%s log:\n%s", c, ls.opts.Layout.tailLog(c, 30))
			}
		}
	})
	return ls
}

func (ls *localStack) spec() *spec.Spec {
	o := ls.opts
	o.defaults()
	s, err := LocalSpec(o.LoadSpec, o.Settings, o.Layout, o.PrometheusPort, o.AlertmanagerPort, DefaultGrafanaPort)
	if err != nil {
		panic(err) // the tests' settings are valid
	}
	return s
}

func (ls *localStack) up(t *testing.T) State {
	t.Helper()
	st, err := Up(context.Background(), ls.opts)
	if err != nil {
		t.Fatalf("up: %v\noutput:\n%s", err, ls.out.String())
	}
	return st
}

func (ls *localStack) client() *http.Client {
	return httpClient(ls.spec().StackUser, ls.env.StackPassword())
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func TestLocalStackIsSecureReloadsAndKeepsData(t *testing.T) {
	t.Parallel()
	ls := newLocalStack(t)
	st := ls.up(t)
	if !strings.Contains(ls.out.String(), "Grafana skipped") {
		t.Errorf("no Grafana binary here, so up must say it is skipped; got:\n%s", ls.out.String())
	}
	auth, anon := ls.client(), httpClient("", "")

	// Issue 8: anonymous requests are refused, authenticated ones work.
	for _, u := range []string{st.Prometheus + "/api/v1/query?query=up", st.Alertmanager + "/api/v2/status", st.Prometheus + "/api/v1/admin/tsdb/snapshot"} {
		if code, _ := get(t, anon, u); code != http.StatusUnauthorized {
			t.Errorf("anonymous GET %s: %d, want 401", u, code)
		}
	}
	for _, u := range []string{st.Prometheus + "/api/v1/query?query=up", st.Alertmanager + "/api/v2/status"} {
		if code, body := get(t, auth, u); code != http.StatusOK {
			t.Errorf("authenticated GET %s: %d %s", u, code, body)
		}
	}

	// Passwords are never on a command line: ps shows argv to every user.
	pids := map[string]int{}
	for _, c := range []string{Prometheus, Alertmanager} {
		pid, ok := ls.opts.Layout.readPID(c, st.Processes[c])
		if !ok {
			t.Fatalf("%s not running after up", c)
		}
		pids[c] = pid
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range ls.env.Values(ls.spec()) {
			if bytes.Contains(cmdline, []byte(v)) {
				t.Errorf("%s's argv holds a secret", c)
			}
		}
		if !bytes.Contains(cmdline, []byte("127.0.0.1:")) {
			t.Errorf("%s does not listen on loopback: %q", c, cmdline)
		}
	}

	// Prometheus scrapes itself and Alertmanager through basic auth, and
	// reaches Alertmanager's API for alerts through it too.
	eventually(t, 30*time.Second, "self-scrapes up and Alertmanager discovered", func() bool {
		r := CollectStatus(context.Background(), Endpoints{Backend: Local, Prometheus: st.Prometheus, Alertmanager: st.Alertmanager,
			User: ls.spec().StackUser, Password: ls.env.StackPassword()}, StatusOptions{})
		up := 0
		for _, tg := range r.Targets {
			if (tg.Job == spec.JobPrometheus || tg.Job == spec.JobAlertmanager) && tg.Health == "up" {
				up++
			}
		}
		_, body := get(t, auth, st.Prometheus+"/api/v1/alertmanagers")
		return up == 2 && strings.Contains(body, fmt.Sprintf("127.0.0.1:%d", ls.opts.AlertmanagerPort))
	})

	// Unchanged files: nothing to do.
	if _, err := Up(context.Background(), ls.opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ls.out.String(), "nothing to do") {
		t.Errorf("second up on unchanged files must do nothing; got:\n%s", ls.out.String())
	}

	// A file that does not load is not applied: the running file stays.
	rulesPath := filepath.Join(ls.opts.Layout.ConfigDir(), filepath.FromSlash(render.AlertRules))
	before, err := os.ReadFile(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	broken := ls.opts
	broken.renderFiles = func(s *spec.Spec) ([]render.File, error) {
		fs, err := localFiles(s)
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
	if after, _ := os.ReadFile(rulesPath); !bytes.Equal(after, before) {
		t.Error("a rule file that failed validation replaced the running one")
	}

	// Changed files are validated and reloaded without a restart.
	ls.opts.NewSpec = func(set spec.Settings) *spec.Spec {
		s := fast(set)
		s.EvaluationInterval = 2 * time.Second
		return s
	}
	if _, err := Up(context.Background(), ls.opts); err != nil {
		t.Fatalf("up with changed files: %v\n%s", err, ls.out.String())
	}
	if !strings.Contains(ls.out.String(), "reloaded prometheus") {
		t.Errorf("want prometheus reloaded; got:\n%s", ls.out.String())
	}
	if _, body := get(t, auth, st.Prometheus+"/api/v1/status/config"); !strings.Contains(body, "evaluation_interval: 2s") {
		t.Errorf("Prometheus did not load the new evaluation interval: %.300s", body)
	}
	if pid, _ := ls.opts.Layout.readPID(Prometheus, st.Processes[Prometheus]); pid != pids[Prometheus] {
		t.Errorf("prometheus restarted (pid %d -> %d); want a reload", pids[Prometheus], pid)
	}

	// A busy port names the port and what holds it.
	other := ls.opts
	other.Layout = Layout{Root: filepath.Join(t.TempDir(), "state")}
	_, err = Up(context.Background(), other)
	want := fmt.Sprintf("127.0.0.1:%d is held by pid %d (prometheus)", ls.opts.PrometheusPort, pids[Prometheus])
	if !errors.Is(err, ErrPortBusy) || !strings.Contains(err.Error(), want) {
		t.Errorf("up on a busy port: %v\nwant it to say %q", err, want)
	}

	// Down keeps the data: samples from before are still there after up.
	var stamp time.Time
	eventually(t, 20*time.Second, "samples in the TSDB", func() bool {
		_, body := get(t, auth, st.Prometheus+"/api/v1/query?query=up")
		stamp = time.Now()
		return strings.Contains(body, `"investiq-api"`)
	})
	time.Sleep(2 * time.Second) // let the sample at stamp be ingested
	if err := Down(context.Background(), DownOptions{Layout: ls.opts.Layout, Out: ls.out}); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", ls.opts.PrometheusPort), time.Second); err == nil {
		t.Error("Prometheus still listening after down")
	}
	if entries, err := os.ReadDir(ls.opts.Layout.PrometheusData()); err != nil || len(entries) == 0 {
		t.Fatalf("down removed Prometheus data (%v)", err)
	}
	st = ls.up(t)
	// At stamp rounded up to the second: rounded down, the instant can
	// fall before the first sample seen at stamp (a flake under load).
	q := fmt.Sprintf("%s/api/v1/query?query=up%%7Bjob%%3D%%22investiq-api%%22%%7D&time=%d", st.Prometheus, stamp.Add(time.Second).Unix())
	if _, body := get(t, auth, q); !strings.Contains(body, `"investiq-api"`) {
		t.Errorf("samples from before down are gone: %s", body)
	}

	// StopComponent and StartComponent: what a restore does.
	if was, err := StopComponent(context.Background(), ls.opts.Layout, Prometheus); err != nil || !was {
		t.Fatalf("StopComponent: %v %v", was, err)
	}
	if _, ok := ls.opts.Layout.readPID(Alertmanager, st.Processes[Alertmanager]); !ok {
		t.Error("stopping prometheus stopped alertmanager too")
	}
	if err := StartComponent(context.Background(), ls.opts.Layout, Prometheus, 30*time.Second); err != nil {
		t.Fatalf("StartComponent: %v", err)
	}
	if code, _ := get(t, auth, st.Prometheus+"/-/ready"); code != http.StatusOK {
		t.Errorf("prometheus not ready after StartComponent: %d", code)
	}

	// down --volumes removes the data.
	if err := Down(context.Background(), DownOptions{Layout: ls.opts.Layout, Volumes: true, Out: ls.out}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ls.opts.Layout.PrometheusData()); !os.IsNotExist(err) {
		t.Errorf("down --volumes left %s (%v)", ls.opts.Layout.PrometheusData(), err)
	}
}

func TestUpRefusesAdminGrafanaPassword(t *testing.T) {
	t.Parallel()
	ls := newLocalStack(t)
	if err := ls.env.Set(ls.spec(), "GRAFANA_ADMIN_PASSWORD", "admin"); err != nil {
		t.Fatal(err)
	}
	_, err := Up(context.Background(), ls.opts)
	if !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), "--insecure-dev") {
		t.Fatalf("up with admin/admin: %v, want ErrInsecure pointing at --insecure-dev", err)
	}
	if _, err := os.Stat(ls.opts.Layout.StateFile()); !os.IsNotExist(err) {
		t.Error("a refused up left a state file behind")
	}
	if _, err := os.Stat(ls.opts.Layout.ConfigDir()); !os.IsNotExist(err) {
		t.Error("a refused up wrote configs")
	}
}

func TestTimeoutStopsWhatItStarted(t *testing.T) {
	t.Parallel()
	ls := newLocalStack(t)
	ls.opts.Timeout = time.Millisecond
	_, err := Up(context.Background(), ls.opts)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("up with a 1ms timeout: %v, want ErrTimeout", err)
	}
	for _, c := range []string{Prometheus, Alertmanager} {
		if ls.opts.Layout.livePID(c) {
			t.Errorf("%s still running after a failed up", c)
		}
	}
	if _, err := os.Stat(ls.opts.Layout.StateFile()); !os.IsNotExist(err) {
		t.Error("a failed up recorded a state file")
	}
	// The config directory is as it was before: empty.
	if _, err := os.Stat(filepath.Join(ls.opts.Layout.ConfigDir(), filepath.FromSlash(render.PrometheusConfig))); !os.IsNotExist(err) {
		t.Errorf("a failed up left its rendered prometheus.yml behind (%v)", err)
	}
}

// TestUpRestartsOnChangedFlags: retention is a flag, not a file, so only a
// restart applies it; the data stays and the other components keep
// running.
func TestUpRestartsOnChangedFlags(t *testing.T) {
	t.Parallel()
	ls := newLocalStack(t)
	st := ls.up(t)
	auth := ls.client()
	l := ls.opts.Layout
	pid := func(c string) int {
		t.Helper()
		p, ok := l.readPID(c, st.Processes[c])
		if !ok {
			t.Fatalf("%s not running", c)
		}
		return p
	}
	promPID, amPID := pid(Prometheus), pid(Alertmanager)

	eventually(t, 20*time.Second, "samples in the TSDB", func() bool {
		_, body := get(t, auth, st.Prometheus+"/api/v1/query?query=up")
		return strings.Contains(body, `"investiq-api"`)
	})
	// A moment that has samples before it (a query's time is whole
	// seconds), to look for after the restart.
	time.Sleep(2 * time.Second)
	q := fmt.Sprintf("%s/api/v1/query?query=up%%7Bjob%%3D%%22investiq-api%%22%%7D&time=%d", st.Prometheus, time.Now().Unix())
	if _, body := get(t, auth, q); !strings.Contains(body, `"investiq-api"`) {
		t.Fatalf("no sample to look for after the restart: %s", body)
	}
	ls.opts.Settings.Retention = 30 * 24 * time.Hour
	mark := len(ls.out.String())
	st = ls.up(t)
	out := ls.out.String()[mark:]
	if strings.Contains(out, "nothing to do") || !strings.Contains(out, "restarted prometheus") ||
		!strings.Contains(out, "--storage.tsdb.retention.time=30d") {
		t.Errorf("up --retention 30d must say it restarted prometheus with the new flag; got:\n%s", out)
	}
	if n := strings.Count(out, "restarted "); n != 1 {
		t.Errorf("want one restart line, got %d:\n%s", n, out)
	}
	newPID := pid(Prometheus)
	if newPID == promPID {
		t.Fatalf("prometheus still runs as pid %d: not restarted", promPID)
	}
	if got := pid(Alertmanager); got != amPID {
		t.Errorf("alertmanager restarted (pid %d -> %d); its flags did not change", amPID, got)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", newPID))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(cmdline, []byte("--storage.tsdb.retention.time=30d\x00")) {
		t.Errorf("prometheus runs without the new retention: %q", cmdline)
	}
	saved, err := l.LoadState()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(saved.Processes[Prometheus].Args, "--storage.tsdb.retention.time=30d") {
		t.Errorf("state.json does not record the new flag: %q", saved.Processes[Prometheus].Args)
	}
	if code, _ := get(t, auth, st.Prometheus+"/-/ready"); code != http.StatusOK {
		t.Errorf("prometheus not ready after the restart: %d", code)
	}
	if _, body := get(t, auth, q); !strings.Contains(body, `"investiq-api"`) {
		t.Errorf("samples from before the restart are gone: %s", body)
	}

	// The same flags again: nothing to do.
	mark = len(ls.out.String())
	ls.up(t)
	if out := ls.out.String()[mark:]; !strings.Contains(out, "nothing to do") || strings.Contains(out, "restarted") {
		t.Errorf("a third identical up must do nothing; got:\n%s", out)
	}
	if got := pid(Prometheus); got != newPID {
		t.Errorf("prometheus restarted again (pid %d -> %d)", newPID, got)
	}
}
