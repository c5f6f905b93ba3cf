package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/sizing"
)

type sizingOptions struct {
	f    *Factory
	JSON bool
	// output is -o/--output; JSON is set from it.
	output string
}

func newCmdSizing(f *Factory, runF func(*sizingOptions) error) *cobra.Command {
	opts := &sizingOptions{f: f}
	cmd := &cobra.Command{
		Use: "sizing",
		Example: `  investiq-mon sizing
  investiq-mon sizing --retention 30d -o json`,
		Short: "Estimate the series, memory and disk the spec's stack needs",
		Long: `Count, from the spec alone, the series Prometheus will hold: every
combination of each metric's label values (declared Values, else MaxValues),
a histogram's buckets plus +Inf, _sum and _count, five series per scrape
target, and the output of every recording rule. Then the memory and disk
for the retention (--retention, default the spec's 15d) at the spec's
scrape and evaluation intervals, after Prometheus' documented rules of
thumb: 1-2 bytes per sample on disk, about 3 kB per series in memory.

A running stack's real figures are in ` + "`investiq-mon status`" + `.`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.JSON = opts.output == outJSON
			if runF != nil {
				return runF(opts)
			}
			return sizingRun(opts)
		},
	}
	addOutputFlag(cmd, &opts.output, true, outJSON)
	return cmd
}

func sizingRun(opts *sizingOptions) error {
	s, err := opts.f.LoadSpec()
	if err != nil {
		return err
	}
	est, err := sizing.FromSpec(s, sizing.Options{})
	if err != nil {
		return err
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.f.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(est)
	}
	writeSizing(opts.f.IO.Out, opts.f.IO.ColorOut(), est, nil)
	return nil
}

// writeSizing prints the estimate, beside what a running server holds
// when obs is not nil.
func writeSizing(w io.Writer, terminal bool, est *sizing.Estimate, obs *sizing.Observed) {
	st := newStatusStyles(w, terminal)
	fmt.Fprintln(w, st.title.Render(fmt.Sprintf("Sizing (retention %s)", promDurationString(est.Retention))))
	headers := []string{"SERIES OF", "TARGETS", "ESTIMATE"}
	if obs != nil {
		headers = append(headers, "REAL")
	}
	var rows [][]string
	for _, j := range est.Jobs {
		estimate := fmt.Sprint(j.Series)
		if !j.Declared {
			estimate += " (own metrics not in the spec)"
		}
		row := []string{"job " + j.Name, fmt.Sprint(j.Targets), estimate}
		if obs != nil {
			row = append(row, realJob(obs, j.Name))
		}
		rows = append(rows, row)
	}
	rules := 0
	for _, r := range est.Rules {
		rules += r.Series
	}
	row := []string{fmt.Sprintf("%d recording rules", len(est.Rules)), "", fmt.Sprint(rules)}
	if obs != nil {
		row = append(row, "")
	}
	rows = append(rows, row)
	row = []string{"total (head)", "", fmt.Sprint(est.Series)}
	if obs != nil {
		row = append(row, fmt.Sprint(obs.HeadSeries))
	}
	rows = append(rows, row)
	fmt.Fprintln(w, st.table(headers, rows))
	fmt.Fprintf(w, "  %.1f samples/s; memory for the head about %s (3 kB per series); disk %s to %s for %s of blocks (1-2 bytes per sample, +20%%) plus a WAL of about %s\n",
		est.SamplesPerSecond, bytesString(est.MemoryBytes), bytesString(est.DiskBytesLow), bytesString(est.DiskBytesHigh),
		promDurationString(est.Retention), bytesString(est.WALBytes))
	fmt.Fprintf(w, "  up to %d more series while alerts are pending or firing (ALERTS, ALERTS_FOR_STATE)\n", est.AlertSeries)
	for _, u := range est.Unbounded {
		fmt.Fprintln(w, st.warn.Render("warning: "+u+" has no bounded values: declare its Values, or MaxValues, in spec/investiq.go; it is counted once"))
	}
}

func realJob(obs *sizing.Observed, job string) string {
	if n, ok := obs.Jobs[job]; ok {
		return fmt.Sprint(n)
	}
	return "-"
}

// bytesString prints a size in SI units (kB, MB, GB), as disks are sold.
func bytesString(b float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	i := 0
	for b >= 1000 && i < len(units)-1 {
		b /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", b)
	}
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", b), "0"), ".") + " " + units[i]
}

func promDurationString(d time.Duration) string { return model.Duration(d).String() }
