package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/grafana"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/internal/testutil"
)

// Issue 18 item 5 and issue 17: a server that accepts connections and
// never answers (Prometheus stopped with kill -STOP, a hung proxy) makes
// every command fail within its documented per-request timeout (10 s),
// with a sentence naming the component, instead of hanging forever.

// guard is how long a test lets a command run before calling it hung: far
// above what the documented timeouts add up to, so it is no timing
// assertion, only the difference between "gave up" and "never returns".
const guard = 2 * time.Minute

// hungListener accepts connections and never reads or writes.
func hungListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + l.Addr().String()
}

// runGuarded runs the CLI with the guard as its context's deadline and
// fails the test if the command only returned because of it.
func runGuarded(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	var out, errOut testutil.LockedBuffer
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	code := Main(ctx, args, f)
	if ctx.Err() != nil {
		t.Fatalf("%v still waiting after %s: a request without a timeout\n%s%s", args, guard, out.String(), errOut.String())
	}
	return code, out.String() + errOut.String()
}

func TestHungServersFailWithinTheTimeout(t *testing.T) {
	h := newHostileStack(t)
	prom, am := hungListener(t), hungListener(t)
	state := fmt.Sprintf(`{"backend": "local", "prometheus": %q, "alertmanager": %q}`, prom, am)
	if err := os.WriteFile(filepath.Join(h.state, "state.json"), []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"status", []string{"status", "--dir", h.dir, "--state", h.state},
			[]string{"prometheus", "did not answer within 10s", "prometheus is down at " + prom}},
		{"doctor", []string{"doctor", "--dir", h.dir, "--state", h.state, "--api-url", hungListener(t) + "/metrics"},
			[]string{"Prometheus at " + prom + ": did not answer within 10s", "did not answer within 10s"}},
		{"backup", []string{"backup", "--dir", h.dir, "--state", h.state, "--output", filepath.Join(t.TempDir(), "b.tar.gz")},
			[]string{"prometheus at " + prom + ": did not answer within 10s", "alertmanager at " + am + ": did not answer within 10s"}},
		{"grafana reset-password", []string{"grafana", "reset-password", "--dir", h.dir, "--state", h.state, "--url", prom},
			[]string{"grafana is not reachable at " + prom + ": did not answer within 10s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// backup and grafana reset-password take the stack's lock:
			// side by side, one is refused at once (lock held), which is
			// not what this test asks. They run one after the other.
			if tt.name != "backup" && tt.name != "grafana reset-password" {
				t.Parallel()
			}
			code, out := runGuarded(t, tt.args...)
			t.Logf("%s said:\n%s", tt.name, out)
			if code == 0 {
				t.Errorf("%s against a hung stack: exit 0\n%s", tt.name, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("%s does not say %q:\n%s", tt.name, w, out)
				}
			}
		})
	}
}

func TestOneRequestTimeout(t *testing.T) {
	if grafana.RequestTimeout != stack.RequestTimeout {
		t.Errorf("grafana's request timeout %s differs from the stack's %s, which the README documents", grafana.RequestTimeout, stack.RequestTimeout)
	}
}

// up on a running local stack whose Prometheus is stopped (kill -STOP):
// the reload that applies a changed prometheus.yml gives up after the
// timeout, names Prometheus, and leaves the files as they were.
func TestUpWithAStoppedPrometheus(t *testing.T) {
	testutil.Bin(t, "prometheus")
	testutil.Bin(t, "alertmanager")
	root := t.TempDir()
	dir, state := filepath.Join(root, "monitoring"), filepath.Join(root, "st")
	promPort, amPort := testutil.FreePort(t), testutil.FreePort(t)
	up := func(api string) (int, string) {
		return runGuarded(t, "up", "--backend", "local", "--dir", dir, "--state", state,
			"--api-address", api, "--prometheus-port", strconv.Itoa(promPort), "--alertmanager-port", strconv.Itoa(amPort), "--timeout", "90s")
	}
	if code, out := up("127.0.0.1:1"); code != 0 {
		t.Fatalf("up: exit %d\n%s", code, out)
	}
	t.Cleanup(func() { runGuarded(t, "down", "--state", state) })
	data, err := os.ReadFile(filepath.Join(state, "run", "prometheus.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
	cfg := filepath.Join(state, "config", "prometheus", "prometheus.yml")
	before, _ := os.ReadFile(cfg)
	code, out := up("127.0.0.1:2") // another target: prometheus.yml changes
	if code == 0 || !strings.Contains(out, "prometheus") || !strings.Contains(out, "did not answer within 10s") {
		t.Errorf("up with a stopped Prometheus: exit %d\n%s", code, out)
	}
	if after, _ := os.ReadFile(cfg); string(after) != string(before) {
		t.Error("the failed reload left the new prometheus.yml in place")
	}
}
