package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/prometheus/alertmanager/config"
	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/routes"
)

type routesOptions struct {
	f *Factory
	// Config is an alertmanager.yml to read instead of rendering the spec.
	Config string
	// Labels and Verify are for `routes test`.
	Labels []string
	Verify string
	verify bool
	Output string
}

func newCmdRoutes(f *Factory, runF func(*routesOptions) error) *cobra.Command {
	opts := &routesOptions{f: f}
	cmd := &cobra.Command{
		Use: "routes",
		Example: `  investiq-mon routes show
  investiq-mon routes test severity=critical`,
		Short: "Show Alertmanager's routing tree and test where alerts go",
		Long: `Inspect the routing of alertmanager.yml as rendered from the spec (or
--config FILE): 'routes show' prints the tree, 'routes test' the receivers a
label set reaches. Both use Alertmanager's own routing code, as amtool does.`,
		Args: argsError(cobra.NoArgs),
	}
	cmd.PersistentFlags().StringVar(&opts.Config, "config", "", "alertmanager.yml to read instead of the one the spec renders")

	show := &cobra.Command{
		Use: "show",
		Example: `  investiq-mon routes show
  investiq-mon routes show --config alertmanager.yml`,
		Short: "Print the routing tree and the inhibit rules",
		Args:  argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return routesShowRun(opts)
		},
	}
	test := &cobra.Command{
		Use:   "test [LABEL=VALUE...]",
		Short: "Print the receivers an alert with these labels reaches",
		Long: `Print, comma-separated and in routing order, the receivers an alert with
the given labels reaches; the same answer as 'amtool config routes test'.
With --verify-receivers a,b the command exits 1 unless exactly those
receivers, in that order, are reached.`,
		Example: `  investiq-mon routes test severity=critical alertname=ServiceDown
  investiq-mon routes test severity=warning --verify-receivers webhook,slack,discord`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Labels = args
			opts.verify = cmd.Flags().Changed("verify-receivers")
			if runF != nil {
				return runF(opts)
			}
			return routesTestRun(opts)
		},
	}
	test.Flags().StringVar(&opts.Verify, "verify-receivers", "", "comma-separated receivers the labels must reach, in order; exit 1 otherwise")
	addOutputFlag(test, &opts.Output, true, outJSON)
	cmd.AddCommand(show, test)
	return cmd
}

// routesConfig is --config, or the alertmanager.yml the spec renders now
// (what `generate` would write), so the answer never depends on a stale
// monitoring/ tree.
func routesConfig(opts *routesOptions) (*config.Config, error) {
	if opts.Config != "" {
		return routes.LoadFile(opts.Config)
	}
	s, err := opts.f.LoadSpec()
	if err != nil {
		return nil, err
	}
	files, err := render.Render(s)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if f.Path == render.AlertmanagerConfig {
			cfg, err := routes.Load(f.Data)
			if err != nil {
				return nil, fmt.Errorf("rendered %s: %w", f.Path, err)
			}
			return cfg, nil
		}
	}
	return nil, fmt.Errorf("the spec renders no %s", render.AlertmanagerConfig)
}

func routesShowRun(opts *routesOptions) error {
	cfg, err := routesConfig(opts)
	if err != nil {
		return err
	}
	return routes.WriteTree(opts.f.IO.Out, cfg)
}

func routesTestRun(opts *routesOptions) error {
	ls, err := routes.ParseLabels(opts.Labels)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg, err := routesConfig(opts)
	if err != nil {
		return err
	}
	got := routes.Receivers(cfg, ls)
	if opts.Output == outJSON {
		enc := json.NewEncoder(opts.f.IO.Out)
		if err := enc.Encode(struct {
			Receivers []string `json:"receivers"`
		}{append([]string{}, got...)}); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(opts.f.IO.Out, strings.Join(got, ","))
	}
	if !opts.verify {
		return nil
	}
	var want []string
	if opts.Verify != "" {
		want = strings.Split(opts.Verify, ",")
	}
	if err := routes.Verify(got, want); err != nil {
		if errors.Is(err, routes.ErrMismatch) {
			return Exit(ExitError, fmt.Errorf("%s: %w", ls, err))
		}
		return err
	}
	return nil
}
