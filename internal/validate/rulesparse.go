package validate

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	yamlr "go.yaml.in/yaml/v3"
)

// parallelRulesMin is the number of rules below which a file is validated
// on one goroutine: splitting costs more than it saves.
const parallelRulesMin = 256

// parseRules is rulefmt.Parse (what promtool check rules runs), with less
// work and spread over the CPUs, keeping the PromQL each rule's expression
// parsed to.
//
// rulefmt.Parse parses the text twice (typed rules, then YAML nodes for
// positions), then validates rule after rule on one core, parsing every
// label and annotation of an alert as a template. Here the text is parsed
// once when that cannot change the verdict (decodeRules), the rules are
// validated in parallel, each by rulefmt's own (*Rule).Validate, without
// the labels and annotations that cannot fail (withoutPlainText: plain
// text, and template texts that already parsed), and the
// group-level checks (empty and repeated names, group labels) are
// rulefmt's own (*RuleGroups).Validate on the groups without their rules.
// Every error is rulefmt's; TestParseRulesMatchesRulefmt holds the result
// to rulefmt.Parse's, errors and groups alike.
//
// exprs[g][r] is the expression of rule r of group g, nil where it did not
// parse, so the cross-checks walk the very AST rulefmt validated.
func parseRules(data []byte, ignoreUnknownFields bool, workers int) (*rulefmt.RuleGroups, [][]parser.Expr, []error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	groups, nodes, errs := decodeRules(data, ignoreUnknownFields, workers)
	if len(errs) > 0 {
		return nil, nil, errs
	}

	// Group level: rulefmt's Validate on the groups without their rules.
	bare := rulefmt.RuleGroups{Groups: make([]rulefmt.RuleGroup, len(groups.Groups))}
	bareNodes := ruleGroupNodes{Groups: make([]rulefmt.RuleGroupNode, len(nodes.Groups))}
	for i, g := range groups.Groups {
		g.Rules = nil
		bare.Groups[i] = g
	}
	for i, n := range nodes.Groups {
		n.Rules = nil
		bareNodes.Groups[i] = n
	}
	errs = bare.Validate(bareNodes, model.UTF8Validation, promqlParser)

	// Rule level, in parallel.
	type job struct{ g, r int }
	var jobs []job
	exprs := make([][]parser.Expr, len(groups.Groups))
	for gi, g := range groups.Groups {
		exprs[gi] = make([]parser.Expr, len(g.Rules))
		for ri := range g.Rules {
			jobs = append(jobs, job{gi, ri})
		}
	}
	ruleErrs := make([][]error, len(jobs))
	var parsed sync.Map // template texts that parsed
	validate := func(k int) {
		j := jobs[k]
		r := &groups.Groups[j.g].Rules[j.r]
		p := &keepingParser{Parser: promqlParser}
		reduced := withoutPlainText(r, &parsed)
		wes := reduced.Validate(nodes.Groups[j.g].Rules[j.r], model.UTF8Validation, p)
		if len(wes) == 0 {
			// Every template of the rule parsed: the same text parses
			// for every other rule too.
			for _, v := range reduced.Labels {
				parsed.Store(v, true)
			}
			for _, v := range reduced.Annotations {
				parsed.Store(v, true)
			}
		}
		for _, we := range wes {
			name := r.Alert
			if name == "" {
				name = r.Record
			}
			ruleErrs[k] = append(ruleErrs[k], &rulefmt.Error{Group: groups.Groups[j.g].Name, Rule: j.r + 1, RuleName: name, Err: we})
		}
		exprs[j.g][j.r] = p.expr
	}
	if len(jobs) < parallelRulesMin || workers == 1 {
		for k := range jobs {
			validate(k)
		}
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				// Interleaved, so that the costly alerting rules (templates)
				// spread evenly however the file orders them.
				for k := w; k < len(jobs); k += workers {
					validate(k)
				}
			})
		}
		wg.Wait()
	}
	for _, e := range ruleErrs {
		errs = append(errs, e...)
	}
	return groups, exprs, errs
}

// decodeRules is rulefmt.Parse's two decodes: the rules, strictly (unknown
// fields are errors unless ignored), and the YAML nodes for positions.
// rulefmt parses the text once for each; here the text is parsed once and
// both are decoded from the node tree, which is what the YAML decoder does
// internally. A node tree does not decode strictly, so the fast path is
// taken only when every key is one the rule types know (knownKeys, a
// conservative check); otherwise, and on any error, the file goes through
// rulefmt's own two decodes, so that every error is the upstream one.
func decodeRules(data []byte, ignoreUnknownFields bool, workers int) (*rulefmt.RuleGroups, *ruleGroupNodes, []error) {
	doc, ok := parseGroupsSplit(data, workers)
	if !ok {
		doc = &yamlr.Node{}
		ok = yamlr.Unmarshal(data, doc) == nil
	}
	if ok && doc.Kind == yamlr.DocumentNode && (ignoreUnknownFields || knownKeys(doc, reflect.TypeFor[rulefmt.RuleGroups]())) {
		var (
			groups           rulefmt.RuleGroups
			nodes            ruleGroupNodes
			typeErr, nodeErr error
			wg               sync.WaitGroup
		)
		wg.Go(func() { typeErr = doc.Decode(&groups) })
		nodeErr = doc.Decode(&nodes)
		wg.Wait()
		if typeErr == nil && nodeErr == nil {
			return &groups, &nodes, nil
		}
	}
	return decodeRulesTwice(data, ignoreUnknownFields)
}

