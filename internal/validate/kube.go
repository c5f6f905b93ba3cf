package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"
	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	kustomize "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// KindKubernetes is a Kubernetes manifest (one or more documents): the
// prometheus-operator resources `generate --target kubernetes` writes
// (PrometheusRule, ServiceMonitor, AlertmanagerConfig), ConfigMaps for
// Grafana's sidecar, Secrets and a Kustomization.
const KindKubernetes Kind = "kubernetes"

// Grafana's sidecar picks ConfigMaps by these labels.
const (
	sidecarDashboardLabel  = "grafana_dashboard"
	sidecarDatasourceLabel = "grafana_datasource"
)

// checkKubernetes decodes every document strictly with the operator's and
// Kubernetes' own Go types (an unknown or duplicate field is an error, as
// `kubectl apply --validate=strict` makes it), then checks what the
// resource carries with the checks its content would get as a file: the
// groups of a PrometheusRule as a rule file (promtool check rules, the
// spec cross-checks), a dashboard in a ConfigMap as a dashboard, a
// datasource as provisioning.
func checkKubernetes(f *file, opts Options) {
	dec := yaml.NewDecoder(strings.NewReader(string(f.data)))
	var subs []*embedded
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, col := yamlErrorPos(err)
			f.errorf(line, col, "kubernetes/invalid", "%s", strings.TrimPrefix(err.Error(), "yaml: "))
			return
		}
		root := docRoot(&doc)
		if root == nil || root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			continue // an empty document between ---
		}
		if root.Kind != yaml.MappingNode {
			f.errorf(root.Line, root.Column, "kubernetes/invalid", "a Kubernetes resource is a mapping")
			continue
		}
		subs = append(subs, checkResource(f, root, opts)...)
	}
	for _, s := range subs {
		for _, fd := range s.sub.findings {
			f.add(s.remap(fd))
		}
		f.records = append(f.records, s.sub.records...)
		f.alerts = append(f.alerts, s.sub.alerts...)
		f.datasources = append(f.datasources, s.sub.datasources...)
	}
	f.later = func(u *universe) []Finding {
		var out []Finding
		for _, s := range subs {
			if s.sub.later == nil {
				continue
			}
			for _, fd := range s.sub.later(u) {
				out = append(out, s.remap(fd))
			}
		}
		return out
	}
}

// embedded is content checked as a file of its own (a PrometheusRule's
// groups, a ConfigMap's dashboard), and how its findings' positions map
// back into the manifest.
type embedded struct {
	sub   *file
	remap func(Finding) Finding
}

// embed is content of f checked as a file of its own kind: the same path,
// ownership and check selection as f.
func (f *file) embed(kind Kind, data []byte) *file {
	return &file{path: f.path, kind: kind, forced: true, own: f.own, via: f.via, sel: f.sel, data: data}
}

