package kube

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kustomize "sigs.k8s.io/kustomize/api/types"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/spec"
)

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

func dur(d time.Duration) string { return model.Duration(d).String() }

func ptr[T any](v T) *T { return &v }

// serviceMonitor scrapes the Service of one job. The job label is set to
// the spec's job name (the operator would name it after the Service), so
// the alerts' up{job="investiq-api"} and the dashboards work unchanged.
func serviceMonitor(s *spec.Spec, j spec.ScrapeJob) *monitoringv1.ServiceMonitor {
	svc := s.Kubernetes.ServiceFor(j)
	sm := &monitoringv1.ServiceMonitor{
		TypeMeta:   typeMeta(monitoringv1.SchemeGroupVersion.String(), monitoringv1.ServiceMonitorsKind),
		ObjectMeta: objectMeta(s, j.Name, nil),
		Spec: monitoringv1.ServiceMonitorSpec{
			Selector: metav1.LabelSelector{MatchLabels: svc.Selector},
			Endpoints: []monitoringv1.Endpoint{{
				Port:     svc.Port,
				Path:     j.MetricsPath,
				Interval: monitoringv1.Duration(dur(j.Interval)),
				RelabelConfigs: []monitoringv1.RelabelConfig{{
					Action: "replace", TargetLabel: "job", Replacement: ptr(j.Name),
				}},
			}},
		},
	}
	if svc.Namespace != "" && svc.Namespace != s.Kubernetes.Namespace {
		sm.Spec.NamespaceSelector = monitoringv1.NamespaceSelector{MatchNames: []string{svc.Namespace}}
	}
	return sm
}

// The parts of the rendered alertmanager.yml the AlertmanagerConfig
// carries over: the keys render writes, nothing Alertmanager defaults.
type amFile struct {
	Route        amRoute     `yaml:"route"`
	InhibitRules []amInhibit `yaml:"inhibit_rules"`
	Receivers    []struct {
		Name           string `yaml:"name"`
		DiscordConfigs []struct {
			SendResolved   bool   `yaml:"send_resolved"`
			WebhookURLFile string `yaml:"webhook_url_file"`
		} `yaml:"discord_configs"`
		SlackConfigs []struct {
			SendResolved bool   `yaml:"send_resolved"`
			APIURLFile   string `yaml:"api_url_file"`
			Channel      string `yaml:"channel"`
			Title        string `yaml:"title"`
			Text         string `yaml:"text"`
		} `yaml:"slack_configs"`
		EmailConfigs []struct {
			SendResolved     bool   `yaml:"send_resolved"`
			To               string `yaml:"to"`
			From             string `yaml:"from"`
			Smarthost        string `yaml:"smarthost"`
			AuthUsername     string `yaml:"auth_username"`
			AuthPasswordFile string `yaml:"auth_password_file"`
		} `yaml:"email_configs"`
		PagerdutyConfigs []struct {
			SendResolved   bool   `yaml:"send_resolved"`
			RoutingKeyFile string `yaml:"routing_key_file"`
			Description    string `yaml:"description"`
		} `yaml:"pagerduty_configs"`
		WebhookConfigs []struct {
			SendResolved bool   `yaml:"send_resolved"`
			URLFile      string `yaml:"url_file"`
		} `yaml:"webhook_configs"`
	} `yaml:"receivers"`
}

type amRoute struct {
	Receiver       string    `yaml:"receiver"`
	GroupBy        []string  `yaml:"group_by"`
	GroupWait      string    `yaml:"group_wait"`
	GroupInterval  string    `yaml:"group_interval"`
	RepeatInterval string    `yaml:"repeat_interval"`
	Matchers       []string  `yaml:"matchers"`
	Continue       bool      `yaml:"continue"`
	Routes         []amRoute `yaml:"routes"`
}

type amInhibit struct {
	SourceMatchers []string `yaml:"source_matchers"`
	TargetMatchers []string `yaml:"target_matchers"`
	Equal          []string `yaml:"equal"`
}

