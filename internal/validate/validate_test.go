package validate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/internal/files"
	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/spec"
)

// generated renders InvestIQ's stack, with its .env, into a fresh
// directory, as `investiq-mon generate` does.
func generated(t *testing.T) (string, *spec.Spec) {
	t.Helper()
	s := spec.Default()
	rendered, err := render.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := files.Write(dir, rendered); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.Ensure(dir, s); err != nil {
		t.Fatal(err)
	}
	return dir, s
}

func TestGeneratedStackValidatesClean(t *testing.T) {
	dir, s := generated(t)
	res := run(t, Options{Spec: s, OwnDir: dir}, dir)
	if len(res.Findings) > 0 {
		t.Fatalf("the generated stack has findings:\n%s", findingsText(res))
	}
	kinds := map[Kind]bool{}
	for _, p := range res.Files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if k, err := Detect(p, data); err == nil {
			kinds[k] = true
		}
	}
	for _, k := range []Kind{KindRules, KindPrometheus, KindAlertmanager, KindDashboard, KindProvisioning, KindCompose, KindHTTPConfig} {
		if !kinds[k] {
			t.Errorf("no %s file was checked in the generated stack (checked %v)", k, res.Files)
		}
	}
}

func TestWorldReadableEnvIsReported(t *testing.T) {
	dir, s := generated(t)
	env := filepath.Join(dir, ".env")
	if err := os.Chmod(env, 0o644); err != nil {
		t.Fatal(err)
	}
	res := run(t, Options{Spec: s, OwnDir: dir}, dir)
	if len(res.Findings) != 1 || res.Findings[0].Check != "security/secret-file-mode" || res.Findings[0].Path != env {
		t.Fatalf("want one security/secret-file-mode on %s, got:\n%s", env, findingsText(res))
	}
	if res.ExitCode(false) != 0 || res.ExitCode(true) != 3 {
		t.Errorf("a warning alone exits %d, %d with --lint-fatal; want 0 and 3", res.ExitCode(false), res.ExitCode(true))
	}
}