func scalar(n *yaml.Node, key string) string {
	if v := mapGet(n, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

func checkResource(f *file, root *yaml.Node, opts Options) []*embedded {
	apiVersion, kind := scalar(root, "apiVersion"), scalar(root, "kind")
	at := func(n *yaml.Node) (int, int) {
		if n == nil {
			return root.Line, root.Column
		}
		return n.Line, n.Column
	}
	if apiVersion == "" || kind == "" {
		line, col := at(nil)
		f.errorf(line, col, "kubernetes/invalid", "a Kubernetes resource needs apiVersion and kind")
		return nil
	}
	if kind != kustomize.KustomizationKind && scalar(mapGet(root, "metadata"), "name") == "" {
		line, col := at(mapGet(root, "metadata"))
		f.errorf(line, col, "kubernetes/invalid", "%s has no metadata.name", kind)
	}
	switch apiVersion + "/" + kind {
	case monitoringv1.SchemeGroupVersion.String() + "/" + monitoringv1.PrometheusRuleKind:
		var pr monitoringv1.PrometheusRule
		if !decodeStrict(f, root, &pr) {
			return nil
		}
		if s := ruleGroupsAsFile(f, mapGet(root, "spec"), opts); s != nil {
			return []*embedded{s}
		}
	case monitoringv1.SchemeGroupVersion.String() + "/" + monitoringv1.ServiceMonitorsKind:
		var sm monitoringv1.ServiceMonitor
		if decodeStrict(f, root, &sm) {
			checkServiceMonitor(f, root, &sm, opts)
		}
	case monitoringv1alpha1.SchemeGroupVersion.String() + "/" + monitoringv1alpha1.AlertmanagerConfigKind:
		var amc monitoringv1alpha1.AlertmanagerConfig
		if decodeStrict(f, root, &amc) {
			checkAlertmanagerConfig(f, root, &amc)
		}
	case "v1/ConfigMap":
		var cm corev1.ConfigMap
		if decodeStrict(f, root, &cm) {
			return configMapContents(f, root, &cm, opts)
		}
	case "v1/Secret":
		var sec corev1.Secret
		if decodeStrict(f, root, &sec) && (len(sec.Data) > 0 || len(sec.StringData) > 0) {
			k, _ := mapEntry(root, "data")
			if len(sec.Data) == 0 {
				k, _ = mapEntry(root, "stringData")
			}
			line, col := at(k)
			f.warnf(line, col, "security/inline-secret", "Secret %s carries its values in this file: create it from .env instead (kubectl create secret generic %s --from-env-file=monitoring/.env) and keep the values out of git", sec.Name, sec.Name)
		}
	case kustomize.KustomizationVersion + "/" + kustomize.KustomizationKind:
		var k kustomize.Kustomization
		if decodeStrict(f, root, &k) {
			checkKustomization(f, root, &k, opts)
		}
	default:
		line, col := at(mapGet(root, "kind"))
		f.warnf(line, col, "kubernetes/kind", "%s %s is not checked by investiq-mon (it checks PrometheusRule, ServiceMonitor, AlertmanagerConfig, ConfigMap, Secret and Kustomization)", apiVersion, kind)
	}
	return nil
}

var strictFieldRE = regexp.MustCompile(`^(unknown|duplicate) field "([^"]*)"$`)

// decodeStrict decodes one document into the typed resource as the API
// server's strict field validation does, reporting each unknown field and
// each type error at its place in the file.
func decodeStrict(f *file, root *yaml.Node, into any) bool {
	var v any
	if err := root.Decode(&v); err != nil {
		f.errorf(root.Line, root.Column, "kubernetes/invalid", "%v", err)
		return false
	}
	js, err := json.Marshal(v)
	if err != nil {
		f.errorf(root.Line, root.Column, "kubernetes/invalid", "%v", err)
		return false
	}
	strict, err := sigsjson.UnmarshalStrict(js, into, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
	if err != nil {
		line, col := root.Line, root.Column
		msg := err.Error()
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if n := locateTyped(root, strings.Split(te.Field, "."), te.Value); n != nil {
				line, col = n.Line, n.Column
			}
			msg = fmt.Sprintf("%s: a %s where the %s API wants a %s (%s)", te.Field, te.Value, kindOf(root), te.Type.Kind(), te.Type)
		}
		f.errorf(line, col, "kubernetes/schema", "%s", msg)
		return false
	}
	for _, e := range strict {
		line, col := root.Line, root.Column
		msg := e.Error()
		if m := strictFieldRE.FindStringSubmatch(msg); m != nil {
			if k := locatePath(root, m[2]); k != nil {
				line, col = k.Line, k.Column
			}
			msg = fmt.Sprintf("%s: %s field (not in the %s API)", m[2], m[1], kindOf(root))
		}
		f.errorf(line, col, "kubernetes/schema", "%s", msg)
	}
	return len(strict) == 0
}

func kindOf(root *yaml.Node) string { return scalar(root, "apiVersion") + " " + scalar(root, "kind") }

var pathSegRE = regexp.MustCompile(`([^.\[\]]+)|\[(\d+)\]`)

// locatePath finds the key node of a field path such as
// spec.groups[0].rules[1].foo.
func locatePath(root *yaml.Node, path string) *yaml.Node {
	n, key := root, root
	for _, m := range pathSegRE.FindAllStringSubmatch(path, -1) {
		if n == nil {
			return key
		}
		if m[2] != "" {
			i, _ := strconv.Atoi(m[2])
			if n.Kind != yaml.SequenceNode || i >= len(n.Content) {
				return key
			}
			n = n.Content[i]
			key = n
			continue
		}
		k, v := mapEntry(n, m[1])
		if k == nil {
			return key
		}
		key, n = k, v
	}
	return key
}

// locateTyped finds the value a type error is about: the path of a type
// error has no indices, so the first value along it of the JSON type the
// error names.
func locateTyped(n *yaml.Node, path []string, jsonType string) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.SequenceNode {
		for _, c := range n.Content {
			if r := locateTyped(c, path, jsonType); r != nil {
				return r
			}
		}
		return nil
	}
	if len(path) == 0 {
		if jsonTypeOf(n) == jsonType {
			return n
		}
		return nil
	}
	return locateTyped(mapGet(n, path[0]), path[1:], jsonType)
}

func jsonTypeOf(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "object"
	case n.Kind == yaml.SequenceNode:
		return "array"
	case n.Tag == "!!int" || n.Tag == "!!float":
		return "number"
	case n.Tag == "!!bool":
		return "bool"
	}
	return "string"
}

