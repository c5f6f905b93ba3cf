package kube_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/investiq/investiq-mon/internal/kube"
	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/internal/validate"
	"github.com/investiq/investiq-mon/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

func renderTo(t *testing.T) (string, []render.File) {
	t.Helper()
	files, err := kube.Render(spec.Default())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := render.Write(dir, files); err != nil {
		t.Fatal(err)
	}
	return dir, files
}

func TestGolden(t *testing.T) {
	files, err := kube.Render(spec.Default())
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "golden")
	if *update {
		os.RemoveAll(golden)
		if err := render.Write(golden, files); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(golden)
	if err != nil {
		t.Fatalf("%v\nrun `go test ./internal/kube -update` to create the golden files", err)
	}
	if len(entries) != len(files) {
		t.Errorf("%d golden files, %d rendered: run `go test ./internal/kube -update` if that is intended", len(entries), len(files))
	}
	for _, f := range files {
		want, err := os.ReadFile(filepath.Join(golden, f.Path))
		if err != nil {
			t.Errorf("%v\nrun `go test ./internal/kube -update` to create the golden file", err)
			continue
		}
		if !bytes.Equal(want, f.Data) {
			drifts, _ := render.Check(golden, []render.File{f})
			diff := ""
			if len(drifts) > 0 {
				diff = drifts[0].Diff
			}
			t.Errorf("%s differs from its golden file; if the change is intended run `go test ./internal/kube -update`\n%s", f.Path, diff)
		}
	}
}

func TestRenderIsDeterministicAndSaysItIsGenerated(t *testing.T) {
	a, err := kube.Render(spec.Default())
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		b, err := kube.Render(spec.Default())
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Fatalf("%d files, then %d", len(a), len(b))
		}
		for i := range a {
			if a[i].Path != b[i].Path || !bytes.Equal(a[i].Data, b[i].Data) {
				t.Fatalf("%s differs between two runs", a[i].Path)
			}
		}
	}
	for _, f := range a {
		if !bytes.Contains(f.Data, []byte(kube.Command)) {
			t.Errorf("%s does not name %q as its generator", f.Path, kube.Command)
		}
	}
}

// Every manifest decodes strictly into the operator's and Kubernetes' own
// types, and carries what the compose stack carries.
func TestManifestsDecodeStrictlyWithTheOperatorTypes(t *testing.T) {
	s := spec.Default()
	_, files := renderTo(t)
	byPath := map[string][]byte{}
	for _, f := range files {
		byPath[f.Path] = f.Data
	}
	strict := func(p string, into any) {
		t.Helper()
		if err := sigsyaml.UnmarshalStrict(byPath[p], into); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}

	var alerts, slos monitoringv1.PrometheusRule
	strict(kube.AlertsRule, &alerts)
	strict(kube.SLORule, &slos)
	var names []string
	for _, g := range alerts.Spec.Groups {
		if g.Labels["namespace"] != s.Kubernetes.Namespace {
			t.Errorf("group %s: namespace label %q, want %q (AlertmanagerConfig routes only alerts of its namespace)", g.Name, g.Labels["namespace"], s.Kubernetes.Namespace)
		}
		for _, r := range g.Rules {
			names = append(names, r.Alert)
		}
	}
	var want []string
	for _, a := range s.Alerts {
		want = append(want, a.Name)
	}
	if !slices.Equal(names, want) {
		t.Errorf("PrometheusRule alerts %q, spec %q", names, want)
	}
	records := 0
	for _, g := range slos.Spec.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				records++
			}
		}
	}
	if records != 22 {
		t.Errorf("%d recording rules in the SLO PrometheusRule, want 22", records)
	}

	for _, j := range s.Jobs {
		p := kube.ServiceMonitorFile(j.Name)
		if j.StackAuth {
			if _, ok := byPath[p]; ok {
				t.Errorf("%s rendered for the stack's own server", p)
			}
			continue
		}
		var sm monitoringv1.ServiceMonitor
		strict(p, &sm)
		ep := sm.Spec.Endpoints[0]
		if ep.Path != j.MetricsPath || ep.Port == "" || len(ep.RelabelConfigs) != 1 || *ep.RelabelConfigs[0].Replacement != j.Name {
			t.Errorf("%s: endpoint %+v: want path %s, a port and the job label %s", p, ep, j.MetricsPath, j.Name)
		}
	}

	var amc monitoringv1alpha1.AlertmanagerConfig
	strict(kube.AlertmanagerConfig, &amc)
	if len(amc.Spec.Receivers) != len(s.Receivers) {
		t.Errorf("%d receivers, spec has %d", len(amc.Spec.Receivers), len(s.Receivers))
	}
	children, err := amc.Spec.Route.ChildRoutes()
	if err != nil || len(children) != len(s.Routing.Routes) {
		t.Errorf("%d child routes (%v), spec has %d", len(children), err, len(s.Routing.Routes))
	}
	// Secrets are references to the Secret made from .env, never values.
	secretKeys := map[string]bool{}
	for _, sec := range s.Secrets() {
		secretKeys[sec.Env] = true
	}
	for _, r := range amc.Spec.Receivers {
		var sels []*corev1.SecretKeySelector
		for _, c := range r.DiscordConfigs {
			sels = append(sels, &c.APIURL)
		}
		for _, c := range r.SlackConfigs {
			sels = append(sels, c.APIURL)
		}
		for _, c := range r.EmailConfigs {
			sels = append(sels, c.AuthPassword)
		}
		for _, c := range r.PagerDutyConfigs {
			sels = append(sels, c.RoutingKey)
		}
		for _, c := range r.WebhookConfigs {
			sels = append(sels, c.URLSecret)
			if c.URL != nil {
				t.Errorf("receiver %s: webhook url inline", r.Name)
			}
		}
		if len(sels) != 1 || sels[0] == nil || sels[0].Name != s.Kubernetes.SecretName || !secretKeys[sels[0].Key] {
			t.Errorf("receiver %s: secret selectors %+v, want one key of Secret %s", r.Name, sels, s.Kubernetes.SecretName)
		}
	}

	for _, d := range s.Dashboards {
		var cm corev1.ConfigMap
		strict(kube.DashboardFile(d.UID), &cm)
		if cm.Labels[kube.GrafanaDashboardLabel] != "1" {
			t.Errorf("%s: labels %v, want %s: \"1\"", d.UID, cm.Labels, kube.GrafanaDashboardLabel)
		}
		rendered, _ := render.Render(s)
		for _, f := range rendered {
			if f.Path == "grafana/dashboards/"+d.File && cm.Data[d.File] != string(f.Data) {
				t.Errorf("%s: the ConfigMap's dashboard differs from grafana/dashboards/%s", d.UID, d.File)
			}
		}
	}
}

