package validate

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"gopkg.in/yaml.v3"

	"github.com/investiq/investiq-mon/spec"
)

// promqlParser is promtool's: default options, so that what parses here
// parses in promtool and in the server.
var promqlParser = parser.NewParser(parser.Options{})

var discard = slog.New(slog.DiscardHandler)

// ruleNodes indexes the rules of a rule file by group and position.
func ruleNodes(root *yaml.Node) map[[2]int]*yaml.Node {
	out := map[[2]int]*yaml.Node{}
	groups := mapGet(root, "groups")
	if groups == nil || groups.Kind != yaml.SequenceNode {
		return out
	}
	for gi, g := range groups.Content {
		rs := mapGet(g, "rules")
		if rs == nil || rs.Kind != yaml.SequenceNode {
			continue
		}
		for ri, r := range rs.Content {
			out[[2]int{gi, ri}] = r
		}
	}
	return out
}

func groupNode(root *yaml.Node, name string) (int, *yaml.Node) {
	groups := mapGet(root, "groups")
	if groups == nil {
		return -1, nil
	}
	for gi, g := range groups.Content {
		if n := mapGet(g, "name"); n != nil && n.Value == name {
			return gi, g
		}
	}
	return -1, nil
}

var (
	posPrefixRE  = regexp.MustCompile(`^(\d+):(\d+): (?:\d+:\d+: )?`)
	quotedKeyRE  = regexp.MustCompile(`^(?:label|annotation) "([^"]+)"`)
	invalidKeyRE = regexp.MustCompile(`^invalid (?:label|annotation) name: (.+)$`)
	invalidValRE = regexp.MustCompile(`^invalid label value: (.+)$`)
)

// checkRules is `promtool check rules` on one file, then the lint and
// cross-checks that need the rules' positions.
func checkRules(f *file, opts Options) {
	groups, exprs, errs := parseRules(f.data, opts.IgnoreUnknownFields, parallel(opts))
	// Our own parse of the file only serves to place findings; a clean
	// file, the common case, is parsed once, by rulefmt.
	root := sync.OnceValue(func() *yaml.Node {
		r, _ := parseYAML(f.data)
		return r
	})
	nodes := sync.OnceValue(func() map[[2]int]*yaml.Node { return ruleNodes(root()) })
	node := func(gi, ri int) *yaml.Node { return nodes()[[2]int{gi, ri}] }
	seen := map[string]bool{}
	for _, err := range errs {
		for _, fd := range ruleErrorFindings(root(), err) {
			key := fmt.Sprintf("%d:%d:%s", fd.Line, fd.Col, fd.Message)
			if seen[key] {
				continue // rulefmt decodes twice and may say the same thing twice
			}
			seen[key] = true
			f.add(fd)
		}
	}
	if groups == nil {
		return
	}
	f.records, f.alerts = ruleNames(groups)
	// promtool lints only files that have no errors; the spec checks run
	// on every rule that parsed, so one broken rule does not hide the
	// problems of the others.
	if len(errs) == 0 {
		lintDuplicates(f, groups, node)
	}
	if opts.Spec != nil && f.anyHouseOn("alerts/") {
		lintAlerts(f, groups, node)
	}
	if opts.Spec == nil || !f.anyHouseOn("promql/") {
		return
	}
	f.later = func(u *universe) []Finding {
		type job struct {
			gi, ri int
			expr   string
			alert  bool
		}
		var jobs []job
		for gi, g := range groups.Groups {
			for ri, r := range g.Rules {
				jobs = append(jobs, job{gi, ri, r.Expr, r.Alert != ""})
			}
		}
		// A big file is split across the CPUs; findings are put back in
		// order by Run.
		parts := min(parallel(opts), max(1, len(jobs)/500))
		results := make([][]Finding, parts)
		var wg sync.WaitGroup
		for p := range parts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := p; i < len(jobs); i += parts {
					j := jobs[i]
					expr := exprs[j.gi][j.ri]
					if expr == nil {
						continue // did not parse: already reported by rulefmt
					}
					for _, pr := range u.checkExpr(expr, j.alert) {
						line, col := exprPos(f.data, mapGet(node(j.gi, j.ri), "expr"), pr.offset)
						results[p] = append(results[p], Finding{Path: f.path, Line: line, Col: col, Severity: pr.severity, Message: pr.msg, Check: pr.check})
					}
				}
			}()
		}
		wg.Wait()
		var out []Finding
		for _, r := range results {
			out = append(out, r...)
		}
		return out
	}
}

