// Command investiq-mon provisions InvestIQ's monitoring stack from one Go
// spec: see README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/investiq/investiq-mon/internal/cli"
)

func main() {
	// Every signal that ends a command from a terminal or a supervisor
	// cancels its context instead of killing the process, so a restore
	// puts the previous data back and a backup removes its temporary
	// files and snapshot: Ctrl-C (SIGINT), a closed terminal or ssh
	// session (SIGHUP), Ctrl-\ (SIGQUIT), kill and systemd (SIGTERM).
	// Until stop, later ones are caught too: a second Ctrl-C does not
	// cut a rollback short. Only SIGKILL is left, and the next restore,
	// up or doctor notices what it interrupted.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.System())
	stop()
	os.Exit(code)
}
