package render

import (
	"path"

	"github.com/investiq/investiq-mon/spec"
)

// GrafanaDatasources is Grafana's datasource provisioning file: the
// compose stack's (renderGrafana) and the ConfigMap a cluster's Grafana
// sidecar loads (internal/kube).
type GrafanaDatasources struct {
	APIVersion  int                 `yaml:"apiVersion"`
	Datasources []GrafanaDatasource `yaml:"datasources"`
}

// GrafanaDatasource is one provisioned datasource.
type GrafanaDatasource struct {
	Name           string            `yaml:"name"`
	UID            string            `yaml:"uid"`
	Type           string            `yaml:"type"`
	Access         string            `yaml:"access"`
	URL            string            `yaml:"url"`
	IsDefault      bool              `yaml:"isDefault"`
	Editable       bool              `yaml:"editable"`
	BasicAuth      bool              `yaml:"basicAuth,omitempty"`
	BasicAuthUser  string            `yaml:"basicAuthUser,omitempty"`
	JSONData       map[string]any    `yaml:"jsonData,omitempty"`
	SecureJSONData map[string]string `yaml:"secureJsonData,omitempty"`
}

type dashboardProvisioning struct {
	APIVersion int                 `yaml:"apiVersion"`
	Providers  []dashboardProvider `yaml:"providers"`
}

type dashboardProvider struct {
	Name                  string                   `yaml:"name"`
	OrgID                 int                      `yaml:"orgId"`
	Folder                string                   `yaml:"folder"`
	Type                  string                   `yaml:"type"`
	DisableDeletion       bool                     `yaml:"disableDeletion"`
	AllowUIUpdates        bool                     `yaml:"allowUiUpdates"`
	UpdateIntervalSeconds int                      `yaml:"updateIntervalSeconds"`
	Options               dashboardProviderOptions `yaml:"options"`
}

type dashboardProviderOptions struct {
	Path string `yaml:"path"`
}

// DatasourceName is the provisioned Prometheus datasource's display name.
const DatasourceName = "Prometheus"

func renderGrafana(s *spec.Spec) ([]File, error) {
	ds := GrafanaDatasources{APIVersion: 1, Datasources: []GrafanaDatasource{{
		Name: DatasourceName, UID: s.DatasourceUID, Type: "prometheus", Access: "proxy",
		URL: s.PrometheusURL, IsDefault: true, Editable: false,
		BasicAuth: true, BasicAuthUser: s.StackUser,
		JSONData: map[string]any{"httpMethod": "POST", "timeInterval": dur(minInterval(s))},
		// Grafana expands $__file{} when it provisions, so the password is
		// read from the secret file and never written here.
		SecureJSONData: map[string]string{"basicAuthPassword": "$__file{" + s.SecretPath(spec.SecretStackPassword) + "}"},
	}}}
	dsFile, err := yamlFile(DatasourceProvision, "Grafana datasource: Prometheus, with the fixed uid every dashboard panel references.", ds)
	if err != nil {
		return nil, err
	}
	dp := dashboardProvisioning{APIVersion: 1, Providers: []dashboardProvider{{
		Name: s.Project, OrgID: 1, Folder: "InvestIQ", Type: "file",
		// Provisioned dashboards are generated: changes belong in the spec.
		DisableDeletion: true, AllowUIUpdates: false, UpdateIntervalSeconds: 30,
		Options: dashboardProviderOptions{Path: s.GrafanaDashboardsDir},
	}}}
	dpFile, err := yamlFile(DashboardProvision, "Grafana dashboard provider: loads the generated dashboards from disk.", dp)
	if err != nil {
		return nil, err
	}
	files := []File{dsFile.as(spec.Grafana, Provisioning), dpFile.as(spec.Grafana, Provisioning)}
	for _, d := range Dashboards(s) {
		data, err := renderDashboard(s, d)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: path.Join(DashboardsDir, d.File), Data: data, Mode: 0o644, Component: spec.Grafana, Role: Dashboard})
	}
	return files, nil
}
