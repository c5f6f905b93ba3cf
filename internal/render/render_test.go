package render_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/investiq/investiq-mon/internal/files"
	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files: the committed monitoring/ and testdata/golden-scale")

// renderTo renders the default spec into a fresh directory.
func renderTo(t *testing.T) (string, []render.File) {
	t.Helper()
	rendered, err := render.Render(spec.Default())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := files.Write(dir, rendered); err != nil {
		t.Fatal(err)
	}
	return dir, rendered
}

func TestGolden(t *testing.T) {
	rendered, err := render.Render(spec.Default())
	if err != nil {
		t.Fatal(err)
	}
	// The golden files of the default spec are the committed stack
	// itself, which `generate --check` keeps equal to the spec in CI.
	// -update rewrites them in place and removes nothing: monitoring/
	// also holds .env.
	golden := filepath.Join("..", "..", "monitoring")
	if *update {
		if err := files.Write(golden, rendered); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range rendered {
		t.Run(f.Path, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(golden, filepath.FromSlash(f.Path)))
			if err != nil {
				t.Fatalf("%v\nrun `go test ./internal/render -update` to create the golden file", err)
			}
			if !bytes.Equal(want, f.Data) {
				drifts, _ := files.Check(golden, []render.File{f})
				diff := ""
				if len(drifts) > 0 {
					diff = drifts[0].Diff
				}
				t.Errorf("%s differs from its golden file; if the change is intended run `go test ./internal/render -update`\n%s", f.Path, diff)
			}
		})
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	a, err := render.Render(spec.Default())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		b, err := render.Render(spec.Default())
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Fatalf("run %d rendered %d files, first run %d", i, len(b), len(a))
		}
		for j := range a {
			if a[j].Path != b[j].Path || !bytes.Equal(a[j].Data, b[j].Data) {
				t.Fatalf("run %d: %s differs from the first run", i, a[j].Path)
			}
		}
	}
}