// decodeRulesTwice is exactly rulefmt.Parse's decoding, the two decodes
// side by side.
func decodeRulesTwice(data []byte, ignoreUnknownFields bool) (*rulefmt.RuleGroups, *ruleGroupNodes, []error) {
	var (
		groups  rulefmt.RuleGroups
		nodes   ruleGroupNodes
		typeErr error
		wg      sync.WaitGroup
	)
	wg.Go(func() {
		dec := yamlr.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(!ignoreUnknownFields)
		// io.EOF is an empty file, which is valid. A second document is
		// ignored, as rulefmt ignores it (it only logs).
		if err := dec.Decode(&groups); err != nil && !errors.Is(err, io.EOF) {
			typeErr = err
		}
	})
	nodeErr := yamlr.Unmarshal(data, &nodes)
	wg.Wait()
	var errs []error
	for _, err := range []error{typeErr, nodeErr} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return &groups, &nodes, errs
}

// knownKeys says whether every mapping key in n names a field of t (by its
// yaml tag), recursively through structs, pointers and slices. It is only
// a filter for the fast path: anything it does not plainly understand
// (aliases, merge keys, tagged or non-scalar keys, inlined fields) answers
// false and sends the file to the strict decoder.
func knownKeys(n *yamlr.Node, t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yamlr.AliasNode:
		return false
	case yamlr.DocumentNode:
		for _, c := range n.Content {
			if !knownKeys(c, t) {
				return false
			}
		}
		return true
	}
	if t.Implements(yamlUnmarshaler) || reflect.PointerTo(t).Implements(yamlUnmarshaler) {
		return true // decodes itself, with no field of ours
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yamlr.MappingNode {
			return true // a type error: the decoder reports it
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yamlr.ScalarNode || k.Tag != "!!str" || k.Value == "<<" {
				return false
			}
			ft, ok := yamlField(t, k.Value)
			if !ok || !knownKeys(v, ft) {
				return false
			}
		}
	case reflect.Slice:
		if n.Kind == yamlr.SequenceNode {
			for _, c := range n.Content {
				if !knownKeys(c, t.Elem()) {
					return false
				}
			}
		}
	case reflect.Map:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Kind != yamlr.ScalarNode || n.Content[i].Value == "<<" || !knownKeys(n.Content[i+1], t.Elem()) {
				return false
			}
		}
	}
	return true
}

var yamlUnmarshaler = reflect.TypeFor[yamlr.Unmarshaler]()

// yamlField is the type of the field of struct t that the yaml key fills.
func yamlField(t reflect.Type, key string) (reflect.Type, bool) {
	fields, ok := yamlFieldCache.Load(t)
	if !ok {
		fields, _ = yamlFieldCache.LoadOrStore(t, yamlFields(t))
	}
	ft, ok := fields.(map[string]reflect.Type)[key]
	return ft, ok
}

var yamlFieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// yamlFields maps the yaml keys of struct t to their field types; a struct
// with inlined or embedded fields gets no entry, so knownKeys falls back.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if strings.Contains(opts, "inline") || f.Anonymous {
			return map[string]reflect.Type{}
		}
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// withoutPlainText returns the rule to validate: for an alerting rule, a
// copy without the labels and annotations that cannot fail any check
// (plain names and valid UTF-8 values that hold no template action, or
// hold a template text that already parsed for another rule), since
// rulefmt parses every one as a template, which is most of its cost.
// Whether a template parses depends on its text alone. Anything else is
// validated whole, by rulefmt.
func withoutPlainText(r *rulefmt.Rule, parsed *sync.Map) *rulefmt.Rule {
	if r.Alert == "" {
		return r // no templates are parsed for recording rules
	}
	plain := func(k, v string) bool {
		if !legacyNameRE.MatchString(k) || k == model.MetricNameLabel || !utf8.ValidString(v) {
			return false
		}
		if !strings.Contains(v, "{{") {
			return true
		}
		_, ok := parsed.Load(v)
		return ok
	}
	c := *r
	c.Labels, c.Annotations = nil, nil
	for k, v := range r.Labels {
		if !plain(k, v) {
			if c.Labels == nil {
				c.Labels = map[string]string{}
			}
			c.Labels[k] = v
		}
	}
	for k, v := range r.Annotations {
		if !plain(k, v) {
			if c.Annotations == nil {
				c.Annotations = map[string]string{}
			}
			c.Annotations[k] = v
		}
	}
	return &c
}

// legacyNameRE matches label names valid under every validation scheme.
var legacyNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// ruleGroupNodes has the shape of rulefmt's unexported node tree (the one
// rulefmt.Parse decodes for positions), so (*RuleGroups).Validate takes it.
type ruleGroupNodes = struct {
	Groups []rulefmt.RuleGroupNode `yaml:"groups"`
}

// keepingParser is the PromQL parser handed to rulefmt's Validate for one
// rule: it keeps the expression it parsed.
type keepingParser struct {
	parser.Parser
	expr parser.Expr
}

func (p *keepingParser) ParseExpr(input string) (parser.Expr, error) {
	e, err := p.Parser.ParseExpr(input)
	if err == nil {
		p.expr = e
	}
	return e, err
}
