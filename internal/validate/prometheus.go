package validate

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	// The service discovery mechanisms this build links, so that configs
	// using them load. The others (kubernetes, consul, aws, ...) need
	// modules outside go.mod, and gce alone would add Google's compute
	// API client, a sixth of the source a cold build compiles; a config
	// using one of them gets an "unsupported" finding instead of a verdict.
	_ "github.com/prometheus/prometheus/discovery/dns"
	_ "github.com/prometheus/prometheus/discovery/eureka"
	filesd "github.com/prometheus/prometheus/discovery/file"
	_ "github.com/prometheus/prometheus/discovery/http"
	_ "github.com/prometheus/prometheus/discovery/marathon"
	_ "github.com/prometheus/prometheus/discovery/puppetdb"
	_ "github.com/prometheus/prometheus/discovery/triton"
	"github.com/prometheus/prometheus/notifier"
	yamlv2 "go.yaml.in/yaml/v2"
	"gopkg.in/yaml.v3"
)

// checkPrometheus is `promtool check config` on one file: the upstream
// loader, then (unless SyntaxOnly) the existence of every file the config
// names, file SD files, Alertmanager targets, and the rule files, which
// Run checks as rule files.
func checkPrometheus(f *file, opts Options) {
	root, _ := parseYAML(f.data)
	checkInlineSecrets(f, root, prometheusSecrets)
	// What config.LoadFile does, on the bytes already read (and bounded):
	// load, then resolve relative paths against the file's directory, as
	// the server and promtool do.
	cfg, err := config.Load(string(f.data), discard)
	if err == nil {
		cfg.SetDirectory(filepath.Dir(f.path))
	}
	if err != nil {
		msg := err.Error()
		for _, lm := range splitYAMLError(msg) {
			line, col := lm.at(root)
			if m := unlinkedSDRE.FindStringSubmatch(lm.msg); m != nil && knownSD[m[1]] {
				f.errorf(line, col, "prometheus/unsupported-sd", "%s_sd_configs cannot be checked here: its discovery library is not linked into investiq-mon; check this file with `promtool check config`", m[1])
				continue
			}
			if line == 0 {
				line, col = locateByQuoted(root, lm.msg)
			}
			if line == 0 {
				line, col = locateDecoded(root, reflect.TypeFor[config.Config](), lm.msg)
			}
			if line == 0 {
				line, col = locateByWords(root, lm.msg)
			}
			f.errorf(line, col, "prometheus/config", "%s", lm.msg)
		}
		return
	}
	at := func(value string) (int, int) {
		if n := findScalar(root, value, false); n != nil {
			return n.Line, n.Column
		}
		return 0, 0
	}
	if !opts.SyntaxOnly {
		raw := mapGet(root, "rule_files")
		for i, rf := range cfg.RuleFiles {
			line, col := 0, 0
			if raw != nil && i < len(raw.Content) {
				line, col = raw.Content[i].Line, raw.Content[i].Column
			}
			matches, err := filepath.Glob(rf)
			if err != nil {
				f.errorf(line, col, "prometheus/rule-files", "rule_files: %v", err)
				continue
			}
			if !strings.Contains(rf, "*") && len(matches) == 0 {
				f.errorf(line, col, "prometheus/rule-files", "rule file %q does not point to an existing file", rf)
				continue
			}
			f.ruleFiles = append(f.ruleFiles, matches...)
		}
	}

	scfgs := cfg.ScrapeConfigs
	if !opts.SyntaxOnly {
		scfgs, err = cfg.GetScrapeConfigs()
		if err != nil {
			line, col := locateByQuoted(root, err.Error())
			f.errorf(line, col, "prometheus/config", "loading scrape configs: %v", err)
			return
		}
	}
	exists := func(what, path string) {
		if path == "" || opts.SyntaxOnly {
			return
		}
		if _, err := os.Stat(path); err != nil {
			line, col := at(relTo(f.path, path))
			f.errorf(line, col, "prometheus/missing-file", "%s %q: %s", what, path, cleanPathErr(err))
		}
	}
	checkTLS := func(job string, tls promconfig.TLSConfig) {
		if tls.CertFile != "" && tls.KeyFile == "" {
			line, col := at(relTo(f.path, tls.CertFile))
			f.errorf(line, col, "prometheus/tls", "job %q: client cert file %q specified without client key file", job, tls.CertFile)
		}
		if tls.KeyFile != "" && tls.CertFile == "" {
			line, col := at(relTo(f.path, tls.KeyFile))
			f.errorf(line, col, "prometheus/tls", "job %q: client key file %q specified without client cert file", job, tls.KeyFile)
		}
		exists("client cert file", tls.CertFile)
		exists("client key file", tls.KeyFile)
	}
	for _, sc := range scfgs {
		if a := sc.HTTPClientConfig.Authorization; a != nil {
			exists("authorization credentials file", a.CredentialsFile)
		}
		checkTLS(sc.JobName, sc.HTTPClientConfig.TLSConfig)
		for _, c := range sc.ServiceDiscoveryConfigs {
			switch c := c.(type) {
			case discovery.StaticConfig:
				staticTargetFindings(f, root, sc, c)
			case *filesd.SDConfig:
				if !opts.SyntaxOnly {
					f.fileSD(root, c, sdRef{scrape: sc}, fmt.Sprintf("scrape job %q", sc.JobName))
				}
			}
		}
	}
	for _, am := range cfg.AlertingConfig.AlertmanagerConfigs {
		for _, c := range am.ServiceDiscoveryConfigs {
			switch c := c.(type) {
			case discovery.StaticConfig:
				for _, tg := range c {
					if _, _, err := notifier.AlertmanagerFromGroup(tg, am); err != nil {
						line, col := locateKey(mapGet(root, "alerting"), "alertmanagers")
						f.errorf(line, col, "prometheus/targets", "alertmanager: %v", err)
					}
				}
			case *filesd.SDConfig:
				if !opts.SyntaxOnly {
					f.fileSD(root, c, sdRef{am: am}, "alertmanager config")
				}
			}
		}
	}
	checkReferencedSecretFiles(f, root)
}

