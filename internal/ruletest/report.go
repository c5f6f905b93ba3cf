package ruletest

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/prometheus/common/model"
)

// Summary counts groups across files.
type Summary struct {
	Files, Groups, Failed int
	// FileErrors are files that could not run at all.
	FileErrors int
}

// Summarize counts the results.
func Summarize(results []FileResult) Summary {
	var s Summary
	for _, r := range results {
		s.Files++
		if r.Err != nil {
			s.FileErrors++
		}
		for _, g := range r.Groups {
			s.Groups++
			if g.Failed() {
				s.Failed++
			}
		}
	}
	return s
}

// OK says whether every file ran and every group passed.
func (s Summary) OK() bool { return s.Failed == 0 && s.FileErrors == 0 }

// WriteText writes a report a person reads: each failure with a diff of
// what was expected against what was got. verbose also lists the groups
// that passed.
func WriteText(w io.Writer, results []FileResult, verbose bool) {
	for _, r := range results {
		for _, warn := range r.Warnings {
			fmt.Fprintf(w, "WARN  %s: %s\n", r.Path, warn)
		}
		if r.Err != nil {
			fmt.Fprintf(w, "FAIL  %s\n    %s\n", r.Path, indent(r.Err.Error(), "    "))
			continue
		}
		for _, g := range r.Groups {
			if !g.Failed() {
				if verbose {
					fmt.Fprintf(w, "ok    %s: %s (%s)\n", r.Path, g.Name, g.Duration.Round(time.Millisecond))
				}
				continue
			}
			fmt.Fprintf(w, "FAIL  %s: %s\n", r.Path, g.Name)
			for _, f := range g.Failures {
				fmt.Fprintln(w, "    "+indent(f.String(), "    "))
			}
		}
	}
}

// String says what failed and, for a wrong result, shows a unified diff
// from expected to got.
func (f Failure) String() string {
	if f.Err != nil {
		return f.Err.Error()
	}
	var what string
	if f.Alertname != "" {
		what = fmt.Sprintf("alertname: %s, time: %s", f.Alertname, model.Duration(f.EvalTime))
	} else {
		what = fmt.Sprintf("expr: %q, time: %s", f.Expr, model.Duration(f.EvalTime))
	}
	diff, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        lines(f.Want),
		B:        lines(f.Got),
		FromFile: "expected",
		ToFile:   "got",
		Context:  3,
	})
	if err != nil || diff == "" {
		// Equal text but unequal values (NaN, or a float that prints the
		// same): show both sides whole.
		diff = "expected:\n  " + strings.Join(f.Want, "\n  ") + "\ngot:\n  " + strings.Join(f.Got, "\n  ") + "\n"
	}
	return what + "\n" + strings.TrimRight(diff, "\n")
}

func lines(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s + "\n"
	}
	return out
}

func indent(s, prefix string) string {
	return strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// JUnit XML, in the shape CI servers read (Jenkins, GitLab, GitHub
// actions): one testsuite per file, one testcase per group.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Tests   int          `xml:"tests,attr"`
	Failed  int          `xml:"failures,attr"`
	Errors  int          `xml:"errors,attr"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",cdata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes the results as JUnit XML. A file that could not run
// is one testcase with an error.
func WriteJUnit(w io.Writer, results []FileResult) error {
	var doc junitSuites
	for _, r := range results {
		s := junitSuite{Name: r.Path}
		if r.Err != nil {
			s.Tests, s.Errors = 1, 1
			s.Cases = append(s.Cases, junitCase{Name: r.Path, Classname: r.Path, Time: seconds(0),
				Error: &junitMessage{Message: "test file did not run", Text: r.Err.Error()}})
		}
		var total time.Duration
		for _, g := range r.Groups {
			s.Tests++
			total += g.Duration
			c := junitCase{Name: g.Name, Classname: r.Path, Time: seconds(g.Duration)}
			if g.Failed() {
				s.Failures++
				text := make([]string, len(g.Failures))
				for i, f := range g.Failures {
					text[i] = f.String()
				}
				c.Failure = &junitMessage{
					Message: fmt.Sprintf("%d check(s) failed", len(g.Failures)),
					Text:    strings.Join(text, "\n\n"),
				}
			}
			s.Cases = append(s.Cases, c)
		}
		s.Time = seconds(total)
		doc.Tests += s.Tests
		doc.Failed += s.Failures
		doc.Errors += s.Errors
		doc.Suites = append(doc.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
