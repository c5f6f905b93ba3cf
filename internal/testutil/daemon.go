package testutil

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Daemon is a real server (Prometheus, Alertmanager) that a test starts,
// stops and starts again with the same flags, as a restore does with the
// stack. Its output is kept and shown when the test fails.
type Daemon struct {
	t    testing.TB
	Name string
	Bin  string
	Args []string
	// ReadyURL is polled (with basic auth when User is set) after start.
	ReadyURL       string
	User, Password string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	out  *LockedBuffer
}

// LockedBuffer is a bytes.Buffer safe to write from several goroutines:
// a server's output, or a CLI's stderr shared by commands run in parallel.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// StartDaemon starts the server and waits until it is ready; it is stopped
// when the test ends.
func StartDaemon(t testing.TB, d *Daemon) *Daemon {
	t.Helper()
	d.t = t
	d.out = &LockedBuffer{}
	if err := d.Start(context.Background()); err != nil {
		t.Fatalf("%s: %v\n%s", d.Name, err, d.Output())
	}
	t.Cleanup(func() {
		d.Stop(context.Background())
		if t.Failed() {
			t.Logf("%s output:\n%s", d.Name, d.Output())
		}
	})
	return d
}

// Output is everything the server printed so far.
func (d *Daemon) Output() string { return d.out.String() }

// Running reports whether the process is alive.
func (d *Daemon) Running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cmd != nil
}

// Start starts the server (a running one is left alone) and waits until
// ReadyURL answers 200.
func (d *Daemon) Start(ctx context.Context) error {
	d.mu.Lock()
	if d.cmd == nil {
		cmd := exec.Command(d.Bin, d.Args...)
		cmd.Stdout, cmd.Stderr = d.out, d.out
		if err := cmd.Start(); err != nil {
			d.mu.Unlock()
			return err
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		d.cmd, d.done = cmd, done
	}
	done := d.done
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.ReadyURL, nil)
		if d.User != "" {
			req.SetBasicAuth(d.User, d.Password)
		}
		if res, err := c.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			d.mu.Lock()
			d.cmd = nil
			d.mu.Unlock()
			return fmt.Errorf("%s exited before it was ready", d.Name)
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s: %w", d.Name, d.ReadyURL, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop sends SIGTERM (both servers persist their state on it) and waits
// for the process to exit, killing it after 30s.
func (d *Daemon) Stop(ctx context.Context) error {
	d.mu.Lock()
	cmd, done := d.cmd, d.done
	d.cmd = nil
	d.mu.Unlock()
	if cmd == nil {
		return nil
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s did not exit on SIGTERM", d.Name)
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		return ctx.Err()
	}
}
