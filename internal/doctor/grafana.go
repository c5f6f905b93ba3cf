package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/stack"
)

// grafana checks offline, from the generated files, that every datasource
// a dashboard references is a provisioned one: a dashboard pointing at
// another uid (or at a ${DS_...} import placeholder) shows "datasource not
// found" on every panel. When Grafana answers, it also asks Grafana
// whether it really has that datasource and those dashboards.
func (d *doctor) grafana(ctx context.Context) Result {
	r := Result{Check: CheckGrafana, Title: titleGrafana, Status: Fail}
	dsDir := filepath.Join(d.o.Dir, filepath.Dir(filepath.FromSlash(render.DatasourceProvision)))
	uids, err := provisionedUIDs(dsDir)
	if err != nil {
		r.Summary = err.Error()
		r.Fix = "run `investiq-mon generate --dir " + d.o.Dir + "` to write Grafana's provisioning"
		return r
	}
	dashDir := filepath.Join(d.o.Dir, filepath.FromSlash(render.DashboardsDir))
	dashFiles, _ := filepath.Glob(filepath.Join(dashDir, "*.json"))
	if len(dashFiles) == 0 {
		r.Summary = "no dashboards in " + dashDir
		r.Fix = "run `investiq-mon generate --dir " + d.o.Dir + "`"
		return r
	}
	var dashUIDs []string
	for _, f := range dashFiles {
		refs, uid, err := dashboardRefs(f)
		if err != nil {
			r.Details = append(r.Details, err.Error())
			continue
		}
		dashUIDs = append(dashUIDs, uid)
		for _, ref := range refs {
			if !slices.Contains(uids, ref.uid) {
				r.Details = append(r.Details, fmt.Sprintf("%s: panel %q uses datasource uid %q, but the provisioned one is %s", f, ref.panel, ref.uid, strings.Join(uids, ", ")))
			}
		}
	}
	if len(r.Details) > 0 {
		r.Summary = fmt.Sprintf("%d datasource reference(s) in the dashboards do not match the provisioned datasource", len(r.Details))
		r.Fix = "panels must reference the spec's DatasourceUID; run `investiq-mon generate --dir " + d.o.Dir + "` to restore the dashboards (edit panels in spec/investiq.go, not in the JSON)"
		return r
	}
	r.Status = Pass
	r.Summary = fmt.Sprintf("%d dashboard(s) reference only the provisioned datasource %s", len(dashFiles), strings.Join(uids, ", "))
	if online := d.grafanaOnline(ctx, uids, dashUIDs, &r); online != "" {
		r.Summary += "; " + online
	}
	return r
}

// grafanaOnline asks a reachable Grafana (documented HTTP API) for the
// provisioned datasources and dashboards; it returns what it checked, or
// fails r. An unreachable Grafana is not a failure: it is optional in
// the local backend.
func (d *doctor) grafanaOnline(ctx context.Context, dsUIDs, dashUIDs []string, r *Result) string {
	base := strings.TrimSuffix(d.o.Endpoints.Grafana, "/")
	if base == "" {
		return ""
	}
	c := stack.HTTPClient(d.o.Endpoints.GrafanaUser, d.o.Endpoints.GrafanaPassword, d.o.Timeout)
	if err := stack.Ready(ctx, c, base+"/api/health"); err != nil {
		return "Grafana does not answer at " + base + ", so only the files were checked"
	}
	for _, uid := range dsUIDs {
		if err := stack.Ready(ctx, c, base+"/api/datasources/uid/"+url.PathEscape(uid)); err != nil {
			r.Details = append(r.Details, fmt.Sprintf("Grafana at %s has no datasource uid %q: %v", base, uid, err))
		}
	}
	for _, uid := range dashUIDs {
		if err := stack.Ready(ctx, c, base+"/api/dashboards/uid/"+url.PathEscape(uid)); err != nil {
			r.Details = append(r.Details, fmt.Sprintf("Grafana at %s has no dashboard uid %q: %v", base, uid, err))
		}
	}
	if len(r.Details) > 0 {
		r.Status = Fail
		r.Summary = fmt.Sprintf("the files agree, but Grafana at %s does not have what they provision", base)
		r.Fix = "Grafana reads provisioning at start: restart it (`investiq-mon up`); a 401 means GRAFANA_ADMIN_PASSWORD in .env is not Grafana's (it only applies on first start)"
		return ""
	}
	return "Grafana at " + base + " has them"
}

func provisionedUIDs(dir string) ([]string, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.y*ml"))
	var uids []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var prov struct {
			Datasources []struct {
				UID  string `yaml:"uid"`
				Type string `yaml:"type"`
			} `yaml:"datasources"`
		}
		if err := yaml.Unmarshal(data, &prov); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, ds := range prov.Datasources {
			if ds.UID != "" {
				uids = append(uids, ds.UID)
			}
		}
	}
	if len(uids) == 0 {
		return nil, fmt.Errorf("no provisioned datasource with a uid in %s", dir)
	}
	return uids, nil
}

type dsRef struct{ panel, uid string }

// dashboardRefs returns every datasource uid a dashboard's panels and
// targets reference, with the panel's title, and the dashboard's uid.
func dashboardRefs(file string) ([]dsRef, string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, "", err
	}
	var root map[string]any
	if err := json.Unmarshal(data, &root); err != nil {
		return nil, "", fmt.Errorf("%s: %w", file, err)
	}
	var refs []dsRef
	var walk func(v any, panel string)
	walk = func(v any, panel string) {
		switch v := v.(type) {
		case map[string]any:
			if t, ok := v["title"].(string); ok {
				if _, isPanel := v["type"]; isPanel {
					panel = t
				}
			}
			for k, child := range v {
				if k == "datasource" {
					if uid, ok := datasourceUID(child); ok {
						refs = append(refs, dsRef{panel: panel, uid: uid})
					}
					continue
				}
				walk(child, panel)
			}
		case []any:
			for _, child := range v {
				walk(child, panel)
			}
		}
	}
	walk(root, "(dashboard)")
	slices.SortFunc(refs, func(a, b dsRef) int { return strings.Compare(a.panel+a.uid, b.panel+b.uid) })
	refs = slices.Compact(refs)
	uid, _ := root["uid"].(string)
	return refs, uid, nil
}

// datasourceUID reads a datasource reference: an object with a uid, or
// (older dashboards) a plain string. Grafana's built-in pseudo
// datasources ("-- Grafana --", "-- Mixed --") are not references to a
// provisioned one.
func datasourceUID(v any) (string, bool) {
	var uid string
	switch v := v.(type) {
	case map[string]any:
		uid, _ = v["uid"].(string)
		if t, _ := v["type"].(string); t == "grafana" || t == "datasource" {
			return "", false
		}
	case string:
		uid = v
	}
	if uid == "" || strings.HasPrefix(uid, "-- ") {
		return "", false
	}
	return uid, true
}