// investiq-mon validate accepts the whole directory with every check on:
// the strict decoding, the PrometheusRules' groups through the promtool
// parity path and the spec cross-checks, the dashboards and datasource in
// their ConfigMaps, and a kustomize build of the kustomization.
func TestManifestsValidateClean(t *testing.T) {
	dir, files := renderTo(t)
	res, err := validate.Run(context.Background(), []string{dir}, validate.Options{Spec: spec.Default()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != len(files) {
		t.Errorf("validated %d files, rendered %d", len(res.Files), len(files))
	}
	for _, f := range res.Findings {
		t.Errorf("%s", f)
	}
}

// The real promtool agrees on the rules inside each PrometheusRule.
func TestPrometheusRuleGroupsPassPromtool(t *testing.T) {
	promtool := testutil.Bin(t, "promtool")
	_, files := renderTo(t)
	dir := t.TempDir()
	n := 0
	for _, f := range files {
		if f.Path != kube.AlertsRule && f.Path != kube.SLORule {
			continue
		}
		var pr monitoringv1.PrometheusRule
		if err := sigsyaml.UnmarshalStrict(f.Data, &pr); err != nil {
			t.Fatal(err)
		}
		data, err := sigsyaml.Marshal(pr.Spec)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, strings.TrimSuffix(f.Path, ".yaml")+".rules.yml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(promtool, "check", "rules", p).CombinedOutput()
		if err != nil {
			t.Errorf("promtool check rules %s: %v\n%s", f.Path, err, out)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("checked %d PrometheusRules, want 2", n)
	}
}

// `kubectl apply -k` builds the directory with kustomize; the same build,
// in process, yields every resource in the spec's namespace.
func TestKustomizeBuild(t *testing.T) {
	dir, files := renderTo(t)
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, r := range rm.Resources() {
		kinds[r.GetKind()]++
		if ns := r.GetNamespace(); ns != spec.Default().Kubernetes.Namespace {
			t.Errorf("%s %s in namespace %q", r.GetKind(), r.GetName(), ns)
		}
	}
	if got := len(rm.Resources()); got != len(files)-1 {
		t.Errorf("kustomize built %d resources, want %d (every file but the kustomization)", got, len(files)-1)
	}
	want := map[string]int{"PrometheusRule": 2, "ServiceMonitor": 2, "AlertmanagerConfig": 1, "ConfigMap": 3}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d %s, want %d", kinds[k], k, n)
		}
	}
}
