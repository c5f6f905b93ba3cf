package validate

import (
	"path/filepath"
	"reflect"
	"regexp"
	"strings"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/template"
	"gopkg.in/yaml.v3"

	"github.com/investiq/investiq-mon/internal/files"
)

var (
	undefinedReceiverRE = regexp.MustCompile(`undefined receiver "([^"]*)"`)
	integrationRE       = regexp.MustCompile(`(?i)\b(email|webhook|slack|pagerduty|discord|opsgenie|pushover|victorops|wechat|telegram|sns|msteamsv2|msteams|webex|jira|rocketchat|incidentio|mattermost)`)
)

// checkAlertmanager is `amtool check-config` on one file: the upstream
// loader (which also checks that routes and inhibitions name receivers
// that exist) and the templates it names.
func checkAlertmanager(f *file, opts Options) {
	root, _ := parseYAML(f.data)
	checkInlineSecrets(f, root, alertmanagerSecrets)
	cfg, err := amconfig.LoadFile(f.path)
	if err != nil {
		for _, lm := range splitYAMLError(err.Error()) {
			line, col := lm.at(root)
			check := "alertmanager/config"
			if line == 0 {
				line, col = locateAMError(root, lm.msg)
			}
			if undefinedReceiverRE.MatchString(lm.msg) {
				check = "alertmanager/unknown-receiver"
			}
			f.errorf(line, col, check, "%s", lm.msg)
		}
		return
	}
	if len(cfg.Templates) > 0 && templatesReadable(f, root, cfg.Templates, maxFileSize(opts)) {
		if _, err := template.FromGlobs(cfg.Templates); err != nil {
			line, col := 0, 0
			if t := mapGet(root, "templates"); t != nil {
				line, col = t.Line, t.Column
				if len(t.Content) > 0 {
					line, col = t.Content[0].Line, t.Content[0].Column
				}
				for _, item := range t.Content {
					if strings.Contains(err.Error(), strings.TrimPrefix(item.Value, "./")) {
						line, col = item.Line, item.Column
					}
				}
			}
			f.errorf(line, col, "alertmanager/template", "templates: %v", err)
		}
	}
	checkReferencedSecretFiles(f, root)
}

// templatesReadable refuses, before the template package reads them,
// template files that are not regular files within the size limit.
func templatesReadable(f *file, root *yaml.Node, patterns []string, limit int64) bool {
	ok := true
	items := contentOf(mapGet(root, "templates"))
	for i, p := range patterns {
		matches, _ := filepath.Glob(p)
		for _, m := range matches {
			if _, err := files.CheckReadable(m, limit); err != nil {
				line, col := nodePos(item(mapGet(root, "templates"), i))
				if i >= len(items) {
					line, col = 0, 0
				}
				f.errorf(line, col, "alertmanager/template", "template %s: %v", m, err)
				ok = false
			}
		}
	}
	return ok
}

// locateAMError places a loader error that carries no line: by the
// receiver it names, by a quoted value, or by the integration it is about.
func locateAMError(root *yaml.Node, msg string) (int, int) {
	if m := undefinedReceiverRE.FindStringSubmatch(msg); m != nil {
		line, col := 0, 0
		walkYAML(root, nil, func(_ []string, k, v *yaml.Node) {
			if line == 0 && k.Value == "receiver" && v.Value == m[1] {
				line, col = v.Line, v.Column
			}
		})
		if line > 0 {
			return line, col
		}
	}
	if line, col := locateDecoded(root, reflect.TypeFor[amconfig.Config](), msg); line > 0 {
		return line, col
	}
	if line, col := locateByQuoted(root, msg); line > 0 {
		return line, col
	}
	if line, col := locateByWords(root, msg); line > 0 && !strings.HasPrefix(msg, "no global") {
		return line, col
	}
	if m := integrationRE.FindStringSubmatch(msg); m != nil {
		if line, col := locateKey(root, strings.ToLower(m[1])+"_configs"); line > 0 {
			return line, col
		}
	}
	if strings.HasPrefix(msg, "no route") {
		return 1, 1
	}
	for _, key := range []string{"route", "inhibit_rules", "receivers", "global"} {
		if strings.Contains(msg, strings.TrimSuffix(key, "s")) {
			if k, _ := mapEntry(root, key); k != nil {
				return k.Line, k.Column
			}
		}
	}
	return 0, 0
}
