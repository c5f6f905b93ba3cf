package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/cmdutil"
	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/internal/textsafe"
)

type statusOptions struct {
	f    *Factory
	JSON bool
	// output is -o/--output; JSON is set from it.
	output string
	stackLocation
}

func newCmdStatus(f *Factory, runF func(*statusOptions) error) *cobra.Command {
	opts := &statusOptions{f: f}
	cmd := &cobra.Command{
		Use: "status",
		Example: `  investiq-mon status
  investiq-mon status -o json`,
		Short: "Show the running stack: servers, targets, rules, alerts, InvestIQ's health",
		Long: `Ask the running stack (found through --state, else the compose ports of the
spec) for each component's state and version, every scrape target's health
and last error, the rule groups and their errors, pending and firing alerts,
InvestIQ's health row (dependencies, trading active or halted), and the
request and error rates of the last 15 minutes as sparklines.

--json prints the same as one JSON object; it never holds a credential.
Exits 1 when Prometheus or Alertmanager does not answer.`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.JSON = opts.output == outJSON
			if runF != nil {
				return runF(opts)
			}
			return statusRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	addOutputFlag(cmd, &opts.output, true, outJSON)
	opts.addFlags(fl)
	return cmd
}

func statusRun(cmd *cobra.Command, opts *statusOptions) error {
	f := opts.f
	s, ep, err := opts.endpoints(f)
	if err != nil {
		return err
	}
	l := opts.layout()
	st, _ := l.LoadState()
	composeFile := st.ComposeFile
	if ep.Backend == stack.Compose && composeFile == "" {
		// A compose stack started by hand: list its containers if the
		// generated file is there.
		if p := filepath.Join(opts.Dir, render.ComposeFile); fileExists(p) {
			composeFile = p
		}
	}
	r := stack.CollectStatus(cmd.Context(), ep, stack.StatusOptions{ComposeFile: composeFile, Components: s.Components()})
	sz := sizingStatus(cmd.Context(), s, ep) // status_sizing.go
	if opts.JSON {
		enc := json.NewEncoder(f.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			*stack.Report
			Sizing *statusSizing `json:"sizing"`
		}{r, sz}); err != nil {
			return err
		}
	} else {
		// Targets' errors, rule errors, labels and versions come from the
		// servers: escape them before they reach the terminal. (JSON
		// escapes them itself.)
		printable := *r
		textsafe.Deep(&printable)
		writeStatus(f.IO.Out, f.IO.ColorOut(), &printable, stack.Dependencies(s))
		if sz.Estimate != nil {
			writeSizing(f.IO.Out, f.IO.ColorOut(), sz.Estimate, sz.Observed)
		}
	}
	for _, c := range r.Components {
		if !c.Up && !c.Optional {
			return Exit(ExitError, fmt.Errorf("%s is down at %s", c.Name, textsafe.Line(c.URL)))
		}
	}
	return nil
}

// statusStyles colour the tables on a terminal; elsewhere they are plain
// (Ascii profile) so logs and pipes get no escape codes.
type statusStyles struct {
	r                    *lipgloss.Renderer
	title, head, ok, bad lipgloss.Style
	warn, dim            lipgloss.Style
	border               lipgloss.Border
	terminal             bool
}

func newStatusStyles(w io.Writer, terminal bool) statusStyles {
	r := lipgloss.NewRenderer(w)
	r.SetColorProfile(cmdutil.ColorProfile(w, terminal))
	border := lipgloss.RoundedBorder()
	if !terminal {
		border = lipgloss.ASCIIBorder()
	}
	return statusStyles{
		r:        r,
		title:    r.NewStyle().Bold(true),
		head:     r.NewStyle().Bold(true).Padding(0, 1),
		ok:       r.NewStyle().Foreground(lipgloss.Color("2")),
		bad:      r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		warn:     r.NewStyle().Foreground(lipgloss.Color("3")),
		dim:      r.NewStyle().Foreground(lipgloss.Color("8")),
		border:   border,
		terminal: terminal,
	}
}

func (st statusStyles) table(headers []string, rows [][]string) string {
	t := table.New().Border(st.border).BorderStyle(st.dim).Headers(headers...).Rows(rows...).
		StyleFunc(func(row, col int) lipgloss.Style {
			if row == table.HeaderRow {
				return st.head
			}
			return st.r.NewStyle().Padding(0, 1)
		})
	return t.Render()
}

