package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// gfRun runs investiq-mon with stdin and returns exit code, stdout, stderr.
func gfRun(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := NewFactory(&IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	code := Main(context.Background(), args, f)
	return code, out.String(), errOut.String()
}

// gfGenerated generates a stack into a temporary dir and returns it with
// its .env.
func gfGenerated(t *testing.T) (string, *secrets.Env) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "monitoring")
	if code, _, stderr := gfRun(t, "", "generate", "--dir", dir); code != 0 {
		t.Fatalf("generate: %d\n%s", code, stderr)
	}
	env, err := secrets.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, env
}

func envMode(t *testing.T, dir string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(filepath.Join(dir, ".env"))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// TestResetPasswordAPI runs reset-password against the Grafana API double:
// the password changes in Grafana and in .env, and appears on no output
// unless --show.
func TestResetPasswordAPI(t *testing.T) {
	dir, env := gfGenerated(t)
	old := env.Get("GRAFANA_ADMIN_PASSWORD")
	g := testutil.NewFakeGrafana(t, "admin", old)
	state := filepath.Join(t.TempDir(), "state")

	code, stdout, stderr := gfRun(t, "", "grafana", "reset-password", "--url", g.URL, "--dir", dir, "--state", state)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	env2, _ := secrets.Load(dir)
	generated := env2.Get("GRAFANA_ADMIN_PASSWORD")
	if generated == old || len(generated) < 32 {
		t.Fatalf(".env not updated with a strong password (len %d)", len(generated))
	}
	if g.Password("admin") != generated {
		t.Fatal("grafana and .env disagree after reset-password")
	}
	if envMode(t, dir) != 0o600 {
		t.Errorf(".env mode %o, want 600", envMode(t, dir))
	}
	for _, s := range []string{old, generated} {
		if strings.Contains(stdout+stderr, s) {
			t.Errorf("a password was printed without --show:\n%s%s", stdout, stderr)
		}
	}
	if !strings.Contains(stderr, "changed the password of grafana user admin") {
		t.Errorf("stderr: %s", stderr)
	}

	// --password-stdin with --show: the chosen password, printed on stdout only.
	chosen := "Chosen-by-a-person-2026"
	code, stdout, stderr = gfRun(t, chosen+"\n", "grafana", "reset-password", "--url", g.URL, "--dir", dir, "--state", state, "--password-stdin", "--show")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if stdout != chosen+"\n" || strings.Contains(stderr, chosen) {
		t.Errorf("--show: stdout %q, stderr %q", stdout, stderr)
	}
	if g.Password("admin") != chosen {
		t.Error("grafana did not get the chosen password")
	}
	if env3, _ := secrets.Load(dir); env3.Get("GRAFANA_ADMIN_PASSWORD") != chosen {
		t.Error(".env did not get the chosen password")
	}
}

func TestResetPasswordRefusals(t *testing.T) {
	dir, env := gfGenerated(t)
	state := filepath.Join(t.TempDir(), "state")
	envBefore, _ := os.ReadFile(filepath.Join(dir, ".env"))
	unchanged := func(t *testing.T) {
		t.Helper()
		if after, _ := os.ReadFile(filepath.Join(dir, ".env")); !bytes.Equal(after, envBefore) {
			t.Error(".env changed although reset-password failed")
		}
	}
	tests := []struct {
		name     string
		stdin    string
		args     []string
		setup    func(*testutil.FakeGrafana)
		wantCode int
		wantErr  string
	}{
		{name: "wrong current password in .env: 401 with a way out", setup: func(g *testutil.FakeGrafana) {
			g.Users["admin"].Password = "changed-in-the-ui"
		}, wantCode: 1, wantErr: "not Grafana's current one"},
		{name: "a locked-out admin is told to wait", setup: func(g *testutil.FakeGrafana) {
			g.LockStatus = 429
			g.LockAfter = 0
		}, wantCode: 1, wantErr: "wait a few minutes"},
		{name: "a short password on stdin is refused", stdin: "short\n", args: []string{"--password-stdin"}, wantCode: 2, wantErr: "shorter than 12"},
		{name: "empty stdin is refused", stdin: "", args: []string{"--password-stdin"}, wantCode: 2, wantErr: "stdin held no password"},
		{name: "a password .env cannot hold is refused", stdin: "a-long-pass\rword\n", args: []string{"--password-stdin"}, wantCode: 2, wantErr: "line break"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := testutil.NewFakeGrafana(t, "admin", env.Get("GRAFANA_ADMIN_PASSWORD"))
			if tt.setup != nil {
				tt.setup(g)
			}
			args := append([]string{"grafana", "reset-password", "--url", g.URL, "--dir", dir, "--state", state}, tt.args...)
			code, stdout, stderr := gfRun(t, tt.stdin, args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, tt.wantCode, tt.wantErr)
			}
			if strings.Contains(stdout+stderr, env.Get("GRAFANA_ADMIN_PASSWORD")) {
				t.Error("output holds the current password")
			}
			unchanged(t)
		})
	}
}

// TestResetPasswordCompose runs the container path with a fake docker on
// PATH that records its arguments and stdin: the password travels on
// stdin, never in argv, and .env follows.
func TestResetPasswordCompose(t *testing.T) {
	dir, _ := gfGenerated(t)
	bin := t.TempDir()
	argvLog, stdinLog := filepath.Join(bin, "argv"), filepath.Join(bin, "stdin")
	script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> " + argvLog + "\ncat >> " + stdinLog + "\necho 'Admin password changed successfully'\n"
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	state := filepath.Join(t.TempDir(), "state")

	code, stdout, stderr := gfRun(t, "", "grafana", "reset-password", "--backend", "compose", "--dir", dir, "--state", state, "--show")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	pw := strings.TrimSpace(stdout)
	argv, _ := os.ReadFile(argvLog)
	stdin, _ := os.ReadFile(stdinLog)
	if strings.Contains(string(argv), pw) {
		t.Fatalf("the password is on docker's command line: %s", argv)
	}
	if got := strings.TrimSpace(string(argv)); got != "exec -i investiq-grafana grafana cli admin reset-admin-password --password-from-stdin" {
		t.Errorf("docker argv: %s", got)
	}
	if string(stdin) != pw+"\n" {
		t.Errorf("docker stdin does not carry the password")
	}
	env, _ := secrets.Load(dir)
	if env.Get("GRAFANA_ADMIN_PASSWORD") != pw {
		t.Error(".env not updated")
	}
	if strings.Contains(stderr, pw) {
		t.Error("the password is on stderr")
	}
	// Leak check over every secret of the stack: none on docker's argv.
	for _, v := range env.Values(spec.InvestIQ(spec.Settings{})) {
		if strings.Contains(string(argv), v) {
			t.Error("a secret is on docker's command line")
		}
	}
	// Another user than the admin cannot be reset in the container.
	code, _, stderr = gfRun(t, "", "grafana", "reset-password", "--backend", "compose", "--dir", dir, "--state", state, "--user", "alice")
	if code != 2 || !strings.Contains(stderr, "resets only the admin user") {
		t.Errorf("--user alice in the container: exit %d, %s", code, stderr)
	}
}