func TestEveryFileSaysItIsGenerated(t *testing.T) {
	rendered, err := render.Render(spec.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rendered {
		if !bytes.Contains(f.Data, []byte(render.Command)) {
			t.Errorf("%s does not name %q as its generator", f.Path, render.Command)
		}
	}
}

func TestRenderedFilesLoadThroughUpstreamParsers(t *testing.T) {
	dir, _ := renderTo(t)
	t.Run("prometheus.yml loads with config.LoadFile", func(t *testing.T) {
		cfg, err := promconfig.LoadFile(filepath.Join(dir, render.PrometheusConfig), false, promslog.NewNopLogger())
		if err != nil {
			t.Fatal(err)
		}
		jobs := map[string]bool{}
		for _, sc := range cfg.ScrapeConfigs {
			jobs[sc.JobName] = true
		}
		for _, j := range []string{spec.JobAPI, spec.JobML, spec.JobPrometheus, spec.JobAlertmanager} {
			if !jobs[j] {
				t.Errorf("job %s missing from prometheus.yml", j)
			}
		}
		if got := cfg.GlobalConfig.EvaluationInterval; got != model.Duration(10e9) {
			t.Errorf("evaluation_interval = %v, want 10s", got)
		}
	})
	t.Run("alert rules load with rulefmt and every expr parses", func(t *testing.T) {
		groups, errs := rulefmt.ParseFile(filepath.Join(dir, render.AlertRules), false, model.UTF8Validation, parser.NewParser(parser.Options{}), promslog.NewNopLogger())
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		n := 0
		for _, g := range groups.Groups {
			n += len(g.Rules)
		}
		if n != len(spec.Default().Alerts) {
			t.Errorf("%d rules rendered, spec has %d alerts", n, len(spec.Default().Alerts))
		}
	})
	t.Run("alertmanager.yml loads with config.LoadFile", func(t *testing.T) {
		cfg, err := amconfig.LoadFile(filepath.Join(dir, render.AlertmanagerConfig))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Route.Receiver != "discord" || len(cfg.Receivers) != 5 {
			t.Errorf("route receiver %q, %d receivers; want discord and 5", cfg.Route.Receiver, len(cfg.Receivers))
		}
	})
	t.Run("docker-compose.yml validates with compose-go", func(t *testing.T) {
		env := filepath.Join(dir, "test.env")
		if err := os.WriteFile(env, []byte("INVESTIQ_STACK_PASSWORD_BCRYPT='$2a$10$abcdefghijklmnopqrstuv'\nINVESTIQ_STACK_PASSWORD=x\nGRAFANA_ADMIN_PASSWORD=y\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, render.ComposeFile)},
			cli.WithWorkingDirectory(dir), cli.WithEnvFiles(env), cli.WithDotEnv, cli.WithProfiles([]string{render.ComposeProfile}))
		if err != nil {
			t.Fatal(err)
		}
		p, err := opts.LoadProject(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range spec.ComponentNames() {
			svc, ok := p.Services[name]
			if !ok {
				t.Errorf("service %s missing under profile %s", name, render.ComposeProfile)
				continue
			}
			for _, port := range svc.Ports {
				if port.HostIP != "127.0.0.1" {
					t.Errorf("service %s publishes %s on %q, want 127.0.0.1", name, port.Published, port.HostIP)
				}
			}
			if svc.HealthCheck == nil {
				t.Errorf("service %s has no healthcheck", name)
			}
		}
		// Every secret file a service's mounted configs or environment name
		// must be one compose gives that service: a missing one breaks
		// Alertmanager's healthcheck (amtool reads stack_password).
		secretRef := regexp.MustCompile(`/run/secrets/([A-Za-z0-9_]+)`)
		for name, svc := range p.Services {
			given := map[string]bool{}
			for _, sec := range svc.Secrets {
				given[sec.Source] = true
			}
			var refs []string
			for _, v := range svc.Volumes {
				if v.Type != "bind" {
					continue
				}
				filepath.WalkDir(v.Source, func(path string, d os.DirEntry, err error) error {
					if err == nil && !d.IsDir() {
						data, _ := os.ReadFile(path)
						for _, m := range secretRef.FindAllStringSubmatch(string(data), -1) {
							refs = append(refs, m[1]+" (in "+filepath.Base(path)+")")
						}
					}
					return nil
				})
			}
			for k, v := range svc.Environment {
				if v != nil {
					for _, m := range secretRef.FindAllStringSubmatch(*v, -1) {
						refs = append(refs, m[1]+" (in $"+k+")")
					}
				}
			}
			if len(refs) == 0 {
				t.Errorf("service %s reads no secret at all; the check below would prove nothing", name)
			}
			for _, r := range refs {
				if !given[strings.Fields(r)[0]] {
					t.Errorf("service %s reads /run/secrets/%s but compose does not give it that secret", name, r)
				}
			}
		}
		web := p.Configs["web_config"].Content
		if !strings.Contains(web, "$2a$10$abcdefghijklmnopqrstuv") {
			t.Errorf("web config content did not take the bcrypt hash from .env: %q", web)
		}
		if got := p.Services["grafana"].Ports[0].Published; got != "3001" {
			t.Errorf("grafana published on %s, want 3001", got)
		}
	})
}

// The real tools at the pinned versions, as a user or CI would run them.
func TestRenderedFilesPassPromtoolAndAmtool(t *testing.T) {
	promtool := testutil.Bin(t, "promtool")
	amtool := testutil.Bin(t, "amtool")
	dir, _ := renderTo(t)
	for _, tc := range []struct {
		name string
		cmd  *exec.Cmd
	}{
		{"promtool check config", exec.Command(promtool, "check", "config", "--syntax-only", filepath.Join(dir, render.PrometheusConfig))},
		{"promtool check rules", exec.Command(promtool, "check", "rules", filepath.Join(dir, render.AlertRules))},
		{"amtool check-config", exec.Command(amtool, "check-config", filepath.Join(dir, render.AlertmanagerConfig))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s failed: %v\n%s", tc.name, err, out)
			}
		})
	}
}

// Alertmanager and Prometheus configs name secret files, never secrets:
// each integration must use its *_file form.
func TestSecretsAreReadFromFiles(t *testing.T) {
	rendered, err := render.Render(spec.Default())
	if err != nil {
		t.Fatal(err)
	}
	inline := regexp.MustCompile(`(?m)^\s*-?\s*(password|webhook_url|api_url|routing_key|auth_password|url|service_key|bot_token):`)
	checked := 0
	for _, f := range rendered {
		if f.Path != render.AlertmanagerConfig && f.Path != render.PrometheusConfig {
			continue
		}
		checked++
		if m := inline.Find(f.Data); m != nil {
			t.Errorf("%s holds an inline secret field %q; use the *_file form", f.Path, strings.TrimSpace(string(m)))
		}
		if !bytes.Contains(f.Data, []byte("_file: /run/secrets/")) {
			t.Errorf("%s reads no secret from /run/secrets", f.Path)
		}
	}
	if checked != 2 {
		t.Fatalf("checked %d files, want 2", checked)
	}
}

// loadCompose loads dir's compose file in compose's own loader.
func loadCompose(t *testing.T, dir string) *types.Project {
	t.Helper()
	po, err := cli.NewProjectOptions([]string{filepath.Join(dir, render.ComposeFile)}, cli.WithWorkingDirectory(dir),
		cli.WithEnv([]string{spec.EnvStackBcrypt + "=x"}), cli.WithProfiles([]string{render.ComposeProfile}))
	if err != nil {
		t.Fatal(err)
	}
	p, err := po.LoadProject(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Alertmanager gossips on 0.0.0.0:9094 unless told otherwise, and a peer
// that joins replicates silences without basic auth: the compose command
// must turn clustering off (TestComposeEndToEnd proves the port is closed
// on a real engine).
func TestComposeAlertmanagerHasNoClusterListener(t *testing.T) {
	dir, _ := renderTo(t)
	p := loadCompose(t, dir)
	am, ok := p.Services[spec.Alertmanager]
	if !ok {
		t.Fatal("no alertmanager service")
	}
	n := 0
	for _, a := range am.Command {
		if strings.HasPrefix(a, "--cluster.") {
			n++
			if a != "--cluster.listen-address=" {
				t.Errorf("alertmanager command has %q, want only --cluster.listen-address=", a)
			}
		}
	}
	if n != 1 {
		t.Errorf("alertmanager command %q: want --cluster.listen-address= exactly once", am.Command)
	}
}

// A component the spec adds gets its compose service from its own
// description, with nothing added to the compose renderer: the image, the
// command its Program builds, its port, folder and volume, a healthcheck
// on its ReadyPath. The file loads in compose's own loader.
func TestComposeRunsAComponentTheSpecAdds(t *testing.T) {
	s := spec.Default()
	s.ExtraComponents = append(s.ExtraComponents, spec.Component{
		Name: "blackbox", Image: "prom/blackbox-exporter:v0.25.0", Port: 9115, HostPort: 9115,
		ConfigMount: "/etc/blackbox", Volume: "blackbox_data", DataMount: "/data", ReadyPath: "/-/healthy",
		Program: spec.Program{Binary: "blackbox_exporter", Command: func(_ *spec.Spec, r spec.Run) ([]string, []string) {
			return []string{"--config.file=" + r.ConfigDir + "/blackbox.yml", "--web.listen-address=" + r.Addr}, nil
		}},
	})
	rendered, err := render.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := files.Write(dir, rendered); err != nil {
		t.Fatal(err)
	}
	p := loadCompose(t, dir)
	bb, ok := p.Services["blackbox"]
	if !ok {
		t.Fatalf("no blackbox service in %s", render.ComposeFile)
	}
	want := []string{"--config.file=/etc/blackbox/blackbox.yml", "--web.listen-address=0.0.0.0:9115"}
	if bb.Image != "prom/blackbox-exporter:v0.25.0" || bb.ContainerName != "investiq-blackbox" || !slices.Equal([]string(bb.Command), want) {
		t.Errorf("blackbox service: image %q, container %q, command %q; want the component's image, <project>-blackbox and %q", bb.Image, bb.ContainerName, bb.Command, want)
	}
	if len(bb.Ports) != 1 || bb.Ports[0].Published != "9115" || bb.Ports[0].Target != 9115 || bb.Ports[0].HostIP != "127.0.0.1" {
		t.Errorf("blackbox ports %+v: want 127.0.0.1:9115:9115", bb.Ports)
	}
	if _, ok := p.Volumes["blackbox_data"]; !ok {
		t.Errorf("volumes %v: want blackbox_data", p.Volumes)
	}
	if bb.HealthCheck == nil || !slices.Contains(bb.HealthCheck.Test, "http://localhost:9115/-/healthy") {
		t.Errorf("blackbox healthcheck %+v: want a GET of its ReadyPath", bb.HealthCheck)
	}
}

// Links in notifications name the ports and address the settings file
// chose, for both servers: a port moved in investiq-mon.yaml moves the
// links with it (Alertmanager's was once fixed at localhost:9093).
func TestComposeExternalURLsFollowTheSettings(t *testing.T) {
	for _, tc := range []struct {
		publish    string
		prom, am   string
		promP, amP int
	}{
		{"127.0.0.1", "http://127.0.0.1:9090", "http://127.0.0.1:9093", 9090, 9093},
		{"0.0.0.0", "http://localhost:19090", "http://localhost:19093", 19090, 19093},
		{"::1", "http://[::1]:29090", "http://[::1]:29093", 29090, 29093},
	} {
		set := spec.DefaultSettings()
		set.PublishAddress, set.PrometheusPort, set.AlertmanagerPort = tc.publish, tc.promP, tc.amP
		s := spec.InvestIQ(set)
		files, err := render.Render(s)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		for _, f := range files {
			if f.Path == render.ComposeFile {
				if err := os.WriteFile(filepath.Join(dir, f.Path), f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		p := loadCompose(t, dir)
		for name, want := range map[string]string{spec.Prometheus: tc.prom, spec.Alertmanager: tc.am} {
			if !slices.Contains(p.Services[name].Command, "--web.external-url="+want) {
				t.Errorf("publish %s: %s command %q lacks --web.external-url=%s", tc.publish, name, p.Services[name].Command, want)
			}
		}
	}
}
