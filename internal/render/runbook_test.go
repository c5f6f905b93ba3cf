package render_test

import (
	"bufio"
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/spec"
)

// githubAnchor is the anchor GitHub gives a Markdown heading: lower case,
// punctuation dropped, spaces to hyphens.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9'):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// runbookSections maps each heading anchor of RUNBOOK.md to the text of
// its section, and counts anchors that appear more than once.
func runbookSections(t *testing.T, data []byte) (map[string]string, map[string]int) {
	t.Helper()
	sections, seen := map[string]string{}, map[string]int{}
	var cur string
	inCode := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
		}
		if !inCode && strings.HasPrefix(line, "#") {
			cur = githubAnchor(strings.TrimSpace(strings.TrimLeft(line, "#")))
			seen[cur]++
			continue
		}
		sections[cur] += line + "\n"
	}
	return sections, seen
}

// Every alert's runbook_url, as Prometheus will send it, lands on the
// section of that alert, which holds its PromQL, action and panel.
func TestRunbookURLsPointAtTheirSections(t *testing.T) {
	dir, files := renderTo(t)
	var runbook []byte
	for _, f := range files {
		if f.Path == render.Runbook {
			runbook = f.Data
		}
	}
	if runbook == nil {
		t.Fatalf("%s is not rendered", render.Runbook)
	}
	sections, seen := runbookSections(t, runbook)
	for anchor, n := range seen {
		if n > 1 {
			t.Errorf("heading anchor #%s appears %d times; links would land on the first", anchor, n)
		}
	}
	s := spec.Default()
	alerts := append(append([]spec.Alert{}, s.Alerts...), render.SLOAlerts(s)...)
	byName := map[string]spec.Alert{}
	for _, a := range alerts {
		byName[a.Name] = a
	}
	checked := 0
	for _, file := range []string{render.AlertRules, render.SLORules} {
		groups, errs := rulefmt.ParseFile(filepath.Join(dir, file), false, model.UTF8Validation, parser.NewParser(parser.Options{}), promslog.NewNopLogger())
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				if r.Alert == "" {
					continue
				}
				checked++
				url := r.Annotations["runbook_url"]
				page, anchor, ok := strings.Cut(url, "#")
				if !ok || page != s.RunbookURL {
					t.Errorf("%s: runbook_url %q is not %s#<section>", r.Alert, url, s.RunbookURL)
					continue
				}
				body, ok := sections[anchor]
				if !ok {
					t.Errorf("%s: runbook_url %q points at no heading of %s", r.Alert, url, render.Runbook)
					continue
				}
				a := byName[r.Alert]
				for what, want := range map[string]string{"expr": a.Expr, "action": a.Action, "condition": a.Condition, "panel": a.Panel, "severity": string(a.Severity)} {
					if !strings.Contains(body, strings.Join(strings.Fields(want), " ")) && !strings.Contains(body, want) {
						t.Errorf("%s: section #%s lacks the alert's %s %q", r.Alert, anchor, what, want)
					}
				}
				if want := restartLine(a); !strings.Contains(body, want) {
					t.Errorf("%s: section #%s lacks what a Prometheus restart does to its page, %q", r.Alert, anchor, want)
				}
			}
		}
	}
	if checked != len(alerts) {
		t.Errorf("checked %d alerting rules, the spec has %d alerts (with the SLOs')", checked, len(alerts))
	}
}

// restartLine is the start of the runbook's line on a Prometheus restart
// for this alert: the delay comes from its `for` and the grace period.
func restartLine(a spec.Alert) string {
	if a.For <= 0 {
		return "If Prometheus restarts while this alert is pending: the alert has no `for`"
	}
	return "If Prometheus restarts while this alert is pending: a page can come up to **" +
		model.Duration(render.RestartPageDelay(a.For, render.PrometheusForGracePeriod)).String() + "** late"
}

// The restart delay follows each alert's `for`: shorter than the grace
// period, the whole `for` can be lost; longer, the grace period.
func TestRunbookRestartDelayFollowsFor(t *testing.T) {
	for _, c := range []struct {
		hold      time.Duration
		want, not string
	}{
		{30 * time.Second, "up to **30s** late", "restored from `ALERTS_FOR_STATE`"},
		{render.PrometheusForGracePeriod - time.Minute, "up to **9m** late", "restored from `ALERTS_FOR_STATE`"},
		{render.PrometheusForGracePeriod + 5*time.Minute, "up to **10m** late", "is not restored"},
		{2 * time.Hour, "up to **10m** late", "is not restored"},
	} {
		s := spec.Default()
		s.Alerts[0].For = c.hold
		files, err := render.Render(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if f.Path != render.Runbook {
				continue
			}
			sections, _ := runbookSections(t, f.Data)
			body := sections[render.RunbookAnchor(s.Alerts[0].Name)]
			if !strings.Contains(body, c.want) || strings.Contains(body, c.not) {
				t.Errorf("for %s: section %s should say %q and not %q:\n%s", c.hold, s.Alerts[0].Name, c.want, c.not, body)
			}
		}
	}
}

// A runbook that sends a person to a panel that does not exist is refused.
func TestRunbookRefusesAMissingPanel(t *testing.T) {
	s := spec.Default()
	s.Alerts[0].Panel = "No Such Panel"
	_, err := render.Render(s)
	if err == nil {
		t.Fatal("rendered a runbook pointing at a missing panel")
	}
	if !regexp.MustCompile(`alerts\[` + s.Alerts[0].Name + `\]\.panel: no dashboard has a panel titled "No Such Panel"`).MatchString(err.Error()) {
		t.Errorf("error does not name the alert and panel: %v", err)
	}
}
