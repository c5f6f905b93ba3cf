//lint:file-ignore SA1019 Dashboards use the classic JSON model (v1), which Grafana 10 to 13 all provision from files; dashboardv2 needs feature flags on Grafana 12 and does not load on 10 or 11.

package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"
)

// Grafana's grid is 24 columns wide.
const gridWidth = 24

type gridPos struct {
	H, W, X, Y int
}

type dsRef struct {
	UID  string
	Name string // legacy dashboards reference a datasource by name
}

// UnmarshalJSON takes both forms Grafana writes: {"type","uid"} and the
// legacy plain datasource name.
func (d *dsRef) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		d.Name = s
		return nil
	}
	var o struct{ UID string }
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	d.UID = o.UID
	return nil
}

type dashTarget struct {
	Expr       string `json:"expr"`
	Datasource *dsRef `json:"datasource"`
}

type dashPanel struct {
	ID         *int         `json:"id"`
	Type       string       `json:"type"`
	Title      string       `json:"title"`
	GridPos    *gridPos     `json:"gridPos"`
	Datasource *dsRef       `json:"datasource"`
	Targets    []dashTarget `json:"targets"`
	Panels     []dashPanel  `json:"panels"`
}

type dashJSON struct {
	UID        string      `json:"uid"`
	Title      string      `json:"title"`
	Panels     []dashPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"list"`
	} `json:"templating"`
}

var registerPlugins sync.Once

// builtinDatasources are uids Grafana itself provides.
var builtinDatasources = map[string]bool{"-- Mixed --": true, "-- Grafana --": true, "-- Dashboard --": true, "grafana": true}

// checkDashboard checks a Grafana dashboard JSON file: its structure
// against the foundation SDK's schema, panel ids and grid positions, and
// every target's PromQL (with Grafana's variables replaced by stand-ins),
// then, once every file is read, datasource uids and the spec cross-checks.
func checkDashboard(f *file, _ Options) {
	data := f.data
	ix := indexJSON(data)
	prefix := ""
	var wrapper struct {
		Dashboard json.RawMessage `json:"dashboard"`
	}
	if err := json.Unmarshal(data, &wrapper); err == nil && len(wrapper.Dashboard) > 0 {
		// The HTTP API's {"dashboard": ..., "folderUid": ...} form.
		data, prefix = wrapper.Dashboard, "/dashboard"
	}
	var d dashJSON
	if err := json.Unmarshal(data, &d); err != nil {
		line, col := jsonErrorPos(f.data, err)
		if prefix != "" {
			line, col = ix.pos(prefix)
		}
		f.errorf(line, col, "dashboard/invalid", "not a Grafana dashboard: %v", err)
		return
	}
	if f.on("dashboard/schema") {
		checkDashboardSchema(f, data, ix, prefix)
	}
	if d.UID == "" {
		f.errorf(1, 1, "dashboard/uid", "dashboard has no uid: links to it break whenever it is re-provisioned")
	}

	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	type target struct {
		ptr  string
		expr string
		ds   *dsRef
	}
	var targets []target
	var dsRefs []target
	ids := map[int]string{}
	checkLevel := func(panels []dashPanel, base string) {
		type placed struct {
			ptr string
			g   gridPos
		}
		var grid []placed
		for i, p := range panels {
			ptr := fmt.Sprintf("%s/%d", base, i)
			if p.ID != nil {
				if prev, dup := ids[*p.ID]; dup {
					line, col := ix.pos(prefix + ptr + "/id")
					pl, _ := ix.pos(prefix + prev)
					f.errorf(line, col, "dashboard/panel-id", "panel %q reuses id %d of the panel at line %d", p.Title, *p.ID, pl)
				} else {
					ids[*p.ID] = ptr
				}
			}
			if p.GridPos != nil {
				g := *p.GridPos
				line, col := ix.pos(prefix + ptr + "/gridPos")
				switch {
				case g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0:
					f.errorf(line, col, "dashboard/gridpos", "panel %q has gridPos %+v: width and height must be positive, x and y not negative", p.Title, g)
				case g.X+g.W > gridWidth:
					f.errorf(line, col, "dashboard/gridpos", "panel %q ends at column %d, past Grafana's %d-column grid", p.Title, g.X+g.W, gridWidth)
				}
				for _, o := range grid {
					if g.X < o.g.X+o.g.W && o.g.X < g.X+g.W && g.Y < o.g.Y+o.g.H && o.g.Y < g.Y+g.H {
						ol, _ := ix.pos(prefix + o.ptr)
						f.errorf(line, col, "dashboard/gridpos", "panel %q overlaps the panel at line %d", p.Title, ol)
						break
					}
				}
				grid = append(grid, placed{ptr, g})
			}
			if p.Datasource != nil {
				dsRefs = append(dsRefs, target{ptr: ptr + "/datasource", ds: p.Datasource})
			}
			for j, t := range p.Targets {
				tp := fmt.Sprintf("%s/targets/%d", ptr, j)
				if t.Datasource != nil {
					dsRefs = append(dsRefs, target{ptr: tp + "/datasource", ds: t.Datasource})
				}
				if t.Expr != "" {
					targets = append(targets, target{ptr: tp + "/expr", expr: t.Expr})
				}
			}
		}
	}
	checkLevel(d.Panels, "/panels")
	// A collapsed row keeps its panels inside it, laid out on their own.
	for i, p := range d.Panels {
		if len(p.Panels) > 0 {
			checkLevel(p.Panels, fmt.Sprintf("/panels/%d/panels", i))
		}
	}

	type parsedTarget struct {
		ptr  string
		expr parser.Expr
	}
	var parsed []parsedTarget
	for _, t := range targets {
		expr, err := promqlParser.ParseExpr(grafanaStandIns(t.expr))
		line, col := ix.pos(prefix + t.ptr)
		if err != nil {
			f.errorf(line, col, "promql/syntax", "query %q: %v", t.expr, err)
			continue
		}
		parsed = append(parsed, parsedTarget{t.ptr, expr})
	}

	if !f.on("dashboard/datasource") && !f.anyHouseOn("promql/") {
		return
	}
	f.later = func(u *universe) []Finding {
		var out []Finding
		if len(u.datasources) > 0 {
			for _, r := range dsRefs {
				uid := r.ds.UID
				if uid == "" || builtinDatasources[uid] {
					continue
				}
				line, col := ix.pos(prefix + r.ptr)
				if m := grafanaVarRE.FindStringSubmatch(uid); m != nil && m[0] == uid {
					if vars[varName(m)] {
						continue
					}
					out = append(out, Finding{Path: f.path, Line: line, Col: col, Severity: Error, Check: "dashboard/datasource",
						Message: fmt.Sprintf("datasource uid %q is a variable the dashboard does not define: a provisioned dashboard needs the datasource's real uid (%s)", uid, keys(u.datasources))})
					continue
				}
				if !u.datasources[uid] {
					out = append(out, Finding{Path: f.path, Line: line, Col: col, Severity: Error, Check: "dashboard/datasource",
						Message: fmt.Sprintf("datasource uid %q is not provisioned (provisioned: %s)", uid, keys(u.datasources))})
				}
			}
		}
		if u.spec == nil {
			return out
		}
		for _, t := range parsed {
			line, col := ix.pos(prefix + t.ptr)
			for _, p := range u.checkExpr(t.expr, false) {
				out = append(out, Finding{Path: f.path, Line: line, Col: col, Severity: p.severity, Check: p.check, Message: p.msg})
			}
		}
		return out
	}
}

// checkDashboardSchema decodes the dashboard with the Grafana foundation
// SDK's strict schema, which is costly: it runs only when its check is on.
func checkDashboardSchema(f *file, data []byte, ix *jsonIndex, prefix string) {
	registerPlugins.Do(registerPanelTypes)
	var strict dashboard.Dashboard
	err := strict.UnmarshalJSONStrict(data)
	if err == nil {
		return
	}
	var errs cog.BuildErrors
	if !errors.As(err, &errs) {
		f.warnf(1, 1, "dashboard/schema", "%v", err)
		return
	}
	for _, e := range errs {
		line, col := ix.pos(prefix + sdkPathToPointer(e.Path))
		f.warnf(line, col, "dashboard/schema", "%s: %s", e.Path, e.Message)
	}
}

// grafanaVarRE matches Grafana's variable syntaxes: $var, ${var},
// ${var:format} and the deprecated [[var]].
var grafanaVarRE = regexp.MustCompile(`\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]`)

func varName(m []string) string {
	for _, s := range m[1:] {
		if s != "" {
			return s
		}
	}
	return ""
}

// varMarker stands in for a variable inside a string: label-value checks
// skip matchers that contain it, since the value is chosen at view time.
const varMarker = "__grafana_variable__"

var groupingRE = regexp.MustCompile(`(?:by|without)\s*\([^)]*$`)

// grafanaStandIns replaces Grafana's variables with values that keep the
// query parseable: durations in ranges, the marker inside strings, label
// names in by/without, and a number elsewhere.
func grafanaStandIns(q string) string {
	var b strings.Builder
	last := 0
	inString := func(pos int) bool {
		n := 0
		for i := 0; i < pos; i++ {
			switch q[i] {
			case '\\':
				i++
			case '"', '\'', '`':
				n++
			}
		}
		return n%2 == 1
	}
	for _, loc := range grafanaVarRE.FindAllStringSubmatchIndex(q, -1) {
		start, end := loc[0], loc[1]
		b.WriteString(q[last:start])
		last = end
		name := varName(grafanaVarRE.FindStringSubmatch(q[start:end]))
		before := strings.TrimRight(q[:start], " ")
		switch {
		case inString(start):
			b.WriteString(varMarker)
		case strings.HasSuffix(name, "_ms") || strings.HasSuffix(name, "_s"):
			b.WriteString("300")
		case strings.HasPrefix(name, "__") || strings.HasSuffix(before, "[") || strings.HasSuffix(before, ":"):
			b.WriteString("5m")
		case groupingRE.MatchString(before):
			b.WriteString("grafana_variable")
		default:
			b.WriteString("1")
		}
	}
	b.WriteString(q[last:])
	return b.String()
}

