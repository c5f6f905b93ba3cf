package render_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/prometheus/common/promslog"
	promconfig "github.com/prometheus/prometheus/config"

	"github.com/investiq/investiq-mon/internal/files"
	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/internal/validate"
	"github.com/investiq/investiq-mon/spec"
)

// scaleSpec is the default spec with everything spec/scale.go offers
// turned on: two remote-write queues (basic auth with relabelling and a
// tuned queue; a bearer token) and a federation of two regions.
func scaleSpec() *spec.Spec {
	s := spec.Default()
	s.RemoteWrite = []spec.RemoteWrite{
		{
			Name: "longterm", URL: "https://mimir.example/api/v1/push",
			BasicAuthUser: "investiq", PasswordSecret: "remote_write_password",
			Queue: spec.Queue{MaxSamplesPerSend: 2000, BatchSendDeadline: 5 * time.Second, MaxBackoff: 10 * time.Second},
			Relabel: []spec.WriteRelabel{
				{Action: spec.Drop, SourceLabels: []string{"__name__", "endpoint"}, Regex: "investiq_request_duration_milliseconds_bucket;.+"},
				{Action: spec.LabelDrop, Regex: "pod_template_hash"},
			},
		},
		{Name: "hosted", URL: "https://metrics.example/api/prom/push", BearerTokenSecret: "hosted_metrics_token"},
	}
	s.Federation = &spec.Federation{Sources: []spec.FederationSource{
		{Name: "eu", Address: "prometheus-eu.investiq.example:9090"},
		{Name: "us", Address: "prometheus-us.investiq.example:9090", User: "global", PasswordSecret: "prometheus_us_password"},
	}}
	return s
}

