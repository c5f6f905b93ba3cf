// Package settings reads the stack's settings file, investiq-mon.yaml in
// the stack's directory: the few deployment knobs (retention, where the
// API and ML service are scraped, intervals, the published address and
// ports) that a person chooses once and commits, so that generate, up,
// doctor and validate all build the same spec from it. Flags may override
// a setting for one run; Merge says which did.
//
// The file is decoded strictly (an unknown key is an error, never
// ignored) and every problem is reported as path:line:col with what to do.
// A key that is absent, or the whole file, means InvestIQ's default.
package settings

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/investiq/investiq-mon/spec"
)

// FileName is the settings file's name inside the stack's directory.
const FileName = "investiq-mon.yaml"

// Path is the settings file of the stack in dir.
func Path(dir string) string { return filepath.Join(dir, FileName) }

// file is the settings file's schema. Durations are Prometheus' syntax
// (30s, 15d, 2w), as everywhere in investiq-mon.
type file struct {
	Retention          *string `yaml:"retention"`
	APIAddress         *string `yaml:"api_address"`
	MLAddress          *string `yaml:"ml_address"`
	APIScrapeInterval  *string `yaml:"api_scrape_interval"`
	MLScrapeInterval   *string `yaml:"ml_scrape_interval"`
	EvaluationInterval *string `yaml:"evaluation_interval"`
	PublishAddress     *string `yaml:"publish_address"`
	Ports              *ports  `yaml:"ports"`
}

type ports struct {
	Prometheus   *int `yaml:"prometheus"`
	Alertmanager *int `yaml:"alertmanager"`
	Grafana      *int `yaml:"grafana"`
}

// Problem is one thing wrong in the file, at a position (0 when the
// problem is the whole file's).
type Problem struct {
	Line, Col int
	Message   string
}

// Error lists every problem of one settings file.
type Error struct {
	Path     string
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		switch {
		case p.Line < 1:
			fmt.Fprintf(&b, "%s:1:1: %s", e.Path, p.Message)
		case p.Col < 1:
			fmt.Fprintf(&b, "%s:%d: %s", e.Path, p.Line, p.Message)
		default:
			fmt.Fprintf(&b, "%s:%d:%d: %s", e.Path, p.Line, p.Col, p.Message)
		}
	}
	return b.String()
}

// Loaded is the settings of one stack.
type Loaded struct {
	// Path is the file read (or that would have been read).
	Path string
	// Exists is false when there is no file: every setting is the default.
	Exists bool
	// Settings holds what the file sets; zero fields are InvestIQ's
	// defaults, as spec.Settings has it (the local backend fills its own
	// defaults into those).
	Settings spec.Settings
}

// Load reads the settings of the stack in dir. A missing file is not an
// error: the defaults apply.
func Load(dir string) (Loaded, error) {
	p := Path(dir)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		// No file, or no directory yet (the command says so itself).
		return Loaded{Path: p}, nil
	}
	if err != nil {
		return Loaded{Path: p}, fmt.Errorf("settings: %w", err)
	}
	set, err := Parse(p, data)
	return Loaded{Path: p, Exists: true, Settings: set}, err
}