// ruleGroupsAsFile checks a PrometheusRule's groups exactly as a rule file
// with those groups: a file of its own whose findings map back.
func ruleGroupsAsFile(f *file, specNode *yaml.Node, opts Options) *embedded {
	groups := mapGet(specNode, "groups")
	if groups == nil || groups.Kind != yaml.SequenceNode {
		return nil
	}
	// partial_response_strategy is Thanos Ruler's, which the operator also
	// serves; Prometheus' rule files have no such field.
	copyGroups := &yaml.Node{Kind: yaml.SequenceNode}
	for _, g := range groups.Content {
		cg := *g
		if g.Kind == yaml.MappingNode {
			cg.Content = nil
			for i := 0; i+1 < len(g.Content); i += 2 {
				if g.Content[i].Value != "partial_response_strategy" {
					cg.Content = append(cg.Content, g.Content[i], g.Content[i+1])
				}
			}
		}
		copyGroups.Content = append(copyGroups.Content, &cg)
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: "groups"}, copyGroups}}
	data, err := yaml.Marshal(doc)
	if err != nil {
		f.errorf(groups.Line, groups.Column, "kubernetes/invalid", "%v", err)
		return nil
	}
	sub := f.embed(KindRules, data)
	checkRules(sub, opts)
	newRoot, err := parseYAML(data)
	if err != nil {
		return &embedded{sub: sub, remap: func(fd Finding) Finding { fd.Line, fd.Col = groups.Line, groups.Column; return fd }}
	}
	return &embedded{sub: sub, remap: nodeMap(mapGet(newRoot, "groups"), groups)}
}

// nodeMap maps positions in a re-encoded copy of a YAML tree back to the
// original, walking both trees side by side: a position on a node's line
// keeps its offset from the node; one on a later line (a block scalar's
// body) keeps its offset from the last node before it.
func nodeMap(copied, orig *yaml.Node) func(Finding) Finding {
	type pair struct{ cl, cc, ol, oc int }
	var pairs []pair
	var walk func(c, o *yaml.Node)
	walk = func(c, o *yaml.Node) {
		if c == nil || o == nil {
			return
		}
		pairs = append(pairs, pair{c.Line, c.Column, o.Line, o.Column})
		for i := 0; i < len(c.Content) && i < len(o.Content); i++ {
			walk(c.Content[i], o.Content[i])
		}
	}
	walk(copied, orig)
	slices.SortFunc(pairs, func(a, b pair) int {
		if a.cl != b.cl {
			return a.cl - b.cl
		}
		return a.cc - b.cc
	})
	return func(fd Finding) Finding {
		if fd.Line <= 0 {
			fd.Line, fd.Col = orig.Line, orig.Column
			return fd
		}
		best := -1
		for i, p := range pairs {
			if p.cl < fd.Line || p.cl == fd.Line && p.cc <= fd.Col {
				best = i
			}
		}
		if best < 0 {
			fd.Line, fd.Col = orig.Line, orig.Column
			return fd
		}
		p := pairs[best]
		fd.Line = p.ol + fd.Line - p.cl
		fd.Col = max(1, fd.Col+p.oc-p.cc)
		return fd
	}
}