func keys(m map[string]bool) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	if len(ks) == 0 {
		return "none"
	}
	slices.Sort(ks)
	return strings.Join(ks, ", ")
}

// checkProvisioning checks a Grafana provisioning file: datasources with
// the fixed uids dashboards reference, or dashboard providers that say
// where the JSON is.
func checkProvisioning(f *file, _ Options) {
	root, err := parseYAML(f.data)
	if err != nil {
		line, col := yamlErrorPos(err)
		f.errorf(line, col, "provisioning/invalid", "%v", err)
		return
	}
	if v := mapGet(root, "apiVersion"); v == nil || v.Value != "1" {
		line, col := 1, 1
		if v != nil {
			line, col = v.Line, v.Column
		}
		f.errorf(line, col, "provisioning/invalid", "apiVersion must be 1")
	}
	need := func(n *yaml.Node, what string, keys ...string) {
		for _, k := range keys {
			if v := mapGet(n, k); v == nil || v.Value == "" {
				f.errorf(n.Line, n.Column, "provisioning/invalid", "%s has no %s", what, k)
			}
		}
	}
	if ds := mapGet(root, "datasources"); ds != nil {
		uids := map[string]int{}
		defaults := 0
		for i, d := range ds.Content {
			what := fmt.Sprintf("datasource %d", i+1)
			if n := mapGet(d, "name"); n != nil {
				what = fmt.Sprintf("datasource %q", n.Value)
			}
			need(d, what, "name", "type")
			uid := mapGet(d, "uid")
			if uid == nil || uid.Value == "" {
				f.errorf(d.Line, d.Column, "provisioning/datasource-uid", "%s has no uid: dashboards reference datasources by uid, and without a fixed one it changes on every fresh start", what)
			} else {
				if prev, dup := uids[uid.Value]; dup {
					f.errorf(uid.Line, uid.Column, "provisioning/datasource-uid", "uid %q is also used by the datasource at line %d", uid.Value, prev)
				}
				uids[uid.Value] = uid.Line
				f.datasources = append(f.datasources, uid.Value)
			}
			if v := mapGet(d, "isDefault"); v != nil && v.Value == "true" {
				defaults++
				if defaults > 1 {
					f.errorf(v.Line, v.Column, "provisioning/invalid", "more than one datasource is the default: Grafana refuses to start")
				}
			}
			// Grafana expands $__file{...} and $__env{...} (and ${VAR}) in
			// provisioning; anything else is the secret itself.
			for _, section := range []string{"secureJsonData"} {
				sec := mapGet(d, section)
				if sec == nil {
					continue
				}
				for j := 0; j+1 < len(sec.Content); j += 2 {
					k, v := sec.Content[j], sec.Content[j+1]
					if v.Value != "" && !strings.HasPrefix(v.Value, "$") {
						f.warnf(k.Line, k.Column, "security/inline-secret", "%s.%s is written inline: use $__file{/run/secrets/...} to read it from a file", section, k.Value)
					}
				}
			}
			if k, v := mapEntry(d, "basicAuthPassword"); k != nil && v.Value != "" {
				f.warnf(k.Line, k.Column, "security/inline-secret", "basicAuthPassword is written inline: use secureJsonData.basicAuthPassword with $__file{/run/secrets/...}")
			}
		}
	}
	if ps := mapGet(root, "providers"); ps != nil {
		for i, p := range ps.Content {
			what := fmt.Sprintf("provider %d", i+1)
			if n := mapGet(p, "name"); n != nil {
				what = fmt.Sprintf("provider %q", n.Value)
			}
			need(p, what, "name")
			if t := mapGet(p, "type"); t != nil && t.Value != "file" {
				f.errorf(t.Line, t.Column, "provisioning/invalid", "%s has type %q: only file providers exist", what, t.Value)
			}
			if path := mapGet(mapGet(p, "options"), "path"); path == nil || path.Value == "" {
				f.errorf(p.Line, p.Column, "provisioning/invalid", "%s has no options.path: Grafana would load no dashboards", what)
			}
		}
	}
	if mapGet(root, "datasources") == nil && mapGet(root, "providers") == nil && mapGet(root, "deleteDatasources") == nil {
		f.errorf(1, 1, "provisioning/invalid", "neither datasources nor providers")
	}
}
