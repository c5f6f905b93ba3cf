package validate

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"regexp"
	"strings"
	"testing"

	junit "github.com/joshdk/go-junit"
	"github.com/owenrumney/go-sarif/v2/sarif"
)

// ciResult has an error, a warning and a note, in two files of three,
// with characters each format must escape.
func ciResult() *Result {
	return &Result{
		Files: []string{"mon/a.yml", "mon/b,c.yml", "mon/clean.yml"},
		Findings: []Finding{
			{Path: "mon/a.yml", Line: 6, Col: 24, Severity: Error, Check: "promql/unknown-metric", Message: "metric x is not declared: 100% sure <&> \"q\"\nsecond line"},
			{Path: "mon/a.yml", Line: 0, Col: 0, Severity: Warning, Check: "security/secret-file-mode", Message: "mode 0644: chmod 600"},
			{Path: "mon/b,c.yml", Line: 3, Col: 1, Severity: Info, Check: "compose/unset-variable", Message: "X: not set"},
		},
	}
}

// SARIF, read back by go-sarif (the library GitHub's tooling in Go
// uses), strictly: a field it does not know would be a misspelling.
func TestSARIFReadsBackWithGoSarif(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSARIF(&b, ciResult()); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b.Bytes()))
	dec.DisallowUnknownFields()
	var rep sarif.Report
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("go-sarif cannot read the report strictly: %v\n%s", err, b.String())
	}
	if _, err := sarif.FromBytes(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	if rep.Version != "2.1.0" || rep.Schema != SARIFSchema || len(rep.Runs) != 1 {
		t.Fatalf("version %q schema %q runs %d", rep.Version, rep.Schema, len(rep.Runs))
	}
	run := rep.Runs[0]
	if run.Tool.Driver.Name != "investiq-mon" || len(run.Tool.Driver.Rules) < len(Checks) {
		t.Fatalf("driver %q with %d rules", run.Tool.Driver.Name, len(run.Tool.Driver.Rules))
	}
	want := []struct {
		rule, level, uri string
		line, col        int
	}{
		{"promql/unknown-metric", "error", "mon/a.yml", 6, 24},
		{"security/secret-file-mode", "warning", "mon/a.yml", 1, 1},
		{"compose/unset-variable", "note", "mon/b,c.yml", 3, 1},
	}
	if len(run.Results) != len(want) {
		t.Fatalf("%d results, want %d", len(run.Results), len(want))
	}
	for i, w := range want {
		r := run.Results[i]
		loc := r.Locations[0].PhysicalLocation
		if *r.RuleID != w.rule || *r.Level != w.level || *loc.ArtifactLocation.URI != w.uri || *loc.Region.StartLine != w.line || *loc.Region.StartColumn != w.col {
			t.Errorf("result %d: %s %s %s:%d:%d, want %+v", i, *r.RuleID, *r.Level, *loc.ArtifactLocation.URI, *loc.Region.StartLine, *loc.Region.StartColumn, w)
		}
		if got := run.Tool.Driver.Rules[*r.RuleIndex].ID; got != w.rule {
			t.Errorf("result %d: ruleIndex points at %s", i, got)
		}
	}
	if got := *run.Results[0].Message.Text; got != ciResult().Findings[0].Message {
		t.Errorf("message %q", got)
	}
}

// JUnit, read by go-junit (the parser CI reporters in Go use): a suite
// per file, a failure per error, and warnings fail only with lint-fatal.
func TestJUnitReadsBackWithGoJunit(t *testing.T) {
	for _, lintFatal := range []bool{false, true} {
		var b bytes.Buffer
		if err := WriteJUnit(&b, ciResult(), lintFatal); err != nil {
			t.Fatal(err)
		}
		suites, err := junit.Ingest(b.Bytes())
		if err != nil {
			t.Fatalf("go-junit: %v\n%s", err, b.String())
		}
		if len(suites) != 3 {
			t.Fatalf("%d suites, want 3 (one per file)", len(suites))
		}
		failed := 0
		for _, s := range suites {
			failed += s.Totals.Failed
		}
		want := 1
		if lintFatal {
			want = 2
		}
		if failed != want {
			t.Errorf("lintFatal=%v: %d failures, want %d\n%s", lintFatal, failed, want, b.String())
		}
		a := suites[0]
		if a.Name != "mon/a.yml" || len(a.Tests) != 2 || a.Tests[0].Status != junit.StatusFailed || a.Tests[0].Classname != "promql/unknown-metric" {
			t.Fatalf("suite a: %+v", a)
		}
		if !strings.Contains(a.Tests[0].Error.Error(), "100% sure <&>") {
			t.Errorf("failure text lost the message: %v", a.Tests[0].Error)
		}
		if c := suites[2]; c.Name != "mon/clean.yml" || len(c.Tests) != 1 || c.Tests[0].Status != junit.StatusPassed {
			t.Errorf("a clean file is one passing case: %+v", c)
		}
	}
}

// Checkstyle has no Go consumer in the module proxy: its XML is read
// back with encoding/xml into the element names reviewdog and
// warnings-ng read (checkstyle/file@name/error@line,column,severity,
// message,source), and must round-trip every finding.
func TestCheckstyleRoundTrips(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCheckstyle(&b, ciResult()); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		XMLName xml.Name `xml:"checkstyle"`
		Files   []struct {
			Name   string `xml:"name,attr"`
			Errors []struct {
				Line     int    `xml:"line,attr"`
				Column   int    `xml:"column,attr"`
				Severity string `xml:"severity,attr"`
				Message  string `xml:"message,attr"`
				Source   string `xml:"source,attr"`
			} `xml:"error"`
		} `xml:"file"`
	}
	if err := xml.Unmarshal(b.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 3 || rep.Files[0].Name != "mon/a.yml" || len(rep.Files[0].Errors) != 2 || len(rep.Files[2].Errors) != 0 {
		t.Fatalf("%+v", rep)
	}
	e := rep.Files[0].Errors[0]
	if e.Line != 6 || e.Column != 24 || e.Severity != "error" || e.Source != "investiq-mon.promql/unknown-metric" || e.Message != ciResult().Findings[0].Message {
		t.Fatalf("%+v", e)
	}
	if s := rep.Files[1].Errors[0].Severity; s != "info" {
		t.Fatalf("a note is severity %q", s)
	}
}

// GitHub workflow commands, parsed as the Actions runner does: the
// command, then comma-separated key=value properties, then :: and the
// message, with %XX escapes undone.
func TestGitHubAnnotationsParse(t *testing.T) {
	var b bytes.Buffer
	if err := WriteGitHub(&b, ciResult()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("want one line per finding:\n%s", b.String())
	}
	cmdRe := regexp.MustCompile(`^::([a-z]+) ([^:]*)::(.*)$`)
	unescape := strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%")
	for i, f := range ciResult().Findings {
		m := cmdRe.FindStringSubmatch(lines[i])
		if m == nil {
			t.Fatalf("not a workflow command: %q", lines[i])
		}
		props := map[string]string{}
		for _, kv := range strings.Split(m[2], ",") {
			k, v, _ := strings.Cut(kv, "=")
			props[k] = unescape.Replace(v)
		}
		line, col := position(f)
		want := map[Severity]string{Error: "error", Warning: "warning", Info: "notice"}[f.Severity]
		if m[1] != want || props["file"] != f.Path || props["line"] != itoa(line) || props["col"] != itoa(col) || props["title"] != f.Check {
			t.Errorf("line %d: %s %v", i, m[1], props)
		}
		if got := unescape.Replace(m[3]); got != f.Message {
			t.Errorf("message %q, want %q", got, f.Message)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
