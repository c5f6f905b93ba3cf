package stack

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/investiq/investiq-mon/internal/proc"
)

// Every docker and docker compose call has a deadline. Without one, an
// engine that accepts the connection on its socket and never answers (a
// daemon stuck on its storage driver, a paused VM behind Docker Desktop)
// hung `up`, `down`, `status`, `backup` and `restore` for good: the
// command contexts end only on a signal.

// Bounds of one docker call whose context has no deadline of its own.
const (
	// DockerQueryTimeout: info, version, image inspect, ps, volume ls,
	// exec of a short command.
	DockerQueryTimeout = 30 * time.Second
	// DockerStopTimeout: stopping or removing containers (compose gives
	// each 10 s to exit before it kills it).
	DockerStopTimeout = 2 * time.Minute
)

// DockerContext bounds one docker call: by ctx's own deadline when it
// has one (the command's --timeout), else by limit.
func DockerContext(ctx context.Context, limit time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, limit)
}

// DockerTimedOut rewrites the error of a docker call that ran out of
// time as a sentence naming the call and what to check; other errors
// are returned as they are.
func DockerTimedOut(ctx context.Context, err error, args []string) error {
	if err == nil || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return err
	}
	deadline, _ := ctx.Deadline()
	return fmt.Errorf("%w: docker %s did not finish before its deadline (%s): is the Docker engine hung? (docker info tells)",
		context.DeadlineExceeded, strings.Join(shorten(args), " "), deadline.UTC().Format(time.RFC3339))
}

// shorten keeps an error short: a compose call's leading -f FILE
// --profile P is the same on every call.
func shorten(args []string) []string {
	if len(args) > 4 && args[0] == "compose" && args[1] == "-f" {
		return append([]string{"compose"}, args[5:]...)
	}
	return args
}

// dockerCommand is exec.CommandContext bounded by DockerContext; call
// the returned cancel once the command has run. The docker client dies
// with this process: a docker call of a killed run must not go on
// beside the next one.
func dockerCommand(ctx context.Context, limit time.Duration, docker string, args ...string) (*exec.Cmd, context.Context, context.CancelFunc) {
	ctx, cancel := DockerContext(ctx, limit)
	cmd := exec.CommandContext(ctx, docker, args...)
	proc.DieWithParent(cmd)
	return cmd, ctx, cancel
}

// composeUp runs `docker compose up` and returns what it printed. ctx
// carries --wait-timeout and a margin, so its deadline, not
// DockerStopTimeout, bounds the call.
func composeUp(ctx context.Context, docker string, args ...string) ([]byte, error) {
	cmd, _, cancel := dockerCommand(ctx, DockerStopTimeout, docker, args...)
	defer cancel()
	return cmd.CombinedOutput()
}
