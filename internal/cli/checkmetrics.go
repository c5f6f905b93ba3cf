package cli

import (
	"encoding/json"
	"fmt"
	goio "io"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/expocheck"
	"github.com/investiq/investiq-mon/internal/textsafe"
	"github.com/investiq/investiq-mon/spec"
)

type checkMetricsOptions struct {
	f      *Factory
	Source string
	Job    string
	Output string
}

func newCmdCheckMetrics(f *Factory, runF func(*checkMetricsOptions) error) *cobra.Command {
	opts := &checkMetricsOptions{f: f}
	cmd := &cobra.Command{
		Use:   "check-metrics URL|FILE|-",
		Short: "Compare a /metrics exposition with the spec",
		Long: `Read a live exposition (http://host:port/metrics) or a saved one (a file,
Prometheus text format or OpenMetrics) and compare it with the metrics the
spec declares for --job: every metric must be there with the spec's type and
labels, label values must be in the spec's allowed set, histograms must have
the spec's buckets and state gauges one of their states. The exposition is
also linted as ` + "`promtool check metrics`" + ` does. - reads the exposition from
standard input, as promtool check metrics does.

Each problem is one line on stdout, naming the metric. Exit codes, as
promtool's: 0 fine, 1 the exposition does not match the spec, 3 lint
findings only. A lint finding about a name the spec itself declares (such
as _milliseconds rather than _seconds) is printed as a note and fails
nothing: the API must use the spec's name.`,
		Example: `  investiq-mon check-metrics http://127.0.0.1:3000/metrics
  curl -s http://api-server:3000/metrics > metrics.txt && investiq-mon check-metrics metrics.txt
  investiq-mon check-metrics --job ml-service http://127.0.0.1:8000/metrics
  curl -s http://127.0.0.1:3000/metrics | investiq-mon check-metrics -o json -`,
		Args: argsError(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Source = args[0]
			if runF != nil {
				return runF(opts)
			}
			return checkMetricsRun(cmd, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Job, "job", spec.JobAPI, "scrape job whose declared metrics the exposition must have")
	addOutputFlag(cmd, &opts.Output, true, outJSON)
	return cmd
}

func checkMetricsRun(cmd *cobra.Command, opts *checkMetricsOptions) error {
	io := opts.f.IO
	s, err := opts.f.LoadSpec()
	if err != nil {
		return err
	}
	if _, ok := s.Job(opts.Job); !ok {
		var jobs []string
		for _, j := range s.Jobs {
			jobs = append(jobs, j.Name)
		}
		return fmt.Errorf("%w: --job %q is not a job of the spec: choose one of %s", errUsage, opts.Job, strings.Join(jobs, ", "))
	}
	var fams []*dto.MetricFamily
	if opts.Source == "-" {
		data, rerr := goio.ReadAll(io.In)
		if rerr != nil {
			return fmt.Errorf("standard input: %w", rerr)
		}
		fams, err = expocheck.ParseData("standard input", data)
	} else {
		fams, err = expocheck.Load(cmd.Context(), nil, opts.Source)
	}
	if err != nil {
		return err
	}
	rep := expocheck.Check(s, opts.Job, fams)
	rep.Source = opts.Source
	if opts.Output == outJSON {
		if err := writeCheckMetricsJSON(io.Out, rep); err != nil {
			return err
		}
	} else {
		for _, p := range rep.Problems {
			// Names, help texts and label values come from the exposition.
			fmt.Fprintln(io.Out, textsafe.Line(fmt.Sprint(p)))
		}
	}
	declared := slices.IndexFunc(s.Metrics, func(m spec.Metric) bool { return m.Job == opts.Job }) >= 0
	switch {
	case rep.SpecFailed():
		return Exit(ExitError, fmt.Errorf("%s: %d problem(s) against the spec (job %s)", opts.Source, len(rep.SpecProblems()), opts.Job))
	case rep.HasLint():
		return Exit(ExitLint, fmt.Errorf("%s: matches the spec, but has lint findings", opts.Source))
	case !declared:
		fmt.Fprintf(io.Info(), "%s: the spec declares no metrics for job %s; %d families linted\n", opts.Source, opts.Job, rep.Families)
	default:
		fmt.Fprintf(io.Info(), "%s: every metric of job %s matches the spec (%d families)\n", opts.Source, opts.Job, rep.Families)
	}
	return nil
}

// checkMetricsJSON is -o json of check-metrics; its names are a contract.
type checkMetricsJSON struct {
	Source   string             `json:"source"`
	Job      string             `json:"job"`
	Families int                `json:"families"`
	Problems []checkMetricsItem `json:"problems"`
}

type checkMetricsItem struct {
	Metric string `json:"metric"`
	Kind   string `json:"kind"`
	Text   string `json:"text"`
}

func writeCheckMetricsJSON(w goio.Writer, rep expocheck.Report) error {
	out := checkMetricsJSON{Source: rep.Source, Job: rep.Job, Families: rep.Families, Problems: []checkMetricsItem{}}
	for _, p := range rep.Problems {
		out.Problems = append(out.Problems, checkMetricsItem{Metric: p.Metric, Kind: string(p.Kind), Text: p.Text})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
