package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/investiq/investiq-mon/internal/settings"
)

// Kind is what a file is.
type Kind string

const (
	KindRules        Kind = "rules"
	KindPrometheus   Kind = "prometheus"
	KindAlertmanager Kind = "alertmanager"
	KindRuleTest     Kind = "rule-test"
	// KindFileSD is a file_sd target file: a list of target groups.
	KindFileSD       Kind = "file-sd"
	KindDashboard    Kind = "dashboard"
	KindProvisioning Kind = "provisioning"
	KindCompose      Kind = "compose"
	KindWebConfig    Kind = "web-config"
	// KindHTTPConfig is the HTTP client file promtool and amtool take with
	// --http.config.file (basic auth, TLS) for their health checks.
	KindHTTPConfig Kind = "http-config"
	// KindEnv is a dotenv file; only its mode is checked.
	KindEnv Kind = "env"
	// KindSettings is investiq-mon.yaml, the stack's settings file: known
	// by its name, as kustomization.yaml is, since it may hold nothing but
	// comments.
	KindSettings Kind = "settings"
)

// Kinds are the values --kind accepts.
var Kinds = []Kind{KindRules, KindPrometheus, KindAlertmanager, KindRuleTest, KindFileSD, KindDashboard,
	KindProvisioning, KindCompose, KindWebConfig, KindHTTPConfig, KindEnv, KindKubernetes, KindSettings}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// posError is an error at a position in the file.
type posError struct {
	line, col int
	msg       string
}

func (e *posError) Error() string { return e.msg }

// Detect tells the kind of a file from its content: the top-level keys
// of a YAML document, or the shape of a JSON one. Extensions are not
// trusted: rule files, configs and compose files are all .yml.
func Detect(path string, data []byte) (Kind, error) {
	if filepath.Base(path) == settings.FileName {
		return KindSettings, nil
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return "", fmt.Errorf("empty file: not a rule file, config, dashboard or compose file")
	}
	if trimmed[0] == '{' || trimmed[0] == '[' || strings.EqualFold(filepath.Ext(path), ".json") {
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			line, col := jsonErrorPos(data, err)
			return "", &posError{line, col, "not valid JSON: " + err.Error()}
		}
		if targetGroupList(v) {
			return KindFileSD, nil
		}
		m, ok := v.(map[string]any)
		if ok {
			if _, p := m["panels"]; p {
				return KindDashboard, nil
			}
			if _, d := m["dashboard"]; d {
				return KindDashboard, nil
			}
			if _, s := m["schemaVersion"]; s {
				return KindDashboard, nil
			}
		}
		return "", fmt.Errorf("JSON file is not a Grafana dashboard (no panels); use --kind to say what it is")
	}
	// Most files say what they are in their top-level keys; reading those
	// from the text spares a full parse per file (the checker parses it
	// anyway). Flow-style documents and Prometheus' and Alertmanager's
	// shared "global" need the parse.
	if top := textualTopKeys(data); len(top) > 0 {
		delete(top, "global")
		if k := detectYAML(top, hasIn(top)); k != "" {
			return k, nil
		}
	}
	var doc yaml.Node
	var top map[string]*yaml.Node
	var synErr error
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// Broken YAML still says what it was meant to be in its top-level
		// keys; detecting the kind lets the upstream loader report the
		// syntax error exactly as promtool or amtool would.
		synErr = err
		top = textualTopKeys(data)
	} else {
		root := docRoot(&doc)
		if root != nil && root.Kind == yaml.SequenceNode && targetGroupNodes(root) {
			return KindFileSD, nil
		}
		if root == nil || root.Kind != yaml.MappingNode {
			line, col := 0, 0
			if root != nil {
				line, col = root.Line, root.Column
			}
			return "", &posError{line, col, "YAML document is not a mapping: not a rule file, config or compose file"}
		}
		top = map[string]*yaml.Node{}
		for i := 0; i+1 < len(root.Content); i += 2 {
			top[root.Content[i].Value] = root.Content[i+1]
		}
	}
	k := detectYAML(top, hasIn(top))
	if k == "" && synErr != nil {
		line, col := yamlErrorPos(synErr)
		return "", &posError{line, col, "not valid YAML: " + strings.TrimPrefix(synErr.Error(), "yaml: ")}
	}
	if k == "" {
		return "", fmt.Errorf("unknown kind: no top-level key of a rule file (groups), Prometheus config (scrape_configs), Alertmanager config (route), rule test (tests), compose file (services), Grafana provisioning (apiVersion + datasources/providers) or web config; use --kind (one of %s)", kindList())
	}
	return k, nil
}

