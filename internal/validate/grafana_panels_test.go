package validate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/spec"
)

// TestStrictTypesCoverRenderedDashboards keeps strictPanels and
// strictQueries in step with render: a panel or query type that the
// rendered dashboards use but dashboard/schema does not register would
// have its options taken unchecked.
func TestStrictTypesCoverRenderedDashboards(t *testing.T) {
	files, err := render.Render(spec.Default())
	if err != nil {
		t.Fatal(err)
	}
	var panels, queries []string
	for _, c := range strictPanels() {
		panels = append(panels, c.Identifier)
	}
	for _, c := range strictQueries() {
		queries = append(queries, c.Identifier)
	}
	type panel struct {
		Type    string `json:"type"`
		Targets []struct {
			Datasource struct {
				Type string `json:"type"`
			} `json:"datasource"`
		} `json:"targets"`
		Panels []json.RawMessage `json:"panels"`
	}
	seen := 0
	var walk func(path string, raw json.RawMessage)
	walk = func(path string, raw json.RawMessage) {
		var p panel
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if p.Type != "" && p.Type != "row" {
			seen++
			if !slices.Contains(panels, p.Type) {
				t.Errorf("%s: panel type %q is rendered but not in strictPanels %v", path, p.Type, panels)
			}
		}
		for _, tg := range p.Targets {
			if tg.Datasource.Type != "" && !slices.Contains(queries, tg.Datasource.Type) {
				t.Errorf("%s: query type %q is rendered but not in strictQueries %v", path, tg.Datasource.Type, queries)
			}
		}
		for _, c := range p.Panels {
			walk(path, c)
		}
	}
	for _, f := range files {
		if !strings.HasSuffix(f.Path, ".json") {
			continue
		}
		walk(f.Path, f.Data)
	}
	if seen == 0 {
		t.Fatal("no panel found in the rendered dashboards")
	}
}

// TestDashboardSchemaChecksRenderedPanelTypes: the options and custom
// field config of the panel types investiq-mon renders are decoded
// strictly (unregistered, they would decode into untyped maps and pass).
func TestDashboardSchemaChecksRenderedPanelTypes(t *testing.T) {
	files, err := render.Render(spec.Default())
	if err != nil {
		t.Fatal(err)
	}
	var raw []byte
	for _, f := range files {
		if strings.HasSuffix(f.Path, "investiq-overview.json") {
			raw = f.Data
		}
	}
	if raw == nil {
		t.Fatal("no investiq-overview.json rendered")
	}
	for _, tc := range []struct {
		name, panelType, field string
		mutate                 func(p map[string]any)
	}{
		{"a timeseries option of the wrong type", "timeseries", "options.legend", func(p map[string]any) {
			p["options"].(map[string]any)["legend"] = "bottom"
		}},
		{"an unknown timeseries custom field config", "timeseries", "fieldConfig.defaults.custom", func(p map[string]any) {
			p["fieldConfig"].(map[string]any)["defaults"].(map[string]any)["custom"] = map[string]any{"lineWidthh": 2}
		}},
		{"a stat option of the wrong type", "stat", "options.textMode", func(p map[string]any) {
			p["options"].(map[string]any)["textMode"] = 3
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d map[string]any
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatal(err)
			}
			done := false
			for _, p := range d["panels"].([]any) {
				pm := p.(map[string]any)
				if pm["type"] == tc.panelType && !done {
					tc.mutate(pm)
					done = true
				}
			}
			if !done {
				t.Fatalf("no %s panel in the rendered dashboard", tc.panelType)
			}
			out, err := json.MarshalIndent(d, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "dash.json")
			if err := os.WriteFile(path, out, 0o644); err != nil {
				t.Fatal(err)
			}
			res := run(t, Options{Enable: []string{"dashboard/schema"}}, path)
			var got []string
			for _, f := range res.Findings {
				if f.Check == "dashboard/schema" {
					got = append(got, f.Message)
				}
			}
			if len(got) == 0 {
				t.Fatalf("no dashboard/schema finding for %s; findings:\n%s", tc.name, findingsText(res))
			}
			if !strings.Contains(strings.Join(got, "\n"), tc.field) {
				t.Errorf("dashboard/schema findings do not name %s:\n%s", tc.field, strings.Join(got, "\n"))
			}
		})
	}
}
