// Package routes answers where Alertmanager sends an alert: it prints the
// routing tree of an alertmanager.yml and resolves the receivers a label
// set reaches. It runs Alertmanager's own routing code (dispatch.NewRoute
// and Route.Match), as `amtool config routes` does, so its answer is the
// server's answer rather than a re-implementation's.
package routes

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/alertmanager/matcher/compat"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
)

// ErrMismatch is returned by Verify when a label set reaches other
// receivers than expected.
var ErrMismatch = errors.New("receivers do not match")

// ErrLabel is returned by ParseLabels for an argument that is not
// name=value.
var ErrLabel = errors.New("bad label")

// Load parses an alertmanager.yml the way Alertmanager and amtool do.
func Load(data []byte) (*config.Config, error) {
	return config.Load(string(data))
}

// LoadFile reads and parses an alertmanager.yml.
func LoadFile(path string) (*config.Config, error) {
	cfg, err := config.LoadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// parseMatcher is amtool's parser: with no feature flags amtool accepts
// both the classic and the UTF-8 matcher syntax.
var parseMatcher = compat.FallbackMatcherParser(promslog.NewNopLogger())

// ParseLabels turns `name=value` arguments into a label set, accepting
// exactly what `amtool config routes test` accepts (quoted values too).
func ParseLabels(args []string) (model.LabelSet, error) {
	ls := model.LabelSet{}
	var errs []error
	for _, a := range args {
		m, err := parseMatcher(a, "cli")
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%w %q: %v", ErrLabel, a, err))
		case m.Type != labels.MatchEqual:
			errs = append(errs, fmt.Errorf("%w %q: labels are name=value, not a matcher", ErrLabel, a))
		default:
			ls[model.LabelName(m.Name)] = model.LabelValue(m.Value)
		}
	}
	return ls, errors.Join(errs...)
}

// Receivers are the receivers an alert with these labels is sent to, in
// the order of the routing tree, as Alertmanager resolves them.
func Receivers(cfg *config.Config, ls model.LabelSet) []string {
	var out []string
	for _, r := range dispatch.NewRoute(cfg.Route, nil).Match(ls) {
		out = append(out, r.RouteOpts.Receiver)
	}
	return out
}

// Verify compares the receivers reached with the expected ones. Like
// amtool's --verify.receivers it is order-sensitive: the order is the
// order in which the routing tree is walked.
func Verify(got, want []string) error {
	if slices.Equal(got, want) {
		return nil
	}
	return fmt.Errorf("%w: reached %s, expected %s", ErrMismatch, list(got), list(want))
}

func list(rs []string) string {
	if len(rs) == 0 {
		return "no receiver"
	}
	return strings.Join(rs, ",")
}

// WriteTree prints the routing tree, one route a line, and the inhibit
// rules under it. A child shows its grouping settings only where they
// differ from its parent's, since it inherits the rest.
func WriteTree(w io.Writer, cfg *config.Config) error {
	root := dispatch.NewRoute(cfg.Route, nil)
	var b strings.Builder
	b.WriteString("Routing tree:\n")
	b.WriteString("root" + slug(root, nil) + "\n")
	writeChildren(&b, root, "")
	if len(cfg.InhibitRules) > 0 {
		b.WriteString("\nInhibit rules (the source mutes the target):\n")
		for _, ir := range cfg.InhibitRules {
			fmt.Fprintf(&b, "- %s mutes %s", matchers(labels.Matchers(ir.SourceMatchers)), matchers(labels.Matchers(ir.TargetMatchers)))
			if len(ir.Equal) > 0 {
				fmt.Fprintf(&b, " while equal in %s", strings.Join(ir.Equal, ", "))
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeChildren(b *strings.Builder, r *dispatch.Route, indent string) {
	for i, c := range r.Routes {
		branch, next := "├── ", "│   "
		if i == len(r.Routes)-1 {
			branch, next = "└── ", "    "
		}
		b.WriteString(indent + branch + matchers(c.Matchers) + slug(c, r) + "\n")
		writeChildren(b, c, indent+next)
	}
}

func matchers(ms labels.Matchers) string {
	if len(ms) == 0 {
		return "{} (every alert)"
	}
	return ms.String()
}

// slug is what a route does with what it matches.
func slug(r, parent *dispatch.Route) string {
	var parts []string
	if r.Continue {
		parts = append(parts, "continue")
	}
	parts = append(parts, "receiver: "+r.RouteOpts.Receiver)
	o := r.RouteOpts
	var p *dispatch.RouteOpts
	if parent != nil {
		p = &parent.RouteOpts
	}
	if p == nil || o.GroupByAll != p.GroupByAll || !sameKeys(o.GroupBy, p.GroupBy) {
		if o.GroupByAll {
			parts = append(parts, "group_by: [...]")
		} else {
			var by []string
			for l := range o.GroupBy {
				by = append(by, string(l))
			}
			slices.Sort(by)
			parts = append(parts, "group_by: ["+strings.Join(by, ", ")+"]")
		}
	}
	if p == nil || o.GroupWait != p.GroupWait {
		parts = append(parts, "group_wait: "+model.Duration(o.GroupWait).String())
	}
	if p == nil || o.GroupInterval != p.GroupInterval {
		parts = append(parts, "group_interval: "+model.Duration(o.GroupInterval).String())
	}
	if p == nil || o.RepeatInterval != p.RepeatInterval {
		parts = append(parts, "repeat_interval: "+model.Duration(o.RepeatInterval).String())
	}
	return "  " + strings.Join(parts, "  ")
}

func sameKeys(a, b map[model.LabelName]struct{}) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}
