package spec

import "strings"

// Secret is one value the stack needs at run time but that must never be in
// the spec, a generated file, a log or a backup manifest. It lives in .env
// (mode 0600) as Env and reaches the servers as the file SecretsDir/File.
type Secret struct {
	File string
	Env  string
	Help string
	// Generated secrets get a random value when .env is first created;
	// the others (webhook URLs, API keys) are the operator's to fill in.
	Generated bool
}

// Well-known secrets of the stack itself.
const (
	SecretStackPassword   = "stack_password"
	SecretGrafanaPassword = "grafana_admin_password"
)

// Secrets lists every secret of the stack: its own passwords first, then
// one per receiver, in spec order.
func (s *Spec) Secrets() []Secret {
	out := []Secret{
		{File: SecretStackPassword, Env: EnvStackPassword, Generated: true,
			Help: "Basic-auth password of user " + s.StackUser + " on Prometheus and Alertmanager."},
		{File: SecretGrafanaPassword, Env: EnvGrafanaPassword, Generated: true,
			Help: "Grafana admin password; applies only when Grafana first starts with an empty database (use `investiq-mon grafana reset-password` afterwards)."},
	}
	for _, r := range s.Receivers {
		out = append(out, Secret{
			File: r.SecretFile,
			Env:  strings.ToUpper(r.SecretFile),
			Help: "Secret of receiver " + r.Name + " (" + string(r.Kind) + ").",
		})
	}
	return append(out, s.scaleSecrets()...)
}

// SecretPath is where the servers read a secret file.
func (s *Spec) SecretPath(file string) string {
	return strings.TrimSuffix(s.SecretsDir, "/") + "/" + file
}
