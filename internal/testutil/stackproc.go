package testutil

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/files"
	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/simulate"
	"github.com/investiq/investiq-mon/spec"
)

// RenderedStack is the monitoring stack rendered from a spec into a
// temporary directory exactly as `investiq-mon generate` writes it (files
// and .env with random passwords), with the secret files and the web
// config materialised where the spec says, so real Prometheus and
// Alertmanager processes can load it.
type RenderedStack struct {
	Spec *spec.Spec
	// Dir is the generated directory (what --dir point at).
	Dir string
	// User and Password are the stack's basic auth, from Dir/.env.
	User, Password string
}

// PrometheusURL and AlertmanagerURL are the servers' base URLs.
func (rs *RenderedStack) PrometheusURL() string   { return rs.Spec.PrometheusURL }
func (rs *RenderedStack) AlertmanagerURL() string { return rs.Spec.AlertmanagerURL }

// RenderStack builds spec.InvestIQ(set) with Prometheus and Alertmanager
// on free loopback ports (unless set names them), secrets and the web
// config under a temporary directory, and renders it. Tests shorten the
// scrape and evaluation intervals through set, never by editing a rule.
func RenderStack(t testing.TB, set spec.Settings) *RenderedStack {
	t.Helper()
	return RenderStackWith(t, spec.InvestIQ, set)
}

// RenderStackWith is RenderStack with another spec constructor, for tests
// that change the spec itself.
func RenderStackWith(t testing.TB, newSpec func(spec.Settings) *spec.Spec, set spec.Settings) *RenderedStack {
	t.Helper()
	if set.PrometheusAddress == "" {
		set.PrometheusAddress = loopbackAddr(t)
	}
	if set.AlertmanagerAddress == "" {
		set.AlertmanagerAddress = loopbackAddr(t)
	}
	set.PublishAddress = "127.0.0.1"
	s := newSpec(set)
	state := t.TempDir()
	s.SecretsDir = filepath.Join(state, "secrets")
	s.WebConfigFile = filepath.Join(state, "secrets", "web.yml")
	s.ExternalURL = "http://" + set.AlertmanagerAddress
	s.Ports.Prometheus = port(t, set.PrometheusAddress)
	s.Ports.Alertmanager = port(t, set.AlertmanagerAddress)

	dir := filepath.Join(t.TempDir(), "monitoring")
	rendered, err := render.Render(s)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	if err := files.Write(dir, rendered); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.Ensure(dir, s); err != nil {
		t.Fatal(err)
	}
	env, err := secrets.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.WriteFiles(s, s.SecretsDir, s.WebConfigFile); err != nil {
		t.Fatal(err)
	}
	return &RenderedStack{Spec: s, Dir: dir, User: s.StackUser, Password: env.StackPassword()}
}

// StartPrometheus runs the pinned Prometheus on the stack's rendered
// config, with the flags both backends use (then extra, for a test that
// changes a server default), and waits until it is ready. It is stopped
// when the test ends; Stop and Start keep its data dir.
func StartPrometheus(t testing.TB, rs *RenderedStack, extra ...string) *Daemon {
	t.Helper()
	args := rs.Spec.PrometheusArgs(filepath.Join(rs.Dir, filepath.FromSlash(render.PrometheusConfig)), t.TempDir())
	args = append(args, "--web.listen-address="+strings.TrimPrefix(rs.Spec.PrometheusURL, "http://"))
	args = append(args, extra...)
	return StartDaemon(t, &Daemon{
		Name: "prometheus", Bin: Bin(t, "prometheus"), Args: args,
		ReadyURL: rs.Spec.PrometheusURL + "/-/ready", User: rs.User, Password: rs.Password,
	})
}

// StartAlertmanager runs the pinned Alertmanager on the stack's rendered
// config, clustering off (it would bind port 9094), and waits until it is
// ready. It is stopped when the test ends.
func StartAlertmanager(t testing.TB, rs *RenderedStack) *Daemon {
	t.Helper()
	args := rs.Spec.AlertmanagerArgs(filepath.Join(rs.Dir, filepath.FromSlash(render.AlertmanagerConfig)), t.TempDir())
	args = append(args,
		"--web.listen-address="+strings.TrimPrefix(rs.Spec.AlertmanagerURL, "http://"),
		"--cluster.listen-address=",
	)
	return StartDaemon(t, &Daemon{
		Name: "alertmanager", Bin: Bin(t, "alertmanager"), Args: args,
		ReadyURL: rs.Spec.AlertmanagerURL + "/-/ready", User: rs.User, Password: rs.Password,
	})
}

func loopbackAddr(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t)))
}

func port(t testing.TB, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return n
}

// SimulatedStack renders a stack whose API and ML targets are a running
// simulator on free loopback ports, scraped and evaluated every second. It
// returns the stack, the simulator (to switch scenarios) and the API's
// /metrics URL; the caller starts Prometheus and Alertmanager.
func SimulatedStack(t testing.TB) (*RenderedStack, *simulate.Simulator, string) {
	t.Helper()
	return SimulatedStackWith(t, spec.InvestIQ)
}

// SimulatedStackWith is SimulatedStack with another spec constructor, for
// tests that turn on parts of the spec the default leaves off.
func SimulatedStackWith(t testing.TB, newSpec func(spec.Settings) *spec.Spec) (*RenderedStack, *simulate.Simulator, string) {
	t.Helper()
	apiAddr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
	mlAddr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
	rs := RenderStackWith(t, newSpec, spec.Settings{
		APIAddress: apiAddr, MLAddress: mlAddr,
		APIScrapeInterval: time.Second, MLScrapeInterval: time.Second, EvaluationInterval: time.Second,
	})
	sim, err := simulate.New(rs.Spec, simulate.Options{Tick: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(context.Background(), apiAddr, mlAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return rs, sim, "http://" + apiAddr + "/metrics"
}

// StartSimulator runs a simulator of s's API and ML service on free
// loopback ports until the test ends.
func StartSimulator(t testing.TB, s *spec.Spec, tick time.Duration) (*simulate.Simulator, *simulate.Server) {
	t.Helper()
	sim, err := simulate.New(s, simulate.Options{Tick: tick})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := sim.Start(ctx, "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); srv.Wait() })
	return sim, srv
}
