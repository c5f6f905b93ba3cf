package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/investiq/investiq-mon/internal/ruletest"
	"github.com/investiq/investiq-mon/internal/validate"
)

// writeTestOutput writes test results in a machine format: json, junit,
// or as findings (one per failing group, at its `name:` line) for the CI
// formats validate shares.
func writeTestOutput(w io.Writer, format string, src ruletest.Source, results []ruletest.FileResult) error {
	switch format {
	case outJUnit:
		return ruletest.WriteJUnit(w, results)
	case outJSON:
		return writeTestJSON(w, results)
	}
	res := testFindings(src, results)
	switch format {
	case outGitHub:
		return validate.WriteGitHub(w, res)
	case outCheckstyle:
		return validate.WriteCheckstyle(w, res)
	case outSARIF:
		return validate.WriteSARIF(w, res)
	}
	return fmt.Errorf("unknown output format %q", format)
}

// testJSON is -o json of test; its field names are a contract.
type testJSON struct {
	Passed int            `json:"passed"`
	Failed int            `json:"failed"`
	Files  []testJSONFile `json:"files"`
}

type testJSONFile struct {
	Path     string          `json:"path"`
	Error    string          `json:"error,omitempty"`
	Warnings []string        `json:"warnings,omitempty"`
	Groups   []testJSONGroup `json:"groups"`
}

type testJSONGroup struct {
	Name     string   `json:"name"`
	Passed   bool     `json:"passed"`
	Seconds  float64  `json:"seconds"`
	Failures []string `json:"failures,omitempty"`
}

func writeTestJSON(w io.Writer, results []ruletest.FileResult) error {
	out := testJSON{Files: []testJSONFile{}}
	for _, r := range results {
		f := testJSONFile{Path: r.Path, Warnings: r.Warnings, Groups: []testJSONGroup{}}
		if r.Err != nil {
			f.Error = r.Err.Error()
		}
		for _, g := range r.Groups {
			jg := testJSONGroup{Name: g.Name, Passed: !g.Failed(), Seconds: g.Duration.Seconds()}
			for _, fl := range g.Failures {
				jg.Failures = append(jg.Failures, fl.String())
			}
			if g.Failed() {
				out.Failed++
			} else {
				out.Passed++
			}
			f.Groups = append(f.Groups, jg)
		}
		out.Files = append(out.Files, f)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// testFindings turns failures into findings: test/failed at the failing
// group's `name:` line, test/file-error for a file that could not run,
// test/warning for promtool's warnings.
func testFindings(src ruletest.Source, results []ruletest.FileResult) *validate.Result {
	res := &validate.Result{}
	for _, r := range results {
		res.Files = append(res.Files, r.Path)
		for _, warn := range r.Warnings {
			res.Findings = append(res.Findings, validate.Finding{Path: r.Path, Severity: validate.Warning, Check: "test/warning", Message: warn})
		}
		if r.Err != nil {
			res.Findings = append(res.Findings, validate.Finding{Path: r.Path, Severity: validate.Error, Check: "test/file-error", Message: r.Err.Error()})
			continue
		}
		var lines map[string][2]int
		for _, g := range r.Groups {
			if !g.Failed() {
				continue
			}
			if lines == nil {
				lines = groupLines(src, r.Path)
			}
			var msg []string
			for _, fl := range g.Failures {
				msg = append(msg, fl.String())
			}
			pos := lines[g.Name]
			res.Findings = append(res.Findings, validate.Finding{
				Path: r.Path, Line: pos[0], Col: pos[1], Severity: validate.Error, Check: "test/failed",
				Message: "test group " + g.Name + " failed:\n" + strings.Join(msg, "\n"),
			})
		}
	}
	return res
}

// groupLines finds each test group's name: in a promtool test file.
func groupLines(src ruletest.Source, path string) map[string][2]int {
	out := map[string][2]int{}
	data, err := src.ReadFile(path)
	if err != nil {
		return out
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return out
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "tests" {
			continue
		}
		for _, g := range root.Content[i+1].Content {
			for j := 0; j+1 < len(g.Content); j += 2 {
				if g.Content[j].Value == "name" {
					out[g.Content[j+1].Value] = [2]int{g.Content[j].Line, g.Content[j].Column}
				}
			}
		}
	}
	return out
}