// Parse decodes a settings file strictly and checks every value. The
// error, if any, is an *Error with every problem found.
func Parse(path string, data []byte) (spec.Settings, error) {
	var set spec.Settings
	fail := func(ps ...Problem) (spec.Settings, error) { return spec.Settings{}, &Error{Path: path, Problems: ps} }
	if len(bytes.TrimSpace(data)) == 0 {
		return set, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fail(Problem{Line: yamlLine(err.Error()), Message: "not valid YAML: " + stripLine(strings.TrimPrefix(err.Error(), "yaml: "))})
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind == 0 || root.Kind == yaml.DocumentNode || (root.Kind == yaml.ScalarNode && root.Tag == "!!null") {
		return set, nil // comments only: every default
	}
	if root.Kind != yaml.MappingNode {
		return fail(Problem{Line: root.Line, Col: root.Column, Message: "the settings file is a mapping of setting: value (see `investiq-mon generate --help`)"})
	}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f file
	// yaml.v3 decodes what it can past a type error: those problems are
	// reported with the value checks below, all at once.
	var ps []Problem
	typed := map[int]bool{} // lines with a type problem: no value to check there
	if err := dec.Decode(&f); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return fail(Problem{Line: yamlLine(err.Error()), Message: stripLine(strings.TrimPrefix(err.Error(), "yaml: "))})
		}
		for _, m := range te.Errors {
			p := typeProblem(m)
			if p.key != "" {
				// yaml.v3 names the line only: find the key's column.
				for _, n := range []*yaml.Node{root, mapValue(root, "ports")} {
					if k := mapKey(n, p.key); k != nil && k.Line == p.Line {
						p.Col = k.Column
					}
				}
			}
			ps = append(ps, p.Problem)
			typed[p.Line] = true
		}
	}

	// at is where a setting's key is: where a person looks to fix it.
	at := func(keys ...string) (int, int) {
		n := root
		for _, k := range keys[:len(keys)-1] {
			n = mapValue(n, k)
		}
		if k := mapKey(n, keys[len(keys)-1]); k != nil {
			return k.Line, k.Column
		}
		return 0, 0
	}
	bad := func(msg string, keys ...string) {
		l, c := at(keys...)
		if typed[l] {
			return
		}
		ps = append(ps, Problem{Line: l, Col: c, Message: strings.Join(keys, ".") + ": " + msg})
	}
	dur := func(s *string, dst *time.Duration, key string) {
		if s == nil {
			return
		}
		d, err := model.ParseDuration(*s)
		if err != nil || d <= 0 {
			bad(fmt.Sprintf("%q is not a positive duration: write it as Prometheus does, such as 30s, 15d or 2w", *s), key)
			return
		}
		*dst = time.Duration(d)
	}
	addr := func(a *string, dst *string, key string) {
		if a == nil {
			return
		}
		if err := HostPort(*a); err != nil {
			bad(err.Error(), key)
			return
		}
		*dst = *a
	}
	dur(f.Retention, &set.Retention, "retention")
	addr(f.APIAddress, &set.APIAddress, "api_address")
	addr(f.MLAddress, &set.MLAddress, "ml_address")
	dur(f.APIScrapeInterval, &set.APIScrapeInterval, "api_scrape_interval")
	dur(f.MLScrapeInterval, &set.MLScrapeInterval, "ml_scrape_interval")
	dur(f.EvaluationInterval, &set.EvaluationInterval, "evaluation_interval")
	if a := f.PublishAddress; a != nil {
		if net.ParseIP(*a) == nil {
			bad(fmt.Sprintf("%q is not an IP address: write the host address the ports are published on, such as 127.0.0.1", *a), "publish_address")
		} else {
			set.PublishAddress = *a
		}
	}
	if f.Ports != nil {
		def := spec.DefaultSettings()
		type port struct {
			v    *int
			dst  *int
			def  int
			name string
		}
		all := []port{
			{f.Ports.Prometheus, &set.PrometheusPort, def.PrometheusPort, "prometheus"},
			{f.Ports.Alertmanager, &set.AlertmanagerPort, def.AlertmanagerPort, "alertmanager"},
			{f.Ports.Grafana, &set.GrafanaPort, def.GrafanaPort, "grafana"},
		}
		for _, p := range all {
			if p.v == nil {
				continue
			}
			if *p.v < 1 || *p.v > 65535 {
				bad(fmt.Sprintf("%d is not a port: use 1-65535", *p.v), "ports", p.name)
				continue
			}
			*p.dst = *p.v
		}
		// Two servers on one host port, counting the defaults of the
		// ports the file leaves out.
		eff := func(p port) int {
			if *p.dst != 0 {
				return *p.dst
			}
			return p.def
		}
		for i, p := range all {
			for _, q := range all[:i] {
				if p.v != nil && eff(p) == eff(q) {
					bad(fmt.Sprintf("%d is also the port of %s: each server needs its own", eff(p), q.name), "ports", p.name)
				}
			}
		}
	}
	if len(ps) > 0 {
		slices.SortStableFunc(ps, func(a, b Problem) int { return cmp.Or(a.Line-b.Line, a.Col-b.Col) })
		return fail(ps...)
	}
	return set, nil
}

// HostPort checks an address written as host:port, as Prometheus' static
// targets want it (no scheme, no path).
func HostPort(a string) error {
	host, port, err := net.SplitHostPort(a)
	if err != nil || host == "" {
		return fmt.Errorf("%q is not host:port: write it as api-server:3000 (no http://, no path)", a)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q has no port number 1-65535 after the colon", a)
	}
	return nil
}

func mapKey(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return nil
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// typeProblem turns one of yaml.v3's "line N: ..." messages into a
// problem that says what to do, with the unknown key it names if any.
func typeProblem(msg string) struct {
	Problem
	key string
} {
	line := yamlLine(msg)
	var key string
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "line ") {
		msg = msg[i+2:]
	}
	switch {
	case strings.HasPrefix(msg, "field ") && strings.Contains(msg, " not found in type"):
		name := strings.TrimSuffix(strings.SplitN(strings.TrimPrefix(msg, "field "), " not found", 2)[0], " ")
		msg = fmt.Sprintf("unknown setting %q: the settings are %s", name, strings.Join(Keys, ", "))
		key = name
	case strings.Contains(msg, "into int"):
		msg += ": not a port number: use 1-65535"
	}
	return struct {
		Problem
		key string
	}{Problem{Line: line, Message: msg}, key}
}

// stripLine drops the "line N: " the position already says.
func stripLine(msg string) string {
	if strings.HasPrefix(msg, "line ") {
		if i := strings.Index(msg, ": "); i >= 0 {
			return msg[i+2:]
		}
	}
	return msg
}

// yamlLine is the line number in a yaml.v3 message ("line 3: ..." or
// "yaml: line 3: ..."), 0 when it has none.
func yamlLine(msg string) int {
	i := strings.Index(msg, "line ")
	if i < 0 {
		return 0
	}
	rest := msg[i+len("line "):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	n, _ := strconv.Atoi(rest[:j])
	return n
}

// Keys are the settings' names, in the file's order.
var Keys = []string{"retention", "api_address", "ml_address", "api_scrape_interval", "ml_scrape_interval",
	"evaluation_interval", "publish_address", "ports.prometheus", "ports.alertmanager", "ports.grafana"}
