package render_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// The generated test file is for promtool too: the real, pinned promtool
// must run it against the generated rules and pass.
func TestAlertRulesTestPassesPromtool(t *testing.T) {
	promtool := testutil.Bin(t, "promtool")
	dir, _ := renderTo(t)
	out, err := exec.Command(promtool, "test", "rules", filepath.Join(dir, render.AlertRulesTest)).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool test rules %s: %v\n%s", render.AlertRulesTest, err, out)
	}
	if !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("promtool did not report SUCCESS:\n%s", out)
	}
}

func TestAlertRulesTestHasAGroupPerCase(t *testing.T) {
	files, err := render.Render(spec.Default())
	if err != nil {
		t.Fatal(err)
	}
	var data string
	for _, f := range files {
		if f.Path == render.AlertRulesTest {
			data = string(f.Data)
		}
	}
	if data == "" {
		t.Fatalf("%s not rendered", render.AlertRulesTest)
	}
	for _, a := range spec.Default().Alerts {
		if len(a.Cases) == 0 {
			t.Errorf("%s has no cases", a.Name)
		}
		for _, c := range a.Cases {
			if !strings.Contains(data, "- name: "+render.TestName(a.Name, c.Name)+"\n") {
				t.Errorf("no test group named %q", render.TestName(a.Name, c.Name))
			}
		}
	}
}

// An annotation that reads $value cannot be worked out from labels: the
// case must state it, and rendering says so when it does not.
func TestExpectedAnnotationUsingValueMustBeGiven(t *testing.T) {
	s := spec.Default()
	for i, a := range s.Alerts {
		if !strings.Contains(a.Description, "$value") {
			continue
		}
		for j, c := range a.Cases {
			for k, ch := range c.Checks {
				for l := range ch.Firing {
					s.Alerts[i].Cases[j].Checks[k].Firing[l].Annotations = nil
				}
			}
		}
		_, err := render.Render(s)
		if err == nil || !strings.Contains(err.Error(), `annotation "description" uses $value`) || !strings.Contains(err.Error(), "alerts["+a.Name+"].cases[") {
			t.Fatalf("rendering %s's cases without their description: err = %v, want one naming the case and $value", a.Name, err)
		}
		return
	}
	t.Fatal("no alert's description uses $value; this test checks nothing")
}
