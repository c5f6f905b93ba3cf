package doctor

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/investiq/investiq-mon/internal/textsafe"
)

// Write prints the results as a person reads them: one line per check
// with its verdict, the details indented below, and the fix, coloured
// as profile allows (termenv.Ascii: none). Summaries and details quote what the
// servers and the API answered, so every control character in them is
// escaped first.
func Write(w io.Writer, results []Result, profile termenv.Profile) {
	rd := lipgloss.NewRenderer(w)
	rd.SetColorProfile(profile)
	color := profile != termenv.Ascii
	passStyle := rd.NewStyle().Foreground(lipgloss.Color("2")).Bold(true)
	failStyle := rd.NewStyle().Foreground(lipgloss.Color("1")).Bold(true)
	skipStyle := rd.NewStyle().Foreground(lipgloss.Color("3")).Bold(true)
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
