package doctor

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/investiq/investiq-mon/internal/textsafe"
)

var (
	passStyle = lipgloss.NewStyle().Foreground(lipgloss.Color("2")).Bold(true)
	failStyle = lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true)
	skipStyle = lipgloss.NewStyle().Foreground(lipgloss.Color("3")).Bold(true)
)

// Write prints the results as a person reads them: one line per check
// with its verdict, the details indented below, and the fix. Colour only
// when color is set (a terminal). Summaries and details quote what the
// servers and the API answered, so every control character in them is
// escaped first.
func Write(w io.Writer, results []Result, color bool) {
	results = slices.Clone(results)
	textsafe.Deep(&results)
	for _, r := range results {
		verdict := strings.ToUpper(string(r.Status))
		if color {
			switch r.Status {
			case Pass:
				verdict = passStyle.Render(verdict)
			case Fail:
				verdict = failStyle.Render(verdict)
			default:
				verdict = skipStyle.Render(verdict)
			}
		}
		fmt.Fprintf(w, "%s  %s: %s\n", verdict, r.Title, r.Summary)
		for _, d := range r.Details {
			fmt.Fprintf(w, "      - %s\n", d)
		}
		if r.Status != Pass && r.Fix != "" {
			fmt.Fprintf(w, "      fix: %s\n", r.Fix)
		}
	}
	var pass, fail, skip int
	for _, r := range results {
		switch r.Status {
		case Pass:
			pass++
		case Fail:
			fail++
		default:
			skip++
		}
	}
	fmt.Fprintf(w, "%d checks: %d passed, %d failed, %d skipped\n", len(results), pass, fail, skip)
}
