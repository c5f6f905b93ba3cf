package cli

import (
	"context"
	"encoding/json"
	"time"

	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/backup"
	"github.com/investiq/investiq-mon/internal/cmdutil"
	"github.com/investiq/investiq-mon/internal/doctor"
	"github.com/investiq/investiq-mon/internal/simulate"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/spec"
)

type doctorOptions struct {
	f *Factory
	stackLocation
	APIURL          string
	PrometheusURL   string
	AlertmanagerURL string
	GrafanaURL      string
	Timeout         time.Duration
	JSON            bool
	// output is -o/--output; JSON is set from it.
	output string
	// specFlags are the global flags given that change the spec, as
	// "--name value", for the files check's fix.
	specFlags []string
}

// specFlagNames are the root's flags that change the spec.
var specFlagNames = []string{"api-address", "ml-address", "retention"}

func newCmdDoctor(f *Factory, runF func(*doctorOptions) error) *cobra.Command {
	opts := &doctorOptions{f: f}
	cmd := &cobra.Command{
		Use: "doctor",
		Example: `  investiq-mon doctor
  investiq-mon doctor --api-url http://127.0.0.1:3000/metrics -o json`,
		Short: "Walk the troubleshooting steps and say what to fix",
		Long: `Check, in the order data flows, what a person would otherwise check by hand
when an alert does not arrive or a panel stays empty:

  1. the API's /metrics answers and exposes the spec's metrics (names, types, labels)
  2. Prometheus scrapes every target of the spec's jobs
  3. Prometheus loaded the rule files without errors, with every alert of the spec
  4. Prometheus is connected to an Alertmanager that answers and takes its alerts
  5. Grafana's dashboards reference the provisioned datasource uid
  6. the generated files in --dir match the spec

Each step is reported as PASS or FAIL with the fix. Exit 1 when any step does
not pass. The stack is found as status finds it (the state file of up, else
the compose ports) and its password is read from --dir/.env; the URL flags
override where each part is reached.

The API is probed at --api-url; without it, at the --api-address given, else
at the investiq-api target the running local stack scrapes (its rendered
prometheus.yml under --state, else Prometheus' active targets), else at
http://` + simulate.DefaultAPIListen + `/metrics.

--api-address, --ml-address and --retention change the spec, here as for
generate: step 6 compares --dir with the files generate would write with
the same flags. Give them only if --dir was generated with them; to tell
doctor where the API answers, use --api-url.`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.JSON = opts.output == outJSON
			for _, name := range specFlagNames {
				if fl := cmd.Flag(name); fl != nil && fl.Changed {
					opts.specFlags = append(opts.specFlags, "--"+name+" "+fl.Value.String())
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return doctorRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	opts.addFlags(fl)
	fl.StringVar(&opts.APIURL, "api-url", "", "the InvestIQ API's /metrics (default: http://<--api-address>/metrics, else the running local stack's investiq-api target, else http://"+simulate.DefaultAPIListen+"/metrics)")
	fl.StringVar(&opts.PrometheusURL, "prometheus-url", "", "Prometheus' base URL (default: from the running stack)")
	fl.StringVar(&opts.AlertmanagerURL, "alertmanager-url", "", "Alertmanager's base URL (default: from the running stack)")
	fl.StringVar(&opts.GrafanaURL, "grafana-url", "", "Grafana's base URL (default: from the running stack)")
	durationVar(fl, &opts.Timeout, "timeout", 10*time.Second, "timeout of each request")
	addOutputFlag(cmd, &opts.output, true, outJSON)
	return cmd
}

func doctorRun(ctx context.Context, opts *doctorOptions) error {
	io := opts.f.IO
	s, err := opts.f.LoadSpec()
	if err != nil {
		return err
	}
	// A missing .env is a finding of the checks that need the password,
	// not a reason to skip the others.
	ep, epErr := stack.LoadEndpoints(s, opts.Dir, opts.layout())
	for c, u := range map[string]string{spec.Prometheus: opts.PrometheusURL, spec.Alertmanager: opts.AlertmanagerURL, spec.Grafana: opts.GrafanaURL} {
		if u != "" {
			ep.SetURL(c, u)
		}
	}
	apiURL := opts.APIURL
	switch {
	case apiURL != "":
	case opts.f.Settings.APIAddress != "":
		apiURL = "http://" + opts.f.Settings.APIAddress + "/metrics"
	default:
		var ok bool
		if apiURL, ok = doctor.StackAPIURL(ctx, opts.layout(), ep, opts.Timeout); !ok {
			apiURL = "http://" + simulate.DefaultAPIListen + "/metrics"
		}
	}
	results := doctor.Run(ctx, doctor.Options{
		Spec: s, Dir: opts.Dir, APIURL: apiURL, Endpoints: ep, EndpointsErr: epErr, Timeout: opts.Timeout,
		SpecFlags: opts.specFlags,
	})
	if r, ok := interruptedRestore(opts.stackLocation, s, ep); ok {
		results = append(results, r)
	}
	if opts.JSON {
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else {
		doctor.Write(io.Out, results, cmdutil.ColorProfile(io.Out, io.ColorOut()))
	}
	if doctor.Failed(results) {
		return Exit(ExitError, nil)
	}
	return nil
}

// interruptedRestore is a failing check when a restore was killed
// halfway: doctor only reports it; restore and up repair it.
func interruptedRestore(sl stackLocation, s *spec.Spec, ep stack.Endpoints) (doctor.Result, bool) {
	if _, err := sl.layout().LoadState(); err != nil {
		return doctor.Result{}, false
	}
	ro, err := restoreTarget(sl, s, ep, 0)
	if err != nil {
		return doctor.Result{}, false
	}
	r := doctor.Result{Check: "restore", Title: "No restore was left half done", Status: doctor.Fail}
	j, err := backup.Interrupted(ro)
	switch {
	case err != nil:
		r.Summary = err.Error()
	case j == nil:
		return doctor.Result{}, false
	default:
		r.Summary = j.Describe()
	}
	r.Fix = "run `investiq-mon up` (or the restore again): it finishes or rolls back the interrupted restore first, and says which"
	return r, true
}
