package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/simulate"
)

type simulateOptions struct {
	f        *Factory
	Listen   string
	MLListen string
	Scenario string
	Tick     time.Duration
}

func newCmdSimulate(f *Factory, runF func(*simulateOptions) error) *cobra.Command {
	opts := &simulateOptions{f: f}
	cmd := &cobra.Command{
		Use: "simulate",
		Example: `  investiq-mon simulate
  investiq-mon simulate --scenario halted --tick 200ms`,
		Short: "Serve a stand-in for the InvestIQ API's /metrics, with scenarios",
		Long: `Serve every metric of the spec on --listen /metrics, as the InvestIQ API
would, and a stand-in ML service /metrics on --ml-listen, so the stack can be
tried without the real API. The numbers follow a scenario:

  healthy                  ~20 req/s, 0.01 errors/s, p95 ~200 ms: no alert
  errors                   2 errors/s: HighErrorRate after its 2m
  slow                     p95 above 1 s: HighLatency after its 5m
  ml-down                  the ML /metrics answers 503: MLServiceDown
  halted                   investiq_trading_halted = 1: CircuitBreakerTripped
  dependency-down:<name>   investiq_dependency_health{name="<name>"} = 0

Switch while it runs:
  curl -X POST 'http://127.0.0.1:3000/-/scenario?name=errors'
  curl http://127.0.0.1:3000/-/scenario        # the current one

Runs until interrupted (Ctrl-C). Scenario switches are logged to stderr.`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return simulateRun(cmd, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Listen, "listen", simulate.DefaultAPIListen, "address of the simulated API's /metrics")
	cmd.Flags().StringVar(&opts.MLListen, "ml-listen", simulate.DefaultMLListen, `address of the simulated ML service's /metrics ("" for none)`)
	cmd.Flags().StringVar(&opts.Scenario, "scenario", simulate.Healthy, "scenario to start in")
	durationVar(cmd.Flags(), &opts.Tick, "tick", time.Second, "how often counters advance (rates stay per second)")
	return cmd
}

func simulateRun(cmd *cobra.Command, opts *simulateOptions) error {
	s, err := opts.f.LoadSpec()
	if err != nil {
		return err
	}
	sim, err := simulate.New(s, simulate.Options{Scenario: opts.Scenario, Tick: opts.Tick, Logger: opts.f.Log})
	if err != nil {
		return fmt.Errorf("%w: --scenario: %v", errUsage, err)
	}
	srv, err := sim.Start(cmd.Context(), opts.Listen, opts.MLListen)
	if err != nil {
		return fmt.Errorf("%w (is another simulate or the real API running? choose another with --listen/--ml-listen)", err)
	}
	ml := ""
	if srv.MLAddr() != "" {
		ml = fmt.Sprintf(", ML service on http://%s/metrics", srv.MLAddr())
	}
	opts.f.Log.Info(fmt.Sprintf("simulating the InvestIQ API on http://%s/metrics%s", srv.APIAddr(), ml),
		"scenario", sim.Scenario())
	opts.f.Log.Info("switch with: curl -X POST 'http://" + srv.APIAddr() + simulate.ScenarioPath + "?name=NAME'; scenarios: " + strings.Join(sim.Scenarios(), ", "))
	return srv.Wait()
}