// textualTopKeys reads the keys that start a line: the top-level keys of
// a block-style YAML document.
func textualTopKeys(data []byte) map[string]*yaml.Node {
	top := map[string]*yaml.Node{}
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) == 0 || !(line[0] == '_' || line[0] >= 'a' && line[0] <= 'z' || line[0] >= 'A' && line[0] <= 'Z') {
			continue
		}
		end := 1
		for end < len(line) && (line[end] == '_' || line[end] == '-' || line[end] >= 'a' && line[end] <= 'z' || line[end] >= 'A' && line[end] <= 'Z' || line[end] >= '0' && line[end] <= '9') {
			end++
		}
		if end < len(line) && line[end] == ':' {
			top[string(line[:end])] = nil
		}
	}
	return top
}

func detectYAML(top map[string]*yaml.Node, has func(...string) bool) Kind {
	switch {
	case has("apiVersion") && has("kind"): // kube.go
		return KindKubernetes
	case has("groups"):
		return KindRules
	case has("tests"):
		return KindRuleTest
	case has("route", "receivers", "inhibit_rules", "time_intervals", "mute_time_intervals", "templates"):
		return KindAlertmanager
	case has("scrape_configs", "rule_files", "alerting", "remote_write", "remote_read", "scrape_config_files", "storage", "otlp", "tracing", "runtime"):
		return KindPrometheus
	case has("services"):
		return KindCompose
	case has("apiVersion") && has("datasources", "deleteDatasources", "providers"):
		return KindProvisioning
	case has("tls_server_config", "basic_auth_users", "http_server_config"):
		return KindWebConfig
	case has("basic_auth", "authorization", "oauth2", "tls_config", "bearer_token", "bearer_token_file", "proxy_url", "follow_redirects"):
		return KindHTTPConfig
	case has("global"):
		// Both Prometheus and Alertmanager have a global section;
		// only Prometheus' has scrape settings.
		g := top["global"]
		if mapGet(g, "scrape_interval") != nil || mapGet(g, "evaluation_interval") != nil || mapGet(g, "external_labels") != nil {
			return KindPrometheus
		}
		return KindAlertmanager
	}
	return ""
}

// targetGroupList says whether a JSON document is a file_sd file: a list
// of objects with targets or labels.
func targetGroupList(v any) bool {
	l, ok := v.([]any)
	if !ok {
		return false
	}
	groups := 0
	for _, it := range l {
		if it == nil {
			continue // a null group: the file_sd loader reports it
		}
		m, ok := it.(map[string]any)
		if !ok {
			return false
		}
		_, t := m["targets"]
		_, lb := m["labels"]
		if !t && !lb {
			return false
		}
		groups++
	}
	return groups > 0
}

// targetGroupNodes is targetGroupList for a YAML sequence.
func targetGroupNodes(seq *yaml.Node) bool {
	groups := 0
	for _, it := range seq.Content {
		if it.Kind == yaml.ScalarNode && it.Tag == "!!null" {
			continue
		}
		if it.Kind != yaml.MappingNode || (mapGet(it, "targets") == nil && mapGet(it, "labels") == nil) {
			return false
		}
		groups++
	}
	return groups > 0
}

func hasIn(top map[string]*yaml.Node) func(...string) bool {
	return func(keys ...string) bool {
		for _, k := range keys {
			if _, ok := top[k]; ok {
				return true
			}
		}
		return false
	}
}
