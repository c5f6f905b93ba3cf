package routes_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/common/model"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/routes"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// renderAM writes the alertmanager.yml the spec renders and returns its path.
func renderAM(t *testing.T, s *spec.Spec) string {
	t.Helper()
	files, err := render.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Path == render.AlertmanagerConfig {
			p := filepath.Join(t.TempDir(), "alertmanager.yml")
			if err := os.WriteFile(p, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	t.Fatal("no alertmanager.yml rendered")
	return ""
}

// labelArgs writes a label set as sorted name=value arguments.
func labelArgs(ls model.LabelSet) []string {
	var args []string
	for k, v := range ls {
		args = append(args, string(k)+"="+string(v))
	}
	sort.Strings(args)
	return args
}

// paths are every receiver path of the spec: each severity, none, and
// every alert (the SLO alerts too) with the labels its rule attaches.
func paths(s *spec.Spec) map[string]model.LabelSet {
	out := map[string]model.LabelSet{
		"a critical alert":        {"severity": "critical"},
		"a warning":               {"severity": "warning"},
		"an info alert":           {"severity": "info"},
		"an alert with no labels": {},
		"an unknown severity":     {"severity": "page", "alertname": "Custom"},
	}
	for _, a := range append(append([]spec.Alert{}, s.Alerts...), render.SLOAlerts(s)...) {
		ls := model.LabelSet{"alertname": model.LabelValue(a.Name)}
		for k, v := range render.AlertLabels(a) {
			ls[model.LabelName(k)] = model.LabelValue(v)
		}
		out["alert "+a.Name] = ls
	}
	return out
}

// What the spec's routing promises, written out by hand: this is the
// table a reviewer checks against investiqRouting().
func TestReceiversOfEverySeverity(t *testing.T) {
	cfg, err := routes.LoadFile(renderAM(t, spec.Default()))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		labels model.LabelSet
		want   []string
	}{
		{"a critical alert pages, emails, and reaches the webhook and Discord", model.LabelSet{"severity": "critical"}, []string{"webhook", "pagerduty", "email", "discord"}},
		{"a warning goes to Slack, the webhook and Discord", model.LabelSet{"severity": "warning"}, []string{"webhook", "slack", "discord"}},
		{"an info alert reaches only the webhook and Discord", model.LabelSet{"severity": "info"}, []string{"webhook", "discord"}},
		{"an alert without severity reaches the webhook and Discord", model.LabelSet{}, []string{"webhook", "discord"}},
		{"the SLO page is critical", model.LabelSet{"alertname": "AvailabilityBudgetBurnFast", "severity": "critical", "slo": "availability"}, []string{"webhook", "pagerduty", "email", "discord"}},
		{"the SLO ticket is a warning", model.LabelSet{"alertname": "LatencyBudgetBurnSlow", "severity": "warning", "slo": "latency"}, []string{"webhook", "slack", "discord"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := routes.Receivers(cfg, tc.labels)
			if err := routes.Verify(got, tc.want); err != nil {
				t.Error(err)
			}
		})
	}
}

// routes test must give amtool's answer on every receiver path, and
// --verify-receivers must fail where amtool's --verify.receivers fails.
func TestReceiversAgreeWithAmtool(t *testing.T) {
	amtool := testutil.Bin(t, "amtool")
	s := spec.Default()
	file := renderAM(t, s)
	cfg, err := routes.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	receivers := map[string]bool{}
	for name, ls := range paths(s) {
		t.Run(name, func(t *testing.T) {
			args := labelArgs(ls)
			parsed, err := routes.ParseLabels(args)
			if err != nil {
				t.Fatal(err)
			}
			got := routes.Receivers(cfg, parsed)
			out, err := exec.Command(amtool, append([]string{"config", "routes", "test", "--config.file=" + file}, args...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("amtool: %v\n%s", err, out)
			}
			if want := strings.TrimSpace(string(out)); strings.Join(got, ",") != want {
				t.Errorf("%v: investiq-mon says %s, amtool says %s", args, strings.Join(got, ","), want)
			}
			for _, r := range got {
				receivers[r] = true
			}

			// A wrong expectation: amtool exits 1, Verify reports a mismatch.
			wrong := slices.Clone(got)
			slices.Reverse(wrong)
			if len(wrong) < 2 {
				wrong = append(wrong, "nobody")
			}
			cmd := exec.Command(amtool, append([]string{"config", "routes", "test", "--config.file=" + file, "--verify.receivers=" + strings.Join(wrong, ",")}, args...)...)
			if err := cmd.Run(); err == nil {
				t.Fatalf("amtool accepted the wrong receivers %v", wrong)
			}
			if err := routes.Verify(got, wrong); !errors.Is(err, routes.ErrMismatch) {
				t.Errorf("Verify(%v, %v) = %v, want ErrMismatch", got, wrong, err)
			}
		})
	}
	// Every receiver of the spec is on some path.
	for _, r := range s.Receivers {
		if !receivers[r.Name] {
			t.Errorf("no path reaches receiver %s: the paths do not cover the routing tree", r.Name)
		}
	}
}

func TestParseLabelsRefusesMatchers(t *testing.T) {
	for _, arg := range []string{"severity=~crit.*", "severity!=info", "novalue", "=x"} {
		if _, err := routes.ParseLabels([]string{arg}); !errors.Is(err, routes.ErrLabel) {
			t.Errorf("ParseLabels(%q) = %v, want ErrLabel", arg, err)
		}
	}
	ls, err := routes.ParseLabels([]string{`alertname="Service Down"`, "severity=critical"})
	if err != nil {
		t.Fatal(err)
	}
	if ls["alertname"] != "Service Down" || ls["severity"] != "critical" {
		t.Errorf("parsed %v", ls)
	}
}

func TestWriteTreeShowsEveryRouteAndInhibition(t *testing.T) {
	cfg, err := routes.LoadFile(renderAM(t, spec.Default()))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := routes.WriteTree(&b, cfg); err != nil {
		t.Fatal(err)
	}
	want := `Routing tree:
root  receiver: discord  group_by: [alertname]  group_wait: 10s  group_interval: 10s  repeat_interval: 12h
├── {} (every alert)  continue  receiver: webhook
├── {severity="critical"}  continue  receiver: pagerduty
├── {severity="critical"}  continue  receiver: email
├── {severity="warning"}  continue  receiver: slack
└── {} (every alert)  receiver: discord

Inhibit rules (the source mutes the target):
- {alertname="ServiceDown"} mutes {alertname=~"HighErrorRate|HighLatency"} while equal in component
`
	if b.String() != want {
		t.Errorf("tree:\n%s\nwant:\n%s", b.String(), want)
	}
}
