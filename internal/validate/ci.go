package validate

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
)

// The CI report formats: the findings as GitHub Actions, Checkstyle
// consumers (reviewdog, Jenkins' warnings-ng), code scanning (SARIF) and
// test reporters (JUnit) read them. Every one carries every finding, its
// position, severity and check id.

// WriteGitHub writes one workflow command per finding (::error,
// ::warning or ::notice), which GitHub Actions turns into an annotation
// on the file and line.
func WriteGitHub(w io.Writer, r *Result) error {
	for _, f := range r.Findings {
		cmd := map[Severity]string{Error: "error", Warning: "warning", Info: "notice"}[f.Severity]
		line, col := position(f)
		if _, err := fmt.Fprintf(w, "::%s file=%s,line=%d,col=%d,title=%s::%s\n", cmd,
			ghProperty(f.Path), line, col, ghProperty(f.Check), ghData(f.Message)); err != nil {
			return err
		}
	}
	return nil
}

// ghData escapes a workflow command's message as the Actions toolkit
// does: %, CR and LF.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a property value: the message's escapes, and the
// separators : and ,.
func ghProperty(s string) string {
	return strings.NewReplacer(":", "%3A", ",", "%2C").Replace(ghData(s))
}

func position(f Finding) (int, int) {
	line, col := f.Line, f.Col
	if line < 1 {
		line, col = 1, 1
	}
	if col < 1 {
		col = 1
	}
	return line, col
}

type checkstyleReport struct {
	XMLName xml.Name         `xml:"checkstyle"`
	Version string           `xml:"version,attr"`
	Files   []checkstyleFile `xml:"file"`
}

type checkstyleFile struct {
	Name   string            `xml:"name,attr"`
	Errors []checkstyleError `xml:"error"`
}

type checkstyleError struct {
	Line     int    `xml:"line,attr"`
	Column   int    `xml:"column,attr"`
	Severity string `xml:"severity,attr"`
	Message  string `xml:"message,attr"`
	Source   string `xml:"source,attr"`
}

// WriteCheckstyle writes Checkstyle's XML report: a file element per file
// checked, an error element per finding (severity error, warning or info).
func WriteCheckstyle(w io.Writer, r *Result) error {
	rep := checkstyleReport{Version: "4.3"}
	idx := map[string]int{}
	for _, p := range r.Files {
		idx[p] = len(rep.Files)
		rep.Files = append(rep.Files, checkstyleFile{Name: p})
	}
	for _, f := range r.Findings {
		i, ok := idx[f.Path]
		if !ok {
			i = len(rep.Files)
			idx[f.Path] = i
			rep.Files = append(rep.Files, checkstyleFile{Name: f.Path})
		}
		line, col := position(f)
		rep.Files[i].Errors = append(rep.Files[i].Errors, checkstyleError{
			Line: line, Column: col, Severity: string(f.Severity), Message: f.Message, Source: "investiq-mon." + f.Check,
		})
	}
	return writeXML(w, rep)
}

func writeXML(w io.Writer, v any) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// SARIF 2.1.0, the subset code scanning reads: one run, the tool with
// every check as a rule, one result per finding.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	ShortDescription sarifMessage `json:"shortDescription"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
}

// SARIFSchema is the schema the report names.
const SARIFSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// WriteSARIF writes a SARIF 2.1.0 log (GitHub code scanning's upload).
func WriteSARIF(w io.Writer, r *Result) error {
	run := sarifRun{
		Tool:    sarifTool{Driver: sarifDriver{Name: "investiq-mon", InformationURI: "https://github.com/investiq/investiq-mon"}},
		Results: []sarifResult{},
	}
	rules := map[string]int{}
	for _, c := range Checks {
		rules[c.ID] = len(run.Tool.Driver.Rules)
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: c.ID, ShortDescription: sarifMessage{Text: strings.ReplaceAll(c.Doc, "`", "")}})
	}
	for _, f := range r.Findings {
		i, ok := rules[f.Check]
		if !ok {
			i = len(run.Tool.Driver.Rules)
			rules[f.Check] = i
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: f.Check, ShortDescription: sarifMessage{Text: f.Check}})
		}
		line, col := position(f)
		run.Results = append(run.Results, sarifResult{
			RuleID: f.Check, RuleIndex: i,
			Level:   map[Severity]string{Error: "error", Warning: "warning", Info: "note"}[f.Severity],
			Message: sarifMessage{Text: f.Message},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifact{URI: strings.ReplaceAll(f.Path, "\\", "/")},
				Region:           sarifRegion{StartLine: line, StartColumn: col},
			}}},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes a JUnit XML report: a test suite per file, a test
// case per file that passed and per finding. Errors, and warnings with
// lintFatal, are failures; other findings pass with their text in
// system-out, so the report fails exactly when the exit code does.
func WriteJUnit(w io.Writer, r *Result, lintFatal bool) error {
	rep := junitSuites{Name: "investiq-mon validate"}
	byPath := map[string][]Finding{}
	paths := append([]string(nil), r.Files...)
	for _, f := range r.Findings {
		if _, ok := byPath[f.Path]; !ok && !slices.Contains(paths, f.Path) {
			paths = append(paths, f.Path)
		}
		byPath[f.Path] = append(byPath[f.Path], f)
	}
	for _, p := range paths {
		s := junitSuite{Name: p}
		for _, f := range byPath[p] {
			c := junitCase{Name: f.String(), Classname: f.Check}
			if f.Severity == Error || (f.Severity == Warning && lintFatal) {
				c.Failure = &junitFailure{Message: f.Message, Type: string(f.Severity), Text: f.String()}
				s.Failures++
			} else {
				c.SystemOut = f.String()
			}
			s.Cases = append(s.Cases, c)
		}
		if len(s.Cases) == 0 {
			s.Cases = append(s.Cases, junitCase{Name: p + ": no findings", Classname: "validate"})
		}
		s.Tests = len(s.Cases)
		rep.Tests += s.Tests
		rep.Failures += s.Failures
		rep.Suites = append(rep.Suites, s)
	}
	return writeXML(w, rep)
}