// fileSD records the files a file_sd config names for Run to check, and
// notes a pattern that matches nothing: promtool only warns about it (the
// file may be written later), and the warning never changes its exit code.
func (f *file) fileSD(root *yaml.Node, c *filesd.SDConfig, ref sdRef, who string) {
	for _, pattern := range c.Files {
		line, col := 0, 0
		if n := findScalar(root, relTo(f.path, pattern), false); n != nil {
			line, col = n.Line, n.Column
		}
		matches, err := filepath.Glob(pattern)
		if err != nil {
			f.errorf(line, col, "prometheus/file-sd", "file_sd pattern %q: %v", pattern, err)
			continue
		}
		if len(matches) == 0 {
			f.infof(line, col, "prometheus/file-sd", "file %q for file_sd in %s does not exist", pattern, who)
		}
		for _, m := range matches {
			r := ref
			r.path = m
			f.sdRefs = append(f.sdRefs, r)
		}
	}
}

var unlinkedSDRE = regexp.MustCompile(`field (\w+)_sd_configs not found`)

// knownSD are the discovery mechanisms Prometheus has but this build does
// not link (see the imports): an unknown field for them is not the user's
// mistake.
var knownSD = map[string]bool{"azure": true, "consul": true, "digitalocean": true, "docker": true,
	"dockerswarm": true, "ec2": true, "gce": true, "lightsail": true, "hetzner": true, "ionos": true, "kubernetes": true,
	"kuma": true, "linode": true, "nerve": true, "nomad": true, "openstack": true, "ovhcloud": true,
	"scaleway": true, "serverset": true, "uyuni": true, "vultr": true, "stackit": true, "outscale": true,
	"oci": true, "aws": true}

// relTo undoes the loader's joining of relative paths with the config's
// directory, to find the path as written in the file.
func relTo(cfgPath, p string) string {
	dir := filepath.Dir(cfgPath)
	if r, ok := strings.CutPrefix(p, dir+string(filepath.Separator)); ok {
		return r
	}
	return p
}

// checkHTTPConfig checks the HTTP client file promtool and amtool read
// with --http.config.file, as they load it.
func checkHTTPConfig(f *file, _ Options) {
	root, _ := parseYAML(f.data)
	checkInlineSecrets(f, root, prometheusSecrets)
	var cfg promconfig.HTTPClientConfig
	if err := yamlv2.UnmarshalStrict(f.data, &cfg); err != nil {
		for _, lm := range splitYAMLError(err.Error()) {
			line, col := lm.at(root)
			f.errorf(line, col, "http-config/invalid", "%s", lm.msg)
		}
		return
	}
	if err := cfg.Validate(); err != nil {
		line, col := locateByQuoted(root, err.Error())
		f.errorf(line, col, "http-config/invalid", "%v", err)
	}
	checkReferencedSecretFiles(f, root)
}
