package stack

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A Docker engine that accepts the connection and never answers: the
// docker client hangs. Every call investiq-mon makes ends at its
// context's deadline, and says which call and why, instead of hanging
// the command for good.
func TestDockerCallsEndAtTheDeadline(t *testing.T) {
	bin := t.TempDir()
	// exec: the kill at the deadline reaches the sleeping process itself.
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte("#!/bin/sh\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	docker := filepath.Join(bin, "docker")
	file := filepath.Join(t.TempDir(), "docker-compose.yml")
	calls := map[string]func(ctx context.Context) error{
		"docker info": func(ctx context.Context) error { return engineAnswers(ctx, docker) },
		"docker compose version": func(ctx context.Context) error {
			_, err := composeVersion(ctx, docker)
			return err
		},
		"docker compose ps":   func(ctx context.Context) error { _, err := composePS(ctx, file); return err },
		"docker compose stop": func(ctx context.Context) error { return composeService(ctx, file, "stop", Prometheus) },
		"docker volume ls":    func(ctx context.Context) error { _, err := projectVolumes(ctx, docker, "p"); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			err := call(ctx)
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "did not finish before its deadline") {
				t.Errorf("%s on a hung engine: %v, want a deadline error naming the call", name, err)
			}
		})
	}
}

func TestDockerContextAlwaysHasADeadline(t *testing.T) {
	ctx, cancel := DockerContext(context.Background(), time.Minute)
	defer cancel()
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > time.Minute {
		t.Errorf("without a deadline of its own: %v %v, want one within a minute", d, ok)
	}
	parent, pcancel := context.WithTimeout(context.Background(), time.Hour)
	defer pcancel()
	ctx, cancel = DockerContext(parent, time.Minute)
	defer cancel()
	if d, _ := ctx.Deadline(); time.Until(d) < 59*time.Minute {
		t.Errorf("the caller's deadline (an hour) was not kept: %v", d)
	}
}
