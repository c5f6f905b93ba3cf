package validate

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/prometheus/exporter-toolkit/web"
	"gopkg.in/yaml.v3"

	"github.com/investiq/investiq-mon/internal/files"
)

var (
	requiredVarRE  = regexp.MustCompile(`required variable (\w+) is missing a value`)
	composePathRE  = regexp.MustCompile(`\b((?:services|networks|volumes|secrets|configs)(?:\.[\w.-]+)?)`)
	secretEnvKeyRE = regexp.MustCompile(`(?i)(PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY)$`)
)

// checkCompose loads a compose file with compose-go, as docker compose
// would (schema validation, interpolation from the environment and the
// .env beside it), then checks that what it mounts exists and what it
// publishes stays on the loopback interface.
func checkCompose(f *file, opts Options) {
	root, _ := parseYAML(f.data)
	dir, _ := filepath.Abs(filepath.Dir(f.path))
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	dotEnv := filepath.Join(dir, ".env")
	hasDotEnv := fileExists(dotEnv)
	if hasDotEnv {
		data, err := files.ReadBounded(dotEnv, maxFileSize(opts))
		if err == nil {
			var vals map[string]string
			if vals, err = dotenv.Parse(bytes.NewReader(data)); err == nil {
				for k, v := range vals {
					env[k] = v
				}
			}
		}
	}
	load := func() (*types.Project, error) {
		return loader.LoadWithContext(context.Background(), types.ConfigDetails{
			WorkingDir:  dir,
			ConfigFiles: []types.ConfigFile{{Filename: f.path, Content: f.data}},
			Environment: env,
		}, func(o *loader.Options) {
			// Every service is checked, whatever profile starts it.
			o.Profiles = []string{"*"}
			if _, ok := o.GetProjectName(); !ok {
				o.SetProjectName(loader.NormalizeProjectName(filepath.Base(dir)), false)
			}
		})
	}
	// compose-go stops at the first service that is not a mapping, found
	// by walking a Go map: the next run could name another one (found by
	// FuzzCompose). Each is reported here instead, in the file's order.
	if bad := nonMappingServices(root); len(bad) > 0 {
		for _, b := range bad {
			f.errorf(b.node.Line, b.node.Column, "compose/invalid", "%s.%s must be a mapping (a null entry is allowed)", b.section, b.name)
		}
		return
	}
	project, err := load()
	// A required variable that is unset is no verdict on the file: retry
	// with stand-ins so everything else gets checked. Such variables exist
	// only at deploy time (generate writes them into .env, which is never
	// committed), so with no .env at all, as in CI on a clean clone, an
	// unset one is only noted; a .env that lacks one is a warning, since
	// docker compose will refuse to start with it.
	envPath := filepath.Join(filepath.Dir(f.path), ".env")
	for tries := 0; err != nil && tries < 20; tries++ {
		m := requiredVarRE.FindStringSubmatch(err.Error())
		if m == nil {
			break
		}
		line, col := locateSubstring(root, "${"+m[1])
		if hasDotEnv {
			f.warnf(line, col, "compose/unset-variable", "variable %s is set neither in the environment nor in %s: docker compose will refuse to start", m[1], envPath)
		} else {
			f.infof(line, col, "compose/unset-variable", "variable %s is not set and there is no %s yet: fine before deployment (`investiq-mon generate` creates it); docker compose needs it to start", m[1], envPath)
		}
		env[m[1]] = standIn
		project, err = load()
	}
	if err != nil {
		line, col := 0, 0
		if m := composePathRE.FindStringSubmatch(err.Error()); m != nil {
			if n := yamlAtPath(root, m[1]); n != nil {
				line, col = n.Line, n.Column
			}
		}
		if line == 0 {
			line, col = locateByQuoted(root, err.Error())
		}
		f.errorf(line, col, "compose/invalid", "%s", sortedProperties(err.Error()))
		return
	}
	services := mapGet(root, "services")
	names := make([]string, 0, len(project.Services))
	for name := range project.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		svc := project.Services[name]
		sn := mapGet(services, name)
		item := func(section string, i int) (int, int) {
			if s := mapGet(sn, section); s != nil && s.Kind == yaml.SequenceNode && i < len(s.Content) {
				return s.Content[i].Line, s.Content[i].Column
			}
			if sn != nil {
				return sn.Line, sn.Column
			}
			return 0, 0
		}
		if !opts.SyntaxOnly {
			for i, v := range svc.Volumes {
				if v.Type != types.VolumeTypeBind || v.Source == "" {
					continue
				}
				if _, err := os.Stat(v.Source); err != nil {
					line, col := item("volumes", i)
					f.errorf(line, col, "compose/missing-mount", "service %s mounts %s, which does not exist", name, v.Source)
				}
			}
		}
		exposed := false
		for i, p := range svc.Ports {
			if p.Published == "" || loopback(p.HostIP) {
				continue
			}
			exposed = true
			host := p.HostIP
			if host == "" {
				host = "every interface"
			}
			line, col := item("ports", i)
			f.warnf(line, col, "security/published-port", "service %s publishes port %s on %s: anyone on the network can reach it; publish on 127.0.0.1 unless that is deliberate", name, p.Published, host)
		}
		for i, arg := range svc.Command {
			if arg == "--web.enable-admin-api" && exposed {
				line, col := item("command", i)
				f.warnf(line, col, "security/admin-api", "service %s enables the TSDB admin API (it deletes series) and publishes a port beyond 127.0.0.1", name)
			}
		}
		checkComposeEnvSecrets(f, name, mapGet(sn, "environment"))
	}
	if !opts.SyntaxOnly {
		checkFileObjects := func(section string, objs map[string]types.FileObjectConfig) {
			for name, o := range objs {
				if o.File == "" {
					continue
				}
				if _, err := os.Stat(o.File); err != nil {
					line, col := 0, 0
					if n := mapGet(mapGet(mapGet(root, section), name), "file"); n != nil {
						line, col = n.Line, n.Column
					}
					f.errorf(line, col, "compose/missing-mount", "%s %s reads %s, which does not exist", strings.TrimSuffix(section, "s"), name, o.File)
				}
			}
		}
		configs := map[string]types.FileObjectConfig{}
		for k, v := range project.Configs {
			configs[k] = types.FileObjectConfig(v)
		}
		secrets := map[string]types.FileObjectConfig{}
		for k, v := range project.Secrets {
			secrets[k] = types.FileObjectConfig(v)
		}
		checkFileObjects("configs", configs)
		checkFileObjects("secrets", secrets)
	}
	// The stack's web config is inline compose content, interpolated from
	// .env: check it as `promtool check web-config` would check the file
	// the container gets.
	names = names[:0]
	for name := range project.Configs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		content := project.Configs[name].Content
		if content == "" || strings.Contains(content, standIn) {
			continue // nothing inline, or built from an unset variable
		}
		top := textualTopKeys([]byte(content))
		if _, users := top["basic_auth_users"]; !users {
			if _, tls := top["tls_server_config"]; !tls {
				continue
			}
		}
		line, col := 0, 0
		if n := mapGet(mapGet(mapGet(root, "configs"), name), "content"); n != nil {
			line, col = n.Line, n.Column
		}
		if err := validateWebConfigContent(content); err != nil {
			f.errorf(line, col, "web-config/invalid", "config %s (the web config the servers load): %v", name, err)
		}
	}
}

