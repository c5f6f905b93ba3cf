package settings

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/spec"
)

func TestParseReadsEverySetting(t *testing.T) {
	data := `retention: 30d
api_address: 10.0.0.5:3000
ml_address: ml:9000
api_scrape_interval: 5s
ml_scrape_interval: 1m
evaluation_interval: 15s
publish_address: 0.0.0.0
ports:
  prometheus: 19090
  alertmanager: 19093
  grafana: 13001
`
	got, err := Parse("s.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := spec.Settings{
		Retention: 30 * 24 * time.Hour, APIAddress: "10.0.0.5:3000", MLAddress: "ml:9000",
		APIScrapeInterval: 5 * time.Second, MLScrapeInterval: time.Minute, EvaluationInterval: 15 * time.Second,
		PublishAddress: "0.0.0.0", PrometheusPort: 19090, AlertmanagerPort: 19093, GrafanaPort: 13001,
	}
	if got != want {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	s := spec.InvestIQ(got)
	if s.Retention != want.Retention || s.Ports.Grafana != 13001 || s.PublishAddress != "0.0.0.0" || s.EvaluationInterval != 15*time.Second {
		t.Fatalf("the spec does not carry the settings: %+v", s)
	}
}

func TestParseRefusesWithFileLineAndFix(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		want []string // regexps, one per problem, in order
	}{
		{"an unknown key, as a typo", "retention: 30d\nretension: 30d\n",
			[]string{`^s\.yaml:2:1: unknown setting "retension": the settings are retention, api_address`}},
		{"a duration without its unit", "retention: 30\n",
			[]string{`^s\.yaml:1:1: retention: "30" is not a positive duration: write it as Prometheus does, such as 30s, 15d or 2w$`}},
		{"a URL instead of host:port", "evaluation_interval: 10s\napi_address: http://api:3000/metrics\n",
			[]string{`^s\.yaml:2:1: api_address: "http://api:3000/metrics" is not host:port`}},
		{"every problem, not only the first", "retention: 0s\nml_address: ml\npublish_address: localhost\n",
			[]string{`^s\.yaml:1:1: retention:`, `^s\.yaml:2:1: ml_address:`, `^s\.yaml:3:1: publish_address: "localhost" is not an IP address`}},
		{"two servers on one port", "ports:\n  prometheus: 9000\n  grafana: 9000\n",
			[]string{`^s\.yaml:3:3: ports\.grafana: 9000 is also the port of prometheus`}},
		{"a port that is not a number", "ports:\n  prometheus: high\n",
			[]string{`^s\.yaml:2: cannot unmarshal !!str .high. into int: not a port number: use 1-65535$`}},
		{"a list instead of a mapping", "- retention: 30d\n",
			[]string{`^s\.yaml:1:1: the settings file is a mapping`}},
		{"broken YAML", "retention: [30d\n",
			[]string{`^s\.yaml:1: not valid YAML: did not find expected`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(tc.data))
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("want *Error, got %v", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("want %d problems, got:\n%s", len(tc.want), err)
			}
			for i, w := range tc.want {
				if !regexp.MustCompile(w).MatchString(lines[i]) {
					t.Errorf("problem %d:\n got %s\nwant %s", i, lines[i], w)
				}
			}
		})
	}
}

// The default file changes nothing as written, and uncommented it is
// exactly InvestIQ's defaults: the comments cannot drift from the code.
func TestDefaultFileIsTheDefaults(t *testing.T) {
	def := Default()
	got, err := Parse("d.yaml", def)
	if err != nil {
		t.Fatal(err)
	}
	if got != (spec.Settings{}) {
		t.Fatalf("the commented default sets something: %+v", got)
	}
	var un []string
	for _, l := range strings.Split(string(def), "\n") {
		if rest, ok := strings.CutPrefix(l, "# "); ok && regexp.MustCompile(`^\s*[a-z_]+:`).MatchString(rest) {
			un = append(un, rest)
		}
	}
	got, err = Parse("d.yaml", []byte(strings.Join(un, "\n")))
	if err != nil {
		t.Fatalf("uncommented default: %v\n%s", err, strings.Join(un, "\n"))
	}
	want := spec.DefaultSettings()
	// How the stack reaches its own servers is not a setting.
	want.PrometheusAddress, want.AlertmanagerAddress = "", ""
	if got != want {
		t.Fatalf("uncommented default\n got %+v\nwant %+v", got, want)
	}
	for _, k := range Keys {
		leaf := k[strings.LastIndex(k, ".")+1:]
		if !strings.Contains(string(def), leaf+":") {
			t.Errorf("the default file does not show %s", k)
		}
	}
}

func TestLoadMissingFileIsTheDefaults(t *testing.T) {
	dir := t.TempDir()
	l, err := Load(dir)
	if err != nil || l.Exists || l.Settings != (spec.Settings{}) {
		t.Fatalf("Load of a dir without settings: %+v, %v", l, err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("retention: 30d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err = Load(dir)
	if err != nil || !l.Exists || l.Settings.Retention != 30*24*time.Hour {
		t.Fatalf("Load: %+v, %v", l, err)
	}
}

func TestMergeSaysWhichFlagOverrides(t *testing.T) {
	l := Loaded{Path: "monitoring/investiq-mon.yaml", Exists: true, Settings: spec.Settings{Retention: 30 * 24 * time.Hour}}
	flags := spec.Settings{Retention: 7 * 24 * time.Hour, APIAddress: "api-server:3000"}
	changed := func(f string) bool { return f == "retention" || f == "api-address" }
	set, notes := Merge(l, flags, changed)
	if set.Retention != 7*24*time.Hour || set.APIAddress != "api-server:3000" {
		t.Fatalf("flags not applied: %+v", set)
	}
	// --api-address equals the default the file leaves: nothing to say.
	if len(notes) != 1 || notes[0] != "--retention 1w overrides retention: 30d in monitoring/investiq-mon.yaml for this run only; to keep it, set it in monitoring/investiq-mon.yaml" {
		t.Fatalf("notes: %q", notes)
	}
	_, notes = Merge(Loaded{Path: "m/investiq-mon.yaml"}, flags, changed)
	if len(notes) != 1 || !strings.Contains(notes[0], "retention: 15d (the default; there is no m/investiq-mon.yaml)") {
		t.Fatalf("notes without a file: %q", notes)
	}
	set, notes = Merge(l, flags, func(string) bool { return false })
	if set != l.Settings || notes != nil {
		t.Fatalf("no flag given: %+v %q", set, notes)
	}
}