// state colours a word by what it means: up/ok green, down/firing red,
// pending/unknown yellow.
func (st statusStyles) state(s string) string {
	switch s {
	case "up", "active", "ok", "running", "healthy", "inactive":
		return st.ok.Render(s)
	case "down", "firing", "halted", "exited", "unhealthy", "error":
		return st.bad.Render(s)
	default:
		return st.warn.Render(s)
	}
}

func writeStatus(w io.Writer, terminal bool, r *stack.Report, deps []string) {
	st := newStatusStyles(w, terminal)
	section := func(title string) { fmt.Fprintln(w, st.title.Render(title)) }

	section(fmt.Sprintf("Components (%s backend)", r.Backend))
	var rows [][]string
	for _, c := range r.Components {
		state := "down"
		if c.Up {
			state = "up"
		}
		rows = append(rows, []string{c.Name, st.state(state), c.Version, c.URL, c.Error})
	}
	fmt.Fprintln(w, st.table([]string{"COMPONENT", "STATE", "VERSION", "URL", "ERROR"}, rows))

	if len(r.Containers) > 0 {
		section("Containers")
		rows = nil
		for _, c := range r.Containers {
			rows = append(rows, []string{c.Service, st.state(c.State), c.Health, c.Status})
		}
		fmt.Fprintln(w, st.table([]string{"SERVICE", "STATE", "HEALTH", "STATUS"}, rows))
	}

	section("Scrape targets")
	rows = nil
	for _, t := range r.Targets {
		rows = append(rows, []string{t.Job, t.Instance, st.state(t.Health), ago(t.LastScrape), t.LastError})
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, st.dim.Render("  none yet: Prometheus discovers its targets a few seconds after it starts"))
	} else {
		fmt.Fprintln(w, st.table([]string{"JOB", "INSTANCE", "HEALTH", "LAST SCRAPE", "LAST ERROR"}, rows))
	}

	section("Rule groups")
	rows = nil
	for _, g := range r.RuleGroups {
		errs := st.ok.Render("none")
		if len(g.Errors) > 0 {
			errs = st.bad.Render(strings.Join(g.Errors, "; "))
		}
		rows = append(rows, []string{g.Name, fmt.Sprint(g.Rules), errs})
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, st.dim.Render("  no rule group loaded"))
	} else {
		fmt.Fprintln(w, st.table([]string{"GROUP", "RULES", "ERRORS"}, rows))
	}

	section("Alerts")
	rows = nil
	for _, a := range r.Alerts {
		rows = append(rows, []string{a.Name, st.state(a.State), a.Labels["severity"], ago(a.ActiveAt)})
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, st.ok.Render("  no alert pending or firing"))
	} else {
		fmt.Fprintln(w, st.table([]string{"ALERT", "STATE", "SEVERITY", "ACTIVE SINCE"}, rows))
	}

	section("InvestIQ health")
	head := append([]string{}, deps...)
	row := []string{}
	for _, d := range deps {
		up, known := r.Health.Dependencies[d]
		switch {
		case !known:
			row = append(row, st.state("unknown"))
		case up:
			row = append(row, st.state("up"))
		default:
			row = append(row, st.state("down"))
		}
	}
	head = append(head, "trading")
	row = append(row, st.state(r.Health.Trading))
	fmt.Fprintln(w, st.table(head, [][]string{row}))

	section(fmt.Sprintf("Traffic, last %s", r.Window))
	fmt.Fprintln(w, st.table([]string{"SERIES", "TREND", "NOW"}, [][]string{
		{"requests/s", sparkline(r.RequestRate), last(r.RequestRate)},
		{"errors/s", sparkline(r.ErrorRate), last(r.ErrorRate)},
	}))
	for _, e := range r.Errors {
		fmt.Fprintln(w, st.warn.Render("warning: "+e))
	}
}

var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws values from zero to their maximum as block characters;
// zero is the floor, so a flat healthy error rate reads as low, not as
// mid-height noise.
func sparkline(vs []float64) string {
	if len(vs) == 0 {
		return "no data"
	}
	max := 0.0
	for _, v := range vs {
		if !math.IsNaN(v) && v > max {
			max = v
		}
	}
	var b strings.Builder
	for _, v := range vs {
		i := 0
		if max > 0 && !math.IsNaN(v) {
			i = int(math.Round(v / max * float64(len(sparkBlocks)-1)))
		}
		b.WriteRune(sparkBlocks[i])
	}
	return b.String()
}

func last(vs []float64) string {
	if len(vs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", vs[len(vs)-1])
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return now().Sub(t).Round(time.Second).String() + " ago"
}