// configMapContents checks the dashboards and datasources a ConfigMap
// carries for Grafana's sidecar, each as the file it becomes.
func configMapContents(f *file, root *yaml.Node, cm *corev1.ConfigMap, opts Options) []*embedded {
	kind := Kind("")
	switch {
	case cm.Labels[sidecarDashboardLabel] != "":
		kind = KindDashboard
	case cm.Labels[sidecarDatasourceLabel] != "":
		kind = KindProvisioning
	default:
		return nil
	}
	data := mapGet(root, "data")
	var out []*embedded
	for i := 0; data != nil && i+1 < len(data.Content); i += 2 {
		k, v := data.Content[i], data.Content[i+1]
		if kind == KindDashboard && !strings.HasSuffix(k.Value, ".json") {
			f.warnf(k.Line, k.Column, "kubernetes/configmap", "%s: the sidecar loads dashboards from keys ending in .json", k.Value)
			continue
		}
		sub := f.embed(kind, []byte(v.Value))
		if kind == KindDashboard {
			checkDashboard(sub, opts)
		} else {
			checkProvisioning(sub, opts)
		}
		out = append(out, &embedded{sub: sub, remap: blockMap(f.data, v)})
	}
	return out
}

// blockMap maps positions in a block scalar's text (a literal | block,
// whose body starts on the line after the indicator) to the file.
func blockMap(data []byte, v *yaml.Node) func(Finding) Finding {
	literal := v.Style == yaml.LiteralStyle || v.Style == yaml.FoldedStyle
	indent := 0
	if literal {
		indent = blockIndent(data, v.Line+1)
	}
	return func(fd Finding) Finding {
		if !literal || fd.Line <= 0 {
			fd.Line, fd.Col = v.Line, v.Column
			return fd
		}
		fd.Line += v.Line
		fd.Col = max(1, fd.Col) + indent
		return fd
	}
}

// checkServiceMonitor checks what the operator would refuse or what would
// silently break the stack's alerts.
func checkServiceMonitor(f *file, root *yaml.Node, sm *monitoringv1.ServiceMonitor, opts Options) {
	specNode := mapGet(root, "spec")
	if len(sm.Spec.Selector.MatchLabels) == 0 && len(sm.Spec.Selector.MatchExpressions) == 0 {
		k, _ := mapEntry(specNode, "selector")
		line, col := root.Line, root.Column
		if k != nil {
			line, col = k.Line, k.Column
		}
		f.warnf(line, col, "kubernetes/servicemonitor", "ServiceMonitor %s selects every Service in its namespaces", sm.Name)
	}
	eps := mapGet(specNode, "endpoints")
	if len(sm.Spec.Endpoints) == 0 {
		line, col := root.Line, root.Column
		if k, _ := mapEntry(specNode, "endpoints"); k != nil {
			line, col = k.Line, k.Column
		}
		f.errorf(line, col, "kubernetes/servicemonitor", "ServiceMonitor %s has no endpoints: nothing is scraped", sm.Name)
	}
	for i, ep := range sm.Spec.Endpoints {
		var epNode *yaml.Node
		if eps != nil && i < len(eps.Content) {
			epNode = eps.Content[i]
		}
		pos := func(key string) (int, int) {
			if k, _ := mapEntry(epNode, key); k != nil {
				return k.Line, k.Column
			}
			if epNode != nil {
				return epNode.Line, epNode.Column
			}
			return root.Line, root.Column
		}
		if ep.Port == "" && ep.TargetPort == nil {
			line, col := pos("port")
			f.errorf(line, col, "kubernetes/servicemonitor", "endpoint %d names no port: set port to the name of the Service port serving /metrics", i)
		}
		for key, d := range map[string]monitoringv1.Duration{"interval": ep.Interval, "scrapeTimeout": ep.ScrapeTimeout} {
			if d == "" {
				continue
			}
			if _, err := model.ParseDuration(string(d)); err != nil {
				line, col := pos(key)
				f.errorf(line, col, "kubernetes/servicemonitor", "endpoint %d: %s: %v", i, key, err)
			}
		}
		for j, rc := range append(slices.Clone(ep.RelabelConfigs), ep.MetricRelabelConfigs...) {
			if err := relabelConfig(rc).Validate(model.UTF8Validation); err != nil {
				line, col := pos("relabelings")
				if j >= len(ep.RelabelConfigs) {
					line, col = pos("metricRelabelings")
				}
				f.errorf(line, col, "kubernetes/servicemonitor", "endpoint %d: relabelling %d: %v", i, j, err)
			}
		}
		// The spec's alerts select by job: a ServiceMonitor that names a
		// job the spec does not know scrapes series no alert looks at.
		if opts.Spec != nil {
			for _, rc := range ep.RelabelConfigs {
				if rc.TargetLabel == "job" && rc.Replacement != nil && len(rc.SourceLabels) == 0 {
					if _, ok := opts.Spec.Job(*rc.Replacement); !ok {
						line, col := pos("relabelings")
						f.errorf(line, col, "kubernetes/job", "endpoint %d sets job %q, which is not a scrape job of the spec: its alerts and dashboards select other jobs", i, *rc.Replacement)
					}
				}
			}
		}
	}
}

