package promtest

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

func TestDecodeIsStrictAsPromtool(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"a minimal file decodes", "rule_files: [r.yml]\ntests:\n  - interval: 1m\n", ""},
		{"an empty file is no test at all", "", ""},
		{"an unknown key is an error with its line", "rule_files: []\ntests:\n  - interval: 1m\n    owner: me\n", "line 4: field owner not found"},
		{"a repeated key is an error", "tests:\n  - name: a\n    name: b\n", "field name already set"},
		{"a bad duration is an error", "tests:\n  - interval: 1 minute\n", `unknown unit " minute"`},
		{"a bad start_timestamp is an error", "tests:\n  - start_timestamp: yesterday\n", `cannot parse "yesterday" to a valid timestamp`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.in))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestStartTimestampTakesUnixSecondsAndRFC3339(t *testing.T) {
	for in, want := range map[string]time.Time{
		"1700000000":           time.Unix(1700000000, 0).UTC(),
		"1700000000.5":         time.Unix(1700000000, 5e8).UTC(),
		"2024-01-01T00:00:00Z": time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		f, err := Decode([]byte("tests:\n  - start_timestamp: " + in + "\n"))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := f.Tests[0].StartTimestamp.Time; !got.Equal(want) {
			t.Errorf("%s: got %v, want %v", in, got, want)
		}
	}
}

// render encodes File with yaml v3: the fields it does not set must not
// appear, and what it writes must decode back to the same value.
func TestEncodedFileLeavesOutUnsetFieldsAndRoundTrips(t *testing.T) {
	in := File{
		RuleFiles:          []string{"alert_rules.yml"},
		EvaluationInterval: model.Duration(10 * time.Second),
		Tests: []TestGroup{{
			Name:        "Down/fires",
			Interval:    model.Duration(time.Minute),
			InputSeries: []Series{{Series: `up{job="a"}`, Values: "0x10"}},
			AlertRuleTests: []AlertTestCase{{EvalTime: model.Duration(5 * time.Minute), Alertname: "Down",
				ExpAlerts: []ExpAlert{{ExpLabels: map[string]string{"job": "a"}, ExpAnnotations: map[string]string{"summary": "s"}}}}},
			PromqlExprTests: []PromqlTestCase{{Expr: "up", EvalTime: model.Duration(time.Minute),
				ExpSamples: []Sample{{Labels: `up{job="a"}`, Value: 0}}}},
		}},
	}
	out, err := yaml.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"group_eval_order", "fuzzy_compare", "external_labels", "external_url", "start_timestamp", "histogram"} {
		if strings.Contains(string(out), absent) {
			t.Errorf("encoded file carries %s:\n%s", absent, out)
		}
	}
	back, err := Decode(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	again, err := yaml.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(out) {
		t.Errorf("round trip changed the file:\n%s\nthen:\n%s", out, again)
	}
}