// alertmanagerConfig carries the rendered routing tree and receivers over
// to an AlertmanagerConfig. Each *_file secret becomes a SecretKeySelector
// on the Secret made from .env, keyed by the secret's variable name.
func alertmanagerConfig(s *spec.Spec, rendered []byte) (*monitoringv1alpha1.AlertmanagerConfig, error) {
	var am amFile
	dec := yaml.NewDecoder(strings.NewReader(string(rendered)))
	if err := dec.Decode(&am); err != nil {
		return nil, err
	}
	byPath := map[string]string{}
	for _, sec := range s.Secrets() {
		byPath[s.SecretPath(sec.File)] = sec.Env
	}
	secret := func(file string) (*corev1.SecretKeySelector, error) {
		env, ok := byPath[file]
		if !ok {
			return nil, fmt.Errorf("%s is not a secret of the spec", file)
		}
		return &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: s.Kubernetes.SecretName}, Key: env}, nil
	}

	route, err := convertRoute(am.Route)
	if err != nil {
		return nil, err
	}
	amc := &monitoringv1alpha1.AlertmanagerConfig{
		TypeMeta:   typeMeta(monitoringv1alpha1.SchemeGroupVersion.String(), monitoringv1alpha1.AlertmanagerConfigKind),
		ObjectMeta: objectMeta(s, s.Project, nil),
		Spec:       monitoringv1alpha1.AlertmanagerConfigSpec{Route: route},
	}
	for _, in := range am.InhibitRules {
		src, err := convertMatchers(in.SourceMatchers)
		if err != nil {
			return nil, err
		}
		tgt, err := convertMatchers(in.TargetMatchers)
		if err != nil {
			return nil, err
		}
		amc.Spec.InhibitRules = append(amc.Spec.InhibitRules, monitoringv1alpha1.InhibitRule{SourceMatch: src, TargetMatch: tgt, Equal: in.Equal})
	}
	for _, r := range am.Receivers {
		rc := monitoringv1alpha1.Receiver{Name: r.Name}
		for _, c := range r.DiscordConfigs {
			sel, err := secret(c.WebhookURLFile)
			if err != nil {
				return nil, err
			}
			rc.DiscordConfigs = append(rc.DiscordConfigs, monitoringv1alpha1.DiscordConfig{SendResolved: ptr(c.SendResolved), APIURL: *sel})
		}
		for _, c := range r.SlackConfigs {
			sel, err := secret(c.APIURLFile)
			if err != nil {
				return nil, err
			}
			sc := monitoringv1alpha1.SlackConfig{SendResolved: ptr(c.SendResolved), APIURL: sel}
			for _, f := range []struct {
				dst **string
				v   string
			}{{&sc.Channel, c.Channel}, {&sc.Title, c.Title}, {&sc.Text, c.Text}} {
				if f.v != "" {
					*f.dst = ptr(f.v)
				}
			}
			rc.SlackConfigs = append(rc.SlackConfigs, sc)
		}
		for _, c := range r.EmailConfigs {
			ec := monitoringv1alpha1.EmailConfig{SendResolved: ptr(c.SendResolved), To: ptr(c.To), From: ptr(c.From), Smarthost: ptr(c.Smarthost)}
			if c.AuthUsername != "" {
				ec.AuthUsername = ptr(c.AuthUsername)
			}
			if c.AuthPasswordFile != "" {
				if ec.AuthPassword, err = secret(c.AuthPasswordFile); err != nil {
					return nil, err
				}
			}
			rc.EmailConfigs = append(rc.EmailConfigs, ec)
		}
		for _, c := range r.PagerdutyConfigs {
			sel, err := secret(c.RoutingKeyFile)
			if err != nil {
				return nil, err
			}
			pc := monitoringv1alpha1.PagerDutyConfig{SendResolved: ptr(c.SendResolved), RoutingKey: sel}
			if c.Description != "" {
				pc.Description = ptr(c.Description)
			}
			rc.PagerDutyConfigs = append(rc.PagerDutyConfigs, pc)
		}
		for _, c := range r.WebhookConfigs {
			sel, err := secret(c.URLFile)
			if err != nil {
				return nil, err
			}
			rc.WebhookConfigs = append(rc.WebhookConfigs, monitoringv1alpha1.WebhookConfig{SendResolved: ptr(c.SendResolved), URLSecret: sel})
		}
		amc.Spec.Receivers = append(amc.Spec.Receivers, rc)
	}
	return amc, nil
}