// The scale files have golden files of their own: the default spec
// renders neither a remote_write section nor a global server.
func TestScaleGolden(t *testing.T) {
	rendered, err := render.Render(scaleSpec())
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "golden-scale")
	want := map[string]bool{render.PrometheusConfig: true, render.GlobalPrometheusConfig: true, render.EnvExample: true, render.ComposeFile: true}
	var picked []render.File
	for _, f := range rendered {
		if want[f.Path] {
			picked = append(picked, f)
		}
	}
	if len(picked) != len(want) {
		t.Fatalf("rendered %d of the %d scale files", len(picked), len(want))
	}
	if *update {
		os.RemoveAll(golden)
		if err := files.Write(golden, picked); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range picked {
		got, err := os.ReadFile(filepath.Join(golden, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatalf("%v\nrun `go test ./internal/render -update` to create the golden file", err)
		}
		if !bytes.Equal(got, f.Data) {
			drifts, _ := files.Check(golden, []render.File{f})
			diff := ""
			if len(drifts) > 0 {
				diff = drifts[0].Diff
			}
			t.Errorf("%s differs from its golden file; if the change is intended run `go test ./internal/render -update`\n%s", f.Path, diff)
		}
	}

	def, err := render.Render(spec.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range def {
		if f.Path == render.GlobalPrometheusConfig {
			t.Errorf("the default spec has no federation but rendered %s", f.Path)
		}
		if f.Path == render.PrometheusConfig && bytes.Contains(f.Data, []byte("remote_write")) {
			t.Errorf("the default spec has no remote write but prometheus.yml has:\n%s", f.Data)
		}
	}
}

// Prometheus' own loader reads back exactly what the spec says, and
// investiq-mon validate finds nothing wrong with either file.
func TestScaleConfigsLoadWithPrometheusLoader(t *testing.T) {
	s := scaleSpec()
	rendered, err := render.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := files.Write(dir, rendered); err != nil {
		t.Fatal(err)
	}

	cfg, err := promconfig.LoadFile(filepath.Join(dir, render.PrometheusConfig), false, promslog.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.RemoteWriteConfigs) != 2 {
		t.Fatalf("%d remote_write queues loaded, want 2", len(cfg.RemoteWriteConfigs))
	}
	lt, hosted := cfg.RemoteWriteConfigs[0], cfg.RemoteWriteConfigs[1]
	if lt.Name != "longterm" || lt.URL.String() != "https://mimir.example/api/v1/push" {
		t.Errorf("first queue %q at %s", lt.Name, lt.URL)
	}
	if ba := lt.HTTPClientConfig.BasicAuth; ba == nil || ba.Username != "investiq" || ba.PasswordFile != "/run/secrets/remote_write_password" || ba.Password != "" {
		t.Errorf("basic auth %+v: want user investiq, password from /run/secrets/remote_write_password, no inline password", ba)
	}
	if lt.QueueConfig.MaxSamplesPerSend != 2000 || time.Duration(lt.QueueConfig.BatchSendDeadline) != 5*time.Second || time.Duration(lt.QueueConfig.MaxBackoff) != 10*time.Second {
		t.Errorf("queue %+v", lt.QueueConfig)
	}
	if len(lt.WriteRelabelConfigs) != 2 || string(lt.WriteRelabelConfigs[0].Action) != "drop" || !lt.WriteRelabelConfigs[0].Regex.MatchString("investiq_request_duration_milliseconds_bucket;/api/trades") {
		t.Errorf("write relabel configs %+v", lt.WriteRelabelConfigs)
	}
	if a := hosted.HTTPClientConfig.Authorization; a == nil || a.Type != "Bearer" || a.CredentialsFile != "/run/secrets/hosted_metrics_token" || a.Credentials != "" {
		t.Errorf("bearer auth %+v: want a credentials file, no inline token", a)
	}

	global, err := promconfig.LoadFile(filepath.Join(dir, render.GlobalPrometheusConfig), false, promslog.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	if len(global.ScrapeConfigs) != 2 {
		t.Fatalf("%d federation jobs, want one per source", len(global.ScrapeConfigs))
	}
	for _, sc := range global.ScrapeConfigs {
		if !sc.HonorLabels || sc.MetricsPath != "/federate" {
			t.Errorf("job %s: honor_labels %v, path %s", sc.JobName, sc.HonorLabels, sc.MetricsPath)
		}
		if got := sc.Params["match[]"]; strings.Join(got, " ") != strings.Join(spec.FederationMatch, " ") {
			t.Errorf("job %s: match[] %q", sc.JobName, got)
		}
	}
	if ba := global.ScrapeConfigs[1].HTTPClientConfig.BasicAuth; ba == nil || ba.Username != "global" || ba.PasswordFile != "/run/secrets/prometheus_us_password" {
		t.Errorf("us source basic auth %+v", ba)
	}

	res, err := validate.Run(context.Background(), []string{filepath.Join(dir, render.PrometheusConfig), filepath.Join(dir, render.GlobalPrometheusConfig)},
		validate.Options{Spec: s, SyntaxOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		t.Errorf("validate: %s", f)
	}
}

// The secrets remote write and federation read are the stack's: .env
// gets a variable for each, and compose hands each to Prometheus.
func TestScaleSecretsJoinTheStackSecrets(t *testing.T) {
	s := scaleSpec()
	want := map[string]string{"remote_write_password": "REMOTE_WRITE_PASSWORD", "hosted_metrics_token": "HOSTED_METRICS_TOKEN", "prometheus_us_password": "PROMETHEUS_US_PASSWORD"}
	for _, sec := range s.Secrets() {
		if env, ok := want[sec.File]; ok {
			if sec.Env != env {
				t.Errorf("secret %s in .env as %s, want %s", sec.File, sec.Env, env)
			}
			delete(want, sec.File)
		}
	}
	for f := range want {
		t.Errorf("secret %s is not among the stack's secrets", f)
	}
	// Compose hands each secret to the service that reads it: the remote
	// write credentials to Prometheus, not to Alertmanager; the federation
	// password, read by the global server, to neither.
	rendered, err := render.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := files.Write(dir, rendered); err != nil {
		t.Fatal(err)
	}
	po, err := cli.NewProjectOptions([]string{filepath.Join(dir, render.ComposeFile)}, cli.WithWorkingDirectory(dir),
		cli.WithEnv([]string{spec.EnvStackBcrypt + "=x"}), cli.WithProfiles([]string{render.ComposeProfile}))
	if err != nil {
		t.Fatal(err)
	}
	p, err := po.LoadProject(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	given := func(svc string) []string {
		var out []string
		for _, sec := range p.Services[svc].Secrets {
			out = append(out, sec.Source)
		}
		return out
	}
	prom, am := given(spec.Prometheus), given(spec.Alertmanager)
	for _, sec := range []string{"remote_write_password", "hosted_metrics_token"} {
		if !slices.Contains(prom, sec) {
			t.Errorf("Prometheus is not given %s: %q", sec, prom)
		}
		if slices.Contains(am, sec) {
			t.Errorf("Alertmanager is given %s, which only Prometheus reads: %q", sec, am)
		}
	}
	for svc := range p.Services {
		if slices.Contains(given(svc), "prometheus_us_password") {
			t.Errorf("%s is given the federation password, which only the global server reads", svc)
		}
	}
}

// The real promtool agrees with the loader on both files.
func TestScaleConfigsPassPromtool(t *testing.T) {
	promtool := testutil.Bin(t, "promtool")
	rendered, err := render.Render(scaleSpec())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := files.Write(dir, rendered); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{render.PrometheusConfig, render.GlobalPrometheusConfig} {
		out, err := exec.Command(promtool, "check", "config", "--syntax-only", filepath.Join(dir, p)).CombinedOutput()
		if err != nil {
			t.Errorf("promtool check config %s: %v\n%s", p, err, out)
		}
	}
}
