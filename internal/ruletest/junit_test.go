package ruletest_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	junit "github.com/joshdk/go-junit"

	"github.com/investiq/investiq-mon/internal/ruletest"
)

// The JUnit report, read by go-junit (a real consumer's parser): one
// suite per file, a failed case per failing group with its diff.
func TestJUnitReadsBackWithGoJunit(t *testing.T) {
	results := []ruletest.FileResult{{Path: "a_test.yml", Groups: []ruletest.GroupResult{
		{Name: "ok group"},
		{Name: "bad group", Failures: []ruletest.Failure{{Alertname: "X", Want: []string{"{a=\"1\"}"}, Got: nil}}},
	}}, {Path: "broken_test.yml", Err: errors.New("cannot read")}}
	var b bytes.Buffer
	if err := ruletest.WriteJUnit(&b, results); err != nil {
		t.Fatal(err)
	}
	suites, err := junit.Ingest(b.Bytes())
	if err != nil {
		t.Fatalf("go-junit: %v\n%s", err, b.String())
	}
	if len(suites) != 2 || suites[0].Name != "a_test.yml" || len(suites[0].Tests) != 2 {
		t.Fatalf("%+v", suites)
	}
	if suites[0].Tests[0].Status != junit.StatusPassed || suites[0].Tests[1].Status != junit.StatusFailed {
		t.Fatalf("statuses: %s %s", suites[0].Tests[0].Status, suites[0].Tests[1].Status)
	}
	if !strings.Contains(suites[0].Tests[1].Error.Error(), `{a="1"}`) {
		t.Errorf("the failure lost its diff: %v", suites[0].Tests[1].Error)
	}
	if suites[1].Totals.Failed+suites[1].Totals.Error == 0 {
		t.Errorf("a file that could not run is not a failure: %+v", suites[1])
	}
}
