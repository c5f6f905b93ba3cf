// Package kube renders the InvestIQ monitoring stack as prometheus-operator
// resources, for a cluster that runs the operator (kube-prometheus-stack or
// the operator on its own): PrometheusRules with the alerting and SLO
// rules, a ServiceMonitor per InvestIQ scrape job, an AlertmanagerConfig
// with the routes, inhibitions and receivers, the Grafana dashboards and
// datasource as ConfigMaps for Grafana's sidecar, and a kustomization.yaml
// listing them, so `kubectl apply -k` applies the lot.
//
// It repackages what internal/render produces for the compose stack (the
// same rule groups, the same routing tree, the same dashboard JSON), so
// the two targets cannot drift apart, and builds every resource with the
// operator's own Go types. Secrets are referenced by SecretKeySelector,
// never copied: the Secret is .env, loaded with
// `kubectl create secret generic <name> --from-env-file=monitoring/.env`.
package kube

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"gopkg.in/yaml.v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/spec"
)

// OperatorVersion is the prometheus-operator API module the resources are
// built and checked with; the CRDs of that release (or a later one) must
// be installed in the cluster.
const OperatorVersion = "v0.95.2"

// DefaultDir is where `generate --target kubernetes` writes unless told.
const DefaultDir = "kubernetes"

// Paths of the generated files, relative to the output directory.
const (
	Kustomization      = "kustomization.yaml"
	AlertsRule         = "prometheusrule-alerts.yaml"
	SLORule            = "prometheusrule-slos.yaml"
	AlertmanagerConfig = "alertmanagerconfig.yaml"
	GrafanaDatasource  = "grafana-datasource.yaml"
)

// ServiceMonitorFile is the file of a scrape job's ServiceMonitor.
func ServiceMonitorFile(job string) string { return "servicemonitor-" + job + ".yaml" }

// DashboardFile is the file of a dashboard's ConfigMap.
func DashboardFile(uid string) string { return "dashboard-" + uid + ".yaml" }

// Labels Grafana's sidecar (kube-prometheus-stack's default) looks for.
const (
	GrafanaDashboardLabel  = "grafana_dashboard"
	GrafanaDatasourceLabel = "grafana_datasource"
)

