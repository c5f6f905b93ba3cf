package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/cli"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/testhook"
	"github.com/investiq/investiq-mon/internal/testutil"
)

// Issue 18 item 8 and issue 17: a restore interrupted by any signal puts
// the previous data back; one killed outright is finished or rolled back
// by the next run. A real investiq-mon process (this test binary running
// main) restores into a real local stack; testhook pauses it at a named
// step and creates a file, and only then does the test send the signal.

type sigStack struct {
	t                *testing.T
	dir, state       string
	promPort, amPort int
	archive          string
	user, password   string
}

func (s *sigStack) cli(args ...string) (int, string) {
	s.t.Helper()
	var out testutil.LockedBuffer
	f := cli.NewFactory(&cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out})
	return cli.Main(context.Background(), args, f), out.String()
}

func (s *sigStack) up() string {
	s.t.Helper()
	code, out := s.cli("up", "--backend", "local", "--dir", s.dir, "--state", s.state, "--api-address", "127.0.0.1:1",
		"--prometheus-port", strconv.Itoa(s.promPort), "--alertmanager-port", strconv.Itoa(s.amPort), "--timeout", "90s")
	if code != 0 {
		s.t.Fatalf("up: exit %d\n%s", code, out)
	}
	return out
}

// markers are files in the live data dirs that the archive does not
// hold: present after a rollback, gone after a finished restore.
func (s *sigStack) markers() []string {
	var out []string
	for _, c := range []string{"prometheus", "alertmanager"} {
		if _, err := os.Stat(filepath.Join(s.state, "data", c, "marker-before-restore")); err == nil {
			out = append(out, c)
		}
	}
	return out
}

func (s *sigStack) setMarkers() {
	for _, c := range []string{"prometheus", "alertmanager"} {
		if err := os.WriteFile(filepath.Join(s.state, "data", c, "marker-before-restore"), []byte("old"), 0o600); err != nil {
			s.t.Fatal(err)
		}
	}
}

// leftovers lists what an unfinished restore leaves beside the data.
func (s *sigStack) leftovers() []string {
	var out []string
	for _, pat := range []string{"*.pre-restore-*", ".restore-*"} {
		m, _ := filepath.Glob(filepath.Join(s.state, "data", pat))
		out = append(out, m...)
	}
	return out
}

// hasSamples says whether Prometheus holds a sample of up.
func (s *sigStack) hasSamples() bool {
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/api/v1/query?query=count(up)", s.promPort), nil)
	req.SetBasicAuth(s.user, s.password)
	res, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	var body strings.Builder
	io.Copy(&body, res.Body)
	return strings.Contains(body.String(), `"value"`)
}

// ready says whether both servers answer /-/ready.
func (s *sigStack) ready() error {
	for _, port := range []int{s.promPort, s.amPort} {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/-/ready", port), nil)
		req.SetBasicAuth(s.user, s.password)
		c := &http.Client{Timeout: 5 * time.Second}
		res, err := c.Do(req)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			return fmt.Errorf("port %d: %s", port, res.Status)
		}
	}
	return nil
}

// proc is a running investiq-mon process.
type proc struct {
	cmd    *exec.Cmd
	done   chan struct{}
	err    error
	stderr *testutil.LockedBuffer
}

// wait returns how the process ended.
func (p *proc) wait() error { <-p.done; return p.err }

