package validate

import (
	"encoding/json"
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
	// modules outside go.mod; a config using one of them gets an
	// "unsupported" finding instead of a verdict.
	_ "github.com/prometheus/prometheus/discovery/dns"
	_ "github.com/prometheus/prometheus/discovery/eureka"
	filesd "github.com/prometheus/prometheus/discovery/file"
	_ "github.com/prometheus/prometheus/discovery/gce"
	_ "github.com/prometheus/prometheus/discovery/http"
	_ "github.com/prometheus/prometheus/discovery/marathon"
	_ "github.com/prometheus/prometheus/discovery/puppetdb"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	_ "github.com/prometheus/prometheus/discovery/triton"
	"github.com/prometheus/prometheus/notifier"
	yamlv2 "go.yaml.in/yaml/v2"
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
			case *filesd.SDConfig:
				if opts.SyntaxOnly {
					continue
				}
				for _, pattern := range c.Files {
					matches, _ := filepath.Glob(pattern)
					if len(matches) == 0 {
						// promtool only warns: the file may be written later.
						line, col := at(relTo(f.path, pattern))
						f.warnf(line, col, "prometheus/file-sd", "file %q for file_sd in scrape job %q does not exist", pattern, sc.JobName)
					}
					for _, m := range matches {
						// promtool also runs each target group through the
						// scrape package's relabelling; that package needs a
						// module outside go.mod (gogo/protobuf), so only the
						// file itself is checked here.
						if _, err := readSDFile(m); err != nil {
							line, col := at(relTo(f.path, pattern))
							f.errorf(line, col, "prometheus/file-sd", "checking SD file %q: %v", m, err)
						}
					}
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
				if opts.SyntaxOnly {
					continue
				}
				for _, pattern := range c.Files {
					matches, _ := filepath.Glob(pattern)
					if len(matches) == 0 {
						line, col := at(relTo(f.path, pattern))
						f.warnf(line, col, "prometheus/file-sd", "file %q for file_sd in alertmanager config does not exist", pattern)
					}
					for _, m := range matches {
						tgs, err := readSDFile(m)
						for _, tg := range tgs {
							if err == nil {
								_, _, err = notifier.AlertmanagerFromGroup(tg, am)
							}
						}
						if err != nil {
							line, col := at(relTo(f.path, pattern))
							f.errorf(line, col, "prometheus/file-sd", "checking SD file %q: %v", m, err)
						}
					}
				}
			}
		}
	}
	checkReferencedSecretFiles(f, root)
}

var unlinkedSDRE = regexp.MustCompile(`field (\w+)_sd_configs not found`)

// knownSD are the discovery mechanisms Prometheus has but this build does
// not link (see the imports): an unknown field for them is not the user's
// mistake.
var knownSD = map[string]bool{"azure": true, "consul": true, "digitalocean": true, "docker": true,
	"dockerswarm": true, "ec2": true, "lightsail": true, "hetzner": true, "ionos": true, "kubernetes": true,
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

// readSDFile reads a file_sd file the way Prometheus does: JSON or strict
// YAML by extension.
func readSDFile(path string) ([]*targetgroup.Group, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var tgs []*targetgroup.Group
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".json":
		err = json.Unmarshal(content, &tgs)
	case ".yml", ".yaml":
		err = yamlv2.UnmarshalStrict(content, &tgs)
	default:
		return nil, fmt.Errorf("invalid file extension: %q", ext)
	}
	if err != nil {
		return nil, err
	}
	for i, tg := range tgs {
		if tg == nil {
			return nil, fmt.Errorf("nil target group item found (index %d)", i)
		}
	}
	return tgs, nil
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
