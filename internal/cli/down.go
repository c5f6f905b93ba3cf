package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/stack"
)

type downOptions struct {
	f       *Factory
	Backend string
	stackLocation
	lockFlags
	Volumes bool
	Wait    time.Duration
}

func newCmdDown(f *Factory, runF func(*downOptions) error) *cobra.Command {
	opts := &downOptions{f: f}
	cmd := &cobra.Command{
		Use: "down",
		Example: `  investiq-mon down
  investiq-mon down --backend local --wait 1m`,
		Short: "Stop the monitoring stack; its data is kept unless --volumes",
		Long: `Stop the stack that up started, as recorded in --state.

local: SIGTERM to each server, then wait (--wait) for it to flush and exit.
compose: docker compose --profile monitoring down.

Data (samples, silences, Grafana's database) is kept, so the next up
continues where this one stopped. --volumes deletes it.`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Backend != "" && opts.Backend != stack.Compose && opts.Backend != stack.Local {
				return fmt.Errorf("%w: --backend must be %s or %s, not %q", errUsage, stack.Compose, stack.Local, opts.Backend)
			}
			if runF != nil {
				return runF(opts)
			}
			unlock, err := opts.lock(cmd.Context(), f, "down", opts.lockFlags, false)
			if err != nil {
				return err
			}
			defer unlock()
			return stack.Down(cmd.Context(), stack.DownOptions{
				Backend: opts.Backend, Dir: opts.Dir, Layout: opts.layout(),
				Volumes: opts.Volumes, Wait: opts.Wait, Out: f.IO.Info(),
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.Volumes, "volumes", false, "also delete the stack's data")
	fl.StringVar(&opts.Backend, "backend", "", "compose or local (default: what up recorded in --state)")
	opts.stackLocation.addFlags(fl)
	opts.lockFlags.AddFlags(fl)
	durationVar(fl, &opts.Wait, "wait", 30*time.Second, "local: how long each server gets to exit after SIGTERM before SIGKILL")
	return cmd
}