// relabelConfig is the Prometheus relabel config the operator renders
// from a RelabelConfig, with Prometheus' defaults where it leaves them.
func relabelConfig(rc monitoringv1.RelabelConfig) *relabel.Config {
	c := relabel.DefaultRelabelConfig
	for _, l := range rc.SourceLabels {
		c.SourceLabels = append(c.SourceLabels, model.LabelName(l))
	}
	if rc.Separator != nil {
		c.Separator = *rc.Separator
	}
	c.TargetLabel = rc.TargetLabel
	if rc.Regex != "" {
		re, err := relabel.NewRegexp(rc.Regex)
		if err != nil {
			// Validate reports a nil regex; keep the parse error visible.
			c.Regex = relabel.Regexp{}
		} else {
			c.Regex = re
		}
	}
	c.Modulus = uint64(rc.Modulus)
	if rc.Replacement != nil {
		c.Replacement = *rc.Replacement
	}
	if rc.Action != "" {
		c.Action = relabel.Action(strings.ToLower(rc.Action))
	}
	return &c
}

// checkAlertmanagerConfig checks the routing tree and receivers the way
// the operator and Alertmanager would take them.
func checkAlertmanagerConfig(f *file, root *yaml.Node, amc *monitoringv1alpha1.AlertmanagerConfig) {
	specNode := mapGet(root, "spec")
	receivers := map[string]bool{}
	rcvNodes := mapGet(specNode, "receivers")
	for i, r := range amc.Spec.Receivers {
		var n *yaml.Node
		if rcvNodes != nil && i < len(rcvNodes.Content) {
			n = rcvNodes.Content[i]
		}
		line, col := root.Line, root.Column
		if n != nil {
			line, col = n.Line, n.Column
		}
		if receivers[r.Name] {
			f.errorf(line, col, "alertmanager/config", "receiver %q is defined twice", r.Name)
		}
		receivers[r.Name] = true
		for _, c := range r.SlackConfigs {
			if err := c.Validate(); err != nil {
				f.errorf(line, col, "alertmanager/config", "receiver %q: slack: %v", r.Name, err)
			}
		}
		for _, c := range r.WebhookConfigs {
			if c.URL != nil && *c.URL != "" {
				line, col := line, col
				if u := findKey(n, "url"); u != nil {
					line, col = u.Line, u.Column
				}
				f.warnf(line, col, "security/inline-secret", "receiver %q: a webhook url is written inline: use urlSecret, a key of the Secret made from .env", r.Name)
			}
		}
		var httpConfigs []*monitoringv1alpha1.HTTPConfig
		for _, c := range r.WebhookConfigs {
			httpConfigs = append(httpConfigs, c.HTTPConfig)
		}
		for _, c := range r.SlackConfigs {
			httpConfigs = append(httpConfigs, c.HTTPConfig)
		}
		for _, c := range r.DiscordConfigs {
			httpConfigs = append(httpConfigs, c.HTTPConfig)
		}
		for _, c := range r.PagerDutyConfigs {
			httpConfigs = append(httpConfigs, c.HTTPConfig)
		}
		for _, hc := range httpConfigs {
			if err := hc.Validate(); err != nil {
				f.errorf(line, col, "alertmanager/config", "receiver %q: %v", r.Name, err)
			}
		}
		for _, sel := range secretSelectors(r) {
			if sel.Name == "" || sel.Key == "" {
				f.errorf(line, col, "alertmanager/config", "receiver %q references a Secret without name or key", r.Name)
			}
		}
	}
	routeNode := mapGet(specNode, "route")
	if amc.Spec.Route == nil {
		if len(amc.Spec.Receivers) > 0 {
			f.errorf(root.Line, root.Column, "alertmanager/config", "AlertmanagerConfig %s has receivers but no route: no alert reaches them", amc.Name)
		}
		return
	}
	var walk func(r *monitoringv1alpha1.Route, n *yaml.Node)
	walk = func(r *monitoringv1alpha1.Route, n *yaml.Node) {
		line, col := root.Line, root.Column
		if n != nil {
			line, col = n.Line, n.Column
		}
		if r.Receiver != "" && !receivers[r.Receiver] {
			if k, _ := mapEntry(n, "receiver"); k != nil {
				line, col = k.Line, k.Column
			}
			f.errorf(line, col, "alertmanager/unknown-receiver", "undefined receiver %q used in route", r.Receiver)
		}
		for _, m := range r.Matchers {
			if err := m.Validate(); err != nil {
				f.errorf(line, col, "alertmanager/config", "matcher %s: %v", m, err)
			}
		}
		for key, d := range map[string]*monitoringv1.NonEmptyDuration{"groupWait": r.GroupWait, "groupInterval": r.GroupInterval, "repeatInterval": r.RepeatInterval} {
			if d == nil {
				continue
			}
			if _, err := model.ParseDuration(string(*d)); err != nil {
				f.errorf(line, col, "alertmanager/config", "%s: %v", key, err)
			}
		}
		children, err := r.ChildRoutes()
		if err != nil {
			f.errorf(line, col, "kubernetes/schema", "routes: %v", err)
			return
		}
		kids := mapGet(n, "routes")
		for i := range children {
			var cn *yaml.Node
			if kids != nil && i < len(kids.Content) {
				cn = kids.Content[i]
			}
			walk(&children[i], cn)
		}
	}
	walk(amc.Spec.Route, routeNode)
	for _, in := range amc.Spec.InhibitRules {
		for _, m := range append(slices.Clone(in.SourceMatch), in.TargetMatch...) {
			if err := m.Validate(); err != nil {
				line, col := at(mapGet(specNode, "inhibitRules"), root)
				f.errorf(line, col, "alertmanager/config", "inhibit rule matcher %s: %v", m, err)
			}
		}
	}
}

