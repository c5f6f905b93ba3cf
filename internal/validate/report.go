package validate

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteText writes one line per finding, `path:line:col: severity:
// message [check]`, the form editors and CI annotate from.
func WriteText(w io.Writer, r *Result) error {
	for _, f := range r.Findings {
		if _, err := fmt.Fprintln(w, f.String()); err != nil {
			return err
		}
	}
	return nil
}

// jsonReport is the --format json document. Its field names are a
// contract with the scripts that read it.
type jsonReport struct {
	Files    []string  `json:"files"`
	Errors   int       `json:"errors"`
	Warnings int       `json:"warnings"`
	Infos    int       `json:"infos"`
	Findings []Finding `json:"findings"`
}

// WriteJSON writes the whole result as one JSON document.
func WriteJSON(w io.Writer, r *Result) error {
	rep := jsonReport{Files: r.Files, Errors: r.Errors(), Warnings: r.Warnings(), Infos: r.Infos(), Findings: r.Findings}
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
	if rep.Files == nil {
		rep.Files = []string{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // messages quote PromQL: keep < and > readable
	return enc.Encode(rep)
}