// ruleErrorFindings turns one rulefmt error into located findings.
func ruleErrorFindings(root *yaml.Node, err error) []Finding {
	var rerr *rulefmt.Error
	if errors.As(err, &rerr) {
		inner := rerr.Err.Error()
		check := "rules/invalid"
		if strings.Contains(inner, "could not parse expression") {
			check = "promql/syntax"
		} else if strings.Contains(inner, "template") || strings.HasPrefix(inner, "label \"") || strings.HasPrefix(inner, "annotation \"") {
			check = "rules/template"
		}
		msg := fmt.Sprintf("group %q, rule %d, %q: %s", rerr.Group, rerr.Rule, rerr.RuleName, posPrefixRE.ReplaceAllString(inner, ""))
		if m := posPrefixRE.FindStringSubmatch(inner); m != nil {
			line, _ := strconv.Atoi(m[1])
			col, _ := strconv.Atoi(m[2])
			if line > 0 {
				return []Finding{{Line: line, Col: col, Severity: Error, Message: msg, Check: check}}
			}
		}
		// Label, annotation and template errors carry no node: find the
		// rule, then the key the message names.
		line, col := 0, 0
		if gi, _ := groupNode(root, rerr.Group); gi >= 0 {
			if n := ruleNodes(root)[[2]int{gi, rerr.Rule - 1}]; n != nil {
				line, col = n.Line, n.Column
				key := ""
				if m := quotedKeyRE.FindStringSubmatch(inner); m != nil {
					key = m[1]
				} else if m := invalidKeyRE.FindStringSubmatch(inner); m != nil {
					key = m[1]
				}
				for _, section := range []string{"labels", "annotations"} {
					if k, _ := mapEntry(mapGet(n, section), key); key != "" && k != nil {
						line, col = k.Line, k.Column
						break
					}
				}
				if m := invalidValRE.FindStringSubmatch(inner); m != nil {
					if v := findScalar(mapGet(n, "labels"), m[1], false); v != nil {
						line, col = v.Line, v.Column
					}
				}
			}
		}
		return []Finding{{Line: line, Col: col, Severity: Error, Message: msg, Check: check}}
	}
	msg := err.Error()
	if m := posPrefixRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		msg = msg[len(m[0]):]
		// rulefmt's group node carries no position (0:0): find the group
		// by the name the message quotes, or the one without a name.
		if line == 0 {
			line, col = locateByQuoted(mapGet(root, "groups"), msg)
		}
		if line == 0 && strings.Contains(msg, "must not be empty") {
			for _, g := range contentOf(mapGet(root, "groups")) {
				if n := mapGet(g, "name"); n == nil || n.Value == "" {
					line, col = g.Line, g.Column
					break
				}
			}
		}
		return []Finding{{Line: line, Col: col, Severity: Error, Message: msg, Check: "rules/invalid"}}
	}
	if m := invalidKeyRE.FindStringSubmatch(msg); m != nil {
		line, col := locateKey(mapGet(root, "groups"), m[1])
		return []Finding{{Line: line, Col: col, Severity: Error, Message: msg, Check: "rules/invalid"}}
	}
	var out []Finding
	for _, lm := range splitYAMLError(msg) {
		line, col := lm.at(root)
		if line == 0 {
			// Durations fail in UnmarshalYAML without a line; the value
			// they quote is in the file.
			line, col = locateByQuoted(root, lm.msg)
		}
		out = append(out, Finding{Line: line, Col: col, Severity: Error, Message: lm.msg, Check: "rules/syntax"})
	}
	return out
}

// lintDuplicates is promtool's duplicate-rules lint: two rules of one file
// with the same name and the same labels (group labels included) record or
// alert on the same series and fight each other.
func lintDuplicates(f *file, groups *rulefmt.RuleGroups, node func(gi, ri int) *yaml.Node) {
	type key struct {
		name   string
		labels string
	}
	first := map[key]bool{}
	reported := map[key]bool{}
	for gi, g := range groups.Groups {
		for ri, r := range g.Rules {
			name := r.Alert
			if name == "" {
				name = r.Record
			}
			k := key{name, rules.FromMaps(g.Labels, r.Labels).String()}
			if !first[k] {
				first[k] = true
				continue
			}
			if reported[k] {
				continue
			}
			reported[k] = true
			line, col := 0, 0
			if n := node(gi, ri); n != nil {
				line, col = n.Line, n.Column
			}
			f.warnf(line, col, "rules/duplicate", "duplicate rule %q with labels %s in group %q: it might cause inconsistency while recording expressions", name, k.labels, g.Name)
		}
	}
}

// lintAlerts wants what the person paged needs: a routable severity, a
// summary and a description.
func lintAlerts(f *file, groups *rulefmt.RuleGroups, node func(gi, ri int) *yaml.Node) {
	for gi, g := range groups.Groups {
		for ri, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			sev, ok := r.Labels["severity"]
			if !ok {
				sev, ok = g.Labels["severity"]
			}
			sevOK := ok && slices.Contains([]string{string(spec.Critical), string(spec.Warning), string(spec.Info)}, sev)
			if sevOK && strings.TrimSpace(r.Annotations["summary"]) != "" && strings.TrimSpace(r.Annotations["description"]) != "" {
				continue // nothing to report, no position needed
			}
			n := node(gi, ri)
			line, col := 0, 0
			if n != nil {
				line, col = n.Line, n.Column
			}
			switch {
			case !ok:
				f.errorf(line, col, "alerts/severity", "alert %q has no severity label (want %s, %s or %s)", r.Alert, spec.Critical, spec.Warning, spec.Info)
			case !sevOK:
				sl, sc := line, col
				if k, _ := mapEntry(mapGet(n, "labels"), "severity"); k != nil {
					sl, sc = k.Line, k.Column
				}
				f.errorf(sl, sc, "alerts/severity", "alert %q has severity %q (want %s, %s or %s)", r.Alert, sev, spec.Critical, spec.Warning, spec.Info)
			}
			for _, a := range []string{"summary", "description"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					f.errorf(line, col, "alerts/annotations", "alert %q has no %s annotation: the person paged needs it", r.Alert, a)
				}
			}
		}
	}
}

func contentOf(n *yaml.Node) []*yaml.Node {
	if n == nil {
		return nil
	}
	return n.Content
}

// ruleNames are the recording rules (series) and alerts a file defines.
func ruleNames(groups *rulefmt.RuleGroups) (records, alerts []string) {
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				records = append(records, r.Record)
			}
			if r.Alert != "" {
				alerts = append(alerts, r.Alert)
			}
		}
	}
	return records, alerts
}

// RuleNames parses a rule file as validation does and returns the series
// its recording rules write and the alerts it defines, for Options.Records
// and Options.Alerts. A file that does not parse is an error.
func RuleNames(data []byte) (records, alerts []string, err error) {
	groups, _, errs := parseRules(data, true, 1)
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	if groups == nil {
		return nil, nil, nil
	}
	records, alerts = ruleNames(groups)
	return records, alerts, nil
}