func at(n, fallback *yaml.Node) (int, int) {
	if n != nil {
		return n.Line, n.Column
	}
	return fallback.Line, fallback.Column
}

// findKey is the first mapping key named key anywhere below n.
func findKey(n *yaml.Node, key string) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i]
			}
		}
	}
	for _, c := range n.Content {
		if k := findKey(c, key); k != nil {
			return k
		}
	}
	return nil
}

func secretSelectors(r monitoringv1alpha1.Receiver) []corev1.SecretKeySelector {
	var out []corev1.SecretKeySelector
	add := func(s *corev1.SecretKeySelector) {
		if s != nil {
			out = append(out, *s)
		}
	}
	for _, c := range r.DiscordConfigs {
		add(&c.APIURL)
	}
	for _, c := range r.SlackConfigs {
		add(c.APIURL)
	}
	for _, c := range r.EmailConfigs {
		add(c.AuthPassword)
	}
	for _, c := range r.PagerDutyConfigs {
		add(c.RoutingKey)
		add(c.ServiceKey)
	}
	for _, c := range r.WebhookConfigs {
		add(c.URLSecret)
	}
	return out
}

// checkKustomization checks that every resource a kustomization lists is
// there and, when they all are local files, builds it as `kubectl apply
// -k` (kustomize) would.
func checkKustomization(f *file, root *yaml.Node, k *kustomize.Kustomization, opts Options) {
	if opts.SyntaxOnly {
		return
	}
	dir := filepath.Dir(f.path)
	res := mapGet(root, "resources")
	local := true
	for i, r := range k.Resources {
		line, col := at(res, root)
		if res != nil && i < len(res.Content) {
			line, col = res.Content[i].Line, res.Content[i].Column
		}
		if strings.Contains(r, "://") || strings.HasPrefix(r, "github.com/") {
			local = false
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, r)); err != nil {
			f.errorf(line, col, "kubernetes/missing-resource", "resource %q: %s", r, cleanPathErr(err))
			local = false
		}
	}
	name := filepath.Base(f.path)
	if !local || !slices.Contains([]string{"kustomization.yaml", "kustomization.yml", "Kustomization"}, name) {
		return
	}
	if _, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir); err != nil {
		f.errorf(root.Line, root.Column, "kubernetes/kustomize", "kustomize build %s: %v", dir, err)
	}
}