func TestReferencedSecretFileModeIsReported(t *testing.T) {
	dir := write(t, map[string]string{
		"prometheus.yml": "scrape_configs:\n  - job_name: prometheus\n    basic_auth:\n      username: u\n      password_file: pw\n    static_configs:\n      - targets: [prometheus:9090]\n",
		"pw":             "secret\n",
	})
	res := run(t, Options{Profile: ProfileAll}, filepath.Join(dir, "prometheus.yml"))
	if len(res.Findings) != 1 || res.Findings[0].Check != "security/secret-file-mode" || res.Findings[0].Line != 5 {
		t.Fatalf("want security/secret-file-mode on line 5, got:\n%s", findingsText(res))
	}
	if err := os.Chmod(filepath.Join(dir, "pw"), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := run(t, Options{Profile: ProfileAll}, filepath.Join(dir, "prometheus.yml")); len(res.Findings) > 0 {
		t.Fatalf("a 0600 secret file is fine, got:\n%s", findingsText(res))
	}
}

// promtool's exit codes: 0 clean or warnings only, 1 on any error, 3 on
// warnings only with --lint-fatal.
func TestExitCodes(t *testing.T) {
	dup := recordFile(`sum(up)`) + "      - record: test:record\n        expr: sum(up)\n"
	tests := []struct {
		name      string
		rendered  map[string]string
		lintFatal bool
		want      int
	}{
		{"a clean file exits 0", map[string]string{"r.yml": recordFile(`sum(up)`)}, false, 0},
		{"a clean file exits 0 with --lint-fatal", map[string]string{"r.yml": recordFile(`sum(up)`)}, true, 0},
		{"a lint warning alone exits 0", map[string]string{"r.yml": dup}, false, 0},
		{"a lint warning with --lint-fatal exits 3", map[string]string{"r.yml": dup}, true, 3},
		{"an error exits 1", map[string]string{"r.yml": recordFile(`sum(`)}, false, 1},
		{"an error beside a warning exits 1 even with --lint-fatal", map[string]string{"a.yml": dup, "b.yml": recordFile(`sum(`)}, true, 1},
		{"a file of no known kind exits 1", map[string]string{"x.yml": "hello: world\n"}, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, Options{Spec: spec.Default()}, write(t, tt.rendered))
			if got := res.ExitCode(tt.lintFatal); got != tt.want {
				t.Errorf("exit %d, want %d; findings:\n%s", got, tt.want, findingsText(res))
			}
		})
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name, path, content string
		want                Kind
		wantErr             string
	}{
		{"rule groups are rules", "x.yml", "groups: []\n", KindRules, ""},
		{"scrape configs are a Prometheus config", "x.yml", "scrape_configs: []\n", KindPrometheus, ""},
		{"a global section with scrape settings is Prometheus'", "x.yml", "global:\n  scrape_interval: 1m\n", KindPrometheus, ""},
		{"a global section without them is Alertmanager's", "x.yml", "global:\n  resolve_timeout: 5m\n", KindAlertmanager, ""},
		{"a route is an Alertmanager config", "x.yml", "route:\n  receiver: a\n", KindAlertmanager, ""},
		{"tests are a promtool rule test", "x.yml", "rule_files: [a.yml]\ntests: []\n", KindRuleTest, ""},
		{"services are a compose file", "x.yml", "services: {}\n", KindCompose, ""},
		{"datasources with apiVersion are provisioning", "x.yml", "apiVersion: 1\ndatasources: []\n", KindProvisioning, ""},
		{"providers with apiVersion are provisioning", "x.yml", "apiVersion: 1\nproviders: []\n", KindProvisioning, ""},
		{"basic_auth_users is a web config", "x.yml", "basic_auth_users: {}\n", KindWebConfig, ""},
		{"basic_auth alone is an HTTP client config", "x.yml", "basic_auth:\n  username: u\n", KindHTTPConfig, ""},
		{"JSON with panels is a dashboard", "x.json", `{"panels": []}`, KindDashboard, ""},
		{"broken YAML still detected by its top-level keys", "x.yml", "groups:\n  - name: [\n", KindRules, ""},
		{"unknown keys are an unknown kind", "x.yml", "hello: world\n", "", "unknown kind"},
		{"a YAML list is no kind", "x.yml", "- a\n- b\n", "", "not a mapping"},
		{"broken YAML with no known key is reported as YAML", "x.yml", "hello: [\n", "", "not valid YAML"},
		{"broken JSON is reported as JSON", "x.json", `{"panels": [}`, "", "not valid JSON"},
		{"JSON that is not a dashboard", "x.json", `{"a": 1}`, "", "not a Grafana dashboard"},
		{"an empty file", "x.yml", "\n", "", "empty file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect(tt.path, []byte(tt.content))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("want an error containing %q, got %v (kind %q)", tt.wantErr, err, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// Bad input of every kind gives one clear error naming the file.
func TestBadInputIsOneLocatedError(t *testing.T) {
	dir := write(t, map[string]string{
		"unknown.yml": "hello: world\n",
		"broken.yml":  "key: [unclosed\n",
		"broken.json": "{\n  \"panels\": [\n}\n",
	})
	missing := filepath.Join(dir, "missing.yml")
	res := run(t, Options{Spec: spec.Default()}, dir, missing)
	byPath := map[string][]Finding{}
	for _, f := range res.Findings {
		byPath[filepath.Base(f.Path)] = append(byPath[filepath.Base(f.Path)], f)
	}
	want := map[string]struct {
		check string
		line  int
	}{
		"unknown.yml": {"input/kind", 0},
		"broken.yml":  {"input/kind", 1},
		"broken.json": {"input/kind", 3},
		"missing.yml": {"input/unreadable", 0},
	}
	for name, w := range want {
		fs := byPath[name]
		if len(fs) != 1 || fs[0].Check != w.check || fs[0].Line != w.line || fs[0].Severity != Error {
			t.Errorf("%s: want one %s error at line %d, got %v", name, w.check, w.line, fs)
		}
	}
}

func TestForcedKindAndUnknownKind(t *testing.T) {
	dir := write(t, map[string]string{"r.yml": recordFile(`sum(up)`)})
	res := run(t, Options{Kind: KindAlertmanager}, filepath.Join(dir, "r.yml"))
	if res.Errors() == 0 {
		t.Fatalf("a rule file forced to be an Alertmanager config must fail, got:\n%s", findingsText(res))
	}
	if _, err := Run(context.Background(), []string{dir}, Options{Kind: "nope"}); err == nil {
		t.Fatal("want an error for an unknown --kind")
	}
	if _, err := Run(context.Background(), []string{t.TempDir()}, Options{}); !errors.Is(err, ErrNoFiles) {
		t.Fatalf("an empty directory: want ErrNoFiles, got %v", err)
	}
}

// A Prometheus config's rule files are checked as promtool check config
// does, and a broken one fails the run; --syntax-only skips them.
func TestConfigRuleFilesAreChecked(t *testing.T) {
	dir := write(t, map[string]string{
		"prometheus.yml": "rule_files: [rules/*.yml]\nscrape_configs: []\n",
		"rules/bad.yml":  recordFile(`sum(`),
	})
	cfg := filepath.Join(dir, "prometheus.yml")
	res := run(t, Options{}, cfg)
	if res.Errors() != 1 || filepath.Base(res.Findings[0].Path) != "bad.yml" {
		t.Fatalf("want the rule file's error, got:\n%s", findingsText(res))
	}
	if res := run(t, Options{SyntaxOnly: true}, cfg); res.Errors() != 0 {
		t.Fatalf("--syntax-only must not read rule files, got:\n%s", findingsText(res))
	}
}

func TestDisablePrefix(t *testing.T) {
	dir := write(t, map[string]string{"am.yml": "route:\n  receiver: a\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: http://example.com/\n"})
	if res := run(t, Options{Profile: ProfileAll}, dir); res.Warnings() != 1 {
		t.Fatalf("want the inline-secret warning, got:\n%s", findingsText(res))
	}
	if res := run(t, Options{Profile: ProfileAll, Disable: []string{"security/"}}, dir); len(res.Findings) != 0 {
		t.Fatalf("--disable security/ must drop it, got:\n%s", findingsText(res))
	}
}

// The servers' web config is compose content interpolated from .env: a
// hash that is not bcrypt fails as `promtool check web-config` fails it.
func TestComposeWebConfigIsChecked(t *testing.T) {
	dir, s := generated(t)
	env := filepath.Join(dir, ".env")
	data, err := os.ReadFile(env)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "INVESTIQ_STACK_PASSWORD_BCRYPT=") {
			l = "INVESTIQ_STACK_PASSWORD_BCRYPT=not-a-hash"
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(env, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	res := run(t, Options{Spec: s}, dir)
	if res.Errors() != 1 || res.Findings[0].Check != "web-config/invalid" || filepath.Base(res.Findings[0].Path) != "docker-compose.yml" {
		t.Fatalf("want one web-config/invalid error in docker-compose.yml, got:\n%s", findingsText(res))
	}
}