// restoreUntil starts `investiq-mon restore --yes` as a process, waits
// until it reaches step, and returns it.
func (s *sigStack) restoreUntil(step string) *proc {
	s.t.Helper()
	readyFile := filepath.Join(s.t.TempDir(), "paused")
	cmd := exec.Command(os.Args[0], "restore", s.archive, "--yes", "--dir", s.dir, "--state", s.state, "--timeout", "90s")
	cmd.Env = append(os.Environ(), runMainEnv+"=1", testhook.Env+"="+step+"="+readyFile)
	p := &proc{cmd: cmd, done: make(chan struct{}), stderr: &testutil.LockedBuffer{}}
	cmd.Stdout, cmd.Stderr = p.stderr, p.stderr
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	s.t.Cleanup(func() { cmd.Process.Kill(); <-p.done })
	deadline := time.After(3 * time.Minute)
	stderr := p.stderr
	for {
		if _, err := os.Stat(readyFile); err == nil {
			return p
		}
		select {
		case <-p.done:
			s.t.Fatalf("restore exited before reaching %s:\n%s", step, stderr.String())
		case <-deadline:
			cmd.Process.Kill()
			s.t.Fatalf("restore did not reach %s:\n%s", step, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func newSigStack(t *testing.T) *sigStack {
	testutil.Bin(t, "prometheus")
	testutil.Bin(t, "alertmanager")
	root := t.TempDir()
	s := &sigStack{t: t, dir: filepath.Join(root, "monitoring"), state: filepath.Join(root, "st"),
		promPort: testutil.FreePort(t), amPort: testutil.FreePort(t), archive: filepath.Join(root, "backup.tar.gz")}
	if code, out := s.cli("generate", "--dir", s.dir); code != 0 {
		t.Fatalf("generate: %s", out)
	}
	env, err := secrets.Load(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	s.user, s.password = env.Get("INVESTIQ_STACK_USER"), env.StackPassword()
	s.up()
	t.Cleanup(func() { s.cli("down", "--state", s.state) })
	// Something to restore: Prometheus' first self-scrape, and
	// Alertmanager's state files, which it writes when it stops.
	deadline := time.Now().Add(2 * time.Minute)
	for !s.hasSamples() {
		if time.Now().After(deadline) {
			t.Fatal("Prometheus scraped nothing")
		}
		time.Sleep(500 * time.Millisecond)
	}
	if code, out := s.cli("down", "--state", s.state); code != 0 {
		t.Fatalf("down: %s", out)
	}
	s.up()
	if code, out := s.cli("backup", "--dir", s.dir, "--state", s.state, "--output", s.archive); code != 0 || (strings.Contains(out, "not written yet") || strings.Contains(out, "the snapshot is empty")) {
		t.Fatalf("backup: exit %d, want Prometheus' samples and Alertmanager's state files\n%s", code, out)
	}
	s.setMarkers()
	return s
}

func TestSignalsDuringRestoreRollBack(t *testing.T) {
	s := newSigStack(t)
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			s.t = t
			// Prometheus' data is swapped, Alertmanager's not yet.
			p := s.restoreUntil("restore:swapping")
			stderr := p.stderr
			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := p.wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Errorf("restore after %s: %v, want exit 1 (not killed by the signal)\n%s", sig, err, stderr)
			}
			if !strings.Contains(stderr.String(), "the previous data was put back") {
				t.Errorf("restore does not say it rolled back:\n%s", stderr)
			}
			if m := s.markers(); len(m) != 2 {
				t.Errorf("the old data is not back: markers in %v\n%s", m, stderr)
			}
			if l := s.leftovers(); len(l) != 0 {
				t.Errorf("left behind: %v", l)
			}
			if err := s.ready(); err != nil {
				t.Errorf("the servers are not running again: %v", err)
			}
		})
	}
}

func TestKilledRestoreIsRepairedByTheNextRun(t *testing.T) {
	s := newSigStack(t)

	t.Run("killed while swapping: doctor reports it, up rolls it back", func(t *testing.T) {
		s.t = t
		p := s.restoreUntil("restore:swapping")
		p.cmd.Process.Kill()
		p.wait()
		if l := s.leftovers(); len(l) == 0 {
			t.Fatal("the kill left nothing to repair; the test does not test anything")
		}
		code, out := s.cli("doctor", "--dir", s.dir, "--state", s.state)
		if code == 0 || !strings.Contains(out, "No restore was left half done") || !strings.Contains(out, "rolls it back") {
			t.Errorf("doctor after a killed restore: exit %d\n%s", code, out)
		}
		out = s.up()
		if !strings.Contains(out, "rolled back a restore of "+s.archive) {
			t.Errorf("up does not say it rolled back:\n%s", out)
		}
		if m := s.markers(); len(m) != 2 {
			t.Errorf("the old data is not back: markers in %v", m)
		}
		if l := s.leftovers(); len(l) != 0 {
			t.Errorf("left behind: %v", l)
		}
		if err := s.ready(); err != nil {
			t.Errorf("the servers are not running: %v", err)
		}
	})

	t.Run("killed once the restored servers were ready: the next restore finishes it", func(t *testing.T) {
		s.t = t
		p := s.restoreUntil("restore:ready")
		p.cmd.Process.Kill()
		p.wait()
		if l := s.leftovers(); len(l) == 0 {
			t.Fatal("the kill left nothing to repair")
		}
		code, out := s.cli("restore", s.archive, "--yes", "--dir", s.dir, "--state", s.state, "--timeout", "90s")
		if code != 0 || !strings.Contains(out, "finished a restore of "+s.archive) {
			t.Errorf("restore after a killed one: exit %d\n%s", code, out)
		}
		if m := s.markers(); len(m) != 0 {
			t.Errorf("the data from before the restore is still live: %v", m)
		}
		if l := s.leftovers(); len(l) != 0 {
			t.Errorf("left behind: %v", l)
		}
		if err := s.ready(); err != nil {
			t.Errorf("the servers are not running: %v", err)
		}
	})
}