// standIn replaces a required variable that is not set, so that the rest
// of the file can still be checked.
const standIn = "validate-stand-in"

// validateWebConfigContent runs exporter-toolkit's check on web config
// text; it only reads files, so the text goes through a temporary one.
func validateWebConfigContent(content string) error {
	tmp, err := os.CreateTemp("", "web-config-*.yml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return web.Validate(tmp.Name())
}

// checkComposeEnvSecrets warns about a password or token written as a
// literal in a service's environment, where `docker inspect` shows it.
func checkComposeEnvSecrets(f *file, service string, env *yaml.Node) {
	if env == nil {
		return
	}
	check := func(k *yaml.Node, key, value string) {
		if value == "" || strings.Contains(value, "${") || strings.HasSuffix(key, "_FILE") || !secretEnvKeyRE.MatchString(key) {
			return
		}
		f.warnf(k.Line, k.Column, "security/inline-secret", "service %s: %s is written inline: use %s__FILE (or %s_FILE) with a compose secret under /run/secrets", service, key, key, key)
	}
	switch env.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(env.Content); i += 2 {
			check(env.Content[i], env.Content[i].Value, env.Content[i+1].Value)
		}
	case yaml.SequenceNode:
		for _, it := range env.Content {
			k, v, _ := strings.Cut(it.Value, "=")
			check(it, k, v)
		}
	}
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// yamlAtPath follows a compose-go error path (services.grafana.ports.0)
// as far as it goes.
func yamlAtPath(root *yaml.Node, path string) *yaml.Node {
	n := root
	var last *yaml.Node
	for _, part := range strings.Split(path, ".") {
		switch n.Kind {
		case yaml.MappingNode:
			k, v := mapEntry(n, part)
			if k == nil {
				return last
			}
			last, n = k, v
		case yaml.SequenceNode:
			i, err := strconv.Atoi(part)
			if err != nil || i >= len(n.Content) {
				return last
			}
			last, n = n.Content[i], n.Content[i]
		default:
			return last
		}
	}
	return last
}

// locateSubstring finds the first scalar value containing s.
func locateSubstring(root *yaml.Node, s string) (int, int) {
	line, col := 0, 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil || line > 0 {
			return
		}
		if n.Kind == yaml.ScalarNode {
			if i := strings.Index(n.Value, s); i >= 0 {
				line, col = n.Line, n.Column
				if n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle {
					line += 1 + strings.Count(n.Value[:i], "\n")
				}
			}
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(root)
	return line, col
}

// propertiesRE matches the schema's list of unknown keys, which compose
// builds from a map: the same file could list them in another order on
// the next run (found by FuzzCompose). A key is quoted with its own
// quotes and backslashes escaped (a key n'10 is 'n\'10'), and may hold
// ", " itself (found by FuzzCompose's next run).
var (
	propertyRE   = `'(?:[^'\\]|\\.)*'`
	propertiesRE = regexp.MustCompile(`additional properties ((?:` + propertyRE + `(?:, )?)+) not allowed`)
	propertyOne  = regexp.MustCompile(propertyRE)
)

// sortedProperties puts every such list in sorted order, so one file
// always gets the same finding.
func sortedProperties(msg string) string {
	return propertiesRE.ReplaceAllStringFunc(msg, func(m string) string {
		list := propertiesRE.FindStringSubmatch(m)[1]
		items := propertyOne.FindAllString(list, -1)
		slices.Sort(items)
		return strings.Replace(m, list, strings.Join(items, ", "), 1)
	})
}

type badEntry struct {
	section, name string
	node          *yaml.Node
}

// nonMappingServices lists, in document order, the entries of services
// (and jobs) whose value is neither a mapping nor null: compose-go refuses
// each with "services.NAME must be a mapping".
func nonMappingServices(root *yaml.Node) []badEntry {
	var out []badEntry
	for _, section := range []string{"services", "jobs"} {
		m := mapGet(root, section)
		if m != nil && m.Kind == yaml.AliasNode {
			m = m.Alias
		}
		if m == nil || m.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			if k.Value == "<<" {
				continue
			}
			if v.Kind == yaml.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			if v.Kind == yaml.MappingNode || (v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
				continue
			}
			out = append(out, badEntry{section, k.Value, k})
		}
	}
	return out
}