func convertRoute(r amRoute) (*monitoringv1alpha1.Route, error) {
	out := &monitoringv1alpha1.Route{Receiver: r.Receiver, GroupBy: r.GroupBy, Continue: r.Continue}
	for _, d := range []struct {
		dst **monitoringv1.NonEmptyDuration
		v   string
	}{{&out.GroupWait, r.GroupWait}, {&out.GroupInterval, r.GroupInterval}, {&out.RepeatInterval, r.RepeatInterval}} {
		if d.v != "" {
			*d.dst = ptr(monitoringv1.NonEmptyDuration(d.v))
		}
	}
	var err error
	if out.Matchers, err = convertMatchers(r.Matchers); err != nil {
		return nil, err
	}
	for _, child := range r.Routes {
		c, err := convertRoute(child)
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		out.Routes = append(out.Routes, apiextensionsv1.JSON{Raw: raw})
	}
	return out, nil
}

// convertMatchers parses Alertmanager matchers (severity="critical") with
// Alertmanager's own parser into the operator's name, value and type.
func convertMatchers(ms []string) ([]monitoringv1alpha1.Matcher, error) {
	var out []monitoringv1alpha1.Matcher
	for _, m := range ms {
		pm, err := amlabels.ParseMatcher(m)
		if err != nil {
			return nil, fmt.Errorf("matcher %s: %w", m, err)
		}
		out = append(out, monitoringv1alpha1.Matcher{Name: pm.Name, Value: pm.Value, MatchType: monitoringv1alpha1.MatchType(pm.Type.String())})
	}
	return out, nil
}

// The Grafana datasource provisioning file (render's type), as Grafana's
// sidecar loads it from the ConfigMap. Its name is not "Prometheus" and it
// is not the default: kube-prometheus-stack provisions one with both, and
// Grafana refuses two datasources of one name, or two defaults.

// DatasourceName is the Grafana datasource the dashboards use in a cluster.
const DatasourceName = "InvestIQ Prometheus"

func datasourceConfigMap(s *spec.Spec) (*corev1.ConfigMap, error) {
	interval := time.Duration(0)
	for _, j := range s.Jobs {
		if interval == 0 || j.Interval < interval {
			interval = j.Interval
		}
	}
	var buf strings.Builder
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	err := enc.Encode(render.GrafanaDatasources{APIVersion: 1, Datasources: []render.GrafanaDatasource{{
		Name: DatasourceName, UID: s.DatasourceUID, Type: "prometheus", Access: "proxy",
		URL: s.Kubernetes.PrometheusURL, JSONData: map[string]any{"httpMethod": "POST", "timeInterval": dur(interval)},
	}}})
	if err == nil {
		err = enc.Close()
	}
	if err != nil {
		return nil, err
	}
	return &corev1.ConfigMap{
		TypeMeta:   typeMeta("v1", "ConfigMap"),
		ObjectMeta: objectMeta(s, s.Project+"-grafana-datasource", map[string]string{GrafanaDatasourceLabel: "1"}),
		Data:       map[string]string{s.Project + "-datasource.yaml": buf.String()},
	}, nil
}

func dashboardConfigMap(s *spec.Spec, d spec.Dashboard, data []byte) *corev1.ConfigMap {
	cm := &corev1.ConfigMap{
		TypeMeta:   typeMeta("v1", "ConfigMap"),
		ObjectMeta: objectMeta(s, "dashboard-"+d.UID, map[string]string{GrafanaDashboardLabel: "1"}),
		Data:       map[string]string{d.File: string(data)},
	}
	// The folder kube-prometheus-stack's sidecar puts it in, when its
	// folderAnnotation is set to grafana_folder.
	cm.Annotations = map[string]string{"grafana_folder": "InvestIQ"}
	return cm
}

func kustomization(s *spec.Spec, resources []string) *kustomize.Kustomization {
	return &kustomize.Kustomization{
		TypeMeta:  kustomize.TypeMeta{APIVersion: kustomize.KustomizationVersion, Kind: kustomize.KustomizationKind},
		Namespace: s.Kubernetes.Namespace,
		Resources: resources,
	}
}
