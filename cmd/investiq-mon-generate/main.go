// Command investiq-mon-generate is `investiq-mon generate` alone: the
// same command, flags, settings and output, in a binary that links none
// of validate's, test's or the servers' packages. On a fresh machine
// `go run ./cmd/investiq-mon-generate` compiles a fraction of what the
// full CLI needs (Prometheus' and Alertmanager's configuration packages
// pull in cloud SDKs for remote write auth and notifiers), so a
// newcomer's first run is quick; everything else is in investiq-mon, the
// kubernetes target too (its API types are an eighth of this build).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/cmd/generate"
	"github.com/investiq/investiq-mon/internal/cmd/version"
	"github.com/investiq/investiq-mon/internal/cmdutil"
)

func main() {
	// As investiq-mon: a signal cancels the context, so a write in
	// progress finishes or is undone instead of being cut off.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGTERM)
	f := cmdutil.System()
	code := cmdutil.Main(ctx, newRoot(f), os.Args[1:], f)
	stop()
	os.Exit(code)
}

// newRoot is generate as the root command, with the root flags every
// investiq-mon command takes and --version.
func newRoot(f *cmdutil.Factory) *cobra.Command {
	root := generate.NewCmd(f, nil, nil)
	root.Use = "investiq-mon-generate"
	root.Example = `  investiq-mon-generate                  # the same as: investiq-mon generate
  investiq-mon-generate --check --diff   # the drift check for CI`
	root.SilenceErrors, root.SilenceUsage = true, true
	root.SetFlagErrorFunc(cmdutil.FlagError)
	cmdutil.AddRootFlags(root, f)
	root.AddCommand(version.NewCmd(f, nil))
	version.AddFlag(root, f)
	return root
}
