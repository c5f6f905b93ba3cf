package validate

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/exporter-toolkit/web"
	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"

	"github.com/investiq/investiq-mon/internal/files"
)

// secretField is a config field that holds a secret, and the *_file form
// that reads it from a file instead, so the config itself can be shared,
// committed and printed.
type secretField struct {
	key string
	// parents are the enclosing keys under which key is a secret (url is a
	// secret in a webhook config, not elsewhere); empty means anywhere.
	parents []string
	file    string
}

// prometheusSecrets are the secrets of Prometheus' HTTP client configs
// (scrape jobs, alerting, remote write) and of promtool's HTTP config.
var prometheusSecrets = []secretField{
	{key: "password", parents: []string{"basic_auth"}, file: "password_file"},
	{key: "bearer_token", file: "bearer_token_file"},
	{key: "credentials", parents: []string{"authorization"}, file: "credentials_file"},
	{key: "client_secret", parents: []string{"oauth2"}, file: "client_secret_file"},
}

// alertmanagerSecrets are the notification secrets Alertmanager can read
// from files (see STACK.md for the version each *_file form appeared in),
// plus the HTTP client secrets of its http_config sections.
var alertmanagerSecrets = append([]secretField{
	{key: "smtp_auth_password", parents: []string{"global"}, file: "smtp_auth_password_file"},
	{key: "slack_api_url", parents: []string{"global"}, file: "slack_api_url_file"},
	{key: "opsgenie_api_key", parents: []string{"global"}, file: "opsgenie_api_key_file"},
	{key: "victorops_api_key", parents: []string{"global"}, file: "victorops_api_key_file"},
	{key: "url", parents: []string{"webhook_configs"}, file: "url_file"},
	{key: "api_url", parents: []string{"slack_configs"}, file: "api_url_file"},
	{key: "routing_key", parents: []string{"pagerduty_configs"}, file: "routing_key_file"},
	{key: "service_key", parents: []string{"pagerduty_configs"}, file: "service_key_file"},
	{key: "webhook_url", parents: []string{"discord_configs", "msteams_configs", "msteamsv2_configs", "mattermost_configs"}, file: "webhook_url_file"},
	{key: "auth_password", parents: []string{"email_configs"}, file: "auth_password_file"},
	{key: "api_key", parents: []string{"opsgenie_configs", "victorops_configs"}, file: "api_key_file"},
	{key: "bot_token", parents: []string{"telegram_configs"}, file: "bot_token_file"},
	{key: "token", parents: []string{"pushover_configs"}, file: "token_file"},
	{key: "user_key", parents: []string{"pushover_configs"}, file: "user_key_file"},
}, prometheusSecrets...)

// checkInlineSecrets warns about every secret written into the config
// itself: it ends up in git, in backups and in `config show` output.
func checkInlineSecrets(f *file, root *yaml.Node, fields []secretField) {
	walkYAML(root, nil, func(path []string, k, v *yaml.Node) {
		if v.Kind != yaml.ScalarNode || v.Value == "" || len(path) < 1 {
			return
		}
		parent := ""
		if len(path) >= 2 {
			parent = path[len(path)-2]
		}
		for _, s := range fields {
			if s.key != k.Value || (len(s.parents) > 0 && !slices.Contains(s.parents, parent)) {
				continue
			}
			f.warnf(k.Line, k.Column, "security/inline-secret", "%s is written inline: use %s to read it from a file (e.g. /run/secrets/...)", strings.Join(path, "."), s.file)
			return
		}
	})
}

// checkReferencedSecretFiles warns about secret files a config names that
// exist here and are readable by group or others.
func checkReferencedSecretFiles(f *file, root *yaml.Node) {
	dir := filepath.Dir(f.path)
	walkYAML(root, nil, func(_ []string, k, v *yaml.Node) {
		if !strings.HasSuffix(k.Value, "_file") || v.Kind != yaml.ScalarNode || v.Value == "" {
			return
		}
		base := strings.TrimSuffix(k.Value, "_file")
		secret := slices.ContainsFunc(alertmanagerSecrets, func(s secretField) bool { return s.key == base })
		if !secret {
			return
		}
		p := v.Value
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			return
		}
		if fi.Mode().Perm()&0o077 != 0 {
			f.warnf(v.Line, v.Column, "security/secret-file-mode", "%s holds a secret and is readable by group or others (mode %04o): chmod 600 %s", v.Value, fi.Mode().Perm(), p)
		}
	})
}

// checkSecretFileMode warns when a file that holds secrets (.env) can be
// read by anyone but its owner.
func checkSecretFileMode(f *file) {
	fi, err := os.Stat(f.path)
	if err != nil {
		f.errorf(0, 0, "input/unreadable", "%s", cleanPathErr(err))
		return
	}
	if fi.Mode().Perm()&0o077 != 0 {
		f.warnf(1, 1, "security/secret-file-mode", "holds secrets and is readable by group or others (mode %04o): chmod 600 %s", fi.Mode().Perm(), f.path)
	}
}

// checkWebConfig is `promtool check web-config`: exporter-toolkit's own
// validation of the file Prometheus and Alertmanager load with
// --web.config.file (users' bcrypt hashes, TLS files and settings).
func checkWebConfig(f *file, opts Options) {
	root, yerr := parseYAML(f.data)
	// exporter-toolkit reads the TLS files it names: refuse devices and
	// huge files before it does.
	refused := false
	walkYAML(root, nil, func(_ []string, k, v *yaml.Node) {
		if !strings.HasSuffix(k.Value, "_file") || v.Kind != yaml.ScalarNode || v.Value == "" {
			return
		}
		p := v.Value
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(f.path), p)
		}
		if _, err := files.CheckReadable(p, maxFileSize(opts)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			f.errorf(v.Line, v.Column, "web-config/invalid", "%s %s: %v", k.Value, v.Value, cleanPathErr(err))
			refused = true
		}
	})
	if refused {
		return
	}
	if err := web.Validate(f.path); err != nil {
		line, col := 0, 0
		if yerr == nil {
			// bcrypt errors do not name the user; find the bad hash.
			for _, u := range userEntries(root) {
				if _, berr := bcrypt.Cost([]byte(u[1].Value)); berr != nil && strings.Contains(err.Error(), berr.Error()) {
					line, col = u[1].Line, u[1].Column
					break
				}
			}
		}
		for _, lm := range splitYAMLError(err.Error()) {
			l, c := lm.line, lm.col
			if l == 0 {
				l, c = line, col
			}
			if l == 0 {
				l, c = locateByQuoted(root, lm.msg)
			}
			if m := failedToReadRE.FindStringSubmatch(lm.msg); l == 0 && m != nil {
				l, c = locateKey(root, m[1])
			}
			f.errorf(l, c, "web-config/invalid", "%s", lm.msg)
		}
		return
	}
	if len(userEntries(root)) == 0 && mapGet(mapGet(root, "tls_server_config"), "client_auth_type") == nil {
		f.warnf(1, 1, "security/open-web", "no basic_auth_users and no TLS client auth: anyone who reaches the port can query and reconfigure the server")
	}
}

// failedToReadRE is exporter-toolkit's error for a TLS file it cannot
// read: "failed to read cert_file (path): ...".
var failedToReadRE = regexp.MustCompile(`failed to read (\w+) \(`)

func userEntries(root *yaml.Node) [][2]*yaml.Node {
	users := mapGet(root, "basic_auth_users")
	if users == nil || users.Kind != yaml.MappingNode {
		return nil
	}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(users.Content); i += 2 {
		out = append(out, [2]*yaml.Node{users.Content[i], users.Content[i+1]})
	}
	return out
}
