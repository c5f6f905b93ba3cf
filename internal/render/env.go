package render

import (
	"fmt"
	"strings"

	"github.com/investiq/investiq-mon/spec"
)

// renderEnvExample documents every variable .env holds, with no values:
// `generate` creates the real .env (mode 0600) once, with random passwords.
func renderEnvExample(s *spec.Spec) ([]File, error) {
	var b strings.Builder
	b.WriteString(header("Variables of the monitoring stack. Copy to .env (mode 0600) or let `investiq-mon generate` create it."))
	fmt.Fprintf(&b, "\n# Basic-auth user of Prometheus and Alertmanager, for reference: it is the spec's\n"+
		"# StackUser, which every generated client file uses; generate refuses another value.\n%s=%s\n", spec.EnvStackUser, s.StackUser)
	fmt.Fprintf(&b, "\n# Grafana admin user.\n%s=admin\n", spec.EnvGrafanaUser)
	for _, sec := range s.Secrets() {
		fmt.Fprintf(&b, "\n# %s\n%s=\n", sec.Help, sec.Env)
	}
	fmt.Fprintf(&b, "\n# bcrypt hash of %s for the servers' web config; single-quoted.\n%s=\n", spec.EnvStackPassword, spec.EnvStackBcrypt)
	fmt.Fprintf(&b, "\n# SHA-256 of %s with its hash: generate sees the hash is current without\n"+
		"# bcrypt's deliberate cost on every run. Change the password, and the next generate re-hashes it.\n%s=\n", spec.EnvStackPassword, spec.EnvStackBcryptSum)
	fmt.Fprintf(&b, "\n# Key that signs backup archives (HMAC-SHA256); restore refuses archives not signed with it.\n"+
		"# Keep a copy apart from the backups: a restore on a new machine needs it (see README, Backup).\n%s=\n", spec.EnvBackupKey)
	return []File{{Path: EnvExample, Data: []byte(b.String()), Mode: 0o644, Role: Deployment}}, nil
}

// renderGitIgnore keeps the secrets out of git even when the repository's
// own .gitignore forgets them.
func renderGitIgnore(s *spec.Spec) ([]File, error) {
	var b strings.Builder
	b.WriteString(header("Files beside the generated stack that must never be committed."))
	b.WriteString(".env\n.env.*\n!.env.example\nsecrets/\n.investiq-mon.lock\n")
	return []File{{Path: GitIgnore, Data: []byte(b.String()), Mode: 0o644, Role: Deployment}}, nil
}
