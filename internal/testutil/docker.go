package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/internal/toolbin"
	"github.com/investiq/investiq-mon/spec"
)

// Docker runs the docker client and returns its trimmed output; an error
// carries the command and what it printed.
func Docker(args ...string) (string, error) {
	out, err := exec.Command("docker", args...).CombinedOutput()
	s := strings.TrimSpace(string(out))
	if err != nil {
		return s, fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, s)
	}
	return s, nil
}

// RequireComposeEngine skips the test (fails it under CI=true, where
// skipping would let CI pass by running nothing) unless a Docker engine
// answers, the compose plugin runs and the stack's Prometheus and
// Alertmanager images are built; what names the tests in the message.
// When DOCKER_CONFIG is unset it points at the compose plugin `make
// images` puts in the checkout's .tools/docker.
func RequireComposeEngine(t *testing.T, what string) {
	t.Helper()
	miss := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s: %s", what, fmt.Sprintf(format, args...))
		}
		t.Skipf("%s: %s", what, fmt.Sprintf(format, args...))
	}
	if _, err := exec.LookPath("docker"); err != nil {
		miss("no docker client on PATH")
	}
	if out, err := Docker("info", "--format", "{{.ServerVersion}}"); err != nil {
		miss("no Docker engine (docker info: %s)", firstLine(out))
	}
	if os.Getenv("DOCKER_CONFIG") == "" {
		if root, ok := toolbin.ModuleRoot(); ok {
			t.Setenv("DOCKER_CONFIG", filepath.Join(root, ".tools", "docker"))
		}
	}
	if out, err := Docker("compose", "version", "--short"); err != nil {
		miss("no docker compose plugin in DOCKER_CONFIG=%s (%s): run make images", os.Getenv("DOCKER_CONFIG"), firstLine(out))
	}
	for _, img := range []string{spec.Default().Images.Prometheus, spec.Default().Images.Alertmanager} {
		if _, err := Docker("image", "inspect", "--format", "{{.Id}}", img); err != nil {
			miss("image %s is not on the engine: run make images", img)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
