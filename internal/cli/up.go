package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/stack"
)

type upOptions struct {
	f       *Factory
	Backend string
	Timeout time.Duration
	Pull    string
	stackLocation
	lockFlags
	InsecureDev      bool
	PrometheusPort   int
	AlertmanagerPort int
	GrafanaPort      int
}

func newCmdUp(f *Factory, runF func(*upOptions) error) *cobra.Command {
	opts := &upOptions{f: f}
	cmd := &cobra.Command{
		Use: "up",
		Example: `  investiq-mon up
  investiq-mon up --backend local --timeout 1m`,
		Short: "Start the monitoring stack, or reload it when its files changed",
		Long: `Start Prometheus, Alertmanager and Grafana and wait until each is ready.

--backend compose (the production path) generates the stack into --dir if
needed and runs docker compose --profile monitoring up -d --wait on it. It
needs the Compose v2 plugin, ` + stack.MinComposeVersion + ` or later. --pull never makes
a missing image an immediate error (no registry is asked) and skips Grafana
when its image is not on the engine. A running container whose secrets in
.env changed is recreated.

--backend local runs the servers as background processes on 127.0.0.1,
without Docker, under --state (data, logs, pid files, rendered configs,
secret files). Targets default to the InvestIQ API on 127.0.0.1:3000 and the
ML service on 127.0.0.1:8000 (see --api-address, --ml-address); try it with
` + "`investiq-mon simulate`" + `. Grafana runs only when a grafana binary is on PATH.

On a running stack, up does nothing when the files are unchanged; when they
changed it validates them and reloads Prometheus and Alertmanager
(/-/reload) without a restart. A file that fails validation is not applied,
and neither is any other. On the local backend, a server whose flags changed
(e.g. --retention) is restarted, keeping its data.

Secrets come from --dir/.env (created by generate). up refuses a Grafana
admin password of admin unless --insecure-dev.`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Backend != stack.Compose && opts.Backend != stack.Local {
				return fmt.Errorf("%w: --backend must be %s or %s, not %q", errUsage, stack.Compose, stack.Local, opts.Backend)
			}
			for name, p := range map[string]int{"--prometheus-port": opts.PrometheusPort, "--alertmanager-port": opts.AlertmanagerPort, "--grafana-port": opts.GrafanaPort} {
				if p < 1 || p > 65535 {
					return fmt.Errorf("%w: %s %d is not a port (1-65535)", errUsage, name, p)
				}
			}
			if opts.Timeout <= 0 {
				return fmt.Errorf("%w: --timeout must be positive", errUsage)
			}
			if opts.Pull != "" && !slices.Contains(stack.PullPolicies, opts.Pull) {
				return fmt.Errorf("%w: --pull must be one of %s, not %q", errUsage, strings.Join(stack.PullPolicies, ", "), opts.Pull)
			}
			// The local backend's ports follow the settings file's unless
			// a flag says otherwise.
			for _, p := range []struct {
				flag string
				dst  *int
				set  int
			}{
				{"prometheus-port", &opts.PrometheusPort, f.Settings.PrometheusPort},
				{"alertmanager-port", &opts.AlertmanagerPort, f.Settings.AlertmanagerPort},
				{"grafana-port", &opts.GrafanaPort, f.Settings.GrafanaPort},
			} {
				if !cmd.Flags().Changed(p.flag) && p.set != 0 {
					*p.dst = p.set
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return upRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Backend, "backend", stack.Compose, "compose (docker compose) or local (processes on 127.0.0.1)")
	durationVar(fl, &opts.Timeout, "timeout", 2*time.Minute, "how long to wait for every component to be ready")
	fl.StringVar(&opts.Pull, "pull", "", "compose backend: pull images always, missing (compose's default) or never (then Grafana is skipped when its image is not on the engine)")
	opts.stackLocation.addFlags(fl)
	opts.lockFlags.AddFlags(fl)
	fl.BoolVar(&opts.InsecureDev, "insecure-dev", false, "allow a Grafana admin password of admin (throwaway local stacks only)")
	fl.IntVar(&opts.PrometheusPort, "prometheus-port", stack.DefaultPrometheusPort, "local backend: Prometheus port on 127.0.0.1")
	fl.IntVar(&opts.AlertmanagerPort, "alertmanager-port", stack.DefaultAlertmanager, "local backend: Alertmanager port on 127.0.0.1")
	fl.IntVar(&opts.GrafanaPort, "grafana-port", stack.DefaultGrafanaPort, "local backend: Grafana port on 127.0.0.1")
	return cmd
}

func upRun(cmd *cobra.Command, opts *upOptions) error {
	f := opts.f
	// A broken settings file stops up before it takes the lock.
	if err := f.SettingsErr(); err != nil {
		return err
	}
	unlock, err := opts.lock(cmd.Context(), f, "up", opts.lockFlags, true)
	if err != nil {
		return err
	}
	defer unlock()
	// A restore killed halfway is finished or rolled back before any
	// server starts on half-swapped data.
	if err := recoverRestore(cmd.Context(), f.IO.ErrOut, opts.stackLocation, f, opts.Timeout); err != nil {
		return err
	}
	_, err = stack.Up(cmd.Context(), stack.Options{
		Backend:          opts.Backend,
		Settings:         f.Settings,
		LoadSpec:         f.LoadSpecWith,
		Dir:              opts.Dir,
		Layout:           opts.layout(),
		Timeout:          opts.Timeout,
		Pull:             opts.Pull,
		InsecureDev:      opts.InsecureDev,
		PrometheusPort:   opts.PrometheusPort,
		AlertmanagerPort: opts.AlertmanagerPort,
		GrafanaPort:      opts.GrafanaPort,
		Out:              f.IO.Info(),
		Terminal:         f.IO.Progress(),
	})
	if errors.Is(err, stack.ErrTimeout) {
		return Exit(ExitTimeout, err)
	}
	return err
}
