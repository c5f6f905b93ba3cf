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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.System())
	stop()
	os.Exit(code)
}