// Render returns every resource file for the spec, sorted by path, with
// kustomization.yaml listing the others.
func Render(s *spec.Spec) ([]render.File, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	if s.Kubernetes.Namespace == "" || s.Kubernetes.SecretName == "" {
		return nil, fmt.Errorf("%w: kubernetes: Namespace and SecretName are needed for --target kubernetes", spec.ErrInvalid)
	}
	stack, err := render.Render(s)
	if err != nil {
		return nil, err
	}
	rendered := map[string][]byte{}
	for _, f := range stack {
		rendered[f.Path] = f.Data
	}
	var files []render.File
	add := func(p, what string, obj any) error {
		f, err := manifest(p, what, obj)
		if err != nil {
			return err
		}
		files = append(files, f)
		return nil
	}

	for _, rf := range []struct{ from, to, name, what string }{
		{render.AlertRules, AlertsRule, s.Project + "-alerts", "InvestIQ's alerting rules"},
		{render.SLORules, SLORule, s.Project + "-slos", "InvestIQ's SLO recording rules and burn-rate alerts"},
	} {
		data, ok := rendered[rf.from]
		if !ok {
			continue // no SLOs, no SLO rules
		}
		pr, err := prometheusRule(s, rf.name, data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rf.from, err)
		}
		if err := add(rf.to, "PrometheusRule: "+rf.what+" (the groups of "+rf.from+").", pr); err != nil {
			return nil, err
		}
	}
	for _, j := range s.Jobs {
		if j.StackAuth {
			// Prometheus and Alertmanager themselves: the operator's stack
			// monitors its own servers.
			continue
		}
		if err := add(ServiceMonitorFile(j.Name), "ServiceMonitor: scrape job "+j.Name+".", serviceMonitor(s, j)); err != nil {
			return nil, err
		}
	}
	amc, err := alertmanagerConfig(s, rendered[render.AlertmanagerConfig])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", render.AlertmanagerConfig, err)
	}
	if err := add(AlertmanagerConfig, "AlertmanagerConfig: routes, inhibitions and receivers (secrets from Secret "+s.Kubernetes.SecretName+").", amc); err != nil {
		return nil, err
	}
	ds, err := datasourceConfigMap(s)
	if err != nil {
		return nil, err
	}
	if err := add(GrafanaDatasource, "ConfigMap for Grafana's sidecar: the datasource every dashboard panel references.", ds); err != nil {
		return nil, err
	}
	for _, d := range render.Dashboards(s) {
		data, ok := rendered[path.Join(render.DashboardsDir, d.File)]
		if !ok {
			return nil, fmt.Errorf("dashboard %s was not rendered", d.File)
		}
		if err := add(DashboardFile(d.UID), "ConfigMap for Grafana's sidecar: dashboard "+d.Title+".", dashboardConfigMap(s, d, data)); err != nil {
			return nil, err
		}
	}

	var resources []string
	for _, f := range files {
		resources = append(resources, f.Path)
	}
	slices.Sort(resources)
	if err := add(Kustomization, "Kustomization: `kubectl apply -k` applies every resource here.", kustomization(s, resources)); err != nil {
		return nil, err
	}
	slices.SortFunc(files, func(a, b render.File) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

func objectMeta(s *spec.Spec, name string, extra map[string]string) metav1.ObjectMeta {
	labels := map[string]string{}
	for k, v := range s.Kubernetes.Labels {
		labels[k] = v
	}
	for k, v := range extra {
		labels[k] = v
	}
	return metav1.ObjectMeta{Name: name, Namespace: s.Kubernetes.Namespace, Labels: labels}
}

// prometheusRule wraps the groups of a rendered rule file: its keys are
// rulefmt's, which are also PrometheusRule's, so the groups decode into
// the operator's RuleGroup strictly, unchanged but for one group label:
// namespace. The operator routes an AlertmanagerConfig only the alerts
// whose namespace label is the config's own (its default matcher
// strategy, OnNamespace), and an alert that aggregates its labels away
// (max(investiq_trading_halted) == 1) would otherwise have none.
func prometheusRule(s *spec.Spec, name string, ruleFile []byte) (*monitoringv1.PrometheusRule, error) {
	var rs monitoringv1.PrometheusRuleSpec
	if err := sigsyaml.UnmarshalStrict(ruleFile, &rs); err != nil {
		return nil, err
	}
	for i := range rs.Groups {
		if rs.Groups[i].Labels == nil {
			rs.Groups[i].Labels = map[string]string{}
		}
		rs.Groups[i].Labels["namespace"] = s.Kubernetes.Namespace
	}
	return &monitoringv1.PrometheusRule{
		TypeMeta:   typeMeta(monitoringv1.SchemeGroupVersion.String(), monitoringv1.PrometheusRuleKind),
		ObjectMeta: objectMeta(s, name, nil),
		Spec:       rs,
	}, nil
}

// manifest marshals a resource as YAML behind the generated-file header.
// The resource goes through JSON first, as the API server sees it (field
// names from the json tags, in struct order), and then into block-style
// YAML with multi-line strings (PromQL, dashboard JSON) as literal blocks
// a person can read in a diff.
func manifest(p, what string, obj any) (render.File, error) {
	js, err := json.Marshal(obj)
	if err != nil {
		return render.File{}, fmt.Errorf("%s: %w", p, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(js, &doc); err != nil {
		return render.File{}, fmt.Errorf("%s: %w", p, err)
	}
	blockStyle(&doc)
	apiVersionFirst(&doc)
	var buf bytes.Buffer
	buf.WriteString("# " + what + "\n# Generated by `" + render.Command + "` (--target kubernetes) from spec/investiq.go. Do not edit: edit the spec and regenerate.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return render.File{}, fmt.Errorf("%s: %w", p, err)
	}
	if err := enc.Close(); err != nil {
		return render.File{}, fmt.Errorf("%s: %w", p, err)
	}
	return render.File{Path: p, Data: buf.Bytes(), Mode: 0o644}, nil
}

// apiVersionFirst puts apiVersion before kind, as kubectl and every
// manifest a person writes do (TypeMeta's field order is the reverse).
func apiVersionFirst(doc *yaml.Node) {
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "apiVersion" && i > 0 {
			kv := []*yaml.Node{m.Content[i], m.Content[i+1]}
			m.Content = append(kv, slices.Delete(m.Content, i, i+2)...)
			return
		}
	}
}

// blockStyle turns JSON's flow style into YAML's block style; the encoder
// quotes any string that would otherwise read as another type ("1").
func blockStyle(n *yaml.Node) {
	n.Style = 0
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && strings.Contains(n.Value, "\n") {
		n.Style = yaml.LiteralStyle
		// A literal block cannot keep trailing spaces on a line or a
		// leading space on its first; such strings stay quoted.
		if strings.Contains(n.Value, " \n") || strings.HasPrefix(n.Value, " ") {
			n.Style = yaml.DoubleQuotedStyle
		}
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}
